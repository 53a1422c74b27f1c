"""Activations and softmax, as the notes state them (CLAIMS.md A1-A5)."""

from __future__ import annotations

import sympy as sp

from derivations.model import ClosedForm, Input, Interval, Kink, Op, Param, Region, Source

ALPHA = sp.Symbol("alpha", real=True)

SATURATION = Region("saturation", low=20.0, bound=1e3)
KINK = Region("kink", bound=5.0, kink_fraction=0.5)

sigmoid = Op(
    name="sigmoid",
    title="logistic sigmoid",
    # The derivative a′ = a(1 − a) is 002's (004 gives only its range); 002 prints it as a LaTeX image link.
    source=Source(
        seed="002_45e9eb678900eba1.txt",
        section="sigmoid 函数",
        quote="导数 :a′=a(1−a)  (printed as gif.latex?a%5E%5Cprime%20%3Da%281%20-%20a%29)",
        claims=("A1",),
    ),
    engine=ClosedForm(
        structure="elementwise",
        forward=lambda z: 1 / (1 + sp.exp(-z)),
        stated=lambda z, out: out * (1 - out),
    ),
    inputs=(Input("z"),),
    regions=(Region("typical"), SATURATION),
)

tanh = Op(
    name="tanh",
    title="hyperbolic tangent",
    source=Source(
        seed="002_45e9eb678900eba1.txt",
        section="tanh 函数",
        quote="导数:a′=1−a²",
        claims=("A2",),
    ),
    engine=ClosedForm(
        structure="elementwise",
        forward=lambda z: (sp.exp(z) - sp.exp(-z)) / (sp.exp(z) + sp.exp(-z)),
        stated=lambda z, out: 1 - out**2,
    ),
    inputs=(Input("z"),),
    regions=(Region("typical"), SATURATION),
)

relu = Op(
    name="relu",
    title="rectified linear unit",
    source=Source(
        seed="002_45e9eb678900eba1.txt",
        section="Relu 函数",
        quote="a=max(0,z) 导数大于0时1,小于0时0。",
        claims=("A3",),
    ),
    engine=ClosedForm(
        structure="elementwise",
        forward=lambda z: sp.Max(0, z),
        # The notes give 1 for z>0 and 0 for z<0 and say nothing at z=0: the kink below
        # records the subgradient set there instead of inventing a value.
        stated=lambda z, out: sp.Piecewise((1, z > 0), (0, z < 0)),
        kinks=(Kink(0.0, sp.Integer(0), sp.Integer(1)),),
    ),
    inputs=(Input("z"),),
    regions=(Region("typical"), KINK),
)

leaky_relu = Op(
    name="leaky_relu",
    title="leaky ReLU with slope alpha",
    source=Source(
        seed="002_45e9eb678900eba1.txt",
        section="Leaky Relu 函数",
        quote="ReLU的前半段设为αz而非0,通常α=0.01 a=max(αz,z); 保证在z<0的时候,梯度仍然不为0",
        claims=("A4",),
    ),
    engine=ClosedForm(
        structure="elementwise",
        # "ReLU的前半段设为αz": αz for z < 0, z for z > 0, for every α. The note's a=max(αz, z) is the same
        # function only for α <= 1; the claim leaky_max_form judges that form.
        forward=lambda z, alpha: sp.Max(0, z) + alpha * sp.Min(0, z),
        # "the first half of ReLU becomes alpha*z": slope alpha for z<0, 1 for z>0.
        stated=lambda z, out, alpha: sp.Piecewise((1, z > 0), (alpha, z < 0)),
        kinks=(Kink(0.0, ALPHA, sp.Integer(1)),),
    ),
    inputs=(Input("z"),),
    # The note confines α nowhere: every real slope. Drawn from [-10, 10] (the region's bound), with 0.1 (the
    # notes' plots), slopes above 1 and a negative one always visited.
    params=(Param("alpha", 0.01, Interval(-float("inf"), float("inf")), samples=(0.01, 0.1, 0.2, 0.5, 2.0, -0.5)),),
    regions=(Region("typical"), KINK, Region("slope-not-0.01", param_samples=True)),
    notes="The notes plot alpha=0.1 and recommend 0.01; the slope is a free parameter, as in the notes. The forward "
    "is the first half of ReLU set to αz (002's words, and torch's leaky_relu); 002's a=max(αz, z) equals it only "
    "for α <= 1.",
)


def _softmax(z: list[sp.Expr]) -> list[sp.Expr]:
    total = sum(sp.exp(zj) for zj in z)
    return [sp.exp(zi) / total for zi in z]


softmax = Op(
    name="softmax",
    title="softmax over the last axis",
    source=Source(
        seed="001_e84e7666733dea5a.txt",
        section="求导",
        quote="softmax的公式为: 当i=j的时候求导结果为: 当i不等于j的时候求导结果为:  (the formulas were images)",
        claims=("A5",),
    ),
    engine=ClosedForm(
        structure="row",
        forward=_softmax,
        stated=lambda z, out: [
            [out[i] * (1 - out[i]) if i == j else -out[i] * out[j] for j in range(len(z))] for i in range(len(z))
        ],
    ),
    inputs=(Input("z"),),
    regions=(Region("typical"), Region("large-logits", low=100.0, bound=1e3)),
    notes="The derivative is reconstructed: 001 names the two cases (i = j, i ≠ j) but its formulas were images, "
    "lost from the text; p_i(1 − p_i) and −p_i p_j are the standard results put in their place. The forward is "
    "004's e^{z_i} / Σ_j^{n−1} e^{z_j}, with j read as running over all n classes, 0 to n−1 (the A5 claims judge "
    "both readings of the printed limit).",
)

OPS = (sigmoid, tanh, relu, leaky_relu, softmax)
