"""The estimate `--shape ... --budget` compares (harness/check_cost.py) against the run it estimates.

    python benchmarks/bench_estimate.py [--shape sigmoid=100x100 --shape softmax=64x16 ...] [--dtype float32]

For each shape: the estimate, then `gradproof verify --shape OP=SHAPE -j 1` in a child process, its CPU
time (user + system, from the child's resource usage) and wall time, and the ratio of the estimate to
the CPU time. The run includes the verdict on the op's stated derivative (up to 10 s, once per op),
which the estimate leaves out.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from derivations import OPS
from harness import check_cost, chosen_shapes
from harness.shape_text import parse_spec

DEFAULT = ("sigmoid=100x100", "relu=300x300", "softmax=64x16", "conv2d=1,1,64,64", "dense_layer=64x32")


def measured(spec: str, dtypes: Sequence[str]) -> tuple[float, float, int]:
    """CPU and wall seconds of one verify run of `spec`, and its exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        args = [sys.executable, "-m", "harness", "verify", "--shape", spec, "--quiet", "-j", "1", "--report-dir", out]
        args += [a for d in dtypes for a in ("--dtype", d)]
        status = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall, status


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", action="append", default=[], metavar="OP=SHAPE")
    parser.add_argument("--dtype", action="append", default=[], help="default: float64 and float32")
    args = parser.parse_args(argv)
    dtypes = args.dtype or ["float64", "float32"]
    print("| --shape | estimate | CPU | wall | estimate / CPU | exit |")
    print("|---|---|---|---|---|---|")
    for spec in args.shape or DEFAULT:
        name, shape = parse_spec(spec)
        op = OPS[name]
        examples = chosen_shapes.examples_at(op, chosen_shapes.as_shape(op, shape), seed=0)
        guess = check_cost.estimate(op, examples, dtypes, implementations=2)  # numpy and torch
        cpu, wall, status = measured(spec, dtypes)
        row = [spec, check_cost.duration(guess.seconds), check_cost.duration(cpu), check_cost.duration(wall)]
        print("| " + " | ".join([*row, f"{guess.seconds / cpu:.2f}", str(status)]) + " |", flush=True)


if __name__ == "__main__":
    main()
