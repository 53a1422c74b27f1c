"""NumPy's array functions on boxes, so that a program's own forward runs on float64 enclosures over whole
arrays (harness/program_boxes.py), one NumPy call per operation and array.

Three kinds of operation, each recorded with a `Link` (its VJP and JVP) for box_graph's two modes:
- index maps (pad, sliding windows, indexing, reshapes, moves, concatenation): every output entry is one
  input entry or a constant. The numpy function itself runs on arrays of entry numbers, so whatever it
  does to the entries, the boxes follow exactly; the VJP adds each adjoint back onto the entry it came
  from, the JVP reads the tangent through the same numbers.
- contractions (tensordot, matmul, einsum) and sums: middle and radius, the middle's float error bounded
  by 2 k u sum |terms| for k terms (k u / (1 - k u) is the classical bound, for any order of summation
  and with fused multiply-adds), every endpoint rounded outward.
- selections (where, maximum, minimum, abs): only where every comparison is decided, as the exact forward's
  branch would be; an undecided one raises boxes.Undecided and the caller falls back to the exact engine.

A function not listed here raises TypeError (NumPy's answer for an unhandled array function): the program
then runs on the exact engine, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from harness import boxes
from harness.boxes import Box, Link

U = 2.0**-53
ETA = 2.0**-1074  # the absolute error of a product that underflows
HANDLED: dict[Any, Callable[..., Any]] = {}


def handles(*funcs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for f in funcs:
            HANDLED[f] = fn
        return fn

    return register


def _point(b: Box) -> bool:
    return b.lo is b.hi


def _made(lo: np.ndarray, hi: np.ndarray, point: bool, links: tuple[tuple[Box, Link], ...]) -> Box:
    out = Box(lo) if point else Box(lo, hi)
    if boxes._recording[0]:
        out.parents = links
    return out


# Index maps ---------------------------------------------------------------------------------------------


class _Gather(Link):
    """out.flat[i] = source.flat[index.flat[i]], or the constant where index is -1."""

    def __init__(self, index: np.ndarray, size: int, shape: tuple[int, ...]) -> None:
        self.index, self.size, self.shape = index, size, shape
        flat = index.reshape(-1)
        self.keep = flat >= 0
        self.where = flat[self.keep]
        counts = np.bincount(self.where, minlength=size)
        self.most = int(counts.max()) if counts.size else 0

    def back(self, adjoint: Box) -> Box:
        a = broadcast(adjoint, self.index.shape)
        lo = np.asarray(a.lo).reshape(-1)[self.keep]
        hi = lo if _point(a) else np.asarray(a.hi).reshape(-1)[self.keep]
        if self.most <= 1:  # a permutation of some entries: no sums, nothing rounded
            out_lo, out_hi = np.zeros(self.size), np.zeros(self.size)
            out_lo[self.where], out_hi[self.where] = lo, hi
            return Box(out_lo.reshape(self.shape), out_hi.reshape(self.shape))
        s_lo = np.bincount(self.where, lo, self.size)
        s_hi = s_lo if lo is hi else np.bincount(self.where, hi, self.size)
        err_lo = np.bincount(self.where, np.abs(lo), self.size)
        err_hi = err_lo if lo is hi else np.bincount(self.where, np.abs(hi), self.size)
        return _sum_box(s_lo, s_hi, err_lo, err_hi, self.most, self.shape)

    def ahead(self, tangent: Box) -> Box:
        return _gather(broadcast(tangent, self.shape), self.index, 0.0)


def _gather(b: Box, index: np.ndarray, fill: float) -> Box:
    flat_lo, flat_hi = b.lo.reshape(-1), b.hi.reshape(-1)
    safe = np.maximum(index, 0)
    lo = np.where(index >= 0, flat_lo[safe], fill)
    hi = lo if _point(b) else np.where(index >= 0, flat_hi[safe], fill)
    return Box(lo) if lo is hi else Box(lo, hi)


def _index_map(
    fn: Callable[..., Any], sources: list[Box], call: Callable[[list[np.ndarray]], Any], fill: float = 0.0
) -> Box:
    """Runs `call` on arrays of entry numbers in place of `sources`; -1 marks the constant `fill`."""
    numbers, start = [], 0
    for s in sources:
        numbers.append(np.arange(start, start + s.size).reshape(s.shape))
        start += s.size
    index = np.asarray(call(numbers))
    if index.dtype.kind not in "iu":
        raise TypeError(f"{getattr(fn, '__name__', fn)} did not keep the entries of its boxes")
    index = np.array(index, order="C")  # ascontiguousarray would make a 0-d index 1-d
    lo_parts = [np.broadcast_to(s.lo, s.shape).reshape(-1) for s in sources]
    hi_parts = [np.broadcast_to(s.hi, s.shape).reshape(-1) for s in sources]
    point = all(_point(s) for s in sources)
    joined = Box(np.concatenate(lo_parts)) if point else Box(np.concatenate(lo_parts), np.concatenate(hi_parts))
    out = _gather(joined, index, fill)
    links: list[tuple[Box, Link]] = []
    start = 0
    for s in sources:
        local = np.where((index >= start) & (index < start + s.size), index - start, -1)
        links.append((s, _Gather(local, s.size, s.shape)))
        start += s.size
    return _made(out.lo, out.hi, point, tuple(links))


def _numbers_for(args: Any, numbers: dict[int, np.ndarray]) -> Any:
    if isinstance(args, Box):
        return numbers[id(args)]
    if isinstance(args, (list, tuple)):
        return type(args)(_numbers_for(a, numbers) for a in args)
    return args


def _boxes_in(args: Any) -> list[Box]:
    if isinstance(args, Box):
        return [args]
    if isinstance(args, (list, tuple)):
        return [b for a in args for b in _boxes_in(a)]
    return []


def index_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` (a NumPy function that only moves entries) lifted to boxes: constants among its array
    arguments become point boxes."""

    def lifted(*args: Any, **kwargs: Any) -> Box:
        found = {id(b): b for b in _boxes_in(list(args))}
        sources = list(found.values())

        def call(numbers: list[np.ndarray]) -> Any:
            by_id = dict(zip(found, numbers, strict=True))
            return fn(*_numbers_for(list(args), by_id), **kwargs)

        return _index_map(fn, sources, call)

    return lifted


for _fn in (
    np.moveaxis,
    np.transpose,
    np.reshape,
    np.ravel,
    np.expand_dims,
    np.squeeze,
    np.broadcast_to,
    np.swapaxes,
    np.ascontiguousarray,
    np.lib.stride_tricks.sliding_window_view,
    np.flip,
    np.take,
    np.take_along_axis,
):
    HANDLED[_fn] = index_function(_fn)


def _join(fn: Callable[..., Any]) -> Callable[..., Any]:
    """concatenate and stack: the arrays they join may be constants, which join as point boxes."""
    lifted = index_function(fn)
    return lambda arrays, *args, **kwargs: lifted([as_box(a) for a in arrays], *args, **kwargs)


HANDLED[np.concatenate] = _join(np.concatenate)
HANDLED[np.stack] = _join(np.stack)


@handles(np.pad)
def pad(array: Box, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Box:
    if mode != "constant" or np.ndim(constant_values) != 0:
        raise TypeError("boxes are padded with one constant only")
    fill = float(constant_values)
    return _index_map(np.pad, [array], lambda n: np.pad(n[0], pad_width, constant_values=-1), fill)


def getitem(b: Box, key: Any) -> Box:
    if _boxes_in(key if isinstance(key, tuple) else (key,)):
        raise TypeError("boxes cannot index by boxes")
    return _index_map(getitem, [b], lambda n: n[0][key])


def broadcast(b: Box, shape: tuple[int, ...]) -> Box:
    """The same box broadcast to `shape` (views: no copy, nothing recorded)."""
    if b.shape == tuple(shape):
        return b
    lo = np.broadcast_to(b.lo, shape)
    return Box(lo) if _point(b) else Box(lo, np.broadcast_to(b.hi, shape))


def unbroadcast(b: Box, shape: tuple[int, ...]) -> Box:
    """`b` summed over the axes that broadcasting added to `shape` (an adjoint back onto its input)."""
    if b.shape == tuple(shape):
        return b
    extra = b.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape) if n == 1 and b.shape[i + extra] != 1)
    with boxes.unrecorded():
        summed = box_sum(b, axis=axes, keepdims=True)
    lo = summed.lo.reshape(shape)
    return Box(lo) if _point(summed) else Box(lo, summed.hi.reshape(shape))


# Sums and contractions -----------------------------------------------------------------------------------


def _sum_box(
    s_lo: np.ndarray, s_hi: np.ndarray, abs_lo: np.ndarray, abs_hi: np.ndarray, terms: int, shape: tuple[int, ...]
) -> Box:
    """Float sums whose terms went through at most `terms` additions, widened by their rounding error:
    twice that many u times sum |term| (the classical bound, and a factor 2 for the |terms|' own sums)."""
    with np.errstate(invalid="ignore", over="ignore"):
        k = 2.0 * (terms + 1) * U
        lo = boxes._down(s_lo - boxes._up(abs_lo * k))
        hi = boxes._up(s_hi + boxes._up(abs_hi * k))
    return Box(lo.reshape(shape), hi.reshape(shape))


@handles(np.sum)
def box_sum(a: Box, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Box:
    if dtype is not None or out is not None or kwargs:
        raise TypeError("np.sum over boxes takes axis and keepdims only")
    a = as_box(a)
    axes = tuple(range(a.ndim)) if axis is None else tuple(int(i) % max(a.ndim, 1) for i in np.atleast_1d(axis))
    terms = int(np.prod([a.shape[i] for i in axes])) if axes else 1
    with np.errstate(invalid="ignore", over="ignore"):
        lo, depth = tree_sum(np.broadcast_to(a.lo, a.shape), axes, keepdims)
        alo, _ = tree_sum(np.abs(np.broadcast_to(a.lo, a.shape)), axes, keepdims)
        if _point(a):
            hi, ahi = lo, alo
        else:
            hi, _ = tree_sum(np.broadcast_to(a.hi, a.shape), axes, keepdims)
            ahi, _ = tree_sum(np.abs(np.broadcast_to(a.hi, a.shape)), axes, keepdims)
    out = _sum_box(lo, hi, alo, ahi, depth, np.shape(lo)) if terms > 1 else Box(lo, hi)
    if boxes._recording[0]:
        out.parents = ((a, _Summed(a.shape, axes, keepdims)),)
    return out


CHUNK = 64


def tree_sum(x: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> tuple[np.ndarray, int]:
    """The sum over `axes` in chunks of CHUNK, then the chunks' sums added pairwise, and the most additions
    any term went through (chunk - 1 + the tree's depth): the float sum's error is at most that many u
    times the sum of |terms|, whatever order NumPy adds a chunk in. A sum over k terms in one call would
    carry k u; a long sum (a weight gradient over 10^5 positions) then fills float64's own tolerance."""
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, kept + list(axes))
    lead = moved.shape[: len(kept)]
    flat = moved.reshape(*lead, -1)
    total, depth = _tree(flat)
    if keepdims:
        total = np.expand_dims(total, axes) if axes else total
    return total, depth


def _tree(flat: np.ndarray) -> tuple[np.ndarray, int]:
    """Sums over the last axis of `flat`; see tree_sum."""
    k = flat.shape[-1]
    if k <= CHUNK:
        return flat.sum(axis=-1), max(k - 1, 0)
    n = -(-k // CHUNK)
    padded = np.concatenate([flat, np.zeros((*flat.shape[:-1], n * CHUNK - k))], axis=-1)
    partial = np.moveaxis(padded.reshape(*flat.shape[:-1], n, CHUNK).sum(axis=-1), -1, 0)
    return _pairwise(partial), CHUNK - 1 + int(np.ceil(np.log2(n)))


def _pairwise(partial: np.ndarray) -> np.ndarray:
    """Adds the entries along axis 0 in a balanced tree: ceil(log2 n) additions per term."""
    while partial.shape[0] > 1:
        if partial.shape[0] % 2:
            partial = np.concatenate([partial, np.zeros((1, *partial.shape[1:]))])
        partial = partial[0::2] + partial[1::2]
    return partial[0]


@handles(np.mean)
def mean(a: Box, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Box:
    total = box_sum(a, axis, dtype, out, keepdims, **kwargs)
    return total / (a.size / max(total.size, 1))


class _Summed(Link):
    def __init__(self, shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> None:
        self.shape, self.axes, self.keepdims = shape, axes, keepdims

    def back(self, adjoint: Box) -> Box:
        kept = adjoint if self.keepdims else _plain_expand(adjoint, self.axes)
        return broadcast(kept, self.shape)

    def ahead(self, tangent: Box) -> Box:
        with boxes.unrecorded():
            return box_sum(broadcast(tangent, self.shape), axis=self.axes, keepdims=self.keepdims)


def _plain_expand(b: Box, axes: tuple[int, ...]) -> Box:
    lo = np.expand_dims(b.lo, axes) if np.ndim(b.lo) else b.lo
    hi = lo if _point(b) else (np.expand_dims(b.hi, axes) if np.ndim(b.hi) else b.hi)
    return Box(lo) if lo is hi else Box(lo, hi)


def contract(subscripts: str, a: Any, b: Any) -> Box:
    """einsum(subscripts, a, b) of two boxes (or a box and an array): one index in each operand at most
    once, every index of an operand in the other operand or the output (so both VJPs are contractions)."""
    a, b = as_box(a), as_box(b)
    ins, out_subs = subscripts.replace(" ", "").split("->")
    sa, sb = ins.split(",")
    sizes = dict(zip(sa, a.shape, strict=True)) | dict(zip(sb, b.shape, strict=True))
    if len(set(sa)) < len(sa) or len(set(sb)) < len(sb) or any(c not in sb + out_subs for c in sa):
        raise TypeError(f"boxes contract without diagonals or lone sums, not {subscripts}")
    if any(c not in sa + out_subs for c in sb):
        raise TypeError(f"boxes contract without diagonals or lone sums, not {subscripts}")
    terms = int(np.prod([sizes[c] for c in set(sa + sb) - set(out_subs)]))
    lo, hi = _contract(f"{sa},{sb}->{out_subs}", a, b, terms)
    out = _made(lo, hi, False, ())
    if boxes._recording[0]:
        out.parents = (
            (a, _Contracted(f"{out_subs},{sb}->{sa}", b, first=True)),
            (b, _Contracted(f"{sa},{out_subs}->{sb}", a, first=False)),
        )
    return out


def _einsum(subscripts: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.einsum(subscripts, x, y, optimize=True)


def _contract(subscripts: str, a: Box, b: Box, terms: int) -> tuple[np.ndarray, np.ndarray]:
    """Middle +- radius: the middles' float contraction, its rounding error and both radii's share."""
    with np.errstate(invalid="ignore", over="ignore"):
        ma, mb = np.broadcast_to(a.mid, a.shape), np.broadcast_to(b.mid, b.shape)
        mid, additions = _chunked(subscripts, ma, mb)
        aa, ab = np.abs(ma), np.abs(mb)
        # Each term is one rounded product that then goes through `additions` roundings.
        spread = _einsum(subscripts, aa, ab) * (2.0 * (additions + 2) * U)
        if not _point(a):
            ra = np.broadcast_to(a.radius, a.shape)
            spread = spread + _einsum(subscripts, ra, ab + (0 if _point(b) else np.broadcast_to(b.radius, b.shape)))
        if not _point(b):
            spread = spread + _einsum(subscripts, aa, np.broadcast_to(b.radius, b.shape))
        # Every term above is a sum of non-negative floats: rounded, it is short by at most 2 k u of itself.
        # Below the normal range a product is rounded by up to ETA / 2 apart from any relative error: in
        # the middles' products and in the spread's own (the radius terms).
        spread = boxes._up(spread * (1.0 + 2.0 * (terms + 4) * U) + (2 * terms + 2) * ETA, 2)
        lo, hi = boxes._down(mid - spread), boxes._up(mid + spread)
        bad = ~np.isfinite(lo) | ~np.isfinite(hi)
    return np.where(bad, -np.inf, lo), np.where(bad, np.inf, hi)


def _chunked(subscripts: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
    """The contraction in float64 and the most additions any of its products went through: one einsum
    up to CHUNK terms; beyond, matrix products over chunks of CHUNK terms added pairwise (tree_sum)."""
    ins, out = subscripts.split("->")
    sa, sb = ins.split(",")
    summed = [c for c in sa if c in sb and c not in out]
    sizes = dict(zip(sa, x.shape, strict=True)) | dict(zip(sb, y.shape, strict=True))
    k = int(np.prod([sizes[c] for c in summed]))
    if k <= CHUNK:
        return _einsum(subscripts, x, y), max(k - 1, 0)
    batch = [c for c in sa if c in sb and c in out]
    fa, fb = [c for c in sa if c not in sb], [c for c in sb if c not in sa]
    size = lambda letters: int(np.prod([sizes[c] for c in letters]))  # noqa: E731
    left = np.einsum(f"{sa}->{''.join(batch + fa + summed)}", x).reshape(size(batch), size(fa), k)
    right = np.einsum(f"{sb}->{''.join(batch + summed + fb)}", y).reshape(size(batch), k, size(fb))
    n = -(-k // CHUNK)
    left = np.concatenate([left, np.zeros((*left.shape[:2], n * CHUNK - k))], axis=2)
    right = np.concatenate([right, np.zeros((right.shape[0], n * CHUNK - k, right.shape[2]))], axis=1)
    partial = np.matmul(
        left.reshape(left.shape[0], left.shape[1], n, CHUNK).transpose(2, 0, 1, 3),
        right.reshape(right.shape[0], n, CHUNK, right.shape[2]).transpose(1, 0, 2, 3),
    )  # (n, batch, fa, fb): one chunk's sum each
    total = _pairwise(partial).reshape([sizes[c] for c in batch + fa + fb])
    return np.einsum(f"{''.join(batch + fa + fb)}->{out}", total), CHUNK - 1 + int(np.ceil(np.log2(n)))


class _Contracted(Link):
    """The VJP and JVP of one operand of a contraction: contractions with the other operand."""

    def __init__(self, back_subscripts: str, other: Box, *, first: bool) -> None:
        self.back_subscripts, self.other, self.first = back_subscripts, other, first

    def back(self, adjoint: Box) -> Box:
        with boxes.unrecorded():
            if self.first:
                return contract(self.back_subscripts, adjoint, self.other)
            return contract(self.back_subscripts, self.other, adjoint)

    def ahead(self, tangent: Box) -> Box:
        # The forward's own subscripts, read back from the VJP's: out = contract(a, b).
        ins, target = self.back_subscripts.split("->")
        x, y = ins.split(",")
        with boxes.unrecorded():
            if self.first:  # back = "out,b->a": forward is "a,b->out"
                return contract(f"{target},{y}->{x}", tangent, self.other)
            return contract(f"{x},{target}->{y}", self.other, tangent)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@handles(np.tensordot)
def tensordot(a: Any, b: Any, axes: Any = 2) -> Box:
    a, b = as_box(a), as_box(b)
    if isinstance(axes, (int, np.integer)):
        ax_a, ax_b = list(range(a.ndim - int(axes), a.ndim)), list(range(int(axes)))
    else:
        ax_a, ax_b = [list(np.atleast_1d(x)) for x in axes]
    ax_a, ax_b = [int(i) % a.ndim for i in ax_a], [int(i) % b.ndim for i in ax_b]
    sa = list(_LETTERS[: a.ndim])
    sb = list(_LETTERS[a.ndim : a.ndim + b.ndim])
    for i, j in zip(ax_a, ax_b, strict=True):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in ax_a] + [c for j, c in enumerate(sb) if j not in ax_b]
    return contract(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)


@handles(np.matmul)
def matmul(a: Any, b: Any) -> Box:
    a, b = as_box(a), as_box(b)
    if a.ndim > 2 or b.ndim > 2 or a.ndim == 0 or b.ndim == 0:
        raise TypeError("boxes multiply matrices and vectors only")
    sa = "ij"[2 - a.ndim :] if a.ndim == 2 else "j"
    sb = "jk" if b.ndim == 2 else "j"
    out = sa.replace("j", "") + sb.replace("j", "")
    return contract(f"{sa},{sb}->{out}", a, b)


@handles(np.outer)
def outer(a: Any, b: Any) -> Box:
    return contract("i,j->ij", np.ravel(as_box(a)), np.ravel(as_box(b)))


@handles(np.einsum)
def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> Box:
    if len(operands) != 2 or "..." in subscripts or "->" not in subscripts:
        raise TypeError("boxes take einsum of two operands with explicit output subscripts")
    return contract(subscripts, *operands)


# Selections ---------------------------------------------------------------------------------------------


class _Selected(Link):
    """The adjoint goes where the entry was taken from."""

    def __init__(self, mask: np.ndarray, shape: tuple[int, ...]) -> None:
        self.mask, self.shape = mask, shape

    def back(self, adjoint: Box) -> Box:
        return unbroadcast(_masked(broadcast(adjoint, self.mask.shape), self.mask), self.shape)

    def ahead(self, tangent: Box) -> Box:
        return _masked(broadcast(tangent, self.mask.shape), self.mask)


def _masked(b: Box, mask: np.ndarray) -> Box:
    lo = np.where(mask, b.lo, 0.0)
    return Box(lo) if _point(b) else Box(lo, np.where(mask, b.hi, 0.0))


@handles(np.max, np.amax)
def box_max(a: Any, axis: Any = None, keepdims: bool = False) -> Box:
    """The largest entry along `axis`, where one entry surely exceeds every other (a tie, or boxes too
    close to tell, is undecided: the exact engine judges it)."""
    return _extreme(as_box(a), axis, keepdims, 1.0)


@handles(np.min, np.amin)
def box_min(a: Any, axis: Any = None, keepdims: bool = False) -> Box:
    return _extreme(as_box(a), axis, keepdims, -1.0)


def _extreme(a: Box, axis: Any, keepdims: bool, sign: float) -> Box:
    if boxes._comparing[0] == "refuse":
        raise TypeError("a running-error bound is linear in its cotangent: it must not take its max")
    if axis is None:
        whole = _extreme(a.ravel(), 0, False, sign)
        return whole.reshape((1,) * a.ndim) if keepdims else whole
    if not isinstance(axis, (int, np.integer)):
        raise TypeError("boxes take a max or min along one axis")
    axis = int(axis) % a.ndim
    lo, hi = (sign * np.broadcast_to(a.lo, a.shape), sign * np.broadcast_to(a.hi, a.shape))
    if sign < 0:
        lo, hi = hi, lo
    best = np.expand_dims(np.argmax(hi, axis=axis), axis)
    rest = hi.copy()
    np.put_along_axis(rest, best, -np.inf, axis=axis)
    if a.shape[axis] > 1 and not np.all(np.take_along_axis(lo, best, axis) > np.max(rest, axis=axis, keepdims=True)):
        raise boxes.Undecided("the largest entry of a box array is undecided")
    taken = _index_map(np.max, [a], lambda n: np.take_along_axis(n[0], best, axis))
    return taken if keepdims else _index_map(np.squeeze, [taken], lambda n: np.squeeze(n[0], axis))


@handles(np.sort)
def box_sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None) -> Box:
    """The entries in increasing order along `axis`, where every neighbour surely exceeds the one before
    (a tie, or boxes too close to tell, is undecided: the exact engine judges it)."""
    a = as_box(a)
    if boxes._comparing[0] == "refuse":
        raise TypeError("a running-error bound is linear in its cotangent: it must not sort it")
    if axis is None:
        a, axis = a.ravel(), 0
    axis = int(axis) % a.ndim
    ranks = np.argsort(np.broadcast_to(a.mid, a.shape), axis=axis, kind="stable")
    lo = np.take_along_axis(np.broadcast_to(a.lo, a.shape), ranks, axis)
    hi = np.take_along_axis(np.broadcast_to(a.hi, a.shape), ranks, axis)
    n = a.shape[axis]
    if n > 1 and not np.all(np.take(lo, range(1, n), axis) > np.take(hi, range(n - 1), axis)):
        raise boxes.Undecided("the order of a box array's entries is undecided")
    return _index_map(np.sort, [a], lambda numbers: np.take_along_axis(numbers[0], ranks, axis))


@handles(np.where)
def where(cond: Any, a: Any, b: Any) -> Box:
    if isinstance(cond, Box) or not isinstance(cond, (np.ndarray, bool, np.bool_)):
        raise TypeError("np.where over boxes needs a decided condition")
    a, b = as_box(a), as_box(b)
    shape = np.broadcast_shapes(np.shape(cond), a.shape, b.shape)
    mask = np.broadcast_to(np.asarray(cond, dtype=bool), shape)  # ~ of an int mask would be a bitwise not
    lo = np.where(mask, a.lo, b.lo)
    point = _point(a) and _point(b)
    hi = lo if point else np.where(mask, a.hi, b.hi)
    return _made(lo, hi, point, ((a, _Selected(mask, a.shape)), (b, _Selected(~mask, b.shape))))


@handles(np.maximum)
def maximum(a: Any, b: Any) -> Box:
    a, b = as_box(a), as_box(b)
    return where(a >= b, a, b)


@handles(np.minimum)
def minimum(a: Any, b: Any) -> Box:
    a, b = as_box(a), as_box(b)
    return where(a <= b, a, b)


@handles(np.abs, np.absolute)
def absolute(a: Any) -> Box:
    """|a| where each entry's sign is decided (0 counts as positive: the right derivative, as the exact
    engine's); a bound's |cotangent| too, where comparisons are refused."""
    a = as_box(a)
    positive, negative = a.lo >= 0, a.hi <= 0
    if not np.all(positive | negative):
        raise boxes.Undecided("the sign of a box is undecided")
    return where(np.asarray(positive), a, -a)


HANDLED[np.ndim] = lambda a: a.ndim
HANDLED[np.shape] = lambda a: a.shape
HANDLED[np.size] = lambda a, axis=None: a.size if axis is None else a.shape[axis]


def as_box(v: Any) -> Box:
    """A box, or an array of constants as a point box (an object array is refused)."""
    if isinstance(v, Box):
        return v
    arr = np.asarray(v)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"boxes take float arrays as constants, not {arr.dtype}")
    return Box(arr.astype(np.float64))


UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: lambda a, b: as_box(a) + b,
    np.subtract: lambda a, b: as_box(a) - b,
    np.multiply: lambda a, b: as_box(a) * b,
    np.true_divide: lambda a, b: as_box(a) / b,
    np.negative: lambda a: -as_box(a),
    np.positive: lambda a: as_box(a),
    np.maximum: maximum,
    np.minimum: minimum,
    np.absolute: absolute,
    np.exp: boxes.exp,
    np.log: boxes.log,
    np.log1p: boxes.log1p,
    np.tanh: boxes.tanh,
    np.sqrt: boxes.sqrt,
    np.matmul: matmul,
    np.greater: lambda a, b: as_box(a) > b,
    np.greater_equal: lambda a, b: as_box(a) >= b,
    np.less: lambda a, b: as_box(a) < b,
    np.less_equal: lambda a, b: as_box(a) <= b,
}
