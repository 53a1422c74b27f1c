"""The record of one check: one op, one implementation, one target, one kind of check, over every
example. Built once, never edited: an expected failure is a new record made from the old one.

It reads like the JSON object it becomes (`record["verdict"]`), so that reports, views and tests
need no second vocabulary; `as_dict()` is that object, with the optional keys only where set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any

Number = float | str | None  # JSON has no inf or nan: those are kept as text
_OPTIONAL = ("miss_probability", "input_name", "failure", "expected_failure", "severity")


@dataclass(frozen=True)
class CheckRecord(Mapping[str, Any]):
    id: str
    derivation: str
    backend: str
    device: str
    dtype: str
    check: str
    verdict: str
    message: str
    examples: int = 0
    max_abs_error: Number = None
    max_rel_error: Number = None
    max_ulp_error: Number = None
    tolerance: Number = None
    tolerance_usage: Number = None
    tolerance_model: str = ""
    conventions: Mapping[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    reproduce: str = ""
    # Only where they apply, and left out of the JSON elsewhere:
    miss_probability: float | None = None  # projection: the chance its random directions miss an error
    input_name: str | None = None  # which input the worst entry belongs to, when an op has several
    failure: Mapping[str, Any] | None = None  # the input (and worst entry) of a fail or an error
    expected_failure: Mapping[str, Any] | None = None  # the expectations entry that made it xfail/xpass
    severity: str | None = None  # a failure's: "wrong-value", or "range-limit" (only in range regions)

    @cached_property
    def _json(self) -> dict[str, Any]:
        """The fields in declaration order (the JSON's key order), the optional ones only where set."""
        found = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not None or f.name not in _OPTIONAL
        }
        found["conventions"] = dict(self.conventions)
        return found

    def as_dict(self) -> dict[str, Any]:
        return dict(self._json)

    def __getitem__(self, key: str) -> Any:
        return self._json[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._json)

    def __len__(self) -> int:
        return len(self._json)

    def expected(self, reason: str, entry: str) -> CheckRecord:
        """This record under an expectations file's xfail line: xfail if it failed, xpass if not."""
        verdict = "xfail" if self.verdict in ("fail", "error") else "xpass"
        return replace(
            self, verdict=verdict, expected_failure={"reason": reason, "entry": entry, "verdict": self.verdict}
        )
