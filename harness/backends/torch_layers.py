"""torch versions of the tensor ops, built from torch's own library functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.backends.torch_conv import torch_conv_ops
from harness.backends.torch_stats import torch_stat_ops
from harness.backends.torch_update_rules import torch_update_rule_ops


def torch_tensor_ops() -> dict[str, Callable[..., Any]]:
    import torch
    import torch.nn.functional as F

    activations: dict[str, Callable[[Any], Any]] = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda y: F.leaky_relu(y, 0.1),
    }

    def dense_layer(x: Any, w: Any, b: Any, g: str) -> Any:
        return activations[g](F.linear(x, w, b))

    return {"dense_layer": dense_layer, **torch_conv_ops(), **torch_stat_ops(), **torch_update_rule_ops()}
