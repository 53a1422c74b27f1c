"""The NumPy reference for reductions over a dim: values, indices and hand-written backward.

Selections (max, min, kthvalue, topk) pick indices with a stable argsort, so a tie goes to the
lowest index, and route the cotangent back to exactly those indices.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _back(c: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    return c if keepdim else np.expand_dims(c, dim)


def sum_dim(x: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    return x.sum(axis=dim, keepdims=keepdim)  # type: ignore[no-any-return]


def sum_dim_vjp(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    return (np.broadcast_to(_back(c, dim, keepdim), x.shape).copy(),)


def mean_dim(x: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    return x.mean(axis=dim, keepdims=keepdim)  # type: ignore[no-any-return]


def mean_dim_vjp(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    return (np.broadcast_to(_back(c, dim, keepdim) / x.shape[dim], x.shape).copy(),)


def norm1_dim(x: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    return np.abs(x).sum(axis=dim, keepdims=keepdim)  # type: ignore[no-any-return]


def norm1_dim_vjp(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    return (_back(c, dim, keepdim) * np.sign(x),)  # sign(0) = 0, a subgradient


def _scaled(x: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """x / max|x| per slice and that scale: the squares then neither underflow nor overflow."""
    scale = np.abs(x).max(axis=dim, keepdims=True)
    return np.divide(x, scale, out=np.zeros_like(x), where=scale > 0), scale


def norm2_dim(x: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    y, scale = _scaled(x, dim)
    norm = scale * np.sqrt((y * y).sum(axis=dim, keepdims=True))
    return norm if keepdim else norm.squeeze(dim)  # type: ignore[no-any-return]


def norm2_dim_vjp(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    y, _ = _scaled(x, dim)
    length = np.sqrt((y * y).sum(axis=dim, keepdims=True))
    unit = np.divide(y, length, out=np.zeros_like(y), where=length > 0)  # 0 at a zero slice: in the ball
    return (_back(c, dim, keepdim) * unit,)


def select(x: np.ndarray, dim: int, kind: str, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(values, indices) with the selected axis last: max/min/kthvalue give one, topk gives k."""
    moved = np.moveaxis(x, dim, -1)
    if kind == "max":
        idx = np.argsort(-moved, axis=-1, kind="stable")[..., :1]
    elif kind == "min":
        idx = np.argsort(moved, axis=-1, kind="stable")[..., :1]
    elif kind == "kthvalue":
        idx = np.argsort(moved, axis=-1, kind="stable")[..., k - 1 : k]
    elif kind == "topk":
        idx = np.argsort(-moved, axis=-1, kind="stable")[..., :k]
    else:
        raise ValueError(f"unknown selection {kind!r}; valid: max, min, kthvalue, topk")
    return np.take_along_axis(moved, idx, axis=-1), idx


def _shaped(v: np.ndarray, dim: int, keepdim: bool, single: bool) -> np.ndarray:
    """A selection's (..., k) result back in torch's layout."""
    if single and not keepdim:
        return v[..., 0]
    return np.moveaxis(v, -1, dim)


def _route(x: np.ndarray, c: np.ndarray, dim: int, idx: np.ndarray, keepdim: bool, single: bool) -> np.ndarray:
    c_moved = c[..., None] if single and not keepdim else np.moveaxis(c, dim, -1)
    g = np.zeros(np.moveaxis(x, dim, -1).shape, dtype=np.result_type(x, c))  # the inputs' dtype, as torch keeps it
    np.put_along_axis(g, idx, c_moved, axis=-1)
    return np.moveaxis(g, -1, dim)


def with_indices(
    x: np.ndarray, dim: int, kind: str, keepdim: bool = False, k: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Values and indices in torch's layout (torch.max(x, dim), torch.topk(x, k, dim), ...)."""
    v, idx = select(x, dim, kind, k)
    single = kind != "topk"
    return _shaped(v, dim, keepdim, single), _shaped(idx, dim, keepdim, single)


def _selection(kind: str) -> tuple[Callable[..., np.ndarray], Callable[..., tuple[np.ndarray]]]:
    def forward(x: np.ndarray, dim: int, keepdim: bool = False, k: int = 1) -> np.ndarray:
        return with_indices(x, dim, kind, keepdim, k)[0]

    def vjp(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool = False, k: int = 1) -> tuple[np.ndarray]:
        _, idx = select(x, dim, kind, k)
        return (_route(x, c, dim, idx, keepdim, kind != "topk"),)

    return forward, vjp


STAT_OPS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., tuple[np.ndarray, ...]]]] = {
    "sum_dim": (sum_dim, sum_dim_vjp),
    "mean_dim": (mean_dim, mean_dim_vjp),
    "norm1_dim": (norm1_dim, norm1_dim_vjp),
    "norm2_dim": (norm2_dim, norm2_dim_vjp),
    "max_dim": _selection("max"),
    "min_dim": _selection("min"),
    "kthvalue": _selection("kthvalue"),
    "topk": _selection("topk"),
}
