"""gradproof's public API: check your own implementation against a catalog derivation.

    import gradproof
    gradproof.check(my_sigmoid, "sigmoid", vjp=my_sigmoid_vjp, dtypes=["float32", "float64"])

`gradproof.strategies` holds the hypothesis strategies for each derivation's inputs.
"""

from __future__ import annotations

from derivations import CATALOG
from gradproof import profiles, strategies
from gradproof.checking import CheckFailure, check
from harness import __version__

profiles.register()

__all__ = ["CATALOG", "CheckFailure", "__version__", "check", "strategies"]
