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


def readers(shape: Pair, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """(H * W, R) flat window-entry numbers that read each input entry, in ascending order, padded with
    the number one past the last window entry (a zero slot)."""
    idx = window_index(shape, kernel, stride, padding).reshape(-1)
    keep = np.flatnonzero(idx >= 0)
    order = np.argsort(idx[keep], kind="stable")
    entries, positions = keep[order], idx[keep][order]
    counts = np.bincount(positions, minlength=shape[0] * shape[1])
    width = int(counts.max()) if counts.size else 0
    out = np.full((shape[0] * shape[1], max(width, 1)), idx.size, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(entries.size) - np.repeat(starts, counts)
    out[positions, slot] = entries
    return out


def scatter(per_window: Any, shape: Pair, kernel: Pair, stride: Pair, padding: Pair) -> Any:
    """Adds (..., Ho, Wo, kh, kw) window values back onto the (..., H, W) input they read: each input
    entry gathers its readers and sums them, so float, object and box arrays all take the same path."""
    lead = per_window.shape[:-4]
    flat = per_window.reshape(*lead, -1)
    with_zero = np.concatenate([flat, np.zeros((*lead, 1))], axis=-1)
    return with_zero[..., readers(shape, kernel, stride, padding)].sum(axis=-1).reshape(*lead, *shape)
