"""Finite differences of any backend's forward, offered as a backend whose VJP is estimated."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derivations.model import Op
from harness import finite_diff
from harness.backends.base import Arrays, Backend, Target, stack_inputs
from harness.dtypes import get_format


@dataclass(frozen=True)
class VJPEstimate:
    value: np.ndarray
    error: np.ndarray  # the estimate's own bound; inf next to kinks


@dataclass(frozen=True)
class JacobianEstimate:
    """The entries the structure allows: the diagonal (*x.shape) of an elementwise op,
    J[..., i, j] = d out_i / d x_j (*lead, outputs, n) of a row op."""

    value: np.ndarray
    error: np.ndarray
    smooth: np.ndarray  # False for inputs next to a kink, where no estimate is made


class FiniteDifferenceBackend:
    """The VJP of `of`'s forward by central differences with Richardson extrapolation.

    One direction per colour of the derivation's structure (all entries of an elementwise op
    at once, column j of every row of a row op at once), evaluated in one stacked call.
    """

    def __init__(self, of: Backend, name: str = "fd") -> None:
        self.of = of
        self.name = name

    def targets(self) -> list[Target]:
        return [t for t in self.of.targets() if t.dtype in finite_diff.STEPS]

    def provides_jvp(self, op: Op) -> bool:
        return False  # an oracle of VJPs only

    def jvp(
        self, d: Op, arrays: Arrays, params: dict[str, float], tangents: dict[str, np.ndarray], target: Target
    ) -> np.ndarray:
        raise NotImplementedError("the finite-difference oracle checks VJPs")

    def provides_second_order(self, op: Op) -> bool:
        return False  # nor second order

    def vjp_vjp(
        self, d: Op, arrays: Arrays, params: dict[str, float], cotangent: np.ndarray, direction: Arrays, target: Target
    ) -> Arrays:
        raise NotImplementedError("the finite-difference oracle checks VJPs")

    def hvp(
        self, d: Op, arrays: Arrays, params: dict[str, float], weights: np.ndarray, tangents: Arrays, target: Target
    ) -> Arrays:
        raise NotImplementedError("the finite-difference oracle checks VJPs")

    def unavailable(self, target: Target) -> str | None:
        return self.of.unavailable(target)

    def provides(self, derivation: Op) -> bool:
        return self.of.provides(derivation)

    def forward(self, d: Op, arrays: Arrays, params: dict[str, float], target: Target) -> np.ndarray:
        return self.of.forward(d, arrays, params, target)

    def vjp(
        self,
        d: Op,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        target: Target,
    ) -> np.ndarray:
        return self.estimate(d, arrays, params, cotangent, target).value

    def estimate(
        self,
        d: Op,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        target: Target,
        *,
        forward_noise: finite_diff.Noise | float = 0.0,
        relative_noise: float | None = None,
    ) -> VJPEstimate:
        jac = self.jacobian(d, arrays, params, target, forward_noise=forward_noise, relative_noise=relative_noise)
        c = np.asarray(cotangent, dtype=np.float64)
        if d.structure == "elementwise":
            value, error = c * jac.value, np.abs(c) * jac.error
        else:
            weights = c[..., None] if d.closed_form.reduces else c
            value = np.einsum("...i,...ij->...j", weights, jac.value)
            error = np.einsum("...i,...ij->...j", np.abs(weights), jac.error)
        return VJPEstimate(value, np.where(jac.smooth, error, np.inf))

    def jacobian(
        self,
        d: Op,
        arrays: Arrays,
        params: dict[str, float],
        target: Target,
        *,
        forward_noise: finite_diff.Noise | float = 0.0,
        relative_noise: float | None = None,
    ) -> JacobianEstimate:
        fmt = get_format(target.dtype)
        h = finite_diff.step_for(target.dtype)
        x = np.asarray(arrays[d.wrt.name], dtype=np.float64)
        smooth = finite_diff.smooth(x, [k.at for k in d.closed_form.kinks], h)

        def forward(x_batch: np.ndarray) -> np.ndarray:
            return self.of.forward(d, stack_inputs(arrays, d.wrt.name, x_batch), params, target)

        est = finite_diff.directional(
            forward,
            x,
            finite_diff.colours(x.shape, d.structure) * smooth,
            h=h,
            forward_noise=forward_noise,
            relative_noise=8 * fmt.unit_roundoff if relative_noise is None else relative_noise,
            round_input=fmt.round,
        )
        return JacobianEstimate(
            finite_diff.uncolour(est.value, x.shape, d.structure, d.closed_form.reduces),
            finite_diff.uncolour(est.error, x.shape, d.structure, d.closed_form.reduces),
            smooth,
        )
