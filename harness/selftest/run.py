"""Runs every variant through the same path as `verify --impl` (a worker process, the value
checks and the conformance checks), gradcheck alongside, and prints the detection table."""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from derivations import OPS
from derivations.model import Program
from harness import checks, outputs, report, report_schema
from harness.impl import conformance, isolation
from harness.impl.session import load
from harness.pipeline import Pipeline, draw
from harness.runner import RunOptions
from harness.selftest import gradcheck
from harness.selftest.mutants import VARIANTS, Variant
from harness.usage import UsageError, report_dir

SPEC = "harness.selftest.mutants"


def _detail(records: Sequence[Mapping[str, object]]) -> str:
    bad = [r for r in records if r["verdict"] in ("fail", "error")]
    if not bad:
        return ""
    kinds = sorted({f"{r['check']}/{r['dtype']}" for r in bad})
    return f"{', '.join(kinds)}: {str(bad[0]['message'])[:200]}"


def run(
    variants: Sequence[Variant], *, seed: int = 0, isolate: bool = True, say: Callable[[str], None] = lambda s: None
) -> list[dict[str, object]]:
    """One row per variant: {mutant, family, op, correct, caught_by_gradproof, caught_by_gradcheck, detail}."""
    isolation.PRELOAD.append(SPEC)  # forked workers then start with the library already imported
    kinds = checks.KINDS + conformance.KINDS
    options = RunOptions(seed=seed, profile="quick", devices=("cpu",), kinds=kinds, fd_oracle=False)
    # A tensor op's bug often shows only at some shapes (a dim that is not the last, keepdim off,
    # padding above 0): three times the quick profile's draws, still small inputs.
    tensor_options = replace(options, profile="default")
    by_op: dict[str, list[Variant]] = defaultdict(list)
    for v in variants:
        by_op[v.op].append(v)
    rows: list[dict[str, object]] = []
    for op, group in by_op.items():
        t0 = time.perf_counter()
        d = OPS[op]
        chosen = tensor_options if isinstance(d.engine, Program) else options
        examples = draw(d, chosen)
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
        for v, b in zip(group, backends, strict=True):
            mine = [r for r in records if r["backend"] == b.name]
            by_gc, gc_detail = gradcheck.catches(v, d, examples)
            caught = any(r["verdict"] in ("fail", "error") for r in mine)
            rows.append(
                {
                    "mutant": v.name,
                    "family": v.family,
                    "op": op,
                    "correct": v.correct,
                    "caught_by_gradproof": caught,
                    "caught_by_gradcheck": by_gc,
                    "detail": _detail(mine) if caught else "all checks pass",
                    "gradcheck_detail": gc_detail,
                }
            )
        say(f"{op}: {len(group)} variants ({time.perf_counter() - t0:.1f} s)")
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
    rows = run(chosen, seed=args.seed, isolate=not args.in_process, say=say)
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
