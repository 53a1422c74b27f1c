"""A minimal NumPy forward and vjp for the catalog's convolution, pooling, Inception and residual blocks and
reductions over a dim, in the form `gradproof verify --impl` takes; see op_examples.py for how they are
printed and checked. Images are (N, C, H, W) and kernels (out, in, kh, kw), as torch lays them out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Pair = tuple[int, int]  # (along H, along W)


def _pad(x: np.ndarray, padding: Pair, fill: float) -> np.ndarray:
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)


def _crop(padded: np.ndarray, padding: Pair) -> np.ndarray:
    ph, pw = padding
    return padded[..., ph : padded.shape[-2] - ph, pw : padded.shape[-1] - pw]


def _taps(shape: tuple[int, ...], kernel: Pair, stride: Pair) -> list[tuple[int, int, tuple[Any, ...]]]:
    """For each offset (i, j) in the window: the strided slice of the padded input that offset reads, one
    entry per output position; floor((H + 2 ph - kh) / sh) + 1 positions along H."""
    (kh, kw), (sh, sw) = kernel, stride
    ho, wo = (shape[-2] - kh) // sh + 1, (shape[-1] - kw) // sw + 1
    return [
        (i, j, (..., slice(i, i + sh * (ho - 1) + 1, sh), slice(j, j + sw * (wo - 1) + 1, sw)))
        for i in range(kh)
        for j in range(kw)
    ]


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Pair, padding: Pair) -> np.ndarray:
    """Cross-correlation as torch's F.conv2d (no kernel flip): x (N, C, H, W), w (O, C, kh, kw), b (O,)."""
    xp = _pad(x, padding, 0.0)
    taps = _taps(xp.shape, w.shape[2:], stride)
    return sum(np.einsum("nchw,oc->nohw", xp[s], w[:, :, i, j]) for i, j, s in taps) + b[:, None, None]


def _conv_vjp(
    x: np.ndarray, w: np.ndarray, cotangent: np.ndarray, stride: Pair, padding: Pair
) -> tuple[np.ndarray, ...]:
    xp = _pad(x, padding, 0.0)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i, j, s in _taps(xp.shape, w.shape[2:], stride):
        dxp[s] += np.einsum("nohw,oc->nchw", cotangent, w[:, :, i, j])
        dw[:, :, i, j] = np.einsum("nohw,nchw->oc", cotangent, xp[s])
    return _crop(dxp, padding), dw, cotangent.sum(axis=(0, 2, 3))  # (dx, dw, db)


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Pair, padding: Pair) -> np.ndarray:
    return _conv(x, w, b, stride, padding)


def conv2d_vjp(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, cotangent: np.ndarray, stride: Pair, padding: Pair
) -> tuple[np.ndarray, ...]:
    return _conv_vjp(x, w, cotangent, stride, padding)


def _windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, fill: float) -> np.ndarray:
    """(kh * kw, N, C, Ho, Wo): every window's entries, offset by offset in row-major order."""
    xp = _pad(x, padding, fill)
    return np.stack([xp[s] for _, _, s in _taps(xp.shape, kernel, stride)])


def max_pool2d(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    return _windows(x, kernel, stride, padding, -np.inf).max(axis=0)  # padding is -inf: never the maximum


def max_pool2d_vjp(
    x: np.ndarray, cotangent: np.ndarray, kernel: Pair, stride: Pair, padding: Pair
) -> tuple[np.ndarray]:
    # The window's first maximum takes its whole cotangent; at a tie any split among the tied entries is right.
    top = _windows(x, kernel, stride, padding, -np.inf).argmax(axis=0)
    dxp = np.zeros_like(_pad(x, padding, 0.0))
    for k, (_, _, s) in enumerate(_taps(dxp.shape, kernel, stride)):
        dxp[s] += np.where(top == k, cotangent, 0)
    return (_crop(dxp, padding),)


def _avg_pool(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    # The padded zeros count in the average (torch's count_include_pad=True): the divisor is always kh kw.
    return _windows(x, kernel, stride, padding, 0.0).sum(axis=0) / (kernel[0] * kernel[1])


def _avg_pool_vjp(x: np.ndarray, cotangent: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    dxp = np.zeros_like(_pad(x, padding, 0.0))
    for _, _, s in _taps(dxp.shape, kernel, stride):
        dxp[s] += cotangent / (kernel[0] * kernel[1])
    return _crop(dxp, padding)


def avg_pool2d(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    return _avg_pool(x, kernel, stride, padding)


def avg_pool2d_vjp(
    x: np.ndarray, cotangent: np.ndarray, kernel: Pair, stride: Pair, padding: Pair
) -> tuple[np.ndarray]:
    return (_avg_pool_vjp(x, cotangent, kernel, stride, padding),)


def inception_block(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w3: np.ndarray, b3: np.ndarray, wp: np.ndarray, bp: np.ndarray
) -> np.ndarray:
    """Output channels: the 1x1 branch's, the 3x3 (padding 1) branch's, then the pool branch's: a 3x3 average
    pool (stride 1, padding 1, the padding counted in the average) followed by a 1x1 convolution."""
    pooled = _avg_pool(x, (3, 3), (1, 1), (1, 1))
    branches = [
        _conv(x, w1, b1, (1, 1), (0, 0)),
        _conv(x, w3, b3, (1, 1), (1, 1)),
        _conv(pooled, wp, bp, (1, 1), (0, 0)),
    ]
    return np.concatenate(branches, axis=1)


def inception_block_vjp(
    x: np.ndarray,
    w1: np.ndarray,
    b1: np.ndarray,
    w3: np.ndarray,
    b3: np.ndarray,
    wp: np.ndarray,
    bp: np.ndarray,
    cotangent: np.ndarray,
) -> tuple[np.ndarray, ...]:
    o1, o3 = w1.shape[0], w3.shape[0]  # each branch gets the cotangent of its own channels
    dx1, dw1, db1 = _conv_vjp(x, w1, cotangent[:, :o1], (1, 1), (0, 0))
    dx3, dw3, db3 = _conv_vjp(x, w3, cotangent[:, o1 : o1 + o3], (1, 1), (1, 1))
    pooled = _avg_pool(x, (3, 3), (1, 1), (1, 1))
    dpooled, dwp, dbp = _conv_vjp(pooled, wp, cotangent[:, o1 + o3 :], (1, 1), (0, 0))
    dxp = _avg_pool_vjp(x, dpooled, (3, 3), (1, 1), (1, 1))
    return dx1 + dx3 + dxp, dw1, db1, dw3, db3, dwp, dbp


def residual_block(x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """relu(x + conv2(relu(conv1(x)))): 3x3 kernels (C, C, 3, 3), stride 1, padding 1, so (N, C, H, W) is kept."""
    h = np.maximum(_conv(x, w1, b1, (1, 1), (1, 1)), 0)
    return np.maximum(x + _conv(h, w2, b2, (1, 1), (1, 1)), 0)


def residual_block_vjp(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, cotangent: np.ndarray
) -> tuple[np.ndarray, ...]:
    y1 = _conv(x, w1, b1, (1, 1), (1, 1))
    h = np.maximum(y1, 0)
    dz = cotangent * (x + _conv(h, w2, b2, (1, 1), (1, 1)) > 0)
    dh, dw2, db2 = _conv_vjp(h, w2, dz, (1, 1), (1, 1))
    dx, dw1, db1 = _conv_vjp(x, w1, dh * (y1 > 0), (1, 1), (1, 1))
    return dx + dz, dw1, db1, dw2, db2  # + dz: the shortcut's own path to x


def _unreduced(cotangent: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    """The cotangent with the reduced axis back in place, as size 1."""
    return cotangent if keepdim else np.expand_dims(cotangent, dim)


def sum_dim(x: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    return x.sum(axis=dim, keepdims=keepdim)


def sum_dim_vjp(x: np.ndarray, cotangent: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    return (np.broadcast_to(_unreduced(cotangent, dim, keepdim), x.shape).copy(),)


def mean_dim(x: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    return x.mean(axis=dim, keepdims=keepdim)


def mean_dim_vjp(x: np.ndarray, cotangent: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    return (np.broadcast_to(_unreduced(cotangent, dim, keepdim) / x.shape[dim], x.shape).copy(),)


def norm1_dim(x: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    return np.abs(x).sum(axis=dim, keepdims=keepdim)


def norm1_dim_vjp(x: np.ndarray, cotangent: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    return (_unreduced(cotangent, dim, keepdim) * np.sign(x),)  # sign(0) = 0, inside |x|'s [-1, 1] there


def _scaled(x: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """x divided by its largest |entry| along dim, and that scale: the squares then neither overflow nor underflow."""
    scale = np.abs(x).max(axis=dim, keepdims=True)
    return np.divide(x, scale, out=np.zeros_like(x), where=scale > 0), scale


def norm2_dim(x: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    y, scale = _scaled(x, dim)
    norm = scale * np.sqrt((y * y).sum(axis=dim, keepdims=True))
    return norm if keepdim else np.squeeze(norm, axis=dim)


def norm2_dim_vjp(x: np.ndarray, cotangent: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    y, _ = _scaled(x, dim)
    length = np.sqrt((y * y).sum(axis=dim, keepdims=True))
    unit = np.divide(y, length, out=np.zeros_like(y), where=length > 0)  # x / |x|; 0 at a zero slice: in the ball
    return (_unreduced(cotangent, dim, keepdim) * unit,)


def _routed(x: np.ndarray, cotangent: np.ndarray, picked: np.ndarray, dim: int) -> np.ndarray:
    """Zeros, with each output's cotangent at the entry it picked (picked keeps the reduced axis)."""
    grad = np.zeros_like(x)
    np.put_along_axis(grad, picked, cotangent, axis=dim)
    return grad


def max_dim(x: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    return x.max(axis=dim, keepdims=keepdim)


def max_dim_vjp(x: np.ndarray, cotangent: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    # The first maximum takes the cotangent; at a tie any split among the tied entries is right.
    picked = np.argmax(x, axis=dim, keepdims=True)
    return (_routed(x, _unreduced(cotangent, dim, keepdim), picked, dim),)


def min_dim(x: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    return x.min(axis=dim, keepdims=keepdim)


def min_dim_vjp(x: np.ndarray, cotangent: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    picked = np.argmin(x, axis=dim, keepdims=True)
    return (_routed(x, _unreduced(cotangent, dim, keepdim), picked, dim),)


def _kth(x: np.ndarray, dim: int, k: int) -> np.ndarray:
    return np.take(np.argsort(x, axis=dim, kind="stable"), [k - 1], axis=dim)  # k is 1-based


def kthvalue(x: np.ndarray, dim: int, keepdim: bool, k: int) -> np.ndarray:
    value = np.take_along_axis(x, _kth(x, dim, k), axis=dim)
    return value if keepdim else np.squeeze(value, axis=dim)


def kthvalue_vjp(x: np.ndarray, cotangent: np.ndarray, dim: int, keepdim: bool, k: int) -> tuple[np.ndarray]:
    return (_routed(x, _unreduced(cotangent, dim, keepdim), _kth(x, dim, k), dim),)


def _top(x: np.ndarray, dim: int, k: int) -> np.ndarray:
    return np.take(np.argsort(-x, axis=dim, kind="stable"), range(k), axis=dim)  # largest first


def topk(x: np.ndarray, dim: int, k: int) -> np.ndarray:
    return np.take_along_axis(x, _top(x, dim, k), axis=dim)  # the axis dim now has size k


def topk_vjp(x: np.ndarray, cotangent: np.ndarray, dim: int, k: int) -> tuple[np.ndarray]:
    return (_routed(x, cotangent, _top(x, dim, k), dim),)
