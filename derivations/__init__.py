"""The catalog: every documented formula, declared once."""

from __future__ import annotations

from derivations.activations import ACTIVATIONS
from derivations.claims import CLAIMS
from derivations.losses import LOSSES
from derivations.model import Claim, Derivation

CATALOG: dict[str, Derivation] = {d.name: d for d in (*ACTIVATIONS, *LOSSES)}


__all__ = ["CATALOG", "CLAIMS", "Claim", "Derivation", "get"]


def get(name: str) -> Derivation:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown derivation {name!r}; valid: {', '.join(CATALOG)}") from None
