"""What a claim check returns: evidence items, a one-line detail, the corrected form, plot series."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Evidence:
    """One comparison: what the statement implies against what was computed."""

    name: str
    ok: bool
    expected: str | float
    actual: str | float
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "expected": self.expected, "actual": self.actual, "note": self.note}


@dataclass
class ClaimResult:
    """The claim holds when every piece of evidence agrees; a check with no evidence is an error."""

    evidence: list[Evidence] = field(default_factory=list)
    detail: str = ""  # what was shown; the runner prefers the first failed evidence when refuted
    corrected: str = ""  # the statement that does hold, used only when refuted
    series: dict[str, dict[str, object]] = field(default_factory=dict)

    def add(self, name: str, ok: bool, expected: object, actual: object, note: str = "") -> bool:
        self.evidence.append(Evidence(name, bool(ok), _value(expected), _value(actual), note))
        return bool(ok)

    @property
    def holds(self) -> bool:
        return bool(self.evidence) and all(e.ok for e in self.evidence)

    def first_failure(self) -> Evidence | None:
        return next((e for e in self.evidence if not e.ok), None)

    def plot(self, name: str, title: str, xlabel: str, ylabel: str, x: object, lines: Mapping[str, object]) -> None:
        self.series[name] = {
            "title": title,
            "xlabel": xlabel,
            "ylabel": ylabel,
            "x": _floats(x),
            "lines": {label: _floats(ys) for label, ys in lines.items()},
        }


def _value(v: object) -> str | float:
    """JSON-safe: finite floats stay numbers, everything else (sympy, tuples, inf) becomes text."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(float(v)):
        return float(v)
    return str(v)


def _floats(values: object) -> list[float | None]:
    arr = np.asarray(values, dtype=np.float64).ravel()
    return [float(v) if math.isfinite(v) else None for v in arr]
