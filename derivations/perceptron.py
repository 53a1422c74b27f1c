"""D4: the single-output and multi-output perceptron with sigmoid and the squared error (001).

The formulas here are RECONSTRUCTED, not quoted. 001's text keeps the headings and the words
around its formulas ("the activation is sigmoid, so its derivative is [image]; the regression is a
linear function"; "the activation is still sigmoid, the estimate still a linear regression"),
while every formula was an image lost from the text. The reconstruction is the derivation those
words describe, the course's usual one: O_k = sigmoid(sum_j w_kj x_j), E = 1/2 sum_k (O_k - t_k)^2,

    dE/dw_kj = (O_k - t_k) O_k (1 - O_k) x_j

(one output: k = 0 only). The squared error, the absent bias and the names O, t, w_kj are read
into the lost images, not read off them. One example; E is returned as a length-1 array.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations.elementary import FLOAT
from derivations.model import Arrays, Condition, Elementary, Example, Input, Op, Params, Program, Source, named


def _weights(arrays: Arrays) -> Any:
    w = arrays["w"]
    return w.reshape(1, -1) if w.ndim == 1 else w


def perceptron_forward(m: Elementary, arrays: Arrays, params: Params) -> np.ndarray:
    o = m.sigmoid(_weights(arrays) @ arrays["x"])  # O_k = sigmoid(sum_j w_kj x_j)
    return np.reshape(np.sum((o - arrays["t"]) ** 2) / 2, (1,))  # type: ignore[no-any-return]  # E = 1/2 sum_k (O_k - t_k)^2


def perceptron_stated(m: Elementary, arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    """dE/dw_kj = (O_k - t_k) O_k (1 - O_k) x_j, times the cotangent of E."""
    o = m.sigmoid(_weights(arrays) @ arrays["x"])
    dw = np.outer((o - arrays["t"]) * o * (1 - o), arrays["x"]) * c[0]
    return {"w": dw.reshape(arrays["w"].shape)}


def perceptron_bound(arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    w, x, t = _weights(arrays), arrays["x"], arrays["t"]
    z = w @ x
    z_mag = np.abs(w) @ np.abs(x)
    o = np.asarray(FLOAT.sigmoid(z), dtype=np.float64)
    # sigma(z) sigma(-z), not o(1 - o): in the tail o rounds to 1 and o(1 - o) to 0, which
    # would leave no room for the error of a backward that rounds O first.
    slope = np.asarray(FLOAT.sigmoid(z) * FLOAT.sigmoid(-z), dtype=np.float64)
    diff = np.abs(o - t) + np.abs(o) + np.abs(t) + slope * z_mag  # o - t with o's error
    out = np.array([np.sum(diff * np.abs(o - t))])
    # (O - t) O (1 - O): each factor's error; sigma' taken from the rounded O moves by |1 - 2O| <= 1.
    dz = np.abs(c[0]) * (diff * slope + np.abs(o - t) * (1 + slope * z_mag))
    dt = np.abs(c[0]) * diff  # dE/dt = -(O - t): the error of O - t
    return {"out": out, "w": np.outer(dz, np.abs(x)).reshape(arrays["w"].shape), "x": dz @ np.abs(w), "t": dt}


def perceptron_roundings(arrays: Arrays, params: Params) -> float:
    return 16.0 + 2.0 * (arrays["x"].size + _weights(arrays).shape[0])


def perceptron_strategy(multi: bool) -> Any:
    def strategy(region: str) -> st.SearchStrategy[Example]:
        """typical: |x|, |w| <= 3, t in [0, 1]; saturated: |w| up to 30 (O within e^-30 of 0 or 1);
        non-square (multi-output): m != n."""

        @st.composite
        def build(draw: st.DrawFn) -> Example:
            n = draw(st.integers(1, 5))
            m = draw(st.integers(1, 4).filter(lambda k: region != "non-square" or k != n)) if multi else 1
            w_bound = 30.0 if region == "saturated" else 3.0
            f32 = {"width": 32, "allow_subnormal": False}
            x = draw(hnp.arrays(np.float64, (n,), elements=st.floats(-3, 3, **f32)))  # type: ignore[arg-type]
            w_shape = (m, n) if multi else (n,)
            w = draw(hnp.arrays(np.float64, w_shape, elements=st.floats(-w_bound, w_bound, **f32)))  # type: ignore[arg-type]
            t = draw(hnp.arrays(np.float64, (m,), elements=st.floats(0, 1, **f32)))  # type: ignore[arg-type]
            tags = ("non-square",) if multi and m != n else ()
            return Example({"x": x, "w": w, "t": t}, {}, region, tags)

        return build()

    return strategy


def perceptron_op(multi: bool) -> Op:
    return Op(
        name="perceptron_multi" if multi else "perceptron_single",
        title=(
            "Multi-output perceptron with sigmoid: dE/dw_jk = (O_k - t_k) O_k (1 - O_k) x_j"
            if multi
            else "Single-output perceptron with sigmoid: dE/dw_j0 = (O_0 - t) O_0 (1 - O_0) x_j"
        ),
        source=Source(
            seed="001",
            # The quote is the words around the lost images; the formula itself is reconstructed (see notes).
            section="多输出感知机的梯度推导" if multi else "感知机的梯度推导",
            quote="激活函数仍然是sigmoid,且y的估计函数用到的仍然是一次线性回归函数"
            if multi
            else "这里的激活函数是sigmoid激活函数,所以对其求到的结果是,且使用的回归函数是一次线性回归函数",
            claims=("D4",),
        ),
        inputs=(Input("x"), Input("w"), Input("t")),
        engine=Program(
            forward=perceptron_forward,
            strategy=perceptron_strategy(multi),
            bound=perceptron_bound,
            roundings=perceptron_roundings,
            stated=perceptron_stated,
        ),
        regions=named("typical", "saturated", "non-square") if multi else named("typical", "saturated"),
        # Several outputs, and a w with m != n (a transposed weight gradient hides in a square one).
        conditions=(
            Condition("m>1 outputs", lambda ex: np.ndim(ex.arrays["w"]) == 2 and ex.arrays["w"].shape[0] > 1),
            Condition(
                "m != n", lambda ex: np.ndim(ex.arrays["w"]) == 2 and ex.arrays["w"].shape[0] != ex.arrays["w"].shape[1]
            ),
        )
        if multi
        else (),
        notes=(
            "RECONSTRUCTED formula: 001's formulas for this derivation are images lost from its text, which keeps "
            "only the words around them (sigmoid activation, 'its derivative is [image]', a linear regression "
            "function). The encoded forward and gradient are the derivation those words describe, not the note's "
            "printed formula: O_k = sigmoid(sum_j w_kj x_j), E = 1/2 sum_k (O_k - t_k)^2, dE/dw_kj = "
            "(O_k - t_k) O_k (1 - O_k) x_j; the squared error and the absent bias are read in. "
            + ("w has shape (m, n): w[k, j] joins input j to output k. " if multi else "w has shape (n,). ")
            + "The reconstruction gives dE/dw only; dE/dx is checked against the exact gradient without a stated form."
        ),
    )


OPS = (perceptron_op(False), perceptron_op(True))
