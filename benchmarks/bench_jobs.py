"""What `verify -j N` gains over the serial run: the whole catalog, each command in a fresh process,
alternated round by round so that both see the same machine; wall time, and CPU time of the
process and its children.

    python benchmarks/bench_jobs.py [--jobs 2] [--rounds 2] [--also OTHER_CHECKOUT] [-- VERIFY_ARGS]

`--also` runs `-j N` from another checkout in the same rounds (a before-and-after comparison:
`git worktree add /tmp/before HEAD~1`); it uses this interpreter, so both share one environment.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (this process's children, the command's own workers included)."""
    before = os.times()
    t0 = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--also", type=Path, help="another checkout whose -j N runs in the same rounds")
    parser.add_argument("verify", nargs="*", default=["--quiet"], help="arguments for `gradproof verify`")
    args = parser.parse_args()
    contenders = [("-j 1", HERE, "1"), (f"-j {args.jobs}", HERE, str(args.jobs))]
    if args.also:
        contenders.append((f"-j {args.jobs} ({args.also})", args.also.resolve(), str(args.jobs)))
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in contenders}
    with tempfile.TemporaryDirectory() as out:
        for r in range(args.rounds):
            for name, tree, jobs in contenders:
                command = [sys.executable, "-m", "harness", "verify", *args.verify, "-j", jobs, "--report-dir", out]
                times[name].append(_timed(command, tree))
                wall, cpu = times[name][-1]
                print(f"round {r + 1}: {name}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    serial = times["-j 1"]
    for name, _, _ in contenders[1:]:
        ratios = [w / s[0] for (w, _), s in zip(times[name], serial, strict=True)]
        print(f"{name} / -j 1, round by round: {', '.join(f'{x:.3f}' for x in ratios)}")
    for name, runs in times.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{name}: median {statistics.median(walls):.1f} s wall, {statistics.median(cpus):.1f} s CPU")


if __name__ == "__main__":
    main()
