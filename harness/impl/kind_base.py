"""What every kind of implementation answers (the Kind protocol), and what their adapters share: every call
copies its arguments first and reports which ones the implementation changed in place; results come back
as float64 together with their own dtype and shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np

from harness.impl.contract import Convention, Raw

Arrays = Mapping[str, np.ndarray]


class Kind(Protocol):
    name: str
    watch: bool

    def targets(self) -> list[tuple[str, str]]: ...

    def unavailable(self, device: str, dtype: str) -> str | None: ...

    def check_entry(self, conv: Convention, entry: Any) -> str | None:
        """Why this op's entry cannot be called as the convention says, or None."""
        ...

    def has_jvp(self, entry: Any) -> bool:
        """Whether a Jacobian-vector product can be asked of this entry."""
        ...

    def has_second_order(self, entry: Any) -> bool:
        """Whether a double backward and a Hessian-vector product can be asked of this entry."""
        ...

    def forward(
        self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], device: str, dtype: str
    ) -> Raw: ...

    def vjp(
        self,
        conv: Convention,
        entry: Any,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        device: str,
        dtype: str,
    ) -> Raw: ...

    def jvp(
        self,
        conv: Convention,
        entry: Any,
        arrays: Arrays,
        params: dict[str, float],
        tangents: dict[str, np.ndarray],
        device: str,
        dtype: str,
    ) -> Raw: ...

    def vjp_vjp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        """`request`: the cotangent w, the direction by input, device, dtype; values: one per input, then w's."""
        ...

    def hvp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        """`request`: the weights w, the tangent by input, device, dtype; values: one per input."""
        ...


def tangent_names(conv: Convention) -> tuple[str, ...]:
    return tuple(f"{n}_dot" for n, diff in zip(conv.inputs, conv.differentiable, strict=True) if diff)


def raw(values: list[Any], modified: list[str], to_numpy: Callable[[Any], tuple[np.ndarray, str]]) -> Raw:
    """`to_numpy` gives the values and the name of the dtype the implementation returned."""
    found = [None if v is None else to_numpy(v) for v in values]
    return Raw(
        values=tuple(None if f is None else np.asarray(f[0], dtype=np.float64) for f in found),
        dtypes=tuple(None if f is None else f[1] for f in found),
        shapes=tuple(None if f is None else tuple(np.shape(f[0])) for f in found),
        modified=tuple(modified),
    )


def from_numpy(value: Any) -> tuple[np.ndarray, str]:
    arr = np.asarray(value)
    return arr, str(arr.dtype)


def changed(names: list[str], before: list[np.ndarray], after: list[np.ndarray]) -> list[str]:
    if not before:  # not watched (the built-in implementations)
        return []
    return [n for n, b, a in zip(names, before, after, strict=True) if not np.array_equal(b, a, equal_nan=True)]


def callable_problem(conv: Convention, entry: Any, what: str) -> str | None:
    """Why one callable cannot serve as `conv`'s op (not callable, wrong signature), or None."""
    from harness.impl.contract import signature_problem

    if not callable(entry):
        return f"needs {what}, got {type(entry).__name__}"
    return signature_problem(entry, conv.op, conv.inputs, conv.params)
