"""Backends by name: a table, not an if/elif chain."""

from __future__ import annotations

from collections.abc import Callable

from harness.backends.base import Backend, Target
from harness.backends.finite_differences import FiniteDifferenceBackend
from harness.backends.numpy_ref import NumpyBackend
from harness.backends.torch_backend import TorchBackend
from harness.choices import BACKENDS as CHOICES
from harness.choices import BUILT_IN_BACKENDS, FD_ORACLE

BACKENDS: dict[str, Callable[[], Backend]] = {
    "numpy": NumpyBackend,
    "torch": TorchBackend,
}
assert tuple(BACKENDS) == BUILT_IN_BACKENDS, "harness/choices.py names the built-in backends"
# Not an implementation: finite differences of the NumPy reference judged against the exact
# values, which shows how far the finite-difference oracle itself can be trusted.
NAMES = CHOICES

__all__ = [
    "BACKENDS",
    "FD_ORACLE",
    "NAMES",
    "Backend",
    "FiniteDifferenceBackend",
    "NumpyBackend",
    "Target",
    "TorchBackend",
]
