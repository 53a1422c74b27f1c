"""JUnit XML for CI dashboards: one test case per check record."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any


def _text(value: object) -> str:
    # XML 1.0 cannot carry most control characters, even escaped.
    return "".join(ch for ch in str(value) if ch in "\t\n\r" or ord(ch) >= 0x20)


def _details(rec: dict[str, Any]) -> str:
    lines = [str(rec.get("message", ""))]
    failure = rec.get("failure") or {}
    for key in ("worst_index", "expected", "actual", "tolerance"):
        if key in failure:
            lines.append(f"{key}: {failure[key]}")
    for key in ("max_ulp_error", "tolerance_usage", "tolerance_model", "reproduce"):
        if rec.get(key) not in (None, ""):
            lines.append(f"{key}: {rec[key]}")
    return "\n".join(lines)


def render(report: dict[str, Any]) -> str:
    """One <testsuite> per derivation, one <testcase> per check (classname = derivation)."""
    by_derivation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in report["checks"]:
        by_derivation[rec["derivation"]].append(rec)
    root = ET.Element("testsuites", name="gradproof", time=f"{float(report.get('seconds', 0)):.3f}")
    for name, records in by_derivation.items():
        counts = {v: sum(r["verdict"] == v for r in records) for v in ("fail", "error", "skip")}
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_text(name),
            tests=str(len(records)),
            failures=str(counts["fail"]),
            errors=str(counts["error"]),
            skipped=str(counts["skip"]),
            time=f"{sum(float(r.get('seconds', 0)) for r in records):.4f}",
        )
        for rec in records:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_text(f"gradproof.{name}"),
                name=_text(rec["id"]),
                time=f"{float(rec.get('seconds', 0)):.4f}",
            )
            verdict = rec["verdict"]
            if verdict in ("fail", "error"):
                tag = "failure" if verdict == "fail" else "error"
                node = ET.SubElement(case, tag, message=_text(rec.get("message", "")), type=verdict)
                node.text = _text(_details(rec))
            elif verdict == "skip":
                ET.SubElement(case, "skipped", message=_text(rec.get("message", "")))
            elif verdict == "xfail":
                reason = (rec.get("expected_failure") or {}).get("reason", "")
                ET.SubElement(case, "skipped", message=_text(f"expected failure: {reason}"), type="xfail")
    if report.get("interrupted"):
        # A run cut short must not read as green: its unfinished part is one error.
        suite = ET.SubElement(root, "testsuite", name="gradproof.run", tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname="gradproof.run", name="run-complete", time="0")
        ET.SubElement(
            case, "error", message="the run was interrupted; checks after that point did not run", type="error"
        )
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
