"""One path from ops to records for every entry point: `gradproof verify`, `gradproof.check` and
the selftest.

`plan` names the jobs (an op, and the user's own input where one is given); `Pipeline.run(job)`
draws the inputs, decides the op's stated derivative, runs every backend's value checks and every
third-party implementation's conformance checks, and returns the op's report entry with its check
records. The op's engine (closed form or program) decides its reference and its checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from derivations import OPS
from derivations.model import Op
from harness import checks, op_entry
from harness.backends.base import Backend
from harness.impl import conformance
from harness.impl.backend import ImplBackend
from harness.impl.expectations import Expectations
from harness.options import RunOptions
from harness.records import CheckRecord
from harness.runner import Runner, examples_for

Records = list[CheckRecord]


@dataclass(frozen=True)
class Job:
    """One op to check: its inputs are drawn when the job runs, unless the user gave them."""

    op: Op
    given: tuple[Any, ...] = ()


@dataclass(frozen=True)
class OpResult:
    record: dict[str, object]  # the op's report entry: source, verdict on the stated derivative, regions
    checks: Records
    status: str  # that verdict, for the progress line
    inputs: int  # how many examples were checked


def plan(names: Sequence[str], given: Sequence[Any] = (), ops: Mapping[str, Op] = OPS) -> list[Job]:
    """Jobs for the named ops in order (from the catalog, or the user's own `ops`); `given` inputs go
    with a single op (`--at`)."""
    if given and len(names) != 1:
        raise ValueError("inputs can be given for exactly one op")
    return [Job(ops[name], tuple(given)) for name in names]


def draw(op: Op, options: RunOptions) -> list[Any]:
    """The seeded examples of every region of the op."""
    return examples_for(op, options)


class Pipeline:
    """The backends under test (built-in or third-party) and how deep to check them."""

    def __init__(
        self,
        backends: Sequence[Backend],
        options: RunOptions,
        *,
        expectations: Expectations | None = None,
        on_progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.backends, self.options, self.expectations = list(backends), options, expectations
        # An expectations file's skip lines are decided when planning, its xfail lines when recording (run).
        self.skip_reason = expectations.skip_reason if expectations else (lambda check_id: None)
        # Conformance checks need the implementations' raw results: they run apart from the value checks.
        values = replace(options, kinds=tuple(k for k in options.kinds if k in checks.KINDS))
        self.runner = Runner(self.backends, values, on_progress=on_progress)
        self.properties = [k for k in conformance.KINDS if k in options.kinds]

    def values(self, op: Op, examples: Sequence[Any]) -> Records:
        """forward, vjp, projection (and jacobian where the structure allows) on every backend."""
        return self.runner.run_op(op, list(examples))

    def conformance(self, op: Op, examples: Sequence[Any]) -> Records:
        """dtype-shape, inplace, determinism, cotangent: for the third-party implementations."""
        found: Records = []
        for b in self.backends:
            if isinstance(b, ImplBackend) and b.third_party and self.properties:
                found += conformance.run(b, op, examples, self.options, self.properties, self.skip_reason)
        return found

    def verdict(self, op: Op, examples: Sequence[Any]) -> tuple[dict[str, object], str]:
        """The op's report entry with the verdict on its stated derivative, and that verdict."""
        seed = self.options.seed
        stated = op_entry.stated_verdict(op, examples, seed, lambda i, ex: self.runner.case(op, ex, i, "float64"))
        return op_entry.entry(op, examples, stated, seed), str(stated["status"])

    def run(self, job: Job) -> OpResult:
        examples = list(job.given) or draw(job.op, self.options)
        record, status = self.verdict(job.op, examples)  # first: a program's references are then shared
        found = self.values(job.op, examples) + self.conformance(job.op, examples)
        if self.expectations is not None:
            found = self.expectations.apply(found)
        return OpResult(record, found, status, len(examples))
