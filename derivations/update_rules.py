"""C4-C6: the notes' update rules as ops, so that a user's optimiser step can be checked like a layer.

Momentum (004) and Adagrad (001) return two results, the new parameters and the new state; one op
has one output array, so the two are stacked on a new leading axis: out[0] is the new w, out[1]
the new state, and a cotangent of shape (2, *w.shape) reaches both. Clipping (004) returns the
clipped gradient alone. Every input is differentiable; the rates and thresholds are parameters.
Each step is a function of its inputs: it must not change them in place (torch.optim does).
The regions each draws from, and the code paths each region must reach, are in update_inputs.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from derivations.activation_facts import S001, S004
from derivations.model import Arrays, Elementary, Input, Interval, Op, Params, Program, Source, named
from derivations.ties import floor
from derivations.update_inputs import (
    ADAGRAD_CONDITIONS,
    CLIP_NORM_CONDITIONS,
    CLIP_VALUE_CONDITIONS,
    MOMENTUM_CONDITIONS,
    adagrad_strategy,
    clip_norm_strategy,
    clip_value_strategy,
    momentum_strategy,
)

# rho, the roundings on the longest path: a step's is torch's buffer arithmetic (Δw/η, ·ρ, +g, ·η, w − ·) with
# η and ρ rounded to the dtype, 7, or Adagrad's backward (|g|, two sums, two quotients, a product, a sum), 7;
# clamping rounds nothing but c; a norm adds one rounding per squared entry, as a row op's sum does.
STEP_ROUNDINGS, CLAMP_ROUNDINGS = 8.0, 2.0

# --- the rules, as the notes write them ----------------------------------------------------------


def momentum_forward(m: Elementary, a: Arrays, p: Params) -> np.ndarray:
    step = p["eta"] * a["g"] + p["rho"] * a["delta"]  # Δw_t = η g_t + ρ Δw_{t−1}
    return np.stack([a["w"] - step, step])  # w = w − Δw, and the new state Δw_t


def adagrad_forward(m: Elementary, a: Arrays, p: Params) -> np.ndarray:
    total = a["s"] + np.abs(a["g"])  # the sum of the absolute first derivatives, this step's included
    return np.stack([a["w"] - p["eta"] * a["g"] / (total + p["eps"]), total])


def clip_value_forward(m: Elementary, a: Arrays, p: Params) -> np.ndarray:
    g, c = a["g"], p["c"]
    return np.where(g > c, c, np.where(g < -c, -c, g))  # each entry over the threshold forced back to ±c


def clip_norm_forward(m: Elementary, a: Arrays, p: Params) -> np.ndarray:
    g, c, eps = a["g"], p["c"], p["eps"]
    squares = np.sum(g * g)
    norm = m.sqrt(squares) if squares > 0 else squares  # sqrt's derivative at 0 would divide by 0
    if norm + eps > c:  # over the threshold: brought back onto it, the direction kept
        return g * (c / (norm + eps))  # type: ignore[no-any-return]
    return g * 1.0  # type: ignore[no-any-return]


# --- running-error magnitudes: the sums of |terms| each float result adds up ---------------------


def momentum_bound(a: Arrays, p: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    eta, rho = abs(p["eta"]), abs(p["rho"])
    step = eta * np.abs(a["g"]) + rho * np.abs(a["delta"])
    both = np.abs(c[0]) + np.abs(c[1])  # the step reaches both outputs
    return {"out": np.stack([np.abs(a["w"]) + step, step]), "w": np.abs(c[0]), "delta": rho * both, "g": eta * both}


def adagrad_bound(a: Arrays, p: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    s, g = a["s"], np.abs(a["g"])
    d = s + g + p["eps"]
    rate = abs(p["eta"]) / d
    c0, c1 = np.abs(c[0]), np.abs(c[1])
    # d(g/d)/dg = 1/d − g sign(g)/d²: two terms that cancel on a first step, each rounded on its own.
    out = np.stack([np.abs(a["w"]) + rate * g, s + g])
    return {"out": out, "w": c0, "s": c0 * rate * (g / d) + c1, "g": 2 * c0 * rate + c1}


def _norm_unit(g: np.ndarray) -> tuple[float, np.ndarray]:
    """||g|| over every entry and g / ||g|| (0 for g = 0), scaled first so that no square leaves the range."""
    top = float(np.max(np.abs(g))) if g.size else 0.0
    if top == 0.0:
        return 0.0, np.zeros_like(g)
    y = g / top
    length = float(np.sqrt(np.sum(y * y)))
    return top * length, y / length


def clip_value_bound(a: Arrays, p: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    g = a["g"]
    return {"out": np.minimum(np.abs(g), p["c"]), "g": np.abs(c) * (np.abs(g) < p["c"])}


def clip_norm_bound(a: Arrays, p: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    g, cap, eps = a["g"], p["c"], p["eps"]
    n, unit = _norm_unit(g)
    if not n + eps > cap:
        return {"out": np.abs(g), "g": np.abs(c)}
    k = cap / (n + eps)
    # J^T c = k (c − u (u.c) n/(n + eps)), u = g/||g||: both terms, which can cancel.
    # Not float(): the harness runs this on boxes of c to read its transpose (forward_exact.program_magnitude),
    # where a float() made it call the bound once per output entry (65,536 entries: a minute).
    along = np.abs(unit) * np.sum(np.abs(unit * c)) * (n / (n + eps))
    return {"out": k * np.abs(g), "g": k * (np.abs(c) + along)}


# --- kinks: |g| at 0 (Adagrad's sum), |g| = c (by value), ||g|| + eps = c (by norm) -----------------


def _at_threshold(g: np.ndarray, c: float) -> np.ndarray:
    """|g| = c, or c as float32 rounds it: a float32 implementation compares with that rounding."""
    return (np.abs(g) == c) | (np.abs(g) == float(np.float32(c)))  # type: ignore[no-any-return]


def _gap(values: np.ndarray) -> float:
    return float(np.min(values)) if values.size else float("inf")


def adagrad_gap(a: Arrays, p: Params) -> float:
    return _gap(np.abs(a["g"]))


def clip_value_gap(a: Arrays, p: Params) -> float:
    g = a["g"]
    return 0.0 if _at_threshold(g, p["c"]).any() else _gap(np.abs(np.abs(g) - p["c"]))


def clip_norm_gap(a: Arrays, p: Params) -> float:
    """Exactly 0 on the threshold (squares summed in rationals), else the distance in float64."""
    edge = Fraction(p["c"]) - Fraction(p["eps"])
    if edge >= 0 and sum(Fraction(float(v)) ** 2 for v in a["g"].ravel()) == edge * edge:
        return 0.0
    return max(abs(_norm_unit(a["g"])[0] + p["eps"] - p["c"]), 1e-300)


def adagrad_branch(a: Arrays, p: Params) -> np.ndarray:
    g = a["g"]
    return np.concatenate([np.sign(g).ravel(), np.sign(a["s"] + np.abs(g) + p["eps"]).ravel()])


def clip_value_branch(a: Arrays, p: Params) -> np.ndarray:
    g, c = a["g"], p["c"]
    return np.where(g > c, 1, np.where(g < -c, -1, 0))


def clip_norm_branch(a: Arrays, p: Params) -> np.ndarray:
    return np.array([_norm_unit(a["g"])[0] + p["eps"] > p["c"]])


def _within(got: np.ndarray, want: np.ndarray, mag: np.ndarray, rtol: float, *arrays: object) -> np.ndarray:
    return np.abs(got - want) <= rtol * (mag + np.abs(got)) + floor(rtol, got, *arrays)  # type: ignore[no-any-return]


def adagrad_rule(a: Arrays, p: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float) -> str | None:
    """|g|'(0) may be any t in [-1, 1] in the state's sum, entry by entry; everything else is one value."""
    s, g, eta, eps = a["s"], a["g"], p["eta"], p["eps"]
    d = s + np.abs(g) + eps
    rate = eta * c[0] / d
    want = {"w": c[0], "s": rate * (g / d) + c[1], "g": -rate * ((s + eps) / d) + c[1] * np.sign(g)}
    mag = adagrad_bound(a, p, c)
    got = {k: np.asarray(grads[k], dtype=np.float64) for k in want}
    if not all(_within(got[k], want[k], mag[k], rtol, c).all() for k in ("w", "s")):
        return None
    zero = g == 0
    t = np.clip(np.divide(got["g"] - want["g"], c[1], out=np.zeros_like(g), where=c[1] != 0), -1, 1)
    if not _within(got["g"], want["g"] + np.where(zero, t * c[1], 0.0), mag["g"], rtol, c).all():
        return None
    picked = sorted({round(float(v), 6) + 0.0 for v in t[zero & (c[1] != 0)]})
    return "|g|'(0) in the sum of |g|: " + ", ".join(f"{v:g}" for v in picked[:4]) if picked else "no zero gradient"


def clip_value_rule(a: Arrays, p: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float) -> str | None:
    """At |g| = c the slope may be any t in [0, 1]; inside it is 1, outside 0."""
    g = a["g"]
    at = _at_threshold(g, p["c"])
    got = np.asarray(grads["g"], dtype=np.float64)
    if not _within(got, c * (np.abs(g) < p["c"]), np.abs(c), rtol, c)[~at].all():
        return None
    t = np.clip(np.divide(got, c, out=np.zeros_like(got), where=c != 0), 0, 1)
    if not _within(got, t * c, np.abs(c), rtol, c)[at].all():
        return None
    picked = sorted({round(float(v), 6) + 0.0 for v in t[at & (c != 0)]})
    return "clip'(|g| = c) = " + ", ".join(f"{v:g}" for v in picked[:4]) if picked else "no entry at c"


def clip_norm_rule(a: Arrays, p: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float) -> str | None:
    """On ||g|| + eps = c the Jacobian is any mix (1 − t) I + t (I − u u^T n/c), t in [0, 1]: the
    identity of the inside and the outside's scaling, u = g/||g||."""
    n, unit = _norm_unit(a["g"])
    got = np.asarray(grads["g"], dtype=np.float64)
    towards = -unit * float(np.sum(unit * c)) * (n / p["c"])  # the outside piece minus the inside one
    size = float(np.sum(towards * towards))
    t = float(np.clip(np.sum((got - c) * towards) / size, 0, 1)) + 0.0 if size > 0 else 0.0
    if not _within(got, c + t * towards, clip_norm_bound(a, p, c)["g"], rtol, c).all():
        return None
    return f"||g|| = c: t = {t:.3g} (0 keeps g, 1 scales it)"


# --- the ops --------------------------------------------------------------------------------------

TWO_RESULTS = (
    "The step's two results are one output stacked on a new leading axis, shape (2, *w.shape): out[0] the "
    "new w, out[1] the new state; a cotangent of that shape reaches both, so the gradients of the step with "
    "respect to w, the state and g are all checked. The step must not change its inputs in place."
)
MOMENTUM_SOURCE = Source(
    S004,
    "参数更新优化方法:动量优化 Momentum",
    "w=w-△ w; 添加了Momentum的梯度下降:△ w_t=\\eta g_t+\\rho △w_{t-1}【t是迭代次数,\\rho 冲量系数】",
    ("C4",),
)
ADAGRAD_SOURCE = Source(
    S001,
    "Adagrad",
    "但是分母上也有g的和,分母越大,w参数值下降得越小; 这里的分母虽然是一阶导的绝对值的和",
    ("C5",),
)
CLIP_SOURCE = Source(
    S004, "解决梯度爆炸", "梯度裁剪:梯度阈值,更新梯度时,如果梯度超过阈值,就将其强制限制在这个范围之内", ("C6",)
)
NOT_STATED = " The notes state the rule, not its gradients: those are checked against the exact ones."

MOMENTUM = Op(
    name="momentum_step",
    title="One momentum step as the note writes it: Δw_t = η g_t + ρ Δw_{t−1}; w ← w − Δw_t",
    source=MOMENTUM_SOURCE,
    inputs=(Input("w"), Input("delta"), Input("g")),
    engine=Program(
        forward=momentum_forward,
        strategy=momentum_strategy,
        bound=momentum_bound,
        roundings=lambda a, p: STEP_ROUNDINGS,
    ),
    regions=named("typical", "first-step", "tiny", "huge"),
    conditions=MOMENTUM_CONDITIONS,
    params_doc={
        "eta": "η, the learning rate (学习率); any real, drawn in [2^-10, 1]",
        "rho": "ρ, the momentum coefficient (冲量系数); any real, drawn in [0, 1]",
    },
    notes=TWO_RESULTS
    + " delta is the state Δw_{t−1} (0 on the first step); out[1] is Δw_t. torch.optim.SGD(lr=η, momentum=ρ) "
    "(dampening 0, no Nesterov) keeps buf = Δw/η instead: the same step while η stays constant (C4), apart "
    "once η changes between steps, as torch's buffer does not carry η." + NOT_STATED,
)

ADAGRAD = Op(
    name="adagrad_step",
    title="One Adagrad step as the note reads: s_t = s_{t−1} + |g_t|; w ← w − η g_t / (s_t + eps), eps = 0 in the note",
    source=ADAGRAD_SOURCE,
    inputs=(Input("w"), Input("s", Interval(0.0)), Input("g")),
    engine=Program(
        forward=adagrad_forward,
        strategy=adagrad_strategy,
        bound=adagrad_bound,
        roundings=lambda a, p: STEP_ROUNDINGS,
        kink_gap=adagrad_gap,
        branch=adagrad_branch,
        subgradient_ok=adagrad_rule,
    ),
    regions=named("typical", "first-step", "zero-gradient", "tiny", "huge", "torch-eps"),
    conditions=ADAGRAD_CONDITIONS,
    tie_rule="|g|'(0) anywhere in [-1, 1] in the state's sum (the step itself is smooth at g = 0)",
    params_doc={
        "eta": "η, the learning rate; any real, drawn in [2^-10, 1]",
        "eps": "added to the denominator: 0 as the note writes it; torch.optim.Adagrad adds 1e-10 outside its root",
    },
    notes=TWO_RESULTS
    + " The note gives no formula: 'the sum of g' in the denominator is read with its own gloss, 'the sum of "
    "the absolute values of the first derivatives', per parameter, this step's included (as claim C5 reads it); "
    "s is that sum before the step (0 on the first step), out[1] the sum after it. With eps = 0 an entry with "
    "s = 0 and g = 0 is 0/0 and is never drawn. NOT torch.optim.Adagrad, which divides by √(Σg²) + eps: the two "
    "agree on the first step only (C5 refuted); a textbook Adagrad fails here from its second step on." + NOT_STATED,
)

CLIP_VALUE = Op(
    name="clip_by_value",
    title="Gradient clipping by value: each entry over the threshold forced back to ±c",
    source=CLIP_SOURCE,
    inputs=(Input("g"),),
    engine=Program(
        forward=clip_value_forward,
        strategy=clip_value_strategy,
        bound=clip_value_bound,
        roundings=lambda a, p: CLAMP_ROUNDINGS,
        kink_gap=clip_value_gap,
        branch=clip_value_branch,
        subgradient_ok=clip_value_rule,
    ),
    regions=named("typical", "threshold", "tiny", "huge"),
    conditions=CLIP_VALUE_CONDITIONS,
    tie_rule="at |g| = c the slope is anywhere in [0, 1]",
    params_doc={"c": "the threshold (梯度阈值), c > 0: each entry is forced into [-c, c]"},
    notes="The note does not say which range: read entry by entry here (torch.nn.utils.clip_grad_value_, "
    "g.clamp(-c, c)), by the 2-norm in clip_by_norm. Returns the clipped gradient alone." + NOT_STATED,
)

CLIP_NORM = Op(
    name="clip_by_norm",
    title="Gradient clipping by norm: a gradient whose 2-norm is over the threshold scaled back onto it",
    source=CLIP_SOURCE,
    inputs=(Input("g"),),
    engine=Program(
        forward=clip_norm_forward,
        strategy=clip_norm_strategy,
        bound=clip_norm_bound,
        roundings=lambda a, p: STEP_ROUNDINGS + 2.0 * a["g"].size,
        kink_gap=clip_norm_gap,
        branch=clip_norm_branch,
        subgradient_ok=clip_norm_rule,
    ),
    regions=named("typical", "threshold", "tiny", "huge", "torch-eps"),
    conditions=CLIP_NORM_CONDITIONS,
    tie_rule="at ||g|| + eps = c any mix of keeping g and scaling it",
    params_doc={
        "c": "the threshold (梯度阈值), c > 0, on the 2-norm of the whole array",
        "eps": "added to the norm: 0 as the note writes it; torch.nn.utils.clip_grad_norm_ adds 1e-6",
    },
    notes="Read as the 2-norm of the whole array (torch.nn.utils.clip_grad_norm_ over one tensor): g if "
    "||g|| + eps <= c, else g c / (||g|| + eps). torch's clip_grad_norm_ is this with eps = 1e-6, its norm "
    "squared without scaling: the square overflows for float32 entries beyond about 1e19, the norm is then "
    "inf and the gradient becomes 0. Returns the clipped gradient alone." + NOT_STATED,
)

OPS = (MOMENTUM, ADAGRAD, CLIP_VALUE, CLIP_NORM)
