"""How each kind of implementation is called: plain NumPy pairs, torch autograd, JAX. One adapter per kind,
each in its module; the Kind protocol and what they share are in kind_base.py."""

from __future__ import annotations

from collections.abc import Callable

from harness.impl.jax_kind import JaxKind
from harness.impl.kind_base import Kind
from harness.impl.numpy_kind import NumpyKind
from harness.impl.torch_kind import TorchKind

__all__ = ["KINDS", "JaxKind", "Kind", "NumpyKind", "TorchKind"]

KINDS: dict[str, Callable[[], Kind]] = {"numpy": NumpyKind, "torch": TorchKind, "jax": JaxKind}
