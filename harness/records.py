"""The record of one check: one op, one implementation, one target, one kind of check, over every
example. Built once, never edited: an expected failure is a new record made from the old one.

It reads like the JSON object it becomes (`record["verdict"]`), so that reports, views and tests
need no second vocabulary; `as_dict()` is that object, with the optional keys only where set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

Number = float | str | None  # JSON has no inf or nan: those are kept as text


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
    reproduce: str
    seconds: float = 0.0
    examples: int = 0
    max_abs_error: Number = None
    max_rel_error: Number = None
    max_ulp_error: Number = None
    tolerance: Number = None
    tolerance_usage: Number = None
    tolerance_model: str = ""
    conventions: Mapping[str, list[float]] = field(default_factory=dict)
    # Only where they apply:
    miss_probability: float | None = None  # projection: the chance its random directions miss an error
    input_name: str | None = None  # which input the worst entry belongs to, when an op has several
    failure: Mapping[str, Any] | None = None  # the input (and worst entry) of a fail or an error
    expected_failure: Mapping[str, Any] | None = None  # the expectations entry that made it xfail/xpass

    @cached_property
    def _json(self) -> dict[str, Any]:
        keys = (
            "id", "derivation", "backend", "device", "dtype", "check", "verdict", "message", "examples",
            "max_abs_error", "max_rel_error", "max_ulp_error", "tolerance", "tolerance_usage",
            "tolerance_model", "conventions", "seconds", "reproduce",
        )  # fmt: skip
        found: dict[str, Any] = {k: getattr(self, k) for k in keys}
        found["conventions"] = dict(self.conventions)
        for k in ("miss_probability", "input_name", "failure", "expected_failure"):
            if getattr(self, k) is not None:
                found[k] = getattr(self, k)
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
