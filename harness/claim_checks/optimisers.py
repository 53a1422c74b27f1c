"""Checks of the gradient-descent claims (C1, C3, C4, C6-C9) against torch.optim, torch.nn.utils and SymPy.

The worked example (C2) is checked in worked_example.py, Adagrad (C5) in adagrad.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp
import torch

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult


def _quadratic(seed: int, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A random positive-definite quadratic ½ wᵀAw − bᵀw: gradient A w − b."""
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, n))
    return m @ m.T / n + 0.1 * np.eye(n), rng.normal(size=n)


def _torch_run(
    optimizer: type[torch.optim.Optimizer],
    w0: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    steps: int,
    schedule: dict[int, float] | None = None,
    **kwargs: Any,
) -> np.ndarray:
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    at, bt = torch.tensor(a), torch.tensor(b)
    opt = optimizer([w], **kwargs)
    trace = []
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = (schedule or {}).get(step, group["lr"])
        opt.zero_grad()
        (0.5 * w @ at @ w - bt @ w).backward()
        opt.step()
        trace.append(w.detach().numpy().copy())
    return np.array(trace)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(1e-300, float(np.max(np.abs(b)))))


def update_rule(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    a, b = _quadratic(seed)
    lr = 0.5 / float(np.linalg.eigvalsh(a)[-1])
    w0 = np.random.default_rng(seed).normal(size=len(b))
    w, mine = w0.copy(), []
    for _ in range(50):
        w = st["update"](w, a @ w - b, lr)
        mine.append(w)
    theirs = _torch_run(torch.optim.SGD, w0, a, b, 50, lr=lr)
    r.add(
        "50 steps against torch.optim.SGD(lr)",
        _rel(np.array(mine), theirs) < 1e-12,
        "< 1e-12 relative",
        _rel(np.array(mine), theirs),
    )
    loss = [float(0.5 * v @ a @ v - b @ v) for v in mine]
    r.add(
        "the loss falls at every step (lr = 1/(2L))",
        bool(np.all(np.diff(loss) < 0)),
        "falls",
        f"{loss[0]:.4g} -> {loss[-1]:.4g}",
    )
    r.detail = "the stated update is torch.optim.SGD's step without momentum; the loss falls"
    return r


def batch_minibatch(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    n, d = 12, 3
    x, y = torch.tensor(rng.normal(size=(n, d))), torch.tensor(rng.normal(size=n))
    w = torch.tensor(rng.normal(size=d), requires_grad=True)

    def grad(rows: slice | list[int]) -> np.ndarray:
        w.grad = None
        torch.mean((x[rows] @ w - y[rows]) ** 2).backward()
        assert w.grad is not None
        return w.grad.numpy().copy()

    per_sample = np.array([grad([i]) for i in range(n)])
    full = grad(slice(None))
    r.add(
        "batch gradient = combined per-sample gradients",
        _rel(st["combine"](per_sample), full) < 1e-12,
        "< 1e-12 relative",
        _rel(st["combine"](per_sample), full),
    )
    for size in (4, 6, n):
        gaps = [_rel(st["combine"](per_sample[k : k + size]), grad(slice(k, k + size))) for k in range(0, n, size)]
        r.add(
            f"mini-batches of {size}: combined per-sample = batch gradient of the mini-batch",
            max(gaps) < 1e-12,
            "< 1e-12",
            max(gaps),
        )
    r.detail = "a mini-batch of size N is the batch, of size 1 stochastic; each is the mean of per-sample gradients"
    return r


def momentum_rule(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    a, b = _quadratic(seed)
    eta, rho, steps = st["eta"], st["rho"], 200
    w0 = np.random.default_rng(seed + 1).normal(size=len(b))

    def notes(schedule: dict[int, float]) -> np.ndarray:
        w, dw, rate, out = w0.copy(), np.zeros_like(w0), eta, []
        for step in range(steps):
            rate = schedule.get(step, rate)
            w, dw = st["step"](w, dw, a @ w - b, rate, rho)
            out.append(w)
        return np.array(out)

    same = _rel(notes({}), _torch_run(torch.optim.SGD, w0, a, b, steps, lr=eta, momentum=rho))
    r.add(f"{steps} steps vs torch.optim.SGD(lr=η, momentum=ρ)", same < 1e-10, "< 1e-10 relative", same)
    halved = {100: eta / 2}
    apart = _rel(notes(halved), _torch_run(torch.optim.SGD, w0, a, b, steps, halved, lr=eta, momentum=rho))
    r.add(
        "with lr halved at step 100 the two part ways",
        apart > 1e-6,
        "> 1e-6",
        apart,
        "torch keeps lr out of its buffer",
    )
    r.detail = (
        "equivalent to torch (buf = μ·buf + g; p −= lr·buf) with ρ = μ, η = lr, dampening 0, no Nesterov, "
        "as long as lr is constant: then Δw_t = lr·buf_t"
    )
    return r


def clipping(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    over_v = over_n = torch_v = torch_n = kept = 0.0
    for _ in range(200):
        g = rng.normal(size=int(rng.integers(1, 20))) * 10.0 ** rng.uniform(-2, 2)
        c = float(10.0 ** rng.uniform(-1, 1))
        v, n = st["by_value"](g, c), st["by_norm"](g, c)
        over_v = max(over_v, float(np.max(np.abs(v))) / c)
        over_n = max(over_n, float(np.linalg.norm(n)) / c)
        if np.linalg.norm(g) <= c:
            kept = max(kept, _rel(n, g))
        tv, tn = torch.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
        tv.grad, tn.grad = torch.tensor(g), torch.tensor(g)
        torch.nn.utils.clip_grad_value_([tv], c)
        torch.nn.utils.clip_grad_norm_([tn], c)
        assert tv.grad is not None and tn.grad is not None
        torch_v = max(torch_v, _rel(v, tv.grad.numpy()))
        torch_n = max(torch_n, _rel(n, tn.grad.numpy()))
    r.add("by value: largest |entry| / threshold", over_v <= 1.0, "<= 1", over_v)
    r.add("by norm: largest norm / threshold", over_n <= 1.0 + 1e-12, "<= 1", over_n)
    r.add("by norm: a gradient within the threshold is unchanged", kept < 1e-15, 0.0, kept)
    r.add("by value vs torch.nn.utils.clip_grad_value_", torch_v == 0.0, 0.0, torch_v)
    r.add(
        "by norm vs torch.nn.utils.clip_grad_norm_",
        torch_n < 1e-5,
        "< 1e-5 relative",
        torch_n,
        "torch divides by norm + 1e-6",
    )
    r.detail = "200 seeded gradients: clipped within the threshold; torch's clip_grad_norm_ divides by ||g|| + 1e-6"
    return r


def contour_normal(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    x1, x2, c = sp.symbols("x1 x2 c", real=True)
    f = sp.Function("f")(x1, x2)
    fx1, fx2 = sp.diff(f, x1), sp.diff(f, x2)
    implicit = sp.idiff(f - c, x2, x1)
    tangent, normal = st["tangent"](fx1, fx2), st["normal"](fx1, fx2)
    r.add("tangent slope dx2/dx1 by implicit differentiation", sp.simplify(implicit - tangent) == 0, tangent, implicit)
    r.add("normal slope = −1 / tangent slope", sp.simplify(normal * implicit + 1) == 0, -1 / implicit, normal)
    r.add("gradient · (1, dx2/dx1) = 0", sp.simplify(fx1 + fx2 * implicit) == 0, 0, sp.simplify(fx1 + fx2 * implicit))
    p, q = sp.symbols("p q", real=True)  # the partial derivatives are real numbers at any point
    rise = sp.expand((fx1 * fx1 + fx2 * fx2).subs({fx1: p, fx2: q}))
    r.add("f rises along the gradient (directional derivative)", rise.is_nonnegative is True, ">= 0", rise)
    r.detail = "for any f: dx2/dx1 = −f_x1/f_x2 on a contour, the gradient is orthogonal to it and f rises along it"
    return r


def learning_rate_divergence(claim: Claim, seed: int) -> ClaimResult:
    """GD on ½ xᵀAx multiplies each eigen-component by (1 − η λ): growth iff η λ_max > 2."""
    st, r = claim.statement, ClaimResult()
    eta, lam = sp.symbols("eta lambda", positive=True)
    exact = sp.solve(sp.Abs(1 - eta * lam) - 1, eta)
    r.add("|1 − ηL| = 1 at", sp.simplify(exact[-1] - st["threshold"](lam)) == 0, st["threshold"](lam), exact[-1])
    rng = np.random.default_rng(seed)
    runs: dict[str, list[float]] = {}
    wrong = []
    for _ in range(20):
        a, _b = _quadratic(int(rng.integers(1 << 30)))
        top = float(np.linalg.eigvalsh(a)[-1])
        x0 = rng.normal(size=len(a))
        for factor in (0.5, 0.9, 1.1, 1.5):
            x, loss = x0.copy(), []
            for _step in range(60):
                loss.append(float(0.5 * x @ a @ x))
                x = x - factor * float(st["threshold"](top)) * (a @ x)
            runs.setdefault(f"{factor}× threshold", loss)
            grows = loss[-1] > loss[0]
            if grows != (factor > 1):
                wrong.append(f"η = {factor}× at L = {top:.3g}: {'grows' if grows else 'falls'}")
    r.add(
        "20 quadratics at η = 0.5, 0.9, 1.1, 1.5 × stated threshold: runs that fall above or grow below it",
        not wrong,
        0,
        len(wrong),
        "; ".join(wrong[:3]),
    )
    r.plot("lr_divergence", "loss per step on a quadratic, learning rates around 2/L", "step", "loss", range(60), runs)
    r.detail = "GD multiplies each eigen-component by 1 − ηλ: the loss grows iff η > 2/λ_max"
    r.corrected = "the loss grows once η > 2/L, L the largest curvature (eigenvalue of the Hessian)"
    return r


def taylor_descent(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    worst_ratio, rises = 0.0, 0
    for _ in range(50):
        m = torch.tensor(rng.normal(size=(6, 4)))

        def f(x: torch.Tensor, m: torch.Tensor = m) -> torch.Tensor:
            return torch.logsumexp(m @ x, 0) + torch.sin(x).sum() + 0.5 * (x @ x)

        x = torch.tensor(rng.normal(size=4), requires_grad=True)
        f(x).backward()
        assert x.grad is not None
        g, x0, fx = x.grad.numpy(), x.detach().numpy(), float(f(x.detach()))
        for k in range(10, 21):
            eta = 2.0**-k
            rises += float(f(torch.tensor(st["step"](x0, g, eta)))) >= fx
        eta = 2.0**-20
        ratio = (fx - float(f(torch.tensor(st["step"](x0, g, eta))))) / (eta * float(g @ g))
        worst_ratio = max(worst_ratio, abs(ratio - 1))
    r.add("50 smooth functions, steps 2^-10..2^-20: steps that did not lower f", rises == 0, 0, rises)
    r.add(
        "(f(x) − f(x − ηg)) / (η||g||²) at η = 2^-20",
        worst_ratio < 1e-3,
        "1 ± 1e-3",
        1 + worst_ratio,
        "first-order Taylor",
    )
    r.detail = "f(x − ηg) = f(x) − η||g||² + O(η²): every small step lowered f"
    return r


CHECKS = {
    "update_rule": update_rule,
    "batch_minibatch": batch_minibatch,
    "momentum_rule": momentum_rule,
    "gradient_clipping": clipping,
    "contour_normal": contour_normal,
    "learning_rate_divergence": learning_rate_divergence,
    "taylor_descent": taylor_descent,
}
