"""Issue 9: one vjp contract through every entry point, and every catalog op through every entry point.

The entry points are `gradproof.check`, `gradproof verify --impl` (one CLI run for the whole catalog
and every form), the pytest plugin (one pytest run in a subprocess), an expectations file's skip and
xfail lines (in that same CLI run) and `--at` (one input per op, drawn by the public strategies).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

import gradproof
from gradproof import strategies
from harness import cli
from harness.backends import numpy_ref
from harness.impl import conformance
from harness.pipeline import OPS
from tests.impls import entry_forms

ROOT = Path(__file__).resolve().parent.parent
IMPLS = ROOT / "tests" / "impls"
FORMS_FILE = IMPLS / "entry_forms.py"
ONE_INPUT = tuple(name for name, d in OPS.items() if len(d.inputs) == 1)
# Each names a module under tests/impls holding the NumPy reference for the whole catalog.
CATALOG_FORMS = {"entry_tuple": tuple(OPS), "entry_dict": tuple(OPS), "entry_bare": ONE_INPUT}
BROKEN = "impl:entry_broken"
SKIP_REASON = "the broken module's forward is the reference's"
XFAIL_REASON = "planted: every gradient is 2 g + 1"
WRONG_COUNT = {
    "sigmoid": "vjp returned 2 gradients; expected 1, one per input (dz,) or {'z': dz}",
    "mse": "vjp returned one array; expected a tuple of 2 gradients (dyhat, dy) or {'yhat': dyhat, 'y': dy}",
    "softmax_cross_entropy": "vjp returned 3 gradients; expected 2, one per input (dz, dy) or {'z': dz, 'y': dy}",
    "conv2d": "vjp returned 2 gradients; expected 3, one per input (dx, dw, db)",
}
Record = dict[str, Any]
# A failing check shrinks its input, rerunning the exact reference dozens of times (40 s for conv2d);
# the wrong-count tests need the message, which is the same unshrunk.
NO_SHRINK = {"phases": [Phase.explicit, Phase.generate], "database": None}


def _by_check(records: list[Record], backend: str, op: str) -> dict[str, Record]:
    return {r["check"]: r for r in records if r["backend"] == backend and r["derivation"] == op}


def _summary(records: dict[str, Record]) -> dict[str, str]:
    return {check: f"{r['verdict']}: {r['message']}" for check, r in records.items()}


@pytest.fixture
def no_shrink() -> Iterator[None]:
    before = settings.get_current_profile_name()
    settings.register_profile("entry-points-no-shrink", **NO_SHRINK)  # type: ignore[arg-type]
    settings.load_profile("entry-points-no-shrink")
    yield
    settings.load_profile(before)


def _check(op: str, forward: Callable[..., Any], vjp: Callable[..., Any], name: str) -> list[Record]:
    """gradproof.check as a user's test calls it, kept small: one float64 input per region."""
    return gradproof.check(forward, op, vjp=vjp, dtypes=["float64"], max_examples=1, seed=0, name=name)


# ---------------------------------------------------------------------------------------------
# The CLI run: the catalog in three forms, a broken module under skip/xfail lines, and every form
# and wrong count of tests/impls/entry_forms.py, all in one `gradproof verify --impl` process.


@dataclass(frozen=True)
class VerifyRun:
    status: int
    output: str
    report: dict[str, Any]
    expectations: Path

    def records(self, backend: str, op: str) -> dict[str, Record]:
        return _by_check(self.report["checks"], backend, op)

    def implementation(self, backend: str) -> dict[str, Any]:
        return next(i for i in self.report["implementations"] if i["backend"] == backend)


def _expectations(path: Path) -> Path:
    lines: list[str] = []
    for op in OPS:  # line 2k+1 skips op k's forward, line 2k+2 expects its vjp to fail
        lines.append(f"skip  {op}-{BROKEN}-cpu-float64-forward  {SKIP_REASON}")
        lines.append(f"xfail {op}-{BROKEN}-cpu-float64-vjp  {XFAIL_REASON}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def verify_run(tmp_path_factory: pytest.TempPathFactory) -> VerifyRun:
    folder = tmp_path_factory.mktemp("verify")
    expectations = _expectations(folder / "expectations.txt")
    impls = [*(IMPLS / f"{m}.py" for m in CATALOG_FORMS), IMPLS / "entry_broken.py"]
    impls += [f"{FORMS_FILE}:{form}" for form in (*entry_forms.OPS_OF_FORM, "wrong_count")]
    command = [sys.executable, "-m", "harness", "verify", "--quiet", "--profile", "quick"]
    command += ["--check", "forward,vjp", "--dtype", "float64", "--report-dir", str(folder)]
    command += ["--expectations", str(expectations), *(a for spec in impls for a in ("--impl", str(spec)))]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert (folder / "report.json").is_file(), output
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    return VerifyRun(done.returncode, output, report, expectations)


def test_the_cli_run_fails_only_on_the_wrong_gradient_counts(verify_run: VerifyRun) -> None:
    bad = [r for r in verify_run.report["checks"] if r["verdict"] in ("fail", "error", "xpass")]
    assert verify_run.status == 1, verify_run.output
    assert {(r["backend"], r["derivation"], r["check"]) for r in bad} == {
        ("impl:entry_forms:wrong_count", op, "vjp") for op in WRONG_COUNT
    }, [r["id"] for r in bad]
    summary = verify_run.report["summary"]
    assert (summary["skip"], summary["xfail"]) == (len(OPS), len(OPS))
    assert verify_run.report["expectations"]["unmatched"] == []
    assert not [p for i in verify_run.report["implementations"] for p in i["problems"]]


# ---------------------------------------------------------------------------------------------
# The pytest plugin: the same forms and wrong counts as gradproof.check calls in a user's suite.

PLUGIN_CONFTEST = """
from hypothesis import Phase, settings

settings.register_profile("no-shrink", phases=[Phase.explicit, Phase.generate], database=None)
settings.load_profile("no-shrink")
"""
PLUGIN_SUITE = """
import pytest

import gradproof
from tests.impls import entry_forms


@pytest.mark.parametrize("case", list(entry_forms.CASES))
def test_form(case):
    op, forward, vjp = entry_forms.CASES[case]
    gradproof.check(forward, op, vjp=vjp, dtypes=["float64"], max_examples=1, seed=0, name=f"plugin.{case}")


@pytest.mark.parametrize("op", list(entry_forms.WRONG_COUNT))
def test_wrong_count(op):
    forward, vjp = entry_forms.WRONG_COUNT[op]
    gradproof.check(forward, op, vjp=vjp, dtypes=["float64"], max_examples=1, seed=0, name=f"plugin.wrong.{op}")
"""


@dataclass(frozen=True)
class PluginRun:
    output: str
    outcomes: dict[str, tuple[str, str]]  # test name -> (passed/failed/error/skipped, failure text)
    records: list[Record]  # the --gradproof-report's checks


def _outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        result = next(iter(case), None)
        outcome = "passed" if result is None or result.tag in ("system-out", "system-err") else result.tag
        text = "" if result is None else f"{result.get('message', '')}\n{result.text or ''}"
        found[case.get("name", "")] = ("failed" if outcome == "failure" else outcome, text)
    return found


@pytest.fixture(scope="module")
def plugin_run(tmp_path_factory: pytest.TempPathFactory) -> PluginRun:
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "test_user_suite.py").write_text(PLUGIN_SUITE, encoding="utf-8")
    (folder / "conftest.py").write_text(PLUGIN_CONFTEST, encoding="utf-8")
    report = folder / "report"
    report.mkdir()
    # No `-p gradproof.pytest_plugin`: a user's suite gets the plugin from the installed entry point.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += [f"--gradproof-report={report}", f"--junitxml={folder / 'outcomes.xml'}", "test_user_suite.py"]
    # The user's suite imports tests.impls from this checkout, as a suite imports its own helpers.
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = os.pathsep.join(paths)
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert (folder / "outcomes.xml").is_file() and (report / "report.json").is_file(), output
    records = json.loads((report / "report.json").read_text(encoding="utf-8"))["checks"]
    return PluginRun(output, _outcomes(folder / "outcomes.xml"), records)


# ---------------------------------------------------------------------------------------------
# 1. One vjp contract everywhere.


def _form_via_check(request: pytest.FixtureRequest, case: str) -> dict[str, Record]:
    op, forward, vjp = entry_forms.CASES[case]
    return _by_check(_check(op, forward, vjp, f"check.{case}"), f"impl:check.{case}", op)


def _form_via_impl(request: pytest.FixtureRequest, case: str) -> dict[str, Record]:
    op = entry_forms.CASES[case][0]
    form = case.removesuffix(f"-{op}")
    run: VerifyRun = request.getfixturevalue("verify_run")
    return run.records(f"impl:entry_forms:{form}", op)


def _form_via_plugin(request: pytest.FixtureRequest, case: str) -> dict[str, Record]:
    op = entry_forms.CASES[case][0]
    run: PluginRun = request.getfixturevalue("plugin_run")
    assert run.outcomes.get(f"test_form[{case}]", ("missing", ""))[0] == "passed", run.output
    return _by_check(run.records, f"impl:plugin.{case}", op)


FORM_ENTRY_POINTS = {"check": _form_via_check, "impl": _form_via_impl, "plugin": _form_via_plugin}


@pytest.mark.parametrize("case", list(entry_forms.CASES))
@pytest.mark.parametrize("entry", list(FORM_ENTRY_POINTS))
def test_every_vjp_form_passes_through_every_entry_point(entry: str, case: str, request: pytest.FixtureRequest) -> None:
    records = FORM_ENTRY_POINTS[entry](request, case)
    assert {"forward", "vjp"} <= set(records), _summary(records)
    assert all(r["verdict"] == "pass" for r in records.values()), _summary(records)
    assert records["vjp"]["examples"] >= 1


def _wrong_via_check(request: pytest.FixtureRequest, op: str) -> tuple[str, str]:
    forward, vjp = entry_forms.WRONG_COUNT[op]
    request.getfixturevalue("no_shrink")
    with pytest.raises(gradproof.CheckFailure) as failure:
        _check(op, forward, vjp, f"check.wrong.{op}")
    return "error" if str(failure.value).startswith(f"gradproof: error {op}-") else "other", str(failure.value)


def _wrong_via_impl(request: pytest.FixtureRequest, op: str) -> tuple[str, str]:
    run: VerifyRun = request.getfixturevalue("verify_run")
    record = run.records("impl:entry_forms:wrong_count", op)["vjp"]
    assert f"ERROR {record['id']}: " in run.output  # the CLI prints it, not only the report
    return record["verdict"], record["message"]


def _wrong_via_plugin(request: pytest.FixtureRequest, op: str) -> tuple[str, str]:
    run: PluginRun = request.getfixturevalue("plugin_run")
    outcome, text = run.outcomes.get(f"test_wrong_count[{op}]", ("missing", ""))
    assert outcome == "failed" and "CheckFailure: gradproof: error" in text, run.output
    recorded = _by_check(run.records, f"impl:plugin.wrong.{op}", op)["vjp"]
    assert recorded["verdict"] == "error" and WRONG_COUNT[op] in recorded["message"]
    return recorded["verdict"], text


WRONG_ENTRY_POINTS = {"check": _wrong_via_check, "impl": _wrong_via_impl, "plugin": _wrong_via_plugin}


@pytest.mark.parametrize("op", list(WRONG_COUNT))
@pytest.mark.parametrize("entry", list(WRONG_ENTRY_POINTS))
def test_a_wrong_number_of_gradients_is_an_error_naming_the_contract(
    entry: str, op: str, request: pytest.FixtureRequest
) -> None:
    verdict, message = WRONG_ENTRY_POINTS[entry](request, op)
    assert verdict == "error", message
    assert f"op {op!r}: {WRONG_COUNT[op]}" in message, message


# ---------------------------------------------------------------------------------------------
# 2. Every op through every entry point.


@pytest.mark.parametrize("name", list(OPS))
def test_check_passes_the_numpy_reference(name: str) -> None:
    reference = numpy_ref.OPS[name]
    records = gradproof.check(reference.forward, name, vjp=reference.vjp, dtypes=["float64"], max_examples=2, seed=0)
    by_check = {r["check"]: r for r in records}
    assert all(r["verdict"] == "pass" for r in records), _summary(by_check)
    assert {"forward", "vjp", "projection", *conformance.KINDS} <= set(by_check)
    assert by_check["vjp"]["examples"] >= 2 * len(strategies.regions(name))  # every region was visited


def _draw(name: str, count: int) -> list[Any]:
    examples: list[Any] = []

    @settings(max_examples=count, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(strategies.inputs(name))
    def keep(example: Any) -> None:
        examples.append(example)

    keep()
    return examples


@pytest.fixture(scope="module")
def drawn() -> dict[str, list[Any]]:
    """Five examples per op from the public strategies, the same on every run."""
    return {name: _draw(name, 5) for name in OPS}


@pytest.mark.parametrize("name", list(OPS))
def test_public_strategies_draw_inside_the_domain(name: str, drawn: dict[str, list[Any]]) -> None:
    op = OPS[name]
    assert len(drawn[name]) == 5
    for example in drawn[name]:
        assert example.region in strategies.regions(name)
        assert [i.name for i in op.inputs] == list(example.arrays)
        for i in op.inputs:
            assert i.domain.contains(example.arrays[i.name]), (i.name, example)
        if hasattr(op, "check_domain"):  # the elementwise and row ops also bound their parameters
            assert op.check_domain(example.arrays, example.params) is None


@pytest.mark.parametrize("name", list(OPS))
def test_impl_passes_every_op_in_every_form_of_the_catalog_modules(name: str, verify_run: VerifyRun) -> None:
    for module, ops in CATALOG_FORMS.items():
        records = verify_run.records(f"impl:{module}", name)
        if name not in ops:  # a bare array is the contract for one-input ops only
            assert not records and name in verify_run.implementation(f"impl:{module}")["lacks"]
            continue
        assert set(records) == {"forward", "vjp"}, (module, _summary(records))
        assert all(r["verdict"] == "pass" and r["examples"] >= 1 for r in records.values()), _summary(records)


@pytest.mark.parametrize("name", list(OPS))
def test_expectations_skip_and_xfail_lines_apply_to_every_op(name: str, verify_run: VerifyRun) -> None:
    records = verify_run.records(BROKEN, name)
    line = 2 * list(OPS).index(name) + 1
    skipped, expected = records["forward"], records["vjp"]
    assert skipped["verdict"] == "skip", _summary(records)
    assert skipped["message"] == f"skipped by {verify_run.expectations}:{line}: {SKIP_REASON}"
    assert expected["verdict"] == "xfail", _summary(records)
    entry = f"{verify_run.expectations}:{line + 1}"
    assert expected["expected_failure"] == {"reason": XFAIL_REASON, "entry": entry, "verdict": "fail"}


def _at_arguments(example: Any) -> list[str]:
    """--at and --param as a user writes them: JSON arrays, parameters as Python literals."""
    arguments = [f"--at={k}={json.dumps(v.tolist())}" for k, v in example.arrays.items()]
    return arguments + [f"--param={k}={v!r}" for k, v in example.params.items()]


@pytest.mark.parametrize("name", list(OPS))
def test_at_checks_every_op_at_the_given_input(
    name: str, drawn: dict[str, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = drawn[name][-1]
    impls = ["--impl", str(IMPLS / "entry_tuple.py"), "--impl", str(IMPLS / "entry_broken.py"), "--in-process"]
    options = ["--quiet", "--only", name, "--check", "forward,vjp", "--dtype", "float64", "--report-dir", str(tmp_path)]
    status = cli.main(["verify", *options, *impls, *_at_arguments(example)])
    output = capsys.readouterr()
    assert status == 1, output  # the broken vjp fails at that input
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [d["regions"] for d in report["derivations"]] == [{"user": 1}]
    right = _by_check(report["checks"], "impl:entry_tuple", name)
    assert set(right) == {"forward", "vjp"} and all(r["verdict"] == "pass" for r in right.values()), _summary(right)
    assert all(r["examples"] == 1 for r in right.values())
    wrong = _by_check(report["checks"], BROKEN, name)["vjp"]
    assert wrong["verdict"] == "fail", wrong["message"]
    assert wrong["failure"]["input"]["arrays"] == {k: v.tolist() for k, v in example.arrays.items()}
