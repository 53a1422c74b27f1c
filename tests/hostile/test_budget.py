"""--budget: an implementation slow on every call is stopped once its time is spent, the rest is reported."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from harness import cli

ARGS = ["verify", "--quiet", "--impl", "tests/impls/slow.py", "--only", "sigmoid", "--profile", "quick"]


def test_a_spent_budget_makes_the_remaining_checks_errors_and_ends_the_run_early(tmp_path: Path) -> None:
    start = time.perf_counter()
    status = cli.main([*ARGS, "--dtype", "float64", "--in-process", "--budget", "1", "--report-dir", str(tmp_path)])
    elapsed = time.perf_counter() - start
    records = json.loads((tmp_path / "report.json").read_text())["checks"]
    spent = [r for r in records if r["verdict"] == "error" and "time budget" in r["message"]]
    assert status == 1
    assert spent, [(r["id"], r["verdict"]) for r in records]
    assert all("--budget 1 s" in r["message"] for r in spent)
    # Only calls made before the budget ran out cost time: each later check stops at once.
    assert elapsed < 1 + 0.2 * 4 + 10, elapsed
    ran = [r for r in records if r not in spent]
    assert all(r["verdict"] == "pass" for r in ran), [(r["id"], r["verdict"], r["message"]) for r in ran]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_a_budget_must_be_a_positive_number(tmp_path: Path, value: str) -> None:
    assert cli.main([*ARGS, "--budget", value, "--report-dir", str(tmp_path)]) == 2


def test_a_budget_without_an_implementation_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verify", "--only", "sigmoid", "--budget", "5", "--report-dir", str(tmp_path)]) == 2
    assert "--budget goes with --impl or --shape" in capsys.readouterr().err
