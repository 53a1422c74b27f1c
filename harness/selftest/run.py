"""Runs every variant through the same path as `verify --impl` (a worker process, the value
checks and the conformance checks), gradcheck alongside, and prints the detection table."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import signal
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path

from derivations import OPS
from derivations.model import Example, Op, Program
from harness import checks, outputs, report, report_schema
from harness.impl import conformance, isolation
from harness.impl.session import load
from harness.pipeline import Pipeline, draw
from harness.runner import RunOptions
from harness.selftest import gradcheck
from harness.selftest.mutants import BY_NAME, VARIANTS, Variant
from harness.usage import UsageError, report_dir

SPEC = "harness.selftest.mutants"
Row = dict[str, object]
Say = Callable[[str], None]


def _detail(records: Sequence[Mapping[str, object]]) -> str:
    bad = [r for r in records if r["verdict"] in ("fail", "error")]
    if not bad:
        return ""
    kinds = sorted({f"{r['check']}/{r['dtype']}" for r in bad})
    return f"{', '.join(kinds)}: {str(bad[0]['message'])[:200]}"


def _options(d: Op, seed: int) -> RunOptions:
    kinds = checks.KINDS + conformance.KINDS
    options = RunOptions(seed=seed, profile="quick", devices=("cpu",), kinds=kinds, fd_oracle=False)
    # A tensor op's bug often shows only at some shapes (a dim that is not the last, keepdim off,
    # padding above 0): three times the quick profile's draws, still small inputs.
    return replace(options, profile="default") if isinstance(d.engine, Program) else options


def _groups(variants: Sequence[Variant]) -> list[list[Variant]]:
    """The variants by op, ops in the order of their first variant: the order of the table."""
    by_op: dict[str, list[Variant]] = defaultdict(list)
    for v in variants:
        by_op[v.op].append(v)
    return list(by_op.values())


def _check_group(group: Sequence[Variant], examples: Sequence[Example], seed: int, isolate: bool) -> list[Row]:
    """One row per variant of one op, all checked at the same examples."""
    d = OPS[group[0].op]
    chosen = _options(d, seed)
    backends = [load(f"{SPEC}:{v.name}", isolate=isolate) for v in group]
    try:
        for b in backends:
            b.name = f"selftest:{b.descriptor.label.split(':', 1)[1]}"
        # One pipeline for the whole group: the exact reference is computed once per input.
        group_checks = Pipeline(backends, chosen)
        records = group_checks.values(d, examples) + group_checks.conformance(d, examples)
    finally:
        for b in backends:
            b.caller.close()
    rows: list[Row] = []
    for v, b in zip(group, backends, strict=True):
        mine = [r for r in records if r["backend"] == b.name]
        by_gc, gc_detail = gradcheck.catches(v, d, examples)
        caught = any(r["verdict"] in ("fail", "error") for r in mine)
        rows.append(
            {
                "mutant": v.name,
                "family": v.family,
                "op": d.name,
                "correct": v.correct,
                "caught_by_gradproof": caught,
                "caught_by_gradcheck": by_gc,
                "detail": _detail(mine) if caught else "all checks pass",
                "gradcheck_detail": gc_detail,
            }
        )
    return rows


Task = tuple[int, list[str], list[Example], int, bool]  # group index, variant names, inputs, seed, isolate
Result = tuple[int, list[Row], float, str]  # group index, rows, seconds, the traceback where it raised


def _preload(modules: Sequence[str]) -> None:
    """What the workers' forkserver imports once, so that each forked worker starts with it: the library, and
    torch where a variant is a torch callable (else each of their workers imports it, seconds each). It
    takes effect when the forkserver starts, at the first worker of the process."""
    isolation.PRELOAD.extend(m for m in modules if m not in isolation.PRELOAD)


def _preloads(variants: Sequence[Variant]) -> list[str]:
    return [SPEC, *(["torch"] if any(v.torch is not None for v in variants) else [])]


def _unwind(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _end(pool: Sequence[BaseProcess], wait: float = 10.0) -> None:
    for p in pool:
        p.terminate()
    for p in pool:
        p.join(wait)
        if p.exitcode is None:  # stuck while unwinding
            p.kill()
            p.join()


def _serve(tasks: Queue[Task | None], results: Queue[Result], preloads: list[str]) -> None:
    """A pool process: checks groups until told to stop. Variants travel by name (their functions do not pickle)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the process group: the parent ends the pool
    # Ended by the parent: unwind, so that this process's workers are closed rather than cut off mid-call.
    signal.signal(signal.SIGTERM, _unwind)
    _preload(preloads)
    while (task := tasks.get()) is not None:
        k, names, examples, seed, isolate = task
        start = time.perf_counter()
        try:
            rows = _check_group([BY_NAME[n] for n in names], examples, seed, isolate)
        except Exception:
            results.put((k, [], 0.0, traceback.format_exc()))
            continue
        results.put((k, rows, time.perf_counter() - start, ""))


def _weight(group: Sequence[Variant]) -> int:
    """A rough cost, to start the longest groups first: a program's variant takes about 8 closed forms' time."""
    return len(group) * (8 if isinstance(OPS[group[0].op].engine, Program) else 1)


def _next(results: Queue[Result], pool: Sequence[BaseProcess]) -> Result:
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            died = [p.exitcode for p in pool if p.exitcode not in (None, 0)]
            if died or all(p.exitcode is not None for p in pool):
                raise RuntimeError(f"a selftest process ended with status {died[0] if died else 0}") from None


def _run_parallel(groups: list[list[Variant]], seed: int, isolate: bool, jobs: int, say: Say) -> list[Row]:
    """The groups in `jobs` processes, longest first; rows in the order of `groups` whatever finishes first.

    The inputs are drawn here, in one process, so that they are a `-j 1` run's by construction, whatever
    the pool's processes have imported (hypothesis mixes imported modules' constants into draws: inputs.py)."""
    ctx = multiprocessing.get_context("spawn")  # a fork would copy torch's threads and this process's workers
    tasks: Queue[Task | None] = ctx.Queue()
    results: Queue[Result] = ctx.Queue()
    preloads = _preloads([v for group in groups for v in group])
    pool = [ctx.Process(target=_serve, args=(tasks, results, preloads)) for _ in range(jobs)]
    for p in pool:
        p.start()
    found: dict[int, list[Row]] = {}
    try:
        for k in sorted(range(len(groups)), key=lambda k: -_weight(groups[k])):
            d = OPS[groups[k][0].op]
            tasks.put((k, [v.name for v in groups[k]], draw(d, _options(d, seed)), seed, isolate))
        for _ in pool:
            tasks.put(None)
        while len(found) < len(groups):
            k, rows, seconds, error = _next(results, pool)
            if error:
                raise RuntimeError(f"selftest of {groups[k][0].op} raised:\n{error}")
            found[k] = rows
            say(f"{groups[k][0].op}: {len(groups[k])} variants ({seconds:.1f} s)")
    except BaseException:  # a group's error or Ctrl-C: the other groups are not waited for
        tasks.cancel_join_thread()
        _end(pool)
        raise
    for p in pool:
        p.join()
    return [row for k in range(len(groups)) for row in found[k]]


def run(
    variants: Sequence[Variant], *, seed: int = 0, isolate: bool = True, jobs: int = 1, say: Say = lambda s: None
) -> list[Row]:
    """One row per variant: {mutant, family, op, correct, caught_by_gradproof, caught_by_gradcheck, detail},
    in the order of `variants` grouped by op; the same rows for every number of `jobs` (processes)."""
    groups = _groups(variants)
    if min(jobs, len(groups)) > 1:
        return _run_parallel(groups, seed, isolate, min(jobs, len(groups)), say)
    _preload(_preloads(variants))
    rows: list[Row] = []
    for group in groups:
        t0 = time.perf_counter()
        d = OPS[group[0].op]
        rows += _check_group(group, draw(d, _options(d, seed)), seed, isolate)
        say(f"{d.name}: {len(group)} variants ({time.perf_counter() - t0:.1f} s)")
    return rows


def table(rows: Sequence[dict[str, object]]) -> str:
    def mark(flag: object) -> str:
        return "caught" if flag else "-"

    lines = [f"{'variant':32} {'op':22} {'gradproof':10} {'gradcheck':10} family"]
    for r in rows:
        lines.append(
            f"{r['mutant']!s:32} {r['op']!s:22} {mark(r['caught_by_gradproof']):10} "
            f"{mark(r['caught_by_gradcheck']):10} {r['family']}"
        )
    return "\n".join(lines)


def totals(rows: Sequence[dict[str, object]]) -> dict[str, int]:
    mutants = [r for r in rows if not r["correct"]]
    correct = [r for r in rows if r["correct"]]
    return {
        "mutants": len(mutants),
        "families": len({r["family"] for r in mutants}),
        "mutants_caught_by_gradproof": sum(bool(r["caught_by_gradproof"]) for r in mutants),
        "mutants_caught_by_gradcheck": sum(bool(r["caught_by_gradcheck"]) for r in mutants),
        "correct_variants": len(correct),
        "correct_flagged_by_gradproof": sum(bool(r["caught_by_gradproof"]) for r in correct),
        "correct_flagged_by_gradcheck": sum(bool(r["caught_by_gradcheck"]) for r in correct),
    }


def write(rows: list[dict[str, object]], directory: Path, *, seed: int, seconds: float) -> Path:
    """Into report.json under "selftest", keeping whatever a verify run wrote there."""
    try:
        data = report_schema.load(directory / "report.json")
    except report_schema.ReportError:  # none there, or not one of ours: the selftest's own report
        data = report.build([], [], seed=seed, profile="quick", seconds=0.0)
    data["selftest"] = rows
    data["selftest_summary"] = {**totals(rows), "seed": seed, "seconds": round(seconds, 2)}
    return outputs.write_all(data, directory)[0]  # index.html and junit.xml in step with the JSON


def main(args: argparse.Namespace) -> int:
    wanted = {n.strip() for v in args.only or () for n in v.split(",") if n.strip()}
    known = {v.name for v in VARIANTS} | {v.op for v in VARIANTS} | {v.family for v in VARIANTS}
    unknown = sorted(wanted - known)
    if unknown:
        print(f"gradproof: error: unknown variant, op or family {', '.join(map(repr, unknown))}", file=sys.stderr)
        return 2
    try:  # the folder rule of verify: one missing level is made, a deeper typo or a file is an error
        directory = report_dir(Path(args.report_dir) if args.report_dir else None)
    except UsageError as exc:
        print(f"gradproof: error: {exc}", file=sys.stderr)
        return 2
    chosen = [v for v in VARIANTS if not wanted or {v.name, v.op, v.family} & wanted]
    start = time.perf_counter()
    say = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    jobs = args.jobs or os.cpu_count() or 1
    rows = run(chosen, seed=args.seed, isolate=not args.in_process, jobs=jobs, say=say)
    seconds = time.perf_counter() - start
    print(table(rows))
    t = totals(rows)
    print(
        f"{t['mutants']} mutants in {t['families']} families: gradproof caught {t['mutants_caught_by_gradproof']}, "
        f"gradcheck caught {t['mutants_caught_by_gradcheck']}; {t['correct_variants']} correct variants: gradproof "
        f"flagged {t['correct_flagged_by_gradproof']}, gradcheck flagged {t['correct_flagged_by_gradcheck']} "
        f"({seconds:.1f} s)"
    )
    for r in rows:
        if r["correct"] == r["caught_by_gradproof"]:
            what = "correct variant flagged" if r["correct"] else "mutant missed"
            print(f"{what.upper()} {r['mutant']}: {r['detail']}")
    path = write(rows, directory, seed=args.seed, seconds=seconds)
    print(f"report: {path}")
    ok = t["mutants_caught_by_gradproof"] == t["mutants"] and t["correct_flagged_by_gradproof"] == 0
    return 0 if ok else 1
