"""Shards and -j: the plan split into parts and merged again gives the report one process writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness import cli, shards

RUN = ["verify", "--quiet", "--profile", "quick", "--backend", "numpy", "--dtype", "float64"]
ONLY = ["--only", "sigmoid,relu,softmax,mse,max_pool2d,sum_dim,residual_linear,adagrad_rule,square_loss_convex"]


def _timeless(value: Any) -> Any:
    """A report without what differs from run to run: timings, the creation time, the machine."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in ("seconds", "created", "environment")}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _report(folder: Path) -> Any:
    return _timeless(json.loads((folder / "report.json").read_text()))


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("serial")
    assert cli.main([*RUN, *ONLY, "--report-dir", str(folder)]) in (0, 1)
    return _report(folder)


def test_the_named_claims_and_ops_ran(serial: Any) -> None:
    assert len(serial["derivations"]) == 7 and len(serial["claims"]) == 2


def test_two_processes_write_the_report_one_process_writes(serial: Any, tmp_path: Path) -> None:
    assert cli.main([*RUN, *ONLY, "-j", "2", "--report-dir", str(tmp_path)]) in (0, 1)
    assert _report(tmp_path) == serial


def test_shards_merged_by_report_equal_the_unsharded_run(serial: Any, tmp_path: Path) -> None:
    parts = []
    for k in (1, 2, 3):
        part = tmp_path / f"part{k}"
        part.mkdir()
        assert cli.main([*RUN, *ONLY, "--shard", f"{k}/3", "--report-dir", str(part)]) in (0, 1)
        parts.append(part / "report.json")
    assert {len(json.loads(p.read_text())["derivations"]) for p in parts} == {2, 3}
    merged = tmp_path / "merged"
    merged.mkdir()
    assert cli.main(["report", *map(str, parts), "--out", str(merged)]) == 0
    assert _report(merged) == serial
    assert (merged / "index.html").is_file() and (merged / "junit.xml").is_file()


def test_a_missing_or_repeated_shard_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, k in ((a, 1), (b, 1)):
        folder.mkdir()
        cli.main([*RUN, "--only", "sigmoid,relu", "--shard", f"{k}/2", "--report-dir", str(folder)])
    assert cli.main(["report", str(a / "report.json"), str(b / "report.json"), "--out", str(tmp_path)]) == 2
    assert "shard 2 missing" in capsys.readouterr().err
    whole = {k: v for k, v in json.loads((a / "report.json").read_text()).items() if k != "shard"}
    with pytest.raises(ValueError, match="more than one report"):
        shards.merge([whole, whole])


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_a_shard_is_k_of_n(tmp_path: Path, text: str) -> None:
    assert cli.main([*RUN, "--only", "sigmoid", "--shard", text, "--report-dir", str(tmp_path)]) == 2


def test_jobs_do_not_go_with_an_implementation(tmp_path: Path) -> None:
    assert cli.main(["verify", "--impl", "tests/impls/slow.py", "-j", "2", "--report-dir", str(tmp_path)]) == 2
