"""Gradient bugs, and correct alternatives, for the tensor ops: layers, chains, residual blocks,
convolution, pooling and reductions. Each function is a forward or a vjp under the user-facing
contract (one gradient per input); mutants.py lists them as variants beside the reference's.

Every vjp keeps its inputs' dtype, as a correct implementation must, so that a mutant is
caught for its gradient and not for a float64 it returns by accident.
"""

from __future__ import annotations

import numpy as np

from harness.backends.numpy_conv import _offsets, _padded, _window_stack, conv2d_vjp, max_pool2d_vjp
from harness.backends.numpy_layers import activation as _act
from harness.backends.numpy_networks import _pairs, mlp_forward
from harness.backends.numpy_stats import _back

Pair = tuple[int, int]


# --- dense layer y = g(x W^T + b) -------------------------------------------------------------


def _dense_dy(x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray, g: str) -> np.ndarray:
    return c * _act(g, x @ w.T + b)[1]


def dense_weight_transposed(x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray, g: str) -> tuple[object, ...]:
    """dW as x^T dy, reshaped to W's shape: the (in, out) layout mistaken for (out, in)."""
    dy = _dense_dy(x, w, b, c, g)
    return dy @ w, (x.T @ dy).reshape(w.shape), dy.sum(axis=0)


def dense_bias_no_batch_sum(x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray, g: str) -> tuple[object, ...]:
    """db averaged over the batch where it must be summed (the loss's mean taken twice)."""
    dy = _dense_dy(x, w, b, c, g)
    return dy @ w, dy.T @ x, dy.mean(axis=0)


# --- back-propagation chains -----------------------------------------------------------------


def _chain_backward(
    x: np.ndarray, args: tuple[np.ndarray, ...], g: str, *, last_slope: bool, relu_one: bool
) -> tuple[np.ndarray, ...]:
    *wb, c = args
    layers = _pairs(tuple(wb))
    xs = mlp_forward(x, layers, g)
    slopes = []
    for (w, b), x_prev in zip(layers, xs[:-1], strict=True):
        y = x_prev @ w.T + b
        slope = (y >= 0).astype(y.dtype) if relu_one and g == "relu" else _act(g, y)[1]
        slopes.append(slope)
    grads: list[np.ndarray] = []
    dx = c
    for k in reversed(range(len(layers))):
        (w, _), x_prev = layers[k], xs[k]
        # The bug: the slope kept from the last layer's step is reused for every layer below.
        dy = dx * (slopes[-1] if last_slope else slopes[k])
        grads[:0] = [dy.T @ x_prev, dy.sum(axis=0)]
        dx = dy @ w
    return (dx, *grads)


def chain_last_layer_slope(x: np.ndarray, *args: np.ndarray, g: str) -> tuple[np.ndarray, ...]:
    return _chain_backward(x, args, g, last_slope=True, relu_one=False)


def chain_relu_slope_one(x: np.ndarray, *args: np.ndarray, g: str) -> tuple[np.ndarray, ...]:
    """Correct: ReLU'(0) = 1, inside the subgradient set [0, 1] at a zero pre-activation."""
    return _chain_backward(x, args, g, last_slope=False, relu_one=True)


# --- residual relu(x W^T + b + x) ------------------------------------------------------------


def residual_no_identity(x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
    """dx through the branch only: the shortcut's +1 (the identity's Jacobian) dropped."""
    dz = c * (x @ w.T + b + x > 0)
    return dz @ w, dz.T @ x, dz.sum(axis=0)


# --- convolution ------------------------------------------------------------------------------


def conv_crop_ignores_padding(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray, stride: Pair, padding: Pair
) -> tuple[np.ndarray, ...]:
    """dx cropped from the padded gradient's corner, not from the padding offset."""
    xp = _padded(x, padding, 0.0)
    gxp = np.zeros_like(xp)
    for i, j, rows, cols in _offsets(xp.shape, w.shape[2:], stride):
        gxp[:, :, rows, cols] += np.einsum("bohw,oc->bchw", c, w[:, :, i, j])
    _, gw, gb = conv2d_vjp(x, w, b, c, stride, padding)
    return gxp[..., : x.shape[-2], : x.shape[-1]], gw, gb


def conv_flipped_kernel(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray, stride: Pair, padding: Pair
) -> tuple[np.ndarray, ...]:
    """dx with the kernel rotated by 180 degrees: convolution and correlation confused."""
    gx, _, _ = conv2d_vjp(x, np.ascontiguousarray(w[..., ::-1, ::-1]), b, c, stride, padding)
    _, gw, gb = conv2d_vjp(x, w, b, c, stride, padding)
    return gx, gw, gb


# --- max pooling ------------------------------------------------------------------------------


def _pool_ties(
    x: np.ndarray, c: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, *, split: bool
) -> tuple[np.ndarray]:
    stack = _window_stack(x, kernel, stride, padding, -np.inf)
    top = stack.max(axis=0)
    holders = (stack == top).sum(axis=0)
    share = c / holders if split else c
    gxp = np.zeros_like(_padded(x, padding, 0.0))
    for k, (_, _, rows, cols) in enumerate(_offsets(gxp.shape, kernel, stride)):
        gxp[:, :, rows, cols] += np.where(stack[k] == top, share, 0.0).astype(x.dtype)
    h, w = x.shape[-2], x.shape[-1]
    return (gxp[..., padding[0] : padding[0] + h, padding[1] : padding[1] + w],)


def max_pool_ties_duplicated(
    x: np.ndarray, c: np.ndarray, kernel: Pair, stride: Pair, padding: Pair
) -> tuple[np.ndarray]:
    """Every entry that ties for a window's maximum gets the window's whole cotangent."""
    return _pool_ties(x, c, kernel, stride, padding, split=False)


def max_pool_ties_split(x: np.ndarray, c: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> tuple[np.ndarray]:
    """Correct: a window's cotangent split evenly among the entries tied for its maximum."""
    return _pool_ties(x, c, kernel, stride, padding, split=True)


# --- reductions over a dim -------------------------------------------------------------------


def _max_ties(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool, *, split: bool) -> tuple[np.ndarray]:
    holds = x == x.max(axis=dim, keepdims=True)
    share = _back(c, dim, keepdim) / (holds.sum(axis=dim, keepdims=True) if split else 1)
    return (np.where(holds, share, 0.0).astype(x.dtype),)


def max_dim_ties_duplicated(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    return _max_ties(x, c, dim, keepdim, split=False)


def max_dim_ties_split(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    """Correct: the cotangent split evenly among tied maxima (torch.amax's convention)."""
    return _max_ties(x, c, dim, keepdim, split=True)


def sum_keepdim_last_axis(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    """keepdim=False mishandled: the reduced axis restored at the end, not at `dim`."""
    cc = c if keepdim else np.expand_dims(c, -1)
    return (np.broadcast_to(cc, x.shape).astype(x.dtype),)


def mean_wrong_dim_count(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    """Divided by the last axis's length instead of the reduced one's."""
    return (np.broadcast_to(_back(c, dim, keepdim) / x.shape[-1], x.shape).astype(x.dtype),)


def norm2_naive_unit(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    """x / ||x|| with the norm from unscaled squares: NaN at a zero slice, inf or NaN where the squares
    underflow (entries below 1e-154 in float64)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.sqrt(np.sum(x * x, axis=dim, keepdims=True))
        return ((_back(c, dim, keepdim) * x / norm).astype(x.dtype),)


def norm2_missing_norm(x: np.ndarray, c: np.ndarray, dim: int, keepdim: bool) -> tuple[np.ndarray]:
    """d||x||/dx as x, the 1/||x|| factor missing."""
    return ((_back(c, dim, keepdim) * x).astype(x.dtype),)


def max_pool_last_column_dropped(
    x: np.ndarray, c: np.ndarray, kernel: Pair, stride: Pair, padding: Pair
) -> tuple[np.ndarray]:
    """An off-by-one in the window loop along W that only a kernel of 2 or more with two or more
    windows along W reaches: the last column of windows gets no gradient."""
    if min(kernel) >= 2 and c.shape[-1] >= 2:
        c = c.copy()
        c[..., -1] = 0.0
    return max_pool2d_vjp(x, c, kernel, stride, padding)


def conv_bias_first_example(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray, stride: Pair, padding: Pair
) -> tuple[np.ndarray, ...]:
    """The bias gradient summed over the first example's windows only: right for a batch of one."""
    gx, gw, _ = conv2d_vjp(x, w, b, c, stride, padding)
    return gx, gw, c[0].sum(axis=(1, 2))
