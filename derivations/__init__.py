"""The catalog: every documented op and claim, declared once.

An op module of this package lists its ops in a top-level `OPS` tuple and is found by name: adding
an op means adding it to a module's `OPS`, or writing a new module with one, and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

from derivations.claims import CLAIMS
from derivations.model import Claim, ClosedForm, Op, Program

# The order the report lists ops in: the closed forms first, then the programs, each in module order.
_FIRST = ("activations", "losses")


def _discover() -> dict[str, Op]:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__))
    found: dict[str, Op] = {}
    for module in [*_FIRST, *(n for n in names if n not in _FIRST)]:
        for op in getattr(importlib.import_module(f"{__name__}.{module}"), "OPS", ()):
            if op.name in found:
                raise ValueError(f"two ops are named {op.name!r} (derivations/{module}.py and an earlier module)")
            found[op.name] = op
    return found


OPS: dict[str, Op] = _discover()
# The two engines' ops apart, for the checks that apply to one of them only.
CATALOG: dict[str, Op] = {n: op for n, op in OPS.items() if isinstance(op.engine, ClosedForm)}
TENSOR_OPS: dict[str, Op] = {n: op for n, op in OPS.items() if isinstance(op.engine, Program)}

__all__ = ["CATALOG", "CLAIMS", "OPS", "TENSOR_OPS", "Claim", "Op"]
