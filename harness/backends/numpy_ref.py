"""The NumPy reference: forward and backward of each op side by side, from the notes' formulas.

Independent of SymPy on purpose: it is a second, hand-written opinion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from harness.backends.numpy_layers import LAYER_OPS
from harness.backends.numpy_networks import NETWORK_OPS
from harness.backends.numpy_update_rules import UPDATE_RULE_OPS
from harness.impl.backend import ImplBackend
from harness.impl.conventions import CONVENTIONS
from harness.impl.isolation import InProcess


def sigmoid(z: np.ndarray) -> np.ndarray:
    # Two branches so that exp never overflows.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_vjp(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    a = sigmoid(z)
    return c * a * (1 - a)  # a' = a(1-a)


def tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(z)


def tanh_vjp(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    a = np.tanh(z)
    return c * (1 - a * a)  # a' = 1 - a^2


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)


def relu_vjp(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    return c * (z > 0)  # 1 for z>0, 0 for z<0; at 0 this picks 0


def leaky_relu(z: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(z > 0, z, alpha * z)


def leaky_relu_vjp(z: np.ndarray, c: np.ndarray, alpha: float) -> np.ndarray:
    return c * np.where(z > 0, 1, alpha).astype(z.dtype)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_vjp(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    p = softmax(z)
    # sum_i c_i J_ij with J_ij = p_i(1-p_i) on the diagonal and -p_i p_j off it.
    return p * (c - (c * p).sum(axis=-1, keepdims=True))


def mse(yhat: np.ndarray, y: np.ndarray) -> np.ndarray:
    return ((yhat - y) ** 2).mean(axis=-1)


def mse_vjp(yhat: np.ndarray, y: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = c[..., None] * 2 * (yhat - y) / yhat.shape[-1]
    return g, -g


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * _log_softmax(z)).sum(axis=-1)  # H = -sum y_i log(y'_i)


def softmax_cross_entropy_vjp(z: np.ndarray, y: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return c[..., None] * (softmax(z) - y), -c[..., None] * _log_softmax(z)  # p - y, and -log p


def binary_cross_entropy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    # -[y log s + (1-y) log(1-s)] rewritten so that neither log sees 0.
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy_vjp(z: np.ndarray, y: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return c * (sigmoid(z) - y), -c * z  # d/dy of -[y log s + (1-y) log(1-s)] is log(1-s) - log s = -z


# Jacobian-vector products, one tangent per input (`_dot`): the elementwise ops' J is diagonal, so
# J u is the derivative times u, the VJP's formula with u for the cotangent.
def sigmoid_jvp(z: np.ndarray, z_dot: np.ndarray) -> np.ndarray:
    return sigmoid_vjp(z, z_dot)


def tanh_jvp(z: np.ndarray, z_dot: np.ndarray) -> np.ndarray:
    return tanh_vjp(z, z_dot)


def relu_jvp(z: np.ndarray, z_dot: np.ndarray) -> np.ndarray:
    return relu_vjp(z, z_dot)


def leaky_relu_jvp(z: np.ndarray, z_dot: np.ndarray, alpha: float) -> np.ndarray:
    return leaky_relu_vjp(z, z_dot, alpha)


def softmax_jvp(z: np.ndarray, z_dot: np.ndarray) -> np.ndarray:
    p = softmax(z)
    return p * (z_dot - (p * z_dot).sum(axis=-1, keepdims=True))  # J is symmetric: the VJP's form


def mse_jvp(yhat: np.ndarray, y: np.ndarray, yhat_dot: np.ndarray, y_dot: np.ndarray) -> np.ndarray:
    return (2 * (yhat - y) * (yhat_dot - y_dot)).mean(axis=-1)


def softmax_cross_entropy_jvp(z: np.ndarray, y: np.ndarray, z_dot: np.ndarray, y_dot: np.ndarray) -> np.ndarray:
    return ((softmax(z) - y) * z_dot - _log_softmax(z) * y_dot).sum(axis=-1)


def binary_cross_entropy_jvp(z: np.ndarray, y: np.ndarray, z_dot: np.ndarray, y_dot: np.ndarray) -> np.ndarray:
    return (sigmoid(z) - y) * z_dot - z * y_dot


@dataclass(frozen=True)
class Pair:
    """One op of a NumPy table: its forward, its vjp and, where written, its jvp."""

    forward: Callable[..., np.ndarray]
    # One gradient per input (None for a target), or one bare array for a one-input op: the
    # contract every implementation follows.
    vjp: Callable[..., np.ndarray | tuple[np.ndarray | None, ...]]
    jvp: Callable[..., np.ndarray] | None = None


OPS: dict[str, Pair] = {
    **{name: Pair(fwd, vjp) for name, (fwd, vjp) in LAYER_OPS.items()},
    **{name: Pair(fwd, vjp) for name, (fwd, vjp) in NETWORK_OPS.items()},
    **{name: Pair(fwd, vjp) for name, (fwd, vjp) in UPDATE_RULE_OPS.items()},
    **{
        name: Pair(globals()[name], globals()[name + "_vjp"], globals()[name + "_jvp"])
        for name in (
            "sigmoid",
            "tanh",
            "relu",
            "leaky_relu",
            "softmax",
            "mse",
            "softmax_cross_entropy",
            "binary_cross_entropy",
        )
    },
}


def as_module(name: str, kind: str, ops: Mapping[str, object]) -> ModuleType:
    """A table of functions in the form an implementation module takes."""
    module = ModuleType(name)
    module.KIND = kind  # type: ignore[attr-defined]
    module.OPS = dict(ops)  # type: ignore[attr-defined]
    return module


class NumpyBackend(ImplBackend):
    """A table of NumPy pairs (the reference's by default), through the same adapter as a user's."""

    def __init__(self, name: str = "numpy", ops: Mapping[str, Pair] | None = None) -> None:
        table = {k: (op.forward, op.vjp, op.jvp) for k, op in (OPS if ops is None else ops).items()}
        super().__init__(
            InProcess(name, CONVENTIONS, watch=False, module=as_module(name, "numpy", table)),
            name=name,
            third_party=False,
        )
        self.ops = OPS if ops is None else ops
