"""Any implementation seen through the Backend protocol: a third-party one as `impl:<name>`."""

from __future__ import annotations

import time
from typing import Any, Protocol

import numpy as np

from derivations.model import Op, Program
from harness.backends.base import Arrays, Target
from harness.impl.contract import ContractError, Raw
from harness.impl.host import Descriptor


class Caller(Protocol):
    descriptor: Descriptor

    def call(
        self,
        method: str,
        op: str,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: Any,  # the cotangent of a vjp, the tangents by input of a jvp
        device: str,
        dtype: str,
    ) -> Raw: ...

    def close(self) -> None: ...


class BudgetSpent(RuntimeError):
    """The implementation has used its whole --budget: its remaining checks are errors, not run."""


class ImplBackend:
    """Any implementation, built in or not, reached through its kind's adapter (harness/impl/*_kind.py).

    `third_party` implementations also get the conformance checks; the built-in NumPy reference and
    torch are named plainly ("numpy", "torch") and checked for values only, as the catalog's oracles."""

    def __init__(
        self, caller: Caller, *, name: str | None = None, third_party: bool = True, budget_s: float | None = None
    ) -> None:
        self.caller = caller
        self.descriptor = caller.descriptor
        self.name = name or f"impl:{self.descriptor.label}"
        self.third_party = third_party
        # Wall time its calls may take over the whole run (--budget); checked between calls, as
        # --timeout bounds each one.
        self.budget_s = budget_s
        self.spent_s = 0.0

    def _call(self, *request: Any) -> Raw:
        if self.budget_s is not None and self.spent_s >= self.budget_s:
            raise BudgetSpent(
                f"{self.descriptor.label} spent its time budget ({self.spent_s:.1f} s of --budget "
                f"{self.budget_s:g} s) before this check: not run"
            )
        start = time.perf_counter()
        try:
            return self.caller.call(*request)
        finally:
            self.spent_s += time.perf_counter() - start

    def targets(self) -> list[Target]:
        return [Target(d, t) for d, t in self.descriptor.targets]

    def unavailable(self, target: Target) -> str | None:
        return self.descriptor.unavailable.get(str(target))

    def provides(self, derivation: Op) -> bool:
        return derivation.name in self.descriptor.ops

    def raw_forward(self, d: Op, arrays: Arrays, params: dict[str, float], target: Target) -> Raw:
        return self._call("forward", d.name, arrays, params, None, target.device, target.dtype)

    def raw_vjp(self, d: Op, arrays: Arrays, params: dict[str, float], cotangent: np.ndarray, target: Target) -> Raw:
        return self._call("vjp", d.name, arrays, params, cotangent, target.device, target.dtype)

    def provides_jvp(self, derivation: Op) -> bool:
        return derivation.name in self.descriptor.jvp_ops

    def jvp(
        self, d: Op, arrays: Arrays, params: dict[str, float], tangents: dict[str, np.ndarray], target: Target
    ) -> np.ndarray:
        value = self._call("jvp", d.name, arrays, params, tangents, target.device, target.dtype).values[0]
        if value is None:
            raise ContractError(f"{self.descriptor.label}, op {d.name!r}: jvp returned None")
        return value

    def provides_second_order(self, derivation: Op) -> bool:
        return derivation.name in self.descriptor.second_order_ops

    def _second(
        self,
        method: str,
        d: Op,
        arrays: Arrays,
        params: dict[str, float],
        w: np.ndarray,
        v: dict[str, np.ndarray],
        t: Target,
    ) -> dict[str, np.ndarray]:
        request = {"cotangent": w, "direction": v}
        raw = self._call(method, d.name, arrays, params, request, t.device, t.dtype)
        found = {i.name: g for i, g in zip(d.inputs, raw.values, strict=False) if i.differentiable and g is not None}
        if method == "vjp_vjp" and len(raw.values) > len(d.inputs) and raw.values[-1] is not None:
            found["cotangent"] = raw.values[-1]
        return found

    def vjp_vjp(
        self,
        d: Op,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        direction: dict[str, np.ndarray],
        target: Target,
    ) -> dict[str, np.ndarray]:
        """The gradient of <direction, vjp(x, cotangent)>: {input: H(w) v, "cotangent": J v}."""
        return self._second("vjp_vjp", d, arrays, params, cotangent, direction, target)

    def hvp(
        self,
        d: Op,
        arrays: Arrays,
        params: dict[str, float],
        weights: np.ndarray,
        tangents: dict[str, np.ndarray],
        target: Target,
    ) -> dict[str, np.ndarray]:
        """The tangent of vjp(x, weights) for tangents of x: {input: H(w) u}."""
        return self._second("hvp", d, arrays, params, weights, tangents, target)

    def forward(self, d: Op, arrays: Arrays, params: dict[str, float], target: Target) -> np.ndarray:
        value = self.raw_forward(d, arrays, params, target).values[0]
        if value is None:
            raise ContractError(f"{self.descriptor.label}, op {d.name!r}: forward returned None")
        return value

    def vjp(self, d: Op, arrays: Arrays, params: dict[str, float], cotangent: np.ndarray, target: Target) -> np.ndarray:
        """{input name: gradient} for every differentiable input; a bare array for a closed form with one."""
        raw = self.raw_vjp(d, arrays, params, cotangent, target)
        if isinstance(d.engine, Program) or len(d.differentiable) > 1:
            grads = {i.name: g for i, g in zip(d.inputs, raw.values, strict=True) if i.differentiable and g is not None}
            return grads  # type: ignore[return-value]
        grad = raw.values[[i.name for i in d.inputs].index(d.wrt.name)]
        assert grad is not None  # the contract refuses None for a differentiable input
        return grad
