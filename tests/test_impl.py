"""verify --impl: the three ways to declare ops, the calling convention, one-line problems,
isolation from exceptions, hangs and crashes, and the skip/xfail file. Attacks by an
implementation on the host are in tests/hostile/."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from derivations import TENSOR_OPS
from harness import cli
from harness.impl.expectations import Expectations, ExpectationsError

IMPLS = Path(__file__).parent / "impls"


def _verify(tmp_path: Path, *args: str) -> tuple[int, dict[str, object]]:
    status = cli.main(["verify", "--quiet", "--profile", "quick", "--report-dir", str(tmp_path), *args])
    return status, json.loads((tmp_path / "report.json").read_text())


def _by_op(report: dict[str, object]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in report["checks"]:  # type: ignore[attr-defined]
        out.setdefault(r["derivation"], set()).add(r["verdict"])
    return out


def test_module_attributes_and_every_failure_mode_of_third_party_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, report = _verify(
        tmp_path, "--impl", str(IMPLS / "broken.py"), "--timeout", "1", "--dtype", "float64", "--check", "forward,vjp"
    )
    err = capsys.readouterr().err
    assert status == 1
    verdicts = _by_op(report)
    assert verdicts["sigmoid"] == {"pass"}  # the working op is checked in full despite the others
    checks = {r["id"]: r for r in report["checks"]}  # type: ignore[attr-defined]
    prefix = "-impl:broken-cpu-float64-"
    assert (
        "ValueError: binary_cross_entropy is not implemented yet"
        in checks[f"binary_cross_entropy{prefix}forward"]["message"]
    )
    assert "timed out after 1 s" in checks[f"relu{prefix}forward"]["message"]
    assert "SIGSEGV" in checks[f"tanh{prefix}forward"]["message"]
    assert "SIGABRT" in checks[f"leaky_relu{prefix}vjp"]["message"]
    assert "vjp returned one array; expected a tuple of 2 gradients" in checks[f"mse{prefix}vjp"]["message"]
    assert "broken, op 'mse'" in checks[f"mse{prefix}vjp"]["message"]
    for op in ("tanh", "relu", "binary_cross_entropy", "leaky_relu"):
        assert verdicts[op] == {"error"}, op
    assert checks[f"mse{prefix}forward"]["verdict"] == "pass"
    assert "softmax_cross_entropy" not in verdicts  # a wrong signature is not run
    line = "PROBLEM broken, op 'softmax_cross_entropy': forward(z, y, extra) cannot be called as forward(z, y)"
    assert line in err
    assert "lacks softmax, softmax_cross_entropy" in err
    impl = report["implementations"][0]  # type: ignore[index]
    assert impl["lacks"] == ["softmax", "softmax_cross_entropy", *TENSOR_OPS]  # tensor ops count too
    assert checks[f"sigmoid{prefix}vjp"]["reproduce"].startswith(
        f"gradproof verify --only sigmoid --impl {IMPLS / 'broken.py'} "
    )


def test_decorator_form_names_unknown_ops_and_checks_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, report = _verify(tmp_path, "--impl", "tests.impls.registry_style")
    err = capsys.readouterr().err
    assert "PROBLEM tests.impls.registry_style, op 'gelu': not in the catalog" in err
    assert status == 1  # the problem counts
    assert _by_op(report) == {"tanh": {"pass"}}


def test_torch_dict_form_runs_cpu_and_skips_cuda_with_the_reason(tmp_path: Path) -> None:
    status, report = _verify(tmp_path, "--impl", "tests.impls.dict_style", "--dtype", "float64")
    assert status == 0, [r["message"] for r in report["checks"] if r["verdict"] != "pass"]  # type: ignore[attr-defined]
    checks = report["checks"]
    assert {r["derivation"] for r in checks} == {"sigmoid", "mse"}  # type: ignore[attr-defined]
    cuda = [r for r in checks if r["device"] == "cuda"]  # type: ignore[attr-defined]
    assert cuda and all(r["verdict"] == "skip" and r["message"] == "no CUDA device" for r in cuda)
    cpu_kinds = {r["check"] for r in checks if r["device"] == "cpu"}  # type: ignore[attr-defined]
    assert cpu_kinds == {
        "forward",
        "vjp",
        "projection",
        "jacobian",
        "jvp",
        "transpose",
        "dtype-shape",
        "inplace",
        "determinism",
        "cotangent",
    }


def test_unimportable_module_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["verify", "--impl", "no_such_module_here", "--report-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "no_such_module_here: cannot import: ModuleNotFoundError" in err


def test_backend_and_impl_do_not_mix(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert (
        cli.main(["verify", "--impl", "tests.impls.dict_style", "--backend", "torch", "--report-dir", str(tmp_path)])
        == 2
    )
    assert "--backend does not go with --impl" in capsys.readouterr().err


def test_list_params_derives_the_convention_from_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "--params"]) == 0
    out = capsys.readouterr().out
    assert "vjp(z, cotangent, alpha=...) -> (dz,)" in out
    assert "vjp(yhat, y, cotangent) -> (dyhat, dy)" in out
    assert "one value per row" in out
    assert cli.main(["list", "--params", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["op"] for r in rows} >= {"sigmoid", "binary_cross_entropy"}


def test_expectations_skip_xfail_xpass_and_unmatched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "expect.txt"
    file.write_text(
        "# known\n"
        "xfail binary_cross_entropy-impl:broken-cpu-float64-* not written yet\n"
        "xfail sigmoid-impl:broken-cpu-float64-forward claimed broken, but it is not\n"
        "skip relu-impl:broken-* hangs\n"
        "skip tanh-impl:broken-* crashes\n"
        "skip nothing-matches-this\n"
    )
    # In-process: the entries skip every op that would hang or crash the test run.
    status, report = _verify(
        tmp_path,
        "--impl",
        str(IMPLS / "broken.py"),
        "--dtype",
        "float64",
        "--expectations",
        str(file),
        "--in-process",
        "--only",
        "sigmoid,tanh,relu,binary_cross_entropy",
    )
    err = capsys.readouterr().err
    checks = {r["id"]: r for r in report["checks"]}  # type: ignore[attr-defined]
    assert {checks[i]["verdict"] for i in checks if i.startswith("binary_cross_entropy-")} == {"xfail"}
    xpass = checks["sigmoid-impl:broken-cpu-float64-forward"]
    assert xpass["verdict"] == "xpass" and xpass["expected_failure"]["reason"] == "claimed broken, but it is not"
    relu = [r for i, r in checks.items() if i.startswith("relu-")]
    assert relu and all(r["verdict"] == "skip" and "hangs" in r["message"] for r in relu)
    assert all(r["verdict"] == "skip" for i, r in checks.items() if i.startswith("tanh-"))
    assert "nothing-matches-this matches no check" in err
    assert report["summary"]["xfail"] > 0 and report["summary"]["error"] == 0  # type: ignore[index]
    assert status == 1  # the wrong signature is still a problem


def test_xfail_needs_a_reason() -> None:
    with pytest.raises(ExpectationsError, match=r"x:2: xfail sigmoid-numpy-cpu-float32-vjp needs a reason"):
        Expectations.parse("skip a\nxfail sigmoid-numpy-cpu-float32-vjp\n", "x")


def test_expectations_file_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "e.txt"
    file.write_text("xfial a b\n")
    assert cli.main(["verify", "--expectations", str(file), "--report-dir", str(tmp_path)]) == 2
    assert "unknown action 'xfial'" in capsys.readouterr().err


def test_progress_lines_count_expected_failures_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """xfail is decided as each op is recorded, so its progress line says "xfail", not "fail"."""
    file = tmp_path / "expect.txt"
    file.write_text("xfail binary_cross_entropy-impl:broken-cpu-float64-* not written yet\n")
    args = ["verify", "--report-dir", str(tmp_path), "--impl", str(IMPLS / "broken.py"), "--in-process"]
    cli.main([*args, "--dtype", "float64", "--expectations", str(file), "--only", "binary_cross_entropy"])
    line = next(ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("[1/1] binary_cross_entropy"))
    assert " 0 fail" in line and "xfail" in line, line


def test_a_given_input_is_in_the_reproduce_line(tmp_path: Path) -> None:
    status, report = _verify(
        tmp_path, "--backend", "numpy", "--only", "sigmoid", "--at", "z=0.5,-1", "--dtype", "float64"
    )
    words = shlex.split(report["checks"][0]["reproduce"])  # type: ignore[index]
    assert words[words.index("--at") + 1] == "z=0.5,-1" and status == 0


def test_a_hash_inside_a_reason_is_kept_and_one_after_a_space_starts_a_comment() -> None:
    from harness.impl.expectations import Expectations

    parsed = Expectations.parse("# header\nxfail a-* upstream mlx#3047 # checked 2026\nskip b")
    assert [(e.action, e.pattern, e.reason) for e in parsed.entries] == [
        ("xfail", "a-*", "upstream mlx#3047"),
        ("skip", "b", ""),
    ]
