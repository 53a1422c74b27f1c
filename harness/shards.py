"""Splitting a run and joining its parts: `verify --shard K/N` runs a part of the plan, and
`gradproof report A.json B.json ...` merges the shards' reports into the one an unsharded run writes.
`verify -j N` is the two together on one machine: N shard processes, then one merge."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from harness import report

# What each item of the plan costs, in seconds of one default-profile process (2026-12-02, an idle serial
# run of the catalog): an op's, as its progress line gives it (drawing its inputs, deciding its stated
# derivative, every check); a claim's, the seconds its record gives, claims under 0.1 s left to
# CLAIM_COST. Only the ratios matter: they deal the plan out so that the shards end together. Every N-th item
# of the plan gave one of two shards 65 % of the work.
COSTS: dict[str, float] = {
    "sigmoid": 0.7,
    "tanh": 0.4,
    "relu": 0.1,
    "leaky_relu": 0.3,
    "softmax": 3.2,
    "mse": 1.1,
    "softmax_cross_entropy": 4.5,
    "binary_cross_entropy": 0.7,
    "conv2d": 1.1,
    "inception_block": 0.8,
    "dense_layer": 0.6,
    "backprop_chain_L1": 0.6,
    "backprop_chain_L2": 1,
    "backprop_chain_L3": 1.5,
    "backprop_chain_L4": 1.3,
    "perceptron_single": 1.2,
    "perceptron_multi": 0.5,
    "max_pool2d": 0.7,
    "avg_pool2d": 0.7,
    "residual_linear": 0.6,
    "residual_block": 1.3,
    "max_dim": 0.5,
    "min_dim": 0.6,
    "kthvalue": 0.7,
    "topk": 0.4,
    "sum_dim": 0.3,
    "mean_dim": 0.3,
    "norm1_dim": 0.2,
    "norm2_dim": 0.7,
    "momentum_step": 0.6,
    "adagrad_step": 1.2,
    "clip_by_value": 0.5,
    "clip_by_norm": 1,
    "sigmoid_monotone": 0.23,
    "sigmoid_derivative_range": 0.16,
    "tanh_range_zero_centred": 0.12,
    "tanh_shifted_sigmoid": 0.23,
    "softmax_sum_from_1": 0.12,
    "approximates_any_function": 0.46,
    "approximates_continuous_on_interval": 0.19,
    "square_loss_convex": 0.14,
    "kl_decomposition": 0.2,
    "logistic_ce_convex": 0.28,
    "logistic_ce_single_extremum": 0.27,
    "sgd_program_runs_as_printed": 1.14,
}
OP_COST, CLAIM_COST = 0.7, 0.05  # about the medians, for ops (the user's own) and claims not listed
# A shard's progress line, `[3/17] conv2d: ...` or `[claim 3/60] name: ...`, numbered within its shard.
_PROGRESS = re.compile(r"^\[(claim )?\d+/\d+\] (.*)$")


ITEMS_PER_PROCESS = 16  # a shard process spends seconds importing torch and SymPy: below this many ops and
# claims each, the start-up costs more than the split saves


def jobs_for(asked: int | None, items: int, *, splittable: bool) -> int:
    """How many processes a run gets: what -j asked (never more than one per item), or by default the usable
    cores for a plan large enough to pay for their start-up, and 1 for a run that cannot be split."""
    if asked is not None:
        return max(1, min(asked, items))
    if not splittable:
        return 1
    return max(1, min(_cores(), items // ITEMS_PER_PROCESS))


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# NumPy's BLAS thread pools, OpenBLAS's or MKL's: each shard process gets its share of the cores. (torch runs
# on one thread unless OMP_NUM_THREADS says otherwise: verify_command._small_tensor_threads.)
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Set for the shard processes of -j: once its report is written, such a process ends without tearing down the
# interpreter (harness/__main__.py), which took a second of every run's end (torch, SymPy, the records).
EXIT_AT_ONCE = "GRADPROOF_SHARD_EXIT_AT_ONCE"


def shard_environment(jobs: int, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of one of `jobs` shard processes: the cores shared among their thread pools (unless the
    user set a thread count), and EXIT_AT_ONCE. On two cores, two shards with a BLAS pool of two threads each
    took 54 s of CPU for the catalog, 46 s with one thread each (a pool's threads spin while they wait)."""
    threads = str(max(1, _cores() // jobs))
    return {**environ, **{name: threads for name in THREAD_VARIABLES if name not in environ}, EXIT_AT_ONCE: "1"}


def parse(text: str) -> tuple[int, int]:
    """`K/N` with 1 <= K <= N."""
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit()) or not 1 <= int(k) <= int(n):
        raise ValueError(f"--shard takes K/N with 1 <= K <= N, not {text!r}")
    return int(k), int(n)


def split(ops: Sequence[str], claims: Sequence[str], shard: tuple[int, int]) -> tuple[tuple[str, ...], ...]:
    """Shard K of N: its ops and its claims, each in plan order. The items are dealt costliest first
    (COSTS), each to the shard with the least cost so far; every shard deals alike, so the N shards of
    a CI matrix agree without talking to each other."""
    k, n = shard
    items = [(name, COSTS.get(name, OP_COST)) for name in ops] + [
        (name, COSTS.get(name, CLAIM_COST)) for name in claims
    ]
    load, mine = [0.0] * n, set()
    for i in sorted(range(len(items)), key=lambda i: (-items[i][1], i)):
        least = min(range(n), key=lambda s: (load[s], s))
        load[least] += items[i][1]
        if least == k - 1:
            mine.add(i)
    return tuple(o for i, o in enumerate(ops) if i in mine), tuple(
        c for i, c in enumerate(claims, len(ops)) if i in mine
    )


def merge(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The shards' reports as one: ops and claims in the order of the plan the shards were cut from
    (reports without one: as found), each op's checks together; summaries recounted. Raises ValueError
    for parts of different runs, a check found twice, or a shard missing."""
    first = parts[0]
    plan = first.get("plan") or {}
    order, claim_order = plan.get("ops", []), plan.get("claims", [])
    for p in parts[1:]:
        for key in ("seed", "profile"):
            if p.get(key) != first.get(key):
                raise ValueError(f"the reports come from different runs: {key} {first.get(key)!r} and {p.get(key)!r}")
    shards = [p.get("shard") for p in parts]
    if all(shards):
        n = int(str(shards[0]).split("/")[1])
        missing = sorted(set(range(1, n + 1)) - {int(str(s).split("/")[0]) for s in shards})
        if missing:
            raise ValueError(f"shards of {n}: shard {', '.join(map(str, missing))} missing")
        if len(shards) != n:
            raise ValueError(f"{len(shards)} reports for {n} shards")
    ids = Counter(str(c["id"]) for p in parts for c in p["checks"])
    twice = [i for i, count in ids.items() if count > 1]
    if twice:
        raise ValueError(f"{len(twice)} checks are in more than one report, e.g. {twice[0]}")
    rank = {name: i for i, name in enumerate(order)}
    entries = sorted((e for p in parts for e in p["derivations"]), key=lambda e: rank.get(e["name"], len(rank)))
    by_op: dict[str, list[dict[str, Any]]] = {}
    for p in parts:
        for c in p["checks"]:
            by_op.setdefault(str(c["derivation"]), []).append(c)
    checks = [c for e in entries for c in by_op.pop(e["name"], [])] + [c for cs in by_op.values() for c in cs]
    claim_rank = {name: i for i, name in enumerate(claim_order)}
    found_claims: list[dict[str, Any]] = [c for p in parts for c in p.get("claims", [])]
    ran = any("claims" in p for p in parts)
    data = report.build(
        entries,
        checks,
        seed=first["seed"],
        profile=first["profile"],
        seconds=max(float(p["seconds"]) for p in parts),
        claims=sorted(found_claims, key=lambda c: claim_rank.get(str(c["name"]), len(claim_rank))) if ran else None,
        coverage=first.get("coverage"),
        # Where the shards' checks ran, not where they are merged (a CI matrix's merge job need not
        # even have torch; importing it to ask cost -j's merge 2.5 s).
        env=first.get("environment"),
    )
    data["interrupted"] = any(p.get("interrupted") for p in parts)
    environments = [p.get("environment") for p in parts]
    if any(e != environments[0] for e in environments):  # a CI matrix over machines: each shard's, in order
        data["shard_environments"] = environments
    for key, value in first.items():  # what an --impl run adds (implementations, expectations), alike in each
        if key not in data and key not in ("shard", "plan"):
            data[key] = value
    return data


class _Relay:
    """What the shards write to stderr: their progress lines numbered across the whole plan, as one
    process numbers them, in the order they finish; their other lines kept per shard, for an error."""

    def __init__(self, say: Callable[[str], None], totals: tuple[int, int]) -> None:
        self.say, self.totals = say, totals
        self.done = [0, 0]  # ops, claims
        self.other: dict[int, list[str]] = {}
        self.lock = threading.Lock()

    def read(self, k: int, stream: IO[str]) -> None:
        for line in stream:
            found = _PROGRESS.match(line.rstrip("\n"))
            with self.lock:
                if found is None:
                    self.other.setdefault(k, []).append(line)
                    continue
                kind = int(found.group(1) is not None)
                self.done[kind] += 1
                self.say(f"[{found.group(1) or ''}{self.done[kind]}/{self.totals[kind]}] {found.group(2)}")

    def tail(self, k: int) -> str:
        return "".join(self.other.get(k, [])).strip()[-2000:]


def run_parallel(
    argv: Sequence[str], jobs: int, say: Callable[[str], None], totals: tuple[int, int]
) -> list[dict[str, Any]]:
    """`gradproof verify ARGV` as `jobs` shard processes at once; their reports, in shard order. `totals`
    counts the plan's ops and claims, for the progress lines. Ctrl-C (or SIGTERM) stops every shard,
    and the reports keep what they gathered."""
    relay = _Relay(say, totals)
    with tempfile.TemporaryDirectory(prefix="gradproof-shards-") as tmp:
        procs = [_start(argv, k, jobs, Path(tmp) / str(k)) for k in range(1, jobs + 1)]
        readers = [
            threading.Thread(target=relay.read, args=(k, p.stderr), daemon=True) for k, (_, p) in enumerate(procs, 1)
        ]
        for reader in readers:
            reader.start()
        stopped = False
        try:
            try:
                for _, proc in procs:
                    proc.wait()
            except KeyboardInterrupt:
                stopped = True
                # The shards run in sessions of their own, so a terminal's Ctrl-C reaches this process only;
                # one SIGTERM each ends them as Ctrl-C ends a run, with their reports written.
                for _, proc in procs:
                    if proc.poll() is None:
                        proc.terminate()
                for _, proc in procs:
                    proc.wait()
        finally:
            for _, proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        for reader in readers:
            reader.join()
        parts = [_part(k, jobs, out, proc, relay, stopped) for k, (out, proc) in enumerate(procs, 1)]
    for line in (line for k in range(1, jobs + 1) for line in relay.other.get(k, [])):
        # Not an expectations entry one shard did not meet (another may have), nor one shard's count of
        # what it did before it was stopped (the whole run's is said once the reports are merged).
        if not line.startswith(("WARNING ", "gradproof: interrupted")):
            print(line, end="", file=sys.stderr)
    return parts


def _start(argv: Sequence[str], k: int, jobs: int, out: Path) -> tuple[Path, subprocess.Popen[str]]:
    out.mkdir()
    shard = ["--shard", f"{k}/{jobs}", "--report-dir", str(out), "-j", "1", "--json-only"]
    cmd = [sys.executable, "-m", "harness", *argv, *shard]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
        env=shard_environment(jobs, os.environ),
    )
    return out, proc


def _part(k: int, jobs: int, out: Path, proc: subprocess.Popen[str], relay: _Relay, stopped: bool) -> dict[str, Any]:
    """Shard K's report; its exit status says what its checks found (0, 1, 3) or that it was stopped
    (130), anything else that it could not run. Once the run is stopped, any status goes with a written
    report: a shard that had written its report may be ended while Python shuts down (status -15)."""
    if not (out / "report.json").is_file() or (proc.returncode not in (0, 1, 3, 130) and not stopped):
        raise RuntimeError(f"shard {k}/{jobs} ended with status {proc.returncode}: {relay.tail(k)}")
    # Not validated here (2.5 s of CPU for the catalog, after every shard has ended): the merged report is,
    # before its views are written, as one process's is.
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data
