"""The catalog: every documented formula, declared once."""

from __future__ import annotations

from derivations.activations import ACTIVATIONS
from derivations.claims import CLAIMS
from derivations.conv import CONV2D
from derivations.inception import INCEPTION
from derivations.layers import LAYER
from derivations.losses import LOSSES
from derivations.model import Claim, Derivation
from derivations.networks import CHAINS
from derivations.perceptron import PERCEPTRONS
from derivations.pooling import AVG_POOL2D, MAX_POOL2D
from derivations.residual import RESIDUALS
from derivations.selections import SELECTIONS
from derivations.statistics import STATISTICS
from derivations.tensor_model import TensorOp

CATALOG: dict[str, Derivation] = {d.name: d for d in (*ACTIVATIONS, *LOSSES)}

# Ops over whole tensors (several differentiable inputs, integer parameters).
TENSOR_OPS: dict[str, TensorOp] = {
    op.name: op
    for op in (
        LAYER,
        *CHAINS,
        *PERCEPTRONS,
        *RESIDUALS,
        CONV2D,
        MAX_POOL2D,
        AVG_POOL2D,
        *STATISTICS,
        *SELECTIONS,
        INCEPTION,
    )
}


__all__ = ["CATALOG", "CLAIMS", "TENSOR_OPS", "Claim", "Derivation", "TensorOp", "get"]


def get(name: str) -> Derivation:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown derivation {name!r}; valid: {', '.join(CATALOG)}") from None
