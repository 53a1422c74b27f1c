"""Checks of the activation claims (A1-A9, D5): SymPy limits, stationary points, identities, sweeps."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp

from derivations.model import Claim
from harness.claim_checks import activation_statements as st_checks
from harness.claim_checks.result import ClaimResult

Z = sp.Symbol("z", real=True)
A, B = sp.symbols("a b", real=True)


def _is_zero(expr: sp.Expr) -> bool:
    return sp.simplify(sp.expand(expr.rewrite(sp.exp))) == 0


def _positive(expr: sp.Expr) -> bool:
    return bool(sp.simplify(expr.rewrite(sp.exp)).is_positive)


def range_and_shape(claim: Claim, seed: int) -> ClaimResult:
    """A monotone function's values lie strictly between its limits at -oo and +oo."""
    st, r = claim.statement, ClaimResult()
    f = st["f"]
    lo, hi = st["range"]
    if st.get("increasing"):
        r.add("derivative > 0 for every real z", _positive(sp.diff(f, Z)), "positive", sp.simplify(sp.diff(f, Z)))
    inf, sup = sp.limit(f, Z, -sp.oo), sp.limit(f, Z, sp.oo)
    r.add("lowest value", inf == lo, lo, inf, "limit at -oo; approached, never attained")
    r.add("highest value", sup == hi, hi, sup, "limit at +oo; approached, never attained")
    if "centre" in st:
        c = st["centre"]
        r.add("f(0) is the centre", f.subs(Z, 0) == c, c, f.subs(Z, 0))
        r.add("odd about the centre: f(-z) - c = -(f(z) - c)", _is_zero(f.subs(Z, -Z) - c + f - c), 0, "simplified")
    ends = "[]" if st.get("closed") else "()"
    r.detail = f"values fill ({inf}, {sup}) ⊂ {ends[0]}{lo}, {hi}{ends[1]}; increasing: derivative positive"
    return r


def shifted_sigmoid(claim: Claim, seed: int) -> ClaimResult:
    """Look for the constants a, b of the stated family from the value and slope at 0, then prove."""
    st, r = claim.statement, ClaimResult()
    tanh, family = st["tanh"], st["family"](st["sigmoid"], Z, A, B)
    equations = [(family - tanh).subs(Z, 0), sp.diff(family - tanh, Z).subs(Z, 0)]
    solutions = sp.solve(equations, [A, B], dict=True)
    proved = [s for s in solutions if _is_zero(family.subs(s) - tanh)]
    r.add("constants a, b with tanh(z) = family(z) for all z", bool(proved), "some real (a, b)", proved or "none")
    slope_family = sp.diff(family, Z).subs(Z, A)  # the family's steepest point is its centre z = a
    r.add("steepest slope", sp.simplify(slope_family) == 1, 1, sp.simplify(slope_family), "tanh'(0) = 1")
    width = sp.simplify(sp.limit(family, Z, sp.oo) - sp.limit(family, Z, -sp.oo))
    r.add("width of the range", width == 2, 2, width, "tanh covers (-1, 1)")
    holds = _is_zero(2 * st["sigmoid"](2 * Z) - 1 - tanh)
    r.corrected = "tanh(z) = 2σ(2z) − 1: shifted and stretched by 2 on both axes" + ("" if holds else " (NOT proved)")
    r.detail = f"tanh(z) = family(z) with {proved}" if proved else ""
    return r


def softmax_gaps(claim: Claim, seed: int) -> ClaimResult:
    """Search positive score vectors (always including small ones) for a gap that does not widen."""
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    forms = {}  # one numeric softmax per row length
    candidates = [np.array([0.1, 0.2])]
    for _ in range(400):
        n = int(rng.integers(2, 7))
        candidates.append(rng.uniform(0.05, 1.0, n) * 10.0 ** rng.uniform(-2, 1.5))
    failures = []
    worst_ratio = 0.0
    for z in candidates:
        if len(z) not in forms:
            zs = sp.symbols(f"z0:{len(z)}", real=True)
            forms[len(z)] = sp.lambdify(zs, st["softmax"](list(zs)), "numpy")
        p = np.array(forms[len(z)](*z), dtype=np.float64)
        worst_ratio = max(
            worst_ratio, float(np.max(np.abs(np.log(p[:, None] / p[None, :]) - (z[:, None] - z[None, :]))))
        )
        if not st["widens"](list(z), list(p)):
            failures.append((z, p))
    z, p = failures[0] if failures else (candidates[0], np.array([]))
    r.add(
        f"gap widens for {len(candidates)} positive score vectors",
        not failures,
        "widens for all",
        f"{len(failures)} narrow, e.g. z={np.round(z, 4).tolist()} -> p={np.round(p, 4).tolist()}"
        if failures
        else "widens for all",
        "largest-smallest share: softmax vs dividing by the sum",
    )
    r.add("what holds: log(p_i/p_j) = z_i - z_j", worst_ratio < 1e-9, 0.0, worst_ratio, "largest deviation")
    r.corrected = (
        "softmax keeps the order and sets p_i/p_j = e^(z_i − z_j); compared with dividing positive scores by "
        "their sum the gaps widen only for large enough scores (e^(z_i−z_j) ≥ z_i/z_j holds when z_j ≥ 1) "
        "and narrow for small ones: z = (0.1, 0.2) gives shares 0.475/0.525 against 1/3, 2/3"
    )
    return r


def linear_collapse(claim: Claim, seed: int) -> ClaimResult:
    """Build networks of non-square symbolic layers; the output must be W x + b with W, b free of x."""
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    g: Callable[[sp.Expr], sp.Expr] = st["activation"]
    for depth in st["depths"]:
        dims = [int(rng.integers(2, 4))]
        for _ in range(depth):
            dims.append(dims[-1] + int(rng.choice([-1, 1])) if dims[-1] == 3 else 3)  # every layer non-square
        x = sp.Matrix(sp.symbols(f"x0:{dims[0]}", real=True))
        v = x
        for k in range(depth):
            w = sp.Matrix(dims[k + 1], dims[k], lambda i, j, k=k: sp.Symbol(f"w{k}_{i}{j}", real=True))
            b = sp.Matrix(dims[k + 1], 1, lambda i, j, k=k: sp.Symbol(f"b{k}_{i}", real=True))
            v = (w * v + b).applyfunc(g)
        # Affine in x means: a polynomial in x of degree at most 1, whatever the weights.
        affine = all(e.is_polynomial(*x) and sp.Poly(sp.expand(e), *x).total_degree() <= 1 for e in v)
        r.add(
            f"depth {depth}, sizes {dims}: output = W x + b",
            affine,
            "affine in x",
            "affine" if affine else "not affine",
        )
    r.detail = f"depths {tuple(st['depths'])}: the composed map is W x + b with W the product of the layers"
    r.corrected = "the collapse needs every activation to be affine; a non-linear activation breaks it"
    return r


def saturation(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    for name, f in st["functions"].items():
        fp = sp.diff(f(Z), Z)
        for end in (-sp.oo, sp.oo):
            lim = sp.limit(fp, Z, end)
            r.add(f"{name}' as z -> {end}", lim == st["limit"], st["limit"], lim)
    r.detail = "the derivative's limit at both ends is 0"
    return r


def chain_factors(claim: Claim, seed: int) -> ClaimResult:
    """k factors each at most max g' (found at its stationary point): their product is at most max^k."""
    st, r = claim.statement, ClaimResult()
    gp = sp.diff(st["g"](Z), Z)
    stationary = [s for s in sp.solve(sp.diff(gp, Z), Z) if s.is_real]
    top = max([gp.subs(Z, s) for s in stationary] + [sp.limit(gp, Z, sp.oo), sp.limit(gp, Z, -sp.oo)])
    rng = np.random.default_rng(seed)
    gp_num = sp.lambdify(Z, gp, "numpy")
    for k in st["depths"]:
        bound = st["bound"](k)
        r.add(f"max of a product of {k} factors", sp.simplify(top**k - bound) <= 0, f"<= {bound}", top**k)
        y = rng.normal(0, 3, (2000, k))
        largest = float(np.max(np.prod(gp_num(y), axis=1)))
        r.add(f"{k} factors at 2000 random pre-activations", largest <= float(bound), f"<= {float(bound)}", largest)
    r.detail = f"each sigmoid factor is at most {top}, so k factors at most {top}^k"
    return r


def unit_interval(claim: Claim, seed: int) -> ClaimResult:
    """Each activation is monotone, so its values fill the open interval between its limits at ±oo."""
    st, r = claim.statement, ClaimResult()
    lo, hi = st["range"]
    inside = []
    for name, f in st["activations"].items():
        inf, sup = sp.limit(f(Z), Z, -sp.oo), sp.limit(f(Z), Z, sp.oo)
        low = sp.Min(inf, f(Z).subs(Z, 0))  # ReLU attains its lowest value 0; the limit alone is the infimum
        ok = bool(low >= lo) and bool(sup <= hi)
        r.add(f"{name}: values within [{lo}, {hi}]", ok, f"[{lo}, {hi}]", f"from {low} to {sup}")
        inside += [name] if ok else []
    r.detail = f"within [{lo}, {hi}]: {', '.join(inside) or 'none'}"
    r.corrected = (
        f"only {', '.join(inside) or 'none'} of the notes' activations stay within [{lo}, {hi}]; tanh's values fill "
        "(−1, 1), ReLU's [0, ∞) and leaky ReLU's the whole real line"
    )
    return r


def normalisable(claim: Claim, seed: int) -> ClaimResult:
    """Batches of activations at every scale, all-negative pre-activations included, normalised."""
    st, r = claim.statement, ClaimResult()
    lo, hi = st["range"]
    rng = np.random.default_rng(seed)
    batches = [rng.normal(size=int(rng.integers(1, 50))) * 10.0 ** rng.uniform(-3, 3) for _ in range(300)]
    batches += [-np.abs(rng.normal(size=5)), np.zeros(4)]  # no positive value at all
    outside, reordered = 0, 0
    for z in batches:
        a = st["activation"](z)
        n = st["normalise"](a)
        outside += int(not np.all((n >= lo) & (n <= hi)))
        reordered += int(np.any(np.diff(n[np.argsort(a, kind="stable")]) < 0))
    r.add(f"normalised values within [{lo}, {hi}]", outside == 0, 0, outside, f"batches outside, of {len(batches)}")
    r.add("order of the activations kept", reordered == 0, 0, reordered, "batches whose order changed")
    r.detail = f"{len(batches)} batches of ReLU outputs, scales 1e-3 to 1e3, all land in [{lo}, {hi}] in order"
    r.corrected = "ReLU's values are unbounded: no fixed normalisation maps [0, ∞) onto a bounded interval"
    return r


def mean_zero(claim: Claim, seed: int) -> ClaimResult:
    """Sweep the pre-activations' mean; the outputs' mean must be `mean` within 5 standard errors."""
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    odd = _is_zero(sp.tanh(-Z) + sp.tanh(Z))
    holds = []
    for mu in st["centres"]:
        a = st["f"](rng.normal(mu, 1.0, 200_000))
        m, se = float(np.mean(a)), float(np.std(a) / np.sqrt(a.size))
        ok = abs(m - st["mean"]) <= 5 * se
        r.add(f"mean output for z ~ N({mu}, 1)", ok, st["mean"], m, f"±{5 * se:.1e} (5 standard errors)")
        holds += [mu] if ok else []
    r.detail = f"the outputs' mean is {st['mean']} for μ in {holds} of {list(st['centres'])}"
    r.corrected = (
        f"tanh is odd ({'proved' if odd else 'NOT proved'}: tanh(−z) = −tanh(z)), so its outputs have mean 0 when "
        f"the pre-activations are symmetric about 0 (μ = 0 here); otherwise the mean follows μ's sign"
    )
    return r


CHECKS = {
    "sigmoid_range": st_checks.printed_range,
    "sigmoid_range_open": st_checks.printed_range,
    "sigmoid_monotone": st_checks.monotone,
    "sigmoid_derivative_range": st_checks.printed_range,
    "tanh_range_zero_centred": range_and_shape,
    "tanh_shifted_sigmoid": shifted_sigmoid,
    "relu_derivative_discontinuous": st_checks.derivative_jumps,
    "relu_derivative_values": st_checks.derivative_values,
    "relu_derivative_by_sign": st_checks.derivative_by_sign,
    "relu_range_closed": st_checks.printed_range,
    "relu_range": st_checks.printed_range,
    "leaky_max_form": st_checks.leaky_form,
    "leaky_gradient_nonzero": st_checks.leaky_gradient,
    "softmax_sum_from_0": st_checks.softmax_reading,
    "softmax_sum_from_1": st_checks.softmax_reading,
    "softmax_positive": st_checks.softmax_positive,
    "softmax_sums_to_one": st_checks.softmax_sum,
    "softmax_widens_gaps": softmax_gaps,
    "linear_layers_collapse": linear_collapse,
    "saturation": saturation,
    "sigmoid_chain_factors_small": chain_factors,
    "activation_values_in_unit_interval": unit_interval,
    "relu_normalisable": normalisable,
    "tanh_outputs_mean_zero": mean_zero,
}
