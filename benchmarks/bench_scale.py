"""gradproof's check of one example against a bare forward+backward and torch.autograd.gradcheck, by size.

    python benchmarks/bench_scale.py [--ops sigmoid,softmax,conv2d] [--sizes 1e3,1e4,1e5] [--repeats 3]
                                     [--budget 60] [--memory 4] [--checks KINDS|all] [--threads 1]
    python benchmarks/bench_scale.py --catalog [--from-report reports/report.json]

Sizes count the entries of the op's first input: a vector (elementwise), rows of --row (softmax; default
8), conv2d's 1 x 1 x H x W image under two 3 x 3 kernels, stride 1, padding 1. Each contender runs in turn,
round after round; a cell is the median over the rounds: torch forward+backward in float32; gradcheck(fast_mode=True)
and (fast_mode=False) in float64; gradproof's value checks of torch at that one example in float32 and
in float64 (what `verify --at` runs on that backend, exact references included, by default the first-order
kinds, as gradcheck's; the verdict on the stated derivative is once per op and printed apart). A contender
counts only when it accepts the correct op: gradcheck returning True, every gradproof record `pass`.

The smallest size always runs. Later, a contender whose estimated wall time (its last two sizes' log-log
slope, at least 1: each reads every entry) exceeds --budget is not run and its cell gives the estimate;
nor a slow gradcheck whose peak memory (about ten times its two dense Jacobians) would exceed --memory
GiB; a run over the budget is not repeated.
Quick calls repeat for 20 ms, timed per call. CPU time is time.process_time (every thread of the process).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from derivations import OPS
from derivations.model import Example, Op, Program
from harness import checks, op_entry, pipeline
from harness.backends.torch_backend import TorchBackend
from harness.options import RunOptions

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_checks

KERNELS = 2  # conv2d's output channels, each a 3 x 3 kernel over the one input channel
ROW = [8]  # a row op's row length (--row)
BASE = "bare f32"
QUICK = 0.02  # seconds a quick call is repeated for, so that one reading is not timer noise
# gradcheck checks first derivatives only; gradproof's second-order kinds are left to --checks all.
FIRST_ORDER = ("forward", "vjp", "projection", "jacobian", "jvp", "transpose")
Thunk = Callable[[], bool]  # one run; whether the contender accepted the op


@dataclass(frozen=True)
class Contender:
    name: str
    prepare: Callable[[Op, Example], Thunk]
    dense_jacobians: bool = False  # gradcheck's slow mode builds numerical and analytical Jacobians


@dataclass
class Cell:
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    accepted: bool = True
    skipped: str = ""  # why it was not run at this size

    @property
    def measured(self) -> bool:
        return bool(self.wall)


@dataclass
class Row:
    op: str
    size: int
    shape: str
    cells: dict[str, Cell]
    by_check: dict[str, str] = field(default_factory=dict)  # gradproof contender -> seconds by check kind


# ---------- one example of an op at a chosen size ----------


def _uniform(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    z = rng.uniform(-4.0, 4.0, size=shape)
    z[np.abs(z) < 1e-2] = 0.5  # away from kinks, where gradcheck has no subgradient notion
    return z


def example_at(op: Op, size: int, rng: np.random.Generator) -> Example:
    """An Example as `--at` builds one (harness/given_inputs.py), at `size` entries of the op's input."""
    if op.name == "conv2d":
        h = max(3, round(math.sqrt(size)))
        w = max(3, round(size / h))
        arrays = {
            "x": _uniform(rng, (1, 1, h, w)),
            "w": _uniform(rng, (KERNELS, 1, 3, 3)),
            "b": _uniform(rng, (KERNELS,)),
        }
        return Example(arrays, {"stride": (1, 1), "padding": (1, 1)}, "user", ())
    if isinstance(op.engine, Program) or len(op.inputs) != 1:
        raise ValueError(f"no example builder for {op.name}: conv2d and one-input closed forms only")
    row = ROW[0]
    shape = (size,) if op.structure == "elementwise" else (max(1, size // row), row)
    params = op.param_defaults()
    arrays = {op.wrt.name: _uniform(rng, shape)}
    problem = op.check_domain(arrays, params)
    if problem:
        raise ValueError(problem)
    return Example(arrays, params, "user", ())


def entries(ex: Example) -> int:
    """Entries of every input, weights included."""
    return sum(int(np.size(a)) for a in ex.arrays.values())


def size_of(op: Op, ex: Example) -> int:
    """Entries of the op's first input (the image of conv2d), what --sizes asks for."""
    return int(np.size(ex.arrays[op.inputs[0].name]))


def shape_text(op: Op, ex: Example) -> str:
    return " ".join("x".join(map(str, np.shape(a))) for a in ex.arrays.values())


# ---------- the contenders ----------


def _torch_call(op: Op, ex: Example, dtype: torch.dtype) -> tuple[Callable[..., Any], list[torch.Tensor]]:
    """torch's own function (the one gradproof checks) with the example's parameters, and its inputs."""
    fn = TorchBackend().ops[op.name]
    tensors = [torch.tensor(ex.arrays[i.name], dtype=dtype, requires_grad=True) for i in op.inputs]
    params = dict(ex.params)
    return (lambda *xs: fn(*xs, **params)), tensors


def bare(op: Op, ex: Example) -> Thunk:
    call, tensors = _torch_call(op, ex, torch.float32)
    cotangent = torch.randn_like(call(*tensors))

    def run() -> bool:
        call(*tensors).backward(cotangent)
        for t in tensors:
            t.grad = None
        return True

    return run


def gradcheck(fast: bool) -> Callable[[Op, Example], Thunk]:
    def prepare(op: Op, ex: Example) -> Thunk:
        call, tensors = _torch_call(op, ex, torch.float64)
        return lambda: bool(torch.autograd.gradcheck(call, tuple(tensors), fast_mode=fast, raise_exception=False))

    return prepare


class GradproofRun:
    """gradproof's value checks of torch at one example and dtype; the last run's records are kept for
    the per-check lines."""

    def __init__(self, op: Op, ex: Example, dtype: str, kinds: tuple[str, ...]) -> None:
        self.op, self.example = op, ex
        self.options = RunOptions(dtypes=(dtype,), devices=("cpu",), kinds=kinds, fd_oracle=False)
        self.backend = TorchBackend()
        self.records: list[Any] = []

    def __call__(self) -> bool:
        # A fresh pipeline each run: its runner keeps the last op's exact references.
        self.records = pipeline.Pipeline([self.backend], self.options).values(self.op, [self.example])
        return bool(self.records) and all(r["verdict"] == "pass" for r in self.records)


def gradproof(dtype: str, kinds: tuple[str, ...]) -> Callable[[Op, Example], Thunk]:
    return lambda op, ex: GradproofRun(op, ex, dtype, kinds)


def contenders(kinds: tuple[str, ...]) -> tuple[Contender, ...]:
    """The bare run first: every ratio is to it."""
    return (
        Contender(BASE, bare),
        Contender("gradcheck fast f64", gradcheck(True)),
        Contender("gradcheck slow f64", gradcheck(False), dense_jacobians=True),
        Contender("gradproof f32", gradproof("float32", kinds)),
        Contender("gradproof f64", gradproof("float64", kinds)),
    )


# ---------- timing, estimates, growth ----------


def timed(run: Thunk) -> tuple[float, float, bool]:
    """CPU and wall seconds per call, and whether every call accepted the op."""
    calls, accepted = 0, True
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while calls == 0 or time.perf_counter() - wall0 < QUICK:
        accepted = run() and accepted
        calls += 1
    return (time.process_time() - cpu0) / calls, (time.perf_counter() - wall0) / calls, accepted


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of log(seconds) over log(size)."""
    xs = [math.log(s) for s, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread if spread else float("nan")


def estimate(points: Sequence[tuple[float, float]], size: float) -> float | None:
    """Seconds at `size` from the last two measured (size, seconds), growing at least linearly; None
    when nothing is measured yet."""
    if not points:
        return None
    last_size, last_seconds = points[-1]
    growth = max(1.0, slope(points[-2:])) if len(points) >= 2 else 1.0
    return last_seconds * (size / last_size) ** growth


# gradcheck's slow mode peaks at several times its two dense Jacobians (its columns are stacked, and
# copied): 0.29 GB over 0.030 GiB of Jacobians at conv2d 32 x 31, 1.14 GB over 0.19 GiB at 50 x 50.
# Without the factor a 100 x 100 conv2d was let run and took the machine's 24 GiB.
SLOW_PEAK_OVER_JACOBIANS = 10


def jacobian_gib(op: Op, ex: Example) -> float:
    """The peak memory of gradcheck's slow mode, from its two dense Jacobians in float64, in GiB."""
    call, tensors = _torch_call(op, ex, torch.float64)
    with torch.no_grad():
        outputs = int(call(*tensors).numel())
    return SLOW_PEAK_OVER_JACOBIANS * 2 * 8 * entries(ex) * outputs / 2**30


# ---------- one op at every size ----------


@dataclass(frozen=True)
class Settings:
    repeats: int
    budget: float
    memory_gib: float
    contenders: tuple[Contender, ...]


def plan_cells(op: Op, ex: Example, history: dict[str, list[tuple[float, float]]], s: Settings) -> dict[str, Cell]:
    """An empty cell per contender, or one that says why it is not run at this size."""
    cells: dict[str, Cell] = {}
    for c in s.contenders:
        cell = Cell()
        guess = estimate(history[c.name], size_of(op, ex))
        if guess is not None and guess > s.budget:
            cell.skipped = f"> budget (est. {guess:.0f} s)"
        elif c.dense_jacobians and (gib := jacobian_gib(op, ex)) > s.memory_gib:
            cell.skipped = f"> memory (est. {gib:.0f} GiB)"
        cells[c.name] = cell
    return cells


def measure_size(op: Op, ex: Example, history: dict[str, list[tuple[float, float]]], s: Settings) -> Row:
    """Every contender in turn, round after round; each contender's first round starts its next one."""
    cells = plan_cells(op, ex, history, s)
    runs = {c.name: c.prepare(op, ex) for c in s.contenders if not cells[c.name].skipped}
    for round_number in range(s.repeats):
        for name, run in runs.items():
            cell = cells[name]
            if round_number and max(cell.wall) > s.budget:
                continue
            cpu, wall, accepted = timed(run)
            cell.cpu.append(cpu)
            cell.wall.append(wall)
            cell.accepted = cell.accepted and accepted
    for name, cell in cells.items():
        if cell.measured:
            history[name].append((size_of(op, ex), statistics.median(cell.wall)))
    seconds = {n: by_check(r.records) for n, r in runs.items() if isinstance(r, GradproofRun) and r.records}
    return Row(op.name, size_of(op, ex), shape_text(op, ex), cells, seconds)


def by_check(records: Sequence[Any]) -> str:
    return ", ".join(f"{r['check']} {r['seconds']:.2f}" for r in records)


def run_op(op: Op, sizes: Sequence[int], s: Settings, say: Callable[[str], None]) -> list[Row]:
    rng = np.random.default_rng(0)
    for c in s.contenders:  # untimed: imports, SymPy's compiled expressions, torch's first calls
        c.prepare(op, example_at(op, 16, rng))()
    history: dict[str, list[tuple[float, float]]] = {c.name: [] for c in s.contenders}
    rows = []
    for size in sizes:
        ex = example_at(op, size, rng)
        start = time.perf_counter()
        rows.append(measure_size(op, ex, history, s))
        say(f"{op.name} {rows[-1].shape}: {time.perf_counter() - start:.1f} s")
        for name, seconds in rows[-1].by_check.items():
            say(f"  {name}, wall seconds by check (the exact references inside forward and jvp): {seconds}")
    return rows


# ---------- printing ----------


def human(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def cell_text(cell: Cell, base: Cell, which: str, repeats: int) -> str:
    if not cell.measured:
        return cell.skipped
    value = statistics.median(getattr(cell, which))
    text = human(value)
    if base.measured and cell is not base:
        text += f" (x{value / statistics.median(getattr(base, which)):.3g})"
    if len(cell.wall) < repeats:
        text += f" [{len(cell.wall)} run]"
    return text if cell.accepted else text + " REJECTED the correct op"


def table(rows: Sequence[Row], which: str, repeats: int) -> list[str]:
    names = list(rows[0].cells)
    lines = ["| op | size | shapes | " + " | ".join(names) + " |", "|" + "---|" * (3 + len(names))]
    for row in rows:
        base = row.cells[BASE]
        cells = [cell_text(row.cells[n], base, which, repeats) for n in names]
        lines.append(f"| {row.op} | {row.size:,} | {row.shape} | " + " | ".join(cells) + " |")
    return lines


def growth_lines(rows: Sequence[Row]) -> list[str]:
    """Per op, the log-log slope of each contender's CPU time over the sizes it was measured at."""
    lines = []
    for op in dict.fromkeys(r.op for r in rows):
        parts = []
        for name in rows[0].cells:
            points = [(r.size, statistics.median(r.cells[name].cpu)) for r in rows if r.op == op and r.cells[name].cpu]
            if len(points) >= 2:
                parts.append(f"{name} {slope(points):.2f} ({points[0][0]:,}-{points[-1][0]:,})")
        lines.append(f"{op}: " + ("; ".join(parts) if parts else "fewer than two sizes measured"))
    return lines


def verdict_seconds(op: Op, ex: Example) -> float:
    """CPU seconds of the verdict on the op's stated derivative (SymPy's, for a closed form)."""
    start = time.process_time()
    op_entry.stated_verdict(op, [ex], seed=0)
    return time.process_time() - start


def report(rows: Sequence[Row], ops: Sequence[Op], s: Settings) -> list[str]:
    head = f"medians of {s.repeats} interleaved rounds; (xN) = N times the bare forward+backward of the same row"
    lines = [head, "", "CPU time (time.process_time):", *table(rows, "cpu", s.repeats)]
    lines += ["", "wall time (time.perf_counter):", *table(rows, "wall", s.repeats)]
    lines += ["", "growth exponent of CPU time with size (log-log slope, least squares):", *growth_lines(rows)]
    lines += ["", "not in the gradproof cells, once per op: the verdict on the stated derivative, CPU seconds:"]
    rng = np.random.default_rng(0)
    lines += [f"{op.name}: {verdict_seconds(op, example_at(op, 16, rng)):.2f}" for op in ops]
    return lines


def parse_sizes(text: str) -> list[int]:
    return sorted({int(float(v)) for v in text.split(",") if v.strip()})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", default="sigmoid,softmax,conv2d")
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("1e3,1e4,1e5"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds one run of a contender may take")
    parser.add_argument("--memory", type=float, default=4.0, help="GiB the slow gradcheck may take at its peak")
    parser.add_argument("--checks", default=",".join(FIRST_ORDER), help="gradproof's check kinds, or all")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: CPU time = work)")
    parser.add_argument("--row", type=int, default=8, help="a row op's row length (softmax: default 8)")
    parser.add_argument("--catalog", action="store_true", help="a catalog run's seconds by op and check kind")
    parser.add_argument("--from-report", type=Path, default=None, help="with --catalog: read this report.json")
    args = parser.parse_args(argv)
    if args.catalog:
        if args.from_report is not None and not args.from_report.is_file():
            parser.error(f"no report at {args.from_report}")
        print("\n".join(bench_checks.catalog_lines(args.from_report)))
        return
    unknown = [n for n in args.ops.split(",") if n not in OPS]
    if unknown or args.repeats < 1 or not args.sizes or min(args.sizes) < 1:
        parser.error(f"unknown ops {unknown}" if unknown else "--repeats and --sizes must be positive")
    torch.set_num_threads(args.threads)
    ROW[0] = args.row
    ops = [OPS[n] for n in args.ops.split(",")]
    kinds = tuple(k for k in checks.KINDS if args.checks == "all" or k in args.checks.split(","))
    settings = Settings(args.repeats, args.budget, args.memory, contenders(kinds))
    rows = [row for op in ops for row in run_op(op, args.sizes, settings, lambda line: print(line, flush=True))]
    print("\n".join(["", *report(rows, ops, settings)]))


if __name__ == "__main__":
    main()
