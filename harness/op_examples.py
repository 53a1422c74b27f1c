"""A minimal NumPy forward and vjp for each elementwise, row, layer and network op of the catalog, in the form
`gradproof verify --impl` takes (functions named OP and OP_vjp). `gradproof list --params OP --example`
prints one op's pair with the private helpers it calls as a module to copy (harness/listing.py);
the convolutions, pooling, residual blocks and reductions are in op_examples_tensor.py.

Written for a reader, as a user would write them; tests/test_listing.py runs each op's printed module
through `verify --impl`. Only the names an op's functions reach are printed, so an op's code calls
private helpers (`_sigmoid`), never another op's public function, which would add that op to the module.
"""

from __future__ import annotations

import numpy as np


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))  # e <= 1: neither branch overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return _sigmoid(z)


def sigmoid_vjp(z: np.ndarray, cotangent: np.ndarray) -> tuple[np.ndarray]:
    a = _sigmoid(z)
    return (cotangent * a * (1 - a),)  # sigmoid' = a (1 - a)


def tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(z)


def tanh_vjp(z: np.ndarray, cotangent: np.ndarray) -> tuple[np.ndarray]:
    a = np.tanh(z)
    return (cotangent * (1 - a * a),)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)


def relu_vjp(z: np.ndarray, cotangent: np.ndarray) -> tuple[np.ndarray]:
    return (cotangent * (z > 0),)  # at z = 0 this picks 0, inside the subgradient set [0, 1]


def leaky_relu(z: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    return np.where(z > 0, z, alpha * z)


def leaky_relu_vjp(z: np.ndarray, cotangent: np.ndarray, alpha: float = 0.01) -> tuple[np.ndarray]:
    return (np.where(z > 0, cotangent, alpha * cotangent),)  # at z = 0: alpha, inside [alpha, 1]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # shifted by the row's maximum: exp never overflows
    return e / e.sum(axis=-1, keepdims=True)


def softmax(z: np.ndarray) -> np.ndarray:
    return _softmax(z)


def softmax_vjp(z: np.ndarray, cotangent: np.ndarray) -> tuple[np.ndarray]:
    p = _softmax(z)
    # sum_i c_i dp_i/dz_j, with dp_i/dz_j = p_i (1 - p_i) on the diagonal and -p_i p_j off it
    return (p * (cotangent - (cotangent * p).sum(axis=-1, keepdims=True)),)


def mse(yhat: np.ndarray, y: np.ndarray) -> np.ndarray:
    return ((yhat - y) ** 2).mean(axis=-1)  # one value per row: shape yhat.shape[:-1]


def mse_vjp(yhat: np.ndarray, y: np.ndarray, cotangent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    row = np.expand_dims(cotangent, -1)  # one cotangent per row, spread along it
    dyhat = row * 2 * (yhat - y) / yhat.shape[-1]
    return dyhat, -dyhat  # (dyhat, dy)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * _log_softmax(z)).sum(axis=-1)


def softmax_cross_entropy_vjp(z: np.ndarray, y: np.ndarray, cotangent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    row = np.expand_dims(cotangent, -1)
    return row * (_softmax(z) - y), -row * _log_softmax(z)  # p - y (each row of y sums to 1), and -log p


def binary_cross_entropy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    # -[y log s + (1 - y) log(1 - s)] with s = sigmoid(z), rewritten so that no log sees 0
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy_vjp(z: np.ndarray, y: np.ndarray, cotangent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return cotangent * (_sigmoid(z) - y), -cotangent * z  # d/dy = log(1 - s) - log(s) = -z


def _activation(g: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """g(y) and g'(y); g'(0) is 0 for ReLU and 0.1 for leaky ReLU, both in the notes' subgradient sets."""
    if g == "sigmoid":
        a = _sigmoid(y)
        return a, a * (1 - a)
    if g == "tanh":
        a = np.tanh(y)
        return a, 1 - a * a
    if g == "relu":
        return np.maximum(y, 0), (y > 0).astype(y.dtype)
    if g == "leaky_relu":  # the catalog's layers use the slope 0.1
        return np.where(y > 0, y, 0.1 * y), np.where(y > 0, 1, 0.1).astype(y.dtype)
    raise ValueError(f"unknown activation {g!r}")


def dense_layer(x: np.ndarray, w: np.ndarray, b: np.ndarray, g: str) -> np.ndarray:
    return _activation(g, x @ w.T + b)[0]  # x (N, in), w (out, in), b (out,) -> (N, out)


def dense_layer_vjp(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, cotangent: np.ndarray, g: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dy = cotangent * _activation(g, x @ w.T + b)[1]
    return dy @ w, dy.T @ x, dy.sum(axis=0)  # dw and db sum over the batch


Layers = list[tuple[np.ndarray, np.ndarray]]


def _network(x: np.ndarray, layers: Layers, g: str) -> list[np.ndarray]:
    """x^0 .. x^L with x^l = g(x^(l-1) w_l^T + b_l)."""
    xs = [x]
    for w, b in layers:
        xs.append(_activation(g, xs[-1] @ w.T + b)[0])
    return xs


def _network_vjp(x: np.ndarray, layers: Layers, cotangent: np.ndarray, g: str) -> tuple[np.ndarray, ...]:
    """(dx, dw1, db1, ..., dwL, dbL): back-propagation from the last layer down."""
    xs = _network(x, layers, g)
    dx: np.ndarray = cotangent
    grads: list[np.ndarray] = []
    for (w, b), x_in in zip(reversed(layers), reversed(xs[:-1]), strict=True):
        dy = dx * _activation(g, x_in @ w.T + b)[1]
        grads = [dy.T @ x_in, dy.sum(axis=0), *grads]
        dx = dy @ w
    return (dx, *grads)


def backprop_chain_L1(x: np.ndarray, w1: np.ndarray, b1: np.ndarray, g: str) -> np.ndarray:
    return _network(x, [(w1, b1)], g)[-1]


def backprop_chain_L1_vjp(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, cotangent: np.ndarray, g: str
) -> tuple[np.ndarray, ...]:
    return _network_vjp(x, [(w1, b1)], cotangent, g)


def backprop_chain_L2(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, g: str
) -> np.ndarray:
    return _network(x, [(w1, b1), (w2, b2)], g)[-1]


def backprop_chain_L2_vjp(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, cotangent: np.ndarray, g: str
) -> tuple[np.ndarray, ...]:
    return _network_vjp(x, [(w1, b1), (w2, b2)], cotangent, g)


def backprop_chain_L3(
    x: np.ndarray,
    w1: np.ndarray,
    b1: np.ndarray,
    w2: np.ndarray,
    b2: np.ndarray,
    w3: np.ndarray,
    b3: np.ndarray,
    g: str,
) -> np.ndarray:
    return _network(x, [(w1, b1), (w2, b2), (w3, b3)], g)[-1]


def backprop_chain_L3_vjp(
    x: np.ndarray,
    w1: np.ndarray,
    b1: np.ndarray,
    w2: np.ndarray,
    b2: np.ndarray,
    w3: np.ndarray,
    b3: np.ndarray,
    cotangent: np.ndarray,
    g: str,
) -> tuple[np.ndarray, ...]:
    return _network_vjp(x, [(w1, b1), (w2, b2), (w3, b3)], cotangent, g)


def backprop_chain_L4(
    x: np.ndarray,
    w1: np.ndarray,
    b1: np.ndarray,
    w2: np.ndarray,
    b2: np.ndarray,
    w3: np.ndarray,
    b3: np.ndarray,
    w4: np.ndarray,
    b4: np.ndarray,
    g: str,
) -> np.ndarray:
    return _network(x, [(w1, b1), (w2, b2), (w3, b3), (w4, b4)], g)[-1]


def backprop_chain_L4_vjp(
    x: np.ndarray,
    w1: np.ndarray,
    b1: np.ndarray,
    w2: np.ndarray,
    b2: np.ndarray,
    w3: np.ndarray,
    b3: np.ndarray,
    w4: np.ndarray,
    b4: np.ndarray,
    cotangent: np.ndarray,
    g: str,
) -> tuple[np.ndarray, ...]:
    return _network_vjp(x, [(w1, b1), (w2, b2), (w3, b3), (w4, b4)], cotangent, g)


def _perceptron(x: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.ndarray:
    """E = 1/2 sum_k (O_k - t_k)^2 with O = sigmoid(w x); a single output's w (n,) is one row."""
    o = _sigmoid(np.atleast_2d(w) @ x)
    return np.array([0.5 * np.sum((o - t) ** 2)], dtype=x.dtype)  # shape (1,), not a scalar


def _perceptron_vjp(
    x: np.ndarray, w: np.ndarray, t: np.ndarray, cotangent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.atleast_2d(w)
    o = _sigmoid(rows @ x)
    dz = cotangent[0] * (o - t) * o * (1 - o)  # dE/dO_k * dO_k/dz_k
    return dz @ rows, np.outer(dz, x).reshape(w.shape), -cotangent[0] * (o - t)  # (dx, dw, dt)


def perceptron_single(x: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.ndarray:
    return _perceptron(x, w, t)  # x (n,), w (n,), t (1,)


def perceptron_single_vjp(
    x: np.ndarray, w: np.ndarray, t: np.ndarray, cotangent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _perceptron_vjp(x, w, t, cotangent)


def perceptron_multi(x: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.ndarray:
    return _perceptron(x, w, t)  # x (n,), w (m, n): w[k, j] joins input j to output k, t (m,)


def perceptron_multi_vjp(
    x: np.ndarray, w: np.ndarray, t: np.ndarray, cotangent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _perceptron_vjp(x, w, t, cotangent)


def residual_linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum(x @ w.T + b + x, 0)  # relu(f(x) + x), f(x) = x w^T + b; w is (n, n)


def residual_linear_vjp(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, cotangent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dz = cotangent * (x @ w.T + b + x > 0)
    return dz @ w + dz, dz.T @ x, dz.sum(axis=0)  # + dz: the shortcut's own path to x
