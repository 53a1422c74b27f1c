"""Initialisation and back-propagation claims, run as seeded experiments (CLAIMS.md D7, D8, D10, D11)."""

from __future__ import annotations

import numpy as np

from derivations.activation_facts import S003, S004
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
    Claim(
        name="dloss_dx_L1_feeds_second_to_last",
        title="∂Loss/∂x^{L−1} is used in the second-to-last layer to get ∂Loss/∂y^{L−1}",
        source=Source(
            S004,
            "反向传播时最后一层的导数",
            "∂Loss/∂x^{L−1}:用于倒数第二层求 ∂Loss/∂y^{L−1},便于更新倒数第二层的参数",
            ("D10",),
        ),
        method="numerical",
        # x^k is layer k's output; the note's labels count layers from the end: 1 the last, 2 倒数第二层.
        statement={"x_index": -1, "label_from_end": 2},
    ),
    Claim(
        name="dloss_dx_L2_feeds_second_to_last",
        title="∂Loss/∂x^{L−2} is used in the second-to-last layer to get ∂Loss/∂y^{L−2}",
        source=Source(
            S004,
            "反向传播时倒数第二层的导数",
            "∂Loss/∂x^{L−2}:用于倒数第二层求 ∂Loss/∂y^{L−2},便于更新倒数第二层的参数",
            ("D10",),
        ),
        method="numerical",
        statement={"x_index": -2, "label_from_end": 2},
    ),
    Claim(
        name="init_small_random_2x2",
        title="the initialisation gives a 2×2 matrix of small random values; b may be np.zeros((2,1))",
        source=Source(S003, "2.5 随机初始化参数", "w[1]=np.random.randn((2,2))0.01; b[i]=np.zeros((2,1))", ("D11",)),
        method="numerical",
        interpretation="the printed line does not run (init_line_runs_as_printed); read as np.random.randn(2, 2) * "
        "0.01: the text lost the '*' (as it turned 2×2 into '22'), and randn takes its sizes as separate integers",
        statement={
            "init": lambda rng: rng.standard_normal((2, 2)) * 0.01,
            "shape": (2, 2),
            "scale": 0.01,
            "bias": lambda: np.zeros((2, 1)),
        },
    ),
)
