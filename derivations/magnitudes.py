"""Running-error magnitudes of a program over `Elementary`, found by running it.

A `Mag` is a float with the magnitude m of the terms a float computation of it adds up: each
operation contributes its own rounding |result| and passes on its inputs' magnitudes scaled by
the partial derivatives (Higham, Accuracy and Stability, section 3.3). Any implementation that
computes the same quantity by a stable algorithm errs by a small multiple of u * m, so m is the
error bound of a declared op that has no hand-written one. Pushed through `Dual` numbers, the same
arithmetic gives the magnitudes of each gradient entry's terms, the rounding of the derivative
factors included.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from derivations.elementary import Dual, Namespace


class Mag:
    """A float value v computed with error at most about u * m (first order)."""

    __slots__ = ("m", "v")

    def __init__(self, v: float, m: float = 0.0) -> None:
        self.v, self.m = float(v), float(m)

    @staticmethod
    def _parts(o: Any) -> tuple[float, float]:
        return (o.v, o.m) if isinstance(o, Mag) else (float(o), 0.0)  # constants count as exact

    def __add__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented  # Dual's own operator carries the tangent
        v, m = Mag._parts(o)
        return Mag(self.v + v, self.m + m + abs(self.v + v))

    __radd__ = __add__

    def __sub__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        v, m = Mag._parts(o)
        return Mag(self.v - v, self.m + m + abs(self.v - v))

    def __rsub__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        return Mag(*Mag._parts(o)) - self

    def __mul__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        v, m = Mag._parts(o)
        return Mag(self.v * v, abs(v) * self.m + abs(self.v) * m + abs(self.v * v))

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        v, m = Mag._parts(o)
        q = self.v / v
        return Mag(q, (self.m + abs(q) * m) / abs(v) + abs(q))

    def __rtruediv__(self, o: Any) -> Any:
        if isinstance(o, Dual):
            return NotImplemented
        return Mag(*Mag._parts(o)) / self

    def __neg__(self) -> Mag:
        return Mag(-self.v, self.m)

    def __pos__(self) -> Mag:
        return self

    def __abs__(self) -> Mag:
        return Mag(abs(self.v), self.m)

    def __pow__(self, n: Any) -> Mag:
        if isinstance(n, (Mag, Dual)):
            raise TypeError("a declared op may raise to a constant power only")
        p = self.v**n
        return Mag(p, abs(n * self.v ** (n - 1)) * self.m + abs(p))

    # Comparisons look at values, as the forward's branches do.
    def __lt__(self, o: Any) -> bool:
        return self.v < Mag._parts(o)[0]

    def __le__(self, o: Any) -> bool:
        return self.v <= Mag._parts(o)[0]

    def __gt__(self, o: Any) -> bool:
        return self.v > Mag._parts(o)[0]

    def __ge__(self, o: Any) -> bool:
        return self.v >= Mag._parts(o)[0]

    def __eq__(self, o: object) -> bool:
        return self.v == Mag._parts(o)[0]

    def __ne__(self, o: object) -> bool:
        return self.v != Mag._parts(o)[0]

    __hash__ = None  # type: ignore[assignment]

    def __float__(self) -> float:
        return self.v


def _scalar(f: Callable[[float], float], df: Callable[[float], float]) -> Callable[[Any], Mag]:
    """f on a Mag: its own rounding |f(v)| plus the input's magnitude scaled by |f'(v)|."""

    def one(x: Any) -> Mag:
        v, m = Mag._parts(x)
        y = f(v)
        return Mag(y, abs(df(v)) * m + abs(y) if m else abs(y))

    return one


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


_EXP = _scalar(math.exp, math.exp)
_LOG = _scalar(math.log, lambda v: 1 / v)
_LOG1P = _scalar(math.log1p, lambda v: 1 / (1 + v))
_TANH = _scalar(math.tanh, lambda v: 1 - math.tanh(v) ** 2)
_SQRT = _scalar(math.sqrt, lambda v: 0.5 / math.sqrt(v) if v else math.inf)
_SIGMOID = _scalar(_sigmoid, lambda v: _sigmoid(v) * (1 - _sigmoid(v)))


def _lift(f: Callable[[Any], Mag], df: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """f over arrays of Mag or of Dual(Mag, Mag): the derivative factor df is itself computed in
    Mag arithmetic, so its rounding reaches the gradient's magnitude."""

    def one(x: Any) -> Any:
        return Dual(f(x.a), df(x.a) * x.b) if isinstance(x, Dual) else f(x)

    return np.frompyfunc(one, 1, 1)  # type: ignore[no-any-return]


class MagMath(Namespace):
    """The `Elementary` functions over Mag (and Dual of Mag) object arrays."""

    exp = staticmethod(_lift(_EXP, _EXP))
    log = staticmethod(_lift(_LOG, lambda v: 1 / v))
    log1p = staticmethod(_lift(_LOG1P, lambda v: 1 / (1 + v)))
    tanh = staticmethod(_lift(_TANH, lambda v: 1 - _TANH(v) * _TANH(v)))
    sqrt = staticmethod(_lift(_SQRT, lambda v: 0.5 / _SQRT(v)))
    sigmoid = staticmethod(_lift(_SIGMOID, lambda v: _SIGMOID(v) * (1 - _SIGMOID(v))))


MAG = MagMath()


def _mags(a: np.ndarray) -> np.ndarray:
    out = np.empty(np.shape(a), dtype=object)
    out.reshape(-1)[:] = [Mag(float(v)) for v in np.asarray(a, dtype=np.float64).reshape(-1)]
    return out


def _magnitude(a: Any) -> np.ndarray:
    return np.vectorize(lambda x: Mag._parts(x)[1], otypes=[np.float64])(np.asarray(a, dtype=object))


Program = Callable[[Any, dict[str, np.ndarray], dict[str, Any]], Any]


def bound(
    forward: Program, differentiable: tuple[str, ...], arrays: dict[str, np.ndarray], params: dict[str, Any], c: Any
) -> dict[str, np.ndarray]:
    """{"out": magnitude of each output entry, name: magnitude of each entry of <c, d out / d name>}.

    One forward per input entry, like the exact reference, in float arithmetic."""
    held = {k: _mags(v) for k, v in arrays.items()}
    found = {"out": _magnitude(forward(MAG, held, params))}
    cot = _mags(c)
    for name in differentiable:
        x = held[name]
        g = np.zeros(x.shape)
        for j in np.ndindex(x.shape):
            x0 = x[j]
            x[j] = Dual(x0, Mag(1.0))
            total = np.sum(np.asarray(forward(MAG, held, params), dtype=object) * cot)
            g[j] = total.b.m if isinstance(total, Dual) and isinstance(total.b, Mag) else 0.0
            x[j] = x0
        found[name] = g
    return found
