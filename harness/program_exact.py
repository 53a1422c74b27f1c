"""The exact reference of a program: its forward in 80-digit mpmath, its VJP in forward
mode with dual numbers, one input entry at a time.

A dual number carries the tangent beside the value, so a gradient entry keeps its relative
accuracy however small it is next to the output (80 digits, more than twice float64's 16).
At a kink the forward's branch decides the tangent, which is one subgradient among many;
the op's `kink_gap` says how far the input is from the nearest kink or tie, and closer than
KINK_GAP the VJP is a set, which the op's `subgradient_ok` judges instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import mpmath
import numpy as np

from derivations.elementary import MP, Dual, to_float, to_mp
from derivations.model import Op

DIGITS = 80
KINK_GAP = 0.0  # only an exact kink or tie is one: anywhere else the branch is the derivative


class ProgramReference:
    """The exact forward (computed at once) and VJP (on first use; empty at a kink, where the VJP is a set).
    `vjp_digits` is the VJP at 80 digits (mpmath object arrays): a formula is judged on these, since two
    values equal to 30 digits can still round to neighbouring doubles."""

    def __init__(
        self,
        forward: np.ndarray,
        at_kink: bool,
        gradients: Callable[[], tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
    ) -> None:
        self.forward, self.at_kink, self._gradients = forward, at_kink, gradients

    @functools.cached_property
    def _vjp(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        return self._gradients()

    @property
    def vjp(self) -> dict[str, np.ndarray]:
        return self._vjp[0]

    @property
    def vjp_digits(self) -> dict[str, np.ndarray]:
        return self._vjp[1]


def _tangent(op: Op, arrays: dict[str, np.ndarray], params: dict[str, object], c: np.ndarray) -> object:
    total = np.sum(np.asarray(op.program.forward(MP, arrays, params), dtype=object) * c)
    return total.b if isinstance(total, Dual) else 0  # an output that ignores the entry


def reference(
    op: Op,
    arrays: dict[str, np.ndarray],
    params: dict[str, object],
    cotangent: np.ndarray,
    on_entry: Callable[[int, int], None] = lambda done, total: None,
) -> ProgramReference:
    at_kink = op.program.kink_gap is not None and op.program.kink_gap(arrays, params) <= KINK_GAP
    with mpmath.workdps(DIGITS):
        out = to_float(
            np.asarray(op.program.forward(MP, {k: to_mp(v) for k, v in arrays.items()}, params), dtype=object)
        )

    def gradients() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        grads: dict[str, np.ndarray] = {}
        digits: dict[str, np.ndarray] = {}
        if at_kink:
            return grads, digits
        with mpmath.workdps(DIGITS):
            exact = {k: to_mp(v) for k, v in arrays.items()}
            c = to_mp(cotangent)
            total = sum(int(np.size(arrays[i.name])) for i in op.differentiable)
            done = 0
            for inp in op.differentiable:
                x = exact[inp.name]
                g = np.empty(x.shape, dtype=object)
                for j in np.ndindex(x.shape):
                    x0 = x[j]
                    x[j] = Dual(x0, 1)
                    g[j] = _tangent(op, exact, params, c)
                    x[j] = x0
                    done += 1
                on_entry(done, total)
                grads[inp.name] = to_float(g)
                digits[inp.name] = g
        return grads, digits

    return ProgramReference(out, at_kink, gradients)
