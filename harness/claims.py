"""Runs the claim checks and builds the report's "claims" records and the "coverage" map."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from derivations.model import Claim, Source
from harness import seeds, symbolic

if TYPE_CHECKING:
    from harness.claim_checks.result import ClaimResult

VERDICTS = ("proved", "checked", "refuted", "error", "not-checkable")
BUDGET_S = 30.0  # one claim's check; SymPy simplification is the only thing that could run away

# The ids of ../shared/CLAIMS.md, in its order. tests/test_claims.py compares this list with the file.
CLAIM_IDS: tuple[str, ...] = (
    *(f"A{i}" for i in range(1, 10)),
    *(f"B{i}" for i in range(1, 10)),
    *(f"C{i}" for i in range(1, 12)),
    *(f"D{i}" for i in range(1, 12)),
    *(f"E{i}" for i in range(1, 12)),
    *(f"F{i}" for i in range(1, 5)),
    *(f"G{i}" for i in range(1, 6)),
)


def ids_in_claims_file(path: Path) -> list[str]:
    """The ids in the first column of CLAIMS.md's tables."""
    return re.findall(r"^\|\s*([A-G]\d+)\s*\|", path.read_text(encoding="utf-8"), flags=re.MULTILINE)


def coverage(entries: Iterable[tuple[str, Source]]) -> dict[str, list[str]]:
    """Every CLAIMS.md id mapped to the catalog names whose source cites it (empty when none)."""
    found: dict[str, list[str]] = {cid: [] for cid in CLAIM_IDS}
    for name, source in entries:
        for cid in source.claims:
            found.setdefault(cid, []).append(name)
    return found


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """The checks' tensors are tiny: torch's thread pool costs ten times the work on a shared machine."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _verdict(claim: Claim, result: ClaimResult) -> str:
    if claim.method == "symbolic":
        return "proved" if result.holds else "refuted"
    return "checked" if result.holds else "refuted"


def run_claim(claim: Claim, seed: int, checks: Mapping[str, object] | None = None) -> dict[str, object]:
    """One claim's record; an exception inside the check is an "error" verdict, never a crash."""
    # The checks import torch and friends: only when a claim runs, not for `gradproof report`.
    from harness.claim_checks import CHECKS
    from harness.claim_checks.result import ClaimResult

    if checks is None:
        checks = CHECKS
    start = time.perf_counter()
    result = ClaimResult()
    corrected = ""
    try:
        seeds.text(claim.source.seed)  # a claim of a note that cannot be read is not judged
    except seeds.SeedError as exc:
        verdict, detail = "error", str(exc)
    else:
        verdict, detail, corrected, result = _judge(claim, seed, checks)
    return {
        "name": claim.name,
        "title": claim.title,
        "claims": list(claim.source.claims),
        "source": {
            "seed": claim.source.seed,
            "section": claim.source.section,
            "quote": claim.source.quote,
            "claims": list(claim.source.claims),
        },
        "method": claim.method,
        "interpretation": claim.interpretation,
        "verdict": verdict,
        "detail": detail,
        "corrected": corrected,
        "evidence": [e.as_dict() for e in result.evidence],
        "series": result.series,
        "seconds": round(time.perf_counter() - start, 3),
    }


def _judge(claim: Claim, seed: int, checks: Mapping[str, object]) -> tuple[str, str, str, ClaimResult]:
    """verdict, detail, corrected statement and the check's result; an exception is an "error"."""
    from harness.claim_checks.result import ClaimResult

    result = ClaimResult()
    corrected = ""
    if claim.method == "prose":
        verdict, detail = "not-checkable", claim.reason
    else:
        check = checks.get(claim.name)
        try:
            if check is None:
                raise LookupError(f"no check registered for claim {claim.name!r}")
            with symbolic.time_budget(BUDGET_S), _one_thread():
                result = check(claim, seed)  # type: ignore[operator]
            if not result.evidence:
                raise RuntimeError("the check produced no evidence")
            verdict = _verdict(claim, result)
            failure = result.first_failure()
            if verdict == "refuted":
                assert failure is not None
                detail = f"{failure.name}: expected {failure.expected}, got {failure.actual}"
                detail += f" ({failure.note})" if failure.note else ""
                corrected = result.corrected
            else:
                detail = result.detail or f"{len(result.evidence)} comparisons agree"
        except Exception as exc:  # any failure of a check is reported, not raised
            verdict, detail = "error", f"{type(exc).__name__}: {exc}".splitlines()[0]
    return verdict, detail, corrected, result
