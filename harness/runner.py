"""Plans and runs every derivation x backend x device x dtype x check, gathering plain records."""

from __future__ import annotations

import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from derivations.model import Derivation
from derivations.tensor_model import TensorExample, TensorOp
from harness import catalog_plots, checks, compare, exact, finite_diff, formulas, symbolic
from harness.backends.base import Backend, Target
from harness.backends.exact_backend import ExactBackend
from harness.backends.finite_differences import FiniteDifferenceBackend
from harness.dtypes import get_format
from harness.inputs import Example, draw_examples, inputs_for, regions_of

PROFILES = {"quick": 2, "default": 6, "thorough": 40}  # examples per region


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


def _seed(*parts: object) -> int:
    return zlib.crc32(":".join(map(str, parts)).encode())


def examples_for(d: Derivation, options: RunOptions) -> list[Example]:
    count = PROFILES[options.profile]
    found: list[Example] = []
    for region in regions_of(d):
        found += draw_examples(inputs_for(d, region=region.name), count, _seed(options.seed, d.name, region.name))
    return found


def reproduce_command(d: Derivation | TensorOp, backend: str, target: Target, kind: str, options: RunOptions) -> str:
    return (
        f"gradproof verify --only {d.name} --backend {backend} --device {target.device} "
        f"--dtype {target.dtype} --check {kind} --seed {options.seed} --profile {options.profile}"
    )


def _input_summary(ex: Example | TensorExample) -> dict[str, object]:
    return {
        "arrays": {k: v.tolist() for k, v in ex.arrays.items()},
        "params": ex.params,
        "region": ex.region,
    }


def _number(value: float) -> float | str:
    """JSON has no inf or nan: keep them as text."""
    return value if np.isfinite(value) else str(value)


def _record(
    d: Derivation | TensorOp,
    backend: str,
    target: Target,
    kind: str,
    verdict: str,
    *,
    acc: Accumulator | None = None,
    message: str = "",
    tolerance_model: str = "",
    examples: Sequence[Example] | Sequence[TensorExample] = (),
    options: RunOptions,
    seconds: float = 0.0,
) -> dict[str, object]:
    rec: dict[str, object] = {
        "id": f"{d.name}-{backend}-{target.device}-{target.dtype}-{kind}",
        "derivation": d.name,
        "backend": backend,
        "device": target.device,
        "dtype": target.dtype,
        "check": kind,
        "verdict": verdict,
        "message": message,
        "examples": 0,
        "max_abs_error": None,
        "max_rel_error": None,
        "max_ulp_error": None,
        "tolerance": None,
        "tolerance_usage": None,
        "tolerance_model": tolerance_model,
        "conventions": {},
        "seconds": round(seconds, 4),
        "reproduce": reproduce_command(d, backend, target, kind, options),
    }
    if kind == "projection":
        # Chance that one input's random directions all miss a rank-one Jacobian error ten
        # times the tolerance; independent inputs multiply it.
        rec["miss_probability"] = finite_diff.miss_probability(0.1, checks.PROJECTION_DIRECTIONS)
    if acc is not None and acc.worst is not None:
        m = acc.worst
        rec.update(
            examples=acc.examples,
            max_abs_error=_number(m.abs_error),
            max_rel_error=_number(m.rel_error),
            max_ulp_error=_number(m.ulp_error),
            tolerance=_number(m.tolerance),
            tolerance_usage=_number(m.usage),
            conventions={k: sorted(v) for k, v in acc.conventions.items()},
        )
        if acc.where:
            rec["input_name"] = acc.where
        if verdict in ("fail", "error") and acc.worst_example >= 0:
            rec["failure"] = {
                "input": _input_summary(examples[acc.worst_example]),
                "worst_index": list(m.index),
                "expected": _number(m.expected),
                "actual": _number(m.actual),
                "tolerance": _number(m.tolerance),
            }
    return rec


class Runner:
    """Runs checks for a set of backends, telling `on_progress` which check group it starts."""

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

    def _targets(self, backend: Backend) -> list[Target]:
        o = self.options
        return [
            t
            for t in backend.targets()
            if (o.dtypes is None or t.dtype in o.dtypes) and (o.devices is None or t.device in o.devices)
        ]

    def _case(
        self, d: Derivation, ex: Example, index: int, dtype: str, cache: dict[tuple[int, str], checks.Case]
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

    def _skip_reason(self, d: Derivation, backend: str, target: Target, kind: str) -> str | None:
        if self.options.skip_reason is None:
            return None
        return self.options.skip_reason(f"{d.name}-{backend}-{target.device}-{target.dtype}-{kind}")

    def run_derivation(self, d: Derivation, examples: list[Example]) -> list[dict[str, object]]:
        cache: dict[tuple[int, str], checks.Case] = {}
        records: list[dict[str, object]] = []
        groups: list[Group] = []
        for backend in self.backends:
            if not backend.provides(d):
                continue
            for target in self._targets(backend):
                unavailable = backend.unavailable(target)
                for kind in self.options.kinds:
                    skip = unavailable or self._skip_reason(d, backend.name, target, kind)
                    if skip:
                        records.append(
                            _record(d, backend.name, target, kind, "skip", message=skip, options=self.options)
                        )
                    else:
                        groups.append(Group(backend.name, target, kind, _bind(backend, kind), kind in checks.FD_KINDS))
        o = self.options
        if o.fd_oracle and (o.dtypes is None or "float64" in o.dtypes) and (o.devices is None or "cpu" in o.devices):
            fd = FiniteDifferenceBackend(self.reference_backend)
            oracle = Group(
                fd.name, Target("cpu", "float64"), "vjp", lambda case, t: checks.fd_oracle(fd, case, t), True
            )
            groups.append(oracle)
        for k, group in enumerate(groups, 1):
            self.on_progress(f"{d.name}: {group.name} {group.target} {group.kind} ({k}/{len(groups)})")
            records.append(self._run_group(d, examples, cache, group))
        return records

    def _run_group(
        self,
        d: Derivation,
        examples: list[Example],
        cache: dict[tuple[int, str], checks.Case],
        group: Group,
    ) -> dict[str, object]:
        name, target, kind = group.name, group.target, group.kind
        start = time.perf_counter()
        if kind in checks.FD_KINDS and target.dtype not in ("float32", "float64"):
            return _record(
                d,
                name,
                target,
                kind,
                "skip",
                message="finite differences need float32 or float64",
                options=self.options,
            )
        acc = Accumulator()

        def finish(verdict: str, message: str) -> dict[str, object]:
            # The model of the example that used most of its tolerance (rho grows with rows).
            shown = examples[max(acc.worst_example, 0)].arrays[d.wrt.name].shape if examples else (1,)
            model = compare.model_text(
                d, d.row_length(shown), get_format(target.dtype), finite_differences=group.finite_differences
            )
            return _record(
                d,
                name,
                target,
                kind,
                verdict,
                acc=acc,
                message=message,
                tolerance_model=model,
                examples=examples,
                options=self.options,
                seconds=time.perf_counter() - start,
            )

        for i, ex in enumerate(examples):
            try:
                case = self._case(d, ex, i, target.dtype, cache)
                outcome = group.run(case, target)
            except exact.ReferenceError as exc:
                acc.error = f"exact reference: {exc}"
            except Exception as exc:  # a backend that raises is that check's error, not the run's
                acc.error = f"{type(exc).__name__}: {exc}"
            if acc.error:
                acc.worst_example = i
                rec = finish("error", acc.error)
                rec.setdefault("failure", {"input": _input_summary(ex)})
                return rec
            acc.add(outcome, i)
            if outcome.measurement.nonfinite:
                at = list(outcome.measurement.index)
                return finish("error", f"non-finite value where the exact value is finite (at {at})")
        worst = acc.worst
        if worst is None or worst.usage <= 1.0:
            return finish("pass", "")
        return finish("fail", failure_message(f"{d.name} {kind} on {name}/{target}", worst))


def failure_message(check: str, worst: compare.Measurement, of: str = "") -> str:
    """`check`: entry [i] (of input) expected e, got a (error, ULPs; tolerance)."""
    where = f" of {of}" if of else ""
    return (
        f"{check}: entry {list(worst.index)}{where} expected {worst.expected:.17g}, got {worst.actual:.17g} "
        f"(error {worst.abs_error:.3g}, {worst.ulp_error:.3g} ULP; tolerance {worst.tolerance:.3g})"
    )


class Group(NamedTuple):
    """One check of one backend at one target, run over every example."""

    name: str
    target: Target
    kind: str
    run: Callable[[checks.Case, Target], checks.Outcome]
    finite_differences: bool  # its tolerance comes from a finite-difference error estimate


def _bind(backend: Backend, kind: str) -> Callable[[checks.Case, Target], checks.Outcome]:
    fn = checks.RUNNERS[kind]
    return lambda case, target: fn(backend, case, target)


def derivation_record(d: Derivation, examples: list[Example], verdict: symbolic.Verdict) -> dict[str, object]:
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
        "kinks": [{"at": k.at, "subgradient": [str(k.lo), str(k.hi)]} for k in d.kinks],
        "notes": d.notes,
        "symbolic": verdict.as_dict(),
        "regions": dict(regions),
        # Drawn at verify time, so that `gradproof report` renders from the JSON alone.
        "formulas": [{"caption": caption, "mathml": ml} for caption, ml in formulas.of(d.name)],
        "plots": catalog_plots.of(d.name),
    }
