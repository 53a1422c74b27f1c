"""How a full check's time grows with size, for every op of the catalog.

    python benchmarks/bench_growth.py [--ops sigmoid,conv2d,...] [--base 1024] [--steps 3] [--dtype float32]

For each op, the shape of its first input grows by 4x a step from about --base entries: a vector for an
elementwise closed form, rows of 8 for a row op, the batch axis N of a program (conv2d's x 1 x 1 x 16 x 16,
a layer's N x 16), axis 0 of an any-rank op (N x 16). At each shape every region's example is drawn as
`verify --shape OP=SHAPE` draws it (harness/chosen_shapes.py), and the first-order value checks of torch
run on them in one process on the CPU, --dtype only: the references included, not the verdict on the
stated derivative (once per op, at any size). Each op's smallest shape runs once untimed first (SymPy's
compiled expressions, torch's first calls). The table gives CPU seconds (time.process_time) per shape,
the log-log slope between the last two shapes (the growth exponent, where the fixed costs weigh least)
and over all of them, and any record that did not pass (xfail: a known finding, harness/known_findings.txt).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence

import torch

from derivations.model import ClosedForm, Op
from harness import chosen_shapes, pipeline
from harness.backends.torch_backend import TorchBackend
from harness.impl.conventions import layout
from harness.impl.session import read_expectations
from harness.options import RunOptions

FIRST_ORDER = ("forward", "vjp", "projection", "jacobian", "jvp", "transpose")
ROW = 8
WIDTH = 16  # a program's axes other than the batch: conv2d's H and W, a layer's features


def shape_at(op: Op, entries: int) -> tuple[int, ...]:
    """A shape of the op's first input with about `entries` entries, growing along one axis."""
    if isinstance(op.engine, ClosedForm):
        return (entries,) if op.structure == "elementwise" else (max(1, entries // ROW), ROW)
    axes = layout(op).inputs[op.inputs[0].name]
    if axes == ("N", "C", "H", "W"):
        return (max(1, entries // WIDTH**2), 1, WIDTH, WIDTH)
    if len(axes) == 1:  # a perceptron's n
        return (entries,)
    return (max(1, entries // WIDTH), WIDTH)


KNOWN = read_expectations(None, built_in=True)  # the known findings file, as `verify` applies it


def timed(op: Op, shape: tuple[int, ...], options: RunOptions) -> tuple[float, float, list[str]]:
    """CPU and wall seconds of the value checks at `shape`, and the records that did not pass (a known
    finding's expected failure, xfail, listed too)."""
    examples = chosen_shapes.examples_at(op, shape, seed=0)
    cpu, wall = time.process_time(), time.perf_counter()
    records = pipeline.Pipeline([TorchBackend()], options).values(op, examples)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if KNOWN is not None:
        records = KNOWN.apply(records)
    return cpu, wall, [f"{r['check']} {r['verdict']}" for r in records if r["verdict"] not in ("pass", "skip")]


def slope(points: Sequence[tuple[int, float]]) -> float:
    """Least-squares slope of log(seconds) over log(entries)."""
    xs = [math.log(s) for s, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread


def entries_of(shape: Sequence[int]) -> int:
    return math.prod(shape)


THREADS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def main(argv: Sequence[str] | None = None) -> None:
    if argv is None and not any(name in os.environ for name in THREADS):
        # One BLAS thread, which must be set before NumPy loads: CPU time is then the work (a second thread's
        # spinning made a sum over 65,536 entries cost 0.89 s of CPU for 0.54 s of wall).
        env = {**os.environ, **dict.fromkeys(THREADS, "1")}
        os.execve(sys.executable, [sys.executable, __file__, *sys.argv[1:]], env)
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", default=",".join(pipeline.OPS))
    parser.add_argument("--base", type=int, default=1024, help="entries of the first input at the first step")
    parser.add_argument("--steps", type=int, default=3, help="shapes per op, 4x apart")
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args(argv)
    options = RunOptions(dtypes=(args.dtype,), devices=("cpu",), kinds=FIRST_ORDER, fd_oracle=False)
    shapes_header = " | ".join(f"step {k + 1}" for k in range(args.steps))
    print(f"| op | {shapes_header} | exponent, last two | exponent, all | not passed |")
    print("|---|" + "---|" * (args.steps + 3))
    for name in args.ops.split(","):
        op = pipeline.OPS[name]
        shapes = [shape_at(op, args.base * 4**k) for k in range(args.steps)]
        try:
            timed(op, shapes[0], options)  # untimed
            found = [(shape, timed(op, shape, options)) for shape in shapes]
        except chosen_shapes.ShapeError as exc:
            print(f"| {name} | {exc} |", flush=True)
            continue
        points = [(entries_of(shape), cpu) for shape, (cpu, _, _) in found]
        cells = [f"{'x'.join(map(str, shape))}: {cpu:.2f} s" for shape, (cpu, _, _) in found]
        bad = sorted({line for _, (_, _, failed) in found for line in failed})
        print(
            f"| {name} | {' | '.join(cells)} | {slope(points[-2:]):.2f} | {slope(points):.2f} | "
            f"{'; '.join(bad) or '-'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
