"""Side by side, in one run: the CPU and wall time of gradproof's vjp, jvp, vjp-of-vjp and hvp checks of torch
on one example of an op at a given size, each in a fresh pipeline (its exact reference included), rounds
interleaved, medians.

    python benchmarks/bench_orders.py --op sigmoid --size 1024 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from derivations import OPS
from derivations.model import Example
from harness.backends.torch_backend import TorchBackend
from harness.pipeline import Pipeline
from harness.runner import RunOptions

KINDS = ("vjp", "jvp", "vjp-of-vjp", "hvp")


def example(op_name: str, size: int, rng: np.random.Generator) -> Example:
    op = OPS[op_name]
    shape = (size,) if op.structure == "elementwise" else (size // 8, 8)
    arrays = {i.name: rng.normal(0, 2, shape) for i in op.inputs}
    if "y" in arrays and op_name != "mse":  # a target in [0, 1] (a distribution for the cross entropy)
        y = rng.uniform(0, 1, shape)
        arrays["y"] = y / y.sum(-1, keepdims=True) if op.structure == "row" else y
    return Example(arrays, {p.name: 0.1 for p in op.params}, "typical")


def one(op_name: str, ex: Example, kind: str, dtype: str) -> tuple[float, float]:
    options = RunOptions(dtypes=(dtype,), devices=("cpu",), kinds=(kind,), fd_oracle=False)
    cpu, wall = time.process_time(), time.perf_counter()
    records = Pipeline([TorchBackend()], options).values(OPS[op_name], [ex])
    assert [r["verdict"] for r in records] == ["pass"], [r["message"] for r in records]
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--op", default="sigmoid")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ex = example(args.op, args.size, np.random.default_rng(0))
    one(args.op, ex, "vjp", args.dtype)  # imports and SymPy's compilation, outside the timing
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in KINDS}
    for _ in range(args.repeats):
        for kind in KINDS:
            times[kind].append(one(args.op, ex, kind, args.dtype))
    base = statistics.median(t[0] for t in times["vjp"])
    print(f"{args.op}, {args.size} entries, {args.dtype}, medians of {args.repeats} (CPU, wall):")
    for kind in KINDS:
        cpu = statistics.median(t[0] for t in times[kind])
        wall = statistics.median(t[1] for t in times[kind])
        print(f"  {kind:11} {cpu:7.2f} s CPU  {wall:7.2f} s wall  {cpu / base:5.2f}x vjp's CPU")


if __name__ == "__main__":
    main()
