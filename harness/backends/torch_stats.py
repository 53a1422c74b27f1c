"""torch versions of the reductions over a dim, as the notes (001) call them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def torch_stat_ops() -> dict[str, Callable[..., Any]]:
    import torch

    return {
        "sum_dim": lambda x, dim, keepdim: torch.sum(x, dim=dim, keepdim=keepdim),
        "mean_dim": lambda x, dim, keepdim: torch.mean(x, dim=dim, keepdim=keepdim),
        "norm1_dim": lambda x, dim, keepdim: x.norm(1, dim=dim, keepdim=keepdim),
        "norm2_dim": lambda x, dim, keepdim: x.norm(2, dim=dim, keepdim=keepdim),
        "max_dim": lambda x, dim, keepdim: torch.max(x, dim=dim, keepdim=keepdim).values,
        "min_dim": lambda x, dim, keepdim: torch.min(x, dim=dim, keepdim=keepdim).values,
        "kthvalue": lambda x, dim, keepdim, k: torch.kthvalue(x, k, dim=dim, keepdim=keepdim).values,
        "topk": lambda x, dim, k: torch.topk(x, k, dim=dim).values,
    }
