"""A wrong value is told apart from a range or precision limit met only at the edge of what a format
holds, in the records and the exit status, and neither is hidden."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from derivations.model import Example
from harness import cli, verify_command
from harness.backends import numpy_ref
from harness.backends.numpy_ref import NumpyBackend, Pair
from harness.group_run import at_edge


@pytest.mark.parametrize(
    ("region", "edge"),
    [
        ("typical", False),
        ("kink", False),
        ("zeros", False),
        ("saturation", True),
        ("large-logits", True),
        ("tiny", True),
        ("huge", True),
    ],
)
def test_the_region_an_example_came_from_decides_whether_it_is_at_the_edge(region: str, edge: bool) -> None:
    """Not the entries' sizes: a typical example may hold a 1e-30 now and then."""
    assert at_edge(Example({"z": np.array([0.5, 1e-30])}, {}, region)) is edge


def _run(tmp_path: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    status = cli.main(["verify", "--quiet", "--no-claims", "--profile", "quick", "--report-dir", str(tmp_path), *args])
    report = json.loads((tmp_path / "report.json").read_text())
    return status, [r for r in report["checks"] if r["verdict"] == "fail"]


def test_a_wrong_gradient_is_a_wrong_value_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = numpy_ref.OPS["sigmoid"]
    wrong = Pair(base.forward, lambda z, c: 1.01 * base.vjp(z, c))  # type: ignore[operator]
    monkeypatch.setitem(verify_command.BACKENDS, "numpy", lambda: NumpyBackend("numpy", {"sigmoid": wrong}))
    status, failed = _run(tmp_path, "--only", "sigmoid", "--backend", "numpy", "--check", "vjp")
    assert status == 1 and failed and {r["severity"] for r in failed} == {"wrong-value"}


def test_torchs_cancelling_cross_entropy_is_a_range_limit_and_exit_3(tmp_path: Path) -> None:
    """Without the known-findings file: BCE-with-logits' (1 - y) z + max(-z, 0) cancels at large
    negative logits, drawn in the saturation region, and fails only there."""
    args = ("--only", "binary_cross_entropy", "--backend", "torch", "--device", "cpu", "--check", "forward")
    status, failed = _run(tmp_path, *args, "--expectations", "/dev/null")
    assert failed and {r["severity"] for r in failed} == {"range-limit"}
    assert status == 3
