"""What the HTML report shows, computed from a validated report.json: the matrix, failures,
claim coverage, regions and conventions. Every axis comes from the data, none is listed here."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, TypeVar

T = TypeVar("T")

# xfail and xpass come from an expectations file: a user's, or the shipped known findings.
SEVERITY = {"error": 5, "fail": 4, "xpass": 3, "pass": 2, "xfail": 1, "skip": 0}


def _order(values: list[T]) -> list[T]:
    """Unique values in order of first appearance."""
    return list(dict.fromkeys(values))


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def short_number(value: object) -> str:
    v = _num(value)
    if v is None:
        return "" if value is None else str(value)
    return f"{v:.3g}"


def derivation_names(report: dict[str, Any]) -> list[str]:
    return _order([d["name"] for d in report["derivations"]] + [c["derivation"] for c in report["checks"]])


Column = tuple[str, str, str]  # backend, device, dtype


def _column(c: dict[str, Any]) -> Column:
    return (c["backend"], c["device"], c["dtype"])


def _unavailable(checks: list[dict[str, Any]], ran: set[Column]) -> tuple[list[dict[str, Any]], set[Column]]:
    """Columns where every check was skipped for one reason (a target this machine lacks, such as
    CUDA): one line each, by backend, device and reason, instead of a column of grey cells."""
    reasons: dict[Column, set[str]] = defaultdict(set)
    for c in checks:
        reasons[_column(c)].add(c["message"] if c["verdict"] == "skip" else "")
    gone = {col for col, why in reasons.items() if col not in ran and len(why) == 1 and "" not in why}
    groups: dict[tuple[str, str, str], list[Column]] = defaultdict(list)
    for col in _order([_column(c) for c in checks if _column(c) in gone]):
        groups[(col[0], col[1], next(iter(reasons[col])))].append(col)
    lines = [
        {
            "backend": backend,
            "device": device,
            "dtypes": [col[2] for col in cols],
            "reason": reason,
            "count": sum(1 for c in checks if _column(c) in cols),
        }
        for (backend, device, reason), cols in groups.items()
    ]
    return lines, gone


def matrix(report: dict[str, Any]) -> dict[str, Any]:
    """Rows: ops. Columns: (backend, device, dtype) as they occur, less those no check could run on
    (listed apart, one line each). A cell holds its checks, its worst verdict and the share of the
    tolerance used by the check that used most of it."""
    checks = report["checks"]
    backends = _order([c["backend"] for c in checks])
    ran = {_column(c) for c in checks if c["verdict"] != "skip"}
    unavailable, gone = _unavailable(checks, ran)
    # Backends in order of appearance; within one, the columns that ran before all-skipped ones.
    shown = [col for col in _order([_column(c) for c in checks]) if col not in gone]
    columns = sorted(shown, key=lambda k: (backends.index(k[0]), k not in ran))
    kinds = _order([c["check"] for c in checks])
    cells: dict[tuple[str, Column], list[dict[str, Any]]] = defaultdict(list)
    for c in checks:
        cells[(c["derivation"], _column(c))].append(c)
    rows = []
    for name in derivation_names(report):
        row = []
        for col in columns:
            found = sorted(cells.get((name, col), []), key=lambda c: kinds.index(c["check"]))
            row.append(_cell(found))
        totals = _totals(c for c in checks if c["derivation"] == name)
        rows.append({"name": name, "cells": row, "totals": totals})
    return {
        "columns": [dict(zip(("backend", "device", "dtype"), col, strict=True)) for col in columns],
        "rows": rows,
        "column_totals": [_totals(c for c in checks if _column(c) == col) for col in columns],
        "kinds": kinds,
        "unavailable": unavailable,
    }


def _cell(found: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not found:
        return None
    worst = max(found, key=lambda c: SEVERITY[c["verdict"]])["verdict"]
    # The check that used most of its tolerance speaks for the cell, by that share: a ULP count
    # mostly measures how close to 0 some exact value was, not how wrong a result is.
    measured = [c for c in found if c.get("tolerance_usage") is not None]
    text = [c for c in measured if isinstance(c["tolerance_usage"], str)]  # inf or nan
    top = text[0] if text else max(measured, key=lambda c: _num(c["tolerance_usage"]) or 0.0, default=None)
    return {
        "verdict": worst,
        "usage": short_number(top["tolerance_usage"]) if top else "",
        "checks": [{"check": c["check"], "verdict": c["verdict"], "id": c["id"]} for c in found],
        "title": "; ".join(_describe(c) for c in found),
    }


def _describe(c: dict[str, Any]) -> str:
    """One check of a cell, for its tooltip."""
    text = c["check"] + (f" ({c['input_name']})" if c.get("input_name") else "") + f": {c['verdict']}"
    if c.get("max_ulp_error") is not None:
        text += f" ({short_number(c['max_ulp_error'])} ULP)"
    if c["verdict"] in ("skip", "error") and c.get("message"):
        text += f" — {c['message']}"
    return text


def _totals(checks: Any) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITY, 0)
    for c in checks:
        counts[c["verdict"]] += 1
    return counts


def failures(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors, then failures, then expected failures (known findings stay in view), each worst (most
    tolerance used) first."""
    found = [c for c in report["checks"] if c["verdict"] in ("fail", "error", "xfail")]
    return sorted(found, key=lambda c: (-SEVERITY[c["verdict"]], -(_num(c.get("tolerance_usage")) or 0.0)))


_CLAIM_ID = re.compile(r"^([A-Z])([0-9]+)([a-z]?)$")


def coverage(report: dict[str, Any]) -> dict[str, Any]:
    """Each claim id with the entries covering it. A report's own "coverage" is taken as it is;
    otherwise it is computed from the sources, and ids missing from a letter's numbering
    (A6 between A5 and A7) are shown as not covered."""
    seeds: dict[str, set[str]] = defaultdict(set)
    computed: dict[str, list[str]] = defaultdict(list)
    for entry in [*report["derivations"], *report.get("claims", [])]:
        source = entry.get("source") or {}
        ids = [*source.get("claims", []), *entry.get("claims", [])]
        for claim in dict.fromkeys(ids):
            computed[claim].append(entry["name"])
            if source.get("seed"):
                seeds[claim].add(source["seed"])
    given = report.get("coverage")
    inferred = False
    if given is not None:
        table = {k: list(v) for k, v in given.items()}
    else:
        table, inferred = dict(computed), True
        numbers: dict[str, set[int]] = defaultdict(set)
        for claim in table:
            if m := _CLAIM_ID.match(claim):
                numbers[m.group(1)].add(int(m.group(2)))
        for letter, present in numbers.items():
            for k in range(1, max(present) + 1):
                if k not in present:
                    table[f"{letter}{k}"] = []
    rows = [
        {"claim": claim, "entries": entries, "seeds": sorted(seeds.get(claim, ())), "covered": bool(entries)}
        for claim, entries in sorted(table.items(), key=lambda kv: _claim_key(kv[0]))
    ]
    return {
        "rows": rows,
        "covered": sum(r["covered"] for r in rows),
        "total": len(rows),
        "inferred": inferred,
    }


def _claim_key(claim: str) -> tuple[str, int, str]:
    m = _CLAIM_ID.match(claim)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else (claim, 0, "")


def regions(report: dict[str, Any]) -> dict[str, Any]:
    """Each op with the regions its examples came from, as (region, examples) pairs in the order the
    regions first occur: a list per op, not a column per region, since most ops draw from few of the
    catalog's thirty-odd regions and a table with a column for each is wider than any screen."""
    names = _order([r for d in report["derivations"] for r in d.get("regions", {})])
    rows = [
        {
            "name": d["name"],
            "regions": sorted(d["regions"].items(), key=lambda kv: names.index(kv[0])),
            # Region x structural condition: how many examples met it; 0 is shown, since it is the news.
            "coverage": [(region, sorted(row.items())) for region, row in d.get("coverage", {}).items() if row],
        }
        for d in report["derivations"]
        if d.get("regions")
    ]
    return {"names": names, "rows": rows}


def conventions(report: dict[str, Any]) -> list[dict[str, Any]]:
    """What each backend returned at each non-differentiable point, merged over its checks."""
    kinks = {d["name"]: d.get("kinks", []) for d in report["derivations"]}
    merged: dict[tuple[str, str, str, str, str], set[float | str]] = defaultdict(set)
    for c in report["checks"]:
        for key, values in (c.get("conventions") or {}).items():
            merged[(c["derivation"], key, c["backend"], c["device"], c["dtype"])].update(values)
    rows = []
    for (name, key, backend, device, dtype), values in merged.items():
        at_point = [k for k in kinks.get(name, []) if "at" in k and f"({k['at']:g})" in key]
        allowed = f"[{', '.join(at_point[0]['subgradient'])}]" if at_point else ""
        rows.append(
            {
                "derivation": name,
                "point": key,
                "backend": backend,
                "device": device,
                "dtype": dtype,
                "returned": _values(values),
                "allowed": allowed,
            }
        )
    return rows


def _values(values: set[float | str], shown: int = 8) -> str:
    # A parameter-dependent value (leaky ReLU's alpha) differs per drawn parameter; a tensor
    # op's tie rule is text ("ties: lowest index").
    numbers = sorted(v for v in values if not isinstance(v, str))
    texts = sorted(v for v in values if isinstance(v, str))
    distinct = list(dict.fromkeys([*(f"{v:.4g}" for v in numbers), *texts]))
    more = f" … ({len(distinct)} distinct values)" if len(distinct) > shown else ""
    return ", ".join(distinct[:shown]) + more


def _entry_verdict(entry: dict[str, Any]) -> str:
    return str(entry.get("verdict") or (entry.get("symbolic") or {}).get("status") or "not judged")


def notes(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every CLAIMS.md id in order, with each entry that encodes one of its statements and that entry's verdict."""
    entries = {e["name"]: e for e in [*report["derivations"], *report.get("claims", [])]}
    rows = []
    for row in coverage(report)["rows"]:
        statements = []
        for name in row["entries"]:
            if name not in entries:  # in the catalog, but not run for this report (--only, --impl, pytest)
                statements.append({"name": name, "verdict": "not run", "ran": False})
                continue
            e = entries[name]
            failed = next((ev for ev in e.get("evidence") or [] if not ev.get("ok")), None)
            symbolic = e.get("symbolic") or {}
            statements.append(
                {
                    "name": name,
                    "kind": "op" if "structure" in e else "claim",
                    "title": e.get("title", ""),
                    "verdict": _entry_verdict(e),
                    "source": e.get("source") or {},
                    "detail": e.get("detail") or symbolic.get("detail") or "",
                    "interpretation": e.get("interpretation", ""),
                    "corrected": e.get("corrected") or symbolic.get("corrected") or "",
                    "counterexample": failed,
                    "evidence": e.get("evidence") or [],
                    "notes": e.get("notes", ""),
                    "ran": True,
                }
            )
        rows.append({**row, "statements": statements, "ran": [st for st in statements if st["ran"]]})
    return rows


def notes_summary(report: dict[str, Any]) -> dict[str, int]:
    """Verdicts of every entry that cites the notes: the claims and the ops' stated derivatives."""
    counts: dict[str, int] = defaultdict(int)
    for e in [*report["derivations"], *report.get("claims", [])]:
        counts[_entry_verdict(e)] += 1
    return dict(counts)


def claims(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Refuted claims first: they are findings."""
    order = {"refuted": 0, "error": 1, "checked": 2, "proved": 3, "not-checkable": 4}
    return sorted(report.get("claims", []), key=lambda c: order.get(c["verdict"], 5))


def selftest(report: dict[str, Any]) -> list[dict[str, Any]]:
    data = report.get("selftest")
    if data is None:
        return []
    return list(data["rows"] if isinstance(data, dict) else data)
