"""torch autograd on CPU and, where a device exists, CUDA: torch's own ops as an implementation."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from harness.backends.numpy_ref import as_module
from harness.backends.torch_layers import torch_tensor_ops
from harness.backends.torch_networks import torch_network_ops
from harness.impl.backend import ImplBackend
from harness.impl.conventions import CONVENTIONS
from harness.impl.isolation import InProcess

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


class TorchBackend(ImplBackend):
    """torch callables (torch's own ops by default, or a table of a user's) through the torch adapter."""

    def __init__(self, name: str = "torch", ops: Mapping[str, TorchFn] | None = None) -> None:
        self.ops = _torch_ops() if ops is None else dict(ops)
        super().__init__(
            InProcess(name, CONVENTIONS, watch=False, module=as_module(name, "torch", self.ops)),
            name=name,
            third_party=False,
        )
