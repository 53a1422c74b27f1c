"""The exact reference: closed forms, cancellation caught by interval arithmetic."""

from __future__ import annotations

import math

import numpy as np

from derivations import CATALOG
from harness import exact


def _eval(name: str, arrays: dict[str, np.ndarray], cot: np.ndarray) -> exact.Reference:
    d = CATALOG[name]
    return exact.evaluate(d, arrays, d.param_defaults(), cot, digits=34)


def test_sigmoid_derivative_in_saturation() -> None:
    z = np.array([20.0, -20.0, 0.0])
    ref = _eval("sigmoid", {"z": z}, np.ones(3))
    e = np.exp(-np.abs(z))
    assert np.allclose(ref.vjp, e / (1 + e) ** 2, rtol=1e-15, atol=0)  # sigma' without 1 - sigma


def test_cancellation_is_not_mistaken_for_a_value() -> None:
    # 1 - sigmoid(-481) rounds to exactly 1 at 44 and at 88 digits: comparing two precisions
    # would accept log(1) = 0 for the second term; the interval enclosure does not.
    ref = _eval(
        "binary_cross_entropy", {"z": np.array([-481.1174297616249]), "y": np.array([2.2250738585072e-309])}, np.ones(1)
    )
    assert math.isclose(ref.forward[0], math.exp(-481.1174297616249), rel_tol=1e-12)
    tiny = _eval("tanh", {"z": np.array([1e-300])}, np.ones(1))
    assert tiny.forward[0] == 1e-300


def test_softmax_vjp_of_ones_is_zero_to_its_scale() -> None:
    ref = _eval("softmax", {"z": np.array([[0.5, -1.0, 3.0]])}, np.ones((1, 3)))
    assert np.all(np.abs(ref.vjp) <= 1e-30 * ref.vjp_sensitivity)
    assert np.all(ref.vjp_sensitivity > 0)


def test_relu_exact_zero_and_kink() -> None:
    ref = _eval("relu", {"z": np.array([-3.0, 0.0, 2.0])}, np.array([1.0, 1.0, 1.0]))
    assert list(ref.forward) == [0.0, 0.0, 2.0]
    assert ref.vjp[0] == 0.0 and ref.vjp[2] == 1.0
