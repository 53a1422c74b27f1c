"""`gradproof verify --impl`: load implementations, add their conformance checks, annotate the
report. The CLI calls in here at four points so that its own flow stays as it is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from derivations.model import Op
from harness.impl.backend import ImplBackend
from harness.impl.contract import Convention
from harness.impl.conventions import CONVENTIONS
from harness.impl.expectations import Expectations
from harness.impl.host import LoadError
from harness.impl.isolation import DEFAULT_TIMEOUT, InProcess, Isolated


def load(
    spec: str,
    *,
    isolate: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    conventions: Mapping[str, Convention] = CONVENTIONS,
    budget: float | None = None,
) -> ImplBackend:
    """An implementation as a backend, in a worker process unless `isolate` is False.

    Raises LoadError (one line naming the module) when it cannot be imported at all."""
    caller = Isolated(spec, conventions, timeout) if isolate else InProcess(spec, conventions)
    return ImplBackend(caller, budget_s=budget)


class ImplSession:
    def __init__(
        self,
        specs: Sequence[str],
        *,
        isolate: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        expectations: Expectations | None = None,
        declared: Mapping[str, tuple[Op, str]] | None = None,
        budget: float | None = None,
    ) -> None:
        self.backends: list[ImplBackend] = []
        self.load_errors: list[str] = []
        # The user's own ops (--ops) are called like the catalog's.
        self.conventions = {**CONVENTIONS, **{name: Convention.of(op) for name, (op, _) in (declared or {}).items()}}
        for spec in specs:
            try:
                self.backends.append(
                    load(spec, isolate=isolate, timeout=timeout, conventions=self.conventions, budget=budget)
                )
            except LoadError as exc:
                self.load_errors.append(str(exc))
        self.expectations = expectations or Expectations([])
        self._distinct_names()

    def _distinct_names(self) -> None:
        """Two files with one stem (a/mine.py, b/mine.py) would share check ids: name those by their spec."""
        stems = [b.name for b in self.backends]
        for b in self.backends:
            if stems.count(b.name) > 1:
                b.name = f"impl:{b.descriptor.spec}"
        seen: dict[str, int] = {}
        for b in self.backends:  # the same spec twice
            seen[b.name] = seen.get(b.name, 0) + 1
            if seen[b.name] > 1:
                b.name = f"{b.name}#{seen[b.name]}"

    def selects(self) -> dict[str, tuple[str, ...]]:
        """How a reproduce line names each implementation: by its spec."""
        return {b.name: ("--impl", b.descriptor.spec) for b in self.backends}

    def problems(self) -> list[str]:
        return self.load_errors + [p for b in self.backends for p in b.descriptor.problems]

    def ops(self) -> tuple[str, ...]:
        """Catalog ids any implementation provides, in catalog order, then the declared ops'."""
        return tuple(n for n in self.conventions if any(n in b.descriptor.ops for b in self.backends))

    def finish(self, data: dict[str, object]) -> list[str]:
        """Describe each implementation in the report (the expectations were applied as each op was
        recorded); returns the warning lines to print."""
        data["implementations"] = [
            {
                "backend": b.name,
                "spec": b.descriptor.spec,
                "kind": b.descriptor.kind,
                "ops": list(b.descriptor.ops),
                "lacks": [n for n in self.conventions if n not in b.descriptor.ops],
                "problems": list(b.descriptor.problems),
                "nondeterminism_ulps": b.descriptor.nondeterminism_ulps,
            }
            for b in self.backends
        ]
        data["load_errors"] = self.load_errors
        data["expectations"] = {"source": self.expectations.source, "unmatched": self.expectations.unmatched()}
        lines = [f"PROBLEM {p}" for p in self.problems()]
        lines += [f"WARNING {u}" for u in self.expectations.unmatched()]
        for b in self.backends:
            lacks = [n for n in self.conventions if n not in b.descriptor.ops]
            lines.append(
                f"{b.name} ({b.descriptor.kind}) provides {', '.join(b.descriptor.ops) or 'no ops'}"
                + (f"; lacks {', '.join(lacks)}" if lacks else "")
            )
        return lines

    def close(self) -> None:
        for b in self.backends:
            b.caller.close()


KNOWN_FINDINGS = Path(__file__).resolve().parent.parent / "known_findings.txt"


def read_expectations(path: Path | None, *, built_in: bool = False) -> Expectations | None:
    """The user's file, or for the built-in backends the shipped known findings."""
    if path:
        return Expectations.read(path)
    return Expectations.read(KNOWN_FINDINGS) if built_in else None
