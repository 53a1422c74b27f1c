"""Splitting a run and joining its parts: `verify --shard K/N` runs every N-th item of the plan, and
`gradproof report A.json B.json ...` merges the shards' reports into the one an unsharded run writes.
`verify -j N` is the two together on one machine: N shard processes, then one merge."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from harness import report, report_schema

T = TypeVar("T")


def parse(text: str) -> tuple[int, int]:
    """`K/N` with 1 <= K <= N."""
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit()) or not 1 <= int(k) <= int(n):
        raise ValueError(f"--shard takes K/N with 1 <= K <= N, not {text!r}")
    return int(k), int(n)


def take(items: Sequence[T], shard: tuple[int, int], offset: int = 0) -> tuple[T, ...]:
    """Shard K of N: the items at plan positions K-1, K-1+N, ... (`offset` counts positions before these)."""
    k, n = shard
    return tuple(item for i, item in enumerate(items, offset) if i % n == k - 1)


def merge(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The shards' reports as one: ops and claims in the order of the plan the shards were cut from
    (reports without one: as found), each op's checks together; summaries recounted. Raises ValueError
    for parts of different runs, a check found twice, or a shard missing."""
    first = parts[0]
    plan = first.get("plan") or {}
    order, claim_order = plan.get("ops", []), plan.get("claims", [])
    for p in parts[1:]:
        for key in ("seed", "profile"):
            if p.get(key) != first.get(key):
                raise ValueError(f"the reports come from different runs: {key} {first.get(key)!r} and {p.get(key)!r}")
    shards = [p.get("shard") for p in parts]
    if all(shards):
        n = int(str(shards[0]).split("/")[1])
        missing = sorted(set(range(1, n + 1)) - {int(str(s).split("/")[0]) for s in shards})
        if missing:
            raise ValueError(f"shards of {n}: shard {', '.join(map(str, missing))} missing")
        if len(shards) != n:
            raise ValueError(f"{len(shards)} reports for {n} shards")
    ids = Counter(str(c["id"]) for p in parts for c in p["checks"])
    twice = [i for i, count in ids.items() if count > 1]
    if twice:
        raise ValueError(f"{len(twice)} checks are in more than one report, e.g. {twice[0]}")
    rank = {name: i for i, name in enumerate(order)}
    entries = sorted((e for p in parts for e in p["derivations"]), key=lambda e: rank.get(e["name"], len(rank)))
    by_op: dict[str, list[dict[str, Any]]] = {}
    for p in parts:
        for c in p["checks"]:
            by_op.setdefault(str(c["derivation"]), []).append(c)
    checks = [c for e in entries for c in by_op.pop(e["name"], [])] + [c for cs in by_op.values() for c in cs]
    claim_rank = {name: i for i, name in enumerate(claim_order)}
    found_claims: list[dict[str, Any]] = [c for p in parts for c in p.get("claims", [])]
    ran = any("claims" in p for p in parts)
    data = report.build(
        entries,
        checks,
        seed=first["seed"],
        profile=first["profile"],
        seconds=max(float(p["seconds"]) for p in parts),
        claims=sorted(found_claims, key=lambda c: claim_rank.get(str(c["name"]), len(claim_rank))) if ran else None,
        coverage=first.get("coverage"),
    )
    data["interrupted"] = any(p.get("interrupted") for p in parts)
    for key, value in first.items():  # what an --impl run adds (implementations, expectations), alike in each
        if key not in data and key not in ("shard", "plan"):
            data[key] = value
    return data


def run_parallel(argv: Sequence[str], jobs: int, say: Any) -> list[dict[str, Any]]:
    """`gradproof verify ARGV` as `jobs` shard processes at once; their reports, in shard order."""
    with tempfile.TemporaryDirectory(prefix="gradproof-shards-") as tmp:
        procs = []
        for k in range(1, jobs + 1):
            out = Path(tmp) / str(k)
            out.mkdir()
            shard = ["--shard", f"{k}/{jobs}", "--report-dir", str(out), "--quiet", "-j", "1"]
            cmd = [sys.executable, "-m", "harness", *argv, *shard]
            procs.append((k, out, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
        parts = []
        try:
            for k, out, proc in procs:
                _, err = proc.communicate()
                if proc.returncode not in (0, 1) or not (out / "report.json").is_file():
                    raise RuntimeError(f"shard {k}/{jobs} ended with status {proc.returncode}: {err.strip()[-2000:]}")
                parts.append(report_schema.load(out / "report.json"))
                say(f"shard {k}/{jobs}: {len(parts[-1]['checks'])} checks, {len(parts[-1].get('claims', []))} claims")
        finally:
            for _, _, proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        return parts
