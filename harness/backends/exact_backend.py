"""The exact reference offered as a backend, and as the source of every check's reference."""

from __future__ import annotations

import numpy as np

from derivations.model import Op
from harness import exact
from harness.backends.base import Arrays, Target
from harness.dtypes import get_format, reference_digits


class ExactBackend:
    """SymPy's forward and derivative in mpmath interval arithmetic, at the given values.

    The inputs are taken exactly as the target dtype holds them; results are rounded to
    float64 once, from at least twice the target's digits.
    """

    name = "exact"

    def targets(self) -> list[Target]:
        return [Target("cpu", "float64")]

    def unavailable(self, target: Target) -> str | None:
        return None

    def provides(self, derivation: Op) -> bool:
        return True

    def reference(
        self,
        d: Op,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        dtype: str,
    ) -> exact.Reference:
        """Forward, VJP and their sensitivities, precise enough to judge `dtype`."""
        return exact.evaluate(d, arrays, params, cotangent, digits=reference_digits(get_format(dtype)))

    def forward(self, d: Op, arrays: Arrays, params: dict[str, float], target: Target) -> np.ndarray:
        x = np.asarray(arrays[d.wrt.name])
        zeros = np.zeros(d.output_shape(x.shape))
        return self.reference(d, arrays, params, zeros, target.dtype).forward

    def vjp(
        self,
        d: Op,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        target: Target,
    ) -> np.ndarray:
        return self.reference(d, arrays, params, cotangent, target.dtype).vjp
