"""`gradproof verify` and `gradproof report`: the commands that run the catalog and write its views.
Imported once the arguments are known to be good (harness/cli.py checks them first)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from derivations import CATALOG, CLAIMS, TENSOR_OPS
from derivations.model import Claim, Op, Source
from harness import (
    checks,
    chosen_shapes,
    claims,
    console,
    declared_ops,
    given_inputs,
    outputs,
    pipeline,
    report,
    report_schema,
    shards,
)
from harness.backends import BACKENDS, FD_ORACLE, NAMES
from harness.backends.base import Backend
from harness.choices import DEFAULT_TIMEOUT, DEVICES, SECOND_ORDER
from harness.dtypes import FORMATS
from harness.impl import conformance
from harness.impl.expectations import Expectations, ExpectationsError
from harness.impl.host import LoadError
from harness.impl.session import KNOWN_FINDINGS, ImplSession, read_expectations
from harness.records import CheckRecord
from harness.runner import RunOptions
from harness.usage import UsageError
from harness.usage import names as _names
from harness.usage import report_dir as _report_dir


def _small_tensor_threads() -> None:
    """One torch thread unless the user chose otherwise: every tensor here has at most a few
    hundred entries, where intra-op threads cost far more than they save (torch.min over 24
    entries took 35 ms on two busy cores and 5 us on one)."""
    if "OMP_NUM_THREADS" in os.environ:
        return
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@dataclass
class _Gathered:
    """What a run gathered, kept whole when it is interrupted."""

    derivations: list[dict[str, object]] = field(default_factory=list)
    records: list[CheckRecord] = field(default_factory=list)
    claims: list[dict[str, object]] = field(default_factory=list)
    interrupted: bool = False


def _selection(
    args: argparse.Namespace, catalog: Mapping[str, object]
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """The ops and the claims to run, and whether the user narrowed them with --only (or --shape, whose ops
    are the whole run when --only is not given)."""
    ops = tuple(catalog)
    chosen = _names(args.only, (*ops, *CLAIMS), "derivation")  # claim names are valid too
    shaped = _shaped_ops(args, ops)
    only = tuple(n for n in chosen if n in ops) if chosen else shaped or ops
    # Claims are about the notes, not about an implementation under --impl.
    no_claims = args.no_claims or bool(args.impl) or bool(shaped and not chosen)
    claim_names = () if no_claims else tuple(n for n in chosen if n in CLAIMS) if chosen else tuple(CLAIMS)
    if args.at and (len(only) != 1 or (chosen and claim_names)):
        raise UsageError("--at needs exactly one op in --only")
    return only, claim_names, bool(chosen or shaped)


def _shaped_ops(args: argparse.Namespace, ops: Sequence[str]) -> tuple[str, ...]:
    """The ops named by --shape, in order, each in the catalog. With --only, a --shape of an op it leaves out
    is not run: every record's reproduce line repeats all of the run's --shape with its own --only."""
    named = tuple(dict.fromkeys(name for name, _ in args.shapes))
    for name in named:
        if name not in ops:
            raise UsageError(f"--shape: unknown op {name!r}; valid: {', '.join(ops)}")
    return named


def default_kinds(order: int) -> tuple[str, ...]:
    """Every check, the second-order ones with `--order 2` (they cost as much again on the closed forms)."""
    return tuple(k for k in checks.KINDS + conformance.KINDS if order == 2 or k not in SECOND_ORDER)


def _options(args: argparse.Namespace, expectations: Expectations | None) -> RunOptions:
    backend_names = _names(args.backend, NAMES, "backend") or NAMES
    return RunOptions(
        seed=args.seed,
        profile=args.profile,
        dtypes=_names(args.dtype, tuple(FORMATS), "dtype"),
        devices=_names(args.device, DEVICES, "device"),
        kinds=_names(args.check, checks.KINDS + conformance.KINDS, "check") or default_kinds(args.order),
        fd_oracle=FD_ORACLE in backend_names and not args.impl,
        skip_reason=expectations.skip_reason if expectations else None,
        extra_args=_carried(args),
    )


def _carried(args: argparse.Namespace) -> tuple[str, ...]:
    """The arguments every reproduce line repeats: the user's ops, the given input, how --impl runs."""
    found = [*(a for spec in args.ops for a in ("--ops", spec))]
    found += [*(a for at in args.at for a in ("--at", at)), *(a for p in args.param for a in ("--param", p))]
    found += [a for spec in args.shape for a in ("--shape", spec)]
    if args.in_process:
        found.append("--in-process")
    if args.timeout != DEFAULT_TIMEOUT:
        found += ["--timeout", f"{args.timeout:g}"]
    return tuple(found)


def _chosen_examples(
    args: argparse.Namespace, catalog: Mapping[str, pipeline.Op], only: Sequence[str]
) -> dict[str, list[Any]]:
    """The examples of every --shape whose op this run (or shard) covers, drawn and checked before any check."""
    specs = [(name, shape) for name, shape in args.shapes if name in only]
    if not specs:
        return {}
    # Without --dtype a CPU run checks float64 and float32 (float16 and bfloat16 run on CUDA only).
    dtypes = _names(args.dtype, tuple(FORMATS), "dtype") or ("float64", "float32")
    backends = _names(args.backend, NAMES, "backend") or NAMES
    implementations = len(args.impl) if args.impl else len([n for n in backends if n in BACKENDS])
    say = console.progress(args.quiet)[0]
    try:
        return chosen_shapes.draw_chosen(
            specs, catalog, seed=args.seed, budget=args.budget, dtypes=dtypes, implementations=implementations, say=say
        )
    except chosen_shapes.ShapeError as exc:
        raise UsageError(str(exc)) from None


def _given(args: argparse.Namespace, op: pipeline.Op) -> list[object]:
    try:
        return [given_inputs.given(op, args.at, args.param)]
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _gather(
    run: pipeline.Pipeline,
    jobs: list[pipeline.Job],
    claim_names: Sequence[str],
    seed: int,
    progress: tuple[Callable[[str], None], Callable[[str], None]],
) -> _Gathered:
    """Every job, then every claim, with a progress line each; Ctrl-C keeps what is done."""
    say, live = progress
    got = _Gathered()
    try:
        for k, job in enumerate(jobs, 1):
            _raise_if_stopped()
            t0, name = time.perf_counter(), job.op.name
            live(f"[{k}/{len(jobs)}] {name}: drawing inputs and deciding the stated derivative")
            result = run.run(job)
            got.derivations.append(result.record)
            got.records += result.checks
            # xfail, xpass and skip counted apart from fail: a run whose failures were all expected says so.
            tally = report.summary(result.checks).items()
            counts = ", ".join(f"{n} {v}" for v, n in tally if n or v in ("pass", "fail"))
            seconds = time.perf_counter() - t0
            say(f"[{k}/{len(jobs)}] {name}: {result.status}; {result.inputs} inputs; {counts} ({seconds:.1f} s)")
        for k, name in enumerate(claim_names, 1):
            _raise_if_stopped()
            live(f"[claim {k}/{len(claim_names)}] {name}: checking")
            got.claims.append(claims.run_claim(CLAIMS[name], seed))
            say(f"[claim {k}/{len(claim_names)}] {name}: {got.claims[-1]['verdict']} ({got.claims[-1]['seconds']} s)")
    except KeyboardInterrupt:
        got.interrupted = True  # the report says the run was cut short
    return got


def _raise_if_stopped() -> None:
    """A SIGTERM's interrupt raised inside a garbage-collector callback (hypothesis registers one) is printed
    and ignored: the run went on to the end with exit 0 (a CI run of test_shards). The next op or claim stops."""
    if _STOPPED[0]:
        raise KeyboardInterrupt


def _report(
    got: _Gathered, options: RunOptions, seconds: float, session: ImplSession | None, expect: Expectations | None
) -> dict[str, object]:
    """report.json's data; the warnings of an expectations file (entries that matched nothing) printed."""
    data = report.build(
        got.derivations,
        got.records,
        seed=options.seed,
        profile=options.profile,
        seconds=seconds,
        claims=got.claims,
        coverage=claims.coverage(_catalog_sources()),
    )
    data["interrupted"] = got.interrupted
    notes: list[str] = []
    if session is not None:
        notes = session.finish(data)
    elif expect is not None and expect.source != str(KNOWN_FINDINGS):  # a narrower run leaves findings unmet
        notes = [f"WARNING {u}" for u in expect.unmatched()]
    data["summary"] = report.summary(got.records)
    for line in notes:
        print(line, file=sys.stderr)
    return data


_STOPPED = [False]  # SIGTERM arrived: the interrupt it raised may have landed where it is swallowed


def _stop_on_sigterm() -> None:
    """SIGTERM ends a run like Ctrl-C: workers are ended and the report keeps what was gathered."""

    def stop(signum: int, frame: object) -> None:
        _STOPPED[0] = True
        raise KeyboardInterrupt

    _STOPPED[0] = False  # a run in a process that ran others (tests) starts afresh
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def cmd_verify(args: argparse.Namespace) -> int:
    _stop_on_sigterm()
    try:
        expectations = read_expectations(args.expectations, built_in=not args.impl)
    except ExpectationsError as exc:
        raise UsageError(str(exc)) from None
    declared = _declared(args)
    catalog = {**pipeline.OPS, **{name: op for name, (op, _) in declared.items()}}
    only, claim_names, narrowed = _selection(args, catalog)
    options, directory = _options(args, expectations), _report_dir(args.report_dir)
    jobs = shards.jobs_for(
        args.jobs, len(only) + len(claim_names), splittable=not (args.impl or args.at or args.shard or args.shape)
    )
    if jobs > 1:
        return _verify_in_parallel(args, directory, jobs, only, claim_names)
    plan = {"ops": list(only), "claims": list(claim_names)}  # a shard keeps the whole plan's order for merging
    if args.shard:
        shard = _shard(args)
        only, claim_names = shards.split(only, claim_names, shard)
    given = _given(args, catalog[only[0]]) if args.at else []
    chosen_examples = _chosen_examples(args, catalog, only)
    session = impl_session(args, expectations, declared) if args.impl else None
    if session is not None:
        options = replace(options, selects=session.selects())
        only = only if narrowed else tuple(n for n in only if n in session.ops())
    _small_tensor_threads()  # after every usage check: importing torch takes seconds
    chosen = _names(args.backend, NAMES, "backend") or NAMES
    backends: list[Backend] = list(session.backends) if session else [BACKENDS[n]() for n in chosen if n in BACKENDS]
    progress, start = console.progress(args.quiet), time.perf_counter()
    try:
        run = pipeline.Pipeline(backends, options, expectations=expectations, on_progress=progress[1])
        jobs_planned = pipeline.plan(only, given, catalog)
        # The examples drawn at a --shape's size go with their op's job, as an --at input does.
        jobs_planned = [replace(j, given=tuple(chosen_examples.get(j.op.name, j.given))) for j in jobs_planned]
        got = _gather(run, jobs_planned, claim_names, options.seed, progress)
    finally:
        if session is not None:
            session.close()
    data = _report(got, options, time.perf_counter() - start, session, expectations)
    data["scope"] = {"ops_in_catalog": len(catalog), "claims_in_catalog": len(CLAIMS)}
    if args.shard:
        data["shard"], data["plan"] = args.shard, plan
    console.say_what_is_replaced(directory, data)
    written = report.write_json(data, directory) if args.json_only else outputs.write_all(data, directory)[0]
    console.print_summary(data, written)
    return _status(got, data, len(only), session)


def _shard(args: argparse.Namespace) -> tuple[int, int]:
    try:
        return shards.parse(args.shard)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _verify_in_parallel(
    args: argparse.Namespace, directory: Path, jobs: int, ops: Sequence[str], claim_names: Sequence[str]
) -> int:
    """-j N: N shard processes of this very command, their reports merged into one."""
    say = console.progress(args.quiet)[0]
    say(f"{len(ops)} ops and {len(claim_names)} claims in {jobs} processes; each line as its op or claim ends")
    try:
        parts = shards.run_parallel(args.argv, jobs, say, (len(ops), len(claim_names)))
    except RuntimeError as exc:
        print(f"gradproof: {exc}", file=sys.stderr)
        return 1
    data = shards.merge(parts)
    console.say_what_is_replaced(directory, data)
    console.print_summary(data, outputs.write_all(data, directory)[0])
    if data["interrupted"]:
        print(f"gradproof: interrupted after {len(data['derivations'])} of {len(ops)} derivations", file=sys.stderr)
        return 130
    claim_errors = any(c["verdict"] == "error" for c in data.get("claims", []))
    return failure_status(data, claim_errors)


def failure_status(data: Mapping[str, Any], other_problems: bool) -> int:
    """1 when a check computed a wrong value or errored (or `other_problems`); 3 when every failure is a
    range limit, met only in range regions (derivations.model.RANGE_REGIONS); 0 otherwise."""
    failures = [r for r in data["checks"] if r["verdict"] == "fail"]
    if data["summary"]["error"] or other_problems or any(r.get("severity") != "range-limit" for r in failures):
        return 1
    if failures:
        print(
            f"gradproof: {len(failures)} failure(s), each a range limit met only in range regions: exit 3",
            file=sys.stderr,
        )
        return 3
    return 0


def _status(got: _Gathered, data: dict[str, object], planned: int, session: ImplSession | None) -> int:
    """130 interrupted, 1 a check computed a wrong value or errored (or a claim could not be judged,
    or an implementation could not be loaded), 3 every failure a range limit, 0 otherwise."""
    if got.interrupted:
        print(f"gradproof: interrupted after {len(got.derivations)} of {planned} derivations", file=sys.stderr)
        return 130
    claim_errors = any(c["verdict"] == "error" for c in got.claims)
    return failure_status(data, claim_errors or (session is not None and bool(session.problems())))


def _catalog_sources() -> list[tuple[str, Source]]:
    """Everything that cites CLAIMS.md: the closed forms, the claims, then the programs (coverage's order)."""
    entries: list[Op | Claim] = [*CATALOG.values(), *CLAIMS.values(), *TENSOR_OPS.values()]
    return [(e.name, e.source) for e in entries]


def cmd_report(args: argparse.Namespace) -> int:
    if len(args.json) > 1 and args.out is None:
        raise UsageError("merging reports needs --out: the folder the merged report goes to")
    directory = _report_dir(args.out if args.out is not None else args.json[0].parent)
    parts = []
    for path in args.json:
        try:
            parts.append(report_schema.load(path))
        except report_schema.ReportError as exc:
            raise UsageError(f"{path}: {exc}") from None
    if len(parts) > 1:
        try:
            data = shards.merge(parts)
        except ValueError as exc:
            raise UsageError(f"cannot merge: {exc}") from None
        print(report.write_json(data, directory))
    else:
        data = parts[0]
    try:
        written = outputs.write_views(data, directory)
    except (ValueError, OverflowError, RecursionError) as exc:  # valid by the schema, still not drawable
        raise UsageError(f"{args.json}: cannot render it: {type(exc).__name__}: {exc}") from None
    for path in written:
        print(path)
    return 0


def _declared(args: argparse.Namespace) -> dict[str, tuple[pipeline.Op, str]]:
    """The ops of --ops modules; they are checked on the implementations of --impl."""
    if not args.ops:
        return {}
    try:
        return declared_ops.load(args.ops, pipeline.OPS)
    except LoadError as exc:
        raise UsageError(str(exc)) from None


def impl_session(
    args: argparse.Namespace, expectations: Expectations | None, declared: Mapping[str, Any] | None = None
) -> ImplSession:
    session = ImplSession(
        args.impl,
        isolate=not args.in_process,
        timeout=args.timeout,
        expectations=expectations,
        declared=declared,
        budget=args.budget,
    )
    if not session.backends:
        raise UsageError("; ".join(session.load_errors))
    return session
