"""Everything a run leaves in the report folder, each file written atomically:
report.json (the data), index.html (for people), junit.xml (for CI dashboards)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness import html_report, junit, report, report_schema

HTML_NAME = "index.html"
JUNIT_NAME = "junit.xml"


def _printable(value: Any) -> Any:
    """Every text of the report encodable as UTF-8: a lone surrogate (from an exception message or a
    file name) is shown as its escape, not a crash of the page."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_printable(v) for v in value]
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    return value


def write_views(data: dict[str, Any], directory: Path) -> list[Path]:
    """index.html and junit.xml from a report; the report is validated first."""
    report_schema.validate(data)
    data = _printable(data)
    html_path, junit_path = directory / HTML_NAME, directory / JUNIT_NAME
    # Both are rendered before either is written: a failure leaves the old pair in place.
    html, xml = html_report.render(data), junit.render(data)
    report.write_atomic(html_path, html)
    report.write_atomic(junit_path, xml)
    return [html_path, junit_path]


def write_all(data: dict[str, Any], directory: Path) -> list[Path]:
    """report.json first, so the data survives even if a view cannot be rendered; the views
    read the JSON back, exactly as `gradproof report` would."""
    json_path = report.write_json(data, directory)
    return [json_path, *write_views(json.loads(json_path.read_text(encoding="utf-8")), directory)]
