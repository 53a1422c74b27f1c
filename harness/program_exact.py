"""The exact reference of a program: its forward in 80-digit mpmath, its VJP in forward
mode with dual numbers, one input entry at a time.

A dual number carries the tangent beside the value, so a gradient entry keeps its relative
accuracy however small it is next to the output (80 digits, more than twice float64's 16).
At a kink the forward's branch decides the tangent, which is one subgradient among many;
the op's `kink_gap` says how far the input is from the nearest kink or tie, and closer than
KINK_GAP the VJP is a set, which the op's `subgradient_ok` judges instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np

from derivations.elementary import MP, Dual, to_float, to_mp
from derivations.model import Op

DIGITS = 80
KINK_GAP = 0.0  # only an exact kink or tie is one: anywhere else the branch is the derivative


@dataclass(frozen=True)
class ProgramReference:
    forward: np.ndarray
    vjp: dict[str, np.ndarray]  # empty at a kink, where the VJP is a set
    # The same at 80 digits (mpmath object arrays): a formula is judged on these, since two
    # values equal to 30 digits can still round to neighbouring doubles.
    vjp_digits: dict[str, np.ndarray]
    at_kink: bool


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
        exact = {k: to_mp(v) for k, v in arrays.items()}
        out = to_float(np.asarray(op.program.forward(MP, exact, params), dtype=object))
        grads: dict[str, np.ndarray] = {}
        digits: dict[str, np.ndarray] = {}
        if not at_kink:
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
    return ProgramReference(out, grads, digits, at_kink)
