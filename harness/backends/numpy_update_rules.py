"""The NumPy reference for the update rules (C4-C6): each step beside its hand-written backward.

Independent of derivations/ on purpose, like numpy_networks: a second, hand-written opinion. A step
with two results returns them stacked on a new leading axis, (new w, new state), so its cotangent
has that shape too: cotangent[0] reaches the new w and cotangent[1] the new state.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# --- momentum: Δw_t = η g + ρ Δw_{t−1}; w − Δw_t ------------------------------------------------


def momentum_step(w: np.ndarray, delta: np.ndarray, g: np.ndarray, eta: float, rho: float) -> np.ndarray:
    step = eta * g + rho * delta
    return np.stack([w - step, step])


def momentum_step_vjp(
    w: np.ndarray, delta: np.ndarray, g: np.ndarray, cotangent: np.ndarray, eta: float, rho: float
) -> tuple[np.ndarray, ...]:
    new_w, new_delta = cotangent  # the cotangents of the two results
    through_step = new_delta - new_w  # the step enters the new state with +1 and the new w with −1
    return new_w.copy(), rho * through_step, eta * through_step


# --- Adagrad as the note reads: s + |g|, and w − η g / (s + |g| + eps) ----------------------------


def adagrad_step(w: np.ndarray, s: np.ndarray, g: np.ndarray, eta: float, eps: float) -> np.ndarray:
    total = s + np.abs(g)
    return np.stack([w - eta * (g / (total + eps)), total])


def adagrad_step_vjp(
    w: np.ndarray, s: np.ndarray, g: np.ndarray, cotangent: np.ndarray, eta: float, eps: float
) -> tuple[np.ndarray, ...]:
    new_w, new_s = cotangent  # the cotangents of the two results
    d = s + np.abs(g) + eps
    rate = eta * new_w / d
    # d(g/d)/dg = (d − g sign g)/d² = (s + eps)/d²; |g|'(0) taken as sign(0) = 0. Divided twice, not by d²,
    # which leaves float32's range for the huge and tiny gradients.
    return new_w.copy(), rate * (g / d) + new_s, -rate * ((s + eps) / d) + new_s * np.sign(g)


# --- clipping ------------------------------------------------------------------------------------


def clip_by_value(g: np.ndarray, c: float) -> np.ndarray:
    return np.clip(g, -c, c)


def clip_by_value_vjp(g: np.ndarray, cotangent: np.ndarray, c: float) -> tuple[np.ndarray]:
    return (cotangent * ((g >= -c) & (g <= c)),)  # slope 1 at |g| = c, as torch's clamp


def _norm(g: np.ndarray) -> np.ndarray:
    """||g|| over every entry, scaled by the largest |entry| first: no square overflows or underflows."""
    top = np.max(np.abs(g)) if g.size else np.zeros((), g.dtype)
    if top == 0:
        return top
    y = g / top
    return top * np.sqrt(np.sum(y * y))  # type: ignore[no-any-return]


def clip_by_norm(g: np.ndarray, c: float, eps: float) -> np.ndarray:
    n = _norm(g)
    return g * (c / (n + eps)) if n + eps > c else g.copy()


def clip_by_norm_vjp(g: np.ndarray, cotangent: np.ndarray, c: float, eps: float) -> tuple[np.ndarray]:
    n = _norm(g)
    if not n + eps > c:
        return (cotangent.copy(),)
    u = g / n
    # d(c g/(n + eps)) = c/(n + eps) (I − u u^T n/(n + eps)), symmetric: applied to the cotangent.
    return ((c / (n + eps)) * (cotangent - u * (np.sum(u * cotangent) * (n / (n + eps)))),)


UPDATE_RULE_OPS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., tuple[np.ndarray, ...]]]] = {
    "momentum_step": (momentum_step, momentum_step_vjp),
    "adagrad_step": (adagrad_step, adagrad_step_vjp),
    "clip_by_value": (clip_by_value, clip_by_value_vjp),
    "clip_by_norm": (clip_by_norm, clip_by_norm_vjp),
}
