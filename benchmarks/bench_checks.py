"""Where a whole catalog run spends its time: one line per op, its check records' seconds summed by kind.

    python benchmarks/bench_checks.py [--from-report reports/report.json] [--only sigmoid,conv2d]

Without --from-report it runs `python -m harness verify --quiet --report-dir TMP` (narrowed by --only)
in a child process and reads the report.json it writes; the child's CPU time comes from getrusage.
Each check record carries `seconds`, the wall time of its group over every example (harness/group_run.py):
the exact references are built inside the first group that needs them, usually `forward`. The finite-
difference oracle (backend `fd`, kind `vjp`) is its own column, as the README names it. What no record
holds (drawing inputs, the verdicts on stated derivatives, writing the reports) is the remainder.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CatalogTimes:
    by_op: dict[str, dict[str, float]]  # op -> check kind -> seconds, in report order
    kinds: list[str]  # every kind met, in the order first met
    claims_seconds: float
    run_seconds: float  # the whole run, as the report records it


def kind_of(record: Mapping[str, Any]) -> str:
    return "fd" if record["backend"] == "fd" else str(record["check"])


def times_of(report: Mapping[str, Any]) -> CatalogTimes:
    """Sum every check record's seconds by op and kind (skips hold 0 s and add nothing)."""
    by_op: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    kinds: list[str] = []
    for d in report.get("derivations", []):
        by_op[d["name"]]  # an op whose every check was skipped still gets its line
    for record in report["checks"]:
        kind = kind_of(record)
        if kind not in kinds:
            kinds.append(kind)
        by_op[record["derivation"]][kind] += float(record["seconds"])
    claims = sum(float(c.get("seconds", 0.0)) for c in report.get("claims", []))
    plain = {op: dict(per_kind) for op, per_kind in by_op.items()}
    return CatalogTimes(plain, kinds, claims, float(report.get("seconds", 0.0)))


def table(times: CatalogTimes) -> list[str]:
    """A Markdown table: an op a line, its total first, then each kind; a total line; the remainder."""
    header = ["op", "total", *times.kinds]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    column_sums: dict[str, float] = defaultdict(float)
    for op, per_kind in times.by_op.items():
        cells = [f"{per_kind.get(k, 0.0):.2f}" for k in times.kinds]
        for k in times.kinds:
            column_sums[k] += per_kind.get(k, 0.0)
        lines.append(f"| {op} | {sum(per_kind.values()):.2f} | " + " | ".join(cells) + " |")
    checks_total = sum(column_sums.values())
    sums = " | ".join(f"**{column_sums[k]:.2f}**" for k in times.kinds)
    lines.append(f"| **all ops** | **{checks_total:.2f}** | {sums} |")
    rest = times.run_seconds - checks_total - times.claims_seconds
    lines += [
        "",
        f"check records {checks_total:.1f} s, claims {times.claims_seconds:.1f} s, whole run {times.run_seconds:.1f} s;"
        f" the other {rest:.1f} s: drawing inputs, verdicts on stated derivatives, writing the reports",
    ]
    return lines


@dataclass(frozen=True)
class VerifyRun:
    report: dict[str, Any]
    wall: float
    cpu: float  # user + system of the child process
    exit_code: int


def run_verify(only: Sequence[str] = ()) -> VerifyRun:
    """`python -m harness verify --quiet` into a temporary folder: exit 0, 1 and 3 all leave a report."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "harness", "verify", "--quiet", "--report-dir", folder]
        if only:
            command += ["--only", ",".join(only)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        path = Path(folder) / "report.json"
        if done.returncode == 2 or not path.is_file():
            raise RuntimeError(f"`{' '.join(command)}` exited {done.returncode} without a report")
        report = json.loads(path.read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return VerifyRun(report, wall, cpu, done.returncode)


def catalog_lines(from_report: Path | None, only: Sequence[str] = ()) -> list[str]:
    """The lines `--catalog` prints: read a report.json when given one, else run the catalog first."""
    if from_report is not None:
        report = json.loads(from_report.read_text())
        lines = [f"report: {from_report} (created {report.get('created', '?')}, profile {report.get('profile', '?')})"]
    else:
        run = run_verify(only)
        report = run.report
        narrowed = f" --only {','.join(only)}" if only else ""
        lines = [
            f"ran: python -m harness verify --quiet{narrowed} (exit {run.exit_code}):"
            f" {run.wall:.1f} s wall, {run.cpu:.1f} s CPU"
        ]
    lines.append("seconds by op and check kind (wall time of each check group, summed over backends and dtypes):")
    return lines + table(times_of(report))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-report", type=Path, default=None, help="read this report.json instead of a run")
    parser.add_argument("--only", default="", help="ops (and claims) for the run, comma separated")
    args = parser.parse_args(argv)
    if args.from_report is not None and not args.from_report.is_file():
        parser.error(f"no report at {args.from_report}")
    only = [n for n in args.only.split(",") if n]
    print("\n".join(catalog_lines(args.from_report, only)))


if __name__ == "__main__":
    main()
