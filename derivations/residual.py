"""D9 and E8: the residual y = relu(f(x) + x), whose gradient carries (df/dx + 1).

Two f's: a linear one, f(x) = x w^T + b with square w, and 004's ResidualBlock, two 3x3
convolutions with padding 1 around a ReLU: relu(x + conv2(relu(conv1(x)))). Each op also
carries the depth experiment of D5/D9: the gradient at the input of a stack of k blocks,
with and without the shortcut.

These ops check D9's gradient formula. D9's statements about it (when ∂f/∂x is very small,
∂Loss/∂x tends to 1, the chained product to 1, and without the shortcut to 0) are claims,
judged one by one in derivations/training.py (resnet_* and plain_*).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.lib.stride_tricks import as_strided

from derivations.depth_experiment import depth_experiment
from derivations.kinks import judge_kinks
from derivations.model import Arrays, Condition, Elementary, Example, Input, Op, Params, Program, Source, named
from derivations.networks import SIGN_MARGIN
from derivations.windows import windows

SOURCE_QUOTE = "resnet:y=relu(f(x)+x); ∂σ/∂f·(∂f/∂x+1)"


def relu_slope(z: Any) -> Any:
    return np.where(z > 0, 1, 0)


# --- f linear ------------------------------------------------------------------------------


def linear_pre(arrays: Arrays) -> Any:
    return arrays["x"] @ arrays["w"].T + arrays["b"] + arrays["x"]  # f(x) + x


def linear_forward(m: Elementary, arrays: Arrays, params: Params) -> np.ndarray:
    return np.maximum(linear_pre(arrays), 0)  # y = relu(f(x) + x)


def linear_stated(m: Elementary, arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    """dLoss/dx = dLoss/dy . dy/dsigma . (df/dx + 1), df/dx = w."""
    dz = c * relu_slope(linear_pre(arrays))
    return {"x": dz @ arrays["w"] + dz}


def linear_bound(arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    x, w, b = arrays["x"], arrays["w"], arrays["b"]
    z = np.asarray(linear_pre(arrays), dtype=np.float64)
    z_mag = np.abs(x) @ np.abs(w).T + np.abs(b) + np.abs(x)
    slope = _slope_bound(z, z_mag)
    dz = np.abs(c) * slope
    return {
        "out": np.abs(np.maximum(z, 0)) + slope * z_mag,
        "x": dz @ np.abs(w) + dz,
        "w": dz.T @ np.abs(x),
        "b": dz.sum(axis=0),
    }


def _slope_bound(z: np.ndarray, z_mag: np.ndarray) -> np.ndarray:
    """relu' over the interval rounding can move z: either slope next to 0."""
    return np.where((z > 0) | (np.abs(z) <= SIGN_MARGIN * z_mag), 1.0, 0.0)


def linear_roundings(arrays: Arrays, params: Params) -> float:
    batch, n = arrays["x"].shape
    return 8.0 + 2.0 * (n + batch + 2)


def linear_kink_gap(arrays: Arrays, params: Params) -> float:
    z = np.asarray(linear_pre(arrays), dtype=np.float64)
    return float(np.min(np.abs(z))) if z.size else float("inf")


def linear_branch(arrays: Arrays, params: Params) -> np.ndarray:
    return np.asarray(linear_pre(arrays) > 0)


def linear_subgradient_ok(
    arrays: Arrays, params: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float
) -> str | None:
    x, w = arrays["x"], arrays["w"]

    def backprop(slopes: list[np.ndarray]) -> dict[str, np.ndarray]:
        dz = c * slopes[0]
        return {"x": dz @ w + dz, "w": dz.T @ x, "b": dz.sum(axis=0)}

    layers = [(np.asarray(linear_pre(arrays), dtype=np.float64), ["w", "b", "x"])]
    magnitude = linear_bound(arrays, params, c)
    return judge_kinks(layers, backprop, grads, magnitude, name="relu", low=0.0, rtol=rtol)


# --- f = conv2(relu(conv1(x))), 3x3 kernels, padding 1 ------------------------------------


def conv3x3(x: Any, w: Any, b: Any) -> Any:
    """Cross-correlation, stride 1, zero padding 1 (torch's Conv2d): (N, C, H, W) -> (N, O, H, W).

    Over mpmath numbers, one kernel tap at a time over the pixels it reaches, so the padding's zeros
    never join the tape of the exact reference. Over floats (the branch, the kink gap and the bound,
    at every stencil point of the finite differences), one einsum over every window: the tap loop's
    small calls were half the time of the catalog's costliest op."""
    objects = [isinstance(a, np.ndarray) and a.dtype == object for a in (x, w)]
    if not any(objects) and isinstance(x, np.ndarray) and isinstance(w, np.ndarray):
        return np.einsum("nchwij,ocij->nohw", _windows(x), w, optimize=False) + b[None, :, None, None]  # type: ignore[no-any-return]
    if not any(objects):  # arrays of another kind (float64 boxes): the same sum over sliding windows
        return np.einsum("nchwij,ocij->nohw", windows(x, (3, 3), (1, 1), (1, 1)), w) + b[None, :, None, None]
    n, _, h, wd = x.shape
    out = np.zeros((n, w.shape[0], h, wd), dtype=np.result_type(x, w))
    for i in range(3):
        for j in range(3):
            # tap (i, j) reads x[r + i - 1, c + j - 1]: output rows r with 0 <= r + i - 1 < h
            r0, r1, c0, c1 = max(0, 1 - i), min(h, h + 1 - i), max(0, 1 - j), min(wd, wd + 1 - j)
            if r0 >= r1 or c0 >= c1:
                continue
            patch = x[:, :, r0 + i - 1 : r1 + i - 1, c0 + j - 1 : c1 + j - 1]
            out[:, :, r0:r1, c0:c1] += np.moveaxis(np.tensordot(patch, w[:, :, i, j], axes=([1], [1])), 3, 1)
    return out + b[None, :, None, None]


def _windows(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W, 3, 3): every 3x3 window of float x under zero padding 1, a view of one padded copy
    (as_strided: sliding_window_view's checks cost more than the sums on these small arrays)."""
    n, c, h, wd = x.shape
    padded = np.zeros((n, c, h + 2, wd + 2), dtype=np.result_type(x, np.float64))
    padded[:, :, 1:-1, 1:-1] = x
    s = padded.strides
    return as_strided(padded, (n, c, h, wd, 3, 3), (*s, s[2], s[3]), writeable=False)  # type: ignore[no-any-return]


def conv3x3_input_grad(dout: Any, w: Any) -> Any:
    """The transposed convolution: the same 3x3 correlation with the kernel flipped and its
    channel axes swapped."""
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    return conv3x3(dout, flipped, np.zeros(w.shape[1], dtype=w.dtype))


def conv3x3_weight_grad(x: np.ndarray, dout: np.ndarray) -> np.ndarray:
    return np.tensordot(dout, _windows(x), axes=([0, 2, 3], [0, 2, 3]))  # (O, C, 3, 3)


def block_parts(arrays: Arrays) -> tuple[Any, Any, Any]:
    h = conv3x3(arrays["x"], arrays["w1"], arrays["b1"])  # conv1(x)
    y = np.maximum(h, 0)  # y = F.relu(self.conv1(x))
    z = arrays["x"] + conv3x3(y, arrays["w2"], arrays["b2"])  # x + self.conv2(y)
    return h, y, z


def block_forward(m: Elementary, arrays: Arrays, params: Params) -> np.ndarray:
    return np.maximum(block_parts(arrays)[2], 0)  # return F.relu(x + y)


def block_stated(m: Elementary, arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    """dLoss/dx = dLoss/dy . dy/dsigma . (df/dx + 1), with dz . df/dx through conv2, relu, conv1."""
    h, _, z = block_parts(arrays)
    dz = c * relu_slope(z)
    df_dx = conv3x3_input_grad(conv3x3_input_grad(dz, arrays["w2"]) * relu_slope(h), arrays["w1"])
    return {"x": df_dx + dz}


def _abs_arrays(arrays: Arrays) -> dict[str, np.ndarray]:
    return {k: np.abs(v) for k, v in arrays.items()}


def block_bound(arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    h, _, z = (np.asarray(v, dtype=np.float64) for v in block_parts(arrays))
    a = _abs_arrays(arrays)
    h_mag = conv3x3(a["x"], a["w1"], a["b1"])
    s1 = _slope_bound(h, h_mag)
    y_mag = s1 * h_mag
    z_mag = a["x"] + conv3x3(y_mag, a["w2"], a["b2"])
    s2 = _slope_bound(z, z_mag)
    dz = np.abs(c) * s2
    dh = conv3x3_input_grad(dz, a["w2"]) * s1
    return {
        "out": np.maximum(z, 0) + s2 * z_mag,
        "x": conv3x3_input_grad(dh, a["w1"]) + dz,
        "w1": conv3x3_weight_grad(a["x"], dh),
        "b1": dh.sum(axis=(0, 2, 3)),
        "w2": conv3x3_weight_grad(y_mag, dz),
        "b2": dz.sum(axis=(0, 2, 3)),
    }


def block_roundings(arrays: Arrays, params: Params) -> float:
    n, c, h, w = arrays["x"].shape
    return 16.0 + 2.0 * (2 * 9 * c + n * h * w + 2)


def block_kink_gap(arrays: Arrays, params: Params) -> float:
    h, _, z = block_parts(arrays)
    return float(min(np.min(np.abs(h)), np.min(np.abs(z))))


def block_branch(arrays: Arrays, params: Params) -> np.ndarray:
    h, _, z = block_parts(arrays)
    return np.concatenate([np.ravel(h > 0), np.ravel(z > 0)])


def block_subgradient_ok(
    arrays: Arrays, params: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float
) -> str | None:
    h, y, z = (np.asarray(v, dtype=np.float64) for v in block_parts(arrays))
    x, w1, w2 = arrays["x"], arrays["w1"], arrays["w2"]

    def backprop(slopes: list[np.ndarray]) -> dict[str, np.ndarray]:
        dz = c * slopes[0]
        dh = conv3x3_input_grad(dz, w2) * slopes[1]
        return {
            "x": conv3x3_input_grad(dh, w1) + dz,
            "w1": conv3x3_weight_grad(x, dh),
            "b1": dh.sum(axis=(0, 2, 3)),
            "w2": conv3x3_weight_grad(y, dz),
            "b2": dz.sum(axis=(0, 2, 3)),
        }

    layers = [(z, ["w2", "b2"]), (h, ["w1", "b1", "x"])]
    magnitude = block_bound(arrays, params, c)
    return judge_kinks(layers, backprop, grads, magnitude, name="relu", low=0.0, rtol=rtol)


# --- inputs -------------------------------------------------------------------------------


def _entries(shape: tuple[int, ...], bound: float, coarse: bool) -> st.SearchStrategy[np.ndarray]:
    """Float32-exact entries; `coarse` draws multiples of 1/2, whose sums and products are exact,
    so an exact 0 (a kink) stays 0 in every dtype."""
    if coarse:
        return hnp.arrays(np.float64, shape, elements=st.integers(int(-2 * bound), int(2 * bound)).map(lambda n: n / 2))
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound, width=32, allow_subnormal=False))


def _kinks_ok(pre: list[tuple[np.ndarray, np.ndarray]], allow_exact: bool) -> bool:
    """No pre-activation so close to 0 that rounding could flip its sign; exact zeros only
    where the region asks for them."""
    for z, mag in pre:
        exact = z == 0
        if np.any((np.abs(z) <= SIGN_MARGIN * mag) & ~exact) or (np.any(exact) and not allow_exact):
            return False
    return True


# The weight and bias gradients sum over the batch; a non-square image tells H from W.
BATCH = Condition("batch>1", lambda ex: ex.arrays["x"].shape[0] > 1)
NON_SQUARE_IMAGE = Condition("H != W", lambda ex: ex.arrays["x"].shape[-2] != ex.arrays["x"].shape[-1])


def linear_strategy(region: str) -> st.SearchStrategy[Example]:
    """typical: |entries| <= 2; batch-nonsquare: B > 1 and B != n (w is square by construction);
    kink: multiples of 1/2, so some f(x) + x are exactly 0."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        n = draw(st.integers(1, 4))
        batch = draw(st.integers(2, 4).filter(lambda k: k != n) if region == "batch-nonsquare" else st.integers(1, 3))
        coarse = region == "kink"
        arrays = {
            "x": draw(_entries((batch, n), 2.0, coarse)),
            "w": draw(_entries((n, n), 2.0, coarse)),
            "b": draw(_entries((n,), 2.0, coarse)),
        }
        z = np.asarray(linear_pre(arrays), dtype=np.float64)
        mag = np.abs(arrays["x"]) @ np.abs(arrays["w"]).T + np.abs(arrays["b"]) + np.abs(arrays["x"])
        assume(_kinks_ok([(z, mag)], allow_exact=coarse))
        tags = ("batch>1",) if batch > 1 else ()
        return Example(arrays, {}, region, tags)

    return build()


def block_strategy(region: str) -> st.SearchStrategy[Example]:
    """Small blocks (the exact reference runs one 80-digit forward per entry): C in 1..2 and
    (N, H, W) one of (1, 2..3, 2..3), (2, 2, 2). typical: |entries| <= 1; kink: multiples of 1/2,
    so some conv1 outputs and some x + conv2 outputs are exactly 0."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        c = draw(st.integers(1, 2))
        n, h, w = draw(st.sampled_from([(1, 2, 2), (1, 2, 3), (1, 3, 2), (1, 3, 3), (2, 2, 2)]))
        coarse = region == "kink"
        arrays = {"x": draw(_entries((n, c, h, w), 1.0, coarse))}
        for k in (1, 2):
            arrays[f"w{k}"] = draw(_entries((c, c, 3, 3), 1.0, coarse))
            arrays[f"b{k}"] = draw(_entries((c,), 1.0, coarse))
        pre, _, z = (np.asarray(v, dtype=np.float64) for v in block_parts(arrays))
        bound = block_bound(arrays, {}, np.ones_like(z))
        h_mag = conv3x3(np.abs(arrays["x"]), np.abs(arrays["w1"]), np.abs(arrays["b1"]))
        z_mag = bound["out"]
        assume(_kinks_ok([(pre, h_mag), (z, z_mag)], allow_exact=coarse))
        tags = tuple(t for t, on in (("batch>1", n > 1), ("non-square", h != w)) if on)
        return Example(arrays, {}, region, tags)

    return build()


RESIDUAL_LINEAR = Op(
    name="residual_linear",
    title="Residual y = relu(f(x) + x) with f(x) = x w^T + b: dLoss/dx carries (df/dx + 1)",
    source=Source(seed="004", section="ResidualBlock resnet 残差网络", quote=SOURCE_QUOTE, claims=("D9",)),
    inputs=(Input("x"), Input("w"), Input("b")),
    engine=Program(
        forward=linear_forward,
        strategy=linear_strategy,
        bound=linear_bound,
        roundings=linear_roundings,
        stated=linear_stated,
        kink_gap=linear_kink_gap,
        branch=linear_branch,
        subgradient_ok=linear_subgradient_ok,
    ),
    regions=named("typical", "batch-nonsquare", "kink"),
    conditions=(BATCH,),
    tie_rule="relu'(0) anywhere in [0, 1] at each f(x) + x exactly 0",
    notes=(
        "Rows are examples; w is square (f keeps the width, as the shortcut needs). The notes state dLoss/dx only. "
        "D9's limits (∂Loss/∂x → 1, the products → 1 and → 0) are judged by the resnet_* and plain_* claims."
    ),
    experiment=depth_experiment,
)

RESIDUAL_BLOCK = Op(
    name="residual_block",
    title="004's ResidualBlock relu(x + conv2(relu(conv1(x)))), 3x3 kernels, padding 1: dLoss/dx carries (df/dx + 1)",
    source=Source(
        seed="004",
        section="ResidualBlock resnet 残差网络",
        quote="y=F.relu(self.conv1(x)); y=self.conv2(y); return F.relu(x+y)",
        claims=("D9", "E8"),
    ),
    inputs=(Input("x"), Input("w1"), Input("b1"), Input("w2"), Input("b2")),
    engine=Program(
        forward=block_forward,
        strategy=block_strategy,
        bound=block_bound,
        roundings=block_roundings,
        stated=block_stated,
        kink_gap=block_kink_gap,
        branch=block_branch,
        subgradient_ok=block_subgradient_ok,
    ),
    regions=named("typical", "kink"),
    conditions=(BATCH, NON_SQUARE_IMAGE),
    tie_rule="relu'(0) anywhere in [0, 1] at each pre-activation exactly 0 (either ReLU), solved from the top",
    notes=(
        "x is (N, C, H, W); w1, w2 are (C, C, 3, 3) in torch's Conv2d layout (out, in, kh, kw). "
        "The shape is kept: H + 2*1 - 3 + 1 = H (E8). The notes state dLoss/dx only."
    ),
)

OPS = (RESIDUAL_LINEAR, RESIDUAL_BLOCK)
