"""The regions the update rules (update_rules.py) draw from: hypothesis strategies, one per rule; and the
code paths of each rule that every region reaches (conditions).

Entries are float32 numbers, exact in both dtypes. The extreme regions scale them by 2^-100 or
2^100 (1e-32 to 4e30): normal float32 numbers whose squares leave float32's range. float16 holds
neither: there they round to 0 or inf.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations.model import Condition, Example

SCALES = {"tiny": 2.0**-100, "huge": 2.0**100}
ADAGRAD_EPS, CLIP_EPS = 1e-10, 1e-6  # torch.optim.Adagrad's and clip_grad_norm_'s; the notes write none
ETA = st.floats(2.0**-10, 1.0, width=32)  # learning rates as training uses them; the formulas take any real
# (rows of integers with an integer 2-norm, that norm): gradients exactly on a norm threshold in every format.
EXACT_NORMS = (((1,), 1), ((3, 4), 5), ((1, 2, 2), 3), ((2, 3, 6), 7), ((1, 4, 8), 9), ((1, 2, 2, 4), 5))


def _shape(draw: st.DrawFn) -> tuple[int, ...]:
    rank = draw(st.integers(1, 3))
    return tuple(draw(st.integers(1, (6, 4, 3)[rank - 1])) for _ in range(rank))


def _reals(draw: st.DrawFn, shape: tuple[int, ...], lo: float = -3.0, hi: float = 3.0) -> np.ndarray:
    """float32 numbers (exact in both dtypes), with the zeros and repeats hypothesis likes."""
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, width=32, allow_subnormal=False)))


def _nonzero(draw: st.DrawFn, shape: tuple[int, ...], lo: float = 2.0**-7, hi: float = 3.0) -> np.ndarray:
    signs = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
    return signs * _reals(draw, shape, lo, hi)


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def _threshold(draw: st.DrawFn) -> float:
    """A threshold with 8 significant bits (bfloat16's): every format holds it, so g = c is a kink in each."""
    return (128 + draw(st.integers(0, 127))) / 128 * 2.0 ** draw(st.integers(-3, 3))


def _some(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    """A random mask with at least one entry set."""
    mask = draw(hnp.arrays(np.bool_, shape))
    mask.flat[draw(st.integers(0, mask.size - 1))] = True
    return mask


def _example(arrays: dict[str, np.ndarray], params: dict[str, float], region: str) -> Example:
    return Example(arrays, params, region, (f"rank-{arrays['g'].ndim}",))


def momentum_strategy(region: str) -> st.SearchStrategy[Example]:
    """typical: entries in [-3, 3]; first-step: Δw = 0; tiny, huge: g and Δw scaled by 2^∓100."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        shape, scale = _shape(draw), SCALES.get(region, 1.0)
        w, g = _reals(draw, shape), _reals(draw, shape) * scale
        delta = np.zeros(shape) if region == "first-step" else _reals(draw, shape) * scale
        rho = draw(st.sampled_from([0.0, 0.9]) | st.floats(0.0, 1.0, width=32))
        return _example({"w": w, "delta": delta, "g": g}, {"eta": draw(ETA), "rho": rho}, region)

    return build()


def adagrad_strategy(region: str) -> st.SearchStrategy[Example]:
    """typical: s in [0, 10], g non-zero in [-3, 3]; first-step: s = 0; zero-gradient: s >= 1/8 and some
    g exactly 0 (the kink of |g|); tiny, huge: s and g scaled by 2^∓100; torch-eps: eps = 1e-10 on a
    first step with |g| in [2^-20, 2^-7] (1e-6 to 8e-3), where eps moves the step by 1e-8 to 1e-4 of itself."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        shape, scale = _shape(draw), SCALES.get(region, 1.0)
        g = _nonzero(draw, shape, 2.0**-20, 2.0**-7) if region == "torch-eps" else _nonzero(draw, shape) * scale
        s = _reals(draw, shape, 0.125 if region == "zero-gradient" else 0.0, 10.0) * scale
        if region in ("first-step", "torch-eps"):
            s = np.zeros(shape)
        if region == "zero-gradient":
            g = np.where(_some(draw, shape), 0.0, g)
        eps = ADAGRAD_EPS if region == "torch-eps" else 0.0
        return _example({"w": _reals(draw, shape), "s": s, "g": g}, {"eta": draw(ETA), "eps": eps}, region)

    return build()


def clip_value_strategy(region: str) -> st.SearchStrategy[Example]:
    """typical: g in [-3c, 3c], from 2 entries one over c and one under -c, from 3 one inside;
    threshold: some entries exactly ±c; tiny, huge: g in [-3, 3] scaled by 2^∓100 (nothing clipped,
    everything clipped). c has 8 significant bits, in [1/8, 16)."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        shape, c = _shape(draw), _threshold(draw)
        g = _reals(draw, shape) * SCALES[region] if region in SCALES else _f32(_reals(draw, shape) * c)
        if region == "typical" and g.size > 1:  # every branch: an entry clipped above, one below, one inside
            at = draw(st.permutations(range(g.size)))[:3]
            picks = c * np.array([draw(st.floats(1.125, 3.0)), -draw(st.floats(1.125, 3.0)), 0.5])
            g.flat[at] = _f32(picks[: len(at)])
        if region == "threshold":
            g = np.where(_some(draw, shape), np.where(g < 0, -c, c), g)
        return _example({"g": g}, {"c": c}, region)

    return build()


def clip_norm_strategy(region: str) -> st.SearchStrategy[Example]:
    """typical: ||g|| from c/4 to 4c; threshold: ||g|| = c exactly, in rationals (integer rows with an
    integer norm, scaled by a power of 2); tiny, huge: g scaled by 2^∓100 (tiny: sometimes all 0);
    torch-eps: eps = 1e-6, as typical."""

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        shape, c = _shape(draw), _threshold(draw)
        direction = _nonzero(draw, shape)
        g = _f32(direction * (c * draw(st.floats(0.25, 4.0)) / np.linalg.norm(direction)))
        if region in SCALES:
            g = direction * SCALES[region] * (0.0 if region == "tiny" and draw(st.booleans()) else 1.0)
        if region == "threshold":
            rows = [r for r in EXACT_NORMS if len(r[0]) <= g.size]
            entries, norm = draw(st.sampled_from(rows))
            scale, places = 2.0 ** draw(st.integers(-3, 2)), draw(st.permutations(range(g.size)))
            g = np.zeros(g.size)
            g[places[: len(entries)]] = np.array(entries) * np.where(direction.ravel()[: len(entries)] < 0, -1, 1)
            g, c = g.reshape(shape) * scale, norm * scale
        eps = CLIP_EPS if region == "torch-eps" else 0.0
        return _example({"g": g}, {"c": c, "eps": eps}, region)

    return build()


# --- conditions: the code paths a buggy step takes only at some inputs ------------------------------
# Every region draws an example where each holds, unless the region rules it out (see Condition).


def _momentum_term(ex: Example) -> bool:
    return bool(ex.params["rho"] != 0 and np.any(ex.arrays["delta"] != 0))


def _both_signs(ex: Example) -> bool:
    g = ex.arrays["g"]
    return bool(np.any(g > 0) and np.any(g < 0))


def _first_step_entry(ex: Example) -> bool:
    return bool(np.any((ex.arrays["s"] == 0) & (ex.arrays["g"] != 0)))


def _clipped_both_ends(ex: Example) -> bool:
    g, c = ex.arrays["g"], ex.params["c"]
    return bool(np.any(g > c) and np.any(g < -c))


def _every_branch(ex: Example) -> bool:
    return _clipped_both_ends(ex) and bool(np.any(np.abs(ex.arrays["g"]) < ex.params["c"]))


def _norm_ratio(ex: Example) -> float:
    """(||g|| + eps) / c; the entries here are at most 2^102, so their squares stay finite in float64."""
    return float((np.linalg.norm(ex.arrays["g"]) + ex.params["eps"]) / ex.params["c"])


MOMENTUM_CONDITIONS = (
    # The gradient with respect to Δw_{t−1} is ρ (c[1] − c[0]), 0 at ρ = 0 whatever a backward does with it.
    Condition("rho>0", lambda ex: ex.params["rho"] != 0),
    # The momentum term in the step: dropped or sign-flipped, it shows only where ρ Δw_{t−1} is not 0.
    Condition("rho*delta != 0", _momentum_term, not_in=("first-step",)),
)
ADAGRAD_CONDITIONS = (
    # |g|'s two slopes: a state that sums g for |g| (the note's "sum of g" taken literally) is right for g > 0.
    Condition("g of both signs", _both_signs),
    # An entry's first step: the denominator is |g| alone there, and dividing by the old state divides by 0.
    Condition("s=0 where g!=0", _first_step_entry, not_in=("zero-gradient",)),
    # A later step: a state replaced by |g| instead of accumulated gives the right values wherever the old one is 0.
    Condition("s>0", lambda ex: bool(np.any(ex.arrays["s"] > 0)), not_in=("first-step", "torch-eps")),
)
CLIP_VALUE_CONDITIONS = (
    # Both clamps and the identity in one array: a one-sided clamp, or a mask on g < c without |.|, is
    # wrong below -c only. tiny clips nothing (huge keeps only its zeros).
    Condition("above c, below -c and inside", _every_branch, not_in=("tiny",)),
)
CLIP_NORM_CONDITIONS = (
    # The two pieces: g scaled back onto the threshold, and g kept. threshold sits on the kink between them.
    Condition("||g|| over c (scaled)", lambda ex: _norm_ratio(ex) > 1, not_in=("threshold", "tiny")),
    Condition("||g|| under c (kept)", lambda ex: _norm_ratio(ex) < 1, not_in=("threshold", "huge")),
    # The norm of the whole array: the norm along one axis is the same unless two axes are longer than 1.
    Condition("2+ axes longer than 1", lambda ex: sum(n > 1 for n in ex.arrays["g"].shape) >= 2),
)
