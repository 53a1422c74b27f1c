"""Second order: the double backward (vjp-of-vjp) and the Hessian-vector product (hvp) against the exact
H(w) v, for the closed-form ops."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import gradproof
from derivations import OPS
from derivations.model import ClosedForm, Example
from harness import cases
from harness.backends.torch_backend import TorchBackend
from harness.runner import Runner, RunOptions, examples_for
from harness.selftest import second_mutants

SECOND = ("vjp-of-vjp", "hvp")
CLOSED_FORMS = tuple(name for name, op in OPS.items() if isinstance(op.engine, ClosedForm))


def _run(name: str, backend: Any, seed: int = 0, kinds: tuple[str, ...] = SECOND) -> list[dict[str, object]]:
    options = RunOptions(seed=seed, profile="quick", devices=("cpu",), kinds=kinds, fd_oracle=False)
    op = OPS[name]
    return Runner([backend], options).run_op(op, examples_for(op, options))


def _verdicts(records: list[dict[str, object]]) -> dict[tuple[str, str], str]:
    return {(str(r["dtype"]), str(r["check"])): str(r["verdict"]) for r in records}


def test_the_exact_second_derivative_of_sigmoid_is_s_1_minus_s_1_minus_2s() -> None:
    z = np.array([0.3, -2.0, 0.0, 7.5])
    case = cases.build(OPS["sigmoid"], Example({"z": z}, {}, "typical"), "float64", 0)
    s = 1 / (1 + np.exp(-z))
    expected = case.cotangent * s * (1 - s) * (1 - 2 * s) * case.tangent["z"]
    np.testing.assert_allclose(case.second_reference.value["z"], expected, rtol=1e-13)


def test_the_exact_hessian_of_cross_entropy_is_diag_p_minus_p_p_transposed() -> None:
    z, y = np.array([[0.5, -1.0, 2.0]]), np.array([[0.2, 0.3, 0.5]])
    case = cases.build(OPS["softmax_cross_entropy"], Example({"z": z, "y": y}, {}, "typical"), "float64", 0)
    p = np.exp(z) / np.exp(z).sum()
    u, w = case.tangent, case.cotangent[..., None]
    hessian = np.diag(p[0]) - np.outer(p[0], p[0])
    # L = -sum y z + (sum y) lse(z), y not held to the simplex when differentiated (as autograd does):
    # d2L/dz2 = (sum y)(diag p - p p^T) and d2L/dz_k dy_j = p_k - [j = k]; here sum y = 1.
    mixed = p[0][:, None] - np.eye(3)  # [k, j]
    z_part = u["z"] @ hessian + u["y"] @ mixed.T
    y_part = u["z"] @ mixed
    np.testing.assert_allclose(case.second_reference.value["z"], w * z_part, rtol=1e-13)
    np.testing.assert_allclose(case.second_reference.value["y"], w * y_part, rtol=1e-13)


@pytest.mark.parametrize("seed", range(2))
def test_torch_passes_both_checks_on_every_closed_form(seed: int) -> None:
    for name in CLOSED_FORMS:
        records = _run(name, TorchBackend(), seed=seed)
        assert {r["check"] for r in records} == set(SECOND), name
        assert {r["verdict"] for r in records} == {"pass"}, [r["message"] for r in records if r["verdict"] != "pass"]


@pytest.mark.parametrize(
    ("name", "fn", "part"),
    [
        ("sigmoid", second_mutants.sigmoid_detached_backward, "z"),
        ("softmax", second_mutants.softmax_missing_symmetric_term, "z"),
    ],
    ids=["detached-first-gradient", "missing-symmetric-term"],
)
def test_a_wrong_double_backward_fails(name: str, fn: Any, part: str) -> None:
    records = _run(name, TorchBackend("mutant", {name: fn}), kinds=("vjp", "vjp-of-vjp"))
    verdicts = _verdicts(records)
    assert verdicts[("float64", "vjp")] == "pass"  # its first derivatives are right
    assert verdicts[("float64", "vjp-of-vjp")] == "fail"
    failed = next(r for r in records if r["check"] == "vjp-of-vjp" and r["dtype"] == "float64")
    assert failed["input_name"] in (part, "cotangent")


def test_a_hand_written_double_backward_passes() -> None:
    fn = second_mutants.softmax_double_backward_by_hand
    records = _run("softmax", TorchBackend("by-hand", {"softmax": fn}), kinds=("vjp-of-vjp",))
    assert {r["verdict"] for r in records} == {"pass"}


def _nan_at(where: float) -> Any:
    """sigmoid whose double backward is NaN at entries equal to `where`, right elsewhere."""

    class Sigmoid(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, z: torch.Tensor) -> torch.Tensor:
            y = torch.sigmoid(z)
            ctx.save_for_backward(z, y)
            return y

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
            z, y = ctx.saved_tensors
            at = z == where
            # 0 in value, NaN in derivative (|d|^(1/2) at d = 0), only at the chosen entries.
            moved = torch.where(at, z - z.detach(), torch.ones_like(z))
            return g * y * (1 - y) + g * torch.where(at, moved.abs().sqrt(), torch.zeros_like(z))

    return Sigmoid.apply


def test_nan_in_a_double_backward_fails_with_nan_in_the_message() -> None:
    z = np.array([0.5, -1.0, 2.0])
    op = OPS["sigmoid"]
    options = RunOptions(devices=("cpu",), kinds=("vjp-of-vjp",), fd_oracle=False, dtypes=("float64",))
    records = Runner([TorchBackend("nan", {"sigmoid": _nan_at(-1.0)})], options).run_op(
        op, [Example({"z": z}, {}, "typical")]
    )
    assert records[0]["verdict"] == "fail"
    assert "NaN" in str(records[0]["message"])


def test_at_relu_s_kink_the_second_derivative_must_be_0_from_both_sides() -> None:
    """ReLU is piecewise linear: its one-sided second derivatives at 0 are both 0, so a double backward may
    return 0 there and nothing else."""

    class Curved(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, z: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(z)
            return torch.relu(z)

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
            (z,) = ctx.saved_tensors
            at_kink = (z == 0).to(z.dtype)
            # The right first derivative, plus a term whose derivative is 1 at the kink only.
            return g * (z > 0).to(z.dtype) + g * at_kink * (z - z.detach())

    z = np.array([0.0, 1.5, -2.0, 0.0])
    op = OPS["relu"]
    options = RunOptions(devices=("cpu",), kinds=("vjp", "vjp-of-vjp"), fd_oracle=False, dtypes=("float64",))
    example = [Example({"z": z}, {}, "kink")]
    good = Runner([TorchBackend()], options).run_op(op, example)
    assert {r["verdict"] for r in good} == {"pass"}
    bad = Runner([TorchBackend("curved", {"relu": Curved.apply})], options).run_op(op, example)
    assert _verdicts(bad) == {("float64", "vjp"): "pass", ("float64", "vjp-of-vjp"): "fail"}


def test_a_function_without_forward_mode_is_not_offered_the_hvp() -> None:
    """A custom autograd.Function without a jvp cannot run forward over reverse: the hvp is skipped, saying so,
    and its double backward is still checked."""
    fn = second_mutants.softmax_double_backward_by_hand
    records = _run("softmax", TorchBackend("by-hand", {"softmax": fn}))
    verdicts = _verdicts(records)
    assert verdicts[("float64", "vjp-of-vjp")] == "pass"
    assert verdicts[("float64", "hvp")] == "skip"
    assert "not offered" in next(str(r["message"]) for r in records if r["check"] == "hvp")


def test_a_once_differentiable_backward_is_not_offered_second_order() -> None:
    from torch.autograd.function import once_differentiable

    class Sigmoid(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, z: torch.Tensor) -> torch.Tensor:
            y = torch.sigmoid(z)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
            (y,) = ctx.saved_tensors
            return g * y * (1 - y)

    records = _run("sigmoid", TorchBackend("once", {"sigmoid": Sigmoid.apply}), kinds=("vjp-of-vjp",))
    assert {r["verdict"] for r in records} == {"skip"}
    assert all("cannot be differentiated" in str(r["message"]) for r in records)


def test_check_order_2_adds_the_second_order_checks() -> None:
    records = gradproof.check(torch.sigmoid, "sigmoid", order=2, max_examples=2, dtypes=("float64",))
    assert {"vjp-of-vjp", "hvp"} <= {r["check"] for r in records}
    assert {r["verdict"] for r in records} == {"pass"}
    reverse_only = gradproof.check(torch.sigmoid, "sigmoid", order=2, modes=("rev",), max_examples=2)
    assert "vjp-of-vjp" in {r["check"] for r in reverse_only} and "hvp" not in {r["check"] for r in reverse_only}
    first = gradproof.check(torch.sigmoid, "sigmoid", max_examples=2)
    assert not {"vjp-of-vjp", "hvp"} & {r["check"] for r in first}
    with pytest.raises(ValueError, match="order is 1 or 2"):
        gradproof.check(torch.sigmoid, "sigmoid", order=3)


def test_jax_second_order_passes() -> None:
    pytest.importorskip("jax")
    import jax

    records = gradproof.check(
        lambda z: jax.nn.softmax(z, axis=-1), "softmax", kind="jax", order=2, max_examples=2, checks=SECOND
    )
    assert {(r["check"], r["verdict"]) for r in records} == {("vjp-of-vjp", "pass"), ("hvp", "pass")}


def test_the_engine_curvature_behind_the_convexity_claims_can_come_out_negative() -> None:
    """B1 and B6 read v^T H v off the second-order engine; on an op that curves down (sigmoid for z > 0) the
    same measure is below 0, so their rows can fail."""
    from harness.claim_checks.curvature import smallest_curvature

    rng = np.random.default_rng(0)
    up = [{"z": rng.uniform(-3, 3, (4,)), "y": rng.uniform(0, 1, (4,))} for _ in range(3)]
    assert smallest_curvature("binary_cross_entropy", "z", up, rng) > 0
    down = [{"z": rng.uniform(0.5, 3, (4,))} for _ in range(3)]
    assert smallest_curvature("sigmoid", "z", down, rng) < 0
