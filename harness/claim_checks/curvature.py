"""Curvature of a catalog loss from the second-order engine (second_exact.py): v^T H v at random points and
directions, the Hessian applied to v exactly (the loss's VJP pushed along v on dual intervals), so that a
convexity claim is also read off the same exact second derivatives the vjp-of-vjp and hvp checks use."""

from __future__ import annotations

import numpy as np

from derivations import OPS
from harness import second_exact

DIGITS = 20


def smallest_curvature(
    op_name: str, along: str, points: list[dict[str, np.ndarray]], rng: np.random.Generator
) -> float:
    """The smallest v^T H v / (|v|^2 (1 + |H v|)) over the points, one random direction of input `along` each
    (the other inputs held), the loss's rows weighted 1: below 0 only where the loss curves down."""
    op = OPS[op_name]
    worst = np.inf
    for arrays in points:
        out_shape = op.output_shape(arrays[op.wrt.name].shape)
        directions = {i.name: np.zeros_like(arrays[i.name]) for i in op.differentiable}
        directions[along] = rng.standard_normal(arrays[along].shape)
        forward = np.zeros(out_shape)  # only the tolerance's magnitudes read it
        hv, _ = second_exact.closed_form_hvp(op, arrays, {}, np.ones(out_shape), directions, forward, digits=DIGITS)
        v = directions[along]
        worst = min(worst, float(np.sum(v * hv[along]) / (np.sum(v * v) * (1 + np.sum(np.abs(hv[along]))))))
    return worst
