"""The NumPy reference: forward and backward of each op side by side, from the notes' formulas.

Independent of SymPy on purpose: it is a second, hand-written opinion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from derivations.model import Derivation
from derivations.tensor_model import TensorOp
from harness.backends.base import Arrays, Target
from harness.backends.numpy_layers import LAYER_OPS
from harness.backends.numpy_networks import NETWORK_OPS


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


def mse_vjp(yhat: np.ndarray, y: np.ndarray, c: np.ndarray) -> np.ndarray:
    return c[..., None] * 2 * (yhat - y) / yhat.shape[-1]


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * _log_softmax(z)).sum(axis=-1)  # H = -sum y_i log(y'_i)


def softmax_cross_entropy_vjp(z: np.ndarray, y: np.ndarray, c: np.ndarray) -> np.ndarray:
    return c[..., None] * (softmax(z) - y)  # p - y


def binary_cross_entropy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    # -[y log s + (1-y) log(1-s)] rewritten so that neither log sees 0.
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy_vjp(z: np.ndarray, y: np.ndarray, c: np.ndarray) -> np.ndarray:
    return c * (sigmoid(z) - y)


@dataclass(frozen=True)
class Op:
    forward: Callable[..., np.ndarray]
    # One array for an elementwise or row op; for a tensor op a tuple with one gradient per
    # input (None for inputs without one).
    vjp: Callable[..., np.ndarray | tuple[np.ndarray | None, ...]]


OPS: dict[str, Op] = {
    **{name: Op(fwd, vjp) for name, (fwd, vjp) in LAYER_OPS.items()},
    **{name: Op(fwd, vjp) for name, (fwd, vjp) in NETWORK_OPS.items()},
    **{
        name: Op(globals()[name], globals()[name + "_vjp"])
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


class NumpyBackend:
    """Runs an op table of plain NumPy functions; the reference's table by default."""

    def __init__(self, name: str = "numpy", ops: dict[str, Op] | None = None) -> None:
        self.name = name
        self.ops = OPS if ops is None else ops

    def targets(self) -> list[Target]:
        return [Target("cpu", "float32"), Target("cpu", "float64")]

    def unavailable(self, target: Target) -> str | None:
        return None

    def provides(self, derivation: Derivation) -> bool:
        return derivation.name in self.ops

    def _args(self, d: Derivation, arrays: Arrays, target: Target) -> list[np.ndarray]:
        return [np.asarray(arrays[i.name], dtype=target.dtype) for i in d.inputs]

    def forward(self, d: Derivation, arrays: Arrays, params: dict[str, float], target: Target) -> np.ndarray:
        out = self.ops[d.name].forward(*self._args(d, arrays, target), **params)
        return np.asarray(out, dtype=np.float64)

    def vjp(
        self,
        d: Derivation,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        target: Target,
    ) -> np.ndarray:
        c = np.asarray(cotangent, dtype=target.dtype)
        out = self.ops[d.name].vjp(*self._args(d, arrays, target), c, **params)
        if isinstance(d, TensorOp):
            return _per_input(d, out)  # type: ignore[return-value]
        return np.asarray(out, dtype=np.float64)


def _per_input(op: TensorOp, grads: object) -> dict[str, np.ndarray | None]:
    """A tuple with one gradient per input (None for the non-differentiable ones) as a dict."""
    if not isinstance(grads, (tuple, list)) or len(grads) != len(op.inputs):
        got = len(grads) if isinstance(grads, (tuple, list)) else type(grads).__name__
        raise ValueError(f"{op.name}: the VJP must return {len(op.inputs)} gradients (one per input), got {got}")
    return {
        i.name: None if g is None else np.asarray(g, dtype=np.float64)
        for i, g in zip(op.inputs, grads, strict=True)
        if i.differentiable
    }
