"""The finite-difference oracle: accurate, honest about its error, batched, and its miss odds."""

from __future__ import annotations

import numpy as np
import pytest

from harness import finite_diff


@pytest.mark.parametrize("seed", range(20))
def test_error_estimate_covers_the_real_error(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, size=(3, 4))
    u = rng.standard_normal((5, 3, 4))
    est = finite_diff.directional(
        lambda a: np.sin(a) * np.exp(a / 3), x, u, h=finite_diff.STEPS["float64"], forward_noise=1e-16 * 8 * 8
    )
    true = (np.cos(x) + np.sin(x) / 3) * np.exp(x / 3) * u
    assert np.all(np.abs(est.value - true) <= est.error)
    assert np.max(np.abs(est.value - true)) < 1e-10


def test_stacked_calls_not_one_per_element() -> None:
    calls: list[int] = []

    def forward(a: np.ndarray) -> np.ndarray:
        calls.append(a.shape[0])
        return a**2

    x = np.linspace(-1, 1, 1024)
    est = finite_diff.directional(forward, x, np.eye(x.size), h=2.0**-8)
    assert np.allclose(np.diag(est.value), 2 * x, atol=1e-9)
    assert len(calls) <= 2  # 6 * 1024 perturbed copies of 1024 entries fit in one or two calls


def test_float32_step_is_coarser() -> None:
    assert finite_diff.step_for("float32") > finite_diff.step_for("float64")
    with pytest.raises(ValueError, match="float32 or float64"):
        finite_diff.step_for("float16")


def test_miss_probability_matches_sampling() -> None:
    # A rank-one error E = a b^T (|a| = |b| = 1) seen through Gaussian (u, v) pairs.
    rng = np.random.default_rng(0)
    ratio, k, trials = 0.1, 2, 200_000
    g = rng.standard_normal((trials, k, 2))
    missed = np.all(np.abs(g[..., 0] * g[..., 1]) < ratio, axis=1).mean()
    # (u, v) independent per direction: each pair misses with probability p1.
    p1 = finite_diff.miss_probability(ratio, 1)
    assert abs(missed - p1**k) < 0.01
    assert finite_diff.miss_probability(0.01, 4) < finite_diff.miss_probability(0.1, 4) < p1


def test_fd_backend_follows_the_protocol_and_knows_its_limits() -> None:
    from derivations import CATALOG
    from harness import exact
    from harness.backends import FiniteDifferenceBackend, NumpyBackend, Target

    target = Target("cpu", "float64")
    fd = FiniteDifferenceBackend(NumpyBackend())
    assert {t.dtype for t in fd.targets()} == {"float32", "float64"}
    d = CATALOG["softmax"]
    z = np.array([[0.3, -1.2, 2.0], [1.0, 1.0, -0.5]])
    c = np.array([[1.0, -2.0, 0.5], [0.1, 0.2, 0.3]])
    exact_vjp = exact.evaluate(d, {"z": z}, {}, c, digits=34).vjp
    est = fd.estimate(d, {"z": z}, {}, c, target)
    assert np.all(np.abs(est.value - exact_vjp) <= est.error + 1e-15)
    relu = CATALOG["relu"]
    near_kink = fd.estimate(relu, {"z": np.array([1e-5, 2.0])}, {}, np.ones(2), target)
    assert np.isinf(near_kink.error[0]) and np.isfinite(near_kink.error[1])
