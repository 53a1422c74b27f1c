"""torch versions of the network ops: F.linear chains, perceptrons and the notes' ResidualBlock,
built from torch's own library functions; gradients come from autograd."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def torch_network_ops() -> dict[str, Callable[..., Any]]:
    import torch
    import torch.nn.functional as F

    activations: dict[str, Callable[[Any], Any]] = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda y: F.leaky_relu(y, 0.1),
    }

    def chain(x: Any, *wb: Any, g: str) -> Any:
        for w, b in zip(wb[::2], wb[1::2], strict=True):
            x = activations[g](F.linear(x, w, b))
        return x

    def perceptron(x: Any, w: Any, t: Any) -> Any:
        o = torch.sigmoid(torch.atleast_2d(w) @ x)
        return (0.5 * ((o - t) ** 2).sum()).reshape(1)

    def residual_linear(x: Any, w: Any, b: Any) -> Any:
        return F.relu(F.linear(x, w, b) + x)

    def residual_block(x: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
        y = F.relu(F.conv2d(x, w1, b1, padding=1))  # y = F.relu(self.conv1(x))
        y = F.conv2d(y, w2, b2, padding=1)  # y = self.conv2(y)
        return F.relu(x + y)  # return F.relu(x + y)

    return {
        **{f"backprop_chain_L{depth}": chain for depth in (1, 2, 3, 4)},
        "perceptron_single": perceptron,
        "perceptron_multi": perceptron,
        "residual_linear": residual_linear,
        "residual_block": residual_block,
    }
