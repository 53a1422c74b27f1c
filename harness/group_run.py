"""One check group (a backend's check at one target) judged over every example into one record."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from derivations.model import RANGE_REGIONS, Example, Op
from harness import checks, compare, exact, finite_diff
from harness.backends.base import Backend, Target
from harness.dtypes import get_format
from harness.options import RunOptions
from harness.records import CheckRecord

# check(backend, case, target) -> the outcome of one example
BackendCheck = Callable[[Backend, Any, Target], checks.Outcome | None]  # None: does not apply here


@dataclass
class Accumulator:
    """The worst of one check over all its examples."""

    worst: compare.Measurement | None = None
    worst_example: int = -1
    examples: int = 0
    conventions: dict[str, set[float]] = field(default_factory=dict)
    error: str | None = None
    where: str = ""
    failed_at_edge: list[bool] = field(default_factory=list)  # per failing example: at the format's edge?

    def add(self, outcome: checks.Outcome, example: int) -> None:
        self.examples += 1
        m = outcome.measurement
        if compare.worse(m, self.worst):
            self.worst, self.worst_example, self.where = m, example, outcome.where
        for key, values in outcome.conventions.items():
            self.conventions.setdefault(key, set()).update(values)

    def fields(self, verdict: str, examples: Sequence[Example], dtype: str) -> dict[str, Any]:
        """The record's measured fields, with the failing input when the verdict is fail or error."""
        m = self.worst
        assert m is not None
        found: dict[str, Any] = {
            "examples": self.examples,
            "max_abs_error": _number(m.abs_error),
            "max_rel_error": _number(m.rel_error),
            "max_ulp_error": _number(m.ulp_error),
            "tolerance": _number(m.tolerance),
            "tolerance_usage": _number(m.usage),
            "conventions": {k: sorted(v) for k, v in self.conventions.items()},
        }
        if self.where:
            found["input_name"] = self.where
        if verdict in ("fail", "error") and self.worst_example >= 0:
            found["failure"] = {
                "input": input_summary(examples[self.worst_example], dtype),
                "worst_index": list(m.index),
                "expected": _number(m.expected),
                "actual": _number(m.actual),
                "tolerance": _number(m.tolerance),
            }
        return found


def reproduce_command(d: Op, backend: str, target: Target, kind: str, options: RunOptions) -> str:
    """The command line that reruns one check, quoted for a POSIX shell."""
    if options.reproduce is not None:
        return options.reproduce
    select = options.selects.get(backend, ("--backend", backend))
    chosen = ("--device", target.device, "--dtype", target.dtype, "--check", kind)
    run = ("--seed", str(options.seed), "--profile", options.profile)
    return shlex.join(("gradproof", "verify", "--only", d.name, *select, *chosen, *run, *options.extra_args))


MESSAGE_CHARS = 4000  # an implementation's exception text can be megabytes; its head and tail say enough


def _shortened(message: str) -> str:
    if len(message) <= MESSAGE_CHARS:
        return message
    cut = len(message) - MESSAGE_CHARS
    return f"{message[: MESSAGE_CHARS // 2]} [... {cut} characters cut ...] {message[-MESSAGE_CHARS // 2 :]}"


def input_summary(ex: Example, dtype: str) -> dict[str, object]:
    """The input as the check used it: each array rounded to the checked dtype (held as float64)."""
    fmt = get_format(dtype)
    arrays = {k: fmt.round(np.asarray(v, dtype=np.float64)).tolist() for k, v in ex.arrays.items()}
    return {"arrays": arrays, "dtype": dtype, "params": ex.params, "region": ex.region}


def _number(value: float) -> float | str:
    """JSON has no inf or nan: keep them as text."""
    return value if np.isfinite(value) else str(value)


def check_record(
    d: Op,
    backend: str,
    target: Target,
    kind: str,
    verdict: str,
    *,
    acc: Accumulator | None = None,
    message: str = "",
    tolerance_model: str = "",
    drawn: Sequence[Example] = (),
    options: RunOptions,
    seconds: float = 0.0,
    **given: Any,
) -> CheckRecord:
    """The one record of a check, whole: `given` sets fields such as `failure` or `examples` directly."""
    measured = acc.fields(verdict, drawn, target.dtype) if acc is not None and acc.worst is not None else {}
    # Chance that one input's random directions all miss a rank-one Jacobian error ten times the
    # tolerance; independent inputs multiply it.
    miss = finite_diff.miss_probability(0.1, checks.PROJECTION_DIRECTIONS) if kind == "projection" else None
    return CheckRecord(
        id=f"{d.name}-{backend}-{target.device}-{target.dtype}-{kind}",
        derivation=d.name,
        backend=backend,
        device=target.device,
        dtype=target.dtype,
        check=kind,
        verdict=verdict,
        message=_shortened(message),
        tolerance_model=tolerance_model,
        seconds=round(seconds, 4),
        reproduce=reproduce_command(d, backend, target, kind, options),
        miss_probability=miss,
        **{**measured, **given},
    )


@dataclass
class GroupRun:
    """One check group's examples judged in turn, the worst gathered in `acc`, into one timed record."""

    d: Op
    group: Group
    examples: Sequence[Example]
    options: RunOptions
    model: Callable[[Accumulator], str]  # the tolerance in words (the scalar one names the worst example's rows)
    acc: Accumulator = field(default_factory=Accumulator)
    start: float = field(default_factory=time.perf_counter)

    def finish(self, verdict: str, message: str, **given: Any) -> CheckRecord:
        g = self.group
        return check_record(
            self.d,
            g.name,
            g.target,
            g.kind,
            verdict,
            acc=self.acc,
            message=message,
            tolerance_model=self.model(self.acc),
            drawn=self.examples,
            options=self.options,
            seconds=time.perf_counter() - self.start,
            **given,
        )

    def judge(
        self,
        measure: Callable[[int, Any], checks.Outcome | None],
        none_measured: Callable[[], str] | None = None,
    ) -> CheckRecord:
        """`measure` each example (None: the check does not apply there); the first that raises is the group's
        error, the first NaN or inf where the exact value is finite its failure. With `none_measured`, a group
        that measured nothing is skipped."""
        acc, g = self.acc, self.group
        if g.finite_differences and g.target.dtype not in ("float32", "float64"):
            msg = "finite differences need float32 or float64"
            return check_record(self.d, g.name, g.target, g.kind, "skip", message=msg, options=self.options)
        first_nonfinite: checks.Outcome | None = None
        for i, ex in enumerate(self.examples):
            try:
                outcome = measure(i, ex)
            except exact.ReferenceError as exc:
                acc.error = f"exact reference: {exc}"
            except Exception as exc:  # a backend that raises is that check's error, not the run's
                acc.error = f"{type(exc).__name__}: {exc}"
            if acc.error:
                acc.worst_example = i
                # With no measurement yet, the record names the input that raised.
                given = {"failure": {"input": input_summary(ex, g.target.dtype)}} if acc.worst is None else {}
                return self.finish("error", acc.error, **given)
            if outcome is None:
                continue
            acc.add(outcome, i)
            m = outcome.measurement
            if m.nonfinite or m.usage > 1.0:  # every example is judged, so that the severity sees them all
                acc.failed_at_edge.append(at_edge(ex))
                first_nonfinite = first_nonfinite or (outcome if m.nonfinite else None)
        if none_measured is not None and acc.examples == 0:
            return self.finish("skip", none_measured())
        worst, check = acc.worst, f"{self.d.name} {g.kind} on {g.name}/{g.target}"
        if worst is None or (worst.usage <= 1.0 and not worst.nonfinite):
            return self.finish("pass", "")
        severity = {"severity": "range-limit" if all(acc.failed_at_edge) else "wrong-value"}
        if first_nonfinite is not None:
            return self.finish("fail", nonfinite_message(self.d.name, g, first_nonfinite), **severity)
        if acc.where.startswith("outside"):  # judged as a set at a kink or tie: no single expected value
            return self.finish("fail", f"{check}: the gradient lies {acc.where}", **severity)
        return self.finish("fail", failure_message(check, worst, acc.where), **severity)


def at_edge(ex: Example) -> bool:
    """Whether an example was drawn from a range region (RANGE_REGIONS: saturation, huge logits, tiny
    and huge entries), at the edge of what a format holds. A failure met only there is a range or
    precision limit of an algorithm that is right elsewhere (a 2-norm that squares without scaling);
    one met anywhere else is a wrong value. The region decides, not the entries' sizes: ordinary
    regions draw a tiny entry now and then, and a float16 intermediate that is wrong everywhere must
    not pass for a range limit because its example held one."""
    return ex.region in RANGE_REGIONS


def nonfinite_message(op: str, g: Group, outcome: checks.Outcome) -> str:
    """`op kind on backend/target`: entry [i] (of input) is NaN where the exact value is finite (...)."""
    m = outcome.measurement
    of = f" of {outcome.where}" if outcome.where else ""
    exact = f"{m.expected:.17g}" if np.isfinite(m.expected) else "a finite subgradient"
    return (
        f"{op} {g.kind} on {g.name}/{g.target}: entry {list(m.index)}{of} is {compare.nonfinite_text(m.actual)} "
        f"where the exact value is finite (expected {exact})"
    )


def failure_message(check: str, worst: compare.Measurement, of: str = "") -> str:
    """`check`: entry [i] (of input) expected e, got a (that entry's error, its share of the tolerance)."""
    where = f" of {of}" if of else ""
    ulps = f", {worst.entry_ulps:.3g} ULP" if np.isfinite(worst.entry_ulps) else ""
    return (
        f"{check}: entry {list(worst.index)}{where} expected {worst.expected:.17g}, got {worst.actual:.17g} "
        f"(error {worst.entry_error:.3g}{ulps}; {worst.usage:.3g} × the tolerance {worst.tolerance:.3g})"
    )


class Group(NamedTuple):
    """One check of one backend at one target, run over every example."""

    name: str
    target: Target
    kind: str
    run: Callable[[Any, Target], checks.Outcome | None]  # (case, target): a cases.Case; None: not applicable
    finite_differences: bool  # its tolerance comes from a finite-difference error estimate


def bind(fn: BackendCheck, backend: Backend) -> Callable[[Any, Target], checks.Outcome | None]:
    return lambda case, target: fn(backend, case, target)
