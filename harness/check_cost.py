"""What a check at a chosen shape will cost, estimated before it starts (`--shape` with `--budget`).

The cost is gradproof's own reference, per example and dtype, plus the calls into each implementation.
A closed form's reference is the float64 boxes (harness/box_reference.py): linear in the entries for an
elementwise op; for a row op every box carries a tangent per row entry and the notes' Jacobian has n^2
entries, so a row of n costs n^2. The exact engine then takes the units the boxes cannot bound (an
exp that overflows float64, as in softmax's large-logits region and sigmoid's saturated VJP: counted
here by running the closed form's forward and VJP on boxes without tangents, which is cheap) and, in float64, a sample of up to SAMPLE_UNITS units; an exact
row costs n^2 and more (n^3 for its magnitudes). A program's reference on boxes is linear in its entries.

The constants are CPU seconds measured on the 2-core development machine, one backend, the first-order
checks, medians of few runs (`python benchmarks/bench_estimate.py` prints them against measured runs).
The estimate is an estimate and says so: a unit the boxes bound too loosely, found only while checking,
goes to the exact engine too and can make a run longer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from derivations.model import ClosedForm, Example, Op, as_list
from harness import box_graph, boxes, exact
from harness.box_reference import SAMPLE_UNITS

SECONDS_PER_EXAMPLE = 0.5  # drawing directions, building the case, the small checks
# The boxes' reference, per input entry and dtype.
ELEMENTWISE_ENTRY = 2e-6
ROW_ENTRY_PER_LENGTH = 5e-6  # x the row length n: the tangent each box carries
ROW_JACOBIAN_ENTRY = 9e-4  # per entry of the n x n stated Jacobian: one box operation over all rows
TENSOR_ENTRY = 2e-5
# The exact engine, per unit it computes: an element, or a row of n, whose values cost n^2 operations
# and whose magnitudes (forward differences over the row's 2n inputs and cotangent terms) n^3; fitted to
# rows of 16 and 64 in softmax's regions (0.5 s and 9.5 s a row), 2.6 s measured at 32.
EXACT_ELEMENT = 2.5e-3
EXACT_ROW_PER_LENGTH2 = 1.8e-3
EXACT_ROW_PER_LENGTH3 = 7.6e-6
# Calls into an implementation per input entry, example and dtype: the lower end of what NumPy
# implementations took over every default check (sigmoid 64x64 and 128x128: 4.6e-6 and 1.1e-5; softmax
# 16x16 and 128x16: 3.1e-5 and 1.8e-5; dense_layer 32x8 and 64x16: 1.7e-4 and 2.9e-4).
CALL_ENTRY = {"elementwise": 5e-6, "row": 1.8e-5, "tensor": 1.7e-4}
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
        for dtype in dtypes:
            add("drawing and small checks", SECONDS_PER_EXAMPLE)
            add("calls into the implementations", implementations * entries * CALL_ENTRY[op.structure])
            if not isinstance(op.engine, ClosedForm):
                add("the reference on boxes", entries * TENSOR_ENTRY)
                continue
            n = op.row_length(x.shape)
            units = entries // n
            if op.structure == "elementwise":
                add("the reference on boxes", entries * ELEMENTWISE_ENTRY)
            else:
                add(f"the reference on boxes, rows of {n}", entries * n * ROW_ENTRY_PER_LENGTH)
                add(f"the stated {n} x {n} Jacobian on boxes", n * n * ROW_JACOBIAN_ENTRY)
            unbounded = int(np.sum(unbounded_units(op, ex.arrays, ex.params)))
            sampled = min(units - unbounded, SAMPLE_UNITS) if dtype in EXACT_DTYPES else 0
            per_unit = EXACT_ELEMENT if n == 1 else exact_row_seconds(n)
            add(_exact_words(op, n), (unbounded + sampled) * per_unit)
    calls = terms.get("calls into the implementations", 0.0)
    total = sum(terms.values())
    name, seconds = max(terms.items(), key=lambda t: t[1])
    largest = f"{name}: {duration(seconds)}"
    return Estimate(total, total - calls, calls, largest)


def exact_row_seconds(n: int) -> float:
    return EXACT_ROW_PER_LENGTH2 * n**2 + EXACT_ROW_PER_LENGTH3 * n**3


def _exact_words(op: Op, n: int) -> str:
    what = "elements" if op.structure == "elementwise" else f"rows of {n}"
    return f"the exact engine on {what} the boxes do not bound, and float64's sample"


def unbounded_units(op: Op, arrays: Mapping[str, np.ndarray], params: Mapping[str, object]) -> np.ndarray:
    """Units (an element, or a row) whose forward or VJP the float64 boxes cannot bound (an exp that
    overflows): the exact engine's. Boxes without tangents, all units at once: cheap against the check."""
    per_unit = {i.name: exact.units(op, np.asarray(arrays[i.name], dtype=np.float64)) for i in op.inputs}
    cols = {name: [boxes.Box(u[:, j]) for j in range(u.shape[1])] for name, u in per_unit.items()}
    args = [cols[i.name][0] if op.structure == "elementwise" else cols[i.name] for i in op.inputs]
    units = next(iter(per_unit.values())).shape[0]
    with np.errstate(all="ignore"):
        with box_graph.recording():
            out = [boxes.box(v) for v in as_list(op.closed_form.forward(*args, **params))]
        wrt = [col for i in op.differentiable for col in cols[i.name]]
        grads = box_graph.vjp(out, [boxes.Box(np.ones(units)) for _ in out], wrt)
    bounded = np.ones(units, dtype=bool)
    for b in [*out, *grads]:
        ok = np.isfinite(b.lo) & np.isfinite(b.hi)
        bounded &= np.broadcast_to(ok, (units,)) if np.ndim(ok) else np.full(units, bool(ok))
    return ~bounded


def over_budget(found: Sequence[tuple[str, str, Estimate]], budget: float) -> str | None:
    """The one line refusing a run whose estimates (op, "SHAPE: K examples", estimate) add up to more than `budget`
    seconds, or None."""
    total = sum(e.seconds for _, _, e in found)
    if total <= budget:
        return None
    name, what, worst = max(found, key=lambda t: t[2].seconds)
    return (
        f"--shape {name}={what}, {worst.text()} of checking on a 2-core machine like gradproof's own; "
        f"the run's {duration(total)} is over --budget {budget:g} s"
    )
