"""Hostile input from the command line: file names, report and expectations files, option values, usage errors."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from harness import cli
from tests.hostile.common import IMPLS, SIGMOID, unwritable_folder, verify


def _one_line_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradproof: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_two_files_with_one_stem_keep_their_own_ids_and_quoted_reproduce_lines(tmp_path: Path) -> None:
    """a/mine.py and b/mine.py would share every check id; a file name with shell syntax in it must not run."""
    specs = []
    for folder, name in (("a", "mine.py"), ("b", "mine.py"), ("c", "r$(touch X).py")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text(SIGMOID)
        specs.append(str(tmp_path / folder / name))
    out = tmp_path / "out"
    out.mkdir()
    impls = [a for spec in specs for a in ("--impl", spec)]
    status, report = verify(out, *impls, "--only", "sigmoid", "--dtype", "float64")
    checks = report["checks"]
    backends = {c["backend"] for c in checks}
    assert backends == {f"impl:{specs[0]}", f"impl:{specs[1]}", "impl:r$(touch X)"}, backends
    assert len({c["id"] for c in checks}) == len(checks)
    for c in checks:
        # Pasted into a shell, the line's words are what the run was given, and nothing in them runs.
        pasted = subprocess.run(
            ["sh", "-c", f'set -- {c["reproduce"]}; printf "%s\\0" "$@"'], cwd=tmp_path, capture_output=True, check=True
        )
        words = pasted.stdout.decode().split("\0")[:-1]
        assert words == shlex.split(c["reproduce"])
        assert words[words.index("--impl") + 1] in specs and not (tmp_path / "X").exists(), c["reproduce"]
    assert {c["verdict"] for c in checks} == {"pass"} and status == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "is not a report gradproof can read: RecursionError"),
        (b'{"schema": ' + b"9" * 5000 + b"}", "is not a report gradproof can read: ValueError"),
        (b'{"a": "\xff\xfe"}', "is not UTF-8 text"),
    ],
    ids=["nested-1e5-deep", "5000-digit-integer", "not-utf8"],
)
def test_report_on_a_hostile_json_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    (tmp_path / "report.json").write_bytes(content)
    assert message in _one_line_exit_2(["report", str(tmp_path / "report.json")], capsys)


def test_report_into_a_folder_it_cannot_write_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    verify(tmp_path, "--backend", "numpy", "--only", "sigmoid", "--dtype", "float64", "--check", "forward")
    out = unwritable_folder(tmp_path)
    err = _one_line_exit_2(["report", str(tmp_path / "report.json"), "--out", str(out)], capsys)
    assert "cannot write in the report folder" in err


def test_an_expectations_file_that_is_not_utf8_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.txt").write_bytes(b"xfail \xff\xfe a reason\n")
    args = ["verify", "--only", "sigmoid", "--expectations", str(tmp_path / "x.txt"), "--report-dir", str(tmp_path)]
    assert "is not UTF-8 text" in _one_line_exit_2(args, capsys)


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1"])
def test_a_timeout_must_be_a_positive_number(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    args = ["verify", "--impl", str(IMPLS / "dict_style.py"), "--timeout", value, "--report-dir", str(tmp_path)]
    assert "--timeout must be a positive number of seconds" in _one_line_exit_2(args, capsys)


# Run as `gradproof` is: a fresh interpreter; it also says which heavy modules the error had imported.
USAGE = """
import sys

from harness.cli import main

code = main(sys.argv[1:])
print(sorted({"torch", "jax", "sympy", "hypothesis"} & set(sys.modules)))
sys.exit(code)
"""


@pytest.mark.parametrize(
    ("args", "message", "imported"),
    [
        # An op's name needs the catalog, which SymPy and hypothesis build; torch and JAX stay out.
        (["verify", "--only", "sigmod"], "unknown derivation 'sigmod'", "['hypothesis', 'sympy']"),
        (["verify", "--bogus"], "unrecognized arguments", "[]"),
        (["verify", "--timeout", "nan", "--impl", "x.py"], "--timeout must be a positive number", "[]"),
        (["verify", "--timeout", "5"], "--timeout goes with --impl", "[]"),
        (["verify", "--dtype", "float8"], "unknown dtype 'float8'", "[]"),
        (["verify", "-j", "0"], "-j takes a number of processes", "[]"),
        (["verify", "--report-dir", "/nonexistent/reports"], "does not exist", "[]"),
        (["verify", "--shape", "softmax=4x0"], "--shape softmax: the shape '4x0' has a 0-size axis", "[]"),
        (["verify", "--shape", "softmx=4x4"], "--shape: unknown op 'softmx'", "['hypothesis', 'sympy']"),
    ],
    ids=[
        "unknown-op",
        "bad-flag",
        "nan-timeout",
        "timeout-alone",
        "bad-dtype",
        "no-jobs",
        "no-folder",
        "zero-size-shape",
        "unknown-shape-op",
    ],
)
def test_a_usage_error_answers_before_the_heavy_imports(args: list[str], message: str, imported: str) -> None:
    """One line, exit 2, and only what the error needs imported (torch and JAX cost seconds, SymPy and
    hypothesis one); the time itself is a benchmark's business, not a test's."""
    done = subprocess.run([sys.executable, "-c", USAGE, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert done.stdout.strip() == imported, f"imported {done.stdout.strip()} before answering"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shape", "softmax=4xa"], "--shape softmax: cannot read the shape '4xa'"),
        (["--shape", "softmax"], "--shape takes OP=SHAPE"),
        (["--shape", "conv2d=2x3x4"], "conv2d: x is (N, C, H, W) (4 axes), not (2, 3, 4)"),
        (["--shape", "perceptron_multi=3x2"], "perceptron_multi: x is (n,) (1 axes), not (3, 2)"),
        (["--shape", "sigmoid=3", "--at", "z=1"], "--shape does not go with --at"),
    ],
    ids=["unreadable", "no-shape", "conv-rank", "vector-rank", "with-at"],
)
def test_a_shape_an_op_cannot_take_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert message in _one_line_exit_2(["verify", "--report-dir", str(tmp_path), *args], capsys)


def test_a_shape_over_the_budget_says_so_before_loading_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The estimate is checked before the implementation is loaded: loading it would leave a file behind."""
    marker = tmp_path / "loaded"
    impl = tmp_path / "mine.py"
    impl.write_text(f"open({str(marker)!r}, 'w').close()\n{SIGMOID}")
    args = ["verify", "--report-dir", str(tmp_path), "--impl", str(impl), "--budget", "5"]
    err = _one_line_exit_2([*args, "--shape", "softmax=4096x64"], capsys)
    assert "--shape softmax=4096x64: 2 examples, an estimated" in err and "over --budget 5 s" in err, err
    assert not marker.exists()
