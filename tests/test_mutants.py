"""Deliberately wrong implementations must be reported as failures of the right derivation."""

from __future__ import annotations

import pytest

from harness.backends.torch_backend import TorchBackend
from harness.impl.backend import ImplBackend
from harness.impl.session import load
from harness.selftest.mutants import BY_NAME
from tests.helpers import run_checks


def _mutant(variant: str) -> ImplBackend:
    """A variant of the self-test's mutant library, through the same adapter as --impl."""
    return load(f"harness.selftest.mutants:{variant}", isolate=False)


MUTANTS = [
    pytest.param("sigmoid-one-plus", {"vjp", "projection", "jacobian"}, id="sigmoid-one-plus"),
    pytest.param("softmax-diagonal-only", {"vjp", "projection", "jacobian"}, id="softmax-diagonal-only"),
    pytest.param("tanh-consistent-wrong-forward", {"forward", "vjp"}, id="tanh-consistent-but-wrong"),
    pytest.param("mse-no-mean", {"vjp", "projection", "jacobian"}, id="mse-missing-normaliser"),
    pytest.param("ce-sign", {"vjp", "projection", "jacobian"}, id="ce-sign"),
    pytest.param("leaky-fixed-slope", {"vjp", "projection", "jacobian"}, id="leaky-fixed-slope"),
    pytest.param("relu-subgradient-two", {"vjp"}, id="relu-bad-subgradient"),
    pytest.param("sigmoid-ignores-cotangent", {"vjp", "projection", "jacobian"}, id="sigmoid-ignores-cotangent"),
    pytest.param("bce-float16", {"vjp"}, id="bce-float16-intermediate"),
]


@pytest.mark.parametrize(("variant", "caught_by"), MUTANTS)
def test_mutant_is_reported_as_failure_of_its_derivation(variant: str, caught_by: set[str]) -> None:
    name = BY_NAME[variant].op
    records = run_checks(name, _mutant(variant), dtypes=("float64",))
    failed = {r["check"] for r in records if r["verdict"] == "fail"}
    assert caught_by <= failed, f"expected {caught_by} to fail, got {failed}"
    for r in records:
        if r["verdict"] == "fail":
            assert r["derivation"] == name
            assert name in r["message"] and "expected" in r["message"]
            assert r["failure"]["input"]["arrays"]
            assert r["reproduce"].startswith(f"gradproof verify --only {name} ")


def test_consistent_wrong_forward_passes_only_the_self_consistency_checks() -> None:
    records = run_checks("tanh", _mutant("tanh-consistent-wrong-forward"), dtypes=("float64",))
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
