"""Runs tensor ops through every backend x target x check, with the records the runner writes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import mpmath
import numpy as np

from derivations.elementary import FLOAT, MP, to_mp
from derivations.model import Example, Op
from harness import symbolic, tensor_checks
from harness.backends.base import Backend, Target
from harness.backends.finite_differences import FiniteDifferenceBackend
from harness.backends.numpy_ref import NumpyBackend
from harness.dtypes import get_format
from harness.inputs import draw_examples
from harness.records import CheckRecord
from harness.runner import PROFILES, Group, GroupRun, GroupRunner, RunOptions, _seed
from harness.tensor_exact import DIGITS, reference

# The stated gradient must agree with the exact one to this many digits to hold; both are
# computed at 80, so a disagreement here is a wrong formula, not rounding.
STATED_DIGITS = 30
PROOF_SECONDS = 10.0  # a SymPy proof that takes longer falls back to the 80-digit check


def examples_for(op: Op, options: RunOptions) -> list[Example]:
    count = PROFILES[options.profile]
    found: list[Example] = []
    for region in op.regions:
        found += draw_examples(op.program.strategy(region.name), count, _seed(options.seed, op.name, region.name))
    return found


def exact_case(op: Op, ex: Example, dtype: str, seed: int) -> tensor_checks.TensorCase:
    """One example rounded to `dtype`, a random cotangent from `seed`, and the exact reference."""
    fmt = get_format(dtype)
    arrays = {k: fmt.round(v) for k, v in ex.arrays.items()}
    out_shape = np.shape(op.program.forward(FLOAT, arrays, ex.params))
    cot = fmt.round(np.random.default_rng(seed).standard_normal(out_shape))
    ref = reference(op, arrays, ex.params, cot)
    return tensor_checks.TensorCase(op, arrays, dict(ex.params), cot, ref, fmt, seed)


class TensorRunner(GroupRunner):
    """Checks tensor ops on each backend that provides them; `on_progress` hears each group.

    The exact cases of the op last seen are kept, so that its stated-formula verdict and its
    checks share one 80-digit reference per example and dtype (the costliest step)."""

    def __init__(
        self,
        backends: Sequence[Backend],
        options: RunOptions,
        on_progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.backends = backends
        self.options = options
        self.on_progress = on_progress
        # (example index, dtype) -> (the example, its case), for the op named by _cases_of: one
        # op at a time, as the references are large. The example is kept to know a hit is one.
        self._cases: dict[tuple[int, str], tuple[Example, tensor_checks.TensorCase]] = {}
        self._cases_of = ""

    def _case(self, op: Op, ex: Example, index: int, dtype: str) -> tensor_checks.TensorCase:
        if self._cases_of != op.name:
            self._cases, self._cases_of = {}, op.name
        key = (index, dtype)
        if key not in self._cases or self._cases[key][0] is not ex:
            self._cases[key] = (ex, exact_case(op, ex, dtype, _seed(self.options.seed, op.name, index, dtype)))
        return self._cases[key][1]

    def stated_verdict(self, op: Op, examples: list[Example]) -> dict[str, object]:
        """`stated_verdict` on the float64 cases the checks use."""
        return _judge_stated(op, examples, lambda i, ex: self._case(op, ex, i, "float64"))

    def run_op(self, op: Op, examples: list[Example]) -> list[CheckRecord]:
        def oracle() -> Group:
            # Finite differences of the NumPy reference against the exact VJP: the oracle is itself checked.
            fd = FiniteDifferenceBackend(NumpyBackend())
            check = lambda case, t: tensor_checks.fd_oracle(fd.of, case, t)  # noqa: E731
            return Group(fd.name, Target("cpu", "float64"), "vjp", check, True)

        run = lambda group: self._run_group(op, examples, group)  # noqa: E731
        return self._run_checks(op, tensor_checks.RUNNERS, tensor_checks.FD_KINDS, oracle, run)

    def _run_group(self, op: Op, examples: list[Example], group: Group) -> CheckRecord:
        target, by_differences = group.target, group.finite_differences
        model = f"rho*u*(|exact|+bound)+rho*tiny, bound from {op.name}'s running-error magnitudes"
        if by_differences:
            model = "4 x the finite-difference error estimate + " + model

        def measure(i: int, ex: Example) -> tensor_checks.Outcome | None:
            try:
                case = self._case(op, ex, i, target.dtype)
                if by_differences and case.reference.at_kink:
                    return None  # differences straddle the kink; the VJP check judges the set
                return group.run(case, target)
            except tensor_checks.KinkedStencil:
                return None

        none = "every example sits at a kink, where finite differences do not apply"
        return GroupRun(op, group, examples, self.options, lambda acc: model).judge(measure, none_measured=none)


def stated_verdict(op: Op, examples: list[Example], seed: int) -> dict[str, object]:
    """The notes' gradient formulas against the exact gradient at 80 digits, at every example.

    A formula that agrees to STATED_DIGITS digits everywhere is 'checked'; the first example
    where it does not is the counterexample."""
    return _judge_stated(op, examples, lambda i, ex: exact_case(op, ex, "float64", _seed(seed, op.name, "stated", i)))


def _judge_stated(
    op: Op,
    examples: list[Example],
    case_for: Callable[[int, Example], tensor_checks.TensorCase],
) -> dict[str, object]:
    if op.program.stated is None:
        return {"status": "numerical-only", "detail": "the notes state no gradient formula for this op"}
    for i, ex in enumerate(examples):
        case = case_for(i, ex)
        ref, cot = case.reference, case.cotangent
        if ref.at_kink:
            continue
        with mpmath.workdps(DIGITS):
            exact = {k: to_mp(v) for k, v in case.arrays.items()}
            said = op.program.stated(MP, exact, case.params, to_mp(cot))
            for name, g in said.items():
                stated = np.asarray(g, dtype=object)
                want = ref.vjp_digits[name]
                if stated.shape != want.shape:
                    return _refuted(i, ex, name, f"stated shape {stated.shape}, exact {want.shape}")
                err = np.abs(stated - want).reshape(-1)
                scale = max((abs(v) for v in want.reshape(-1)), default=mpmath.mpf(0))
                j = int(np.argmax(err)) if err.size else 0
                if err.size and err[j] > scale * mpmath.mpf(10) ** -STATED_DIGITS:
                    got, exact_j = stated.reshape(-1)[j], want.reshape(-1)[j]
                    return _refuted(
                        i, ex, name, f"entry {j} stated {mpmath.nstr(got, 20)} vs exact {mpmath.nstr(exact_j, 20)}"
                    )
    detail = (
        f"the stated gradients equal the exact ones to {STATED_DIGITS} digits at all {len(examples)} "
        f"examples (80-digit arithmetic)"
    )
    if op.proof is not None:
        try:
            with symbolic.time_budget(PROOF_SECONDS):
                scope, wrong = op.proof()
        except TimeoutError as exc:  # the numbers above still stand; only the proof is missing
            return {"status": "checked", "detail": f"{detail}; SymPy gave no proof: {exc}", "corrected": None}
        if wrong:
            detail = f"SymPy ({scope}): the stated gradient differs at {', '.join(wrong[:5])}"
            return {"status": "refuted", "detail": detail, "counterexample": {"entries": wrong}, "corrected": ""}
        return {"status": "proved", "detail": f"proved {scope}; {detail}", "counterexample": None, "corrected": None}
    return {"status": "checked", "detail": detail, "counterexample": None, "corrected": None}


def _refuted(index: int, ex: Example, name: str, what: str) -> dict[str, object]:
    return {
        "status": "refuted",
        "detail": (
            f"d/d{name} as stated differs from the exact gradient at example {index} "
            f"({ex.region}, params {ex.params}): {what}"
        ),
        "counterexample": {"example": index, "input": name, "params": ex.params},
        "corrected": "",
    }


def tensor_record(op: Op, examples: list[Example], verdict: dict[str, object], seed: int = 0) -> dict[str, object]:
    regions = Counter(ex.region for ex in examples)
    for ex in examples:
        regions.update(ex.tags)
    extra: dict[str, object] = {"series": op.experiment(seed)} if op.experiment is not None else {}
    return {
        "name": op.name,
        "title": op.title,
        "structure": op.structure,
        "source": op.source.as_dict(),
        "inputs": [
            {"name": i.name, "domain": i.domain.describe(), "differentiable": i.differentiable} for i in op.inputs
        ],
        "params": [{"name": k, "convention": v} for k, v in op.params_doc.items()],
        "kinks": [{"rule": op.tie_rule}] if op.tie_rule else [],
        "notes": op.notes,
        "symbolic": verdict,
        "regions": dict(regions),
        **extra,
    }
