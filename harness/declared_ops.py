"""`gradproof verify --ops MODULE`: the ops a user declared with gradproof.op, found in their module."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from derivations.model import Op
from harness.impl.host import LoadError, import_spec


def load(specs: Sequence[str], catalog: Mapping[str, object]) -> dict[str, tuple[Op, str]]:
    """Every op declared at the top level of each module: name -> (op, the spec it came from).

    Raises LoadError (one line) for a module that cannot be imported, declares no op, or reuses a name."""
    found: dict[str, tuple[Op, str]] = {}
    for spec in specs:
        module = import_spec(spec)
        ops = [v for v in vars(module).values() if isinstance(v, Op)]
        if not ops:
            raise LoadError(f"{spec}: declares no op (decorate a forward with @gradproof.op(...))")
        for op in ops:
            if op.name in catalog or op.name in found:
                raise LoadError(f"{spec}: op {op.name!r} is already declared; give it another name")
            found[op.name] = (op, spec)
    return found
