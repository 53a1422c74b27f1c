"""The one case type: an example of any op at one dtype, with its cotangent and exact reference.

A check reads the inputs rounded to the dtype, the cotangent, the reference of the op's engine
(interval arithmetic for a closed form, 80-digit dual numbers for a program) and the seed of its
random directions. The rounding count and the running-error bound come from the op; an elementwise
or row op is the closed-form case, a tensor op the program case.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from derivations.model import ClosedForm, Op, Program
from harness import compare
from harness.dtypes import Format


@dataclass(frozen=True)
class Case:
    op: Op
    arrays: dict[str, np.ndarray]  # rounded to the dtype, held in float64
    params: dict[str, Any]
    cotangent: np.ndarray
    reference: Any  # exact.Reference for a closed form, tensor_exact.TensorReference for a program
    fmt: Format
    rng_seed: int

    @property
    def x(self) -> np.ndarray:
        """A closed form's one differentiable input."""
        assert isinstance(self.op.engine, ClosedForm)
        return self.arrays[self.op.wrt.name]

    @property
    def rho(self) -> float:
        """Roundings on the longest path of the computation, which scales the tolerance."""
        if isinstance(self.op.engine, Program):
            return float(self.op.program.roundings(self.arrays, self.params))
        return compare.roundings(self.op, self.op.row_length(self.x.shape))

    @functools.cached_property
    def bound(self) -> dict[str, np.ndarray]:
        """A program's running-error magnitudes: "out" and one per differentiable input."""
        assert isinstance(self.op.engine, Program)
        return self.op.program.bound(self.arrays, self.params, self.cotangent)

    def tolerance(self, key: str, exact: np.ndarray) -> np.ndarray:
        return compare.tolerance(exact, self.bound[key], self.fmt, self.rho)
