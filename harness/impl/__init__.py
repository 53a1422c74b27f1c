"""Checking third-party implementations: adapters, isolation, conformance checks.

Import `Implementation` from here to declare ops with decorators. This package is imported by
worker processes, so it stays light: no SymPy, no torch at import time.
"""

from harness.impl.registry import Implementation

__all__ = ["Implementation"]
