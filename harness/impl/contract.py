"""The calling convention of a catalog op for third-party code, derived from its catalog entry.

Kept free of SymPy and torch: worker processes import it, and it must load fast.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


class ContractError(Exception):
    """Third-party code broke the calling convention (wrong signature, wrong number of gradients)."""


class NotOffered(ContractError):
    """The implementation does not offer what was asked (forward mode from a custom autograd.Function
    without a jvp, a double backward through @once_differentiable): that check does not apply to it."""


@dataclass(frozen=True)
class Convention:
    """`forward(*inputs, **params)` and `vjp(*inputs, cotangent, **params)`; argument order is
    the catalog entry's input order, and vjp returns one gradient per input (None allowed for
    inputs that are not differentiable)."""

    op: str
    inputs: tuple[str, ...]
    differentiable: tuple[bool, ...]
    params: tuple[str, ...]

    @classmethod
    def of(cls, d: Any) -> Convention:
        """From an op (duck-typed so that this module never imports SymPy): a closed form's scalar
        parameters, then a program's (stride, dim, keepdim, k, g), named in its params_doc."""
        params = (*(p.name for p in d.params), *d.params_doc)
        return cls(d.name, tuple(i.name for i in d.inputs), tuple(i.differentiable for i in d.inputs), params)

    def forward_call(self) -> str:
        return f"forward({self._args(())})"

    def vjp_call(self) -> str:
        return f"vjp({self._args(('cotangent',))})"

    def _args(self, extra: tuple[str, ...]) -> str:
        keywords = tuple(f"{p}=..." for p in self.params)
        return ", ".join((*self.inputs, *extra, *keywords))

    def jvp_call(self) -> str:
        dots = tuple(f"{n}_dot" for n, diff in zip(self.inputs, self.differentiable, strict=True) if diff)
        return f"jvp({self._args(dots)})"

    def vjp_returns(self) -> str:
        grads = [f"d{n}" if diff else "None" for n, diff in zip(self.inputs, self.differentiable, strict=True)]
        by_name = ", ".join(f"{n!r}: d{n}" for n, diff in zip(self.inputs, self.differentiable, strict=True) if diff)
        return "(" + ", ".join(grads) + ("," if len(grads) == 1 else "") + ") or {" + by_name + "}"


@dataclass(frozen=True)
class Raw:
    """What one call returned, before any conversion: values as float64 (None where the
    implementation gave None), their own dtypes and shapes, and which arguments the call
    changed in place."""

    values: tuple[np.ndarray | None, ...]
    dtypes: tuple[str | None, ...]
    shapes: tuple[tuple[int, ...] | None, ...]
    modified: tuple[str, ...]


def signature_problem(fn: Callable[..., object], what: str, args: Sequence[str], params: Sequence[str]) -> str | None:
    """Why `fn` cannot be called as fn(*args, **params), or None (also when Python cannot tell)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None  # builtins and C extensions: the call itself will tell
    try:
        sig.bind(*args, **{p: 0.0 for p in params})
    except TypeError as exc:
        call = ", ".join((*args, *(f"{p}=..." for p in params)))
        return f"{what}{sig} cannot be called as {what}({call}): {exc}"
    return None


def gradients(conv: Convention, result: object) -> list[object]:
    """The vjp's result as one entry per input, checked against the convention: a tuple in input
    order, a dict by input name (an input left out counts as None), or one bare array for a
    one-input op."""
    n = len(conv.inputs)
    if isinstance(result, Mapping):
        unknown = sorted(str(k) for k in result if k not in conv.inputs)
        if unknown:
            raise ContractError(
                f"vjp returned gradients for {unknown}, which are not inputs of {conv.op} {conv.inputs}"
            )
        result = [result.get(name) for name in conv.inputs]
    if isinstance(result, (tuple, list)):
        grads = list(result)
    elif n == 1:
        grads = [result]  # a single-input op may return its one gradient bare
    else:
        raise ContractError(
            f"vjp returned one array; expected a tuple of {n} gradients {conv.vjp_returns()} "
            "(None for inputs that are not differentiable)"
        )
    if len(grads) != n:
        raise ContractError(f"vjp returned {len(grads)} gradients; expected {n}, one per input {conv.vjp_returns()}")
    for name, diff, g in zip(conv.inputs, conv.differentiable, grads, strict=True):
        if diff and g is None:
            raise ContractError(f"vjp returned None for the differentiable input {name!r}")
    return grads
