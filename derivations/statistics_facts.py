"""The notes' tensor statistics: norms and the value/position reductions (CLAIMS.md F1, F2, F4)."""

from __future__ import annotations

import numpy as np

from derivations.activation_facts import S001
from derivations.model import Claim, Source

CLAIMS = (
    Claim(
        name="norms_distinct",
        title="vector 1- and 2-norms; a vector norm is not a matrix norm; norm is not normalize",
        source=Source(
            S001, "统计属性", "norm不等于normalize; vector norm 不等同于 matrix norm; 第一范数; 第二范数", ("F1",)
        ),
        method="numerical",
        statement={
            "norm1": lambda x: np.sum(np.abs(x), axis=-1),
            "norm2": lambda x: np.sqrt(np.sum(x**2, axis=-1)),
        },
    ),
    Claim(
        name="reduction_semantics",
        title="mean, sum, max, min, argmax, argmin; kthvalue gives the k-th value and its position; topk the top k",
        source=Source(S001, "统计属性", "kthvalue——第几个的数值和位置; topk——top几的位置和数值", ("F2",)),
        method="numerical",
        # Which k-th: torch documents kthvalue as the k-th smallest; topk as the k largest, largest first.
        statement={
            "kthvalue": lambda x, k: np.sort(x, axis=-1)[..., k - 1],
            "topk": lambda x, k: -np.sort(-x, axis=-1)[..., :k],
        },
    ),
    Claim(
        name="norm_not_normalize",
        title="norm is not normalize",
        source=Source(S001, "统计属性", "注意:norm不等于normalize(正则化)", ("F4",)),
        method="numerical",
        statement={
            "norm": lambda x: np.sqrt(np.sum(x**2, axis=-1)),
            "normalize": lambda x: x / np.sqrt(np.sum(x**2, axis=-1, keepdims=True)),
        },
    ),
    Claim(
        name="normalize_is_regularisation",
        title="normalize is 正则化 (regularisation)",
        source=Source(S001, "统计属性", "注意:norm不等于normalize(正则化)", ("F4",)),
        method="numerical",
        interpretation="正则化 read as its standard meaning, regularisation: a penalty such as (λ/2)‖w‖² added to "
        "the loss, which torch's weight_decay applies; normalize as torch.nn.functional.normalize",
        statement={"gloss": "regularisation"},
    ),
)
