"""The plugin's report under pytest-xdist: every worker's records, as one process writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("xdist", reason="pytest-xdist is not installed (the `test` extra installs it)")

PLUGIN = ("-p", "gradproof.pytest_plugin")

# Two groups, one per worker under --dist loadgroup: sigmoid, its check ids and the declared op are
# recorded on both workers, so the controller has to merge them as one process merges two tests.
SUITE = """
import os
from pathlib import Path

import pytest
import torch

import gradproof

@gradproof.op(inputs={"x": ("n",)})
def swish(m, x):
    return x * m.sigmoid(x)

def ran(test):
    Path(f"ran-{test}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}").touch()

def check(fn, op, seed, **kw):
    gradproof.check(fn, op, dtypes=["float64"], max_examples=2, seed=seed, name="mine", **kw)

@pytest.mark.xdist_group("a")
def test_sigmoid_a():
    ran("a")
    check(torch.sigmoid, "sigmoid", 1)

@pytest.mark.xdist_group("a")
def test_residual_a():
    check(lambda x, w, b: torch.relu(x @ w.T + b + x), "residual_linear", 3, regions=["typical"])

@pytest.mark.xdist_group("a")
def test_declared_a():
    check(lambda x: x * torch.sigmoid(x), swish, 5)

@pytest.mark.xdist_group("b")
def test_sigmoid_b():
    ran("b")
    check(torch.sigmoid, "sigmoid", 2)

@pytest.mark.xdist_group("b")
def test_tanh_b():
    check(torch.tanh, "tanh", 4)

@pytest.mark.xdist_group("b")
def test_declared_b():
    check(lambda x: x * torch.sigmoid(x), swish, 6)
"""


def _comparable(folder: Path) -> dict[str, Any]:
    """report.json without what differs between runs (timings, creation time, machine) or with the
    order in which the tests happened to run (ops and checks are listed as first recorded)."""
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    for key in ("seconds", "created", "environment"):
        data.pop(key, None)
    data["derivations"] = sorted(data["derivations"], key=lambda d: d["name"])
    data["checks"] = sorted(({k: v for k, v in c.items() if k != "seconds"} for c in data["checks"]), key=str)
    return data


def test_two_workers_write_the_report_one_process_writes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    serial, parallel = pytester.mkdir("serial"), pytester.mkdir("parallel")
    # In subprocesses: the workers are processes anyway, and hypothesis' settings stay out of this one.
    pytester.runpytest_subprocess(*PLUGIN, f"--gradproof-report={serial}").assert_outcomes(passed=6)
    for leftover in pytester.path.glob("ran-*"):
        leftover.unlink()
    result = pytester.runpytest_subprocess(*PLUGIN, "-n", "2", "--dist", "loadgroup", f"--gradproof-report={parallel}")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["gradproof report: *report.json*"])
    workers = {p.name.rsplit("-", 1)[1] for p in pytester.path.glob("ran-*")}
    assert len(workers) == 2, f"both groups ran on one worker ({workers}): nothing was merged across workers"
    got, want = _comparable(parallel), _comparable(serial)
    assert [d["name"] for d in got["derivations"]] == ["residual_linear", "sigmoid", "swish", "tanh"]
    assert got == want


def test_merging_records_does_not_depend_on_their_order() -> None:
    """Workers end in any order: ties (a conformance check with no usage, or equal usage) keep the same
    record whichever arrives first, and the worse record wins either way."""
    from gradproof import recording

    def record(test: str, verdict: str = "pass", usage: float | None = None) -> dict[str, Any]:
        return {
            "id": "sigmoid-impl:mine-cpu-float64-cotangent",
            "verdict": verdict,
            "tolerance_usage": usage,
            "reproduce": f"pytest test_suite.py::{test}",
            "examples": 2,
            "seconds": 0.1,
        }

    for a, b in [
        (record("test_sigmoid_a"), record("test_sigmoid_b")),
        (record("test_sigmoid_a", usage=0.0), record("test_sigmoid_b", usage=0.0)),
        (record("test_sigmoid_b", usage=0.5), record("test_sigmoid_a", usage=0.25)),
        (record("test_sigmoid_b", "fail", 2.0), record("test_sigmoid_a", usage=0.9)),
    ]:
        assert recording.merge(a, b) == recording.merge(b, a)
        assert recording.merge(a, b)["examples"] == 4
    assert (
        recording.merge(record("test_sigmoid_b", usage=0.5), record("test_sigmoid_a", usage=0.25))["tolerance_usage"]
        == 0.5
    )
