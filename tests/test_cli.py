"""The command line: reports, exit statuses, one-line errors, and runs that survive a bad backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness import cli, verify_command
from harness.backends import numpy_ref
from harness.backends.numpy_ref import NumpyBackend, Pair

REQUIRED = {
    "derivation",
    "backend",
    "device",
    "dtype",
    "verdict",
    "max_abs_error",
    "max_ulp_error",
    "tolerance",
    "reproduce",
}


def _verify(tmp_path: Path, *args: str) -> tuple[int, dict[str, object]]:
    status = cli.main(["verify", "--quiet", "--profile", "quick", "--report-dir", str(tmp_path), *args])
    return status, json.loads((tmp_path / "report.json").read_text())


def test_verify_writes_a_record_per_check_and_per_derivation(tmp_path: Path) -> None:
    status, report = _verify(
        tmp_path, "--only", "sigmoid,softmax", "--backend", "numpy,torch,fd", "--dtype", "float32,float64"
    )
    assert status == 0
    checks = report["checks"]
    assert isinstance(checks, list) and checks
    assert all(REQUIRED <= set(c) for c in checks)
    assert {c["derivation"] for c in checks} == {"sigmoid", "softmax"}
    assert {c["backend"] for c in checks} == {"numpy", "torch", "fd"}
    assert {c["verdict"] for c in checks} <= {"pass", "skip"}
    skipped = [c for c in checks if c["verdict"] == "skip"]
    assert skipped and all(c["device"] == "cuda" and c["message"] == "no CUDA device" for c in skipped)
    derivations = {d["name"]: d for d in report["derivations"]}  # type: ignore[union-attr]
    assert derivations["softmax"]["symbolic"]["status"] == "proved"
    assert derivations["softmax"]["source"]["claims"] == ["A5"]
    assert derivations["softmax"]["regions"]["large-logits"] > 0
    assert report["summary"]["fail"] == 0  # type: ignore[index]


def test_failing_check_exits_1_and_keeps_what_reproduces_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ops = dict(numpy_ref.OPS)
    ops["sigmoid"] = Pair(numpy_ref.sigmoid, lambda z, c: c * numpy_ref.sigmoid(z) * (1 + numpy_ref.sigmoid(z)))
    monkeypatch.setitem(verify_command.BACKENDS, "numpy", lambda: NumpyBackend("numpy", ops))
    status, report = _verify(tmp_path, "--only", "sigmoid", "--backend", "numpy", "--dtype", "float64")
    assert status == 1
    failed = [c for c in report["checks"] if c["verdict"] == "fail"]  # type: ignore[union-attr]
    assert {c["check"] for c in failed} == {"vjp", "projection", "jacobian"}
    for c in failed:
        assert c["failure"]["input"]["arrays"]["z"] and "expected" in c["failure"]
        assert "--only sigmoid --backend numpy" in c["reproduce"]
    out = capsys.readouterr().out
    assert "FAIL sigmoid-numpy-cpu-float64-vjp" in out
    assert "  input: region " in out and "; z=[" in out, "the console shows the input the check used"


class _Exploding(NumpyBackend):
    def vjp(self, d, arrays, params, cotangent, target):  # type: ignore[no-untyped-def]
        if d.name == "tanh":
            raise RuntimeError("kernel launch failed")
        return super().vjp(d, arrays, params, cotangent, target)

    def forward(self, d, arrays, params, target):  # type: ignore[no-untyped-def]
        out = super().forward(d, arrays, params, target)
        return np.full_like(out, np.nan) if d.name == "relu" else out


def test_a_raising_or_nan_backend_is_an_error_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(verify_command.BACKENDS, "numpy", lambda: _Exploding())
    status, report = _verify(
        tmp_path, "--only", "tanh,relu,sigmoid", "--backend", "numpy", "--dtype", "float64", "--check", "forward,vjp"
    )
    assert status == 1
    by_id = {c["id"]: c for c in report["checks"]}  # type: ignore[union-attr]
    assert by_id["tanh-numpy-cpu-float64-vjp"]["verdict"] == "error"
    assert "RuntimeError: kernel launch failed" in by_id["tanh-numpy-cpu-float64-vjp"]["message"]
    assert by_id["relu-numpy-cpu-float64-forward"]["verdict"] == "fail"
    assert "is NaN where the exact value is finite" in by_id["relu-numpy-cpu-float64-forward"]["message"]
    assert by_id["sigmoid-numpy-cpu-float64-vjp"]["verdict"] == "pass"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "--only", "sigmod"], "unknown derivation 'sigmod'; valid: sigmoid, tanh"),
        (["verify", "--backend", "jax"], "unknown backend 'jax'; valid: numpy, torch, fd"),
        (["verify", "--dtype", "float8"], "unknown dtype 'float8'"),
        (["verify", "--report-dir", "/nonexistent/reports"], "report directory '/nonexistent/reports' does not exist"),
        (
            ["verify", "--only", "softmax_cross_entropy", "--at", "z=1,2", "--at", "y=0.5,0.6"],
            "input 'y' outside its domain",
        ),
        (["verify", "--only", "leaky_relu", "--at", "z=1,2", "--param", "beta=3"], "unknown parameter(s) ['beta']"),
        (["verify", "--only", "leaky_relu", "--at", "z=1,2", "--param", "alpha=nan"], "parameter 'alpha' outside"),
        (["verify", "--at", "z=1"], "--at needs exactly one op"),
        (
            ["verify", "--only", "conv2d", "--at", "x=[[[[1, 2], [3, 4]]]]", "--at", "w=[[[[1]]]]", "--at", "b=[0]"],
            "conv2d takes the parameters stride: (sh, sw)",
        ),
        (
            [
                *("verify", "--only", "conv2d", "--at", "x=[[[[1, 2], [3, 4]]]]", "--at", "w=[[[[1]], [[1]]]]"),
                *("--at", "b=[0]", "--param", "stride=(1, 1)", "--param", "padding=(0, 0)"),
            ],
            "conv2d cannot be evaluated there",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_verify_at_a_given_input(tmp_path: Path) -> None:
    status, report = _verify(
        tmp_path,
        "--only",
        "leaky_relu",
        "--backend",
        "torch",
        "--dtype",
        "float64",
        "--at",
        "z=-1,0,2;3,-4,0",
        "--param",
        "alpha=0.2",
    )
    assert status == 0
    vjp = next(c for c in report["checks"] if c["check"] == "vjp" and c["device"] == "cpu")  # type: ignore[union-attr]
    assert vjp["examples"] == 1 and vjp["conventions"] == {"leaky_relu'(0)": [0.2]}


@pytest.mark.parametrize("keepdim", ["True", "true"])
def test_a_parameter_is_a_python_literal_or_a_json_word(tmp_path: Path, keepdim: str) -> None:
    args = ["--only", "sum_dim", "--backend", "torch", "--dtype", "float64", "--check", "forward"]
    status, report = _verify(tmp_path, *args, "--at", "x=1,2;3,4", "--param", "dim=1", "--param", f"keepdim={keepdim}")
    assert status == 0  # the string "true" reached torch, which refused it: an error, status 1
    checks = [c for c in report["checks"] if c["device"] == "cpu"]  # type: ignore[union-attr]
    assert [c["verdict"] for c in checks] == ["pass"]


def test_verify_at_a_given_input_of_a_tensor_op(tmp_path: Path) -> None:
    x = "[[[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [3.0, -2.0, 1.0]]]]"
    args = ["--only", "conv2d", "--backend", "torch", "--dtype", "float64", "--at", f"x={x}"]
    args += ["--at", "w=[[[[1.0, -0.5], [0.25, 2.0]]]]", "--at", "b=[0.1]", "--param", "stride=(1, 2)"]
    status, report = _verify(tmp_path, *args, "--param", "padding=(1, 0)")
    assert status == 0
    checks = [c for c in report["checks"] if c["device"] == "cpu"]  # type: ignore[union-attr]
    assert {c["check"] for c in checks} == {"forward", "vjp", "projection", "jvp", "transpose"}
    assert all(c["verdict"] == "pass" and c["examples"] == 1 for c in checks)


def test_list_prints_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "softmax_cross_entropy" in out and "alpha=0.01" in out and "A5" in out


def test_module_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "list", "--json"], capture_output=True, text=True, check=True
    )
    assert {row["name"] for row in json.loads(done.stdout)} >= {"sigmoid", "binary_cross_entropy"}


@pytest.mark.parametrize("args", [["verify", "--profile", "bogus"], [], ["verify", "--seed", "x"]])
def test_argument_errors_are_one_line_too(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradproof: error: ") and err.count("\n") == 1


def test_a_gradient_of_the_wrong_shape_is_an_error_that_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops = dict(numpy_ref.OPS)
    ops["tanh"] = Pair(numpy_ref.tanh, lambda z, c: (c * (1 - np.tanh(z) ** 2))[..., None])
    monkeypatch.setitem(verify_command.BACKENDS, "numpy", lambda: NumpyBackend("numpy", ops))
    status, report = _verify(tmp_path, "--only", "tanh", "--backend", "numpy", "--dtype", "float64", "--check", "vjp")
    assert status == 1
    (rec,) = report["checks"]  # type: ignore[misc]
    assert rec["verdict"] == "error" and "where (" in rec["message"] and "was expected" in rec["message"]


def test_a_run_leaves_no_hypothesis_folder_where_it_started(tmp_path: Path) -> None:
    run, cache = tmp_path / "run", tmp_path / "cache"
    run.mkdir()
    args = [sys.executable, "-m", "harness", "verify", "--quiet", "--only", "sigmoid", "--backend", "numpy"]
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    subprocess.run([*args, "--dtype", "float64", "--report-dir", str(run)], cwd=run, env=env, check=False)
    assert (run / "report.json").exists() and not (run / ".hypothesis").exists()
    # gradproof's draws no longer read hypothesis' cached constants, so this run wrote nothing there; whatever
    # hypothesis does write goes under the user's cache folder.
    where = "from harness import cli; cli._hypothesis_cache(); from hypothesis import configuration as c; "
    where += "print(c.storage_directory(intent_to_write=False).path)"
    found = subprocess.run([sys.executable, "-c", where], env=env, capture_output=True, text=True, check=True)
    assert Path(found.stdout.strip()) == cache / "gradproof" / "hypothesis"


def test_a_narrower_run_over_a_fuller_report_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "verify",
        "--quiet",
        "--no-claims",
        "--profile",
        "quick",
        "--backend",
        "numpy",
        "--report-dir",
        str(tmp_path),
    ]
    cli.main([*args, "--only", "sigmoid,tanh", "--check", "forward"])
    assert "replacing" not in capsys.readouterr().err
    cli.main([*args, "--only", "sigmoid", "--check", "forward"])
    assert "which covered 2 ops and claims, with this run's 1 (1 no longer in it)" in capsys.readouterr().err


def test_the_shipped_known_findings_keep_torch_from_failing_the_run_but_not_from_the_report(tmp_path: Path) -> None:
    args = (
        "--only",
        "norm2_dim",
        "--backend",
        "torch",
        "--device",
        "cpu",
        "--check",
        "forward,vjp",
        "--profile",
        "default",
    )
    status, report = _verify(tmp_path, *args)
    known = [c for c in report["checks"] if c["verdict"] == "xfail"]  # type: ignore[union-attr]
    assert status == 0 and known, "the tiny region shows the underflow on every seed"
    assert all(
        "underflow" in c["expected_failure"]["reason"] or "below" in c["expected_failure"]["reason"] for c in known
    )
    assert "expected failures" in (tmp_path / "index.html").read_text()
    strict, report = _verify(tmp_path, *args, "--expectations", "/dev/null")
    assert strict == 1 and {c["verdict"] for c in report["checks"]} == {"fail"}  # type: ignore[union-attr]


def test_a_missing_report_folder_is_made_when_its_parent_exists(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    args = ["verify", "--quiet", "--only", "sigmoid", "--no-claims", "--profile", "quick", "--backend", "numpy"]
    assert cli.main([*args, "--dtype", "float64", "--report-dir", str(folder)]) == 0
    assert (folder / "report.json").is_file() and (folder / "index.html").is_file()
