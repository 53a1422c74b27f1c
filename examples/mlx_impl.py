"""MLX (Apple's array framework, its Linux CPU build) as an implementation under test: every op
written with mlx.core / mlx.nn and differentiated by mx.vjp, behind plain NumPy pairs.
gradproof verify --impl examples/mlx_impl.py --expectations examples/mlx_expectations.txt

Needs `pip install gradproof[mlx]` (the `mlx[cpu]` wheel on Linux). Tensors come in torch's
NCHW layout; MLX convolves and pools NHWC, so the transposes are part of each differentiated
function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from harness.impl import Implementation

impl = Implementation("numpy")

Array = Any  # mx.array


def _nhwc(x: Array) -> Array:
    return mx.transpose(x, (0, 2, 3, 1))


def _nchw(x: Array) -> Array:
    return mx.transpose(x, (0, 3, 1, 2))


def _conv(x: Array, w: Array, b: Array, stride: Sequence[int], padding: Sequence[int]) -> Array:
    # torch's weight is (O, C, kh, kw); MLX wants (O, kh, kw, C).
    y = mx.conv2d(_nhwc(x), mx.transpose(w, (0, 2, 3, 1)), stride=tuple(stride), padding=tuple(padding))
    return _nchw(y + b)


def _pool(layer: type, x: Array, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int]) -> Array:
    # nn.MaxPool2d pads with -inf and nn.AvgPool2d with 0 and divides by kh kw, as the catalog does.
    return _nchw(layer(tuple(kernel), tuple(stride), tuple(padding))(_nhwc(x)))


ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "sigmoid": nn.sigmoid,
    "tanh": nn.tanh,
    "relu": nn.relu,
    "leaky_relu": lambda y: nn.leaky_relu(y, 0.1),
}


def _linear(x: Array, w: Array, b: Array) -> Array:
    return mx.addmm(b, x, w.T)


def _chain(x: Array, *wb: Array, g: str) -> Array:
    for w, b in zip(wb[::2], wb[1::2], strict=True):
        x = ACTIVATIONS[g](_linear(x, w, b))
    return x


def _perceptron(x: Array, w: Array, t: Array) -> Array:
    o = nn.sigmoid(mx.atleast_2d(w) @ x)
    return mx.reshape(0.5 * mx.sum(mx.square(o - t)), (1,))


def _inception(x: Array, w1: Array, b1: Array, w3: Array, b3: Array, wp: Array, bp: Array) -> Array:
    pooled = _pool(nn.AvgPool2d, x, (3, 3), (1, 1), (1, 1))
    branches = [
        _conv(x, w1, b1, (1, 1), (0, 0)),
        _conv(x, w3, b3, (1, 1), (1, 1)),
        _conv(pooled, wp, bp, (1, 1), (0, 0)),
    ]
    return mx.concatenate(branches, axis=1)


def _residual_block(x: Array, w1: Array, b1: Array, w2: Array, b2: Array) -> Array:
    y = nn.relu(_conv(x, w1, b1, (1, 1), (1, 1)))
    return nn.relu(x + _conv(y, w2, b2, (1, 1), (1, 1)))


def _topk(x: Array, dim: int, k: int) -> Array:
    # mx.topk leaves its k values in no particular order; the catalog wants the largest first.
    top = mx.topk(x, k, axis=dim)
    return -mx.sort(-top, axis=dim)


def _kthvalue(x: Array, dim: int, keepdim: bool, k: int) -> Array:
    kth = mx.take(mx.partition(x, k - 1, axis=dim), mx.array([k - 1]), axis=dim)
    return kth if keepdim else mx.squeeze(kth, axis=dim)


OPS: dict[str, Callable[..., Array]] = {
    "sigmoid": mx.sigmoid,
    "tanh": mx.tanh,
    "relu": nn.relu,
    "leaky_relu": lambda z, alpha=0.01: nn.leaky_relu(z, negative_slope=alpha),
    "softmax": lambda z: mx.softmax(z, axis=-1),
    "mse": lambda yhat, y: mx.mean(nn.losses.mse_loss(yhat, y, reduction="none"), axis=-1),
    "softmax_cross_entropy": lambda z, y: nn.losses.cross_entropy(z, y, axis=-1),
    "binary_cross_entropy": lambda z, y: nn.losses.binary_cross_entropy(z, y, with_logits=True, reduction="none"),
    "dense_layer": lambda x, w, b, g: ACTIVATIONS[g](_linear(x, w, b)),
    **{f"backprop_chain_L{depth}": _chain for depth in (1, 2, 3, 4)},
    "perceptron_single": _perceptron,
    "perceptron_multi": _perceptron,
    "residual_linear": lambda x, w, b: nn.relu(_linear(x, w, b) + x),
    "conv2d": _conv,
    "max_pool2d": lambda x, kernel, stride, padding: _pool(nn.MaxPool2d, x, kernel, stride, padding),
    "avg_pool2d": lambda x, kernel, stride, padding: _pool(nn.AvgPool2d, x, kernel, stride, padding),
    "inception_block": _inception,
    "residual_block": _residual_block,
    "sum_dim": lambda x, dim, keepdim: mx.sum(x, axis=dim, keepdims=keepdim),
    "mean_dim": lambda x, dim, keepdim: mx.mean(x, axis=dim, keepdims=keepdim),
    "max_dim": lambda x, dim, keepdim: mx.max(x, axis=dim, keepdims=keepdim),
    "min_dim": lambda x, dim, keepdim: mx.min(x, axis=dim, keepdims=keepdim),
    "norm1_dim": lambda x, dim, keepdim: mx.linalg.norm(x, ord=1, axis=dim, keepdims=keepdim),
    "norm2_dim": lambda x, dim, keepdim: mx.linalg.norm(x, axis=dim, keepdims=keepdim),
    "kthvalue": _kthvalue,
    "topk": _topk,
}

DTYPES = {np.dtype(np.float32): mx.float32, np.dtype(np.float64): mx.float64}


def _mx(a: np.ndarray) -> Array:
    # mx.array turns float64 NumPy input into float32 unless told the dtype.
    return mx.array(a, dtype=DTYPES[a.dtype])


def _register(name: str, f: Callable[..., Array]) -> None:
    def forward(*arrays: np.ndarray, **params: Any) -> np.ndarray:
        return np.array(f(*map(_mx, arrays), **params))

    def vjp(*arrays: np.ndarray, **params: Any) -> tuple[np.ndarray, ...]:
        # Every array input gets its gradient, targets too: gradproof ignores those it does not check.
        *inputs, cotangent = arrays
        _, grads = mx.vjp(lambda *a: f(*a, **params), [_mx(a) for a in inputs], [_mx(cotangent)])
        return tuple(np.array(g) for g in grads)

    impl.add(name, forward, vjp)


for _name, _f in OPS.items():
    _register(_name, _f)
