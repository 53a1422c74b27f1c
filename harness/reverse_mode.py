"""Reverse-mode derivatives of a program over object arrays: every input's gradient from one pass.

A dual-number pass runs the whole forward once per input entry, so a program's VJP grew with the
square of its size (conv2d on a 16 x 16 image: 5 s; on 10^5 entries: days). Here every scalar
operation of one forward is written on a tape and the tape is swept backwards once. The values are
80-digit mpmath numbers; only the order in which the chain rule's products are summed changes. Comparisons read
values, so a branch taken in the forward is the branch differentiated, as with `Dual`.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any, ClassVar

import mpmath
import numpy as np

from derivations.elementary import Carrier


class Var(Carrier):
    """A value on the tape: `a` is the value, `i` its node. Node i's links are (parent, partial) pairs,
    partial None for 1 (half the operations of a sum of products; the sweep skips its multiply)."""

    __slots__ = ("a", "i")
    links: ClassVar[list[tuple[Any, ...]] | None] = None  # the tape being recorded (see recording)

    def __init__(self, a: Any, links: tuple[Any, ...] = ()) -> None:
        self.a = a
        try:
            Var.links.append(links)  # type: ignore[union-attr]
        except AttributeError:
            raise RuntimeError("a Var outside reverse_mode.recording(): its node would be kept forever") from None
        self.i = len(Var.links) - 1  # type: ignore[arg-type]

    def __add__(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return NotImplemented  # NumPy applies the operation entry by entry
        if isinstance(o, Var):
            return Var(self.a + o.a, (self.i, None, o.i, None))
        return Var(self.a + o, (self.i, None))

    __radd__ = __add__

    def __sub__(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return NotImplemented
        if isinstance(o, Var):
            return Var(self.a - o.a, (self.i, None, o.i, -1))
        return Var(self.a - o, (self.i, None))

    def __rsub__(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return NotImplemented
        return Var(o - self.a, (self.i, -1))

    def __mul__(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return NotImplemented
        if isinstance(o, Var):
            return Var(self.a * o.a, (self.i, o.a, o.i, self.a))
        return Var(self.a * o, (self.i, o))

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return NotImplemented
        if isinstance(o, Var):
            q = self.a / o.a
            return Var(q, (self.i, 1 / o.a, o.i, -q / o.a))
        # 1 / o in the values' own precision: a float 1/9 would cost 64 of mpmath's 80 digits.
        one = mpmath.mpf(1) if isinstance(self.a, mpmath.mpf) else 1.0
        return Var(self.a / o, (self.i, one / o))

    def __rtruediv__(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return NotImplemented
        q = o / self.a
        return Var(q, (self.i, -q / self.a))

    def __neg__(self) -> Var:
        return Var(-self.a, (self.i, -1))

    def __pos__(self) -> Var:
        return self

    def __pow__(self, n: Any) -> Var:
        if isinstance(n, Var):
            raise TypeError("Var ** Var is not supported")
        return Var(self.a**n, (self.i, n * self.a ** (n - 1)))

    def __abs__(self) -> Var:
        return -self if self.a < 0 else self  # at 0: the right derivative, as Dual; kinks are judged apart

    def __lt__(self, o: Any) -> bool:
        return bool(self.a < _value(o))

    def __le__(self, o: Any) -> bool:
        return bool(self.a <= _value(o))

    def __gt__(self, o: Any) -> bool:
        return bool(self.a > _value(o))

    def __ge__(self, o: Any) -> bool:
        return bool(self.a >= _value(o))

    def __eq__(self, o: object) -> bool:
        return bool(self.a == _value(o))

    def __ne__(self, o: object) -> bool:
        return bool(self.a != _value(o))

    __hash__ = None  # type: ignore[assignment]

    def __float__(self) -> float:
        return float(self.a)

    def apply(self, fn: Any, dfn: Any) -> Var:
        return Var(fn(self.a), (self.i, dfn(self.a)))


def _value(o: Any) -> Any:
    """The value a comparison reads."""
    return o.a if isinstance(o, Var) else o


@contextlib.contextmanager
def recording(tape: list[tuple[Any, ...]] | None = None) -> Iterator[list[tuple[Any, ...]]]:
    """Record on `tape` (a fresh one by default), handed out for the sweep; the tape in use before
    comes back afterwards."""
    saved = Var.links
    Var.links = [] if tape is None else tape
    # A tape makes millions of objects without cycles: the cyclic collector's passes over them cost
    # 10-20 % of a large program's reference (conv2d on 200 x 200) and find nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield Var.links  # type: ignore[misc]
    finally:
        Var.links = saved
        if collecting:
            gc.enable()


def leaves(values: np.ndarray) -> np.ndarray:
    """An object array of the same shape whose entries are new inputs on the tape."""
    out = np.empty(values.shape, dtype=object)
    flat = out.reshape(-1)
    for k, v in enumerate(values.reshape(-1)):
        flat[k] = Var(v)
    return out


def adjoints(total: Any, links: list[tuple[Any, ...]]) -> list[Any]:
    """d total / d node for every node of the tape `total` was recorded on (None where total does not
    depend on it)."""
    adj: list[Any] = [None] * len(links)
    if not isinstance(total, Var):
        return adj  # a total that depends on no input
    adj[total.i] = 1
    for k in range(total.i, -1, -1):
        g = adj[k]
        if g is None:
            continue
        link = links[k]
        for p in range(0, len(link), 2):
            d, q = link[p + 1], link[p]
            term = g if d is None else g * d
            prev = adj[q]
            adj[q] = term if prev is None else prev + term
    return adj


def tangents(links: list[tuple[Any, ...]], seeds: list[tuple[np.ndarray, np.ndarray]]) -> list[Any]:
    """d node / dt for every node of the tape when each array of leaves moves as leaves + t * u, for the
    (leaves, u) pairs of `seeds`: forward mode over the recorded tape, its values never recomputed
    (None where no seeded leaf reaches the node)."""
    tan: list[Any] = [None] * len(links)
    for leaves_, u in seeds:
        for v, t in zip(leaves_.reshape(-1), u.reshape(-1), strict=True):
            tan[v.i] = t
    for k, link in enumerate(links):
        if not link:
            continue  # a leaf (seeded above) or a constant
        acc = None
        for p in range(0, len(link), 2):
            t = tan[link[p]]
            if t is None:
                continue
            d = link[p + 1]
            term = t if d is None else t * d
            acc = term if acc is None else acc + term
        tan[k] = acc
    return tan


def gradient(of: np.ndarray, found: list[Any]) -> np.ndarray:
    """The entries of `found` (adjoints or tangents) at an array of nodes, as an object array of the same
    shape: 0 where none reached the node, or where the entry is no node (a constant output)."""
    out = np.empty(np.shape(of), dtype=object)
    flat = out.reshape(-1)
    for k, v in enumerate(np.asarray(of, dtype=object).reshape(-1)):
        g = found[v.i] if isinstance(v, Var) else None
        flat[k] = 0 if g is None else g
    return out
