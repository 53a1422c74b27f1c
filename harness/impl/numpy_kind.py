"""Plain NumPy pairs: forward(*inputs, **params) and vjp(*inputs, cotangent, **params), a jvp optional."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from harness.impl.contract import ContractError, Convention, Raw, gradients
from harness.impl.kind_base import Arrays, changed, from_numpy, raw, tangent_names


class NumpyKind:
    """A pair forward(*inputs, **params), vjp(*inputs, cotangent, **params) over NumPy arrays."""

    name = "numpy"
    watch = True  # compare the arguments before and after each call (the inplace check needs it)

    def targets(self) -> list[tuple[str, str]]:
        return [("cpu", "float32"), ("cpu", "float64")]

    def unavailable(self, device: str, dtype: str) -> str | None:
        return None

    def check_entry(self, conv: Convention, entry: Any) -> str | None:
        from harness.impl.contract import signature_problem

        fwd, vjp, jvp = entry
        if vjp is None:
            return f"a forward but no vjp (define {conv.op}_vjp or register one)"
        if not callable(fwd) or not callable(vjp) or (jvp is not None and not callable(jvp)):
            return "needs a callable forward and a callable vjp (and jvp, when given)"
        return (
            signature_problem(fwd, "forward", conv.inputs, conv.params)
            or signature_problem(vjp, "vjp", (*conv.inputs, "cotangent"), conv.params)
            or (jvp and signature_problem(jvp, "jvp", (*conv.inputs, *tangent_names(conv)), conv.params))
            or None
        )

    def has_jvp(self, entry: Any) -> bool:
        return entry[2] is not None

    def has_second_order(self, entry: Any) -> bool:
        return False  # a pair has no second derivatives to ask for

    def vjp_vjp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        raise ContractError("a NumPy pair gives no second order")

    hvp = vjp_vjp

    def _call(
        self,
        fn: Callable[..., Any],
        conv: Convention,
        arrays: Arrays,
        extra: list[np.ndarray],
        params: dict[str, float],
        dtype: str,
    ) -> tuple[Any, list[str]]:
        args = [np.array(arrays[n], dtype=dtype) for n in conv.inputs] + [np.array(e, dtype=dtype) for e in extra]
        names = [*conv.inputs, *(["cotangent"] if len(extra) == 1 else tangent_names(conv))][: len(args)]
        before = [a.copy() for a in args] if self.watch else []
        out = fn(*args, **params)
        return out, changed(names, before, args)

    def forward(
        self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], device: str, dtype: str
    ) -> Raw:
        out, modified = self._call(entry[0], conv, arrays, [], params, dtype)
        return raw([out], modified, from_numpy)

    def vjp(
        self,
        conv: Convention,
        entry: Any,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        device: str,
        dtype: str,
    ) -> Raw:
        out, modified = self._call(entry[1], conv, arrays, [cotangent], params, dtype)
        return raw(gradients(conv, out), modified, from_numpy)

    def jvp(
        self,
        conv: Convention,
        entry: Any,
        arrays: Arrays,
        params: dict[str, float],
        tangents: dict[str, np.ndarray],
        device: str,
        dtype: str,
    ) -> Raw:
        wrt = [n for n, diff in zip(conv.inputs, conv.differentiable, strict=True) if diff]
        out, modified = self._call(entry[2], conv, arrays, [tangents[n] for n in wrt], params, dtype)
        return raw([out], modified, from_numpy)
