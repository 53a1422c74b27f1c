"""The tensor-op core: dual numbers, the exact reference, and checks that catch planted bugs."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from derivations import TENSOR_OPS
from derivations.elementary import MP, Dual, to_float, to_mp
from derivations.layers import ALPHA
from harness.backends import NumpyBackend, TorchBackend
from harness.backends.numpy_layers import LAYER_OPS, activation
from harness.backends.numpy_ref import Pair
from harness.op_entry import stated_verdict
from harness.program_exact import reference
from harness.runner import Runner, RunOptions, examples_for

LAYER = TENSOR_OPS["dense_layer"]


def test_dual_numbers_carry_exact_derivatives() -> None:
    with mpmath.workdps(50):
        x = Dual(mpmath.mpf("0.7"), 1)
        y = MP.exp(np.array([x * x], dtype=object))[0] / (1 + x) - MP.tanh(np.array([x], dtype=object))[0]
        v = mpmath.mpf("0.7")
        want = mpmath.diff(lambda t: mpmath.exp(t * t) / (1 + t) - mpmath.tanh(t), v)
        assert abs(y.b - want) < mpmath.mpf(10) ** -40


def test_exact_reference_keeps_tiny_gradient_entries() -> None:
    # A saturated sigmoid: the w gradient is ~1e-260, far below the output's size.
    arrays = {"x": np.array([[1.0, -2.0]]), "w": np.array([[-300.0, 0.5]]), "b": np.array([0.0])}
    cot = np.array([[1.0]])
    ref = reference(LAYER, arrays, {"g": "sigmoid"}, cot)
    with mpmath.workdps(80):
        y = mpmath.mpf(-300) - 1
        slope = mpmath.exp(y) / (1 + mpmath.exp(y)) ** 2
    assert ref.vjp["w"][0, 0] == pytest.approx(float(slope), rel=1e-14)
    assert ref.vjp["w"][0, 0] != 0.0


def test_exact_reference_matches_closed_form_layer_gradient() -> None:
    rng = np.random.default_rng(3)
    arrays = {"x": rng.standard_normal((3, 4)), "w": rng.standard_normal((2, 4)), "b": rng.standard_normal(2)}
    cot = rng.standard_normal((3, 2))
    ref = reference(LAYER, arrays, {"g": "tanh"}, cot)
    y = arrays["x"] @ arrays["w"].T + arrays["b"]
    dy = cot * (1 - np.tanh(y) ** 2)
    np.testing.assert_allclose(ref.vjp["w"], dy.T @ arrays["x"], rtol=1e-12)
    np.testing.assert_allclose(ref.vjp["x"], dy @ arrays["w"], rtol=1e-12)
    np.testing.assert_allclose(ref.vjp["b"], dy.sum(axis=0), rtol=1e-12)
    assert to_float(to_mp(arrays["x"])).tolist() == arrays["x"].tolist()


def _run(backend: object, seed: int = 0) -> list[dict[str, object]]:
    options = RunOptions(seed=seed, profile="quick", devices=("cpu",))
    return Runner([backend], options).run_op(LAYER, examples_for(LAYER, options))  # type: ignore[list-item]


@pytest.mark.parametrize("seed", range(3))
def test_correct_layers_pass(seed: int) -> None:
    for backend in (NumpyBackend(), TorchBackend()):
        bad = [r["message"] for r in _run(backend, seed) if r["verdict"] in ("fail", "error")]
        assert not bad


def _mutant(vjp: object) -> NumpyBackend:
    forward = LAYER_OPS["dense_layer"][0]
    return NumpyBackend("mutant", {"dense_layer": Pair(forward, vjp)})  # type: ignore[arg-type]


def _x_from_preactivation(x, w, b, c, g):  # type: ignore[no-untyped-def]
    y = x @ w.T + b
    dy = c * y * (1 - y)  # g' in the pre-activation y, not in the output a
    return dy @ w, dy.T @ x, dy.sum(axis=0)


def _transposed_w(x, w, b, c, g):  # type: ignore[no-untyped-def]
    _, slope = activation(g, x @ w.T + b)
    dy = c * slope
    return dy @ w, (x.T @ dy).T[::-1], dy.sum(axis=0)


def _no_batch_sum(x, w, b, c, g):  # type: ignore[no-untyped-def]
    _, slope = activation(g, x @ w.T + b)
    dy = c * slope
    return dy @ w, dy.T @ x, dy[0]


@pytest.mark.parametrize("vjp", [_x_from_preactivation, _transposed_w, _no_batch_sum])
def test_planted_layer_bugs_are_caught(vjp: object) -> None:
    records = _run(_mutant(vjp))
    caught = {r["check"] for r in records if r["verdict"] in ("fail", "error")}
    assert "vjp" in caught


def test_stated_gradient_that_is_wrong_is_refuted() -> None:
    def stated(m, arrays, params, c):  # type: ignore[no-untyped-def]
        good = LAYER.program.stated(m, arrays, params, c)  # type: ignore[misc]
        return {**good, "b": good["b"] * 2}

    options = RunOptions(seed=0, profile="quick")
    wrong = LAYER.with_engine(stated=stated)
    verdict = stated_verdict(wrong, examples_for(wrong, options), 0)
    assert verdict["status"] == "refuted"
    assert "d/db" in str(verdict["detail"])
    assert stated_verdict(LAYER, examples_for(LAYER, options), 0)["status"] == "checked"


def test_kinks_accept_any_subgradient_and_record_it() -> None:
    arrays = {"x": np.array([[0.0, 1.0], [2.0, 0.0]]), "w": np.array([[1.0, -1.0], [0.5, 2.0], [1.0, 0.0]])}
    arrays["b"] = np.array([1.0, 0.0, -2.0])  # pre-activations 0 at (0, 0) and (1, 0)... and (1, 2)
    c = np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])
    y = arrays["x"] @ arrays["w"].T + arrays["b"]
    assert (y == 0).sum() >= 2
    rule = LAYER.program.subgradient_ok
    assert rule is not None
    for s in (0.0, 0.3, 1.0):
        dy = c * np.where(y > 0, 1.0, np.where(y == 0, s, 0.0))
        grads = {"x": dy @ arrays["w"], "w": dy.T @ arrays["x"], "b": dy.sum(axis=0)}
        assert rule(arrays, {"g": "relu"}, c, grads, 1e-15) == f"relu'(0) = {s:g}"
    dy = c * np.where(y >= 0, np.where(y == 0, 2.0, 1.0), 0.0)  # relu'(0) = 2 is no subgradient
    grads = {"x": dy @ arrays["w"], "w": dy.T @ arrays["x"], "b": dy.sum(axis=0)}
    assert rule(arrays, {"g": "relu"}, c, grads, 1e-15) is None


def test_at_a_kink_a_float32_gradient_that_underflows_to_0_is_in_the_set() -> None:
    """verify --shape dense_layer=256x16: a weight of 3e-30 times a cotangent of 2e-16 is 6e-46, below
    float32's smallest number; torch's 0 there is that value correctly rounded (the core's tolerance has
    the same floor). A wrong slope is still refused."""
    f32 = np.float32
    arrays = {"x": np.array([[0.0, 1.0], [2.0, 0.0]]), "w": np.array([[0.0, -1.0], [2.9566321672899257e-30, 2.0]])}
    arrays = {k: v.astype(f32).astype(np.float64) for k, v in arrays.items()} | {"b": np.array([1.0, 0.0])}
    c = np.array([[1.0, -2.0], [1.0, 2.0e-16]]).astype(f32).astype(np.float64)  # y = [[0, 2], [1, 6e-30]]
    y = arrays["x"] @ arrays["w"].T + arrays["b"]
    assert (y == 0).sum() == 1
    rule = LAYER.program.subgradient_ok
    assert rule is not None
    rtol = 300 * 2.0**-24
    dy = c * np.where(y > 0, 1.0, 0.0)
    grads = {"x": dy @ arrays["w"], "w": dy.T @ arrays["x"], "b": dy.sum(axis=0)}
    assert 0 < abs(grads["x"][1, 0]) < 1e-45
    rounded = {k: v.astype(f32).astype(np.float64) for k, v in grads.items()}
    assert rounded["x"][1, 0] == 0.0
    assert rule(arrays, {"g": "relu"}, c, rounded, rtol) == "relu'(0) = 0"
    dy = c * np.where(y >= 0, np.where(y == 0, 2.0, 1.0), 0.0)
    wrong = {
        k: v.astype(f32).astype(np.float64)
        for k, v in {"x": dy @ arrays["w"], "w": dy.T @ arrays["x"], "b": dy.sum(axis=0)}.items()
    }
    assert rule(arrays, {"g": "relu"}, c, wrong, rtol) is None


@pytest.mark.parametrize("seed", range(6))
def test_kinks_that_the_gradients_cannot_tell_apart_accept_every_subgradient(seed: int) -> None:
    # verify --seed 8's saturated example: a weight row of 0 and a bias of 0 put the whole second column at
    # the kink, and x's first entry is 0, so three slopes meet two gradient entries. The minimum-norm
    # solution, clipped, rejected torch's and NumPy's gradients there.
    x = np.array([[0.0], [2.9020156860351562], [2.5776703357696533]])
    arrays = {"x": x, "w": np.array([[1.5], [0.0]]), "b": np.array([-1.4971942901611328, 0.0])}
    y = x @ arrays["w"].T + arrays["b"]
    assert (y == 0).sum() == 3
    c = np.random.default_rng(seed).standard_normal(y.shape)
    rule = LAYER.program.subgradient_ok
    assert rule is not None

    def grads(c: np.ndarray, s: float) -> dict[str, np.ndarray]:
        dy = c * np.where(y > 0, 1.0, np.where(y == 0, s, ALPHA))
        return {"x": dy @ arrays["w"], "w": dy.T @ x, "b": dy.sum(axis=0)}

    for s in (ALPHA, 1.0):
        assert rule(arrays, {"g": "leaky_relu"}, c, grads(c, s), 1e-6) == f"leaky_relu'(0) = {s:g}"
    assert rule(arrays, {"g": "leaky_relu"}, c, grads(c, 0.5), 1e-6) is not None
    # With c > 0 and x >= 0 no slope in [alpha, 1] gives these: each sum needs slopes outside the set.
    for s in (0.0, 1.3):
        assert rule(arrays, {"g": "leaky_relu"}, np.abs(c), grads(np.abs(c), s), 1e-6) is None


def test_a_proof_past_its_time_budget_falls_back_to_the_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    from dataclasses import replace

    from harness import program_verdict

    def slow_proof() -> tuple[str, list[str]]:
        time.sleep(5)
        return "never", []

    monkeypatch.setattr(program_verdict, "PROOF_SECONDS", 0.5)
    op = replace(LAYER, proof=slow_proof)
    start = time.perf_counter()
    verdict = stated_verdict(op, examples_for(op, RunOptions(seed=0, profile="quick"))[:2], 0)
    assert time.perf_counter() - start < 4
    assert verdict["status"] == "checked"
    assert "no proof" in str(verdict["detail"])
