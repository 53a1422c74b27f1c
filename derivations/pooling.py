"""E5: max and average pooling over (kh, kw) windows, with the notes' gradient rules.

Max pooling: "the gradient goes to the maximum" of each window; where a window's maximum is
tied the derivative is a set (any split of the cotangent among the tied entries), and the
backend's choice is recorded. Average pooling: each entry of a window gets 1/(kh kw) of its
cotangent (1/k^2 for a k x k window); padding counts as zeros in the average, as in torch's
default (count_include_pad=True).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations.model import Arrays, Condition, Elementary, Example, Input, Op, Params, Program, Source, named
from derivations.ties import routing_ok
from derivations.windows import out_size, pair, scatter, window_index, windows

SOURCE = Source(seed="004", section="池化层", quote="(高,宽)->(高/2,宽/2)", claims=("E5",))
PARAMS_DOC = {
    "kernel": "(kh, kw): the window",
    "stride": "(sh, sw): step between windows",
    "padding": "(ph, pw) <= half the window: -inf (max) or 0 (average) added on both sides",
}
POOL_REGIONS = ("typical", "ties", "uneven-stride-padding", "batch-nonsquare")


def _geometry(params: Params) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    return pair(params["kernel"]), pair(params["stride"]), pair(params["padding"])


def _flat_windows(x: np.ndarray, params: Params, value: float) -> np.ndarray:
    kernel, stride, padding = _geometry(params)
    win = windows(x, kernel, stride, padding, value)
    return win.reshape(*win.shape[:-2], -1)  # type: ignore[no-any-return]


def max_pool_forward(m: Elementary, arrays: Arrays, params: Params) -> np.ndarray:
    return np.max(_flat_windows(arrays["x"], params, -np.inf), axis=-1)  # type: ignore[no-any-return]


def avg_pool_forward(m: Elementary, arrays: Arrays, params: Params) -> np.ndarray:
    kernel = pair(params["kernel"])
    return np.sum(_flat_windows(arrays["x"], params, 0.0), axis=-1) / (kernel[0] * kernel[1])  # type: ignore[no-any-return]


def _spread(per_window: np.ndarray, x: np.ndarray, params: Params) -> np.ndarray:
    kernel, stride, padding = _geometry(params)
    return scatter(per_window.reshape(*per_window.shape[:-1], *kernel), x.shape[2:], kernel, stride, padding)


def max_pool_stated(m: Elementary, arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    """The gradient goes to the maximum: each window's cotangent lands on its largest entry."""
    win = _flat_windows(arrays["x"], params, -np.inf)
    top = np.argmax(win, axis=-1)
    onehot = np.arange(win.shape[-1]) == top[..., None]
    return {"x": _spread(c[..., None] * onehot, arrays["x"], params)}


def avg_pool_stated(m: Elementary, arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    """1/k^2 each: every entry of a window gets its cotangent over the window's size."""
    kernel = pair(params["kernel"])
    share = c[..., None] * np.ones(kernel[0] * kernel[1], dtype=int) / (kernel[0] * kernel[1])
    return {"x": _spread(share, arrays["x"], params)}


def max_pool_bound(arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    # A maximum is exact; each input sums the cotangents of the windows it tops.
    x = np.asarray(arrays["x"], dtype=np.float64)
    out = max_pool_forward(np, arrays, params)  # type: ignore[arg-type]
    win = _flat_windows(x, params, -np.inf)
    share = np.abs(c)[..., None] * (win == out[..., None])
    return {"out": np.abs(out), "x": _spread(share, x, params)}


def avg_pool_bound(arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    x = np.abs(np.asarray(arrays["x"], dtype=np.float64))
    return {
        "out": avg_pool_forward(np, {"x": x}, params),  # type: ignore[arg-type]
        "x": avg_pool_stated(np, {"x": x}, params, np.abs(c))["x"],  # type: ignore[arg-type]
    }


def pool_roundings(arrays: Arrays, params: Params) -> float:
    kernel = pair(params["kernel"])
    return 8.0 + 2.0 * (kernel[0] * kernel[1] + 1)


def max_pool_gap(arrays: Arrays, params: Params) -> float:
    """Each window's maximum minus its runner-up: 0 where a maximum is tied."""
    win = np.sort(_flat_windows(np.asarray(arrays["x"], dtype=np.float64), params, -np.inf), axis=-1)
    if win.shape[-1] < 2 or win.size == 0:
        return float("inf")
    return float(np.min(win[..., -1] - win[..., -2]))


def max_pool_branch(arrays: Arrays, params: Params) -> np.ndarray:
    return np.argmax(_flat_windows(np.asarray(arrays["x"], dtype=np.float64), params, -np.inf), axis=-1)  # type: ignore[no-any-return]


def max_pool_subgradient_ok(
    arrays: Arrays, params: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float
) -> str | None:
    x = np.asarray(arrays["x"], dtype=np.float64)
    kernel, stride, padding = _geometry(params)
    h, w = x.shape[2:]
    idx = window_index((h, w), kernel, stride, padding)
    idx = idx.reshape(*idx.shape[:2], -1)
    out = max_pool_forward(np, arrays, params)  # type: ignore[arg-type]
    candidates = []
    for b, ch, i, j in np.ndindex(out.shape):
        reads = idx[i, j][idx[i, j] >= 0]
        plane = x[b, ch].reshape(-1)
        candidates.append((b * x.shape[1] + ch) * h * w + reads[plane[reads] == out[b, ch, i, j]])
    return routing_ok(candidates, c.reshape(-1), grads["x"], rtol)


def _floats(shape: tuple[int, ...], ties: bool) -> st.SearchStrategy[np.ndarray]:
    if ties:  # a few small integers: most windows hold a repeated maximum
        return hnp.arrays(np.float64, shape, elements=st.integers(-2, 2).map(float))
    return hnp.arrays(np.float64, shape, elements=st.floats(-3.0, 3.0, allow_subnormal=False))


def pool_strategy(region: str) -> st.SearchStrategy[Example]:
    """typical: windows 1-3, stride 1-3, padding up to half the window; ties: small integers;
    uneven-stride-padding: stride >= 2, padding >= 1, (H + 2p - k) not a multiple of the
    stride; batch-nonsquare: B > 1 and H != W. Kernel 2 stride 2 is drawn in every region."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        # The exact reference runs once per entry: keep x small, a batch of two at most.
        bsz = 2 if region == "batch-nonsquare" else draw(st.integers(1, 2))
        chans = draw(st.integers(1, 2))
        if draw(st.booleans()):
            kernel, stride = (2, 2), (2, 2)  # the notes' halving pool
        else:
            kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
            top = 1 if region == "ties" else 3  # ties meet overlapping windows: stride 1
            stride = (draw(st.integers(1, top)), draw(st.integers(1, top)))
        if region == "uneven-stride-padding":
            kernel = (max(kernel[0], 2), max(kernel[1], 2))
            stride = (max(stride[0], 2), max(stride[1], 2))
            padding = (1, draw(st.integers(1, kernel[1] // 2)))
        else:
            padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
        h = draw(st.integers(max(kernel[0], 2), 5))
        w = draw(st.integers(max(kernel[1], 2), 5).filter(lambda v: region != "batch-nonsquare" or v != h))
        if region == "uneven-stride-padding" and (h + 2 * padding[0] - kernel[0]) % stride[0] == 0:
            h += 1
        x = draw(_floats((bsz, chans, h, w), region == "ties"))
        params = {"kernel": kernel, "stride": stride, "padding": padding}
        uneven = any((n + 2 * p - k) % s for n, k, s, p in zip((h, w), kernel, stride, padding, strict=True))
        sizes = (out_size(h, kernel[0], stride[0], padding[0]), out_size(w, kernel[1], stride[1], padding[1]))
        flags = (
            ("batch>1", bsz > 1),
            ("kernel-2-stride-2", kernel == (2, 2) and stride == (2, 2)),
            ("odd-size", h % 2 == 1 or w % 2 == 1),
            ("padding>=1", max(padding) >= 1),
            ("stride-not-dividing", uneven),
            ("overlapping", any(s < k for s, k in zip(stride, kernel, strict=True))),
            ("one-window", sizes == (1, 1)),
        )
        return Example({"x": x}, params, region, tuple(t for t, on in flags if on))

    return build()


def _windows(ex: Example) -> tuple[int, ...]:
    h, w = ex.arrays["x"].shape[-2:]
    k, s, p = (pair(ex.params[n]) for n in ("kernel", "stride", "padding"))
    return tuple(out_size(n, k[i], s[i], p[i]) for i, n in enumerate((h, w)))


# A backward that scatters each window's gradient has its own code paths for windows of two or more
# entries side by side, for a batch, for windows that overlap and for padding.
POOL_CONDITIONS = (
    Condition("k>=2, 2+ windows per axis", lambda ex: min(pair(ex.params["kernel"])) >= 2 and min(_windows(ex)) >= 2),
    Condition("batch>1", lambda ex: ex.arrays["x"].shape[0] > 1),
    Condition(
        "overlapping windows",
        lambda ex: any(s < k for s, k in zip(pair(ex.params["stride"]), pair(ex.params["kernel"]), strict=True)),
    ),
    Condition("padding>=1", lambda ex: max(pair(ex.params["padding"])) >= 1),
)


MAX_POOL2D = Op(
    name="max_pool2d",
    title="Max pooling: each window's largest entry; the gradient goes to the maximum",
    source=SOURCE,
    inputs=(Input("x"),),
    engine=Program(
        forward=max_pool_forward,
        strategy=pool_strategy,
        bound=max_pool_bound,
        roundings=pool_roundings,
        stated=max_pool_stated,
        kink_gap=max_pool_gap,
        branch=max_pool_branch,
        subgradient_ok=max_pool_subgradient_ok,
    ),
    regions=named(*POOL_REGIONS),
    conditions=POOL_CONDITIONS,
    tie_rule="a tied maximum: the window's cotangent split in any convex combination among the tied entries",
    params_doc=PARAMS_DOC,
    notes="x is (B, C, H, W); channels are kept (E5); floor((H + 2p - k) / s) + 1 windows per axis.",
)

AVG_POOL2D = Op(
    name="avg_pool2d",
    title="Average pooling: each window's mean; each entry gets 1/k^2 of the window's gradient",
    source=SOURCE,
    inputs=(Input("x"),),
    engine=Program(
        forward=avg_pool_forward,
        strategy=pool_strategy,
        bound=avg_pool_bound,
        roundings=pool_roundings,
        stated=avg_pool_stated,
    ),
    regions=named(*POOL_REGIONS),
    conditions=POOL_CONDITIONS,
    params_doc=PARAMS_DOC,
    notes="Padding counts in the average (torch's count_include_pad=True): the divisor is always kh kw.",
)

OPS = (MAX_POOL2D, AVG_POOL2D)
