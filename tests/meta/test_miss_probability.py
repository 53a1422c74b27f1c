"""The projection check's stated miss probability, confirmed on planted rank-one errors.

A backward with a planted error E = s b a^T differs from its own forward's finite differences
by s (v.a)(u.b) along a direction pair; the check misses it when that stays under the
tolerance t for every pair. `finite_diff.miss_probability(t / s, pairs)` states the chance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from derivations import CATALOG
from harness import cases, checks, exact, finite_diff, projection
from harness.backends.base import Target
from harness.backends.numpy_ref import NumpyBackend
from harness.dtypes import get_format, reference_digits

TARGET = Target("cpu", "float64")


class Planted(NumpyBackend):
    """The reference with s b (a . c) added to every vjp."""

    def __init__(self, a: np.ndarray, b: np.ndarray, s: float) -> None:
        super().__init__("planted")
        self.a, self.b, self.s = a, b, s

    def vjp(self, d, arrays, params, cotangent, target):  # type: ignore[no-untyped-def]
        g = super().vjp(d, arrays, params, cotangent, target)
        dot = np.sum(cotangent * self.a, axis=tuple(range(-self.a.ndim, 0)), keepdims=True)
        return g + self.s * dot * self.b


@pytest.fixture(scope="module")
def case_parts() -> tuple[object, ...]:
    d = CATALOG["sigmoid"]
    x = np.random.default_rng(1).uniform(-4, 4, 512)  # many entries: the tolerance barely moves with u
    cot = np.random.default_rng(2).standard_normal(512)
    ref = exact.evaluate(d, {"z": x}, {}, cot, digits=reference_digits(get_format("float64")))
    return d, x, cot, ref


def _misses(case_parts: tuple[object, ...], ratio: float, trials: int) -> int:
    d, x, cot, ref = case_parts
    fmt = get_format("float64")
    rng = np.random.default_rng(3)
    missed = 0
    for seed in range(trials):
        case = cases.Case(d, {"z": x}, {}, cot, ref, fmt, seed)  # type: ignore[arg-type]
        tol = projection.projection(NumpyBackend(), case, TARGET).measurement.tolerance
        a, b = rng.standard_normal((2, x.size))
        planted = Planted(a / np.linalg.norm(a), b / np.linalg.norm(b), tol / ratio)
        if projection.projection(planted, case, TARGET).measurement.usage <= 1.0:
            missed += 1
    return missed


@pytest.fixture(scope="module")
def trials(profile: str) -> int:
    return 1000 if profile == "thorough" else 150


@pytest.mark.parametrize("ratio", [1.0, 0.5])
def test_miss_rate_matches_the_stated_probability(case_parts: tuple[object, ...], ratio: float, trials: int) -> None:
    p = finite_diff.miss_probability(ratio, checks.PROJECTION_DIRECTIONS)
    missed = _misses(case_parts, ratio, trials)
    sd = math.sqrt(trials * p * (1 - p))
    assert abs(missed - trials * p) <= 4 * sd + 1, f"{missed} misses in {trials}; stated {p:.4f}"


def test_the_reported_error_size_is_missed_no_more_often_than_stated(
    case_parts: tuple[object, ...], trials: int
) -> None:
    p = finite_diff.miss_probability(0.1, checks.PROJECTION_DIRECTIONS)  # the 0.23 % in each record
    missed = _misses(case_parts, 0.1, trials)
    # Binomial upper tail: more than this many misses has a chance below 1e-4 (p = 0.0023).
    limit = 3 if trials <= 150 else 9
    assert missed <= limit, f"{missed} misses in {trials}; stated {p:.4%}"


def test_a_step_that_disagrees_with_the_smaller_ones_is_not_the_most_accurate_on_its_own_word() -> None:
    """backprop_chain_L2 at 256x16, seed 3, saturated tanh, float32: the four steps' estimates of one direction
    were -59.5, -221, -1806 and -2612, the gradients' -2645; the largest step's own error, 415, made it the
    pick, 6x off. Its error is now at least its distance to each smaller step beyond that step's own error."""
    lhs = np.array([-59.50714226, -220.64351795, -1805.5227011, -2612.23432244])[:, None].repeat(4, axis=1)
    err = np.array([414.81126785, 561.95603425, 1182.15848538, 1426.93652459])[:, None].repeat(4, axis=1)
    valid = np.ones((4, 4), dtype=bool)
    d = projection._most_accurate(["x"], np.zeros((4, 1)), lhs.copy(), err.copy(), valid)
    assert np.all(np.abs(d.lhs - -2645.0) <= checks.FD_SAFETY * d.error)
    assert np.all(d.error >= 1125)
    # Steps that agree within their errors keep the smallest error, not inflated.
    calm = np.array([1.0, 1.0 + 1e-6, 1.0 - 1e-6, 1.0 + 2e-6])[:, None].repeat(4, axis=1)
    small = np.array([1e-3, 1e-4, 1e-3, 1e-2])[:, None].repeat(4, axis=1)
    d = projection._most_accurate(["x"], np.zeros((4, 1)), calm.copy(), small.copy(), valid)
    assert np.allclose(d.error, 1e-4) and np.allclose(d.lhs, 1.0 + 1e-6)
