"""The notes' update rules as ops (C4-C6): the NumPy reference and torch over seeds 0-9, torch's findings
from minimal inputs, the kink rules, and each optimiser's classic slip caught while correct variants pass."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from derivations import OPS
from derivations import update_rules as ur
from harness import checks
from harness.backends import NumpyBackend, TorchBackend
from harness.backends import numpy_update_rules as ref
from harness.backends.torch_update_rules import torch_update_rule_ops
from harness.impl import conformance
from harness.impl.backend import ImplBackend
from harness.impl.conventions import CONVENTIONS
from harness.impl.isolation import InProcess
from harness.pipeline import Pipeline, draw
from harness.runner import RunOptions
from harness.selftest.mutants import Variant
from harness.selftest.update_mutants import variants
from tests.tensor_helpers import run_op

NAMES = ("momentum_step", "adagrad_step", "clip_by_value", "clip_by_norm")
SEEDS = range(2)  # range(10) under --thorough
# torch's failures, each explained (and reproduced below): (op, dtype, check) -> the region that shows it.
FINDINGS = {
    # addcdiv's backward divides by the square of its denominator, which underflows in float32: ±inf.
    **{("adagrad_step", "float32", k): "tiny" for k in ("vjp", "transpose")},
    # clip_grad_norm_'s norm squares without scaling: it overflows in float32 and the gradient becomes 0;
    # the norm of that one inf norm backpropagates inf / inf = NaN.
    **{("clip_by_norm", "float32", k): "huge" for k in ("forward", "jvp", "vjp", "projection", "transpose")},
}


def _region(record: dict[str, object]) -> object:
    failure = record.get("failure")
    return failure.get("input", {}).get("region") if isinstance(failure, dict) else None


@pytest.mark.parametrize("seeds", [SEEDS, pytest.param(range(10), marks=pytest.mark.thorough)], ids=["2", "10"])
@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_and_torch_fails_only_where_explained(name: str, seeds: range) -> None:
    unexplained: list[str] = []
    passed: set[tuple[object, object]] = set()
    for seed in seeds:
        for r in run_op(name, NumpyBackend(), TorchBackend(), seed=seed):
            if r["verdict"] == "pass":
                passed.add((r["backend"], r["check"]))
            elif r["verdict"] != "skip":
                key = (r["derivation"], r["dtype"], r["check"])
                if r["backend"] != "torch" or FINDINGS.get(key) != _region(r):  # type: ignore[call-overload]
                    unexplained.append(f"seed {seed}: {r['id']} {r['verdict']} {r['message']}")
    assert unexplained == []
    assert {("numpy", k) for k in ("forward", "vjp", "projection")} <= passed
    assert {("torch", k) for k in ("forward", "vjp", "projection", "jvp", "transpose")} <= passed


def test_two_results_are_stacked_on_a_new_leading_axis() -> None:
    w, state, g = np.array([1.0, -2.0]), np.array([0.5, 0.0]), np.array([0.25, -4.0])
    momentum = ref.momentum_step(w, state, g, eta=0.5, rho=0.9)
    np.testing.assert_allclose(momentum, [[1 - 0.125 - 0.45, -2 + 2], [0.125 + 0.45, -2]])
    adagrad = ref.adagrad_step(w, state, g, eta=0.5, eps=0.0)
    np.testing.assert_allclose(adagrad, [[1 - 0.5 * 0.25 / 0.75, -2 + 0.5], [0.75, 4.0]])  # a first step: −η sign(g)
    assert ur.momentum_forward(None, {"w": w, "delta": state, "g": g}, {"eta": 0.5, "rho": 0.9}).shape == (2, 2)  # type: ignore[arg-type]


# --- torch's findings, from minimal inputs -----------------------------------------------------------


def test_torch_addcdiv_backward_overflows_where_the_quotient_rule_does_not() -> None:
    import torch

    d = torch.tensor([3e-30], requires_grad=True)  # float32: d * d underflows to 0
    torch.addcdiv(torch.ones(1), torch.tensor([3e-30]), d, value=-0.5).backward(torch.ones(1))
    assert d.grad is not None and torch.isinf(d.grad).all()  # the exact value, 0.5 / 3e-30 = 1.7e29, is finite
    d.grad = None
    (1 - 0.5 * (torch.tensor([3e-30]) / d)).backward(torch.ones(1))  # div's backward divides twice
    assert d.grad is not None and abs(float(d.grad) / (0.5 / 3e-30) - 1) < 1e-6


def test_torch_clip_grad_norm_zeroes_a_float32_gradient_whose_norm_overflows() -> None:
    import torch

    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.tensor([3e30, 4e30])
    assert float(torch.nn.utils.clip_grad_norm_([p], 1.0)) == float("inf")
    assert p.grad.tolist() == [0.0, 0.0]  # the note's rule gives (0.6, 0.8)
    np.testing.assert_allclose(ref.clip_by_norm(np.array([3e30, 4e30], dtype=np.float32), 1.0, 0.0), [0.6, 0.8])


def test_the_torch_clip_by_norm_has_the_identity_gradient_at_a_zero_gradient_without_eps() -> None:
    """torch's clamp(c / (||g|| + eps), max=1) at the note's eps = 0 would send 0 * inf = NaN back
    through c / 0; the table forms the quotient only where it is below 1."""
    import torch

    clip = torch_update_rule_ops()["clip_by_norm"]
    for eps in (0.0, 1e-6):
        g = torch.zeros(3, requires_grad=True)
        clip(g, 1.0, eps).backward(torch.ones(3))
        assert g.grad is not None and torch.equal(g.grad, torch.ones(3))  # below the threshold: the identity


# --- the kink rules reject what lies outside the set ------------------------------------------------


def test_clip_by_value_accepts_slopes_0_to_1_at_the_threshold_only() -> None:
    a, p, c = {"g": np.array([2.0, 0.5, -3.0])}, {"c": 2.0}, np.array([1.0, 1.0, 1.0])
    assert ur.clip_value_rule(a, p, c, {"g": np.array([0.5, 1.0, 0.0])}, 1e-15) == "clip'(|g| = c) = 0.5"
    assert ur.clip_value_rule(a, p, c, {"g": np.array([2.0, 1.0, 0.0])}, 1e-15) is None  # slope 2
    assert ur.clip_value_rule(a, p, c, {"g": np.array([1.0, 1.0, 1.0])}, 1e-15) is None  # -3 is clipped


def test_clip_by_norm_accepts_mixes_of_the_two_pieces_only() -> None:
    a, p, c = {"g": np.array([3.0, 4.0])}, {"c": 5.0, "eps": 0.0}, np.array([1.0, 0.0])
    assert ur.clip_norm_gap(a, p) == 0.0
    scaled = c - np.array([0.6, 0.8]) * 0.6  # (I − u u^T) c, u = (0.6, 0.8)
    for t in (0.0, 0.5, 1.0):
        assert (
            ur.clip_norm_rule(a, p, c, {"g": c + t * (scaled - c)}, 1e-15)
            == f"||g|| = c: t = {t:.3g} (0 keeps g, 1 scales it)"
        )
    assert ur.clip_norm_rule(a, p, c, {"g": c + 1.5 * (scaled - c)}, 1e-15) is None
    assert ur.clip_norm_rule(a, p, c, {"g": np.array([1.0, 0.1])}, 1e-15) is None


def test_adagrad_accepts_abs_slopes_in_minus_1_to_1_at_a_zero_gradient() -> None:
    a, p = {"w": np.zeros(2), "s": np.array([2.0, 1.0]), "g": np.array([0.0, 1.0])}, {"eta": 0.5, "eps": 0.0}
    c = np.array([[1.0, 1.0], [1.0, 1.0]])
    gw, gs, gg = ref.adagrad_step_vjp(a["w"], a["s"], a["g"], c, eta=0.5, eps=0.0)
    assert ur.adagrad_rule(a, p, c, {"w": gw, "s": gs, "g": gg}, 1e-15) == "|g|'(0) in the sum of |g|: 0"
    assert ur.adagrad_rule(a, p, c, {"w": gw, "s": gs, "g": gg + np.array([1.0, 0.0])}, 1e-15) is not None
    assert ur.adagrad_rule(a, p, c, {"w": gw, "s": gs, "g": gg + np.array([2.0, 0.0])}, 1e-15) is None
    assert ur.adagrad_rule(a, p, c, {"w": gw, "s": gs + np.array([0.0, 1e-3]), "g": gg}, 1e-15) is None


# --- mutants: each rule's classic slip, and correct alternatives ------------------------------------


def _backend(v: Variant) -> ImplBackend:
    """A variant through the adapter a user's --impl module goes through, in this process."""
    module = ModuleType(v.name)
    module.IMPL = v.implementation()  # type: ignore[attr-defined]
    backend = ImplBackend(InProcess(v.name, CONVENTIONS, module))
    backend.name = v.name
    return backend


@pytest.mark.parametrize("name", NAMES)
def test_each_slip_is_caught_and_each_correct_variant_passes(name: str) -> None:
    group = [v for v in variants() if v.op == name]
    assert any(v.correct for v in group) and any(not v.correct for v in group)
    wrong: list[str] = []
    for seed in SEEDS:
        kinds = checks.KINDS + conformance.KINDS
        options = RunOptions(seed=seed, profile="quick", devices=("cpu",), kinds=kinds, fd_oracle=False)
        pipeline = Pipeline([_backend(v) for v in group], options)
        examples = draw(OPS[name], options)
        records = pipeline.values(OPS[name], examples) + pipeline.conformance(OPS[name], examples)
        for v in group:
            flagged = [r["id"] for r in records if r["backend"] == v.name and r["verdict"] in ("fail", "error")]
            if bool(flagged) == v.correct:
                wrong.append(f"seed {seed}: {v.name} ({'flagged ' + ', '.join(flagged) if v.correct else 'missed'})")
    assert wrong == []
