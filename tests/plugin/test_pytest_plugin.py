"""The pytest plugin, run in pytester sandboxes: reports, failure messages, markers, profiles."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import settings

from gradproof.session import cuda_available
from harness import report_schema
from harness.impl import conformance

PLUGIN = ("-p", "gradproof.pytest_plugin")

MINE = """
import numpy as np
import gradproof

def sigmoid(z):
    return 1 / (1 + np.exp(-z))

def sigmoid_vjp(z, c):
    a = sigmoid(z)
    return c * a * (1 - a)

def wrong_vjp(z, c):
    a = sigmoid(z)
    return c * a * (1 + a)
"""


def test_report_option_writes_json_html_and_junit_for_the_checks_that_ran(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mine=MINE
        + """
def test_mine():
    gradproof.check(sigmoid, "sigmoid", vjp=sigmoid_vjp, dtypes=["float64"], max_examples=2)
"""
    )
    out = pytester.mkdir("out")
    result = pytester.runpytest(*PLUGIN, f"--gradproof-report={out}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["gradproof report: *report.json*index.html*junit.xml"])
    report = report_schema.load(out / "report.json")
    assert {c["backend"] for c in report["checks"]} == {"impl:test_mine.sigmoid"}
    assert {c["check"] for c in report["checks"]} == {"forward", "vjp", "projection", "jacobian", *conformance.KINDS}
    assert all(c["verdict"] == "pass" and c["examples"] >= 2 for c in report["checks"])
    assert all(c["reproduce"] == "pytest test_mine.py::test_mine" for c in report["checks"])
    assert [d["name"] for d in report["derivations"]] == ["sigmoid"]
    assert len(list(ET.parse(out / "junit.xml").getroot().iter("testcase"))) == 4 + len(conformance.KINDS)
    assert "impl:test_mine.sigmoid" in (out / "index.html").read_text(encoding="utf-8")


def test_a_failure_names_derivation_input_worst_entry_expected_actual_ulps_and_tolerance(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_wrong=MINE
        + """
def test_wrong():
    gradproof.check(sigmoid, "sigmoid", vjp=wrong_vjp, dtypes=["float64"], regions=["typical"], max_examples=1)
"""
    )
    # Shrinking would rerun the exact reference many times; the message is the same without it.
    pytester.makeconftest(
        """
from hypothesis import Phase, settings

settings.register_profile("no-shrink", phases=[Phase.generate], database=None)
settings.load_profile("no-shrink")
"""
    )
    out = pytester.mkdir("out")
    before = settings.get_current_profile_name()
    try:
        result = pytester.runpytest(*PLUGIN, f"--gradproof-report={out}")
    finally:
        settings.load_profile(before)  # in-process: the sandbox's profile must not stay loaded
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CheckFailure: gradproof: fail sigmoid-impl:test_wrong.sigmoid-cpu-float64-vjp*",
            "*input (region typical):*",
            "*z = *",
            "*worst entry [[]*]: expected *, actual *",
            "* × the tolerance * at that entry",
            "*tolerance: rho*u*",
        ]
    )
    verdicts = {c["check"]: c["verdict"] for c in json.loads((out / "report.json").read_text())["checks"]}
    assert verdicts["vjp"] == "fail"


def test_markers_are_registered_and_cuda_skips_with_a_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest

@pytest.mark.cuda
def test_gpu():
    pass

@pytest.mark.slow
def test_slow():
    pass

@pytest.mark.thorough
def test_deep():
    pass
"""
    )
    markers = pytester.runpytest(*PLUGIN, "--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.cuda:*", "@pytest.mark.slow:*", "@pytest.mark.thorough:*"])
    result = pytester.runpytest(*PLUGIN, "--strict-markers", "-m", "not slow", "-rs")
    if cuda_available():
        result.assert_outcomes(passed=2, deselected=1)
    else:
        result.assert_outcomes(passed=1, skipped=1, deselected=1)
        result.stdout.fnmatch_lines(["*no CUDA device*"])


def test_a_hypothesis_profile_sets_the_examples_per_region(pytester: pytest.Pytester) -> None:
    profile, examples = "ci", 20  # the quick default is 5
    pytester.makepyfile(
        test_profile=MINE
        + f"""
from hypothesis import settings

def test_profile():
    assert settings.get_current_profile_name() == {profile!r}
    records = gradproof.check(sigmoid, "sigmoid", vjp=sigmoid_vjp, dtypes=["float64"], regions=["typical"],
                              checks=["forward"])
    assert [r["examples"] for r in records] == [{examples}]
"""
    )
    before = settings.get_current_profile_name()
    try:
        result = pytester.runpytest(*PLUGIN, f"--hypothesis-profile={profile}")
    finally:
        settings.load_profile(before)  # in-process: the sandbox's profile must not stay loaded
    result.assert_outcomes(passed=1)


def test_a_missing_report_folder_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest(*PLUGIN, "--gradproof-report=no/such/folder")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gradproof-report: folder 'no/such/folder' does not exist*"])


def test_without_the_option_nothing_is_written(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_quiet=MINE
        + """
def test_quiet(gradproof_check):
    gradproof_check(sigmoid, "sigmoid", vjp=sigmoid_vjp, dtypes=["float64"], regions=["typical"], max_examples=1)
"""
    )
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1)
    assert not list(pytester.path.rglob("report.json"))
