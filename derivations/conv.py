"""E1, E3, E4: a 2-D convolution (cross-correlation, as torch computes it) and its gradients.

x is (B, C, H, W), the kernel w is (O, C, kh, kw) - E3's (out_channels, in_channels, h, w) -
and b is (O,). Each output channel sums every input channel under its own kernel (E3). The
notes state no gradient formula for the convolution, so the gradients are checked against
the exact ones only.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations.model import Arrays, Condition, Elementary, Example, Input, Op, Params, Program, Source, named
from derivations.windows import out_size, pair, scatter, windows


def conv_forward(m: Elementary, arrays: Arrays, params: Params) -> np.ndarray:
    x, w, b = arrays["x"], arrays["w"], arrays["b"]
    kernel = (w.shape[2], w.shape[3])
    win = windows(x, kernel, pair(params["stride"]), pair(params["padding"]))  # (B, C, Ho, Wo, kh, kw)
    out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))  # (B, Ho, Wo, O): sum over C, kh, kw
    return np.moveaxis(out, -1, 1) + b[None, :, None, None]  # type: ignore[no-any-return]


def conv_bound(arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    """The same sums over absolute values: each result's running-error magnitude."""
    x, w, b = (np.abs(np.asarray(arrays[k], dtype=np.float64)) for k in ("x", "w", "b"))
    stride, padding = pair(params["stride"]), pair(params["padding"])
    kernel = (w.shape[2], w.shape[3])
    ac = np.abs(c)
    out = np.moveaxis(np.tensordot(windows(x, kernel, stride, padding), w, axes=([1, 4, 5], [1, 2, 3])), -1, 1)
    # dL/dx: every output position hands |c| * |w| back to the window it read.
    back = np.tensordot(ac, w, axes=([1], [0]))  # (B, Ho, Wo, C, kh, kw)
    gx = scatter(np.moveaxis(back, 3, 1), x.shape[2:], kernel, stride, padding)  # type: ignore[arg-type]
    gw = np.tensordot(ac, windows(x, kernel, stride, padding), axes=([0, 2, 3], [0, 2, 3]))  # (O, C, kh, kw)
    return {"out": out + b[None, :, None, None], "x": gx, "w": gw, "b": ac.sum(axis=(0, 2, 3))}


def conv_roundings(arrays: Arrays, params: Params) -> float:
    bsz, chans, h, w_ = arrays["x"].shape
    o, _, kh, kw = arrays["w"].shape
    stride, padding = pair(params["stride"]), pair(params["padding"])
    positions = out_size(h, kh, stride[0], padding[0]) * out_size(w_, kw, stride[1], padding[1])
    longest = max(chans * kh * kw + 1, o * kh * kw, bsz * positions)  # out, dL/dx, dL/dw and dL/db
    return 8.0 + 2.0 * longest


def _floats(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=st.floats(-3.0, 3.0, allow_subnormal=False))


CONV_REGIONS = ("typical", "uneven-stride-padding", "one-by-one", "batch-nonsquare")


def conv_strategy(region: str) -> st.SearchStrategy[Example]:
    """typical: stride 1-2, padding 0-1; uneven-stride-padding: stride >= 2, padding >= 1, a
    non-square kernel, and (H + 2p - kh) not divisible by the stride on at least one axis;
    one-by-one: a 1x1 kernel changing the channel count (E4); batch-nonsquare: B > 1, H != W."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        # The exact reference runs once per entry: keep x small, a batch of two at most.
        bsz = 2 if region == "batch-nonsquare" else draw(st.integers(1, 2))
        chans = draw(st.integers(2, 3) if region == "one-by-one" else st.integers(1, 2))
        outs = draw(st.integers(1, 3).filter(lambda o: region != "one-by-one" or o != chans))
        if region == "one-by-one":
            kernel, stride, padding = (1, 1), (1, 1), (0, 0)
        else:
            kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            if region == "uneven-stride-padding" and kh == kw:
                kw = 3 if kh < 3 else 2
            kernel = (kh, kw)
            if region == "uneven-stride-padding":
                stride = (draw(st.integers(2, 3)), draw(st.integers(2, 3)))
                padding = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
            else:
                stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
                padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
        low_h = max(kernel[0] - 2 * padding[0], 1)
        low_w = max(kernel[1] - 2 * padding[1], 1)
        h = draw(st.integers(max(low_h, 2), 5))
        w = draw(st.integers(max(low_w, 2), 5).filter(lambda v: region != "batch-nonsquare" or v != h))
        if region == "uneven-stride-padding" and (h + 2 * padding[0] - kernel[0]) % stride[0] == 0:
            h += 1  # the last window cannot reach the bottom edge: rows left over
        arrays = {
            "x": draw(_floats((bsz, chans, h, w))),
            "w": draw(_floats((outs, chans, *kernel))),
            "b": draw(_floats((outs,))),
        }
        params = {"stride": stride, "padding": padding}
        uneven = any((n + 2 * p - k) % s for n, k, s, p in zip((h, w), kernel, stride, padding, strict=True))
        flags = (
            ("batch>1", bsz > 1),
            ("non-square-kernel", kernel[0] != kernel[1]),
            ("stride>=2", max(stride) >= 2),
            ("padding>=1", max(padding) >= 1),
            ("stride-not-dividing", uneven),
        )
        return Example(arrays, params, region, tuple(t for t, on in flags if on))

    return build()


def _windows(ex: Example) -> tuple[int, ...]:
    h, w = ex.arrays["x"].shape[-2:]
    kh, kw = ex.arrays["w"].shape[-2:]
    (sh, sw), (ph, pw) = pair(ex.params["stride"]), pair(ex.params["padding"])
    return out_size(h, kh, sh, ph), out_size(w, kw, sw, pw)


# The bias gradient sums over the batch, the weight gradient over every window: paths of their own.
CONV_CONDITIONS = (
    Condition("batch>1", lambda ex: ex.arrays["x"].shape[0] > 1),
    Condition("2+ windows per axis", lambda ex: min(_windows(ex)) >= 2),
    Condition("stride>=2", lambda ex: max(pair(ex.params["stride"])) >= 2, not_in=("one-by-one",)),
    Condition("padding>=1", lambda ex: max(pair(ex.params["padding"])) >= 1, not_in=("one-by-one",)),
)


CONV2D = Op(
    name="conv2d",
    title="2-D convolution y = b + sum over channels and kernel offsets of w * x, and its gradients",
    source=Source(
        seed="004",
        section="卷积神经网络",
        quote="输出通道数=卷积核数量; 未损失信息的情况下,改变通道数量",
        claims=("E1", "E3", "E4"),
    ),
    inputs=(Input("x"), Input("w"), Input("b")),
    engine=Program(
        forward=conv_forward,
        strategy=conv_strategy,
        bound=conv_bound,
        roundings=conv_roundings,
    ),
    regions=named(*CONV_REGIONS),
    conditions=CONV_CONDITIONS,
    params_doc={
        "stride": "(sh, sw): step between windows on the H and W axes",
        "padding": "(ph, pw): zeros added on both sides of the H and W axes",
    },
    notes="Cross-correlation as torch's F.conv2d: no kernel flip; x (B,C,H,W), w (O,C,kh,kw), b (O,).",
)

OPS = (CONV2D,)
