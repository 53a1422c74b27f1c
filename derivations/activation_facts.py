"""What the notes say about the activations beyond their derivatives (CLAIMS.md A1-A9, D5, G5)."""

from __future__ import annotations

from collections.abc import Callable

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
    return act.sigmoid.closed_form.forward(z)  # type: ignore[return-value]


def _tanh(z: sp.Expr) -> sp.Expr:
    return act.tanh.closed_form.forward(z)  # type: ignore[return-value]


J = sp.Symbol("j", integer=True)


def _relu(z: sp.Expr) -> sp.Expr:
    return sp.Max(0, z)


def _printed_softmax(lower: int) -> Callable[[sp.IndexedBase, int, int], sp.Expr]:
    """ŷ_i = e^{z_i} / Σ_j^{n−1} e^{z_j} with the printed upper limit n − 1 and the given lower limit."""
    return lambda z, i, n: sp.exp(z[i]) / sp.Sum(sp.exp(z[J]), (J, lower, n - 1))


# A sum printed without a lower limit: both ways to read it, each judged (see the claims' interpretation).
_SOFTMAX_FROM_0 = "Σ_j^{n−1} is printed without a lower limit; read as j = 0..n−1, the n classes numbered 0..n−1 as "
_UPPER = "the upper limit n−1 for n classes implies"
_OUTPUTS = (
    "p_i read as softmax's output ŷ_i for class i, the printed formula read with j = 0..n−1 (the reading that "
    "sums over all n classes, softmax_sum_from_0); "
)

SIGMOID_CLAIMS = (
    Claim(
        name="sigmoid_range",
        title="sigmoid's values are the closed interval [0, 1]",
        source=Source(
            S004, "sigmoid函数", "sigmoid函数:取值 [0,1]; 函数值处于[0,1]; 直接把它叫做sigmoid函数:取值[0,1]", ("A1",)
        ),
        method="symbolic",
        interpretation="取值 (takes values) read as the set of values σ takes, with the brackets as printed: closed, "
        "so 0 and 1 are among them; 函数值处于[0,1] is read the same way. Read only as 'no value outside [0,1]' "
        "it holds. 002 writes the open interval (0,1) (sigmoid_range_open)",
        statement={"f": _sigmoid(Z), "order": 0, "range": (0, 1), "brackets": "[]"},
    ),
    Claim(
        name="sigmoid_range_open",
        title="sigmoid's output lies in the open interval (0, 1)",
        source=Source(S002, "sigmoid 函数", "其输出是在(0,1)这个开区间", ("A1",)),
        method="symbolic",
        statement={"f": _sigmoid(Z), "order": 0, "range": (0, 1), "brackets": "()"},
    ),
    Claim(
        name="sigmoid_monotone",
        title="sigmoid increases monotonically",
        source=Source(S004, "sigmoid函数", "函数值处于[0,1],单调递增", ("A1",)),
        method="symbolic",
        interpretation="the sentence describes the family of sigmoid functions; encoded for the logistic σ the note "
        "names next. 单调递增 read as strictly increasing (the stronger reading; it implies the weaker)",
        statement={"f": _sigmoid(Z), "direction": "increasing"},
    ),
    Claim(
        name="sigmoid_derivative_range",
        title="σ' takes the values [0, 0.25]",
        source=Source(S004, "sigmoid函数", "直接把它叫做sigmoid函数:取值[0,1],导数取值[0,0.25]", ("A1",)),
        method="symbolic",
        interpretation="取值 read as the set of values σ' takes, closed at both ends as printed",
        statement={"f": _sigmoid(Z), "order": 1, "range": (0, 0.25), "brackets": "[]"},
    ),
)

RELU_CLAIMS = (
    Claim(
        name="relu_derivative_discontinuous",
        title="ReLU's derivative is discontinuous",
        source=Source(S004, "relu", "relu:倒数函数不连续", ("A3",)),
        method="symbolic",
        interpretation="倒数 (reciprocal) read as 导数 (derivative), a homophone slip: the same line goes on with "
        "导数取值0或1. 'Discontinuous' read as: the derivative jumps, its one-sided limits at some point differ, so "
        "no value there makes it continuous (on its own domain z ≠ 0 ReLU' is constant on each side)",
        statement={"f": _relu(Z), "derivative_continuous": False},
    ),
    Claim(
        name="relu_derivative_values",
        title="ReLU's derivative takes the values 0 or 1",
        source=Source(S004, "relu", "取值[0,正无穷],导数取值0或1", ("A3",)),
        method="symbolic",
        interpretation="the values of the derivative where it exists; the note says nothing of z = 0",
        statement={"f": _relu(Z), "values": sp.FiniteSet(0, 1)},
    ),
    Claim(
        name="relu_derivative_by_sign",
        title="ReLU's derivative is 1 for z > 0 and 0 for z < 0",
        source=Source(S002, "ReLU 函数", "a=max(0,z) 导数大于0时1,小于0时0", ("A3",)),
        method="symbolic",
        interpretation="大于0 / 小于0 read as z > 0 / z < 0, as the next sentence says: z>0时,梯度始终为1 ... "
        "当 z<0时,梯度一直为0",
        statement={"f": _relu(Z), "positive": 1, "negative": 0},
    ),
    Claim(
        name="relu_range_closed",
        title="ReLU's values are [0, +∞], closed at infinity",
        source=Source(S004, "relu", "relu:倒数函数不连续 取值[0,正无穷]", ("A3",)),
        method="symbolic",
        interpretation="正无穷 is +∞; the closing bracket as printed makes +∞ one of the values",
        statement={"f": _relu(Z), "order": 0, "range": (0, sp.oo), "brackets": "[]"},
    ),
    Claim(
        name="relu_range",
        title="ReLU's values are [0, +∞)",
        source=Source(S004, "基础知识 / 激活函数", "如leru取值[0,正无穷)", ("A3",)),
        method="symbolic",
        interpretation="leru read as relu (a typo); 正无穷 is +∞",
        statement={"f": _relu(Z), "order": 0, "range": (0, sp.oo), "brackets": "[)"},
    ),
)

# The slopes the sweep visits: what the words allow is any real α; the note's 0.01, its plot's 0.1 and its
# "0.01 or smaller" among them, and either side of 0 and 1, where max(αz, z) changes shape.
_SLOPES = tuple(sp.Rational(a) for a in ("-1", "-1/2", "0", "1/1000", "1/100", "1/10", "1/2", "1", "2", "10"))

LEAKY_CLAIMS = (
    Claim(
        name="leaky_max_form",
        title="a = max(αz, z) is ReLU with its first half set to αz, for a free slope α",
        source=Source(S002, "Leaky Relu 函数", "ReLU的前半段设为αz而非0,通常α=0.01 a=max(αz,z)", ("A4",)),
        method="symbolic",
        interpretation="the note bounds α nowhere: every real α is swept. 'ReLU's first half set to αz' read as "
        "αz for z < 0 and ReLU's z for z ≥ 0, which is also what the note's code F.leaky_relu(x, α) computes",
        statement={
            "f": lambda z, alpha: sp.Max(alpha * z, z),
            "negative_half": lambda z, alpha: alpha * z,
            "positive_half": lambda z, alpha: z,
            "alpha_domain": sp.S.Reals,
            "alphas": _SLOPES,
        },
    ),
    Claim(
        name="leaky_gradient_nonzero",
        title="leaky ReLU max(αz, z) keeps the gradient non-zero for z < 0",
        source=Source(S002, "Leaky Relu 函数", "该函数保证在z<0的时候,梯度仍然不为0; a=max(αz,z)", ("A4",)),
        method="symbolic",
        interpretation="α is any real except 0: the note sets ReLU's first half to 'αz而非0' (αz rather than 0), "
        "which α = 0 would not change; the sweep shows α = 0 too. The gradient is d/dz max(αz, z) on z < 0",
        statement={
            "f": lambda z, alpha: sp.Max(alpha * z, z),
            "alpha_domain": sp.Complement(sp.S.Reals, sp.FiniteSet(0)),
            "alphas": _SLOPES,
        },
    ),
    Claim(
        name="leaky_slope_usual",
        title="the slope is usually α = 0.01 (the plot uses 0.1; in theory 0.01 or smaller)",
        source=Source(
            S002, "Leaky Relu 函数", "通常α=0.01; 这里的0.1是为了方便展示,理论上应为0.01甚至更小的值", ("A4",)
        ),
        method="prose",
        reason="通常 (usually) reports what practitioners choose and 理论上应为 (in theory should be) a "
        "recommendation with no criterion: neither says what would make 0.01 right and 0.5 wrong, and the notes give "
        "no data on which slopes are used, so no computation decides it. The formula and gradient claims sweep α "
        "over the real line, 0.01 and the plotted 0.1 among the slopes",
    ),
)

PRINTED_SOFTMAX = Source(
    S004,
    "softmax",
    "\\hat{y_i}=p(y=i)=\\sigma(i)=\\frac{e^{{z_i}}}{\\sum\\limits_j^{n-1}{e^{{z_j}}}}\\\\ n个类",
    ("A5",),
)

SOFTMAX_CLAIMS = (
    Claim(
        name="softmax_sum_from_0",
        title="ŷ_i = e^{z_i} / Σ_{j=0}^{n−1} e^{z_j} gives the n classes' probabilities (sum read from j = 0)",
        source=PRINTED_SOFTMAX,
        method="symbolic",
        interpretation=_SOFTMAX_FROM_0 + _UPPER + ". p(y=i) over n classes read as: the n outputs sum to 1; "
        "σ(i) as softmax, compared with torch.softmax",
        statement={"yhat": _printed_softmax(0), "classes": lambda n: range(n), "sizes": (2, 3, 4, 5)},
    ),
    Claim(
        name="softmax_sum_from_1",
        title="ŷ_i = e^{z_i} / Σ_{j=1}^{n−1} e^{z_j} gives the n classes' probabilities (sum read from j = 1)",
        source=PRINTED_SOFTMAX,
        method="symbolic",
        interpretation="Σ_j^{n−1} is printed without a lower limit; read as j = 1..n−1, the lower limit a sum "
        f"usually starts from, the n classes numbered 0..n−1 as {_UPPER} (numbered 1..n, the sum misses class n "
        "instead: the same n−1 terms). p(y=i) read as: the n outputs sum to 1; σ(i) as softmax (torch.softmax)",
        statement={"yhat": _printed_softmax(1), "classes": lambda n: range(n), "sizes": (2, 3, 4, 5)},
    ),
    Claim(
        name="softmax_positive",
        title="every softmax output is positive: p_i > 0",
        source=Source(S004, "softmax", "需要对每个类别输出的概率满足: ... p_i>0", ("A5",)),
        method="symbolic",
        interpretation=_OUTPUTS + "read from j = 1 the outputs are positive as well",
        statement={"yhat": _printed_softmax(0), "classes": lambda n: range(n), "sizes": (2, 3, 4, 5)},
    ),
    Claim(
        name="softmax_sums_to_one",
        title="softmax's outputs sum to 1: Σp_i = 1",
        source=Source(S004, "softmax", "需要对每个类别输出的概率满足: ... 且\\sum{p_i}=1", ("A5",)),
        method="symbolic",
        interpretation=_OUTPUTS + "read from j = 1 they do not (softmax_sum_from_1)",
        statement={"yhat": _printed_softmax(0), "classes": lambda n: range(n), "sizes": (2, 3, 4, 5)},
    ),
    Claim(
        name="softmax_widens_gaps",
        title="softmax widens the gaps between values",
        source=Source(S001, "softmax", "扩大了值之间的差距", ("A5",)),
        method="numerical",
        interpretation="the note does not say wider than what: read against the plain way to turn positive scores "
        "into shares (divide by their sum), comparing the gap between the largest and the smallest share. 001's "
        "softmax formula was an image lost from the text; softmax is the usual one, summed over every class",
        statement={
            "softmax": act._softmax,
            "widens": lambda z, p: (max(p) - min(p)) >= (max(z) - min(z)) / sum(z),
        },
    ),
)

CLAIMS = (
    *SIGMOID_CLAIMS,
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
    *RELU_CLAIMS,
    *LEAKY_CLAIMS,
    *SOFTMAX_CLAIMS,
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
        interpretation="'激活函数' read as every activation the notes name: sigmoid, tanh, ReLU and leaky ReLU at "
        "its usual slope 0.01; the note itself goes on to say ReLU's [0, ∞) must be normalised, which "
        "relu_normalisable judges",
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
