"""MSE, softmax cross entropy and binary cross entropy (CLAIMS.md B1, B3, B4)."""

from __future__ import annotations

import sympy as sp

from derivations.activations import _softmax
from derivations.model import ClosedForm, Input, Interval, Op, Region, Simplex, Source

mse = Op(
    name="mse",
    title="mean squared error over the last axis",
    source=Source(
        seed="004_f140c67d6cd45aad.txt",
        section="损失函数 MSE; 梯度下降 (grad+=2*x*(x*w-y))",
        quote="J=(1/N)∑(ŷ_i−y_i)²; MSE不开根号; grad+=2*x*(x*w-y)",
        claims=("B1", "C2"),
    ),
    engine=ClosedForm(
        structure="row",
        forward=lambda yhat, y: sum((a - b) ** 2 for a, b in zip(yhat, y, strict=True)) / len(yhat),
        # C2's hand gradient 2*x*(x*w-y), averaged, is this chain rule times dyhat/dw = x.
        stated=lambda yhat, y, out: [2 * (a - b) / len(yhat) for a, b in zip(yhat, y, strict=True)],
        reduces=True,
    ),
    inputs=(Input("yhat"), Input("y")),
    regions=(Region("typical"), Region("large-values", low=100.0, bound=1e4)),
)


def _cross_entropy(z: list[sp.Expr], y: list[sp.Expr]) -> sp.Expr:
    p = _softmax(z)
    return -sum(yi * sp.log(pi) for yi, pi in zip(y, p, strict=True))


softmax_cross_entropy = Op(
    name="softmax_cross_entropy",
    title="cross entropy of softmax(z) against probability targets",
    source=Source(
        seed="004_f140c67d6cd45aad.txt",
        section="交叉熵",
        quote="H=−∑ y_i log(y_i′); gradient with respect to the logits p − y",
        claims=("B3", "A5"),
    ),
    engine=ClosedForm(
        structure="row",
        forward=_cross_entropy,
        stated=lambda z, y, out: [p - yi for p, yi in zip(_softmax(z), y, strict=True)],
        reduces=True,
        floor=1.0,
    ),
    inputs=(Input("z"), Input("y", domain=Simplex())),
    regions=(Region("typical"), Region("large-logits", low=100.0, bound=1e3)),
    notes="p - y holds because each target row sums to 1; the domain declares it.",
)


def _sigmoid(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-z))


binary_cross_entropy = Op(
    name="binary_cross_entropy",
    title="binary cross entropy of sigmoid(z) against a target in [0, 1]",
    source=Source(
        seed="001_e84e7666733dea5a.txt",
        section="Binary Classification",
        quote="这里的p值是最后的通过激活函数之后的概率值 y是0或1; 交叉熵 −log p",
        claims=("B3", "B4"),
    ),
    engine=ClosedForm(
        structure="elementwise",
        forward=lambda z, y: -(y * sp.log(_sigmoid(z)) + (1 - y) * sp.log(1 - _sigmoid(z))),
        stated=lambda z, y, out: _sigmoid(z) - y,
        floor=1.0,
    ),
    inputs=(Input("z"), Input("y", domain=Interval(0.0, 1.0))),
    regions=(Region("typical"), Region("saturation", low=20.0, bound=1e3)),
    notes="The notes give the loss, not its derivative; sigma(z) - y is the derivative the "
    "catalog states for it, and the symbolic check decides it like any other.",
)

OPS = (mse, softmax_cross_entropy, binary_cross_entropy)
