"""D1-D3, D5, D6: an L-layer network x^l = g(w^l x^{l-1} + b^l) and the notes' layer-wise gradients.

One op per depth (`backprop_chain_L1` ... `backprop_chain_L4`), so every check sees every
layer's w and b. Rows are examples: y^l = x^{l-1} (w^l)^T + b^l, w^l of shape (n_l, n_{l-1}).

The stated gradients are the recursion of 004 written once for any depth: the last layer
(D2) starts from dLoss/dx^L . g'(y^L); each layer below multiplies by w^{l+1} and g'(y^l)
(D3, whose chains are the products of g'(y^{L+i}) and w^{L+i} factors of D5 and D6).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations.elementary import FLOAT
from derivations.kinks import judge_kinks
from derivations.layers import ACTIVATIONS, ALPHA, G2_MAX, g, g_prime, layer_conditions
from derivations.model import Arrays, Elementary, Example, Input, Op, Params, Program, Source, named

DEPTHS = (1, 2, 3, 4)
PROVED_DEPTH = 3  # SymPy proves the recursion up to here (3 s at depth 3, width 2)
KINKED = ("relu", "leaky_relu")
# A pre-activation this close to 0 (relative to the size of the terms summed into it) could
# change sign under float32 rounding, and with it g'(y): such draws are kept off the kink.
SIGN_MARGIN = 1e-4
# How much an error in an activation's output moves g' computed from it: |d(a(1-a))/da| <= 1,
# |d(1-a^2)/da| <= 2 (error-model knowledge, like G2_MAX).
G1_FROM_OUTPUT = {"sigmoid": 1.0, "tanh": 2.0, "relu": 0.0, "leaky_relu": 0.0}


def layer_names(depth: int) -> list[tuple[str, str]]:
    return [(f"w{k}", f"b{k}") for k in range(1, depth + 1)]


def chain_forward_all(m: Elementary, arrays: Arrays, act: str) -> tuple[list[Any], list[Any]]:
    """The pre-activations y^1..y^L and activations x^0..x^L (D1 at every layer)."""
    xs: list[Any] = [arrays["x"]]
    ys: list[Any] = []
    k = 1
    while f"w{k}" in arrays:
        ys.append(xs[-1] @ arrays[f"w{k}"].T + arrays[f"b{k}"])  # y^l = w^l . x^{l-1} + b^l
        xs.append(g(m, act, ys[-1]))  # x^l = g(y^l)
        k += 1
    return ys, xs


def chain_forward(m: Elementary, arrays: Arrays, params: Params) -> np.ndarray:
    return chain_forward_all(m, arrays, params["g"])[1][-1]  # type: ignore[no-any-return]


def chain_stated(m: Elementary, arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    act = params["g"]
    return chain_recursion(arrays, c, lambda y: g(m, act, y), lambda y, a: g_prime(act, y, a))


def chain_recursion(
    arrays: Arrays, c: np.ndarray, act: Callable[[Any], Any], slope: Callable[[Any, Any], Any]
) -> dict[str, np.ndarray]:
    """004's layer-wise formulas, from the last layer down, for any activation `act` with
    derivative `slope(y, a)` (a = act(y)):
    dLoss/dy^L = dLoss/dx^L . g'(y^L); dLoss/dw^L = dLoss/dy^L . x^{L-1}; dLoss/db^L = dLoss/dy^L;
    dLoss/dx^{L-1} = dLoss/dy^L . w^L; then dLoss/dy^{L-1} = dLoss/dx^{L-1} . g'(y^{L-1}), and so on
    (the w and b gradients sum over the batch)."""
    xs: list[Any] = [arrays["x"]]
    ys: list[Any] = []
    while f"w{len(ys) + 1}" in arrays:
        k = len(ys) + 1
        ys.append(xs[-1] @ arrays[f"w{k}"].T + arrays[f"b{k}"])  # y^l = w^l . x^{l-1} + b^l
        xs.append(act(ys[-1]))  # x^l = g(y^l)
    grads: dict[str, np.ndarray] = {}
    dx = c  # dLoss/dx^L
    for k in range(len(ys), 0, -1):
        dy = dx * slope(ys[k - 1], xs[k])  # dLoss/dy^l = dLoss/dx^l . g'(y^l)
        grads[f"w{k}"] = dy.T @ xs[k - 1]  # dLoss/dw^l = dLoss/dy^l . x^{l-1}
        grads[f"b{k}"] = dy.sum(axis=0)  # dLoss/db^l = dLoss/dy^l
        dx = dy @ arrays[f"w{k}"]  # dLoss/dx^{l-1} = dLoss/dy^l . w^l
    grads["x"] = dx
    return grads


def _magnitudes(arrays: Arrays, act: str) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Float64 y^l, a running-error magnitude of each y^l and of each x^l (x^0 exact)."""
    ys, xs = chain_forward_all(FLOAT, arrays, act)
    my: list[np.ndarray] = []
    mx: list[np.ndarray] = [np.abs(arrays["x"])]
    for k, y in enumerate(ys, 1):
        w, b = np.abs(arrays[f"w{k}"]), np.abs(arrays[f"b{k}"])
        my.append(mx[-1] @ w.T + b)  # the dot product's terms, and the error carried in x^{l-1}
        mx.append(np.abs(xs[k]) + _slope_bound(act, y, my[-1]) * my[-1])
    return [np.asarray(y) for y in ys], my, mx


def _slope_bound(act: str, y: np.ndarray, my: np.ndarray) -> np.ndarray:
    """|g'| over the interval the rounding errors of y can reach: a ReLU next to 0 may take
    either slope."""
    a = np.asarray(g(FLOAT, act, y), dtype=np.float64)
    slope = np.abs(np.asarray(g_prime(act, y, a), dtype=np.float64))
    if act in KINKED:
        slope = np.where(np.abs(y) <= SIGN_MARGIN * my, 1.0, slope)
    return slope


def chain_bound(arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    """Running-error magnitudes, layer by layer: forward through the chain, then backward with
    each layer's gradient carrying the error of g' (from y, or from the rounded output a)."""
    act = params["g"]
    ys, my, mx = _magnitudes(arrays, act)
    depth = len(ys)
    out: dict[str, np.ndarray] = {"out": mx[-1]}
    dx = np.abs(c)  # magnitude plus error of dLoss/dx^l
    for k in range(depth, 0, -1):
        slope = _slope_bound(act, ys[k - 1], my[k - 1])
        g_err = G1_FROM_OUTPUT[act] * mx[k] + G2_MAX[act] * my[k - 1]
        dy = dx * (slope + g_err)
        out[f"w{k}"] = dy.T @ mx[k - 1]
        out[f"b{k}"] = dy.sum(axis=0)
        dx = dy @ np.abs(arrays[f"w{k}"])
    out["x"] = dx
    return out


def chain_roundings(arrays: Arrays, params: Params) -> float:
    depth = sum(1 for k in arrays if k.startswith("w"))
    batch = arrays["x"].shape[0]
    widths = sum(arrays[f"w{k}"].shape[1] for k in range(1, depth + 1))
    return 8.0 * depth + 2.0 * (widths + batch + depth)


def chain_kink_gap(arrays: Arrays, params: Params) -> float:
    if params["g"] not in KINKED:
        return float("inf")
    ys = chain_forward_all(FLOAT, arrays, params["g"])[0]
    return min(float(np.min(np.abs(y))) if y.size else float("inf") for y in ys)


def chain_branch(arrays: Arrays, params: Params) -> np.ndarray:
    if params["g"] not in KINKED:
        return np.zeros(0)
    ys = chain_forward_all(FLOAT, arrays, params["g"])[0]
    return np.concatenate([np.ravel(y > 0) for y in ys])


def chain_subgradient_ok(
    arrays: Arrays, params: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float
) -> str | None:
    """g'(0) anywhere in [alpha, 1] (ReLU: [0, 1]) at each pre-activation exactly 0, in any
    layer, solved layer by layer from the top (derivations.kinks)."""
    act = params["g"]
    ys, xs = chain_forward_all(FLOAT, arrays, act)
    depth = len(ys)

    def backprop(slopes: list[np.ndarray]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        dx = c
        for k in range(depth, 0, -1):
            dy = dx * slopes[depth - k]
            out[f"w{k}"], out[f"b{k}"] = dy.T @ xs[k - 1], dy.sum(axis=0)
            dx = dy @ arrays[f"w{k}"]
        out["x"] = dx
        return out

    layers = [(ys[k - 1], [f"w{k}", f"b{k}"] + (["x"] if k == 1 else [])) for k in range(depth, 0, -1)]
    low = 0.0 if act == "relu" else ALPHA
    return judge_kinks(layers, backprop, grads, chain_bound(arrays, params, c), name=act, low=low, rtol=rtol)


def _grid(shape: tuple[int, ...], bound: float, *, coarse: bool) -> st.SearchStrategy[np.ndarray]:
    """Float32-exact entries; `coarse` draws multiples of 1/2, whose sums and products stay exact
    in float32 through a few ReLU layers, so an exact 0 stays 0 in every dtype."""
    if coarse:
        halves = st.integers(int(-2 * bound), int(2 * bound)).map(lambda n: n / 2)
        return hnp.arrays(np.float64, shape, elements=halves)
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound, width=32, allow_subnormal=False))


def _off_kinks(arrays: Arrays, act: str, allow_last: bool) -> bool:
    """No pre-activation so close to 0 that rounding could flip its sign (exact zeros of the
    last layer only where `allow_last`)."""
    if act not in KINKED:
        return True
    ys, my, _ = _magnitudes(arrays, act)
    depth = len(ys)
    for k, (y, m) in enumerate(zip(ys, my, strict=True), 1):
        exact = y == 0
        if np.any((np.abs(y) <= SIGN_MARGIN * m) & ~exact):
            return False
        if not np.any(exact):
            continue
        if not allow_last or k < depth:
            return False
        # Behind a leaky layer (slope 0.1, not a binary fraction) a float 0 need not be an exact
        # 0: only a unit with a zero row of w^L and a zero bias is surely on the kink.
        dead = np.all(arrays[f"w{depth}"] == 0, axis=1) & (arrays[f"b{depth}"] == 0)
        if act == "leaky_relu" and depth > 1 and np.any(exact & ~dead):
            return False
    return True


def chain_strategy(depth: int, region: str) -> st.SearchStrategy[Example]:
    """typical: |entries| <= 2; saturated: sigmoid or tanh with weights up to 30; batch-nonsquare:
    B > 1 and every w non-square; kink: ReLU or leaky ReLU with some last-layer pre-activations
    exactly 0 (a zero row of w^L with a zero bias, or a grid input that lands on 0), hidden layers
    off the kink."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        nonsquare = region == "batch-nonsquare"
        batch = draw(st.integers(2, 3) if nonsquare else st.integers(1, 3))
        widths = [draw(st.integers(1, 3))]
        for _ in range(depth):
            widths.append(draw(st.integers(1, 3).filter(lambda n: not nonsquare or n != widths[-1])))
        if region == "saturated":
            act = draw(st.sampled_from(("sigmoid", "tanh")))
        elif region == "kink":
            act = draw(st.sampled_from(KINKED))
        else:
            act = draw(st.sampled_from(ACTIVATIONS))
        coarse = region == "kink"
        w_bound = 30.0 if region == "saturated" else 2.0
        arrays = {"x": draw(_grid((batch, widths[0]), 2.0, coarse=coarse))}
        for k, (wn, bn) in enumerate(layer_names(depth), 1):
            arrays[wn] = draw(_grid((widths[k], widths[k - 1]), w_bound, coarse=coarse))
            arrays[bn] = draw(_grid((widths[k],), 2.0, coarse=coarse))
        if region == "kink":
            dead = draw(st.integers(0, widths[-1] - 1))  # this unit's pre-activation is 0 for every row
            arrays[f"w{depth}"][dead] = 0.0
            arrays[f"b{depth}"][dead] = 0.0
        if not _off_kinks(arrays, act, allow_last=region == "kink"):
            arrays = _nudged(arrays, depth)
            assume(_off_kinks(arrays, act, allow_last=region == "kink"))
        tags = tuple(
            t
            for t, on in (
                ("batch>1", batch > 1),
                ("non-square", any(widths[k] != widths[k - 1] for k in range(1, depth + 1))),
            )
            if on
        )
        return Example(arrays, {"g": act}, region, tags)

    return build()


def _nudged(arrays: Arrays, depth: int) -> dict[str, np.ndarray]:
    """Hidden biases moved by 1/4 (float32-exact): takes most draws off an accidental kink."""
    out = {k: v.copy() for k, v in arrays.items()}
    for k in range(1, depth):
        out[f"b{k}"] = out[f"b{k}"] + 0.25
    return out


@functools.cache
def proved_recursion(depth: int) -> tuple[str, list[str]]:
    from derivations.network_proof import prove_chain_recursion  # SymPy work, only when asked

    scope = f"with SymPy for depth {depth}, width 2, batch 2 and a generic g with symbolic g'"
    return scope, prove_chain_recursion(depth)


def chain_op(depth: int) -> Op:
    return Op(
        name=f"backprop_chain_L{depth}",
        title=f"A {depth}-layer network x^l = g(w^l x^(l-1) + b^l): the layer-wise gradients of all {depth} layers",
        source=Source(
            seed="004",
            section="反向传播",
            quote="反向传播时最后一层的导数; 反向传播时倒数第二层的导数; ∏g′(y^{L+i}); ∏w^{L+i}",
            claims=("D1", "D2", "D3", "D5", "D6") if depth > 1 else ("D1", "D2"),
        ),
        inputs=(Input("x"), *(Input(n) for pair in layer_names(depth) for n in pair)),
        engine=Program(
            forward=chain_forward,
            strategy=lambda region: chain_strategy(depth, region),
            bound=chain_bound,
            roundings=chain_roundings,
            stated=chain_stated,
            kink_gap=chain_kink_gap,
            branch=chain_branch,
            subgradient_ok=chain_subgradient_ok,
        ),
        regions=named("typical", "saturated", "batch-nonsquare", "kink"),
        conditions=layer_conditions(kinked_only=("kink",), smooth_only=("saturated",)),
        tie_rule="g'(0) anywhere in [alpha, 1] (ReLU: [0, 1]) at each pre-activation exactly 0, solved layer by layer",
        proof=(lambda: proved_recursion(depth)) if depth <= PROVED_DEPTH else None,
        params_doc={"g": f"activation of every layer: one of {', '.join(ACTIVATIONS)} (leaky slope {ALPHA})"},
        notes=(
            "Rows are examples: y^l = x^(l-1) (w^l)^T + b^l; w and b gradients sum over the batch. "
            "The stated gradients are 004's last-layer and second-to-last-layer formulas, applied "
            "recursively down to layer 1."
        ),
    )


OPS = tuple(chain_op(depth) for depth in DEPTHS)
