"""Checks of the worked example (C2) in-process: the hand gradient, the batch loop and the per-sample autograd loop.

The programs themselves, as printed, are run by printed_code.py and printed_programs.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy as sp
import torch

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult


def _minimiser(claim: Claim) -> float:
    """The w at which the stated loss over the note's data is stationary (its minimum for a convex loss)."""
    st = claim.statement
    w = sp.Symbol("w", real=True)
    roots = sp.solve(sp.diff(sp.nsimplify(st["loss"](st["x"], st["y"], w)), w), w)
    if len(roots) != 1:
        raise ValueError(f"the stated loss has {len(roots)} stationary points, not one")
    return float(roots[0])


def worked_example_gradient(claim: Claim, seed: int) -> ClaimResult:
    """gradient(xs, ys) against d/dw loss(xs, ys), with the samples as symbols: 1 to 4 of them (the note has 3)."""
    st, r = claim.statement, ClaimResult()
    w = sp.Symbol("w", real=True)
    for n in (1, 2, 3, 4):
        xs, ys = sp.symbols(f"x0:{n}", real=True), sp.symbols(f"y0:{n}", real=True)
        gap = sp.simplify(sp.diff(st["loss"](xs, ys, w), w) - st["gradient"](xs, ys, w))
        r.add(f"{n} sample(s): d loss(xs, ys)/dw − gradient(xs, ys)", gap == 0, 0, gap)
    r.detail = "gradient(xs, ys) = (1/n) Σ 2x(xw − y) is d/dw of loss(xs, ys) = (1/n) Σ (xw − y)², for any data"
    r.corrected = "d/dw (1/n) Σ (xw − y)² = (1/n) Σ 2x(xw − y)"
    return r


def gradient_descent(ex: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    """The first program's loop from w0: loss(x_data, y_data) before each epoch's update, and w after it."""
    w, losses, trace = ex["w0"], [], []
    for _ in range(ex["epochs"]):
        losses.append(float(ex["loss"](ex["x"], ex["y"], w)))
        w -= ex["lr"] * ex["gradient"](ex["x"], ex["y"], w)
        trace.append(float(w))
    return losses, trace


def per_sample_sgd(
    ex: Mapping[str, Any], on_step: Callable[[float, float, torch.Tensor], None] = lambda x, y, w: None
) -> tuple[list[float], list[float]]:
    """The second program's loop: float32 w as torch.Tensor([1.0]) holds it, one autograd update per sample;
    the loss of each epoch's last sample (before its update) and w after each epoch. `on_step` sees every
    sample with w holding its gradient, before the update."""
    w = torch.tensor([ex["w0"]], dtype=torch.float32, requires_grad=True)
    losses, trace = [], []
    for _ in range(ex["epochs"]):
        for x, y in zip(ex["x"], ex["y"], strict=True):
            loss = ex["sample_loss"](x, y, w)
            loss.backward()
            assert w.grad is not None
            on_step(x, y, w)
            w.data = w.data - ex["lr"] * w.grad.data
            w.grad.data.zero_()
        losses.append(float(loss.item()))
        trace.append(float(w.item()))
    return losses, trace


def worked_example(claim: Claim, seed: int) -> ClaimResult:
    """The first program's loop: loss, gradient, w -= lr·grad, epochs times, from w0."""
    st, r = claim.statement, ClaimResult()
    epochs = st["epochs"]
    losses, trace = gradient_descent(st)
    best = _minimiser(claim)
    falls = bool(np.all(np.diff(losses) < 0))
    r.add("the loss falls every epoch", falls, "falls", f"{losses[0]:.4g} -> {losses[-1]:.3g}")
    r.add(
        f"w after {epochs} epochs is within 1e-3 of the loss's minimiser {best:g}",
        abs(trace[-1] - best) < 1e-3,
        best,
        trace[-1],
    )
    r.plot("worked_example_loss", "worked example: loss per epoch", "epoch", "loss", range(epochs), {"loss": losses})
    r.plot("worked_example_w", "worked example: w per epoch", "epoch", "w", range(epochs), {"w": trace})
    at = st["predict_at"]
    r.detail = (
        f"w {st['w0']:g} -> {trace[-1]:.6f} (minimiser {best:g}, gap {abs(trace[-1] - best):.2g}); loss "
        f"{losses[0]:.4g} -> {losses[-1]:.3g}; prediction at {at:g}: {at * trace[-1]:.5f}"
    )
    r.corrected = f"after {epochs} epochs w = {trace[-1]:.6g}, {abs(trace[-1] - best):.3g} from the minimiser {best:g}"
    return r


def worked_example_autograd_sgd(claim: Claim, seed: int) -> ClaimResult:
    """The second program's loop in-process: float32 w, one autograd update per sample."""
    st, r = claim.statement, ClaimResult()
    epochs, at = st["epochs"], st["predict_at"]
    gaps = [0.0]

    def compare(x: float, y: float, w: torch.Tensor) -> None:
        hand = float(st["gradient"]([x], [y], float(w.item())))
        gaps.append(abs(hand - float(w.grad.item())) / max(1.0, abs(hand)))  # type: ignore[union-attr]

    _, trace = per_sample_sgd(st, compare)
    gap = max(gaps)
    best = _minimiser(claim)
    r.add("autograd's gradient of one sample vs the hand gradient 2x(xw − y)", gap < 1e-5, "< 1e-5 relative", gap)
    r.add(
        f"the prediction at {at:g} after {epochs} epochs is within 1e-3 of {at * best:g}",
        abs(at * trace[-1] - at * best) < 1e-3,
        at * best,
        at * trace[-1],
    )
    r.plot(
        "worked_example_sgd_w",
        "worked example, per-sample autograd: w per epoch",
        "epoch",
        "w",
        range(epochs),
        {"w": trace},
    )
    r.detail = (
        f"autograd = hand gradient at every one of {epochs * len(st['x'])} updates (float32, gap {gap:.1g}); "
        f"w {st['w0']:g} -> {trace[-1]:.7g}, prediction at {at:g}: {at * trace[-1]:.7g}"
    )
    r.corrected = f"per-sample autograd ends at w = {trace[-1]:.7g} (gradient gap {gap:.2g})"
    return r


CHECKS = {
    "worked_example_gradient": worked_example_gradient,
    "worked_example": worked_example,
    "worked_example_autograd_sgd": worked_example_autograd_sgd,
}
