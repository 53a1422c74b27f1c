"""Checks of what the notes print about sigmoid, ReLU, leaky ReLU and softmax (A1, A3-A5), each statement as
written: a printed interval against the set of values, ends attained or not; a free slope swept over the real line;
a sum's printed limits under each reading."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import combinations
from typing import Any

import numpy as np
import sympy as sp
from sympy.calculus.util import continuous_domain, function_range

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult

Z = sp.Symbol("z", real=True)
ALPHA, T = sp.Symbol("alpha", real=True), sp.Symbol("t", positive=True)
NEG, POS = sp.Symbol("n", negative=True), sp.Symbol("p", positive=True)
Z_ROW = sp.IndexedBase("z", real=True)


def _is_zero(expr: sp.Expr) -> bool:
    return sp.simplify(sp.expand(expr)) == 0


def _same_set(a: sp.Set, b: sp.Set) -> bool:
    return sp.Complement(a, b) == sp.S.EmptySet and sp.Complement(b, a) == sp.S.EmptySet


def _pieces(f: sp.Expr) -> list[tuple[sp.Expr, sp.Set]]:
    """f as (expression, set of z) pieces that partition the real line: one piece unless f is piecewise."""
    folded = sp.piecewise_fold(f.rewrite(sp.Piecewise))
    if not isinstance(folded, sp.Piecewise):
        return [(folded, sp.S.Reals)]
    rest, pieces = sp.S.Reals, []
    for expr, cond in folded.args:
        where = rest if cond == sp.true else sp.Intersection(rest, cond.as_set())
        rest = sp.Complement(rest, where)
        if where != sp.S.EmptySet:
            pieces.append((expr, where))
    return pieces


def _kinks(f: sp.Expr) -> list[tuple[sp.Expr, sp.Expr, sp.Expr]]:
    """Each finite point where two pieces meet, with f's slope from the left and from the right there."""
    h = sp.Symbol("h", real=True)
    points = sorted({b for _, where in _pieces(f) for b in where.boundary if b.is_finite})
    quotients = [(c, (f.subs(Z, c + h) - f.subs(Z, c)) / h) for c in points]
    return [(c, sp.limit(q, h, 0, "-"), sp.limit(q, h, 0, "+")) for c, q in quotients]


def _values(f: sp.Expr, order: int, within: sp.Set = sp.S.Reals) -> sp.Set:
    """The set of values f (order 0) or f' (order 1) takes on `within`, where it exists."""
    values: sp.Set = sp.S.EmptySet
    for expr, where in _pieces(f):
        part = sp.Intersection(where if order == 0 else where.interior, within)
        if part != sp.S.EmptySet:
            values = sp.Union(values, function_range(sp.diff(expr, Z, order), Z, part))
    if order == 1:  # where pieces meet, f' exists only if both one-sided slopes agree
        values = sp.Union(values, sp.FiniteSet(*(lt for c, lt, rt in _kinks(f) if lt == rt and c in within)))
    return values


def _show(values: sp.Set) -> str:
    """A set as a teacher writes it: (0, 1/4], [0, ∞), {0, 1}, (−∞, 0) ∪ (0, ∞)."""
    if isinstance(values, sp.Union):
        return " ∪ ".join(_show(part) for part in values.args)
    if isinstance(values, sp.Interval):
        ends = [str(e).replace("oo", "∞").replace("-", "−") for e in (values.start, values.end)]
        return f"{'(' if values.left_open else '['}{ends[0]}, {ends[1]}{')' if values.right_open else ']'}"
    return "∅" if values == sp.S.EmptySet else str(values).replace("Reals", "ℝ")


def _txt(expr: object) -> str:
    return str(expr).replace("alpha*", "α").replace("alpha", "α").replace("oo", "∞")


def _end_note(g: sp.Expr, end: sp.Expr) -> str:
    """Why an end is no value; for a finite one, where float64 evaluation nevertheless gives it exactly."""
    if not end.is_finite:
        return "∞ is no real number: approached, never taken"
    zs = np.linspace(-800.0, 800.0, 16001)
    with np.errstate(all="ignore"):
        computed = np.asarray(sp.lambdify(Z, g, "numpy")(zs), dtype=np.float64) * np.ones_like(zs)
    hits = zs[computed == float(end)]
    if not hits.size:
        return "a limit, never taken"
    z0 = hits[np.argmin(np.abs(hits))]
    return (
        f"a limit, never taken; evaluated in float64 the formula gives exactly {float(end):g} from z = {z0:g} "
        "outwards, a rounding: the statement is about the function"
    )


def printed_range(claim: Claim, seed: int) -> ClaimResult:
    """The printed interval against the set of values: both ends, and whether each end is itself a value."""
    st, r = claim.statement, ClaimResult()
    g = sp.diff(st["f"], Z, st["order"])
    lo, hi = (sp.nsimplify(v) for v in st["range"])
    values = _values(st["f"], st["order"])
    r.add("lowest end", values.inf == lo, _txt(lo), _txt(values.inf))
    r.add("highest end", values.sup == hi, _txt(hi), _txt(values.sup))
    printed = f"{st['brackets'][0]}{lo}, {hi}{st['brackets'][1]}".replace("oo", "∞")
    for end, bracket, closed in ((lo, st["brackets"][0], "["), (hi, st["brackets"][1], "]")):
        attained = values.contains(end) == sp.true
        says = "a value" if bracket == closed else "not a value"
        note = "" if attained else _end_note(g, end)
        got = "a value" if attained else "not a value"
        r.add(f"{_txt(end)} ('{bracket}' in {printed})", attained == (bracket == closed), says, got, note)
    r.detail = f"the values are {_show(values)}, as printed {printed}"
    r.corrected = f"the values are {_show(values)}, not {printed}"
    return r


def monotone(claim: Claim, seed: int) -> ClaimResult:
    """Strictly monotone: f' never has the wrong sign and is 0 at isolated points at most."""
    st, r = claim.statement, ClaimResult()
    fp = sp.simplify(sp.diff(st["f"], Z))
    against = sp.solveset(fp < 0 if st["direction"] == "increasing" else fp > 0, Z, sp.S.Reals)
    flat = sp.solveset(sp.Eq(fp, 0), Z, sp.S.Reals)
    if isinstance(against, sp.ConditionSet) or isinstance(flat, sp.ConditionSet):
        raise ValueError(f"SymPy cannot find where {fp} changes sign")
    r.add(f"z where f' goes against '{st['direction']}'", against == sp.S.EmptySet, "none", against)
    r.add("z where f' = 0", isinstance(flat, sp.FiniteSet) or flat == sp.S.EmptySet, "isolated at most", flat)
    r.detail = f"f' = {fp}: of one sign on the whole real line, 0 nowhere on an interval"
    r.corrected = f"f' = {fp} has the wrong sign on {against}: not {st['direction']} there"
    return r


def derivative_jumps(claim: Claim, seed: int) -> ClaimResult:
    """The derivative jumps where the one-sided slopes differ, or is discontinuous inside a piece."""
    st, r = claim.statement, ClaimResult()
    jumps = [(c, lt, rt) for c, lt, rt in _kinks(st["f"]) if lt != rt]
    inner = [where.interior - continuous_domain(sp.diff(e, Z), Z, where.interior) for e, where in _pieces(st["f"])]
    inner = [s for s in inner if s != sp.S.EmptySet]
    continuous = not jumps and not inner
    shown = "; ".join(f"at z = {c} the slope is {lt} from the left, {rt} from the right" for c, lt, rt in jumps)
    shown += "".join(f"; discontinuous on {s}" for s in inner)
    stated = st["derivative_continuous"]
    r.add("the derivative is continuous", continuous == stated, stated, continuous, shown or "no jump")
    r.detail = f"{shown}: no value there makes the derivative continuous" if shown else "f' is continuous"
    r.corrected = f"the derivative {'is continuous on the real line' if continuous else 'is not continuous: ' + shown}"
    return r


def derivative_values(claim: Claim, seed: int) -> ClaimResult:
    """The values f' takes where it exists; SymPy's diff fills a kink with a convention, so kinks are excluded."""
    st, r = claim.statement, ClaimResult()
    values = _values(st["f"], 1)
    r.add(
        "values of the derivative where it exists", _same_set(values, st["values"]), _show(st["values"]), _show(values)
    )
    kinks = [
        f"z = {c} (slope {lt} from the left, {rt} from the right; SymPy's diff says {sp.diff(st['f'], Z).subs(Z, c)}"
        " there, a convention)"
        for c, lt, rt in _kinks(st["f"])
        if lt != rt
    ]
    r.detail = f"f' takes {_show(values)} where it exists" + (f"; not at {', '.join(kinks)}" if kinks else "")
    r.corrected = f"the derivative takes the values {_show(values)}"
    return r


def derivative_by_sign(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    sides = {"positive": sp.Interval.open(0, sp.oo), "negative": sp.Interval.open(-sp.oo, 0)}
    found = {key: _values(st["f"], 1, side) for key, side in sides.items()}
    for key, side in sides.items():
        r.add(
            f"derivative for z in {_show(side)}",
            _same_set(found[key], sp.FiniteSet(st[key])),
            st[key],
            _show(found[key]),
        )
    r.detail = f"f' takes {_show(found['positive'])} for z > 0 and {_show(found['negative'])} for z < 0"
    r.corrected = r.detail
    return r


def _alpha_cases(f: Callable[[sp.Expr, sp.Expr], sp.Expr]) -> list[tuple[sp.Expr, sp.Set]]:
    """α's line cut where the arguments of max(...) swap order: each part as α = c − t, c, c + t with t > 0."""
    expr = f(Z, ALPHA)
    args = expr.args if isinstance(expr, (sp.Max, sp.Min)) else ()
    found = {s for a, b in combinations(args, 2) for z0 in (-1, 1) for s in sp.solve((a - b).subs(Z, z0), ALPHA)}
    cuts = sorted(c for c in found if c.is_real)
    if len(cuts) > 1:
        raise NotImplementedError(f"{expr} changes shape at several slopes {cuts}")
    if not cuts:
        return [(ALPHA, sp.S.Reals)]
    c = cuts[0]
    return [(c - T, sp.Interval.open(-sp.oo, c)), (c, sp.FiniteSet(c)), (c + T, sp.Interval.open(c, sp.oo))]


def _in_alpha(expr: sp.Expr, alpha: sp.Expr) -> sp.Expr:
    """An expression found with α = c ± t written back in α, and z for the signed symbols."""
    if T in alpha.free_symbols:
        expr = expr.subs(T, sp.solve(alpha - ALPHA, T)[0])
    return sp.simplify(expr.subs({NEG: Z, POS: Z}))


def leaky_form(claim: Claim, seed: int) -> ClaimResult:
    """Both halves symbolically for every α (part by part), then the note's F.leaky_relu at each swept α."""
    import torch
    import torch.nn.functional as F

    st, r = claim.statement, ClaimResult()
    holds: list[tuple[sp.Set, list[sp.Expr]]] = []
    fails: list[tuple[sp.Set, list[sp.Expr]]] = []
    for alpha, part in _alpha_cases(st["f"]):
        if sp.Intersection(part, st["alpha_domain"]) == sp.S.EmptySet:
            continue
        got = [_in_alpha(st["f"](s, alpha), alpha) for s in (NEG, POS)]
        stated = [_in_alpha(st[key](s, alpha), alpha) for s, key in ((NEG, "negative_half"), (POS, "positive_half"))]
        ok = all(_is_zero(a - b) for a, b in zip(got, stated, strict=True))
        r.add(
            f"α in {_show(part)}: value for z < 0 | z > 0",
            ok,
            " | ".join(map(_txt, stated)),
            " | ".join(map(_txt, got)),
        )
        (holds if ok else fails).append((part, got))
    x = np.linspace(-5.0, 5.0, 101)
    for alpha in (a for a in st["alphas"] if a in st["alpha_domain"]):
        mine = np.asarray(sp.lambdify(Z, st["f"](Z, alpha), "numpy")(x), dtype=np.float64)
        gap = float(np.max(np.abs(mine - F.leaky_relu(torch.from_numpy(x), float(alpha)).numpy())))
        r.add(f"α = {alpha}: max(αz, z) against F.leaky_relu(x, α)", gap < 1e-12, 0.0, gap, "largest difference")
    where = sp.Union(*(p for p, _ in holds))
    r.detail = f"for every α in {_show(where)}: αz for z < 0 and z for z > 0, as F.leaky_relu(z, α) computes"
    r.corrected = (
        f"max(αz, z) is αz for z < 0 and z for z > 0 (= F.leaky_relu(z, α)) only for α in {_show(where)}; "
        + "; ".join(f"for α in {_show(p)} it is {_txt(g[0])} for z < 0 and {_txt(g[1])} for z > 0" for p, g in fails)
    )
    return r


def leaky_gradient(claim: Claim, seed: int) -> ClaimResult:
    """The gradient on z < 0 for every α (part by part), solved for where it is 0, then at each swept α."""
    st, r = claim.statement, ClaimResult()
    domain, zero_at, shown = st["alpha_domain"], sp.S.EmptySet, []
    for alpha, part in _alpha_cases(st["f"]):
        grad = sp.simplify(sp.diff(st["f"](NEG, alpha), NEG))
        if grad.free_symbols - {T, ALPHA}:
            raise NotImplementedError(f"the gradient {grad} varies along z < 0")
        if not grad.free_symbols:
            zeros = part if grad == 0 else sp.S.EmptySet
        else:
            (free,) = grad.free_symbols
            found = sp.solveset(grad, free, sp.Interval.open(0, sp.oo) if free == T else sp.S.Reals)
            zeros = sp.imageset(sp.Lambda(free, alpha), found)
        zero_at = sp.Union(zero_at, zeros)
        shown.append(f"{_txt(_in_alpha(grad, alpha))} for α in {_show(part)}")
        zero_text = f", 0 at α in {_show(zeros)}" if zeros != sp.S.EmptySet else ""
        bad = sp.Intersection(zeros, domain) != sp.S.EmptySet
        r.add(f"α in {_show(part)}: gradient for z < 0", not bad, "never 0", _txt(_in_alpha(grad, alpha)) + zero_text)
    for alpha in st["alphas"]:
        grad = sp.diff(st["f"](NEG, alpha), NEG)
        claimed = alpha in domain
        note = "" if claimed else f"α = {alpha} lies outside {_show(domain)}: not claimed"
        r.add(f"α = {alpha}: gradient for z < 0", grad != 0 or not claimed, "non-zero" if claimed else "-", grad, note)
    r.detail = (
        f"the gradient for z < 0 is {', '.join(shown)}: 0 only for α in {_show(zero_at)}, outside {_show(domain)}"
    )
    r.corrected = f"the gradient for z < 0 is 0 for α in {_show(zero_at)}: non-zero for every other α"
    return r


def _printed_outputs(st: Mapping[str, Any], n: int) -> tuple[list[sp.Symbol], list[sp.Expr]]:
    """The printed ŷ_i for each of the n classes, its sum expanded, in one plain symbol per class (z0, z1, ...)."""
    classes = list(st["classes"](n))
    zs = [sp.Symbol(f"z{i}", real=True) for i in classes]
    to_row = {Z_ROW[i]: zi for i, zi in zip(classes, zs, strict=True)}
    return zs, [sp.sympify(st["yhat"](Z_ROW, i, n)).doit().subs(to_row) for i in classes]


def softmax_reading(claim: Claim, seed: int) -> ClaimResult:
    """p(y=i) over n classes: the outputs sum to 1 (symbolic); σ(i): the same numbers as torch.softmax."""
    import torch

    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    for n in st["sizes"]:
        zs, p = _printed_outputs(st, n)
        total = sp.simplify(sum(p))
        r.add(f"n = {n}: Σ_i ŷ_i over the classes {list(st['classes'](n))}", total == 1, 1, total)
        x = rng.normal(0.0, 3.0, n)
        mine = np.asarray(sp.lambdify(zs, p, "numpy")(*x), dtype=np.float64)
        gap = float(np.max(np.abs(mine - torch.softmax(torch.from_numpy(x), dim=0).numpy())))
        r.add(f"n = {n}: ŷ against torch.softmax at z = {np.round(x, 3).tolist()}", gap < 1e-12, 0.0, gap)
    zs, p = _printed_outputs(st, 2)
    at_zero = [pi.subs(dict.fromkeys(zs, 0)) for pi in p]
    r.detail = f"the n outputs sum to 1 and equal torch.softmax for n in {tuple(st['sizes'])}"
    r.corrected = (
        f"read this way the n outputs do not sum to 1 (n = 2, z = (0, 0): ŷ = {at_zero}); the sum must run over all "
        "n classes: Σ_{j=0}^{n−1} for classes 0..n−1, or Σ_{j=1}^{n} for classes 1..n"
    )
    return r


def softmax_positive(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    for n in st["sizes"]:
        p = _printed_outputs(st, n)[1]
        signs = [pi.is_positive for pi in p]
        r.add(f"n = {n}: every ŷ_i > 0 for every real z", all(s is True for s in signs), True, signs)
    zs, p = _printed_outputs(st, 2)
    with np.errstate(all="ignore"):
        rounded = np.asarray(sp.lambdify(zs, p, "numpy")(0.0, -800.0), dtype=np.float64)
    r.detail = (
        f"e^z > 0 over a sum of them, for n in {tuple(st['sizes'])}; in float64 z = (0, −800) gives "
        f"{rounded.tolist()}: e^(−800) underflows to 0, the function stays positive"
    )
    r.corrected = f"p_i > 0 fails: signs {signs} at n = {st['sizes'][-1]}"
    return r


def softmax_sum(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    totals = {}
    for n in st["sizes"]:
        totals[n] = sp.simplify(sum(_printed_outputs(st, n)[1]))
        r.add(f"n = {n}: Σ_i p_i", totals[n] == 1, 1, totals[n])
    r.detail = f"Σp_i = 1 for every real z, n in {tuple(st['sizes'])}"
    r.corrected = f"Σp_i = {totals[st['sizes'][0]]} at n = {st['sizes'][0]}, not 1"
    return r
