"""Checks of cross entropy's sign and its value at a match (B3), of logistic regression's extrema and
likelihood (B6), and of what entropy measures (G1). information.py merges these CHECKS into its own."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy as sp

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult

W, B = sp.symbols("w b", real=True)
SIZES = (2, 3, 4)
# One feature each (x, labels): what decides the number of extrema is whether the rows (x_j, 1) span (w, b).
DATA_SETS = (
    ("overlapping classes", (0, 1, 0, 1), (0, 0, 1, 1)),
    ("separable classes", (-2, -1, 1, 2), (0, 0, 1, 1)),
    ("every x equal, both labels", (2, 2, 2, 2), (0, 1, 1, 1)),
    ("every x equal, one label", (1, 1, 1, 1), (1, 1, 1, 1)),
)


def symbol_row(prefix: str, n: int, **assumptions: bool) -> list[sp.Symbol]:
    return list(sp.symbols(f"{prefix}0:{n}", **assumptions))


def _one_hot(n: int, k: int) -> list[sp.Expr]:
    return [sp.Integer(int(i == k)) for i in range(n)]


def _toward(n: int, k: int, s: sp.Symbol) -> list[sp.Expr]:
    """A distribution with y'_k = 1/(1+s): s = 0 is the one-hot row; softmax gives s = Σ_{j≠k} e^{z_j−z_k} > 0."""
    return [1 / (1 + s) if i == k else s / ((n - 1) * (1 + s)) for i in range(n)]


def _counterexample(holds: Callable[[sp.Expr], object], h: sp.Expr, s: sp.Symbol) -> object:
    """The first s in the domain (s = 0 only where s may be 0) where the stated relation is false."""
    candidates = [sp.Integer(0)] if s.is_nonnegative and not s.is_positive else []
    candidates += [sp.Rational(1, 10**6), sp.Rational(1, 10), sp.Integer(1), sp.Integer(10)]
    return next((c for c in candidates if holds(h.subs(s, c)) == sp.false), None)


def _sign_failure(cross: Callable[..., sp.Expr], holds: Callable[[sp.Expr], object], n: int, s: sp.Symbol) -> str:
    """Where the stated relation fails at a one-hot target for some output of the domain; "" where it never does."""
    for k in range(n):
        h = sp.expand_log(sp.simplify(cross(_one_hot(n, k), _toward(n, k, s))), force=True)
        if holds(h) == sp.true:
            continue
        at = _counterexample(holds, h, s)
        if at is None:
            return f"undecided at the target e_{k}: {holds(h)}"
        return f"y = {_one_hot(n, k)}, y' = {[v.subs(s, at) for v in _toward(n, k, s)]}: H = {h.subs(s, at)}"
    return ""


def cross_entropy_positive(claim: Claim, seed: int) -> ClaimResult:
    """H is linear in y, so its least value over targets is at a one-hot y; there H = −log y'_k, decided per domain."""
    st, r = claim.statement, ClaimResult()
    cross, holds = st["cross"], st["holds"]
    outputs = {"softmax outputs (s > 0)": sp.Symbol("s", positive=True)}
    outputs["any predicted distribution (s ≥ 0)"] = sp.Symbol("s", nonnegative=True)
    for n in SIZES:
        y, q = symbol_row("y", n, nonnegative=True), symbol_row("q", n, positive=True)
        gap = sp.simplify(cross(y, q) - sum(yk * cross(_one_hot(n, k), q) for k, yk in enumerate(y)))
        r.add(f"n = {n}: H(y, y') = Σ y_k H(e_k, y'), least at a one-hot target", gap == 0, 0, gap)
        for label, s in outputs.items():
            failure = _sign_failure(cross, holds, n, s)
            r.add(f"n = {n}, {label}: the stated sign", not failure, "holds at every target", failure or "holds")
    r.detail = (
        "the stated sign holds at every one-hot target for softmax outputs and for any predicted distribution; "
        "H is linear in the target, so it holds for every target"
    )
    r.corrected = (
        "H ≥ 0, and H = 0 exactly when the target is one-hot and the output puts probability 1 on the same class "
        "(y = y' = e_k); for softmax outputs, every y'_i < 1, H > 0 strictly"
    )
    return r


def _sign(value: sp.Expr) -> str:
    return "positive" if bool(value > 0) else "not positive"


def cross_entropy_sign_reason(claim: Claim, seed: int) -> ClaimResult:
    """Does each term's sign follow the stated reason? y over the targets' (0, 1], y' past 1 to vary it on its own."""
    st, r = claim.statement, ClaimResult()
    term, reason = st["term"], st["reason"]
    targets = [sp.Rational(k, 4) for k in (1, 2, 3, 4)]
    outputs = [sp.Rational(k, 4) for k in (1, 2, 3, 4, 6, 8)]
    points = [(y, q, sp.simplify(term(y, q))) for y in targets for q in outputs]
    for label, part in (
        ("y' a probability (≤ 1)", [p for p in points if p[1] <= 1]),
        ("y' > 1, outside a distribution", [p for p in points if p[1] > 1]),
    ):
        positive_without = [(y, q, h) for y, q, h in part if bool(h > 0) and not reason(y, q)]
        reason_without = [(y, q, h) for y, q, h in part if reason(y, q) and not bool(h > 0)]
        shown = [
            f"{what}: y = {y}, y' = {q}, term {float(h):.3g}"
            for what, bad in (
                ("positive, the reason fails", positive_without),
                ("the reason holds, not positive", reason_without),
            )
            if bad
            for y, q, h in bad[:1]
        ]
        agree = len(part) - len(positive_without) - len(reason_without)
        r.add(
            f"{label}: the term −y log y' is positive exactly where the reason holds",
            agree == len(part),
            f"agree at all {len(part)} points",
            "; ".join([f"{agree} of {len(part)} agree", *shown]),
        )
    follows_y = any(_sign(h1) != _sign(h2) for _, q1, h1 in points for _, q2, h2 in points if q1 == q2)
    follows_q = any(_sign(h1) != _sign(h2) for y1, _, h1 in points for y2, _, h2 in points if y1 == y2)
    log_below_one = all(bool(h > 0) == bool(q < 1) for _, q, h in points)
    r.detail = (
        f"the term's sign changes with y at a fixed y': {follows_y}; with y' at a fixed y: {follows_q}; "
        f"positive exactly where y' < 1: {log_below_one}"
    )
    r.corrected = (
        "the sign comes from the log, not from y_i: y_i ≥ 0 and log y'_i ≤ 0 because y'_i ≤ 1, so every term "
        "−y_i log y'_i ≥ 0 (> 0 where y'_i < 1), whether or not y_i < 1; a one-hot target has y_k = 1 and its H is "
        "still positive. Read as y'_i < 1 (the log's argument), the reason is right"
    )
    return r


def cross_entropy_near_zero_at_match(claim: Claim, seed: int) -> ClaimResult:
    """The limit of H(y, y') as y' → y along (1−ε)y + ε/n, one-hot and soft targets."""
    st, r = claim.statement, ClaimResult()
    eps = sp.Symbol("epsilon", positive=True)
    half, third, quarter = sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(1, 4)
    targets = ([1, 0], [0, 1, 0], [half, half], [quarter, 1 - quarter], [third, third, third])
    values = []
    for y in targets:
        target = [sp.sympify(v) for v in y]
        approach = [(1 - eps) * v + eps / len(target) for v in target]
        limit = sp.limit(st["cross"](target, approach), eps, 0, "+")
        expected = st["at_match"](target)
        values.append(f"{y}: {float(limit):.3g}")
        r.add(
            f"y = {y}: H(y, y') as y' → y",
            sp.simplify(limit - expected) == 0,
            expected,
            f"{limit} ≈ {float(limit):.4g}",
        )
    r.detail = "H(y, y') as y' → y: " + "; ".join(values)
    r.corrected = (
        "as the outputs approach the targets, H → −Σ y_i log y_i, the entropy of the targets: 0 only for one-hot "
        "targets (001's 'y是0或1'); ln 2 ≈ 0.693 for (½, ½), up to ln n. What tends to 0 for every target is "
        "H − H(y) = D_KL(y‖y')"
    )
    return r


def directional_curvature(loss: Callable[..., sp.Expr], features: int) -> tuple[sp.Expr, sp.Symbol, list[sp.Symbol]]:
    """One sample's d²/dt² loss((w, b) + t·u) at t = 0, simplified.

    b is written as z − w·x and u's last entry as a − Σ u_i x_i: a change of variables that leaves the logit z and
    the direction's component along the sample a = u·(x, 1) as single symbols, which keeps SymPy fast. Returns the
    curvature, a, and the direction's other entries.
    """
    w, x = symbol_row("w", features, real=True), symbol_row("x", features, real=True)
    u = symbol_row("u", features + 1, real=True)
    t, z, y, along = sp.symbols("t z y a", real=True)
    moved = loss([wi + t * ui for wi, ui in zip(w, u, strict=False)], B + t * u[-1], x, y)
    curvature = sp.diff(moved, t, 2).subs(t, 0).subs(B, z - sum(wi * xi for wi, xi in zip(w, x, strict=True)))
    curvature = curvature.subs(u[-1], along - sum(ui * xi for ui, xi in zip(u, x, strict=False)))
    return sp.factor(sp.simplify(curvature)), along, u[:-1]


def _newton(cost: sp.Expr) -> tuple[float, float] | None:
    """A minimum of a strictly convex cost by Newton's method from (0.3, −0.2), or None where there is none.

    Separable data have no minimum: the iterates run off while the gradient and the curvature both fade like
    e^{−|w|}, so a point counts only where the curvature is still well away from 0 (smallest eigenvalue > 1e-6).
    """
    grad = sp.lambdify((W, B), [sp.diff(cost, v) for v in (W, B)], "numpy")
    hess = sp.lambdify((W, B), sp.hessian(cost, (W, B)), "numpy")
    theta = np.array([0.3, -0.2])
    with np.errstate(all="ignore"):
        for _ in range(60):
            step = np.linalg.lstsq(np.array(hess(*theta), dtype=float), np.array(grad(*theta), dtype=float), rcond=None)
            theta = theta - step[0]
            if not np.all(np.isfinite(theta)) or np.abs(theta).max() > 1e6:
                return None
        flat = np.linalg.eigvalsh(np.array(hess(*theta), dtype=float))[0] < 1e-6
        found = np.abs(np.array(grad(*theta), dtype=float)).max() < 1e-10 and not flat
    return (round(float(theta[0]), 9) + 0.0, round(float(theta[1]), 9) + 0.0) if found else None  # no "-0"


def _extremum_points(
    st: Mapping[str, Any], xs: tuple[int, ...], ys: tuple[int, ...], strict: bool
) -> tuple[float, str]:
    """How many extremum points the data set's cost has, and how that was decided."""
    loss, cost = st["sample_loss"], st["cost"]
    total = cost([loss([W], B, [sp.Integer(x)], sp.Integer(y)) for x, y in zip(xs, ys, strict=True)])
    null = sp.Matrix([[x, 1] for x in xs]).nullspace()
    if not null and strict:
        point = _newton(total)
        where = (
            f"one, at (w, b) = ({point[0]:.3g}, {point[1]:.3g})"
            if point
            else "none: Newton's iterates run off as J keeps falling"
        )
        return (1 if point else 0), f"strictly convex, so at most one: {where}"
    if not null:
        return math.inf, "undecided: the samples' curvature is not strictly positive"
    t = sp.Symbol("t", real=True)
    shift = {W: W + t * null[0][0], B: B + t * null[0][1]}
    drift = sp.simplify(sp.diff(total.subs(shift, simultaneous=True), t))
    # Where J is constant along the null direction, solving ∂J/∂b = 0 for b leaves w free: a curve of candidates.
    curves = [sp.expand_log(c, force=True) for c in sp.solve(sp.diff(total, B), B)]
    stationary = [c for c in curves if sp.simplify(sp.diff(total, W).subs(B, c)) == 0]
    direction = f"({null[0][0]}, {null[0][1]})"
    if drift == 0 and stationary:
        return (
            math.inf,
            f"infinitely many: J is constant along {direction} and every (w, b) with b = {stationary[0]} is a minimum",
        )
    if drift == 0:
        return 0, f"none: J is constant along {direction} and ∂J/∂b never vanishes"
    return math.inf, "undecided: J is not constant along the null direction of the rows (x_j, 1)"


def logistic_single_extremum(claim: Claim, seed: int) -> ClaimResult:
    """Count the extremum points over data sets of one feature the statement's data condition admits."""
    st, r = claim.statement, ClaimResult()
    curvature, along, u = directional_curvature(st["sample_loss"], 1)
    strength = sp.factor(sp.simplify(curvature / along**2))
    strict = strength.is_positive is True and not strength.free_symbols & {along, *u}
    r.add("one sample: curvature = c·a², a = u·(x, 1), with c > 0", strict, "c > 0, free of the direction u", strength)
    shown = []
    for label, xs, ys in DATA_SETS:
        if not st["data"](np.array(xs, dtype=float)[:, None]):
            shown.append(f"{label}: not covered by the statement")
            continue
        count, how = _extremum_points(st, xs, ys, strict)
        most = st["extrema_at_most"]
        r.add(f"{label}, x = {xs}, y = {ys}: extremum points", count <= most, f"at most {most}", how)
        shown.append(f"{label}: {how}")
    r.detail = "; ".join(shown)
    r.corrected = (
        "convex gives a convex set of minima, not at most one: with every x equal the cost depends on w·x + b "
        "alone and its minima fill a line. The cost has at most one extremum when the rows (x_j, 1) span (w, b)'s "
        "space (one feature: two different x), since it is then strictly convex; separable classes have none"
    )
    return r


def logistic_max_likelihood(claim: Claim, seed: int) -> ClaimResult:
    """−log of the stated likelihood against the stated loss, per label and for independent samples."""
    st, r = claim.statement, ClaimResult()
    likelihood, loss = st["likelihood"], st["loss"]
    yhat, y = sp.Symbol("yhat", positive=True), sp.Symbol("y", real=True)
    for label, value in (("y = 0", sp.Integer(0)), ("y = 1", sp.Integer(1)), ("y a symbol", y)):
        gap = sp.simplify(sp.expand_log(-sp.log(likelihood(yhat, value)) - loss(yhat, value), force=True))
        r.add(f"{label}: −log likelihood − loss", gap == 0, 0, gap)
    yhats, ys = symbol_row("yhat", 3, positive=True), symbol_row("y", 3, real=True)
    joint = sp.Mul(*(likelihood(a, b) for a, b in zip(yhats, ys, strict=True)))
    summed = sum(loss(a, b) for a, b in zip(yhats, ys, strict=True))
    gap = sp.simplify(sp.expand_log(-sp.log(joint) - summed, force=True))
    r.add("3 independent samples: −log Π likelihood − Σ loss", gap == 0, 0, gap)
    r.detail = (
        "−log[ŷ^y (1−ŷ)^(1−y)] = −(y log ŷ + (1−y) log(1−ŷ)), and over independent samples the log of the product "
        "is the sum: −log is decreasing, so the (w, b) that maximise the likelihood minimise the cross entropy"
    )
    r.corrected = "the negative log of the Bernoulli likelihood ŷ^y (1−ŷ)^(1−y) is −(y log ŷ + (1−y) log(1−ŷ))"
    return r


def _entropy_and_mean(quantity: Callable[[list[sp.Expr]], list[sp.Expr]], p: list[sp.Expr]) -> tuple[sp.Expr, sp.Expr]:
    """Shannon's H(p) = −Σ p log p (the yardstick) and the mean of the stated per-outcome quantity under p."""
    entropy = -sum(pi * sp.log(pi) for pi in p)
    return entropy, sum(pi * v for pi, v in zip(p, quantity(p), strict=True))


def entropy_direction(claim: Claim, seed: int) -> ClaimResult:
    """Against the definition of entropy: how the average of the stated quantity moves as the entropy rises."""
    st, r = claim.statement, ClaimResult()
    words = {1: "rises", -1: "falls", 0: "is no function of H alone"}
    mean_of = f"the average {st['word']}"
    coins = [_entropy_and_mean(st["quantity"], [sp.Rational(k, 10), sp.Rational(10 - k, 10)]) for k in (5, 9)]
    (h_fair, e_fair), (h_biased, e_biased) = ((float(h), float(e)) for h, e in coins)
    moved = int(np.sign(e_fair - e_biased) * np.sign(h_fair - h_biased))
    r.add(
        "a fair coin against a (0.9, 0.1) coin",
        moved == st["direction"],
        f"{mean_of} {words[st['direction']]} with H",
        f"H {h_fair:.3f} vs {h_biased:.3f}; {mean_of} {e_fair:.3f} vs {e_biased:.3f}",
    )
    for n in SIZES:
        entropy, mean = _entropy_and_mean(st["quantity"], symbol_row("p", n, positive=True))
        direction = next((d for d in (1, -1) if sp.simplify(mean - d * entropy) == 0), 0)
        relation = {1: ": it equals H", -1: ": it equals −H", 0: ""}[direction]
        r.add(
            f"every p of {n} outcomes: as H(p) rises, {mean_of}",
            direction == st["direction"],
            words[st["direction"]],
            words[direction] + relation,
        )
    r.detail = f"{mean_of} {words[st['direction']]} with the entropy, for every distribution of 2, 3 and 4 outcomes"
    r.corrected = (
        "higher entropy means more information and more surprise on average: H(p) = E_p[−log p(x)] is by "
        "definition the expected information content (surprisal) of an outcome; a fair coin (H = 0.693) "
        "carries more per toss than a (0.9, 0.1) coin (0.325)"
    )
    return r


CHECKS = {
    "cross_entropy_positive": cross_entropy_positive,
    "cross_entropy_sign_reason": cross_entropy_sign_reason,
    "cross_entropy_near_zero_at_match": cross_entropy_near_zero_at_match,
    "logistic_ce_single_extremum": logistic_single_extremum,
    "logistic_ce_max_likelihood": logistic_max_likelihood,
    "entropy_less_information": entropy_direction,
    "entropy_less_surprise": entropy_direction,
}
