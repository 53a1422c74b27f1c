"""The one protocol every implementation under test is reached through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from derivations.model import Op

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Target:
    device: str
    dtype: str

    def __str__(self) -> str:
        return f"{self.device}-{self.dtype}"


class Backend(Protocol):
    """Forward value and vector-Jacobian product of an op at a concrete input.

    Inputs arrive as float64 arrays whose values are exactly representable in the target
    dtype; results come back as float64 arrays holding the backend's own values. A closed form
    must accept extra leading (batch) axes, which is how checks batch their evaluations.
    """

    name: str

    def targets(self) -> list[Target]: ...

    def unavailable(self, target: Target) -> str | None:
        """Why this target cannot run here (no CUDA device, ...), or None."""
        ...

    def provides(self, op: Op) -> bool: ...

    def forward(self, d: Op, arrays: Arrays, params: dict[str, float], target: Target) -> np.ndarray: ...

    def vjp(
        self,
        d: Op,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        target: Target,
    ) -> np.ndarray:
        """One gradient per differentiable input, {name: gradient}; a bare array for a one-input op."""
        ...

    def provides_jvp(self, op: Op) -> bool:
        """Whether a Jacobian-vector product can be asked for (forward mode)."""
        ...

    def jvp(
        self,
        d: Op,
        arrays: Arrays,
        params: dict[str, float],
        tangents: dict[str, np.ndarray],
        target: Target,
    ) -> np.ndarray:
        """J u: the output's tangent for a tangent of each differentiable input."""
        ...

    def provides_second_order(self, op: Op) -> bool:
        """Whether a double backward and a Hessian-vector product can be asked for."""
        ...

    def vjp_vjp(
        self, d: Op, arrays: Arrays, params: dict[str, float], cotangent: np.ndarray, direction: Arrays, target: Target
    ) -> Arrays:
        """Reverse over reverse: the gradient of <direction, vjp(x, cotangent)> by input, and by "cotangent"."""
        ...

    def hvp(
        self, d: Op, arrays: Arrays, params: dict[str, float], weights: np.ndarray, tangents: Arrays, target: Target
    ) -> Arrays:
        """Forward over reverse: the tangent of vjp(x, weights) for the tangents of x, by input."""
        ...


def stack_inputs(arrays: Arrays, wrt: str, x_batch: np.ndarray) -> Arrays:
    """Inputs with a leading batch axis: `x_batch` for `wrt`, copies of the others."""
    k = x_batch.shape[0]
    out = {name: np.broadcast_to(a, (k, *np.shape(a))).copy() for name, a in arrays.items() if name != wrt}
    out[wrt] = x_batch
    return out
