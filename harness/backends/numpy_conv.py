"""The NumPy reference for convolution and pooling: forward and hand-written backward side by side.

Written apart from derivations/ on purpose (a second opinion): each kernel offset (i, j) reads
a strided slice of the padded input, and the backward adds into the same slice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

Pair = Sequence[int]


def _padded(x: np.ndarray, padding: Pair, value: float) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), constant_values=value)


def _offsets(shape: tuple[int, ...], kernel: Pair, stride: Pair) -> Iterator[tuple[int, int, slice, slice]]:
    """Every kernel offset with the strided slice of the padded input it reads."""
    ho = (shape[-2] - kernel[0]) // stride[0] + 1
    wo = (shape[-1] - kernel[1]) // stride[1] + 1
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield (
                i,
                j,
                slice(i, i + stride[0] * (ho - 1) + 1, stride[0]),
                slice(j, j + stride[1] * (wo - 1) + 1, stride[1]),
            )


def _crop(gp: np.ndarray, padding: Pair) -> np.ndarray:
    h, w = gp.shape[-2] - 2 * padding[0], gp.shape[-1] - 2 * padding[1]
    return gp[..., padding[0] : padding[0] + h, padding[1] : padding[1] + w]


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Pair, padding: Pair) -> np.ndarray:
    xp = _padded(x, padding, 0.0)
    out = None
    for i, j, rows, cols in _offsets(xp.shape, w.shape[2:], stride):
        term = np.einsum("bchw,oc->bohw", xp[:, :, rows, cols], w[:, :, i, j])
        out = term if out is None else out + term
    assert out is not None
    return out + b[None, :, None, None]  # type: ignore[no-any-return]


def conv2d_vjp(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray, stride: Pair, padding: Pair
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xp = _padded(x, padding, 0.0)
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(w)
    for i, j, rows, cols in _offsets(xp.shape, w.shape[2:], stride):
        gxp[:, :, rows, cols] += np.einsum("bohw,oc->bchw", c, w[:, :, i, j])
        gw[:, :, i, j] = np.einsum("bohw,bchw->oc", c, xp[:, :, rows, cols])
    return _crop(gxp, padding), gw, c.sum(axis=(0, 2, 3))


def _window_stack(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, value: float) -> np.ndarray:
    """(kh*kw, B, C, Ho, Wo): offset by offset, in row-major order inside the window."""
    xp = _padded(x, padding, value)
    return np.stack([xp[:, :, rows, cols] for _, _, rows, cols in _offsets(xp.shape, kernel, stride)])


def max_pool2d(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    return _window_stack(x, kernel, stride, padding, -np.inf).max(axis=0)  # type: ignore[no-any-return]


def max_pool2d_vjp(x: np.ndarray, c: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> tuple[np.ndarray]:
    # The first maximum in row-major window order takes the whole cotangent (torch's pick).
    top = _window_stack(x, kernel, stride, padding, -np.inf).argmax(axis=0)
    gxp = np.zeros_like(_padded(x, padding, 0.0))
    for k, (_, _, rows, cols) in enumerate(_offsets(gxp.shape, kernel, stride)):
        gxp[:, :, rows, cols] += np.where(top == k, c, 0.0)
    return (_crop(gxp, padding),)


def avg_pool2d(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    return _window_stack(x, kernel, stride, padding, 0.0).sum(axis=0) / (kernel[0] * kernel[1])  # type: ignore[no-any-return]


def avg_pool2d_vjp(x: np.ndarray, c: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> tuple[np.ndarray]:
    gxp = np.zeros_like(_padded(x, padding, 0.0))
    for _, _, rows, cols in _offsets(gxp.shape, kernel, stride):
        gxp[:, :, rows, cols] += c / (kernel[0] * kernel[1])
    return (_crop(gxp, padding),)


CONV_OPS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., tuple[np.ndarray, ...]]]] = {
    "conv2d": (conv2d, conv2d_vjp),
    "max_pool2d": (max_pool2d, max_pool2d_vjp),
    "avg_pool2d": (avg_pool2d, avg_pool2d_vjp),
}


def _inception_parts(x: np.ndarray, w1: np.ndarray, w3: np.ndarray) -> tuple[np.ndarray, int, int]:
    return avg_pool2d(x, (3, 3), (1, 1), (1, 1)), w1.shape[0], w3.shape[0]


def inception_block(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w3: np.ndarray, b3: np.ndarray, wp: np.ndarray, bp: np.ndarray
) -> np.ndarray:
    pooled, _, _ = _inception_parts(x, w1, w3)
    one = conv2d(x, w1, b1, (1, 1), (0, 0))
    three = conv2d(x, w3, b3, (1, 1), (1, 1))
    return np.concatenate([one, three, conv2d(pooled, wp, bp, (1, 1), (0, 0))], axis=1)


def inception_block_vjp(
    x: np.ndarray,
    w1: np.ndarray,
    b1: np.ndarray,
    w3: np.ndarray,
    b3: np.ndarray,
    wp: np.ndarray,
    bp: np.ndarray,
    c: np.ndarray,
) -> tuple[np.ndarray, ...]:
    # The concatenation hands each branch the cotangent of its own channels.
    pooled, o1, o3 = _inception_parts(x, w1, w3)
    gx1, gw1, gb1 = conv2d_vjp(x, w1, b1, c[:, :o1], (1, 1), (0, 0))
    gx3, gw3, gb3 = conv2d_vjp(x, w3, b3, c[:, o1 : o1 + o3], (1, 1), (1, 1))
    gpooled, gwp, gbp = conv2d_vjp(pooled, wp, bp, c[:, o1 + o3 :], (1, 1), (0, 0))
    (gxp,) = avg_pool2d_vjp(x, gpooled, (3, 3), (1, 1), (1, 1))
    return gx1 + gx3 + gxp, gw1, gb1, gw3, gb3, gwp, gbp


CONV_OPS["inception_block"] = (inception_block, inception_block_vjp)
