"""What isolation costs: the same implementation checked in a worker process and in-process.

    python benchmarks/bench_isolation.py --repeats 3

Runs the value and conformance checks of examples/numpy_impl.py over the catalog (quick
profile, float32 and float64), alternating the two modes, and reports the median wall time of
the whole run and of the time spent inside calls to the implementation.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from derivations import CATALOG
from harness import checks
from harness.impl import conformance
from harness.impl.session import load
from harness.runner import Runner, RunOptions, examples_for

SPEC = str(Path(__file__).resolve().parent.parent / "examples" / "numpy_impl.py")


def one_run(isolate: bool) -> tuple[float, float, int]:
    """Seconds for the whole run, seconds inside implementation calls, number of calls."""
    backend = load(SPEC, isolate=isolate)
    inner = backend.caller.call
    spent = [0.0, 0]

    def timed(*args: object) -> object:
        t0 = time.perf_counter()
        try:
            return inner(*args)  # type: ignore[arg-type]
        finally:
            spent[0] += time.perf_counter() - t0
            spent[1] += 1

    backend.caller.call = timed  # type: ignore[method-assign, assignment]
    options = RunOptions(seed=0, profile="quick", kinds=checks.KINDS, fd_oracle=False)
    start = time.perf_counter()
    for d in CATALOG.values():
        examples = examples_for(d, options)
        Runner([backend], options).run_op(d, examples)
        conformance.run(backend, d, examples, options)
    total = time.perf_counter() - start
    backend.caller.close()
    return total, float(spent[0]), int(spent[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    one_run(False)  # warm caches (symbolic expressions, lambdified references)
    runs: dict[bool, list[tuple[float, float, int]]] = {True: [], False: []}
    for _ in range(args.repeats):
        for isolate in (False, True):
            runs[isolate].append(one_run(isolate))
    for isolate in (False, True):
        total = statistics.median(r[0] for r in runs[isolate])
        inside = statistics.median(r[1] for r in runs[isolate])
        calls = runs[isolate][0][2]
        name = "worker process" if isolate else "in-process"
        print(f"{name:15} run {total:6.2f} s; inside the implementation {inside:6.3f} s over {calls} calls")
    t_in, t_iso = (statistics.median(r[0] for r in runs[k]) for k in (False, True))
    c_in, c_iso = (statistics.median(r[1] for r in runs[k]) for k in (False, True))
    print(f"isolation overhead: whole run {t_iso / t_in:.2f}x, calls alone {c_iso / c_in:.1f}x")


if __name__ == "__main__":
    main()
