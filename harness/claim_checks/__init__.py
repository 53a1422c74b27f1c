"""Claim name -> check(claim, seed) -> ClaimResult, one module per area of the notes."""

from __future__ import annotations

from collections.abc import Callable

from derivations.model import Claim
from harness.claim_checks import (
    activations,
    adagrad,
    approximation,
    information,
    optimisers,
    printed_code,
    printed_programs,
    shapes,
    statistics,
    surfaces,
    training,
    worked_example,
)
from harness.claim_checks.result import ClaimResult

Check = Callable[[Claim, int], ClaimResult]

CHECKS: dict[str, Check] = {
    **activations.CHECKS,
    **information.CHECKS,
    **optimisers.CHECKS,
    **worked_example.CHECKS,
    **adagrad.CHECKS,
    **training.CHECKS,
    **approximation.CHECKS,
    **printed_code.CHECKS,
    **printed_programs.CHECKS,
    **surfaces.CHECKS,
    **shapes.CHECKS,
    **statistics.CHECKS,
}
