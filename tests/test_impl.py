"""verify --impl: the three ways to declare ops, the calling convention, one-line problems,
isolation from exceptions, hangs and crashes, and the skip/xfail file."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
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
    assert "vjp(yhat, y, cotangent) -> (dyhat, None)" in out
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


def test_a_worker_message_is_never_unpickled(tmp_path: Path) -> None:
    """An implementation that writes a pickle to its pipe gets an error for that check, not code run in the host."""
    marker = tmp_path / "ran-in-host"
    (tmp_path / "hostile.py").write_text((IMPLS / "hostile.py").read_text())
    args = ("--impl", str(tmp_path / "hostile.py"), "--only", "sigmoid,tanh", "--dtype", "float64")
    status, report = _verify(tmp_path, *args)
    assert not marker.exists()
    checks = {c["id"]: c for c in report["checks"]}  # type: ignore[attr-defined]
    forward = checks["sigmoid-impl:hostile-cpu-float64-forward"]
    assert forward["verdict"] == "error" and "outside the protocol" in forward["message"]
    assert checks["tanh-impl:hostile-cpu-float64-vjp"]["verdict"] == "pass", "the run goes on with a fresh worker"
    assert status == 1


def test_two_files_with_one_stem_keep_their_own_ids_and_quoted_reproduce_lines(tmp_path: Path) -> None:
    """a/mine.py and b/mine.py would share every check id; a file name with shell syntax in it must not run."""
    source = (IMPLS / "dict_style.py").read_text()
    specs = []
    for folder in ("a", "b r$(touch PWNED)"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "mine.py").write_text(source)
        specs.append(str(tmp_path / folder / "mine.py"))
    out = tmp_path / "out"
    out.mkdir()
    status, report = _verify(out, "--impl", specs[0], "--impl", specs[1], "--only", "sigmoid", "--dtype", "float64")
    checks = report["checks"]  # type: ignore[index]
    backends = {c["backend"] for c in checks}  # type: ignore[union-attr]
    assert backends == {f"impl:{specs[0]}", f"impl:{specs[1]}"}, backends
    assert len({c["id"] for c in checks}) == len(checks)  # type: ignore[union-attr]
    for c in checks:  # type: ignore[union-attr]
        words = shlex.split(c["reproduce"])
        assert words[words.index("--impl") + 1] == c["backend"].removeprefix("impl:")
    assert status == 0


def test_a_given_input_is_in_the_reproduce_line(tmp_path: Path) -> None:
    status, report = _verify(
        tmp_path, "--backend", "numpy", "--only", "sigmoid", "--at", "z=0.5,-1", "--dtype", "float64"
    )
    words = shlex.split(report["checks"][0]["reproduce"])  # type: ignore[index]
    assert words[words.index("--at") + 1] == "z=0.5,-1" and status == 0


def test_an_import_crash_is_a_problem_line_and_the_other_implementations_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dies.py").write_text("import os\nos._exit(3)\n")
    out = tmp_path / "out"
    out.mkdir()
    args = ("--impl", str(tmp_path / "dies.py"), "--impl", str(IMPLS / "dict_style.py"), "--only", "sigmoid")
    status, report = _verify(out, *args, "--dtype", "float64")
    assert "crashed its worker process (exited with status 3) loading the implementation" in capsys.readouterr().err
    ran = [c for c in report["checks"] if c["device"] == "cpu"]  # type: ignore[union-attr]
    assert ran and {c["verdict"] for c in ran} == {"pass"} and report["load_errors"]  # type: ignore[index]
    assert status == 1, "an implementation that cannot be loaded is a problem of the run"


def test_messages_that_cannot_be_shown_as_they_are_still_make_a_report(tmp_path: Path) -> None:
    status, report = _verify(tmp_path, "--impl", str(IMPLS / "loud.py"), "--dtype", "float64", "--check", "forward")
    checks = {c["id"]: c for c in report["checks"]}  # type: ignore[attr-defined]
    assert "\\udc80" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "characters cut" in checks["tanh-impl:loud-cpu-float64-forward"]["message"]
    assert (tmp_path / "index.html").stat().st_size < 2_000_000
    assert status == 1


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1"])
def test_a_timeout_must_be_a_positive_number(tmp_path: Path, value: str) -> None:
    with pytest.raises(cli.UsageError, match="--timeout must be a positive number of seconds"):
        cli.cmd_verify(cli._parser().parse_args(["verify", "--impl", str(IMPLS / "dict_style.py"), "--timeout", value]))


def test_numpy_error_state_set_by_an_implementation_behaves_the_same_in_process(tmp_path: Path) -> None:
    (tmp_path / "strict.py").write_text(
        "import numpy as np\nnp.seterr(all='raise')\n"
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
        "def sigmoid_vjp(z, c):\n    a = sigmoid(z)\n    return c * a * (1 - a)\n"
    )
    verdicts, host = [], np.geterr()
    for mode in ((), ("--in-process",)):
        out = tmp_path / f"out{len(mode)}"
        out.mkdir()
        _, report = _verify(out, "--impl", str(tmp_path / "strict.py"), "--dtype", "float64", *mode)
        verdicts.append({c["id"]: c["verdict"] for c in report["checks"]})  # type: ignore[union-attr]
    assert verdicts[0] == verdicts[1]
    assert np.geterr() == host, "the host's own error state is untouched"


def test_processes_an_implementation_starts_end_with_the_run(tmp_path: Path) -> None:
    """Otherwise `gradproof verify ... | cat` waits for them, and they outlive the run."""
    command = [sys.executable, "-m", "harness", "verify", "--impl", str(IMPLS / "spawner.py"), "--only", "sigmoid"]
    command += ["--quiet", "--profile", "quick", "--check", "forward", "--report-dir", str(tmp_path)]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 45, "the child's hold on stdout was not released"


def test_torch_default_dtype_set_by_an_implementation_is_restored_in_process() -> None:
    torch = pytest.importorskip("torch")
    import types

    from harness.impl.conventions import CONVENTIONS
    from harness.impl.isolation import InProcess

    def sigmoid(z: np.ndarray) -> np.ndarray:
        torch.set_default_dtype(torch.float64)  # a careless implementation changes global state
        return 1 / (1 + np.exp(-z))

    module = types.ModuleType("careless")
    module.OPS = {"sigmoid": (sigmoid, lambda z, c: c)}  # type: ignore[attr-defined]
    caller = InProcess("careless", CONVENTIONS, module)
    before = torch.get_default_dtype()
    caller.call("forward", "sigmoid", {"z": np.zeros(3)}, {}, None, "cpu", "float64")
    assert torch.get_default_dtype() == before
