"""What the notes say about the activations beyond their derivatives (CLAIMS.md A1-A9, D5, G5)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations import activations as act
from derivations.model import Claim, Source

S000, S001, S002, S003, S004 = (
    "000_ce79ae806429c0e9.txt",
    "001_e84e7666733dea5a.txt",
    "002_45e9eb678900eba1.txt",
    "003_ad6ea9e548d464f2.txt",
    "004_f140c67d6cd45aad.txt",
)

Z = sp.Symbol("z", real=True)


def _sigmoid(z: sp.Expr) -> sp.Expr:
    return act.sigmoid.forward(z)  # type: ignore[return-value]


def _tanh(z: sp.Expr) -> sp.Expr:
    return act.tanh.forward(z)  # type: ignore[return-value]


CLAIMS = (
    Claim(
        name="sigmoid_range_monotone",
        title="sigmoid takes values in [0, 1] and increases monotonically",
        source=Source(S004, "sigmoid函数", "函数值处于[0,1],单调递增", ("A1",)),
        method="symbolic",
        statement={"f": _sigmoid(Z), "range": (0, 1), "closed": True, "increasing": True},
    ),
    Claim(
        name="sigmoid_derivative_range",
        title="sigma' takes values in [0, 0.25]",
        source=Source(S004, "sigmoid函数", "导数取值[0,0.25]", ("A1",)),
        method="symbolic",
        statement={"f": _sigmoid(Z), "range": (0, sp.Rational(1, 4))},
    ),
    Claim(
        name="tanh_range_zero_centred",
        title="tanh takes values in (-1, 1) and is centred at 0",
        source=Source(S002, "tanh 函数", "输出区间是在(-1,1)之间,而且整个函数是以0为中心的", ("A2",)),
        method="symbolic",
        statement={"f": _tanh(Z), "range": (-1, 1), "closed": False, "increasing": True, "centre": 0},
    ),
    Claim(
        name="tanh_shifted_sigmoid",
        title="tanh is a shifted sigmoid",
        source=Source(S003, "tanh", "tanh是sigmoid的位移版本", ("A2",)),
        method="symbolic",
        # "Shifted" as written: tanh(z) = sigma(z - a) + b for some constants a and b.
        statement={"tanh": _tanh(Z), "family": lambda s, z, a, b: s(z - a) + b, "sigmoid": _sigmoid},
    ),
    Claim(
        name="relu_derivative_values",
        title="ReLU's derivative is 1 for z > 0 and 0 for z < 0; its values lie in [0, inf)",
        source=Source(S002, "ReLU 函数", "a=max(0,z) 导数大于0时1,小于0时0; relu:导数取值0或1", ("A3",)),
        method="symbolic",
        statement={"f": lambda z: sp.Max(0, z), "positive": 1, "negative": 0, "lowest": 0},
    ),
    Claim(
        name="leaky_gradient_nonzero",
        title="leaky ReLU's gradient is never 0 for z < 0 (alpha > 0)",
        source=Source(S002, "Leaky ReLU 函数", "保证在z<0的时候,梯度仍然不为0; a=max(αz,z)", ("A4",)),
        method="symbolic",
        statement={"f": lambda z, alpha: sp.Max(alpha * z, z), "alphas": (sp.Rational(1, 100), sp.Rational(1, 10))},
    ),
    Claim(
        name="softmax_probabilities",
        title="softmax outputs p_i > 0 with sum 1",
        source=Source(S004, "softmax", "p_i>0,且∑p_i=1", ("A5",)),
        method="symbolic",
        statement={"softmax": act._softmax, "sizes": (2, 3, 4)},
    ),
    Claim(
        name="softmax_widens_gaps",
        title="softmax widens the gaps between values",
        source=Source(S001, "softmax", "扩大了值之间的差距", ("A5",)),
        method="numerical",
        # As written, against the plain way to turn positive scores into shares (divide by the sum):
        # the gap between the largest and the smallest share is wider after softmax.
        statement={
            "softmax": act._softmax,
            "widens": lambda z, p: (max(p) - min(p)) >= (max(z) - min(z)) / sum(z),
        },
    ),
    Claim(
        name="linear_layers_collapse",
        title="without a non-linear activation any stack of linear layers equals one linear layer",
        source=Source(S004, "激活函数", "多层网络都能化成一层", ("A6",)),
        method="symbolic",
        statement={"activation": lambda v: v, "depths": (1, 2, 3, 4)},
    ),
    Claim(
        name="saturation",
        title="sigmoid and tanh saturate: the derivative tends to 0 for large |z|",
        source=Source(S004, "选定优先级", "接近饱和区时,导数趋于0", ("A7",)),
        method="symbolic",
        statement={"functions": {"sigmoid": _sigmoid, "tanh": _tanh}, "limit": 0},
    ),
    Claim(
        name="sigmoid_chain_factors_small",
        title="a chain of k sigmoid derivatives is at most 4^-k (vanishing gradients)",
        source=Source(S004, "梯度消失", "∏g′(y^{L+i}) ... 每个隐藏层都使用Sigmoid函数 ... 很容易引起梯度消失", ("D5",)),
        method="symbolic",
        statement={"g": _sigmoid, "bound": lambda k: sp.Rational(1, 4) ** k, "depths": (1, 2, 3, 4)},
    ),
    Claim(
        name="activation_values_in_unit_interval",
        title="activation values lie in [0, 1], like a probability",
        source=Source(
            S004, "基础知识 / 激活函数", "取值[0,1],如leru取值[0,正无穷)可归一化成[0,1],符合概率特点", ("A8",)
        ),
        method="symbolic",
        # The activations the notes name: sigmoid, tanh, ReLU and leaky ReLU at its usual slope 0.01.
        statement={
            "activations": {
                "sigmoid": _sigmoid,
                "tanh": _tanh,
                "relu": lambda z: sp.Max(0, z),
                "leaky_relu": lambda z: sp.Max(z / 100, z),
            },
            "range": (0, 1),
        },
    ),
    Claim(
        name="relu_normalisable",
        title="ReLU's values [0, ∞) can be normalised into [0, 1]",
        source=Source(S004, "基础知识 / 激活函数", "如leru取值[0,正无穷)可归一化成[0,1]", ("A8",)),
        method="numerical",
        interpretation="'normalised' (归一化) read as dividing a batch of outputs by its largest value, the usual "
        "min-max scaling when the minimum is ReLU's 0; a batch with no positive value is already in [0, 1] and is kept",
        statement={
            "activation": lambda z: np.maximum(0.0, z),
            "normalise": lambda a: a / np.max(a) if np.max(a) > 0 else a,
            "range": (0.0, 1.0),
        },
    ),
    Claim(
        name="tanh_outputs_mean_zero",
        title="tanh as the activation normalises: its outputs have mean 0",
        source=Source(
            S002, "tanh 函数", "tanh是以0为中心点,如果使用tanh作为激活函数,还能起到归一化(均值为0)的效果", ("A9",)
        ),
        method="numerical",
        interpretation="the note does not say which pre-activations; the check sweeps their mean μ (z ~ N(μ, 1)) "
        "and says for which μ the outputs' mean is 0",
        statement={"f": np.tanh, "mean": 0.0, "centres": (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)},
    ),
    Claim(
        name="approximates_any_function",
        title="with non-linear activations a network can approximate any non-linear function arbitrarily well",
        source=Source(S002, "为什么激活函数都是非线性的", "使得神经网络可以任意逼近任何非线性函数", ("G5",)),
        method="numerical",
        interpretation="'approximate arbitrarily well' read as: the largest error over the domain falls below any "
        "bound as the network widens (uniform approximation); the note names neither the functions nor the domain, "
        "so a discontinuous target (the sign function) and an unbounded domain (x² on the real line) are included",
        statement={
            "targets": {
                "sign on [-1, 1]": (np.sign, (-1.0, 1.0)),
                "x² on the real line": (np.square, (-np.inf, np.inf)),
            }
        },
    ),
    Claim(
        name="approximates_continuous_on_interval",
        title="a ReLU network approximates a continuous function on a closed interval arbitrarily well",
        source=Source(S002, "为什么激活函数都是非线性的", "使得神经网络可以任意逼近任何非线性函数", ("G5",)),
        method="numerical",
        interpretation="the part of the sentence that holds (the universal approximation theorem): continuous "
        "targets on a closed interval; shown by building the network, one hidden ReLU unit per knot",
        statement={
            "targets": {
                "sin on [-π, π]": (np.sin, (-np.pi, np.pi)),
                "|x| on [-1, 1]": (np.abs, (-1.0, 1.0)),
                "exp on [-2, 2]": (np.exp, (-2.0, 2.0)),
            }
        },
    ),
)
