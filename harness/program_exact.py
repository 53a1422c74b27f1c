"""The exact reference of a program: its forward in 80-digit mpmath, its VJP from one sweep of
that forward's tape in reverse mode (harness/reverse_mode.py).

The adjoints are summed in 80-digit arithmetic apart from the values, so a gradient entry keeps its
relative accuracy however small it is next to the output (80 digits, more than twice float64's 16).
At a kink the forward's branch decides the derivative, which is one subgradient among many;
the op's `kink_gap` says how far the input is from the nearest kink or tie, and closer than
KINK_GAP the VJP is a set, which the op's `subgradient_ok` judges instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from derivations.elementary import MP, to_float, to_mp
from derivations.model import Op
from harness import reverse_mode

DIGITS = 80
KINK_GAP = 0.0  # only an exact kink or tie is one: anywhere else the branch is the derivative


class ProgramReference:
    """The exact forward (computed at once), VJP (on first use; empty at a kink, where the VJP is a set)
    and J u (`jvp`, None at a kink). `vjp_digits` is the VJP at 80 digits (mpmath object arrays): a
    formula is judged on these, since two values equal to 30 digits can still round to neighbouring
    doubles."""

    enclosed = False

    def __init__(
        self,
        forward: np.ndarray,
        at_kink: bool,
        gradients: Callable[[], tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
        directional: Callable[[dict[str, np.ndarray]], np.ndarray | None],
    ) -> None:
        self.forward, self.at_kink, self._gradients, self._directional = forward, at_kink, gradients, directional

    @functools.cached_property
    def _vjp(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        return self._gradients()

    @property
    def vjp(self) -> dict[str, np.ndarray]:
        return self._vjp[0]

    @property
    def vjp_digits(self) -> dict[str, np.ndarray]:
        return self._vjp[1]

    def jvp(self, tangents: dict[str, np.ndarray]) -> np.ndarray | None:
        """J u for the tangents u of the differentiable inputs, rounded to float64; None at a kink or
        tie, where J u depends on the direction."""
        return self._directional(tangents)

    def jvp_enclosure(self, tangents: dict[str, np.ndarray], tolerance: Any = None) -> tuple[np.ndarray, None] | None:
        """program_boxes' interface: J u and no radius (the value is exact)."""
        value = self.jvp(tangents)
        return None if value is None else (value, None)


def _recorded(
    op: Op, arrays: dict[str, np.ndarray], params: dict[str, object], *, taped: bool
) -> tuple[list[tuple[Any, ...]], dict[str, np.ndarray], np.ndarray]:
    """The forward at 80 digits: its tape (empty unless `taped`), the inputs it read (the differentiable
    ones as leaves of the tape) and its outputs."""
    with mpmath.workdps(DIGITS), reverse_mode.recording() as tape:
        held = {k: to_mp(v) for k, v in arrays.items()}
        if taped:
            for inp in op.differentiable:
                held[inp.name] = reverse_mode.leaves(held[inp.name])
        return tape, held, np.asarray(op.program.forward(MP, held, params), dtype=object)


def reference(
    op: Op,
    arrays: dict[str, np.ndarray],
    params: dict[str, object],
    cotangent: np.ndarray,
) -> ProgramReference:
    at_kink = op.program.kink_gap is not None and op.program.kink_gap(arrays, params) <= KINK_GAP
    undefined: ZeroDivisionError | None = None
    try:  # at a kink the derivative is a set: no tape to record
        tape, held, outputs = _recorded(op, arrays, params, taped=not at_kink)
    except ZeroDivisionError as exc:
        # A derivative undefined where the forward is not (sqrt at 0): the forward stands, and the VJP and
        # J u raise when asked, as the dual numbers did.
        undefined = exc
        tape, held, outputs = _recorded(op, arrays, params, taped=False)
    out = to_float(outputs)

    def gradients() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        grads: dict[str, np.ndarray] = {}
        digits: dict[str, np.ndarray] = {}
        if at_kink:
            return grads, digits
        if undefined is not None:
            raise undefined
        with mpmath.workdps(DIGITS), reverse_mode.recording(tape):
            total = np.sum(outputs * to_mp(cotangent))
            adj = reverse_mode.adjoints(total, tape)
        for inp in op.differentiable:
            digits[inp.name] = reverse_mode.gradient(held[inp.name], adj)
            grads[inp.name] = to_float(digits[inp.name])
        return grads, digits

    def directional(tangents: dict[str, np.ndarray]) -> np.ndarray | None:
        if at_kink:
            return None
        if undefined is not None:
            raise undefined
        with mpmath.workdps(DIGITS), reverse_mode.recording(tape):
            seeds = [(held[i.name], to_mp(tangents[i.name])) for i in op.differentiable]
            return to_float(reverse_mode.gradient(outputs, reverse_mode.tangents(tape, seeds)))

    return ProgramReference(out, at_kink, gradients, directional)
