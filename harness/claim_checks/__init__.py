"""Claim name -> check(claim, seed) -> ClaimResult, one module per area of the notes."""

from __future__ import annotations

from collections.abc import Callable

from derivations.model import Claim
from harness.claim_checks import activations, information, optimisers, shapes, statistics, training
from harness.claim_checks.result import ClaimResult

Check = Callable[[Claim, int], ClaimResult]

CHECKS: dict[str, Check] = {
    **activations.CHECKS,
    **information.CHECKS,
    **optimisers.CHECKS,
    **training.CHECKS,
    **shapes.CHECKS,
    **statistics.CHECKS,
}
