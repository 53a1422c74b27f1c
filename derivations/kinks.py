"""Judging a backend's gradient at ReLU kinks in a stack of layers.

At a pre-activation exactly 0 the derivative is a set: g'(0) may be any s in [lo, hi], entry by
entry. The slopes are solved layer by layer from the top: once the layers above are fixed, a
layer's own parameter gradients are linear in its kink slopes. The whole gradient is then
rebuilt from the solved slopes and must match the backend's, so a gradient outside the set is
never accepted (a slope the gradients cannot identify can only make the rule reject).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from derivations.ties import floor

Grads = Mapping[str, np.ndarray]


def in_box(a: np.ndarray, r: np.ndarray, lo: float, hi: float, sweeps: int = 200) -> np.ndarray:
    """A point of [lo, hi]^k solving a s = r in the least-squares sense, by alternating
    projections between the solution set and the box: several kinks in one unit leave s
    underdetermined, and the minimum-norm solution may lie outside the box though another
    solution lies inside."""
    pinv = np.linalg.pinv(a)
    s = np.full(a.shape[1], (lo + hi) / 2)
    for _ in range(sweeps):
        s = np.clip(s + pinv @ (r - a @ s), lo, hi)
    # The sweeps converge linearly; settle the entries inside the box exactly, the others held.
    free = (s > lo) & (s < hi)
    if free.any():
        s[free] += np.linalg.lstsq(a[:, free], r - a @ s, rcond=None)[0]
    return np.clip(s, lo, hi)


def _flat(grads: Grads, keys: Sequence[str]) -> np.ndarray:
    return np.concatenate([np.asarray(grads[k], dtype=np.float64).ravel() for k in keys])


def judge_kinks(
    layers: Sequence[tuple[np.ndarray, Sequence[str]]],
    backprop: Callable[[list[np.ndarray]], dict[str, np.ndarray]],
    got: Grads,
    magnitude: Grads,
    *,
    name: str,
    low: float,
    rtol: float,
    sweeps: int = 3,
) -> str | None:
    """`layers` from the top: each layer's pre-activations and the gradients its slopes move
    first (its own w and b); `backprop(slopes)` is back-propagation with those slopes.
    Returns the convention picked (f"{name}'(0) = ...") or None if outside the set.

    The first sweep solves each layer from its own gradients, top down; later sweeps solve
    each layer against every gradient with the other layers held (the gradient is linear in
    one layer's slopes when the others are fixed), which settles slopes that a layer's own
    gradients cannot see (a shortcut carries them to x)."""
    lo, hi = low, 1.0
    names = [k for k in magnitude if k != "out"]  # the gradients, not the forward value
    values = _flat(got, names)
    kinked = [(k, np.argwhere(y == 0)) for k, (y, _) in enumerate(layers)]
    kinked = [(k, idx) for k, idx in kinked if len(idx)]
    tiny = floor(rtol, values)

    def matches(slopes: list[np.ndarray]) -> bool:
        rebuilt = _flat(backprop(slopes), names)
        # The core's absolute floor too (ties.floor): below float32's smallest number a gradient is 0.
        return not np.any(np.abs(values - rebuilt) > rtol * (_flat(magnitude, names) + np.abs(values)) + tiny)

    def convention(slopes: list[np.ndarray]) -> str:
        found = sorted({round(float(slopes[k][tuple(i)]), 12) for k, idx in kinked for i in idx})
        return f"{name}'(0) = " + ", ".join(f"{v:g}" for v in found) if found else f"{name}: no kink reached"

    # One slope at every kink (torch: 0 for ReLU, alpha for leaky) is the common case: tried
    # first, it needs no solving.
    for v in (lo, hi):
        slopes = [np.where(y > 0, 1.0, np.where(y < 0, low, v)) for y, _ in layers]
        if matches(slopes):
            return convention(slopes)
    slopes = [np.where(y > 0, 1.0, np.where(y < 0, low, 0.0)) for y, _ in layers]
    for sweep in range(sweeps if len(kinked) > 1 else 1):
        for k, kinks in kinked:
            keys = layers[k][1] if sweep == 0 else names
            base = _flat(backprop(slopes), keys)
            columns = []
            for idx in kinks:
                trial = [s.copy() for s in slopes]
                trial[k][tuple(idx)] += 1.0
                columns.append(_flat(backprop(trial), keys) - base)
            current = np.array([slopes[k][tuple(idx)] for idx in kinks])
            s = in_box(np.stack(columns, axis=1), _flat(got, keys) - base + np.stack(columns, axis=1) @ current, lo, hi)
            for idx, v in zip(kinks, s, strict=True):
                slopes[k][tuple(idx)] = v
    return convention(slopes) if matches(slopes) else None
