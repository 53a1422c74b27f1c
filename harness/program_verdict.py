"""A program's stated gradient formulas against its exact gradient at 80 digits, and SymPy's proof."""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np

from derivations.elementary import MP, to_mp
from derivations.model import Example, Op
from harness import cases, symbolic
from harness.program_exact import DIGITS

# The stated gradient must agree with the exact one to this many digits to hold; both are
# computed at 80, so a disagreement here is a wrong formula, not rounding.
STATED_DIGITS = 30
PROOF_SECONDS = 10.0  # a SymPy proof that takes longer falls back to the 80-digit check


def judge_stated(
    op: Op,
    examples: list[Example],
    case_for: Callable[[int, Example], cases.Case],
) -> dict[str, object]:
    formula = op.program.stated
    if formula is None:
        return {"status": "numerical-only", "detail": "the notes state no gradient formula for this op"}
    for i, ex in enumerate(examples):
        case = case_for(i, ex)
        ref, cot = case.reference, case.cotangent
        if ref.at_kink:
            continue
        with mpmath.workdps(DIGITS):
            exact = {k: to_mp(v) for k, v in case.arrays.items()}
            said = formula(MP, exact, case.params, to_mp(cot))
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
