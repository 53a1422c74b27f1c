"""--impl over tensor ops: calling conventions from the catalog, per-input gradients, value and
conformance checks through the same path as elementwise ops, and the tensor-op mutants."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from derivations import TENSOR_OPS
from harness import cli
from harness.backends.base import Target
from harness.impl import conformance
from harness.impl.contract import Convention
from harness.impl.session import CONVENTIONS, load
from harness.report_schema import validate
from harness.runner import RunOptions, examples_for
from harness.selftest import run as selftest
from harness.selftest.mutants import VARIANTS

ROOT = Path(__file__).parent.parent
IMPLS = Path(__file__).parent / "impls"
TENSOR_VARIANTS = [v for v in VARIANTS if v.op in TENSOR_OPS]


def test_conventions_name_each_tensor_ops_inputs_and_parameters() -> None:
    conv = Convention.of(TENSOR_OPS["conv2d"])
    assert conv.inputs == ("x", "w", "b") and conv.params == ("stride", "padding")
    assert conv.vjp_call() == "vjp(x, w, b, cotangent, stride=..., padding=...)"
    assert conv.vjp_returns() == "(dx, dw, db) or {'x': dx, 'w': dw, 'b': db}"
    assert Convention.of(TENSOR_OPS["perceptron_single"]).vjp_returns() == "(dx, dw, dt) or {'x': dx, 'w': dw, 't': dt}"
    assert set(TENSOR_OPS) <= set(CONVENTIONS)


def test_list_params_prints_tensor_ops(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "--params"]) == 0
    out = capsys.readouterr().out
    assert "vjp(x, cotangent, dim=..., keepdim=..., k=...) -> (dx,)" in out  # kthvalue
    assert "param k (keyword): 1-based" in out


def test_impl_backend_gives_every_differentiable_inputs_gradient() -> None:
    backend = load(str(ROOT / "examples" / "numpy_impl.py"), isolate=False)
    op = TENSOR_OPS["dense_layer"]
    ex = examples_for(op, RunOptions(seed=3, profile="quick"))[1]
    cot = np.ones_like(backend.forward(op, ex.arrays, ex.params, Target("cpu", "float64")))
    got = backend.vjp(op, ex.arrays, ex.params, cot, Target("cpu", "float64"))
    assert isinstance(got, dict) and set(got) == {"x", "w", "b"}
    assert got["w"].shape == ex.arrays["w"].shape


def test_verify_impl_checks_tensor_ops_in_a_worker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["verify", "--quiet", "--profile", "quick", "--report-dir", str(tmp_path), "--dtype", "float64"]
    status = cli.main([*args, "--impl", str(ROOT / "examples" / "numpy_impl.py"), "--only", "sum_dim,max_pool2d"])
    capsys.readouterr()
    data = json.loads((tmp_path / "report.json").read_text())
    validate(data)
    checks = {(r["derivation"], r["check"]): r["verdict"] for r in data["checks"]}
    for op in ("sum_dim", "max_pool2d"):
        for kind in ("forward", "vjp", "projection", *conformance.KINDS):
            assert checks[(op, kind)] == "pass", (op, kind)
    assert status == 0
    assert "avg_pool2d" in data["implementations"][0]["lacks"]


def test_an_expectations_skip_line_skips_a_tensor_ops_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Decided when planning, as for the elementwise ops: the checks do not run and nothing is left unmatched."""
    expect = tmp_path / "expect.txt"
    expect.write_text("skip max_pool2d-impl:numpy_impl-cpu-float64-projection too slow here\n")
    args = ["verify", "--quiet", "--profile", "quick", "--report-dir", str(tmp_path), "--dtype", "float64"]
    impl = ["--impl", str(ROOT / "examples" / "numpy_impl.py"), "--in-process", "--only", "max_pool2d"]
    assert cli.main([*args, *impl, "--expectations", str(expect)]) == 0
    assert "matches no check" not in capsys.readouterr().err
    data = json.loads((tmp_path / "report.json").read_text())
    checks = {r["check"]: r for r in data["checks"]}
    assert checks["projection"]["verdict"] == "skip" and checks["projection"]["message"].endswith("too slow here")
    assert checks["vjp"]["verdict"] == "pass"


def test_conformance_checks_catch_planted_tensor_bugs() -> None:
    backend = load(str(IMPLS / "broken_tensor.py"), isolate=False)
    options = RunOptions(seed=0, profile="quick", devices=("cpu",))
    failed: dict[str, set[str]] = {}
    for name in ("sum_dim", "mean_dim", "max_pool2d"):
        op = TENSOR_OPS[name]
        records = conformance.run(backend, op, examples_for(op, options), options)
        failed[name] = {f"{r['check']}/{r['dtype']}" for r in records if r["verdict"] != "pass"}
    assert failed["sum_dim"] == {"dtype-shape/float32"}
    assert failed["mean_dim"] == {"inplace/float32", "inplace/float64"}
    assert {"cotangent/float32", "cotangent/float64"} <= failed["max_pool2d"]


def _rows(seed: int, ops: set[str]) -> list[dict[str, object]]:
    return selftest.run([v for v in TENSOR_VARIANTS if v.op in ops], seed=seed, isolate=False)


def test_tensor_mutants_caught_and_tie_splitting_passes() -> None:
    rows = _rows(0, {"sum_dim", "max_dim"})
    assert {r["mutant"] for r in rows} == {"sum-keepdim-last-axis", "max-dim-ties-duplicated", "max-dim-ties-split"}
    bad = [r["mutant"] for r in rows if r["correct"] == r["caught_by_gradproof"]]
    assert bad == [], bad
    # Tied maxima: gradcheck's finite differences straddle the tie, so it rejects the correct variant too.
    assert all(r["caught_by_gradcheck"] for r in rows)


@pytest.mark.thorough
@pytest.mark.parametrize("seed", range(6))
def test_every_tensor_mutant_caught_no_correct_variant_flagged(seed: int) -> None:
    rows = _rows(seed, {v.op for v in TENSOR_VARIANTS})
    bad = [r["mutant"] for r in rows if r["correct"] == r["caught_by_gradproof"]]
    assert bad == [], bad


SILENT = {
    "reference_tensor.py": list(TENSOR_OPS),
    "numpy_impl.py": ["dense_layer", "conv2d", "max_pool2d", "sum_dim"],
    "torch_impl.py": ["dense_layer", "conv2d", "max_pool2d", "sum_dim"],
}


def test_reference_residual_block_keeps_float32() -> None:
    # It once allocated a float64 buffer in its convolution; dtype-shape found it.
    backend = load(str(IMPLS / "reference_tensor.py"), isolate=False)
    op = TENSOR_OPS["residual_block"]
    options = RunOptions(seed=0, profile="quick", devices=("cpu",), dtypes=("float32",))
    (rec,) = conformance.run(backend, op, examples_for(op, options)[:1], options, ["dtype-shape"])
    assert rec["verdict"] == "pass", rec["message"]


@pytest.mark.thorough
@pytest.mark.parametrize("module", sorted(SILENT))
def test_conformance_silent_on_correct_tensor_implementations_over_20_seeds(module: str) -> None:
    where = IMPLS if module == "reference_tensor.py" else ROOT / "examples"
    backend = load(str(where / module), isolate=False)
    bad = []
    for seed in range(20):
        options = RunOptions(seed=seed, profile="quick", devices=("cpu",))
        for name in SILENT[module]:
            op = TENSOR_OPS[name]
            records = conformance.run(backend, op, examples_for(op, options), options)
            bad += [(seed, r["id"], r["message"]) for r in records if r["verdict"] != "pass"]
    assert bad == [], bad[:5]
