"""Deliberately wrong implementations must be reported as failures of the right derivation."""

from __future__ import annotations

import numpy as np
import pytest

from harness.backends import numpy_ref
from harness.backends.numpy_ref import NumpyBackend, Op
from harness.backends.torch_backend import TorchBackend
from tests.helpers import run_checks


def _mutant(name: str, **replace: object) -> NumpyBackend:
    ops = dict(numpy_ref.OPS)
    base = ops[name]
    ops[name] = Op(replace.get("forward", base.forward), replace.get("vjp", base.vjp))  # type: ignore[arg-type]
    return NumpyBackend("mutant", ops)


def _sigmoid_vjp_plus(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    a = numpy_ref.sigmoid(z)
    return c * a * (1 + a)  # sigma(1+sigma) instead of sigma(1-sigma)


def _softmax_vjp_diagonal(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    p = numpy_ref.softmax(z)
    return c * p * (1 - p)  # keeps only the i == j terms


def _tanh_forward_scaled(z: np.ndarray) -> np.ndarray:
    return 1.001 * np.tanh(z)


def _tanh_vjp_scaled(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    return 1.001 * c * (1 - np.tanh(z) ** 2)  # consistent with the wrong forward


def _mse_vjp_no_mean(yhat: np.ndarray, y: np.ndarray, c: np.ndarray) -> np.ndarray:
    return c[..., None] * 2 * (yhat - y)  # forgot the 1/N


def _ce_vjp_sign(z: np.ndarray, y: np.ndarray, c: np.ndarray) -> np.ndarray:
    return c[..., None] * (y - numpy_ref.softmax(z))


def _leaky_vjp_fixed_slope(z: np.ndarray, c: np.ndarray, alpha: float) -> np.ndarray:
    return c * np.where(z > 0, 1.0, 0.01)  # ignores the slope parameter


def _relu_vjp_at_zero_two(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    return c * np.where(z > 0, 1.0, np.where(z == 0, 2.0, 0.0))  # 2 is no subgradient at 0


def _sigmoid_vjp_ignores_cotangent(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    a = numpy_ref.sigmoid(z)
    return a * (1 - a) + 0 * c


def _bce_vjp_float16(z: np.ndarray, y: np.ndarray, c: np.ndarray) -> np.ndarray:
    # precision loss: the intermediate is rounded to float16
    return c * (numpy_ref.sigmoid(z).astype(np.float16).astype(z.dtype) - y)


MUTANTS = [
    pytest.param("sigmoid", {"vjp": _sigmoid_vjp_plus}, {"vjp", "projection", "jacobian"}, id="sigmoid-one-plus"),
    pytest.param(
        "softmax", {"vjp": _softmax_vjp_diagonal}, {"vjp", "projection", "jacobian"}, id="softmax-diagonal-only"
    ),
    pytest.param(
        "tanh",
        {"forward": _tanh_forward_scaled, "vjp": _tanh_vjp_scaled},
        {"forward", "vjp"},
        id="tanh-consistent-but-wrong",
    ),
    pytest.param("mse", {"vjp": _mse_vjp_no_mean}, {"vjp", "projection", "jacobian"}, id="mse-missing-normaliser"),
    pytest.param("softmax_cross_entropy", {"vjp": _ce_vjp_sign}, {"vjp", "projection", "jacobian"}, id="ce-sign"),
    pytest.param(
        "leaky_relu", {"vjp": _leaky_vjp_fixed_slope}, {"vjp", "projection", "jacobian"}, id="leaky-fixed-slope"
    ),
    pytest.param("relu", {"vjp": _relu_vjp_at_zero_two}, {"vjp"}, id="relu-bad-subgradient"),
    pytest.param(
        "sigmoid",
        {"vjp": _sigmoid_vjp_ignores_cotangent},
        {"vjp", "projection", "jacobian"},
        id="sigmoid-ignores-cotangent",
    ),
    pytest.param("binary_cross_entropy", {"vjp": _bce_vjp_float16}, {"vjp"}, id="bce-float16-intermediate"),
]


@pytest.mark.parametrize(("name", "replace", "caught_by"), MUTANTS)
def test_mutant_is_reported_as_failure_of_its_derivation(
    name: str, replace: dict[str, object], caught_by: set[str]
) -> None:
    records = run_checks(name, _mutant(name, **replace), dtypes=("float64",))
    failed = {r["check"] for r in records if r["verdict"] == "fail"}
    assert caught_by <= failed, f"expected {caught_by} to fail, got {failed}"
    for r in records:
        if r["verdict"] == "fail":
            assert r["derivation"] == name
            assert name in r["message"] and "expected" in r["message"]
            assert r["failure"]["input"]["arrays"]
            assert r["reproduce"].startswith(f"gradproof verify --only {name} ")


def test_consistent_wrong_forward_passes_only_the_self_consistency_checks() -> None:
    records = run_checks(
        "tanh", _mutant("tanh", forward=_tanh_forward_scaled, vjp=_tanh_vjp_scaled), dtypes=("float64",)
    )
    verdicts = {r["check"]: r["verdict"] for r in records}
    # FD of its own forward agrees with its backward; only the exact reference can tell.
    assert verdicts == {"forward": "fail", "vjp": "fail", "projection": "pass", "jacobian": "pass"}


class _WrongSigmoid:
    """A custom autograd.Function whose backward uses sigma(1+sigma)."""

    @staticmethod
    def build() -> object:
        import torch

        class WrongSigmoid(torch.autograd.Function):
            @staticmethod
            def forward(ctx: object, z: torch.Tensor) -> torch.Tensor:
                a = torch.sigmoid(z)
                ctx.save_for_backward(a)  # type: ignore[attr-defined]
                return a

            @staticmethod
            def backward(ctx: object, g: torch.Tensor) -> torch.Tensor:
                (a,) = ctx.saved_tensors  # type: ignore[attr-defined]
                return g * a * (1 + a)

        return WrongSigmoid.apply


def test_wrong_custom_torch_function_is_caught() -> None:
    backend = TorchBackend("custom", {"sigmoid": _WrongSigmoid.build()})  # type: ignore[dict-item]
    records = run_checks("sigmoid", backend, dtypes=("float32",))
    failed = {r["check"] for r in records if r["verdict"] == "fail"}
    assert failed == {"vjp", "projection", "jacobian"}
