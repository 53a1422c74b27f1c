"""Where gradproof.check leaves its records while the pytest plugin is writing a report.

The plugin activates a Recorder for the session and deactivates it at the end; outside a
session with --gradproof-report nothing is recorded. Under pytest-xdist each worker records its
own tests and the controller absorbs every worker's Recorder into its own (gradproof/session.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.report_view import SEVERITY

if TYPE_CHECKING:  # the plugin imports this module in every session: keep it light
    from derivations.model import Op

    Op = Op


def merge(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """One record per check id over many hypothesis examples: the worst verdict, and within
    it the example that used most of its tolerance; examples are summed. A tie (the same verdict and
    usage, or none: a conformance check) keeps the record that sorts first, so that the result does not
    depend on the order records arrive in (pytest-xdist's workers end in any order)."""
    if old is None:
        return dict(new)
    usage_old, usage_new = old.get("tolerance_usage"), new.get("tolerance_usage")
    worse = SEVERITY[new["verdict"]] > SEVERITY[old["verdict"]] or (
        new["verdict"] == old["verdict"]
        and isinstance(usage_new, (int, float))
        and (not isinstance(usage_old, (int, float)) or usage_new > usage_old)
    )
    if new["verdict"] == old["verdict"] and usage_new == usage_old:
        worse = _order(new) < _order(old)
    kept = dict(new if worse else old)
    kept["examples"] = int(old.get("examples", 0)) + int(new.get("examples", 0))
    kept["seconds"] = round(float(old.get("seconds", 0)) + float(new.get("seconds", 0)), 4)
    return kept


def _order(record: Mapping[str, Any]) -> str:
    kept = {k: v for k, v in record.items() if k not in ("examples", "seconds")}
    return json.dumps(kept, sort_keys=True, default=str)


def merge_entries(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """One op's report entry from two sets of examples: its region and condition counts summed. Only
    for ops whose verdict on the stated derivative does not depend on the examples (declared ops)."""
    if old is None:
        return dict(new)
    kept = dict(old)
    regions = dict(old.get("regions", {}))
    for region, count in new.get("regions", {}).items():
        regions[region] = regions.get(region, 0) + count
    coverage = {region: dict(row) for region, row in old.get("coverage", {}).items()}
    for region, row in new.get("coverage", {}).items():
        summed = coverage.setdefault(region, {})
        for condition, count in row.items():
            summed[condition] = summed.get(condition, 0) + count
    kept["regions"], kept["coverage"] = regions, coverage
    return kept


@dataclass
class Recorder:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    derivations: dict[str, Op] = field(default_factory=dict)
    examples: dict[str, list[Any]] = field(default_factory=dict)
    # Report entries built on xdist workers, for ops the controller cannot rebuild from a name (those a
    # test module declares with gradproof.op): the Op itself does not travel between processes.
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, d: Op, examples: list[Any], records: Sequence[Mapping[str, Any]]) -> None:
        self.derivations[d.name] = d
        self.examples.setdefault(d.name, []).extend(examples)
        self.add_records(records)

    def add_entry(self, entry: Mapping[str, Any]) -> None:
        name = str(entry["name"])
        self.entries[name] = merge_entries(self.entries.get(name), entry)

    def add_records(self, records: Sequence[Mapping[str, Any]]) -> None:
        for rec in records:
            self.checks[rec["id"]] = merge(self.checks.get(rec["id"]), rec)


_active: list[Recorder] = []


def activate(recorder: Recorder) -> None:
    _active.append(recorder)


def deactivate(recorder: Recorder) -> None:
    if recorder in _active:
        _active.remove(recorder)


def record(d: Op, examples: list[Any], records: Sequence[Mapping[str, Any]]) -> None:
    for recorder in _active:
        recorder.add(d, examples, records)
