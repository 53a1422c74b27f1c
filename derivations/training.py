"""Initialisation claims, run as seeded experiments (CLAIMS.md D7, D8)."""

from __future__ import annotations

import numpy as np

from derivations.activation_facts import S003
from derivations.model import Claim, Source

CLAIMS = (
    Claim(
        name="zero_init_symmetry",
        title="all-zero weights keep the hidden units identical after any number of iterations",
        source=Source(
            S003,
            "2.5 随机初始化参数",
            "无论你将这个神经网络训练多久 这两个隐藏单元仍然在使用同样的功能进行运算",
            ("D7",),
        ),
        method="empirical",
        statement={"init": lambda rng, shape: np.zeros(shape), "hidden": 3, "steps": 300},
    ),
    Claim(
        name="large_init_saturation",
        title="large initial weights push tanh into saturation and slow learning (hence ×0.01)",
        source=Source(S003, "为什么是0.01", "当w非常大的时候 z(的绝对值)也相应的会非常大", ("D8",)),
        method="empirical",
        # Scales of the first layer's weights, whose z = w x + b the notes speak of.
        statement={"small": 0.01, "large": 10.0, "steps": 300, "runs": 4},
    ),
)
