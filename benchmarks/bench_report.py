"""How long rendering index.html for a report takes, and how large the page is.

Given a report.json (by default reports/report.json from `gradproof verify` over the whole
catalog), times in fresh processes the full `gradproof report` command (imports, schema
validation, MathML, catalog plots, HTML and JUnit) and, within one process, the render alone.

    python benchmarks/bench_report.py [reports/report.json] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="?", type=Path, default=Path("reports/report.json"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not args.json.is_file():
        sys.exit(f"no report at {args.json}: run `gradproof verify` first")

    from harness import html_report, report_schema

    data = report_schema.load(args.json)
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "harness", "report", str(args.json), "--out", out]
        walls = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t0)
        size = (Path(out) / "index.html").stat().st_size
    t0 = time.perf_counter()
    html_report.render(data)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        html_report.render(data)
        warm.append(time.perf_counter() - t0)
    print(f"report: {args.json} ({len(data['checks'])} checks, {len(data['derivations'])} derivations)")
    print(f"`gradproof report` in a fresh process: median {statistics.median(walls):.2f} s (max {max(walls):.2f} s)")
    print(f"render in-process: first {cold:.2f} s (MathML, catalog plots), then {statistics.median(warm):.3f} s")
    print(f"index.html: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
