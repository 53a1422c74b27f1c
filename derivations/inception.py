"""E6 in small: an Inception-style block whose branches keep H and W and are concatenated on
the channel axis, so each output channel's gradient flows back through its own branch only.

Branches (004's module, reduced): a 1x1 convolution; a 3x3 convolution with padding 1; a
3x3 average pool (stride 1, padding 1) followed by a 1x1 convolution. The notes state the
channel count (E6, a shape claim) but no gradient formula: the gradients are checked against
the exact ones.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations.conv import conv_bound, conv_forward, conv_roundings
from derivations.model import Arrays, Condition, Elementary, Example, Input, Op, Params, Program, Source, named
from derivations.pooling import avg_pool_forward, avg_pool_stated, pool_roundings

SAME = {"stride": (1, 1), "padding": (0, 0)}
SAME3 = {"stride": (1, 1), "padding": (1, 1)}
POOL = {"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1)}
WEIGHTS = ("w1", "b1", "w3", "b3", "wp", "bp")


def _branches(m: Elementary, a: Arrays) -> list[np.ndarray]:
    pooled = avg_pool_forward(m, {"x": a["x"]}, POOL)
    return [
        conv_forward(m, {"x": a["x"], "w": a["w1"], "b": a["b1"]}, SAME),
        conv_forward(m, {"x": a["x"], "w": a["w3"], "b": a["b3"]}, SAME3),
        conv_forward(m, {"x": pooled, "w": a["wp"], "b": a["bp"]}, SAME),
    ]


def inception_forward(m: Elementary, arrays: Arrays, params: Params) -> np.ndarray:
    return np.concatenate(_branches(m, arrays), axis=1)  # channels: branch after branch


def inception_bound(arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    a = {k: np.abs(np.asarray(v, dtype=np.float64)) for k, v in arrays.items()}
    o1, o3 = a["w1"].shape[0], a["w3"].shape[0]
    c1, c3, cp = c[:, :o1], c[:, o1 : o1 + o3], c[:, o1 + o3 :]
    one = conv_bound({"x": a["x"], "w": a["w1"], "b": a["b1"]}, SAME, c1)
    three = conv_bound({"x": a["x"], "w": a["w3"], "b": a["b3"]}, SAME3, c3)
    pooled = avg_pool_forward(np, {"x": a["x"]}, POOL)  # type: ignore[arg-type]
    pool = conv_bound({"x": pooled, "w": a["wp"], "b": a["bp"]}, SAME, cp)
    through_pool = avg_pool_stated(np, {"x": a["x"]}, POOL, pool["x"])["x"]  # type: ignore[arg-type]
    return {
        "out": np.concatenate([one["out"], three["out"], pool["out"]], axis=1),
        "x": one["x"] + three["x"] + through_pool,
        "w1": one["w"],
        "b1": one["b"],
        "w3": three["w"],
        "b3": three["b"],
        "wp": pool["w"],
        "bp": pool["b"],
    }


def inception_roundings(arrays: Arrays, params: Params) -> float:
    x = arrays["x"]
    per_branch = [
        conv_roundings({"x": x, "w": arrays["w1"]}, SAME),
        conv_roundings({"x": x, "w": arrays["w3"]}, SAME3),
        conv_roundings({"x": x, "w": arrays["wp"]}, SAME) + pool_roundings(arrays, POOL),
    ]
    return max(per_branch) + 8.0


def _floats(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=st.floats(-3.0, 3.0, allow_subnormal=False))


# The branch weights' and biases' gradients sum over the batch; a non-square image tells H from W.
CONDITIONS = (
    Condition("batch>1", lambda ex: ex.arrays["x"].shape[0] > 1),
    Condition("H != W", lambda ex: ex.arrays["x"].shape[-2] != ex.arrays["x"].shape[-1]),
)


def inception_strategy(region: str) -> st.SearchStrategy[Example]:
    """B 1-2, one input channel, H and W 2-3, 1-2 output channels per branch. Small: the exact reference
    runs the whole block once per input entry."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        bsz = 2 if region == "batch-nonsquare" else draw(st.integers(1, 2))
        chans = 1
        h = draw(st.integers(2, 3))
        w = draw(st.integers(2, 3).filter(lambda v: region != "batch-nonsquare" or v != h))
        o1, o3, op = (draw(st.integers(1, 2)) for _ in range(3))
        arrays = {
            "x": draw(_floats((bsz, chans, h, w))),
            "w1": draw(_floats((o1, chans, 1, 1))),
            "b1": draw(_floats((o1,))),
            "w3": draw(_floats((o3, chans, 3, 3))),
            "b3": draw(_floats((o3,))),
            "wp": draw(_floats((op, chans, 1, 1))),
            "bp": draw(_floats((op,))),
        }
        tags = tuple(t for t, on in (("batch>1", bsz > 1), ("non-square", h != w)) if on)
        return Example(arrays, {}, region, tags)

    return build()


INCEPTION = Op(
    name="inception_block",
    title="Inception-style block: 1x1, 3x3 (padding 1) and pool+1x1 branches concatenated on channels",
    source=Source(seed="004", section="Inception", quote="24+16+24+24=88", claims=("E6",)),
    inputs=(Input("x"), *(Input(k) for k in WEIGHTS)),
    engine=Program(
        forward=inception_forward,
        strategy=inception_strategy,
        bound=inception_bound,
        roundings=inception_roundings,
    ),
    regions=named("typical"),
    conditions=CONDITIONS,
    notes="Output channels: the 1x1 branch's, then the 3x3 branch's, then the pool branch's (torch.cat dim 1).",
)

OPS = (INCEPTION,)
