"""torch autograd on CPU and, where a device exists, CUDA."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from derivations.model import Derivation
from derivations.tensor_model import TensorOp
from harness.backends.base import Arrays, Target
from harness.backends.torch_layers import torch_tensor_ops
from harness.backends.torch_networks import torch_network_ops

TorchFn = Callable[..., object]


def _torch_ops() -> dict[str, TorchFn]:
    import torch
    import torch.nn.functional as F

    def cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        n = z.shape[-1]
        flat = F.cross_entropy(z.reshape(-1, n), y.reshape(-1, n), reduction="none")
        return flat.reshape(z.shape[:-1])

    return {
        **torch_tensor_ops(),
        **torch_network_ops(),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda z, alpha: F.leaky_relu(z, alpha),
        "softmax": lambda z: torch.softmax(z, dim=-1),
        "mse": lambda yhat, y: F.mse_loss(yhat, y, reduction="none").mean(dim=-1),
        "softmax_cross_entropy": cross_entropy,
        "binary_cross_entropy": lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
    }


class TorchBackend:
    """Checks torch callables (built-in ops by default, or a user's) through autograd."""

    HALF = ("float16", "bfloat16")

    def __init__(self, name: str = "torch", ops: dict[str, TorchFn] | None = None) -> None:
        self.name = name
        self._ops = ops

    @property
    def ops(self) -> dict[str, TorchFn]:
        if self._ops is None:
            self._ops = _torch_ops()
        return self._ops

    def targets(self) -> list[Target]:
        cpu = [Target("cpu", "float32"), Target("cpu", "float64")]
        cuda = [Target("cuda", t) for t in ("float32", "float64", *self.HALF)]
        return cpu + cuda

    def unavailable(self, target: Target) -> str | None:
        try:
            import torch
        except ImportError:
            return "torch is not installed"
        if target.device == "cuda" and not torch.cuda.is_available():
            return "no CUDA device"
        return None

    def provides(self, derivation: Derivation) -> bool:
        return derivation.name in self.ops

    def _tensors(self, d: Derivation, arrays: Arrays, target: Target, grad: bool) -> list[Any]:
        import torch

        dtype = getattr(torch, target.dtype)
        tensors = []
        for inp in d.inputs:
            t = torch.from_numpy(np.ascontiguousarray(arrays[inp.name], dtype=np.float64))
            t = t.to(device=target.device, dtype=dtype)
            tensors.append(t.requires_grad_(grad and inp.differentiable))
        return tensors

    @staticmethod
    def _numpy(t: object) -> np.ndarray:
        import torch

        assert isinstance(t, torch.Tensor)
        return t.detach().to(device="cpu", dtype=torch.float64).numpy()

    def _tensor_vjp(self, op: TensorOp, tensors: list[Any], out: Any, cot: Any) -> dict[str, np.ndarray]:
        import torch

        wrt = [t for t, i in zip(tensors, op.inputs, strict=True) if i.differentiable]
        grads = torch.autograd.grad(out, wrt, grad_outputs=cot, allow_unused=True)
        return {
            i.name: np.zeros(tuple(t.shape)) if g is None else self._numpy(g)
            for i, t, g in zip(op.differentiable, wrt, grads, strict=True)
        }

    def forward(self, d: Derivation, arrays: Arrays, params: dict[str, float], target: Target) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self._numpy(self.ops[d.name](*self._tensors(d, arrays, target, False), **params))

    def vjp(
        self,
        d: Derivation,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        target: Target,
    ) -> np.ndarray:
        import torch

        tensors = self._tensors(d, arrays, target, True)
        out = self.ops[d.name](*tensors, **params)
        assert isinstance(out, torch.Tensor)
        cot = torch.from_numpy(np.asarray(cotangent, dtype=np.float64)).to(out.device, out.dtype)
        if isinstance(d, TensorOp):
            return self._tensor_vjp(d, tensors, out, cot)  # type: ignore[return-value]
        x = tensors[[i.name for i in d.inputs].index(d.wrt.name)]
        (grad,) = torch.autograd.grad(out, x, grad_outputs=cot, allow_unused=True)
        if grad is None:
            return np.zeros(np.shape(arrays[d.wrt.name]))
        return self._numpy(grad)
