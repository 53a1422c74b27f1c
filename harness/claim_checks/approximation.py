"""G5, universal approximation: networks built outright, one hidden ReLU unit per knot, and their largest error."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult

WIDTHS = (8, 32, 128, 512)
WINDOW = 10.0  # where a network for an unbounded domain is fitted
FAR = 1e6  # how far out an unbounded domain is probed
GOAL = 1e-3  # "arbitrarily well" shown as: the widest network's largest error is below this, and falling


def relu_network(f: Callable[[np.ndarray], np.ndarray], a: float, b: float, width: int) -> Callable[..., np.ndarray]:
    """g(x) = f(t0) + Σ c_i relu(x − t_i): one hidden layer of `width` ReLU units interpolating f at its knots."""
    t = np.linspace(a, b, width + 1)
    slopes = np.diff(f(t)) / np.diff(t)
    c = np.diff(slopes, prepend=0.0)
    t0, f0 = t[:-1], float(f(t[:1])[0])
    return lambda x: f0 + np.maximum(0.0, np.asarray(x)[:, None] - t0[None, :]) @ c


def _largest_error(f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, width: int) -> float:
    a, b = (-WINDOW, WINDOW) if np.isinf(lo) or np.isinf(hi) else (lo, hi)
    g = relu_network(f, a, b, width)
    x = np.linspace(a, b, 20_001)
    if np.isinf(hi):
        x = np.concatenate([x, np.geomspace(b, FAR, 50)])
    if np.isinf(lo):
        x = np.concatenate([x, -np.geomspace(-a, FAR, 50)])
    return float(np.max(np.abs(g(x) - f(x))))


def approximation(claim: Claim, seed: int) -> ClaimResult:
    """For each target, the largest error over its domain must fall with the width and end below GOAL."""
    st, r = claim.statement, ClaimResult()
    ok_targets = []
    for name, (f, (lo, hi)) in st["targets"].items():
        errors = [_largest_error(f, lo, hi, n) for n in WIDTHS]
        ok = errors[-1] <= GOAL and all(e2 <= e1 for e1, e2 in itertools.pairwise(errors))
        r.add(
            f"{name}: largest error at widths {WIDTHS}",
            ok,
            f"falling, below {GOAL} at width {WIDTHS[-1]}",
            ", ".join(f"{e:.3g}" for e in errors),
            "over the whole domain (probed out to ±1e6 when unbounded)",
        )
        ok_targets += [name] if ok else []
    r.detail = f"approximated arbitrarily well: {', '.join(ok_targets) or 'none'} ({len(st['targets'])} targets)"
    r.corrected = (
        "a network of continuous units is continuous, so a jump is never approximated uniformly (the largest error "
        "to sign stays at least 1 at every width), and a finite ReLU network is piecewise linear, so x² is missed by "
        "an unbounded amount far out; what holds (the universal approximation theorem): any continuous function on a "
        "closed bounded set, with a non-polynomial activation"
    )
    return r


CHECKS = {"approximates_any_function": approximation, "approximates_continuous_on_interval": approximation}
