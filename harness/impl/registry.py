"""How a user declares an implementation: a decorator registry, a dict, or module attributes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Implementation:
    """A table of ops by catalog id, filled by decorators.

    kind "numpy": register `forward(*inputs, **params)` and `vjp(*inputs, cotangent, **params)`
    with `@impl.forward("sigmoid")` and `@impl.vjp("sigmoid")`, and optionally the Jacobian-vector
    product `jvp(*inputs, *tangents, **params)` (a tangent per differentiable input) with
    `@impl.jvp`. Kinds "torch" and "jax": register one differentiable callable with
    `@impl.op("sigmoid")` (or `impl.add`).
    `nondeterminism_ulps` declares how far two identical calls may differ (0: bitwise equal).
    """

    def __init__(self, kind: str = "numpy", *, nondeterminism_ulps: float = 0.0) -> None:
        self.kind = kind
        self.nondeterminism_ulps = nondeterminism_ulps
        self.ops: dict[str, Any] = {}

    def forward(self, op: str) -> Callable[[F], F]:
        return self._part(op, 0)

    def vjp(self, op: str) -> Callable[[F], F]:
        return self._part(op, 1)

    def jvp(self, op: str) -> Callable[[F], F]:
        return self._part(op, 2)

    def _part(self, op: str, index: int) -> Callable[[F], F]:
        def register(fn: F) -> F:
            parts = [*self.ops.get(op, ()), None, None, None][:3]
            parts[index] = fn
            self.ops[op] = tuple(parts)
            return fn

        return register

    def op(self, op: str) -> Callable[[F], F]:
        def register(fn: F) -> F:
            self.ops[op] = fn
            return fn

        return register

    def add(
        self,
        op: str,
        forward: Callable[..., Any],
        vjp: Callable[..., Any] | None = None,
        jvp: Callable[..., Any] | None = None,
    ) -> None:
        self.ops[op] = forward if vjp is None and jvp is None else (forward, vjp, jvp)
