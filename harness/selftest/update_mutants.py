"""Each optimiser's classic slip, and correct alternatives, for the update rules (C4-C6). Every
function is a forward or a vjp under the user-facing contract, each slip written consistently
(its backward is the true backward of its own wrong forward), as a user's step would be: only the
exact reference can tell it from the note's rule.

`variants()` lists them as mutants.py's Variant records. It is a function, imported by mutants.py
beside the other mutant modules and called inside its VARIANTS, because Variant is defined there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from harness.backends import numpy_update_rules as ur

if TYPE_CHECKING:
    from harness.selftest.mutants import Variant

# --- momentum -------------------------------------------------------------------------------------


def momentum_minus(w: np.ndarray, delta: np.ndarray, g: np.ndarray, eta: float, rho: float) -> np.ndarray:
    """Δw_t = η g − ρ Δw_{t−1}: the momentum term's sign flipped."""
    step = eta * g - rho * delta
    return np.stack([w - step, step])


def momentum_minus_vjp(
    w: np.ndarray, delta: np.ndarray, g: np.ndarray, c: np.ndarray, eta: float, rho: float
) -> tuple[np.ndarray, ...]:
    through = c[1] - c[0]
    return c[0].copy(), -rho * through, eta * through


def momentum_stale(w: np.ndarray, delta: np.ndarray, g: np.ndarray, eta: float, rho: float) -> np.ndarray:
    """The step taken, but the old Δw handed back as the state: the buffer never updated."""
    return np.stack([w - (eta * g + rho * delta), delta.copy()])


def momentum_stale_vjp(
    w: np.ndarray, delta: np.ndarray, g: np.ndarray, c: np.ndarray, eta: float, rho: float
) -> tuple[np.ndarray, ...]:
    return c[0].copy(), c[1] - rho * c[0], -eta * c[0]


def momentum_torch_buffer(w: np.ndarray, delta: np.ndarray, g: np.ndarray, eta: float, rho: float) -> np.ndarray:
    """Correct: torch.optim.SGD's buffer buf = Δw/η, buf = ρ buf + g, w − η buf, state η buf."""
    buf = (delta / eta) * rho + g
    return np.stack([w - eta * buf, eta * buf])


def momentum_torch_buffer_vjp(
    w: np.ndarray, delta: np.ndarray, g: np.ndarray, c: np.ndarray, eta: float, rho: float
) -> tuple[np.ndarray, ...]:
    buf_bar = eta * (c[1] - c[0])
    return c[0].copy(), (buf_bar * rho) / eta, buf_bar


# --- Adagrad --------------------------------------------------------------------------------------


def adagrad_squares(w: np.ndarray, s: np.ndarray, g: np.ndarray, eta: float, eps: float) -> np.ndarray:
    """torch.optim.Adagrad's rule on the note's state: s + g², w − η g / (√(s + g²) + eps)."""
    total = s + g * g
    return np.stack([w - eta * g / (np.sqrt(total) + eps), total])


def adagrad_squares_vjp(
    w: np.ndarray, s: np.ndarray, g: np.ndarray, c: np.ndarray, eta: float, eps: float
) -> tuple[np.ndarray, ...]:
    root = np.sqrt(s + g * g)
    d = root + eps
    rate = eta * c[0] / d
    # d/dg of g/d = 1/d − g (g/root)/d²; d/ds of −η g/d = η g/(2 root d²).
    return c[0].copy(), rate * (g / d) / (2 * root) + c[1], -rate * (1 - g * (g / root) / d) + 2 * g * c[1]


def adagrad_forgets(w: np.ndarray, s: np.ndarray, g: np.ndarray, eta: float, eps: float) -> np.ndarray:
    """The state replaced by |g| instead of accumulated: the history never enters the denominator."""
    total = np.abs(g)
    return np.stack([w - eta * (g / (total + eps)), total])


def adagrad_forgets_vjp(
    w: np.ndarray, s: np.ndarray, g: np.ndarray, c: np.ndarray, eta: float, eps: float
) -> tuple[np.ndarray, ...]:
    d = np.abs(g) + eps
    return c[0].copy(), np.zeros_like(s), -eta * c[0] * (eps / d) / d + c[1] * np.sign(g)


def adagrad_no_eps(w: np.ndarray, s: np.ndarray, g: np.ndarray, eta: float, eps: float) -> np.ndarray:
    """eps accepted and ignored."""
    return ur.adagrad_step(w, s, g, eta, 0.0)


def adagrad_no_eps_vjp(
    w: np.ndarray, s: np.ndarray, g: np.ndarray, c: np.ndarray, eta: float, eps: float
) -> tuple[np.ndarray, ...]:
    return ur.adagrad_step_vjp(w, s, g, c, eta, 0.0)


def adagrad_rate_first(w: np.ndarray, s: np.ndarray, g: np.ndarray, eta: float, eps: float) -> np.ndarray:
    """Correct: the same step in another order, the rate η / (s + |g| + eps) formed first."""
    total = s + np.abs(g)
    return np.stack([w - g * (eta / (total + eps)), total])


def adagrad_abs_slope_one_vjp(
    w: np.ndarray, s: np.ndarray, g: np.ndarray, c: np.ndarray, eta: float, eps: float
) -> tuple[np.ndarray, ...]:
    """Correct: |g|'(0) = 1 in the state's sum, inside the subgradient set [-1, 1]."""
    gw, gs, gg = ur.adagrad_step_vjp(w, s, g, c, eta, eps)
    return gw, gs, np.where(g == 0, gg + c[1], gg)


# --- clipping -------------------------------------------------------------------------------------


def clip_one_sided(g: np.ndarray, c: float) -> np.ndarray:
    """Only the upper side clipped: min(g, c)."""
    return np.minimum(g, c)


def clip_one_sided_vjp(g: np.ndarray, cotangent: np.ndarray, c: float) -> tuple[np.ndarray]:
    return (cotangent * (g <= c),)


def clip_strict_mask_vjp(g: np.ndarray, cotangent: np.ndarray, c: float) -> tuple[np.ndarray]:
    """Correct: slope 0 at |g| = c (a strict mask), inside the set [0, 1]."""
    return (cotangent * (np.abs(g) < c),)


def clip_norm_always(g: np.ndarray, c: float, eps: float) -> np.ndarray:
    """g c / (||g|| + eps) whatever the norm: a small gradient blown up to the threshold."""
    return g * (c / (ur._norm(g) + eps))


def clip_norm_always_vjp(g: np.ndarray, cotangent: np.ndarray, c: float, eps: float) -> tuple[np.ndarray]:
    n = ur._norm(g)
    u = g / n
    return ((c / (n + eps)) * (cotangent - u * (np.sum(u * cotangent) * (n / (n + eps)))),)


def clip_norm_min_form(g: np.ndarray, c: float, eps: float) -> np.ndarray:
    """Correct: torch's form, g min(1, c / (||g|| + eps)), with a scaled norm (1 where the norm is 0)."""
    n = ur._norm(g)
    return g * min(1.0, float(c / (n + eps))) if n + eps > 0 else g.copy()


def clip_norm_min_form_vjp(g: np.ndarray, cotangent: np.ndarray, c: float, eps: float) -> tuple[np.ndarray]:
    """On ||g|| + eps = c it takes the scaled piece (c / (||g|| + eps) <= 1), the reference the kept one."""
    n = ur._norm(g)
    if not (n + eps > 0 and c / (n + eps) <= 1):
        return (cotangent.copy(),)
    return clip_norm_always_vjp(g, cotangent, c, eps)


def variants() -> tuple[Variant, ...]:
    from harness.selftest.mutants import Variant as M

    return (
        M("momentum-state-sign", "momentum term's sign flipped", "momentum_step", momentum_minus, momentum_minus_vjp),
        M("momentum-state-stale", "optimiser state not updated", "momentum_step", momentum_stale, momentum_stale_vjp),
        M(
            "adagrad-squares",
            "Adagrad's squares and root (torch's rule) for the note's sum of |g|",
            "adagrad_step",
            adagrad_squares,
            adagrad_squares_vjp,
        ),
        M("adagrad-forgets", "optimiser state not accumulated", "adagrad_step", adagrad_forgets, adagrad_forgets_vjp),
        M("adagrad-no-eps", "parameter ignored", "adagrad_step", adagrad_no_eps, adagrad_no_eps_vjp),
        M("clip-value-one-sided", "clipped on one side only", "clip_by_value", clip_one_sided, clip_one_sided_vjp),
        M(
            "clip-norm-always",
            "clipping by norm divides by the norm always",
            "clip_by_norm",
            clip_norm_always,
            clip_norm_always_vjp,
        ),
        M(
            "momentum-torch-buffer",
            "correct: torch.optim.SGD's buffer arithmetic",
            "momentum_step",
            momentum_torch_buffer,
            momentum_torch_buffer_vjp,
            correct=True,
        ),
        M(
            "adagrad-rate-first",
            "correct: another order of operations",
            "adagrad_step",
            adagrad_rate_first,
            correct=True,
        ),
        M(
            "adagrad-abs-slope-one",
            "correct: subgradient 1 at the kink",
            "adagrad_step",
            vjp=adagrad_abs_slope_one_vjp,
            correct=True,
        ),
        M(
            "clip-value-strict-mask",
            "correct: subgradient 0 at the kink",
            "clip_by_value",
            vjp=clip_strict_mask_vjp,
            correct=True,
        ),
        M(
            "clip-norm-min-form",
            "correct: torch's min(1, c/||g||) form, the scaled piece on the threshold",
            "clip_by_norm",
            clip_norm_min_form,
            clip_norm_min_form_vjp,
            correct=True,
        ),
    )
