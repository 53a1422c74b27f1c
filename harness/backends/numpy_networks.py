"""The NumPy reference for networks: hand-written back-propagation over layers, perceptrons and
residual blocks, each forward beside its backward.

Independent of derivations/ on purpose, like numpy_layers: a second, hand-written opinion.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.backends.numpy_layers import activation

# --- an L-layer network: a loop over layers forward, the reverse loop backward -------------


def mlp_forward(x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]], g: str) -> list[np.ndarray]:
    """Activations x^0 .. x^L."""
    xs = [x]
    for w, b in layers:
        xs.append(activation(g, xs[-1] @ w.T + b)[0])
    return xs


def mlp_backward(
    xs: list[np.ndarray], layers: list[tuple[np.ndarray, np.ndarray]], c: np.ndarray, g: str
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """dLoss/dx^0 and each layer's (dLoss/dw, dLoss/db), from dLoss/dx^L = c."""
    grads: list[tuple[np.ndarray, np.ndarray]] = []
    dx = c
    for (w, b), x_prev in zip(reversed(layers), reversed(xs[:-1]), strict=True):
        _, slope = activation(g, x_prev @ w.T + b)
        dy = dx * slope
        grads.append((dy.T @ x_prev, dy.sum(axis=0)))
        dx = dy @ w
    return dx, grads[::-1]


def _pairs(flat: tuple[np.ndarray, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def chain(x: np.ndarray, *wb: np.ndarray, g: str) -> np.ndarray:
    return mlp_forward(x, _pairs(wb), g)[-1]


def chain_vjp(x: np.ndarray, *args: np.ndarray, g: str) -> tuple[np.ndarray, ...]:
    *wb, c = args
    layers = _pairs(tuple(wb))
    dx, grads = mlp_backward(mlp_forward(x, layers, g), layers, c, g)
    return (dx, *(t for pair in grads for t in pair))


# --- perceptrons with sigmoid and the squared error E = 1/2 sum (O - t)^2 -------------------


def perceptron(x: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.ndarray:
    o = activation("sigmoid", np.atleast_2d(w) @ x)[0]
    return np.array([0.5 * np.sum((o - t) ** 2)])


def perceptron_vjp(x: np.ndarray, w: np.ndarray, t: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
    w2 = np.atleast_2d(w)
    o, slope = activation("sigmoid", w2 @ x)
    dz = c[0] * (o - t) * slope  # dE/dO . dO/dz
    return dz @ w2, np.outer(dz, x).reshape(w.shape), -c[0] * (o - t)


# --- residual blocks: relu(f(x) + x), f linear or conv-relu-conv --------------------------


def residual_linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum(x @ w.T + b + x, 0)


def residual_linear_vjp(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dz = c * (x @ w.T + b + x > 0)
    return dz @ w + dz, dz.T @ x, dz.sum(axis=0)  # the shortcut adds dz itself to dx


def conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross-correlation with a 3x3 kernel, stride 1, zero padding 1: (N, C, H, W) -> (N, O, H, W)."""
    n, _, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd), dtype=np.result_type(x, w))
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i : i + h, j : j + wd], w[:, :, i, j])
    return out + b[None, :, None, None]


def conv3x3_vjp(x: np.ndarray, w: np.ndarray, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dw, db) of conv3x3 for the output gradient dout."""
    h, wd = x.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(3):
        for j in range(3):
            dw[:, :, i, j] = np.einsum("nohw,nchw->oc", dout, xp[:, :, i : i + h, j : j + wd])
            dxp[:, :, i : i + h, j : j + wd] += np.einsum("nohw,oc->nchw", dout, w[:, :, i, j])
    return dxp[:, :, 1 : 1 + h, 1 : 1 + wd], dw, dout.sum(axis=(0, 2, 3))


def residual_block(x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    y = np.maximum(conv3x3(x, w1, b1), 0)
    return np.maximum(x + conv3x3(y, w2, b2), 0)


def residual_block_vjp(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, ...]:
    h1 = conv3x3(x, w1, b1)
    y = np.maximum(h1, 0)
    dz = c * (x + conv3x3(y, w2, b2) > 0)
    dy, dw2, db2 = conv3x3_vjp(y, w2, dz)
    dx, dw1, db1 = conv3x3_vjp(x, w1, dy * (h1 > 0))
    return dx + dz, dw1, db1, dw2, db2  # + dz: the shortcut's 1


NETWORK_OPS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., tuple[np.ndarray | None, ...]]]] = {
    **{f"backprop_chain_L{depth}": (chain, chain_vjp) for depth in (1, 2, 3, 4)},
    "perceptron_single": (perceptron, perceptron_vjp),
    "perceptron_multi": (perceptron, perceptron_vjp),
    "residual_linear": (residual_linear, residual_linear_vjp),
    "residual_block": (residual_block, residual_block_vjp),
}
