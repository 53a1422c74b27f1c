"""What a check at a chosen shape will cost, estimated before it starts (`--shape`, and `--budget`).

The cost is gradproof's own reference, per example and dtype, plus the calls into each implementation.
A closed form's reference is the float64 boxes (harness/box_reference.py): linear in the entries for an
elementwise op; for a row op every box carries a tangent per row entry and the notes' Jacobian has m x n
entries, so a row of n costs n^2. Units float64 bounds loosely or not at all (an exp that overflows)
are enclosed again in long double, and the exact engine takes what that leaves loose (softmax's
large-logits rows, whose VJP cancels to 1 - s), found here by running the closed form's forward and
VJP on boxes without tangents, which is cheap, and in float64 a sample of up to SAMPLE_UNITS units; an
exact row costs n^2 and more. A program's reference
on boxes is linear in its entries.

The constants are CPU seconds measured on the 2-core development machine, one backend, the first-order
checks (`python benchmarks/bench_estimate.py` sets the estimate beside measured runs). It is an
estimate and says so: a unit whose box is bounded but too wide for its tolerance, known only while
checking, goes to the exact engine too and makes a run longer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from derivations.model import ClosedForm, Example, Op, as_list
from harness import box_graph, box_reference, boxes, exact
from harness.box_reference import SAMPLE_UNITS

SECONDS_PER_EXAMPLE = 0.5  # drawing directions, building the case, the small checks
# The boxes' reference, per input entry and dtype.
ELEMENTWISE_ENTRY = 2e-6
ROW_ENTRY_PER_LENGTH = 5e-6  # x the row length n: the tangent each box carries
ROW_JACOBIAN_ENTRY = 9e-4  # per entry of the m x n stated Jacobian (m outputs a row): one box operation over all rows
TENSOR_ENTRY = 2e-5
# The exact engine, per unit it computes: an element, or a row of n inputs and m outputs, whose values
# cost n*m operations and whose magnitudes (forward differences over the row's inputs and cotangent
# terms) n^2*m; fitted to softmax's rows of 16 and 64 (m = n: 0.5 s and 9.5 s a row), 2.6 s measured at 32.
EXACT_ELEMENT = 2e-3
EXACT_ROW_PER_LENGTH2 = 1.8e-3
EXACT_ROW_PER_LENGTH3 = 7.6e-6
# Calls into an implementation per input entry, example and dtype: the lower end of what NumPy
# implementations took over every default check (sigmoid 64x64 and 128x128: 4.6e-6 and 1.1e-5; softmax
# 16x16 and 128x16: 3.1e-5 and 1.8e-5). A program's: its small-shape figure (dense_layer 32x8: 1.7e-4)
# is Python overhead and made the estimate of conv2d 1x1x64x64 and dense_layer 64x32 three times their
# measured runs; 3e-5 brings them within 1.5x, still above.
CALL_ENTRY = {"elementwise": 5e-6, "row": 1.8e-5, "tensor": 3e-5}
EXTENDED_COST = 4  # a unit enclosed again in long double, against float64 (NumPy's long double loops are scalar)
EXACT_DTYPES = ("float64",)  # dtypes whose reference samples the exact engine where the boxes bound


@dataclass(frozen=True)
class Estimate:
    """Estimated seconds of checking one op at one shape, and the largest term in words."""

    seconds: float
    reference: float
    calls: float
    largest: str

    def text(self) -> str:
        return f"an estimated {duration(self.seconds)} ({self.largest})"


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} days"


def estimate(op: Op, examples: Sequence[Example], dtypes: Sequence[str], implementations: int) -> Estimate:
    """Seconds of checking `examples` (drawn at one shape) in each of `dtypes` against `implementations`."""
    terms: dict[str, float] = {}

    def add(name: str, seconds: float) -> None:
        terms[name] = terms.get(name, 0.0) + seconds

    for ex in examples:
        x = np.asarray(ex.arrays[op.inputs[0].name])
        entries = int(x.size)
        again, unbounded = 0, 0
        if isinstance(op.engine, ClosedForm):
            again, loose = box_tiers(op, ex.arrays, ex.params)
            unbounded = int(np.sum(loose))
        for dtype in dtypes:
            add("drawing and small checks", SECONDS_PER_EXAMPLE)
            add("calls into the implementations", implementations * entries * CALL_ENTRY[op.structure])
            if not isinstance(op.engine, ClosedForm):
                add("the reference on boxes", entries * TENSOR_ENTRY)
                continue
            n = op.row_length(x.shape)
            units = entries // n
            m = 1 if n == 1 or op.closed_form.reduces else n  # outputs a unit
            if op.structure == "elementwise":
                add("the reference on boxes", (entries + EXTENDED_COST * again) * ELEMENTWISE_ENTRY)
            else:
                add(
                    f"the reference on boxes, rows of {n}",
                    (entries + EXTENDED_COST * again * n) * n * ROW_ENTRY_PER_LENGTH,
                )
                add(f"the stated {m} x {n} Jacobian on boxes", m * n * ROW_JACOBIAN_ENTRY)
            sampled = min(units - unbounded, SAMPLE_UNITS) if dtype in EXACT_DTYPES else 0
            per_unit = EXACT_ELEMENT if n == 1 else exact_row_seconds(n, m)
            add(_exact_words(op, n), (unbounded + sampled) * per_unit)
    calls = terms.get("calls into the implementations", 0.0)
    total = sum(terms.values())
    name, seconds = max(terms.items(), key=lambda t: t[1])
    largest = f"{name}: {duration(seconds)}"
    return Estimate(total, total - calls, calls, largest)


def exact_row_seconds(n: int, m: int) -> float:
    """A row of n inputs and m outputs (n for softmax, 1 for a loss) on the exact engine."""
    return EXACT_ROW_PER_LENGTH2 * n * m + EXACT_ROW_PER_LENGTH3 * n * n * m


def _exact_words(op: Op, n: int) -> str:
    what = "elements" if op.structure == "elementwise" else f"rows of {n}"
    return f"the exact engine on {what} the boxes do not bound, and float64's sample"


def box_tiers(op: Op, arrays: Mapping[str, np.ndarray], params: Mapping[str, object]) -> tuple[int, np.ndarray]:
    """How many units (an element, or a row) float64 boxes bound loosely or not at all (an exp that
    overflows), which the reference encloses again in extended precision, and the units that leaves
    loose or unbounded still: the exact engine's."""
    per_unit = {i.name: exact.units(op, np.asarray(arrays[i.name], dtype=np.float64)) for i in op.inputs}
    loose = _loose_units(op, per_unit, params)
    again = np.flatnonzero(loose)
    if boxes.EXTENDED is not None and again.size:
        with boxes.extended():
            loose[again] = _loose_units(op, {name: u[again] for name, u in per_unit.items()}, params, rows=True)
    return len(again), loose


def _loose_units(
    op: Op, per_unit: Mapping[str, np.ndarray], params: Mapping[str, object], *, rows: bool = False
) -> np.ndarray:
    """The pass itself: boxes without tangents, all units at once; a row op's rewritten derivative with
    `rows`, as the reference encloses the units it encloses again."""
    cols = {name: [boxes.Box(u[:, j]) for j in range(u.shape[1])] for name, u in per_unit.items()}
    args = box_reference.forward_args(op, cols)
    units = next(iter(per_unit.values())).shape[0]
    with np.errstate(all="ignore"):
        with box_graph.recording():
            out = [boxes.box(v) for v in as_list(op.closed_form.forward(*args, **params))]
        wrt = [col for i in op.differentiable for col in cols[i.name]]
        # A cotangent like the checks' own: all ones would cancel to 0 in softmax's VJP and look loose there.
        rng = np.random.default_rng(0)
        cot = [boxes.Box(rng.normal(size=units)) for _ in out]
        grads = box_graph.vjp(out, cot, wrt)
        # The rewritten derivative (box_derivative.py) settles what reverse mode cancels, as in the reference,
        # and gives the forward's magnitude where reverse mode's is loose.
        derivatives = box_reference.rewritten_jacobians(op, cols, params, rows=rows)
        rewritten = box_reference.rewritten_values(op, cols, params, rows=rows)
        values: list[boxes.Box | None] = [None] * len(out) if rewritten is None else list(rewritten)
        again: list[boxes.Box | None] = [None] * len(grads)
        trusted = np.zeros((units, len(out)), dtype=bool)
        if derivatives is not None:
            again = list(box_reference.vjp_through(op, derivatives, cot, per_unit[op.wrt.name].shape[1]))
            through = box_reference.jacobian_magnitude(op, derivatives, per_unit)
            trusted = trusted if through is None else ~through[1]
    # A kink's VJP is judged by its subgradient set, whatever its box: exempt, as the check exempts it.
    x = per_unit[op.wrt.name]
    kinks = box_reference.kink_entries(op, x)
    none = np.zeros(units, dtype=bool)
    exempt = [kinks[:, j] if i.name == op.wrt.name else none for i in op.differentiable for j in range(x.shape[1])]
    bounded = np.ones(units, dtype=bool)
    for r, (b, other_form) in enumerate(zip(out, values, strict=True)):
        # The value from either form of the forward; the magnitude from its tangents, or through the Jacobian.
        value = _bounded(b) | (other_form is not None and _bounded(other_form))
        bounded &= np.broadcast_to(value & (~np.asarray(b.loose) | trusted[:, r]), (units,))
    for b, other, free in zip(grads, again, exempt, strict=True):
        # A loose box (boxes.LOOSE: wide against its own value) is the exact engine's as an unbounded one is.
        bounded &= _tight(b, units) | (other is not None and _tight(other, units)) | free
    return ~bounded


def _tight(b: boxes.Box, units: int) -> np.ndarray:
    return np.broadcast_to(_bounded(b) & ~np.asarray(b.loose), (units,))


def _bounded(b: boxes.Box) -> np.ndarray:
    return np.isfinite(b.lo) & np.isfinite(b.hi)  # type: ignore[no-any-return]


def over_budget(found: Sequence[tuple[str, Estimate]], budget: float, limit: str) -> str | None:
    """The one line refusing a run whose estimates (what is checked, its estimate) add up to more than
    `budget` seconds, `limit` saying the budget as it was given; or None."""
    total = sum(e.seconds for _, e in found)
    if total <= budget:
        return None
    what, worst = max(found, key=lambda t: t[1].seconds)
    return (
        f"{what}, {worst.text()} of checking on a 2-core machine like gradproof's own; "
        f"the run's {duration(total)} is over {limit}"
    )
