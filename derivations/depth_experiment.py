"""D5 and D9 as an experiment: the gradient at the input of k stacked blocks g(f(x)) and
g(f(x) + x), f(x) = x w^T + b, for a sigmoid and a ReLU g, with seeded random weights.

Back-propagation here is the notes' own (D2, D3, D9), each formula checked against the exact
gradient by the tensor ops; tests compare these norms with torch autograd.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from derivations.elementary import FLOAT
from derivations.layers import g

EXPERIMENT_DEPTHS = tuple(range(1, 9))
EXPERIMENT_WIDTH = 16
EXPERIMENT_BATCH = 8


def stack_input_gradient_norm(act: str, shortcut: bool, depth: int, seed: int) -> float:
    """||dLoss/dx|| at the input of `depth` blocks x <- g(x w^T + b [+ x]), Loss = sum of the
    outputs, weights N(0, 1/width), biases N(0, 0.1^2): back-propagation as D2, D3 and D9 state
    it (each formula checked against the exact gradient by the network and residual ops)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((EXPERIMENT_BATCH, EXPERIMENT_WIDTH))
    blocks = [
        (
            rng.standard_normal((EXPERIMENT_WIDTH, EXPERIMENT_WIDTH)) / np.sqrt(EXPERIMENT_WIDTH),
            0.1 * rng.standard_normal(EXPERIMENT_WIDTH),
        )
        for _ in range(depth)
    ]
    pre = []
    for w, b in blocks:
        z = x @ w.T + b + (x if shortcut else 0)
        pre.append(z)
        x = np.asarray(g(FLOAT, act, z), dtype=np.float64)
    dx = np.ones_like(x)
    for (w, _), z in zip(reversed(blocks), reversed(pre), strict=True):
        a = np.asarray(g(FLOAT, act, z), dtype=np.float64)
        dz = dx * (a * (1 - a) if act == "sigmoid" else (z > 0))
        dx = dz @ w + (dz if shortcut else 0)  # (df/dx + 1) with the shortcut, df/dx without
    return float(np.linalg.norm(dx))


def depth_experiment(seed: int) -> dict[str, Any]:
    lines = {
        f"{act} {'residual' if shortcut else 'plain'}": [
            stack_input_gradient_norm(act, shortcut, k, seed) for k in EXPERIMENT_DEPTHS
        ]
        for act in ("sigmoid", "relu")
        for shortcut in (False, True)
    }
    return {
        "gradient_vs_depth": {
            "title": "Gradient at the input of k stacked blocks g(f(x)) vs g(f(x) + x), f(x) = x w^T + b",
            "xlabel": "blocks k",
            "ylabel": "||dLoss/dx|| at the input (Loss = sum of outputs)",
            "x": list(EXPERIMENT_DEPTHS),
            "lines": lines,
        }
    }
