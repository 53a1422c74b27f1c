"""gradproof selftest: every mutant caught, no correct variant flagged, the table in report.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness import cli
from harness.selftest import run
from harness.selftest.mutants import VARIANTS, Variant


def _selftest(tmp_path: Path, *args: str) -> tuple[int, dict[str, object]]:
    status = cli.main(["selftest", "--quiet", "--report-dir", str(tmp_path), *args])
    return status, json.loads((tmp_path / "report.json").read_text())


def test_library_has_thirty_distinct_families_and_correct_variants() -> None:
    families = {v.family for v in VARIANTS if not v.correct}
    assert len(families) >= 30
    assert {v.op for v in VARIANTS if v.correct} >= {"relu", "leaky_relu"}  # other subgradients at kinks
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)


def test_selftest_rows_for_one_op(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = _selftest(tmp_path, "--only", "relu,mse-reassociated")
    out = capsys.readouterr().out
    rows = report["selftest"]
    assert isinstance(rows, list)
    assert {r["op"] for r in rows} == {"relu", "mse"}
    assert {"mutant", "family", "op", "caught_by_gradproof", "caught_by_gradcheck", "detail"} <= set(rows[0])
    missed = [r["mutant"] for r in rows if not r["correct"] and not r["caught_by_gradproof"]]
    flagged = [r["mutant"] for r in rows if r["correct"] and r["caught_by_gradproof"]]
    assert missed == [] and flagged == [], (missed, flagged)
    assert status == 0
    # gradcheck cannot tell a valid subgradient at an exact kink from a wrong one; gradproof can.
    gc = {r["mutant"]: r["caught_by_gradcheck"] for r in rows}
    assert gc["relu-subgradient-one"] and not gc["mse-reassociated"]
    assert "relu-inplace" in out and "gradcheck" in out


def test_selftest_writes_the_views_from_its_report(tmp_path: Path) -> None:
    """index.html and junit.xml stay in step with report.json: no page from an earlier run."""
    (tmp_path / "index.html").write_text("stale")
    _selftest(tmp_path, "--only", "relu")
    assert "relu" in (tmp_path / "index.html").read_text() and (tmp_path / "junit.xml").exists()


def test_selftest_keeps_the_verify_report(tmp_path: Path) -> None:
    verify = ["verify", "--quiet", "--no-claims", "--only", "sigmoid", "--backend", "numpy", "--check", "forward"]
    cli.main([*verify, "--profile", "quick", "--report-dir", str(tmp_path)])
    checks = json.loads((tmp_path / "report.json").read_text())["checks"]
    _selftest(tmp_path, "--only", "tanh-no-square", "--in-process")
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["checks"] == checks and data["selftest"][0]["mutant"] == "tanh-no-square"


def test_no_correct_variant_is_flagged(tmp_path: Path) -> None:
    """The correct variants lean on the reference's own functions: a change to those must not make them fail."""
    names = ",".join(v.name for v in VARIANTS if v.correct)
    status, report = _selftest(tmp_path, "--only", names)
    rows = report["selftest"]
    assert isinstance(rows, list) and len(rows) == sum(v.correct for v in VARIANTS)
    assert [r["mutant"] for r in rows if r["caught_by_gradproof"]] == [] and status == 0


def test_ops_checked_in_parallel_give_the_rows_and_table_of_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-j 2 checks the op groups in two processes (each with its own workers); the rows, their order and the
    table are those of -j 1. sum_dim comes last in the library, and is started first (a program is slower)."""
    only = ("--only", "tanh-no-square,sum-keepdim-last-axis,tanh-inplace")
    reports: list[list[dict[str, object]]] = []
    tables: list[list[str]] = []
    for jobs in ("1", "2"):
        status, report = _selftest(tmp_path / jobs, *only, "-j", jobs)
        rows = report["selftest"]
        assert status == 0 and isinstance(rows, list)
        reports.append(rows)
        # The table and the totals, without the seconds and the report's path (which differ).
        out = capsys.readouterr().out.splitlines()
        tables.append([re.sub(r" \(\d+\.\d s\)$", "", line) for line in out if not line.startswith("report:")])
    serial, parallel = reports
    assert [r["mutant"] for r in serial] == ["tanh-no-square", "tanh-inplace", "sum-keepdim-last-axis"]
    assert parallel == serial
    assert tables[1] == tables[0]


def test_a_group_that_raises_in_a_pool_process_stops_the_run() -> None:
    strangers = [Variant("not-in-the-library", "none", "tanh"), Variant("not-in-the-library-either", "none", "relu")]
    with pytest.raises(RuntimeError, match=r"selftest of (tanh|relu) raised"):
        run.run(strangers, jobs=2)


def test_jobs_must_be_a_positive_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["selftest", "-j", "0"]) == 2
    assert "-j takes a number of processes, 1 or more, not '0'" in capsys.readouterr().err


@pytest.mark.thorough
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_whole_library_every_mutant_caught_no_false_alarm(tmp_path: Path, seed: int) -> None:
    status, report = _selftest(tmp_path, "--seed", str(seed))
    rows = report["selftest"]
    assert isinstance(rows, list)
    bad = [r for r in rows if r["correct"] == r["caught_by_gradproof"]]
    assert bad == [] and status == 0, bad
