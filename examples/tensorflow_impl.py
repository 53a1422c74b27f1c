"""TensorFlow (the CPU build, eager mode) as an implementation under test: every op written with
tf / tf.nn and differentiated by tf.GradientTape, behind plain NumPy pairs.
gradproof verify --impl examples/tensorflow_impl.py --expectations examples/tensorflow_expectations.txt

Needs `pip install gradproof[tensorflow]` (`tensorflow-cpu`). Tensors come in torch's NCHW layout;
TensorFlow's CPU kernels convolve and pool NHWC only, so the transposes are part of each
differentiated function.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

# Before the import: TensorFlow's C++ start-up notices would otherwise fill every worker's stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from harness.impl import Implementation

impl = Implementation("numpy")

Tensor = Any  # tf.Tensor


def _nhwc(x: Tensor) -> Tensor:
    return tf.transpose(x, (0, 2, 3, 1))


def _nchw(x: Tensor) -> Tensor:
    return tf.transpose(x, (0, 3, 1, 2))


def _hw(pairs: Sequence[int]) -> list[list[int]]:
    """(ph, pw) as TensorFlow's explicit NHWC padding."""
    return [[0, 0], [pairs[0], pairs[0]], [pairs[1], pairs[1]], [0, 0]]


def _conv(x: Tensor, w: Tensor, b: Tensor, stride: Sequence[int], padding: Sequence[int]) -> Tensor:
    # torch's weight is (O, C, kh, kw); TensorFlow wants (kh, kw, C, O).
    y = tf.nn.conv2d(_nhwc(x), tf.transpose(w, (2, 3, 1, 0)), strides=list(stride), padding=_hw(padding))
    return _nchw(tf.nn.bias_add(y, b))


def _pool(pool: Callable[..., Tensor], fill: float, x: Tensor, kernel: Sequence[int], stride: Sequence[int],
          padding: Sequence[int]) -> Tensor:  # fmt: skip
    # tf.nn's pools pad only as "SAME"; the catalog's symmetric padding is -inf (max) or 0 (average,
    # which then divides by kh kw, torch's count_include_pad) added by tf.pad.
    padded = tf.pad(_nhwc(x), _hw(padding), constant_values=fill)
    return _nchw(pool(padded, ksize=list(kernel), strides=list(stride), padding="VALID"))


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sigmoid": tf.math.sigmoid,
    "tanh": tf.math.tanh,
    "relu": tf.nn.relu,
    "leaky_relu": lambda y: tf.nn.leaky_relu(y, alpha=0.1),
}


def _linear(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return tf.nn.bias_add(tf.linalg.matmul(x, w, transpose_b=True), b)


def _chain(x: Tensor, *wb: Tensor, g: str) -> Tensor:
    for w, b in zip(wb[::2], wb[1::2], strict=True):
        x = ACTIVATIONS[g](_linear(x, w, b))
    return x


def _perceptron(x: Tensor, w: Tensor, t: Tensor) -> Tensor:
    o = tf.math.sigmoid(tf.linalg.matvec(tf.reshape(w, (-1, x.shape[0])), x))
    return tf.reshape(0.5 * tf.reduce_sum(tf.math.squared_difference(o, t)), (1,))


def _inception(x: Tensor, w1: Tensor, b1: Tensor, w3: Tensor, b3: Tensor, wp: Tensor, bp: Tensor) -> Tensor:
    pooled = _pool(tf.nn.avg_pool2d, 0.0, x, (3, 3), (1, 1), (1, 1))
    branches = [
        _conv(x, w1, b1, (1, 1), (0, 0)),
        _conv(x, w3, b3, (1, 1), (1, 1)),
        _conv(pooled, wp, bp, (1, 1), (0, 0)),
    ]
    return tf.concat(branches, axis=1)


def _residual_block(x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) -> Tensor:
    y = tf.nn.relu(_conv(x, w1, b1, (1, 1), (1, 1)))
    return tf.nn.relu(x + _conv(y, w2, b2, (1, 1), (1, 1)))


def _along_last(x: Tensor, dim: int, f: Callable[[Tensor], Tensor]) -> Tensor:
    """f over the last axis with `dim` moved there and back: tf.math.top_k works on the last axis only."""
    perm = list(range(x.shape.rank))
    perm.append(perm.pop(dim))
    return tf.transpose(f(tf.transpose(x, perm)), np.argsort(perm))


def _topk(x: Tensor, dim: int, k: int) -> Tensor:
    return _along_last(x, dim, lambda v: tf.math.top_k(v, k, sorted=True).values)


def _kthvalue(x: Tensor, dim: int, keepdim: bool, k: int) -> Tensor:
    # TensorFlow has no kthvalue: the k-th smallest is minus the k-th largest of -x.
    kth = _along_last(x, dim, lambda v: -tf.math.top_k(-v, k, sorted=True).values[..., k - 1 : k])
    return kth if keepdim else tf.squeeze(kth, axis=dim)


OPS: dict[str, Callable[..., Tensor]] = {
    "sigmoid": tf.math.sigmoid,
    "tanh": tf.math.tanh,
    "relu": tf.nn.relu,
    "leaky_relu": lambda z, alpha=0.01: tf.nn.leaky_relu(z, alpha=alpha),
    "softmax": lambda z: tf.nn.softmax(z, axis=-1),
    "mse": lambda yhat, y: tf.reduce_mean(tf.math.squared_difference(yhat, y), axis=-1),
    "softmax_cross_entropy": lambda z, y: tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z, axis=-1),
    "binary_cross_entropy": lambda z, y: tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z),
    "dense_layer": lambda x, w, b, g: ACTIVATIONS[g](_linear(x, w, b)),
    **{f"backprop_chain_L{depth}": _chain for depth in (1, 2, 3, 4)},
    "perceptron_single": _perceptron,
    "perceptron_multi": _perceptron,
    "residual_linear": lambda x, w, b: tf.nn.relu(_linear(x, w, b) + x),
    "conv2d": _conv,
    "max_pool2d": lambda x, kernel, stride, padding: _pool(tf.nn.max_pool2d, -np.inf, x, kernel, stride, padding),
    "avg_pool2d": lambda x, kernel, stride, padding: _pool(tf.nn.avg_pool2d, 0.0, x, kernel, stride, padding),
    "inception_block": _inception,
    "residual_block": _residual_block,
    "sum_dim": lambda x, dim, keepdim: tf.reduce_sum(x, axis=dim, keepdims=keepdim),
    "mean_dim": lambda x, dim, keepdim: tf.reduce_mean(x, axis=dim, keepdims=keepdim),
    "max_dim": lambda x, dim, keepdim: tf.reduce_max(x, axis=dim, keepdims=keepdim),
    "min_dim": lambda x, dim, keepdim: tf.reduce_min(x, axis=dim, keepdims=keepdim),
    "norm1_dim": lambda x, dim, keepdim: tf.norm(x, ord=1, axis=dim, keepdims=keepdim),
    "norm2_dim": lambda x, dim, keepdim: tf.norm(x, ord="euclidean", axis=dim, keepdims=keepdim),
    "kthvalue": _kthvalue,
    "topk": _topk,
}


def _register(name: str, f: Callable[..., Tensor]) -> None:
    def forward(*arrays: np.ndarray, **params: Any) -> np.ndarray:
        return f(*map(tf.constant, arrays), **params).numpy()

    def vjp(*arrays: np.ndarray, **params: Any) -> tuple[np.ndarray, ...]:
        # Every array input gets its gradient, targets too: gradproof ignores those it does not check.
        *inputs, cotangent = arrays
        tensors = [tf.constant(a) for a in inputs]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            out = f(*tensors, **params)
        grads = tape.gradient(
            out, tensors, output_gradients=tf.constant(cotangent), unconnected_gradients=tf.UnconnectedGradients.ZERO
        )
        return tuple(tf.convert_to_tensor(g).numpy() for g in grads)

    impl.add(name, forward, vjp)


for _name, _f in OPS.items():
    _register(_name, _f)
