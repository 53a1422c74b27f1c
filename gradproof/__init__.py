"""gradproof's public API: check your own implementation against a catalog derivation.

    import gradproof
    gradproof.check(my_sigmoid, "sigmoid", vjp=my_sigmoid_vjp, dtypes=["float32", "float64"])

`gradproof.op` declares an op of your own (a forward over the Elementary namespace) that
`check` then verifies against its exact reference. `gradproof.strategies` holds the hypothesis
strategies for each derivation's inputs.
The names load on first use, so that the pytest plugin costs nothing in suites that
never call gradproof.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gradproof import profiles

if TYPE_CHECKING:
    from derivations import OPS as CATALOG
    from gradproof import strategies
    from gradproof.checking import CheckFailure, check
    from gradproof.declaring import DeclarationError, op

profiles.register()

_LAZY = {
    "check": ("gradproof.checking", "check"),
    "CheckFailure": ("gradproof.checking", "CheckFailure"),
    "op": ("gradproof.declaring", "op"),
    "DeclarationError": ("gradproof.declaring", "DeclarationError"),
    "CATALOG": ("derivations", "OPS"),
    "strategies": ("gradproof.strategies", None),
    "__version__": ("harness", "__version__"),
}

__all__ = ["CATALOG", "CheckFailure", "DeclarationError", "__version__", "check", "op", "strategies"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'gradproof' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)
