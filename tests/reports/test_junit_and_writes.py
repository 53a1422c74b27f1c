"""junit.xml has one test case per check; every report file is replaced atomically."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness import html_report, junit, outputs
from tests.reports.samples import with_additions


def test_junit_has_one_case_per_check_with_matching_counts(report: dict[str, Any]) -> None:
    report = with_additions(report)
    root = ET.fromstring(junit.render(report))
    cases = list(root.iter("testcase"))
    assert sorted(c.get("name") or "" for c in cases) == sorted(c["id"] for c in report["checks"])
    assert len(list(root.iter("failure"))) == report["summary"]["fail"]
    assert len(list(root.iter("skipped"))) == report["summary"]["skip"]
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites["conv2d"].get("failures") == "1"
    failure = next(root.iter("failure"))
    assert "expected: 1.5" in (failure.text or "") and "actual: 1.25" in (failure.text or "")


def test_verify_writes_json_html_and_junit(report_dir: Path) -> None:
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    root = ET.parse(report_dir / "junit.xml").getroot()
    assert len(list(root.iter("testcase"))) == len(report["checks"])
    assert 'id="matrix"' in (report_dir / "index.html").read_text(encoding="utf-8")


def test_a_failed_render_leaves_the_previous_files_in_place(
    report: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs.write_all(report, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(data: dict[str, Any], **_: object) -> str:
        raise RuntimeError("renderer died")

    monkeypatch.setattr(html_report, "render", broken)
    with pytest.raises(RuntimeError):
        outputs.write_views(report, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary file left either


def test_an_interrupted_write_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import report as report_module

    target = tmp_path / "index.html"
    target.write_text("good", encoding="utf-8")

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report_module.write_atomic(target, "half")
    assert target.read_text(encoding="utf-8") == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]
