"""The two `Elementary` namespaces: float arrays (NumPy ufuncs) and mpmath object arrays."""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np


class Namespace:
    """An `Elementary` namespace; asking it for a function it lacks says so in one line."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        have = "exp, log, log1p, tanh, sqrt, sigmoid"
        raise AttributeError(f"the Elementary namespace has no function {name!r}; it has {have}")


class FloatMath(Namespace):
    """NumPy's ufuncs; sigmoid in the two-branch form that never overflows."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)
    tanh = staticmethod(np.tanh)
    sqrt = staticmethod(np.sqrt)

    @staticmethod
    def sigmoid(x: Any) -> Any:
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def to_mp(a: np.ndarray) -> np.ndarray:
    """Float64 values as mpmath numbers, exactly (every double is an mpf)."""
    out = np.empty(np.shape(a), dtype=object)
    flat = np.asarray(a, dtype=np.float64).reshape(-1)
    out.reshape(-1)[:] = [mpmath.mpf(float(v)) for v in flat]
    return out


def to_float(a: Any) -> np.ndarray:
    return np.asarray(np.vectorize(float, otypes=[np.float64])(np.asarray(a, dtype=object)), dtype=np.float64)


class Carrier:
    """A number that carries derivatives beside its value (`Dual` here, the reverse-mode tape's `Var`):
    the `Elementary` functions hand it f and f' and it applies the chain rule its own way."""

    __slots__ = ()

    def apply(self, fn: Any, dfn: Any) -> Any:
        raise NotImplementedError


class Dual(Carrier):
    """a + b*eps with eps^2 = 0 over mpmath numbers: forward-mode derivatives, exactly.

    The exact reference pushes one tangent through the op's own forward. Finite differences
    at 80 digits would lose a tiny gradient entry (1e-256 in a saturated sigmoid) under the
    rest of the sum; a tangent is carried separately and keeps its relative accuracy.
    """

    __slots__ = ("a", "b")

    def __init__(self, a: Any, b: Any = 0) -> None:
        self.a, self.b = a, b

    @staticmethod
    def _parts(o: Any) -> tuple[Any, Any]:
        return (o.a, o.b) if isinstance(o, Dual) else (o, 0)

    def __add__(self, o: Any) -> Dual:
        a, b = Dual._parts(o)
        return Dual(self.a + a, self.b + b)

    __radd__ = __add__

    def __sub__(self, o: Any) -> Dual:
        a, b = Dual._parts(o)
        return Dual(self.a - a, self.b - b)

    def __rsub__(self, o: Any) -> Dual:
        a, b = Dual._parts(o)
        return Dual(a - self.a, b - self.b)

    def __mul__(self, o: Any) -> Dual:
        a, b = Dual._parts(o)
        return Dual(self.a * a, self.a * b + self.b * a)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Dual:
        a, b = Dual._parts(o)
        return Dual(self.a / a, (self.b * a - self.a * b) / (a * a))

    def __rtruediv__(self, o: Any) -> Dual:
        return Dual(o) / self

    def __neg__(self) -> Dual:
        return Dual(-self.a, -self.b)

    def __pos__(self) -> Dual:
        return self

    def __pow__(self, n: Any) -> Dual:
        if isinstance(n, Dual):
            raise TypeError("Dual ** Dual is not supported")
        return Dual(self.a**n, n * self.a ** (n - 1) * self.b)

    def __abs__(self) -> Dual:
        return -self if self.a < 0 else self  # at 0: the right derivative; kinks are judged apart

    # Comparisons look at values only: a branch taken in the forward is the branch differentiated.
    def __lt__(self, o: Any) -> bool:
        return bool(self.a < Dual._parts(o)[0])

    def __le__(self, o: Any) -> bool:
        return bool(self.a <= Dual._parts(o)[0])

    def __gt__(self, o: Any) -> bool:
        return bool(self.a > Dual._parts(o)[0])

    def __ge__(self, o: Any) -> bool:
        return bool(self.a >= Dual._parts(o)[0])

    def __eq__(self, o: object) -> bool:
        return bool(self.a == Dual._parts(o)[0])

    def __ne__(self, o: object) -> bool:
        return bool(self.a != Dual._parts(o)[0])

    __hash__ = None  # type: ignore[assignment]

    def __float__(self) -> float:
        return float(self.a)

    def apply(self, fn: Any, dfn: Any) -> Dual:
        return Dual(fn(self.a), dfn(self.a) * self.b)


def _lift(fn: Any, dfn: Any) -> Any:
    """An mpmath function that also carries a tangent: f(a + b eps) = f(a) + f'(a) b eps."""

    def one(v: Any) -> Any:
        return v.apply(fn, dfn) if isinstance(v, Carrier) else fn(v)

    return np.frompyfunc(one, 1, 1)


def _sigmoid(v: Any) -> Any:
    return 1 / (1 + mpmath.exp(-v))


class MpMath(Namespace):
    """mpmath functions over object arrays (of mpf or a Carrier: Dual, Var), at the precision of mpmath.mp."""

    exp = staticmethod(_lift(mpmath.exp, mpmath.exp))
    log = staticmethod(_lift(mpmath.log, lambda v: 1 / v))
    log1p = staticmethod(_lift(mpmath.log1p, lambda v: 1 / (1 + v)))
    tanh = staticmethod(_lift(mpmath.tanh, lambda v: 1 - mpmath.tanh(v) ** 2))
    sqrt = staticmethod(_lift(mpmath.sqrt, lambda v: 1 / (2 * mpmath.sqrt(v))))
    sigmoid = staticmethod(_lift(_sigmoid, lambda v: _sigmoid(v) * (1 - _sigmoid(v))))


FLOAT = FloatMath()
MP = MpMath()
