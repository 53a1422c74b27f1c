"""Every claim of the notes that is not one op's derivative, by name."""

from __future__ import annotations

from derivations import (
    activation_facts,
    information,
    notes_code,
    optimisers,
    prose,
    shapes,
    statistics_facts,
    training,
)
from derivations.model import Claim

CLAIMS: dict[str, Claim] = {
    c.name: c
    for module in (activation_facts, information, optimisers, training, shapes, statistics_facts, notes_code, prose)
    for c in module.CLAIMS
}
