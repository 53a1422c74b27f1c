"""The NumPy pairs `gradproof list --params OP --example` prints where the NumPy reference builds an op
from a table rather than writing it as OP and OP_vjp (harness/backends/numpy_*.py serve the rest): the
back-propagation chains, the perceptrons and the selections over a dim (max, min, kthvalue, topk).

Written for a reader, as a user would write them; tests/test_listing.py runs each op's printed module
through `verify --impl`. Only the names an op's functions reach are printed.
"""

from __future__ import annotations

import numpy as np


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))  # e <= 1: neither branch overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


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


def _unreduced(cotangent: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
    """The cotangent with the reduced axis back in place, as size 1."""
    return cotangent if keepdim else np.expand_dims(cotangent, dim)


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
