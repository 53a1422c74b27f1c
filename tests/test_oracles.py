"""Every catalog derivation against every CPU backend and dtype: exact values, VJPs and FD."""

from __future__ import annotations

import pytest

from derivations import CATALOG, TENSOR_OPS
from harness import program_exact
from harness.backends.numpy_ref import NumpyBackend
from harness.backends.torch_backend import TorchBackend
from harness.runner import Runner, RunOptions, examples_for
from tests.helpers import failures, run_checks

BACKENDS = {"numpy": NumpyBackend, "torch": TorchBackend}
# torch's binary_cross_entropy_with_logits forward loses relative accuracy through
# cancellation; that finding has its own test in test_findings.py, which asserts the harness
# reports it. Its backward and the finite-difference checks of its forward stay here.
FINDINGS = {("binary_cross_entropy", "torch"): ("vjp", "projection", "jacobian")}

CASES = [
    pytest.param(name, backend, dtype, id=f"{name}-{backend}-cpu-{dtype}")
    for name in CATALOG
    for backend in BACKENDS
    for dtype in ("float32", "float64")
]


@pytest.mark.parametrize(("name", "backend", "dtype"), CASES)
def test_backend_agrees_with_exact_and_itself(name: str, backend: str, dtype: str, profile: str) -> None:
    kinds = FINDINGS.get((name, backend), ("forward", "vjp", "projection", "jacobian"))
    records = run_checks(name, BACKENDS[backend](), dtypes=(dtype,), kinds=kinds, profile=profile)
    assert [r["check"] for r in records] == list(kinds)
    assert all(r["examples"] > 0 for r in records)
    assert failures(records) == []


@pytest.mark.parametrize("name", list(CATALOG))
def test_finite_differences_agree_with_exact(name: str, profile: str) -> None:
    records = run_checks(name, NumpyBackend(), dtypes=("float64",), kinds=(), profile=profile, fd_oracle=True)
    assert [r["backend"] for r in records] == ["fd"]
    assert failures(records) == []


@pytest.mark.cuda
@pytest.mark.parametrize("name", list(CATALOG))
def test_torch_cuda_agrees_with_exact(name: str, profile: str) -> None:
    records = run_checks(name, TorchBackend(), devices=("cuda",), profile=profile)
    assert records and all(r["verdict"] != "skip" or "finite differences" in r["message"] for r in records)
    assert failures(records) == []


def test_cuda_targets_skip_with_a_reason_when_absent() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    records = run_checks("sigmoid", TorchBackend(), devices=("cuda",))
    assert records and {r["verdict"] for r in records} == {"skip"}
    assert {r["message"] for r in records} == {"no CUDA device"}
    assert {r["dtype"] for r in records} == {"float32", "float64", "float16", "bfloat16"}


@pytest.mark.parametrize("name", list(TENSOR_OPS))
def test_finite_differences_agree_with_exact_for_tensor_ops(name: str) -> None:
    """The oracle is itself checked for every op: differences of the NumPy reference against the exact VJP."""
    op = TENSOR_OPS[name]
    # The default profile: at the quick one every example of norm1_dim can sit at a kink, where differences say nothing.
    options = RunOptions(seed=0, profile="default", dtypes=("float64",), devices=("cpu",), kinds=(), fd_oracle=True)
    records = Runner([], options).run_op(op, examples_for(op, options))
    assert [(r["backend"], r["check"]) for r in records] == [("fd", "vjp")]
    assert failures(records) == [] and records[0]["verdict"] == "pass"


def test_the_tensor_oracle_catches_an_exact_vjp_off_by_a_thousandth(monkeypatch: pytest.MonkeyPatch) -> None:
    real = program_exact.reference

    def off(*args: object, **kwargs: object) -> object:
        ref = real(*args, **kwargs)  # type: ignore[arg-type]
        return program_exact.ProgramReference(
            ref.forward, ref.at_kink, lambda: ({k: v * (1 + 1e-3) for k, v in ref.vjp.items()}, ref.vjp_digits), ref.jvp
        )

    monkeypatch.setattr(program_exact, "reference", off)
    op = TENSOR_OPS["conv2d"]
    options = RunOptions(seed=0, profile="quick", dtypes=("float64",), devices=("cpu",), kinds=(), fd_oracle=True)
    (record,) = Runner([], options).run_op(op, examples_for(op, options))
    assert record["verdict"] == "fail"
