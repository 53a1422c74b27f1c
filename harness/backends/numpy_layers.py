"""The NumPy reference for layers: hand-written back-propagation, the notes' D2 step by step.

Independent of derivations/ on purpose, like numpy_ref: a second, hand-written opinion.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.backends.numpy_conv import CONV_OPS
from harness.backends.numpy_stats import STAT_OPS

LEAKY = 0.1


def activation(name: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The activation and its derivative at y (ReLU'(0) = 0, leaky'(0) = alpha)."""
    if name == "sigmoid":
        e = np.exp(-np.abs(y))
        a = np.where(y >= 0, 1 / (1 + e), e / (1 + e))
        return a, a * (1 - a)
    if name == "tanh":
        a = np.tanh(y)
        return a, 1 - a * a
    if name == "relu":
        return np.maximum(y, 0), (y > 0).astype(y.dtype)
    if name == "leaky_relu":
        return np.where(y > 0, y, LEAKY * y), np.where(y > 0, 1, LEAKY).astype(y.dtype)
    raise ValueError(f"unknown activation {name!r}")


def dense_layer(x: np.ndarray, w: np.ndarray, b: np.ndarray, g: str) -> np.ndarray:
    return activation(g, x @ w.T + b)[0]


def dense_layer_vjp(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray, g: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _, slope = activation(g, x @ w.T + b)
    dy = c * slope  # dL/dy^L = dL/dx^L * g'(y^L)
    return dy @ w, dy.T @ x, dy.sum(axis=0)  # x^{L-1}, w^L, b^L


LAYER_OPS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., tuple[np.ndarray, ...]]]] = {
    "dense_layer": (dense_layer, dense_layer_vjp),
    **CONV_OPS,
    **STAT_OPS,
}
