"""Plans and runs every derivation x backend x device x dtype x check, gathering plain records."""

from __future__ import annotations

import shlex
import time
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from derivations.model import Example, Op
from harness import catalog_plots, checks, compare, exact, finite_diff, formulas, symbolic
from harness.backends.base import Backend, Target
from harness.backends.exact_backend import ExactBackend
from harness.backends.finite_differences import FiniteDifferenceBackend
from harness.dtypes import get_format
from harness.inputs import draw_examples, inputs_for, regions_of
from harness.records import CheckRecord

PROFILES = {"quick": 2, "default": 6, "thorough": 40}  # examples per region
# check(backend, case, target) -> the outcome of one example, a case of a derivation or of a tensor op
BackendCheck = Callable[[Backend, Any, Target], checks.Outcome]


@dataclass
class Accumulator:
    """The worst of one check over all its examples."""

    worst: compare.Measurement | None = None
    worst_example: int = -1
    examples: int = 0
    conventions: dict[str, set[float]] = field(default_factory=dict)
    error: str | None = None
    where: str = ""

    def add(self, outcome: checks.Outcome, example: int) -> None:
        self.examples += 1
        m = outcome.measurement
        if self.worst is None or m.usage > self.worst.usage or (m.nonfinite and not self.worst.nonfinite):
            self.worst, self.worst_example, self.where = m, example, outcome.where
        for key, values in outcome.conventions.items():
            self.conventions.setdefault(key, set()).update(values)

    def fields(self, verdict: str, examples: Sequence[Example]) -> dict[str, Any]:
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
                "input": _input_summary(examples[self.worst_example]),
                "worst_index": list(m.index),
                "expected": _number(m.expected),
                "actual": _number(m.actual),
                "tolerance": _number(m.tolerance),
            }
        return found


@dataclass(frozen=True)
class RunOptions:
    seed: int = 0
    profile: str = "default"
    dtypes: tuple[str, ...] | None = None
    devices: tuple[str, ...] | None = None
    kinds: tuple[str, ...] = checks.KINDS
    fd_oracle: bool = True
    # Check id -> why it is not run (the skip entries of an expectations file), or None.
    skip_reason: Callable[[str], str | None] | None = None
    # How a record's `reproduce` line names its backend (default `--backend NAME`; `--impl FILE` for an
    # implementation), the arguments every line carries (--ops, --at, ...), or one fixed line (a pytest node).
    selects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    extra_args: tuple[str, ...] = ()
    reproduce: str | None = None


def _seed(*parts: object) -> int:
    return zlib.crc32(":".join(map(str, parts)).encode())


def examples_for(d: Op, options: RunOptions) -> list[Example]:
    count = PROFILES[options.profile]
    found: list[Example] = []
    for region in regions_of(d):
        found += draw_examples(inputs_for(d, region=region.name), count, _seed(options.seed, d.name, region.name))
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


def _input_summary(ex: Example) -> dict[str, object]:
    return {"arrays": {k: v.tolist() for k, v in ex.arrays.items()}, "params": ex.params, "region": ex.region}


def _number(value: float) -> float | str:
    """JSON has no inf or nan: keep them as text."""
    return value if np.isfinite(value) else str(value)


def _record(
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
    measured = acc.fields(verdict, drawn) if acc is not None and acc.worst is not None else {}
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


class GroupRunner:
    """What Runner and TensorRunner share: each backend's check groups, run in turn, `on_progress` told of each."""

    backends: Sequence[Backend]
    options: RunOptions
    on_progress: Callable[[str], None]

    def _targets(self, backend: Backend) -> list[Target]:
        o = self.options
        chosen = [t for t in backend.targets() if o.dtypes is None or t.dtype in o.dtypes]
        return [t for t in chosen if o.devices is None or t.device in o.devices]

    def _skip_reason(self, subject: Op, backend: str, target: Target, kind: str) -> str | None:
        """An expectations file's skip line, decided when planning."""
        if self.options.skip_reason is None:
            return None
        return self.options.skip_reason(f"{subject.name}-{backend}-{target.device}-{target.dtype}-{kind}")

    def _run_checks(
        self,
        subject: Op,
        runners: Mapping[str, BackendCheck],
        fd_kinds: Sequence[str],
        oracle: Callable[[], Group],
        run_group: Callable[[Group], CheckRecord],
    ) -> list[CheckRecord]:
        """Skip records (unavailable target, expectations file), then each check group's record, the oracle's last."""
        o = self.options
        records: list[CheckRecord] = []
        groups: list[Group] = []
        for backend in self.backends:
            if not backend.provides(subject):  # type: ignore[arg-type]
                continue
            for target in self._targets(backend):
                unavailable = backend.unavailable(target)
                for kind in [k for k in o.kinds if k in runners]:
                    skip = unavailable or self._skip_reason(subject, backend.name, target, kind)
                    if skip:
                        records.append(_record(subject, backend.name, target, kind, "skip", message=skip, options=o))
                    else:
                        groups.append(
                            Group(backend.name, target, kind, _bind(runners[kind], backend), kind in fd_kinds)
                        )
        if o.fd_oracle and (o.dtypes is None or "float64" in o.dtypes) and (o.devices is None or "cpu" in o.devices):
            groups.append(oracle())
        for k, group in enumerate(groups, 1):
            self.on_progress(f"{subject.name}: {group.name} {group.target} {group.kind} ({k}/{len(groups)})")
            records.append(run_group(group))
        return records


class Runner(GroupRunner):
    """Runs the checks of derivations for a set of backends."""

    def __init__(
        self,
        backends: Sequence[Backend],
        reference_backend: Backend,
        options: RunOptions,
        on_progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.backends = backends
        self.reference_backend = reference_backend
        self.exact = ExactBackend()
        self.options = options
        self.on_progress = on_progress

    def _case(
        self, d: Op, ex: Example, index: int, dtype: str, cache: dict[tuple[int, str], checks.Case]
    ) -> checks.Case:
        key = (index, dtype)
        if key not in cache:
            fmt = get_format(dtype)
            arrays = {k: fmt.round(v) for k, v in ex.arrays.items()}
            out_shape = d.output_shape(arrays[d.wrt.name].shape)
            seed = _seed(self.options.seed, d.name, index, dtype)
            cot = fmt.round(np.random.default_rng(seed).standard_normal(out_shape))
            ref = self.exact.reference(d, arrays, ex.params, cot, dtype)
            cache[key] = checks.Case(d, arrays, ex.params, cot, ref, fmt, seed)
        return cache[key]

    def run_derivation(self, d: Op, examples: list[Example]) -> list[CheckRecord]:
        cache: dict[tuple[int, str], checks.Case] = {}

        def oracle() -> Group:
            fd = FiniteDifferenceBackend(self.reference_backend)
            return Group(fd.name, Target("cpu", "float64"), "vjp", lambda case, t: checks.fd_oracle(fd, case, t), True)

        run = lambda group: self._run_group(d, examples, cache, group)  # noqa: E731
        return self._run_checks(d, checks.RUNNERS, checks.FD_KINDS, oracle, run)

    def _run_group(
        self, d: Op, examples: list[Example], cache: dict[tuple[int, str], checks.Case], group: Group
    ) -> CheckRecord:
        target = group.target

        def model(acc: Accumulator) -> str:
            # The model of the example that used most of its tolerance (rho grows with rows).
            shown = examples[max(acc.worst_example, 0)].arrays[d.wrt.name].shape if examples else (1,)
            fmt = get_format(target.dtype)
            return compare.model_text(d, d.row_length(shown), fmt, finite_differences=group.finite_differences)

        return GroupRun(d, group, examples, self.options, model).judge(
            lambda i, ex: group.run(self._case(d, ex, i, target.dtype, cache), target)
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
        return _record(
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
        none_measured: str = "",
    ) -> CheckRecord:
        """`measure` each example (None: the check does not apply there); the first that raises is the group's
        error, the first NaN or inf where the exact value is finite its failure. With `none_measured`, a group
        that measured nothing is skipped."""
        acc, g = self.acc, self.group
        if g.finite_differences and g.target.dtype not in ("float32", "float64"):
            msg = "finite differences need float32 or float64"
            return _record(self.d, g.name, g.target, g.kind, "skip", message=msg, options=self.options)
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
                given = {"failure": {"input": _input_summary(ex)}} if acc.worst is None else {}
                return self.finish("error", acc.error, **given)
            if outcome is None:
                continue
            acc.add(outcome, i)
            if outcome.measurement.nonfinite:
                return self.finish("fail", nonfinite_message(self.d.name, g, outcome))
        if none_measured and acc.examples == 0:
            return self.finish("skip", none_measured)
        worst, check = acc.worst, f"{self.d.name} {g.kind} on {g.name}/{g.target}"
        if worst is None or worst.usage <= 1.0:
            return self.finish("pass", "")
        if acc.where.startswith("outside"):  # judged as a set at a kink or tie: no single expected value
            return self.finish("fail", f"{check}: the gradient lies {acc.where}")
        return self.finish("fail", failure_message(check, worst, acc.where))


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
    run: Callable[[Any, Target], checks.Outcome]  # (case, target): a checks.Case or a TensorCase
    finite_differences: bool  # its tolerance comes from a finite-difference error estimate


def _bind(fn: BackendCheck, backend: Backend) -> Callable[[Any, Target], checks.Outcome]:
    return lambda case, target: fn(backend, case, target)


def derivation_record(d: Op, examples: list[Example], verdict: symbolic.Verdict) -> dict[str, object]:
    regions = Counter(ex.region for ex in examples)
    for ex in examples:
        regions.update(ex.tags)
    return {
        "name": d.name,
        "title": d.title,
        "structure": d.structure,
        "source": d.source.as_dict(),
        "inputs": [
            {"name": i.name, "domain": i.domain.describe(), "differentiable": i.differentiable} for i in d.inputs
        ],
        "params": [{"name": p.name, "default": p.default, "domain": p.domain.describe()} for p in d.params],
        "kinks": [{"at": k.at, "subgradient": [str(k.lo), str(k.hi)]} for k in d.closed_form.kinks],
        "notes": d.notes,
        "symbolic": verdict.as_dict(),
        "regions": dict(regions),
        # Drawn at verify time, so that `gradproof report` renders from the JSON alone.
        "formulas": [{"caption": caption, "mathml": ml} for caption, ml in formulas.of(d.name)],
        "plots": catalog_plots.of(d.name),
    }
