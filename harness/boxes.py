"""Float64 interval arithmetic over whole arrays, with sensitivities and reverse mode: the fast reference.

A `Box` holds, entry by entry, an enclosure [lo, hi] of an exact value, proved by rounding every
endpoint outward (IEEE +, -, *, / and sqrt are correctly rounded: one ULP outward covers them;
exp, log, log1p and tanh are widened by a margin over the error NumPy's functions are measured to
make, tests/meta/test_boxes.py), and `tan`, the derivatives of the value with respect to
chosen sources (every input entry of a row, every cotangent term), carried in forward mode in float64:
the tolerance scales with sum_q |d value / d q| * |q| over those rounded quantities q, which a bound
by the triangle inequality would overstate a thousandfold where terms cancel (tanh as a quotient of
exponentials, softmax).

Every operation on recorded boxes keeps its operands and its partial derivatives (themselves boxes),
so reverse mode (box_graph.vjp) runs over the recorded graph: the adjoints come out as boxes too, enclosures of
the exact VJP with their own magnitudes. One NumPy call per operation and array, none per element.

Inside `extended()` the same arithmetic runs in the platform's long double where it is wider than
float64 (x86's 80 bits: an exponent to 10^4932, so exp(+-1000) neither overflows nor underflows), for
the units float64 leaves unbounded or too wide.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

LOOSE = 2.0**-20  # the widest a box may be, relative to its value, for its tangent to be trusted
_ids = itertools.count()


@dataclass(frozen=True)
class Precision:
    """The float format boxes are computed in: float64, or the platform's wider long double."""

    dtype: Any
    libm_ulps: int  # the widening of exp, log, log1p and tanh: a margin over their measured error
    eps: float  # 2^-p for p explicit mantissa bits: |a| eps is at least the spacing of floats at a
    smallest: Any  # the smallest subnormal
    max: Any


def _precision(dtype: Any, libm_ulps: int) -> Precision:
    info = np.finfo(dtype)
    return Precision(dtype, libm_ulps, info.eps, info.smallest_subnormal, info.max)


FLOAT64 = _precision(np.float64, 4)
# x86's 80-bit long double: 11 more bits and an exponent to 10^±4932, where exp(1000) and exp(-1000) are
# normal numbers. None where long double is float64 itself (Windows, Apple silicon).
# glibc's long double tanh errs by up to 2.4 ULPs near 0 (tests/meta/test_boxes.py): a margin of 8.
EXTENDED = _precision(np.longdouble, 8) if np.finfo(np.longdouble).nmant > 52 else None
_precisions = [FLOAT64]
_recording = [False]
# What a comparison of boxes gives: a Cond (a closed form's Piecewise), a bool array where every entry is
# decided and Undecided otherwise (a program's branch), or an error (a bound, which must not branch).
_comparing = ["cond"]
Tangent = np.ndarray | None  # (..., sources), None for a constant


def _down(a: np.ndarray, ulps: int = 1) -> np.ndarray:
    """At least `ulps` floats below `a`: a - |a| eps lies at or below the next float down of any
    normal a (|a| eps is at least its spacing, and exact: eps is 2^-52 in float64), and the smallest
    subnormal steps off a subnormal or 0; below an overflow (inf) lies the largest float."""
    return _step(a, ulps, -1.0)


def _up(a: np.ndarray, ulps: int = 1) -> np.ndarray:
    """At least `ulps` floats above `a` (see _down)."""
    return _step(a, ulps, 1.0)


def _step(a: np.ndarray, ulps: int, sign: float) -> np.ndarray:
    """`ulps` steps of a + sign (|a| eps + smallest), in place on one new array (the hot path of every
    operation); an infinity stepped back toward the floats becomes the largest float."""
    p = _precisions[-1]
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.array(a, dtype=p.dtype, copy=True)
        for _ in range(ulps):
            step = np.abs(out)
            step *= sign * p.eps
            out += step
            out += sign * p.smallest
        np.copyto(out, -sign * p.max, where=np.asarray(a) == -sign * np.inf)
    return out


def _plus(a: Tangent, b: Tangent) -> Tangent:
    if a is None:
        return b
    if b is None:
        return a
    with np.errstate(invalid="ignore", over="ignore"):
        return a + b


def _times(t: Tangent, factor: Any) -> Tangent:
    """A tangent scaled entry by entry (the factor has the value's shape)."""
    if t is None:
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        return t * np.asarray(factor)[..., None]


def _pick(where: np.ndarray, a: Tangent, b: Tangent) -> Tangent:
    if a is None and b is None:
        return None
    sources = (a if a is not None else b).shape[-1]  # type: ignore[union-attr]
    shape = (*np.broadcast_shapes(np.shape(where)), sources)
    a0 = np.zeros(shape) if a is None else a
    b0 = np.zeros(shape) if b is None else b
    return np.where(np.asarray(where)[..., None], a0, b0)


class Undecided(ValueError):
    """A program branched on a comparison its boxes cannot decide: its exact engine decides instead."""


class Link:
    """A recorded operation's derivative as a linear map (an index map, a sum, a contraction): its
    transpose for reverse mode and itself for forward mode. An elementwise operation records a partial."""

    def back(self, adjoint: Box) -> Box:
        raise NotImplementedError

    def ahead(self, tangent: Box) -> Box:
        raise NotImplementedError


class Box:
    """Enclosures and tangents of an array of exact values; see the module's docstring."""

    __array_priority__ = 100  # numpy scalars on the left defer to Box's reflected operators

    def __init__(
        self,
        lo: Any,
        hi: Any = None,
        tan: Tangent = None,
        parents: tuple[tuple[Box, Box | Link], ...] = (),
        of: Sequence[Box] = (),
    ) -> None:
        dtype = _precisions[-1].dtype
        self.lo = np.asarray(lo, dtype=dtype)
        self.hi = self.lo if hi is None else np.asarray(hi, dtype=dtype)
        self.tan = tan
        self.parents = parents if _recording[0] else ()
        self.index = next(_ids)
        # Tangents are formed from middles: where a box made on the way is wide against its own value
        # (an underflowed 1/den^2, a cancellation) they are not derivatives, and nor is the magnitude.
        with np.errstate(invalid="ignore", over="ignore"):
            loose: Any = False if hi is None else ~(self.hi - self.lo <= 2 * LOOSE * np.abs(self.mid))
        for o in of:
            loose = loose | o.loose
        self.loose: np.ndarray | bool = loose

    @functools.cached_property
    def mid(self) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore"):
            return self.lo + (self.hi - self.lo) / 2

    @property
    def radius(self) -> np.ndarray:
        """Half the width, rounded up: every point of the box is within it of `mid`."""
        with np.errstate(invalid="ignore", over="ignore"):
            mid = self.mid
            return _up(np.maximum(self.hi - mid, mid - self.lo))

    @property
    def absmin(self) -> np.ndarray:
        return np.where((self.lo <= 0) & (self.hi >= 0), 0.0, np.minimum(np.abs(self.lo), np.abs(self.hi)))

    def __add__(self, o: Any) -> Box:
        b = box(o)
        with np.errstate(invalid="ignore", over="ignore"):
            lo, hi = self.lo + b.lo, self.hi + b.hi
            # A float sum that is 0 is exactly 0 (addition never underflows): only the others are widened.
            lo, hi = np.where(lo == 0, 0.0, _down(lo)), np.where(hi == 0, 0.0, _up(hi))
        return Box(lo, hi, _plus(self.tan, b.tan), ((self, ONE), (b, ONE)), (self, b))

    __radd__ = __add__

    def __neg__(self) -> Box:
        return Box(-self.hi, -self.lo, None if self.tan is None else -self.tan, ((self, MINUS_ONE),), (self,))

    def __sub__(self, o: Any) -> Box:
        return self + (-box(o))

    def __rsub__(self, o: Any) -> Box:
        return box(o) + (-self)

    def __mul__(self, o: Any) -> Box:
        b = box(o)
        lo, hi = _product(self, b)
        tan = _plus(_times(self.tan, b.mid), _times(b.tan, self.mid))
        return Box(lo, hi, tan, ((self, b), (b, self)), (self, b))

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Box:
        return self * reciprocal(box(o))

    def __rtruediv__(self, o: Any) -> Box:
        return box(o) * reciprocal(self)

    def __pow__(self, k: Any) -> Box:
        return power(self, k)

    def __pos__(self) -> Box:
        return self

    def __abs__(self) -> Box:
        return Max(self, -self)

    # Comparisons give where they surely hold and where they surely fail; the rest is undecided.
    def __gt__(self, o: Any) -> Any:
        b = box(o)
        return _compared(self.lo > b.hi, self.hi <= b.lo)

    def __ge__(self, o: Any) -> Any:
        b = box(o)
        return _compared(self.lo >= b.hi, self.hi < b.lo)

    def __lt__(self, o: Any) -> Any:
        return box(o) > self

    def __le__(self, o: Any) -> Any:
        return box(o) >= self

    def __eq__(self, o: object) -> Any:  # type: ignore[override]
        b = box(o)
        both_points = (self.lo == self.hi) & (b.lo == b.hi)
        return _compared(both_points & (self.lo == b.lo), (self.hi < b.lo) | (b.hi < self.lo))

    def __ne__(self, o: object) -> Any:  # type: ignore[override]
        b = box(o)
        both_points = (self.lo == self.hi) & (b.lo == b.hi)
        return _compared((self.hi < b.lo) | (b.hi < self.lo), both_points & (self.lo == b.lo))

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise TypeError("a box has no truth value: compare it")

    # Arrays of boxes: NumPy's functions and ufuncs on a Box run harness/box_arrays.py's versions.
    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError("a box is not a float array")

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        from harness import box_arrays

        handled = box_arrays.HANDLED.get(func)
        return NotImplemented if handled is None else handled(*args, **kwargs)

    def __array_ufunc__(self, ufunc: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        from harness import box_arrays

        handled = box_arrays.UFUNCS.get(ufunc)
        if method != "__call__" or handled is None or kwargs:
            return NotImplemented
        return handled(*args)

    @property
    def shape(self) -> tuple[int, ...]:
        return np.broadcast_shapes(self.lo.shape, self.hi.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> Box:
        from harness import box_arrays

        return box_arrays.getitem(self, key)

    # NumPy's methods take their arguments spread out or as one tuple; np.reshape and np.transpose one.
    def reshape(self, *shape: Any) -> Box:
        return np.reshape(self, shape[0] if len(shape) == 1 else shape)  # type: ignore[call-overload,return-value]

    def transpose(self, *axes: Any) -> Box:
        return np.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)  # type: ignore[call-overload,return-value]

    @property
    def T(self) -> Box:
        return self.transpose()

    def ravel(self) -> Box:
        return self.reshape(-1)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Box:
        from harness import box_arrays

        return box_arrays.box_sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Box:
        from harness import box_arrays

        return box_arrays.mean(self, axis=axis, keepdims=keepdims)

    def __matmul__(self, o: Any) -> Box:
        from harness import box_arrays

        return box_arrays.matmul(self, o)

    def __rmatmul__(self, o: Any) -> Box:
        from harness import box_arrays

        return box_arrays.matmul(o, self)


def _compared(true: np.ndarray, false: np.ndarray) -> Any:
    mode = _comparing[0]
    if mode == "cond":
        return Cond(true, false)
    if mode == "refuse":
        raise TypeError("a running-error bound is linear in its cotangent: it must not compare it")
    if not np.all(true | false):
        raise Undecided("a comparison of boxes is undecided")
    return np.asarray(true)


@contextlib.contextmanager
def comparing(mode: str) -> Iterator[None]:
    """Comparisons of boxes inside give "cond", "decided" bool arrays, or "refuse" to compare."""
    was, _comparing[0] = _comparing[0], mode
    try:
        yield
    finally:
        _comparing[0] = was


class Cond:
    """Where a comparison of boxes surely holds (`true`) and surely fails (`false`)."""

    def __init__(self, true: np.ndarray, false: np.ndarray) -> None:
        self.true, self.false = true, false


def _product(a: Box, b: Box) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", over="ignore"):
        # A factor that is exactly 0 makes the product exactly 0 where the other is bounded (0 times an
        # unbounded box, 0/0 among them, is no number: the NaN rule below); a product rounded to 0
        # otherwise underflowed.
        bounded_a, bounded_b = np.isfinite(a.lo) & np.isfinite(a.hi), np.isfinite(b.lo) & np.isfinite(b.hi)
        zero = ((a.lo == 0) & (a.hi == 0) & bounded_b) | ((b.lo == 0) & (b.hi == 0) & bounded_a)
        if a.lo is a.hi and b.lo is b.hi:  # two points: one product, rounded both ways
            p = a.lo * b.lo
            return np.where(zero, 0.0, _down(p)), np.where(zero, 0.0, _up(p))
        if a.lo is a.hi or b.lo is b.hi:  # a point times a box: its two ends
            box_, point = (b, a.lo) if a.lo is a.hi else (a, b.lo)
            products = [box_.lo * point, box_.hi * point]
        elif np.all(a.lo >= 0) and np.all(b.lo >= 0):  # both never negative: the ends in order
            products = [a.lo * b.lo, a.hi * b.hi]
        else:
            products = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        lo, hi = functools.reduce(np.minimum, products), functools.reduce(np.maximum, products)
        # 0 * inf is NaN in one product only: the enclosure is then unbounded, never a NaN hidden by min.
        nan = functools.reduce(np.logical_or, [np.isnan(p) for p in products])
        lo, hi = _down(np.where(nan, -np.inf, lo)), _up(np.where(nan, np.inf, hi))
        return np.where(zero, 0.0, lo), np.where(zero, 0.0, hi)


def box(v: Any) -> Box:
    """A box of a constant: Python and NumPy numbers exactly, SymPy numbers enclosed."""
    if isinstance(v, Box):
        return v
    if isinstance(v, sp.Basic):
        if not v.is_number:
            raise TypeError(f"the fast reference cannot evaluate the symbolic {v}")
        value = float(v)
        if v.is_Integer and abs(value) < 2**53:
            return Box(value)
        # Rounded to the working format from 40 digits (correctly, as strtod and strtold do), then widened.
        rounded = _precisions[-1].dtype(str(sp.Float(v, 40)))
        return Box(_down(rounded), _up(rounded))
    if isinstance(v, np.ndarray) and v.ndim:
        if v.dtype.kind not in "biuf":
            raise TypeError(f"boxes take float arrays as constants, not {v.dtype}")
        return Box(v)
    return Box(float(v))


ONE, MINUS_ONE = Box(1.0), Box(-1.0)


@contextlib.contextmanager
def extended() -> Iterator[None]:
    """Boxes made inside are computed in EXTENDED (which must exist): where float64 overflows or
    underflows (exp(+-1000)), or cancels a few bits short."""
    if EXTENDED is None:
        raise RuntimeError("this platform's long double is float64: no extended precision")
    _precisions.append(EXTENDED)
    try:
        yield
    finally:
        _precisions.pop()


@contextlib.contextmanager
def unrecorded() -> Iterator[None]:
    """Partials are computed off the record: reverse mode never differentiates them again."""
    was, _recording[0] = _recording[0], False
    try:
        yield
    finally:
        _recording[0] = was


def _plain(b: Box) -> Box:
    """The same values without a place in the recorded graph."""
    return Box(b.lo, b.hi, b.tan, of=(b,))


def reciprocal(b: Box) -> Box:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        signed = (b.lo > 0) | (b.hi < 0)
        lo = np.where(signed, _down(1 / b.hi), -np.inf)
        hi = np.where(signed, _up(1 / b.lo), np.inf)
        # -t / m^2 as (-t / m) / m: m^2 overflows (m = e^535) where the quotient is still a normal number.
        r = np.where(signed, 1 / b.mid, np.nan)
        out = Box(lo, hi, _times(_times(b.tan, -r), r), of=(b,))
    if _recording[0]:
        with unrecorded():
            out.parents = ((b, -_square(out)),)
    return out


def power(b: Box, k: Any) -> Box:
    """b**k for an integer k by repeated products; k = 1/2 as sqrt; any other k as exp(k log b)."""
    k = sp.sympify(k)
    if k.is_Integer:
        n = int(k)
        if n < 0:
            return reciprocal(power(b, -n))
        if n == 0:
            return Box(np.ones_like(b.lo), of=(b,))
        if n % 2 == 0:
            return _square(power(b, n // 2))
        return b * power(b, n - 1) if n > 1 else b
    if k == sp.Rational(1, 2):
        out = _monotone(b, np.sqrt, 1, lambda m: 0.5 / np.sqrt(m), lower=0.0)
        if _recording[0]:
            with unrecorded():
                out.parents = ((b, 0.5 * reciprocal(out)),)
        return out
    return exp(box(k) * log(b))


def _square(b: Box) -> Box:
    """b*b without the dependency problem: never negative."""
    with np.errstate(over="ignore", invalid="ignore"):
        lo2, hi2 = b.lo * b.lo, b.hi * b.hi
        straddles = (b.lo < 0) & (b.hi > 0)
        lo = np.where(straddles, 0.0, _down(np.minimum(lo2, hi2)))
        hi = _up(np.maximum(lo2, hi2))
        slope = 2 * b.mid  # past half the largest float: an unbounded tangent, the unit's next tier
    out = Box(np.maximum(lo, 0.0), hi, _times(b.tan, slope), of=(b,))
    if _recording[0]:
        with unrecorded():
            out.parents = ((b, 2 * b),)
    return out


def _monotone(
    b: Box, fn: Any, ulps: int, slope: Any, *, lower: float = -np.inf, within: tuple[float, float] = (-np.inf, np.inf)
) -> Box:
    """An increasing function applied endpoint by endpoint and widened by `ulps`, never past its range
    `within`; `slope` is its derivative (at the middle, for the tangent); below `lower` it is undefined
    (a NaN box)."""
    with np.errstate(all="ignore"):
        defined = b.lo >= lower
        lo = np.where(defined, np.maximum(_down(fn(b.lo), ulps), within[0]), np.nan)
        hi = np.where(defined, np.minimum(_up(fn(b.hi), ulps), within[1]), np.nan)
        return Box(lo, hi, _times(b.tan, np.where(defined, slope(b.mid), np.nan)), of=(b,))


def exp(b: Any) -> Box:
    b = box(b)
    out = _monotone(b, np.exp, _precisions[-1].libm_ulps, np.exp, within=(0.0, np.inf))
    if _recording[0]:
        out.parents = ((b, _plain(out)),)
    return out


def log(b: Any) -> Box:
    b = box(b)
    out = _monotone(b, np.log, _precisions[-1].libm_ulps, lambda m: 1 / m, lower=_precisions[-1].smallest)
    if _recording[0]:
        with unrecorded():
            out.parents = ((b, reciprocal(b)),)
    return out


def log1p(b: Any) -> Box:
    b = box(b)
    p = _precisions[-1]
    out = _monotone(b, np.log1p, p.libm_ulps, lambda m: 1 / (1 + m), lower=np.nextafter(p.dtype(-1), 0))
    if _recording[0]:
        with unrecorded():
            out.parents = ((b, reciprocal(1 + b)),)
    return out


def tanh(b: Any) -> Box:
    b = box(b)
    out = _monotone(b, np.tanh, _precisions[-1].libm_ulps, lambda m: 1 - np.tanh(m) ** 2, within=(-1.0, 1.0))
    if _recording[0]:
        with unrecorded():
            out.parents = ((b, 1 - _square(out)),)
    return out


def sqrt(b: Any) -> Box:
    return power(box(b), sp.Rational(1, 2))


def _indicator(where: np.ndarray, unsure: np.ndarray) -> Box:
    """1 where `where`, 0 elsewhere, [0, 1] where it is undecided."""
    lo = np.where(where & ~unsure, 1.0, 0.0)
    return Box(lo, np.where(where | unsure, 1.0, 0.0))


def Max(*args: Any) -> Box:  # SymPy's name, which the closed forms call
    out = box(args[0])
    for a in args[1:]:
        out = _max2(out, box(a))
    return out


def _max2(a: Box, b: Box) -> Box:
    a_wins, b_wins = a.lo > b.hi, b.lo > a.hi
    # Undecided (a tie at a kink): either one-sided derivative serves a tolerance's magnitude.
    out = Box(np.maximum(a.lo, b.lo), np.maximum(a.hi, b.hi), _pick(~b_wins, a.tan, b.tan), of=(a, b))
    if _recording[0]:
        unsure = ~a_wins & ~b_wins
        out.parents = ((a, _indicator(a_wins, unsure)), (b, _indicator(b_wins, unsure)))
    return out


def Min(*args: Any) -> Box:
    return -Max(*(-box(a) for a in args))


def Piecewise(*pieces: tuple[Any, Any]) -> Box:
    """The first piece whose condition surely holds; NaN where no condition is decided before it."""
    values = [box(v) for v, _ in pieces]
    conds = [np.shape(getattr(c, "true", ())) for _, c in pieces]
    shape = np.broadcast_shapes(*(np.shape(v.lo) for v in values), *conds)
    taken = np.zeros(shape, dtype=bool)
    lo, hi, tan = np.full(shape, np.nan), np.full(shape, np.nan), None
    chosen: list[tuple[Box, np.ndarray]] = []
    for v, (_, cond) in zip(values, pieces, strict=True):
        c = _cond(cond, shape)
        here = ~taken & c.true
        lo, hi = np.where(here, v.lo, lo), np.where(here, v.hi, hi)
        tan = _pick(here, v.tan, tan) if (v.tan is not None or tan is not None) else None
        chosen.append((v, here))
        taken = taken | here | (~c.true & ~c.false)
    out = Box(lo, hi, tan, of=values)
    if _recording[0]:
        out.parents = tuple((v, _indicator(here, np.zeros_like(here))) for v, here in chosen)
    return out


def _cond(cond: Any, shape: tuple[int, ...]) -> Cond:
    if isinstance(cond, Cond):
        return cond
    if cond is True or cond == sp.true:
        return Cond(np.ones(shape, dtype=bool), np.zeros(shape, dtype=bool))
    if cond is False or cond == sp.false:
        return Cond(np.zeros(shape, dtype=bool), np.ones(shape, dtype=bool))
    raise TypeError(f"the fast reference cannot decide the condition {cond!r}")
