"""Checks of the residual-network claims (D9): SymPy limits of the gradient chain, seeded torch experiments."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import sympy as sp
import torch

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult

CHAIN_FACTORS = sp.symbols("∂Loss/∂y ∂y/∂σ ∂σ/∂f", real=True)  # the note's chain, factor by factor


def gradient_chain(claim: Claim, seed: int) -> ClaimResult:
    """The stated chain against SymPy's derivative of Loss(σ(f(x) [+ x])) for undefined f, σ and Loss."""
    st, r = claim.statement, ClaimResult()
    x, u = sp.symbols("x u", real=True)
    f, sigma, loss = sp.Function("f"), sp.Function("sigma"), sp.Function("Loss")
    inner = f(x) + x if st["shortcut"] else f(x)
    y = sigma(inner)
    stated = st["dloss_dx"](
        sp.diff(loss(u), u).subs(u, y), 1, sp.diff(sigma(u), u).subs(u, inner), sp.diff(f(x), x)
    )  # ∂y/∂σ = 1: y is σ's output
    gap = sp.simplify(sp.diff(loss(y), x) - stated)
    r.add(f"stated ∂Loss/∂x − d Loss(σ({inner}))/dx", gap == 0, 0, gap)
    r.detail = f"the chain is the derivative of Loss(σ({inner})): ∂f/∂x{' + 1' if st['shortcut'] else ''} for x"
    r.corrected = f"∂Loss/∂x = ∂Loss/∂y · ∂y/∂σ · ∂σ/∂f · {'(∂f/∂x + 1)' if st['shortcut'] else '∂f/∂x'}"
    return r


def dloss_dx_limit(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    df_dx = sp.Symbol("∂f/∂x", real=True)
    limit = sp.limit(st["dloss_dx"](*CHAIN_FACTORS, df_dx), df_dx, 0)
    want = sp.sympify(st["limit"](*CHAIN_FACTORS))
    r.add("lim ∂Loss/∂x as ∂f/∂x → 0, for any other factors", sp.simplify(limit - want) == 0, want, limit)
    half = sp.Rational(1, 2)
    for label, values in (
        ("∂Loss/∂y = 1/2 (Loss = (y − t)²/2 at y − t = 1/2), ReLU active", (half, 1, 1)),
        ("∂Loss/∂y = 1, ReLU inactive (f(x) + x < 0)", (1, 1, 0)),
        ("∂Loss/∂y = 1, sigmoid at f(x) + x = 0 (σ' = 1/4)", (1, 1, sp.Rational(1, 4))),
    ):
        at = dict(zip(CHAIN_FACTORS, values, strict=True))
        r.add(label, sp.simplify(limit.subs(at) - want.subs(at)) == 0, want.subs(at), limit.subs(at))
    r.detail = f"as ∂f/∂x → 0, ∂Loss/∂x → {limit}"
    r.corrected = (
        f"as ∂f/∂x → 0, ∂Loss/∂x → {limit}, i.e. ∂Loss/∂y·σ' (∂y/∂σ = 1): 1 only where that product is 1; with "
        "ReLU, ∂Loss/∂y where f(x) + x > 0 and 0 elsewhere. It is the factor (∂f/∂x + 1) that tends to 1"
    )
    return r


def product_limit(claim: Claim, seed: int) -> ClaimResult:
    """k blocks' factors, each ∂f/∂x = c_i·t with its own c_i, the other factors free symbols; t → 0."""
    st, r = claim.statement, ClaimResult()
    names, t = list(inspect.signature(st["factor"]).parameters), sp.Symbol("t", positive=True)
    for k in (1, 2, 3, 4):
        blocks = [
            st["factor"](
                **{p: sp.Symbol(f"c_{i}", real=True) * t if p == "df_dx" else sp.Symbol(f"{p}_{i}") for p in names}
            )
            for i in range(k)
        ]
        limit = sp.limit(sp.Mul(*blocks), t, 0)
        r.add(f"{k} blocks: the product as every ∂f/∂x → 0", sp.simplify(limit - st["limit"]) == 0, st["limit"], limit)
    at = {p: 0.01 if p == "df_dx" else 1.0 for p in names}  # a fixed small ∂f/∂x, σ' = 1 (ReLU active)
    deep = {k: float(st["factor"](**at)) ** k for k in (10, 100, 1000)}
    r.detail = (
        f"the product tends to {limit} at every fixed depth; at a fixed ∂f/∂x = 0.01 (σ' = 1) it is "
        + ", ".join(f"{v:.3g} for {k} blocks" for k, v in deep.items())
    )
    r.corrected = f"as every ∂f/∂x → 0 the product of the factors tends to {limit}"
    return r


def _gradient_ratio(
    act: Callable[[torch.Tensor], torch.Tensor], rng: np.random.Generator, eps: float, depth: int, shortcut: bool
) -> float:
    """‖∂Loss/∂x‖ at the input of `depth` blocks x ← σ(x wᵀ ε [+ x]) over its value at the output, Loss = Σ out."""
    x0 = torch.tensor(rng.standard_normal((8, 16)), requires_grad=True)
    x = x0
    for _ in range(depth):
        z = x @ torch.tensor(rng.standard_normal((16, 16)) / 4 * eps).T
        x = act(z + x if shortcut else z)
    x.sum().backward()
    return float(x0.grad.norm()) / float(np.sqrt(x.numel()))  # type: ignore[union-attr]


def does_not_vanish(claim: Claim, seed: int) -> ClaimResult:
    """Vanishes: the gradient at the input of the blocks is under a tenth of its size at the output."""
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    worst, plain = {}, {}
    for name, act in st["activations"].items():
        ratios = {(e, k): _gradient_ratio(act, rng, e, k, True) for e in (1e-2, 1e-4) for k in (4, 16, 64)}
        worst[name] = min(ratios.values())
        sweep = "ε ∈ {1e-2, 1e-4}, k ∈ {4, 16, 64}"
        r.add(f"{name}: smallest gradient ratio input/output, {sweep}", worst[name] >= 0.1, ">= 0.1", worst[name])
        plain[name] = _gradient_ratio(act, rng, 1e-2, 4, False)
    kept = ", ".join(f"{n} {v:.2g}" for n, v in worst.items())
    r.detail = f"smallest ratio with the shortcut: {kept}; without it (ε = 1e-2, 4 blocks): " + ", ".join(
        f"{n} {v:.2g}" for n, v in plain.items()
    )
    r.corrected = (
        f"the smallest ratios with the shortcut are {kept}: it keeps the gradient only where each block's σ' is 1 "
        "(ReLU, the note's code, on its active units); a sigmoid σ multiplies it by σ' <= 1/4 in every block, "
        "shortcut or not, so it still vanishes"
    )
    return r
