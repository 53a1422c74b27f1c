"""torch versions of convolution and pooling: torch's own F.conv2d, F.max_pool2d, F.avg_pool2d."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def torch_conv_ops() -> dict[str, Callable[..., Any]]:
    import torch
    import torch.nn.functional as F

    def conv2d(x: Any, w: Any, b: Any, stride: Sequence[int], padding: Sequence[int]) -> Any:
        return F.conv2d(x, w, b, stride=tuple(stride), padding=tuple(padding))

    def max_pool2d(x: Any, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int]) -> Any:
        return F.max_pool2d(x, tuple(kernel), tuple(stride), tuple(padding))

    def avg_pool2d(x: Any, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int]) -> Any:
        return F.avg_pool2d(x, tuple(kernel), tuple(stride), tuple(padding))

    def inception_block(x: Any, w1: Any, b1: Any, w3: Any, b3: Any, wp: Any, bp: Any) -> Any:
        pooled = F.avg_pool2d(x, 3, 1, 1)
        branches = [F.conv2d(x, w1, b1), F.conv2d(x, w3, b3, padding=1), F.conv2d(pooled, wp, bp)]
        return torch.cat(branches, dim=1)

    return {"conv2d": conv2d, "max_pool2d": max_pool2d, "avg_pool2d": avg_pool2d, "inception_block": inception_block}
