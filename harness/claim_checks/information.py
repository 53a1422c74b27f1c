"""Checks of the loss and information claims (B1-B9, G1); B3's, B6's new ones and G1's live in cross_entropy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy as sp

from derivations.model import Claim
from harness.claim_checks import cross_entropy
from harness.claim_checks import curvature as engine
from harness.claim_checks.cross_entropy import symbol_row as _row
from harness.claim_checks.result import ClaimResult

W, B, X = sp.symbols("w b x", real=True)


def mse_not_norm(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    for n in st["sizes"]:
        yhat, y = _row("yhat", n, real=True), _row("y", n, real=True)
        mse, norm = st["mse"](yhat, y), st["norm"]([a - b for a, b in zip(yhat, y, strict=True)])
        r.add(f"n = {n}: no square root", mse.is_polynomial(*yhat, *y), "a polynomial", mse)
        at = {v: 3 for v in yhat} | {v: 0 for v in y}  # error 3 in every entry: MSE 9, norm 3·sqrt(n)
        r.add(
            f"n = {n}: MSE ≠ 2-norm at error (3, …, 3)",
            mse.subs(at) != norm.subs(at),
            "different",
            f"{mse.subs(at)} vs {norm.subs(at)}",
        )
        r.add(f"n = {n}: MSE = ||error||²/N", sp.simplify(mse - norm**2 / n) == 0, 0, sp.simplify(mse - norm**2 / n))
    r.detail = "MSE = ||ŷ − y||²/N: the squared norm over N, without the root"
    return r


def _psd(matrix: sp.Matrix) -> tuple[bool, object]:
    values = [sp.simplify(v) for v in matrix.eigenvals(multiple=True)]
    return all(v.is_nonnegative for v in values), values


def square_loss_convex(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    for n in st["sizes"]:
        yhat, y = _row("yhat", n, real=True), _row("y", n, real=True)
        ok, values = _psd(sp.hessian(st["mse"](yhat, y), yhat))
        r.add(f"Hessian in ŷ is PSD (n = {n})", ok, "eigenvalues >= 0", values)
    y1 = sp.Symbol("y", real=True)
    ok, values = _psd(sp.hessian(st["sample_loss"](W, B, X, y1), (W, B)))
    r.add("one sample's Hessian in (w, b) is PSD", ok, "eigenvalues >= 0", values, "a sum of PSD matrices is PSD")
    rng = np.random.default_rng(seed)
    points = [{"yhat": rng.normal(0, 3, (1, n)), "y": rng.normal(0, 3, (1, n))} for n in (1, 2, 4, 8) for _ in range(5)]
    least = engine.smallest_curvature("mse", "yhat", points, rng)
    r.add(
        "the catalog's mse op, exact second derivatives: vᵀHv >= 0 at 20 random points and directions in ŷ",
        least >= -1e-12,
        ">= 0 (relative slack 1e-12 for the float64 rounding of H v)",
        least,
        "smallest vᵀHv / (|v|² (1 + |Hv|))",
    )
    r.detail = "Hessians are positive semi-definite: in ŷ (2/N)·I, in (w, b) a sum of 2·[x,1][x,1]ᵀ"
    return r


def _nonnegative_mix(cost: Callable[[list[sp.Symbol]], sp.Expr], m: int) -> tuple[bool, object]:
    """Whether the cost of m samples is Σ a_j·loss_j with every a_j ≥ 0 (then its curvature is the same mix)."""
    losses = _row("loss", m, real=True)
    try:
        poly = sp.Poly(sp.sympify(cost(losses)), *losses)
    except sp.PolynomialError as exc:
        return False, f"not a polynomial in the losses: {exc}"
    weights = {poly.coeff_monomial(li) for li in losses}
    return poly.total_degree() <= 1 and all(wt.is_nonnegative for wt in weights), f"weights {sorted(weights, key=str)}"


def _many_sample_cost(
    st: Mapping[str, Any], per_sample: Callable[..., Any], data: np.ndarray, labels: np.ndarray, theta: np.ndarray
) -> np.ndarray:
    """The statement's cost of the data set at each row (w, b) of theta."""
    features = data.shape[1]
    cols = [theta[:, i : i + 1] for i in range(features)]
    losses = per_sample(cols, theta[:, features:], [data[None, :, i] for i in range(features)], labels)
    return np.asarray(st["cost"](list(np.asarray(losses, dtype=float).T)), dtype=float)


def _midpoint_excess(st: Mapping[str, Any], rng: np.random.Generator, features: int) -> float:
    """Largest relative L(mid) − (L(a) + L(b))/2 over 10 random data sets of 2-200 samples and 50 pairs each."""
    w, x, y = _row("w", features, real=True), _row("x", features, real=True), sp.Symbol("y", real=True)
    per_sample = sp.lambdify((w, B, x, y), st["sample_loss"](w, B, x, y), "numpy")
    worst = -np.inf
    for _ in range(10):
        m = int(rng.integers(2, 201))
        data, labels = rng.normal(0, 0.5, (m, features)), rng.integers(0, 2, m)  # |w·x + b| stays below ~8
        a, b = rng.normal(0, 1, (2, 50, features + 1))
        cost = [_many_sample_cost(st, per_sample, data, labels, theta) for theta in (a, b, (a + b) / 2)]
        ends = (cost[0] + cost[1]) / 2
        excess = float(np.max((cost[2] - ends) / (1 + np.abs(ends))))
        worst = max(worst, excess) if np.isfinite(excess) else np.inf  # a NaN cost is no evidence of convexity
    return worst


def logistic_convex(claim: Claim, seed: int) -> ClaimResult:
    """One sample's curvature along every direction of (w, b), the many-sample cost as a non-negative mix of the
    samples' losses, and a midpoint test of the cost on random data sets of many samples."""
    st, r = claim.statement, ClaimResult()
    for d in st["features"]:
        curvature, _, _ = cross_entropy.directional_curvature(st["sample_loss"], d)
        ok = curvature.is_nonnegative is True
        r.add(f"one sample, {d} feature(s): d²/dt² along every direction of (w, b)", ok, ">= 0", curvature)
    for m in (2, 30):
        ok, weights = _nonnegative_mix(st["cost"], m)
        r.add(f"{m} samples: the cost is Σ a_j·loss_j with a_j >= 0", ok, "a non-negative mix", weights)
    rng = np.random.default_rng(seed)
    # The chain rule gives the cost's Hessian in (w, b) as sum_j loss''(z_j) [x_j, 1][x_j, 1]^T: PSD wherever the
    # loss curves up in its logit, which the catalog's binary cross entropy shows from its exact second derivative.
    points = [{"z": rng.uniform(-30, 30, (8,)), "y": rng.uniform(0, 1, (8,))} for _ in range(5)]
    least = engine.smallest_curvature("binary_cross_entropy", "z", points, rng)
    r.add(
        "the catalog's binary cross entropy, exact second derivatives: d²/dz² >= 0 at 40 random (z, y)",
        least >= -1e-12,
        ">= 0 (relative slack 1e-12 for the float64 rounding of H v)",
        least,
        "smallest vᵀHv / (|v|² (1 + |Hv|))",
    )
    worst = max(_midpoint_excess(st, rng, d) for d in (1, 2, 3))
    r.add(
        "30 random data sets, 2-200 samples, 1-3 features: midpoint convexity",
        worst <= 1e-9,
        "L(mid) <= mean of the ends (relative slack 1e-9 for rounding)",
        worst,
        "largest relative excess",
    )
    r.detail = (
        f"one sample's curvature along a direction u is {curvature} ≥ 0 (z = w·x + b, a = u·(x, 1)) and the cost is "
        "a non-negative mix of the samples' losses, so the many-sample cost is convex for every data set"
    )
    return r


def mse_sigmoid_vanishing(claim: Claim, seed: int) -> ClaimResult:
    """dJ/dz for J = loss(σ(z), y), over outputs a = σ(z) in (0, 1), for both targets."""
    st, r = claim.statement, ClaimResult()
    z, y = sp.symbols("z y", real=True)
    grad = sp.lambdify((z, y), sp.diff(st["loss"](1 / (1 + sp.exp(-z)), y), z), "numpy")
    rng = np.random.default_rng(seed)
    a = np.sort(
        np.concatenate(
            [np.linspace(1e-4, 1 - 1e-4, 999), rng.uniform(0, st["near"], 50), 1 - rng.uniform(0, st["near"], 50)]
        )
    )
    a = a[(a > 0) & (a < 1)]
    zs = np.log(a) - np.log1p(-a)
    near = (a <= st["near"]) | (a >= 1 - st["near"])
    lines = {}
    worst = []
    for target in (0.0, 1.0):
        g = np.abs(np.broadcast_to(grad(zs, target), a.shape))
        lines[f"|dJ/dz|, y = {target:g}"] = g
        largest, worst_near = float(g.max()), float(g[near].max())
        worst.append(f"y = {target:g}: {worst_near:.3g} near the ends, {largest:.3g} at most")
        r.add(
            f"y = {target:g}: largest |dJ/dz| within {st['near']} of 0 or 1",
            worst_near <= st["tiny"] * largest,
            f"<= {st['tiny']} x {largest:.4g}",
            worst_near,
            f"at a = {a[near][np.argmax(g[near])]:.4g}",
        )
    r.plot(
        "mse_sigmoid_gradient",
        "MSE after a sigmoid: |dJ/dz| against the output a",
        "a = σ(z)",
        "|dJ/dz|",
        a[::10],
        {k: v[::10] for k, v in lines.items()},
    )
    r.detail = "|dJ/dz| " + "; ".join(worst)
    r.corrected = (
        "the derivative vanishes only where the output saturates; the stated loss keeps a large gradient there"
    )
    return r


def cross_entropy_numbers(claim: Claim, seed: int) -> ClaimResult:
    """Invert the stated loss by bisection: which probability gives each stated value."""
    st, r = claim.statement, ClaimResult()
    loss = st["loss"]

    def inverse(v: float) -> float:
        lo, hi = 1e-12, 1.0
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if loss(mid) > v else (lo, mid)
        return (lo + hi) / 2

    first, last = st["values"]
    p0, p1 = inverse(first), inverse(last)
    r.add("the loss falls", last < first, f"{last} < {first}", last - first)
    r.add("the probability of the true class rises", p1 > p0, f"{p1:.4f} > {p0:.4f}", p1 - p0)
    for v, p in ((first, p0), (last, p1)):
        r.add(f"loss({p:.4f}) gives the stated {v}", abs(float(loss(p)) - v) < 1e-9, v, float(loss(p)))
    r.detail = (
        f"−ln p = {first} at p = {p0:.4f} and {last} at p = {p1:.4f} (natural log: p = 0.4 -> 0.98); "
        f"with log2 p would be {2**-first:.3f} -> {2**-last:.3f}"
    )
    r.corrected = "−log p falls as the true class's probability p rises"
    return r


def kl_decomposition(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    for n in st["sizes"]:
        p, q = _row("p", n, positive=True), _row("q", n, positive=True)
        gap = sp.expand_log(st["cross"](p, q) - st["entropy"](p) - st["kl"](p, q), force=True)
        r.add(f"H(p,q) − H(p) − KL(p||q) (n = {n})", sp.simplify(gap) == 0, 0, sp.simplify(gap))
        same = sp.simplify(st["kl"](p, p))
        r.add(f"KL(p||p) (n = {n})", same == 0, 0, same)
        t = sp.Symbol("t", positive=True)  # H at one-hot, with 0·log 0 taken as its limit 0
        hot = sp.limit(st["entropy"]([1 - (n - 1) * t] + [t] * (n - 1)), t, 0, "+")
        r.add(f"H(one-hot) as a limit (n = {n})", hot == 0, 0, hot)
    r.detail = f"the identity, KL(p||p) = 0 and H(one-hot) = 0 hold for n in {tuple(st['sizes'])}"
    return r


def kl_zero_only_when_equal(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    n = rng.integers(2, 9, 500)
    smallest, at_equal = np.inf, 0.0
    for k in n:
        p, q = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))
        if not np.allclose(p, q):
            smallest = min(smallest, float(st["kl"](p, q) / (0.5 * np.abs(p - q).sum() ** 2)))
        at_equal = max(at_equal, abs(float(st["kl"](p, p))))
    r.add("500 pairs p ≠ q: KL / (½||p−q||₁²)", smallest >= 1.0, ">= 1 (Pinsker)", smallest, "so KL > 0 whenever p ≠ q")
    r.add("KL(p||p) for the same 500 p", at_equal == 0.0, 0.0, at_equal)
    p, q = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3))
    swap = abs(float(st["kl"](p, q) - st["kl"](q, p)))
    r.detail = (
        "KL > 0 for every pair p ≠ q drawn, bounded below by Pinsker's ½||p−q||₁², and 0 at p = q; "
        f"not symmetric, so not a distance in the metric sense (|KL(p||q) − KL(q||p)| = {swap:.3g} at one pair)"
    )
    r.corrected = "KL(p||q) ≥ ½||p−q||₁² > 0 for p ≠ q (Pinsker), but it is not symmetric, so not a distance"
    return r


def network_nonconvex(claim: Claim, seed: int) -> ClaimResult:
    """Midpoint convexity L((a+b)/2) <= (L(a)+L(b))/2 over seeded random parameter pairs."""
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    x = np.linspace(-2, 2, 8)
    y = np.sin(2 * x)

    def loss(theta: np.ndarray) -> np.ndarray:
        return np.mean((st["model"](theta, x) - y[None, :]) ** 2, axis=1)

    a = rng.normal(0, 2, (2000, st["parameters"]))
    b = rng.normal(0, 2, (2000, st["parameters"]))
    excess = loss((a + b) / 2) - (loss(a) + loss(b)) / 2
    worst = int(np.argmax(excess))
    found = bool(excess[worst] > 1e-9)
    r.add(
        "convex (midpoint test over 2000 random pairs)",
        found != st["convex"],
        st["convex"],
        not found,
        f"largest excess L(mid) − mean {excess[worst]:.3g}"
        + (f" at a={np.round(a[worst], 2).tolist()}" if found else ""),
    )
    r.detail = f"{int(np.sum(excess > 1e-9))} of 2000 pairs break midpoint convexity"
    r.corrected = "the loss breaks midpoint convexity" if found else "no pair breaks convexity in the search"
    return r


def accuracy_gradient(claim: Claim, seed: int) -> ClaimResult:
    """Build the notes' example: n samples of class 1, one of them at the moved probability."""
    st, r = claim.statement, ClaimResult()
    n, (before, after), (acc0, acc1), (still0, still1), t = (
        st["samples"],
        st["moved"],
        st["accuracy"],
        st["unchanged"],
        st["threshold"],
    )
    correct = round(acc0 * n)
    p = np.array([0.9] * correct + [before] + [still0] * (n - correct - 1))

    def accuracy(probs: np.ndarray) -> float:
        return float(np.mean(probs > t))  # every label is 1

    moved = p.copy()
    moved[correct] = after
    r.add(f"accuracy with p = {before}", accuracy(p) == acc0, acc0, accuracy(p))
    r.add(f"accuracy after p moves to {after}", accuracy(moved) == acc1, acc1, accuracy(moved))
    nudged = p.copy()
    nudged[-1] = still1
    r.add(
        f"accuracy after p moves {still0} -> {still1}",
        accuracy(nudged) == acc0,
        acc0,
        accuracy(nudged),
        "probability rose, accuracy did not",
    )
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 1, (200, n))
    points = points[np.all(np.abs(points - t) > 1e-3, axis=1)]
    h = 1e-6
    largest = max(abs(accuracy(q + h * e) - accuracy(q - h * e)) / (2 * h) for q in points for e in np.eye(n))
    r.add(f"finite-difference gradient at {len(points)} random points", largest == 0.0, 0.0, largest)
    slope = (acc1 - acc0) / (after - before)
    r.detail = f"accuracy moves {acc1 - acc0:.1f} for Δp = {after - before:.3f} (slope {slope:.0f}); 0 elsewhere"
    return r


def _triples(rng: np.random.Generator, count: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Random distributions, and triples with q halfway between p and r, where a squared distance fails."""
    out = []
    for _ in range(count):
        k = int(rng.integers(2, 6))
        p, q, r = (rng.dirichlet(np.ones(k)) for _ in range(3))
        out += [(p, q, r), (p, (p + r) / 2, r)]
    return out


def distance_axioms(claim: Claim, seed: int) -> ClaimResult:
    """The four axioms of a metric over random distributions; the first violation of each is the evidence."""
    st, r = claim.statement, ClaimResult()
    d = st["distance"]
    slack = 1e-12  # rounding of sums of a few logs of numbers near 1
    axioms: dict[str, tuple[Callable[..., bool], str]] = {
        "non-negative: d(p, q) >= 0": (lambda p, q, s: d(p, q) >= -slack, "d(p, q) = {pq:.4g}"),
        "zero for identical arguments: d(p, p) = 0": (lambda p, q, s: abs(d(p, p)) <= slack, "d(p, p) = {pp:.4g}"),
        "symmetric: d(p, q) = d(q, p)": (
            lambda p, q, s: abs(d(p, q) - d(q, p)) <= slack * (1 + abs(d(p, q))),
            "d(p, q) = {pq:.4g}, d(q, p) = {qp:.4g}",
        ),
        "triangle: d(p, r) <= d(p, q) + d(q, r)": (
            lambda p, q, s: d(p, s) <= d(p, q) + d(q, s) + slack,
            "d(p, r) = {pr:.4g} > d(p, q) + d(q, r) = {pqr:.4g}",
        ),
    }
    triples = _triples(np.random.default_rng(seed), 1000)
    for name, (holds, shown) in axioms.items():
        bad = [t for t in triples if not holds(*t)]
        actual = "holds for all"
        if bad:
            p, q, s = bad[0]
            values = {"pq": d(p, q), "qp": d(q, p), "pp": d(p, p), "pr": d(p, s), "pqr": d(p, q) + d(q, s)}
            where = f"p = {np.round(p, 3).tolist()}, q = {np.round(q, 3).tolist()}, r = {np.round(s, 3).tolist()}"
            actual = f"fails in {len(bad)} of {len(triples)}: {where}: " + shown.format(**values)
        r.add(name, not bad, "holds for all", actual)
    r.detail = f"the metric axioms over {len(triples)} triples of distributions (half with q midway)"
    r.corrected = (
        "D_KL is a divergence, not a distance: D_KL(p‖q) ≥ 0 with equality only at p = q, but it is not symmetric and "
        "breaks the triangle inequality"
    )
    return r


def kl_zero_when_identical(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    for n in st["sizes"]:
        p = _row("p", n, positive=True)
        same = sp.simplify(st["kl"](p, p))
        r.add(f"KL(p||p) for every positive p (n = {n})", same == 0, 0, same)
    r.detail = f"KL(p||p) = Σ p_i log(p_i/p_i) = 0 for n in {tuple(st['sizes'])}"
    return r


def accuracy_definition(claim: Claim, seed: int) -> ClaimResult:
    """The note's formula against its own numbers (B7) and a confusion matrix's diagonal share."""
    st, r = claim.statement, ClaimResult()
    acc = st["accuracy"]
    y = np.ones(5, dtype=np.int64)  # B7: five samples, accuracy 0.6, then 0.8 when one more is right
    for right, expected in ((3, 0.6), (4, 0.8)):
        pred = np.array([1] * right + [0] * (5 - right))
        r.add(f"B7's example: {right} of 5 right", acc(pred, y) == expected, expected, acc(pred, y))
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(300):
        k, shape = int(rng.integers(2, 11)), tuple(int(v) for v in rng.integers(1, 9, int(rng.integers(1, 3))))
        y, pred = rng.integers(0, k, shape), rng.integers(0, k, shape)
        confusion = np.zeros((k, k))
        np.add.at(confusion, (y.ravel(), pred.ravel()), 1)
        worst = max(worst, abs(acc(pred, y) - np.trace(confusion) / confusion.sum()))
    r.add("300 random label arrays: against trace/total of the confusion matrix", worst == 0.0, 0.0, worst)
    r.detail = "the note's formula gives B7's 0.6 and 0.8 and the confusion matrix's diagonal share"
    return r


CHECKS = {
    "mse_not_norm": mse_not_norm,
    "square_loss_convex": square_loss_convex,
    "mse_sigmoid_vanishing": mse_sigmoid_vanishing,
    "cross_entropy_numbers": cross_entropy_numbers,
    "kl_decomposition": kl_decomposition,
    "kl_zero_only_when_equal": kl_zero_only_when_equal,
    "logistic_ce_convex": logistic_convex,
    "network_loss_nonconvex": network_nonconvex,
    "accuracy_gradient": accuracy_gradient,
    "kl_is_distance": distance_axioms,
    "kl_zero_when_identical": kl_zero_when_identical,
    "accuracy_definition": accuracy_definition,
    **cross_entropy.CHECKS,
}
