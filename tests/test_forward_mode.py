"""Forward mode: the jvp check against the exact J u, and the transpose check <v, J u> = <J^T v, u>."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradproof
from derivations import OPS
from derivations.model import Example
from harness import cases
from harness.backends import NumpyBackend
from harness.backends.numpy_ref import OPS as REFERENCE
from harness.backends.numpy_ref import Pair
from harness.backends.torch_backend import TorchBackend
from harness.runner import Runner, RunOptions, examples_for

FORWARD = ("jvp", "transpose")


def _run(name: str, *backends: object, seed: int = 0) -> list[dict[str, object]]:
    options = RunOptions(seed=seed, profile="quick", devices=("cpu",), kinds=FORWARD, fd_oracle=False)
    op = OPS[name]
    return Runner(list(backends), options).run_op(op, examples_for(op, options))  # type: ignore[arg-type]


def _verdicts(records: list[dict[str, object]]) -> dict[tuple[str, str], str]:
    return {(str(r["dtype"]), str(r["check"])): str(r["verdict"]) for r in records}


def _with_jvp(name: str, jvp: object) -> NumpyBackend:
    base = REFERENCE[name]
    return NumpyBackend("mutant", {name: Pair(base.forward, base.vjp, jvp)})  # type: ignore[arg-type]


def test_the_exact_jvp_of_a_closed_form_is_its_derivative_times_the_tangent() -> None:
    op = OPS["binary_cross_entropy"]
    ex = Example({"z": np.array([0.3, -2.0, 0.0]), "y": np.array([0.2, 0.9, 0.5])}, {}, "typical")
    case = cases.build(op, ex, "float64", 0)
    z, y, u = ex.arrays["z"], ex.arrays["y"], case.tangent
    expected = (1 / (1 + np.exp(-z)) - y) * u["z"] - z * u["y"]  # d/dz = sigma - y, d/dy = -z
    np.testing.assert_allclose(case.jvp_reference.value, expected, rtol=1e-14)


def test_the_exact_jvp_of_a_program_is_its_forward_pushed_along_the_tangent() -> None:
    op = OPS["dense_layer"]
    ex = examples_for(op, RunOptions(seed=1, profile="quick"))[0]
    case = cases.build(op, ex, "float64", 0)
    x, w, b, u = ex.arrays["x"], ex.arrays["w"], ex.arrays["b"], case.tangent
    pre = x @ w.T + b
    slope = {"sigmoid": lambda a: a * (1 - a), "tanh": lambda a: 1 - a * a}[ex.params["g"]]
    act = 1 / (1 + np.exp(-pre)) if ex.params["g"] == "sigmoid" else np.tanh(pre)
    expected = slope(act) * (u["x"] @ w.T + x @ u["w"].T + u["b"])
    np.testing.assert_allclose(case.jvp_reference.value, expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("seed", range(3))
def test_correct_jvps_pass(seed: int) -> None:
    """The NumPy reference's hand-written jvps and torch's forward-mode AD, silent over seeds."""
    for name in ("sigmoid", "relu", "leaky_relu", "softmax", "mse", "softmax_cross_entropy", "binary_cross_entropy"):
        records = _run(name, NumpyBackend(), TorchBackend(), seed=seed)
        assert {r["verdict"] for r in records} == {"pass"}, [r["message"] for r in records if r["verdict"] != "pass"]
        assert {r["check"] for r in records} == set(FORWARD)


@pytest.mark.parametrize(
    ("name", "jvp"),
    [
        ("sigmoid", lambda z, z_dot: -REFERENCE["sigmoid"].jvp(z, z_dot)),  # type: ignore[misc]
        ("sigmoid", lambda z, z_dot: REFERENCE["sigmoid"].jvp(z, np.ones_like(z_dot))),  # type: ignore[misc]
        ("softmax", lambda z, z_dot: REFERENCE["softmax"].vjp(z, z_dot) + 1e-3 * z_dot),
        ("mse", lambda yhat, y, yhat_dot, y_dot: REFERENCE["mse"].jvp(yhat, y, yhat_dot, 0 * y_dot)),  # type: ignore[misc]
    ],
    ids=["sign", "ignores-tangent", "off-by-a-little", "drops-target-tangent"],
)
def test_a_wrong_jvp_fails_both_checks(name: str, jvp: object) -> None:
    verdicts = _verdicts(_run(name, _with_jvp(name, jvp)))
    assert verdicts == {(d, k): "fail" for d in ("float32", "float64") for k in FORWARD}


def test_a_nan_in_the_jvp_is_a_failure_naming_it() -> None:
    def jvp(z: np.ndarray, z_dot: np.ndarray) -> np.ndarray:
        out = np.array(REFERENCE["tanh"].jvp(z, z_dot))  # type: ignore[misc]
        out.flat[0] = np.nan
        return out

    records = [r for r in _run("tanh", _with_jvp("tanh", jvp)) if r["check"] == "jvp"]
    assert {r["verdict"] for r in records} == {"fail"}
    assert all("NaN" in str(r["message"]) for r in records)


def test_an_op_without_a_jvp_gets_no_forward_mode_checks() -> None:
    base = REFERENCE["sigmoid"]
    plain = NumpyBackend("plain", {"sigmoid": Pair(base.forward, base.vjp)})
    assert _run("sigmoid", plain) == []


class _Sigmoid(torch.autograd.Function):
    """sigmoid as a custom Function with a backward and no jvp."""

    @staticmethod
    def forward(ctx, z):  # type: ignore[no-untyped-def, override]
        ctx.save_for_backward(z)
        return torch.sigmoid(z)

    @staticmethod
    def backward(ctx, g):  # type: ignore[no-untyped-def, override]
        (z,) = ctx.saved_tensors
        s = torch.sigmoid(z)
        return g * s * (1 - s)


class _SigmoidWrongJvp(_Sigmoid):
    @staticmethod
    def jvp(ctx, z_dot):  # type: ignore[no-untyped-def, override]
        return -z_dot  # wrong on purpose

    @staticmethod
    def forward(ctx, z):  # type: ignore[no-untyped-def, override]
        ctx.save_for_backward(z)
        ctx.save_for_forward(z)
        return torch.sigmoid(z)


def test_a_custom_function_is_checked_in_forward_mode_only_with_its_own_jvp() -> None:
    records = gradproof.check(_Sigmoid.apply, "sigmoid", max_examples=2, seed=0, checks=("forward", *FORWARD))
    assert {r["check"] for r in records} == {"forward"}
    with pytest.raises(gradproof.CheckFailure, match="jvp"):
        gradproof.check(_SigmoidWrongJvp.apply, "sigmoid", max_examples=2, seed=0, checks=FORWARD)


def test_at_a_programs_tie_neither_check_applies() -> None:
    """A max with two maxima has one-sided derivatives that differ by direction: no one J u."""
    op = OPS["max_dim"]
    ex = Example({"x": np.array([[1.0, 3.0, 3.0]])}, {"dim": -1, "keepdim": False}, "ties")
    case = cases.build(op, ex, "float64", 0)
    assert case.jvp_reference.value is None
    records = Runner([TorchBackend()], RunOptions(devices=("cpu",), kinds=FORWARD, fd_oracle=False)).run_op(op, [ex])
    assert {r["verdict"] for r in records} == {"skip"}
    assert all("J u depends on the direction" in str(r["message"]) for r in records)
