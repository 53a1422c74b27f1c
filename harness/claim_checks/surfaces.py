"""Checks of the notes' claims about loss surfaces (C10, C11): saddle points, steepness and contour lines."""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult

X, Y, T = sp.symbols("x y t", real=True)

# Saddle points at the origin, each with a Hessian of eigenvalues of both signs (not an extremum).
SADDLES = (X**2 - Y**2, X * Y, X**2 + 4 * X * Y + Y**2, 2 * X**2 - 3 * Y**2 + X * Y)


def _along(f: sp.Expr, d: tuple[sp.Expr, sp.Expr]) -> str:
    """What f does at 0 on the line t·d: its second derivative decides, as the examples are quadratic."""
    g2 = sp.diff(f.subs({X: T * d[0], Y: T * d[1]}), T, 2).subs(T, 0)
    return "min" if g2 > 0 else "max" if g2 < 0 else "neither"


def _directions(hessian: sp.Matrix, which: str) -> list[tuple[sp.Expr, sp.Expr]]:
    if which == "variables":
        return [(1, 0), (0, 1)]
    return [(v[0], v[1]) for _, _, vecs in hessian.eigenvects() for v in vecs]


def saddle_axes(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    for f in SADDLES:
        h = sp.hessian(f, (X, Y)).subs({X: 0, Y: 0})
        saddle = all(sp.diff(f, v).subs({X: 0, Y: 0}) == 0 for v in (X, Y)) and h.det() < 0
        seen = [_along(f, d) for d in _directions(h, st["directions"])]
        ok = saddle and sorted(seen) == sorted(st["extrema"])
        r.add(f"f = {f} at (0, 0), a saddle: along the {st['directions']}", ok, list(st["extrema"]), seen)
    r.detail = f"{len(SADDLES)} saddles (gradient 0, Hessian determinant < 0) looked at along the {st['directions']}"
    r.corrected = (
        "at a saddle point f has a maximum along some direction and a minimum along another: the Hessian's "
        "eigenvectors, which need not be the variables' axes (f = xy is constant along both axes; f = x² + 4xy + y² "
        "has a minimum along both)"
    )
    return r


def _surfaces(rng: np.random.Generator, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(gradient, Hessian) of random quadratics f = ½xᵀAx + bᵀx at random points, at every scale."""
    out = []
    for _ in range(count):
        a = rng.normal(size=(2, 2)) * 10.0 ** rng.uniform(-2, 2)
        a = (a + a.T) / 2
        x, b = rng.normal(size=2), rng.normal(size=2) * 10.0 ** rng.uniform(-2, 2)
        out.append((a @ x + b, a))
    return out


def steepness(claim: Claim, seed: int) -> ClaimResult:
    """Order pairs of surfaces by the stated measure; a larger one must give a larger step and denser lines."""
    st, r = claim.statement, ClaimResult()
    h, c = 1e-6, 1e-9  # one short step uphill; the spacing of the contour lines
    rows = []
    for grad, hess in _surfaces(np.random.default_rng(seed), 200):
        norm = float(np.linalg.norm(grad))
        curve = float(grad @ hess @ grad) / norm**2  # f'' along the uphill direction
        rise = h * norm + 0.5 * h * h * curve  # exact for a quadratic
        gap = 2 * c / (norm + np.sqrt(norm**2 + 2 * curve * c))  # distance to the next contour line uphill
        rows.append((st["measure"](grad, hess), rise, 1.0 / gap, norm))
    for label, col in (("height change of one step", 1), ("contour lines per unit length", 2)):
        bad = [(p, q) for p in rows for q in rows if p[0] > 1.01 * q[0] and not p[col] > q[col]]
        shown = "never smaller"
        if bad:
            p, q = bad[0]
            shown = (
                f"smaller in {len(bad)} pairs, e.g. measure {p[0]:.3g} > {q[0]:.3g} but {label} {p[col]:.3g} <= "
                f"{q[col]:.3g} (|gradient| {p[3]:.3g} against {q[3]:.3g})"
            )
        r.add(f"larger measure, larger {label}", not bad, "larger in every pair", shown, "pairs apart by over 1 %")
    r.detail = f"{len(rows)} quadratic surfaces at random points: steps of {h} uphill, contour spacing {c}"
    r.corrected = (
        "steepness, one step's height change and contour density all follow the gradient's norm |∇f| (height change "
        "≈ |∇f|·step, spacing ≈ Δf/|∇f|), not the gradient's derivative: f = x² at x = 0.1 has f'' = 2 and slope 0.2, "
        "f = 0.1x² at x = 10 has f'' = 0.2 and slope 2"
    )
    return r


CHECKS = {
    "saddle_point_axes": saddle_axes,
    "gradient_derivative_steepness": steepness,
    "steep_surface_dense_contours": steepness,
}
