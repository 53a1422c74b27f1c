"""The harness's own NumPy reference, declared the way a user declares plain function pairs
(module attributes named after catalog ids). gradproof verify --impl examples/numpy_impl.py"""

import numpy as np

from harness.backends import numpy_ref as ref

sigmoid, sigmoid_vjp = ref.sigmoid, ref.sigmoid_vjp
tanh, tanh_vjp = ref.tanh, ref.tanh_vjp
relu, relu_vjp = ref.relu, ref.relu_vjp
leaky_relu, leaky_relu_vjp = ref.leaky_relu, ref.leaky_relu_vjp
softmax, softmax_vjp = ref.softmax, ref.softmax_vjp
mse = ref.mse
softmax_cross_entropy = ref.softmax_cross_entropy
binary_cross_entropy = ref.binary_cross_entropy
# Losses have a target input: one gradient per input, (d_prediction, d_target).
mse_vjp = ref.mse_vjp
softmax_cross_entropy_vjp = ref.softmax_cross_entropy_vjp
binary_cross_entropy_vjp = ref.binary_cross_entropy_vjp


# Tensor ops take their parameters (stride, padding, dim, keepdim, the activation g) as
# keywords and return one gradient per input: (dx, dw, db) for a layer.
def dense_layer(x, w, b, g):
    return ref.OPS["dense_layer"].forward(x, w, b, g=g)


def _sigmoid(y):
    return np.exp(-np.logaddexp(0, -y)).astype(y.dtype)


SLOPES = {  # g'(y); ReLU'(0) = 0 and leaky'(0) = 0.1, both inside the notes' subgradient set
    "sigmoid": lambda y: _sigmoid(y) * _sigmoid(-y),
    "tanh": lambda y: 1 - np.tanh(y) ** 2,
    "relu": lambda y: (y > 0).astype(y.dtype),
    "leaky_relu": lambda y: np.where(y > 0, 1, 0.1).astype(y.dtype),
}


def dense_layer_vjp(x, w, b, cotangent, g):
    dy = cotangent * SLOPES[g](x @ w.T + b)
    return dy @ w, dy.T @ x, dy.sum(axis=0)


conv2d, conv2d_vjp = ref.OPS["conv2d"].forward, ref.OPS["conv2d"].vjp
max_pool2d, max_pool2d_vjp = ref.OPS["max_pool2d"].forward, ref.OPS["max_pool2d"].vjp


def sum_dim(x, dim, keepdim):
    return x.sum(axis=dim, keepdims=keepdim)


def sum_dim_vjp(x, cotangent, dim, keepdim):
    c = cotangent if keepdim else np.expand_dims(cotangent, dim)
    return (np.broadcast_to(c, x.shape).copy(),)
