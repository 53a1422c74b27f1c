"""Sliding windows over the last two axes: the index map that convolution and pooling share.

`window_index` says which entry of the padded (H + 2ph, W + 2pw) grid each window offset of
each output position reads; bounds, stated gradients and tie rules scatter through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

Pair = tuple[int, int]


def pair(v: int | Sequence[int]) -> Pair:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    a, b = v
    return int(a), int(b)


def out_size(n: int, k: int, s: int, p: int) -> int:
    """floor((n + 2p - k) / s) + 1 positions: the window's last entry stays in the padded input."""
    return (n + 2 * p - k) // s + 1


def pad(x: Any, padding: Pair, value: Any = 0) -> np.ndarray:
    ph, pw = padding
    widths = [(0, 0)] * (np.ndim(x) - 2) + [(ph, ph), (pw, pw)]
    return np.pad(x, widths, mode="constant", constant_values=value)  # type: ignore[no-any-return]


def windows(x: Any, kernel: Pair, stride: Pair, padding: Pair, value: Any = 0) -> np.ndarray:
    """(..., Ho, Wo, kh, kw) views of the padded input; works on float and object arrays."""
    xp = pad(x, padding, value)
    view = np.lib.stride_tricks.sliding_window_view(xp, kernel, axis=(-2, -1))
    return view[..., :: stride[0], :: stride[1], :, :]


def window_index(shape: Pair, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """(Ho, Wo, kh, kw) flat indices into the padded grid, -1 where a window reads padding."""
    h, w = shape
    ph, pw = padding
    grid = np.full((h + 2 * ph, w + 2 * pw), -1, dtype=np.int64)
    grid[ph : ph + h, pw : pw + w] = np.arange(h * w).reshape(h, w)
    return np.ascontiguousarray(windows(grid, kernel, stride, (0, 0)))


def scatter(per_window: np.ndarray, shape: Pair, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """Adds (..., Ho, Wo, kh, kw) window values back onto the (..., H, W) input they read."""
    idx = window_index(shape, kernel, stride, padding)
    lead = per_window.shape[:-4]
    flat = per_window.reshape(*lead, -1)
    where = idx.reshape(-1)
    keep = where >= 0
    moved = np.moveaxis(flat, -1, 0)[keep]
    out = np.zeros((shape[0] * shape[1], *lead), dtype=np.result_type(flat, np.float64))
    np.add.at(out, where[keep], moved)
    return np.moveaxis(out, 0, -1).reshape(*lead, *shape)
