"""Shards and -j: the plan split into parts and merged again gives the report one process writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from derivations import CLAIMS
from harness import cli, report, shards
from harness.pipeline import OPS

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
    assert cli.main([*RUN, *ONLY, "-j", "1", "--report-dir", str(folder)]) in (0, 1)
    return _report(folder)


def test_the_named_claims_and_ops_ran(serial: Any) -> None:
    assert len(serial["derivations"]) == 7 and len(serial["claims"]) == 2


def test_two_processes_write_the_report_one_process_writes(
    serial: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The parent (this process) must not describe itself as where the checks ran: the shards ran them.
    monkeypatch.setattr(report, "environment", lambda: {"gradproof": "the merging process"})
    loud = [a for a in RUN if a != "--quiet"]
    assert cli.main([*loud, *ONLY, "-j", "2", "--report-dir", str(tmp_path)]) in (0, 1)
    assert _report(tmp_path) == serial
    # The parent renders the views once; the environment is the shards', where the checks ran.
    assert {p.name for p in tmp_path.iterdir()} >= {"report.json", "index.html", "junit.xml"}
    merged = json.loads((tmp_path / "report.json").read_text())
    assert merged["environment"]["gradproof"] != "the merging process" and merged["environment"]["torch"]
    assert "shard_environments" not in merged  # both shards ran here, alike
    # The shards' progress lines, numbered across the plan in the order they end, as one process numbers them.
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "7 ops and 2 claims in 2 processes; each line as its op or claim ends"
    labels = [line.split("] ")[0] + "]" for line in lines[1:]]
    assert [x for x in labels if not x.startswith("[claim")] == [f"[{k}/7]" for k in range(1, 8)]
    assert [x for x in labels if x.startswith("[claim")] == ["[claim 1/2]", "[claim 2/2]"]
    named = sorted(line.split("] ")[1].split(":")[0] for line in lines[1:])
    assert named == sorted(ONLY[1].split(","))


def test_shards_merged_by_report_equal_the_unsharded_run(serial: Any, tmp_path: Path) -> None:
    parts = []
    for k in (1, 2, 3):
        part = tmp_path / f"part{k}"
        part.mkdir()
        assert cli.main([*RUN, *ONLY, "--shard", f"{k}/3", "--report-dir", str(part)]) in (0, 1)
        parts.append(part / "report.json")
    assert all(json.loads(p.read_text())["derivations"] for p in parts)
    merged = tmp_path / "merged"
    merged.mkdir()
    assert cli.main(["report", *map(str, parts), "--out", str(merged)]) == 0
    assert _report(merged) == serial
    assert (merged / "index.html").is_file() and (merged / "junit.xml").is_file()


def test_a_shard_process_of_jobs_writes_its_report_only(tmp_path: Path) -> None:
    assert cli.main([*RUN, "--only", "sigmoid", "--shard", "1/1", "--json-only", "--report-dir", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    assert shards.merge([json.loads((tmp_path / "report.json").read_text())])["summary"]["pass"] > 0


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


@pytest.mark.parametrize("n", [2, 3, 4])
def test_the_shards_split_the_plan_once_and_end_together(n: int) -> None:
    ops, claims = tuple(OPS), tuple(CLAIMS)
    parts = [shards.split(ops, claims, (k, n)) for k in range(1, n + 1)]
    assert sorted(o for p in parts for o in p[0]) == sorted(ops)
    assert sorted(c for p in parts for c in p[1]) == sorted(claims)
    assert all(list(p[0]) == [o for o in ops if o in p[0]] for p in parts), "each shard keeps the plan's order"
    cost = [sum(shards.COSTS.get(name, shards.CLAIM_COST) for name in (*p[0], *p[1])) for p in parts]
    # Dealt costliest first to the least loaded, the shards differ by less than one item's cost.
    assert max(cost) - min(cost) <= max(shards.COSTS.values())


def test_jobs_default_to_the_usable_cores_for_a_plan_that_pays_for_them() -> None:
    cores = len(os.sched_getaffinity(0))
    whole_catalog = 33 + 111
    assert shards.jobs_for(None, whole_catalog, splittable=True) == min(cores, whole_catalog // 16)
    # A few ops stay in one process: each shard would spend longer starting than checking.
    assert shards.jobs_for(None, 3, splittable=True) == 1
    assert shards.jobs_for(None, whole_catalog, splittable=False) == 1  # --impl, --at, --shard
    assert shards.jobs_for(4, 2, splittable=True) == 2  # what -j asks, one process per item at most


def test_each_shard_process_gets_its_share_of_the_cores_and_the_users_thread_counts_stand() -> None:
    cores = len(os.sched_getaffinity(0))
    env = shards.shard_environment(2, {"PATH": "/bin", "MKL_NUM_THREADS": "3"})
    assert env["OPENBLAS_NUM_THREADS"] == str(max(1, cores // 2))
    assert env["MKL_NUM_THREADS"] == "3" and env["PATH"] == "/bin"
    assert env[shards.EXIT_AT_ONCE] == "1"
    assert shards.shard_environment(4 * cores, {})["OPENBLAS_NUM_THREADS"] == "1"


def test_a_shard_process_that_exits_at_once_keeps_its_status_its_lines_and_its_report(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "harness", *RUN, "--only", "relu", "--shard", "1/1", "--json-only"]
    env = {**os.environ, shards.EXIT_AT_ONCE: "1"}
    done = subprocess.run([*command, "--report-dir", str(tmp_path)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "passed" in done.stdout + done.stderr
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["pass"] > 0
    bad = subprocess.run([*command, "--seed", "x"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "error" in bad.stderr


def test_a_stopped_parallel_run_keeps_what_its_shards_gathered(tmp_path: Path) -> None:
    only = "--only", "sigmoid,relu,softmax,mse,max_pool2d,sum_dim,residual_linear,tanh"
    loud = [a for a in RUN if a != "--quiet"]
    command = [sys.executable, "-m", "harness", *loud, *only, "-j", "2", "--report-dir", str(tmp_path)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("[1/8]"):  # one op done, seven to go: SIGTERM, as a CI job's timeout sends it
            proc.send_signal(signal.SIGTERM)
            break
    rest = proc.stderr.read()
    assert proc.wait() == 130, rest
    assert "gradproof: interrupted after " in rest and " of 8 derivations" in rest
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["interrupted"] is True and 1 <= len(data["derivations"]) < 8
