"""An op's report entry: where the notes state it, its inputs, the verdict on its stated derivative,
the regions its examples came from, and the formulas, plots and series drawn at verify time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from derivations.model import ClosedForm, Example, Op
from harness import cases, catalog_plots, formulas, inputs, symbolic
from harness.options import seed_of
from harness.program_verdict import judge_stated


def stated_verdict(
    op: Op, examples: Sequence[Example], seed: int, case_for: Callable[[int, Example], cases.Case] | None = None
) -> dict[str, object]:
    """The engine's verdict on the stated derivative: SymPy's for a closed form; for a program, its formulas
    at 80 digits at every example and SymPy's proof. `case_for` gives the float64 cases the checks share;
    without it they are built here, from seeds of their own."""
    if isinstance(op.engine, ClosedForm):
        return symbolic.decide(op, seed=seed).as_dict()
    if case_for is None:
        case_for = lambda i, ex: cases.build(op, ex, "float64", seed_of(seed, op.name, "stated", i))  # noqa: E731
    return judge_stated(op, list(examples), case_for)


def entry(op: Op, examples: Sequence[Example], verdict: dict[str, object], seed: int = 0) -> dict[str, object]:
    regions = Counter(ex.region for ex in examples)
    for ex in examples:
        regions.update(ex.tags)
    found: dict[str, object] = {
        "name": op.name,
        "title": op.title,
        "structure": op.structure,
        "source": op.source.as_dict(),
        "inputs": [
            {"name": i.name, "domain": i.domain.describe(), "differentiable": i.differentiable} for i in op.inputs
        ],
        "params": [
            *({"name": p.name, "default": p.default, "domain": p.domain.describe()} for p in op.params),
            *({"name": k, "convention": v} for k, v in op.params_doc.items()),
        ],
        "kinks": [{"rule": op.tie_rule}] if op.tie_rule else [],
        "notes": op.notes,
        "symbolic": verdict,
        "regions": dict(regions),
        "coverage": inputs.coverage(op, examples),
    }
    if isinstance(op.engine, ClosedForm):
        found["kinks"] = [{"at": k.at, "subgradient": [str(k.lo), str(k.hi)]} for k in op.engine.kinks]
        # Drawn at verify time, so that `gradproof report` renders from the JSON alone.
        found["formulas"] = [{"caption": caption, "mathml": ml} for caption, ml in formulas.of(op.name)]
        found["plots"] = catalog_plots.of(op.name)
    if op.experiment is not None:
        found["series"] = op.experiment(seed)
    return found
