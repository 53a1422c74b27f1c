"""D1-D2: one fully connected layer y = w.x + b, x' = g(y), and its last-layer gradients.

The notes write column vectors, y^L = w^L . x^{L-1} + b^L; a batch of B inputs is B rows, so
here y = x w^T + b with x of shape (B, n_in), w of shape (n_out, n_in) and b of shape (n_out,).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations.elementary import FLOAT
from derivations.kinks import in_box
from derivations.model import Arrays, Condition, Elementary, Example, Input, Op, Params, Program, Source, named
from derivations.ties import floor

ALPHA = 0.1  # the leaky slope the notes' plots use
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


def g(m: Elementary, name: str, y: Any) -> Any:
    """The activation, as A1-A4 define it."""
    if name == "sigmoid":
        return m.sigmoid(y)
    if name == "tanh":
        return m.tanh(y)
    if name == "relu":
        return np.maximum(y, 0)
    return np.maximum(ALPHA * y, y)


def g_prime(name: str, y: Any, a: Any) -> Any:
    """The activation's derivative as the notes write it: in the output a for sigmoid and tanh."""
    if name == "sigmoid":
        return a * (1 - a)  # a' = a(1-a)
    if name == "tanh":
        return 1 - a * a  # a' = 1 - a^2
    if name == "relu":
        return np.where(y > 0, 1, 0)  # 1 for z>0, 0 for z<0
    return np.where(y > 0, 1, ALPHA)  # the slope alpha for z<0


# Largest |g''| of each activation: how far an error in y moves g'(y) (error-model knowledge).
G2_MAX = {"sigmoid": 0.1, "tanh": 0.8, "relu": 0.0, "leaky_relu": 0.0}


def layer_forward(m: Elementary, arrays: Arrays, params: Params) -> np.ndarray:
    y = arrays["x"] @ arrays["w"].T + arrays["b"]  # y^L = w^L . x^{L-1} + b^L
    return g(m, params["g"], y)  # x^L = g(y^L)


def layer_stated(m: Elementary, arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    """D2, the last layer: dL/dy = dL/dx^L . g'(y^L); dL/dw = dL/dy . x^{L-1}; dL/db = dL/dy;
    dL/dx^{L-1} = dL/dy . w^L (summed over the batch for w and b)."""
    x, w, b = arrays["x"], arrays["w"], arrays["b"]
    y = x @ w.T + b
    a = g(m, params["g"], y)
    dy = c * g_prime(params["g"], y, a)
    return {"x": dy @ w, "w": dy.T @ x, "b": dy.sum(axis=0)}


def layer_bound(arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    """Sums of |terms| each float result adds up (first-order running-error magnitudes)."""
    x, w, b = arrays["x"], arrays["w"], arrays["b"]
    name = params["g"]
    y = x @ w.T + b
    y_mag = np.abs(x) @ np.abs(w).T + np.abs(b)
    a = np.asarray(g(FLOAT, name, y), dtype=np.float64)
    slope = np.abs(np.asarray(g_prime(name, y, a), dtype=np.float64))
    out = np.abs(a) + slope * y_mag
    dy = np.abs(c) * (slope + G2_MAX[name] * y_mag)
    return {"out": out, "x": dy @ np.abs(w), "w": dy.T @ np.abs(x), "b": dy.sum(axis=0)}


def layer_roundings(arrays: Arrays, params: Params) -> float:
    batch, n_in = arrays["x"].shape
    return 8.0 + 2.0 * (n_in + batch + 1)


def layer_kink_gap(arrays: Arrays, params: Params) -> float:
    if params["g"] in ("sigmoid", "tanh"):
        return float("inf")
    y = arrays["x"] @ arrays["w"].T + arrays["b"]
    return float(np.min(np.abs(y))) if y.size else float("inf")


def layer_branch(arrays: Arrays, params: Params) -> np.ndarray:
    if params["g"] in ("sigmoid", "tanh"):
        return np.zeros(0)
    return np.asarray(arrays["x"] @ arrays["w"].T + arrays["b"] > 0)


def layer_subgradient_ok(
    arrays: Arrays, params: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float
) -> str | None:
    """At pre-activations exactly 0, g'(0) may be any s in [alpha, 1] (ReLU: [0, 1]), entry by
    entry. The gradients are linear in those s: solve for them and check they lie in the set."""
    x, w, b = arrays["x"], arrays["w"], arrays["b"]
    name = params["g"]
    lo, hi = (0.0, 1.0) if name == "relu" else (ALPHA, 1.0)
    y = x @ w.T + b
    kinks = np.argwhere(y == 0)
    slope = np.where(y > 0, 1.0, 0.0 if name == "relu" else ALPHA)
    slope[y == 0] = 0.0

    def grads_of(dy: np.ndarray) -> np.ndarray:
        return np.concatenate([(dy @ w).ravel(), (dy.T @ x).ravel(), dy.sum(axis=0)])

    got = np.concatenate([np.asarray(grads[k], dtype=np.float64).ravel() for k in ("x", "w", "b")])
    base = grads_of(c * slope)
    kink_grads = np.zeros((got.size, len(kinks)))  # column k: the gradients' change per unit of kink k's slope
    for k, (i, j) in enumerate(kinks):
        unit = np.zeros_like(y)
        unit[i, j] = c[i, j]
        kink_grads[:, k] = grads_of(unit)
    widest = np.abs(c) * np.where(y == 0, hi, np.abs(slope))
    magnitude = np.concatenate([(widest @ np.abs(w)).ravel(), (widest.T @ np.abs(x)).ravel(), widest.sum(axis=0)])

    def matches(s: np.ndarray) -> bool:
        # The core's absolute floor too: a float32 gradient of 6e-46 is 0, correctly rounded.
        tol = rtol * (magnitude + np.abs(got)) + floor(rtol, got, x, w, b, c)
        return not np.any(np.abs(got - base - kink_grads @ s) > tol)

    # One slope at every kink (torch's convention) is the common case and needs no solving. Kinks whose
    # gradients overlap leave s underdetermined, and the minimum-norm solution, clipped to the set, can
    # miss a solution inside it (three kinks in one column of a weight that is 0 did, at seed 8).
    tried = [np.full(len(kinks), v) for v in (lo, hi)]
    s = next((t for t in tried if matches(t)), None)
    if s is None:
        s = in_box(kink_grads, got - base, lo, hi)
        if not matches(s):
            return None
    picked = sorted({round(float(v), 12) for v in s})
    return f"{name}'(0) = " + ", ".join(f"{v:g}" for v in picked) if picked else f"{name}: no kink reached"


def _floats(shape: tuple[int, ...], bound: float) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound, allow_subnormal=False))


def layer_conditions(kinked_only: tuple[str, ...] = (), smooth_only: tuple[str, ...] = ()) -> tuple[Condition, ...]:
    """A batch of more than one (the bias and weight gradients sum over it), a non-square weight (a
    transposed weight gradient hides in a square one) and each activation's derivative; a region
    that draws only the kinked (ReLU) or only the smooth activations rules the others out."""

    def non_square(ex: Example) -> bool:
        return any(v.shape[0] != v.shape[1] for k, v in ex.arrays.items() if k.startswith("w"))

    def activation(name: str) -> Condition:
        ruled_out = smooth_only if name in ("relu", "leaky_relu") else kinked_only
        return Condition(f"g={name}", lambda ex: ex.params["g"] == name, not_in=ruled_out)

    return (
        Condition("batch>1", lambda ex: ex.arrays["x"].shape[0] > 1),
        Condition("non-square weight", non_square),
        *(activation(a) for a in ACTIVATIONS),
    )


def layer_strategy(region: str) -> st.SearchStrategy[Example]:
    """typical: |entries| <= 3; saturated: weights up to 30 (sigmoid and tanh deep in their
    flat tails); batch-nonsquare: B > 1 and n_out != n_in always."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        batch = draw(st.integers(2, 4) if region == "batch-nonsquare" else st.integers(1, 4))
        n_in = draw(st.integers(1, 5))
        n_out = draw(st.integers(1, 5).filter(lambda n: region != "batch-nonsquare" or n != n_in))
        act = draw(st.sampled_from(ACTIVATIONS))
        w_bound = 30.0 if region == "saturated" else 3.0
        arrays = {
            "x": draw(_floats((batch, n_in), 3.0)),
            "w": draw(_floats((n_out, n_in), w_bound)),
            "b": draw(_floats((n_out,), 3.0)),
        }
        tags = tuple(t for t, on in (("batch>1", batch > 1), ("non-square", n_in != n_out)) if on)
        return Example(arrays, {"g": act}, region, tags)

    return build()


LAYER = Op(
    name="dense_layer",
    title="One fully connected layer x^L = g(w^L x^{L-1} + b^L) and its last-layer gradients",
    source=Source(
        seed="004",
        section="反向传播",
        quote="y^L=w^L⋅x^{L−1}+b^L; 反向传播时最后一层的导数",
        claims=("D1", "D2"),
    ),
    inputs=(Input("x"), Input("w"), Input("b")),
    engine=Program(
        forward=layer_forward,
        strategy=layer_strategy,
        bound=layer_bound,
        roundings=layer_roundings,
        stated=layer_stated,
        kink_gap=layer_kink_gap,
        branch=layer_branch,
        subgradient_ok=layer_subgradient_ok,
    ),
    regions=named("typical", "saturated", "batch-nonsquare"),
    conditions=layer_conditions(),
    tie_rule="g'(0) anywhere in the subgradient set [alpha, 1] (ReLU: [0, 1])",
    params_doc={"g": f"activation: one of {', '.join(ACTIVATIONS)} (leaky slope {ALPHA})"},
    notes="Rows are examples: y = x w^T + b; the w and b gradients sum over the batch.",
)

OPS = (LAYER,)
