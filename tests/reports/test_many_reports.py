"""Reports of the whole catalog over several seeds all pass the schema and render (thorough only)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import cli, report_schema
from tests.reports.page import parse

SEEDS = range(1, 6)


@pytest.mark.thorough
@pytest.mark.parametrize("seed", SEEDS)
def test_a_full_catalog_report_validates_and_renders(seed: int, tmp_path: Path) -> None:
    status = cli.main(["verify", "--quiet", "--profile", "quick", "--seed", str(seed), "--report-dir", str(tmp_path)])
    assert status in (0, 1)  # 1: torch's documented binary_cross_entropy finding
    report = report_schema.validate(json.loads((tmp_path / "report.json").read_text(encoding="utf-8")))
    page = parse((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert "matrix" in page.ids and page.count("math") == 2 * len(report["derivations"])
    cases = list(ET.parse(tmp_path / "junit.xml").getroot().iter("testcase"))
    assert len(cases) == len(report["checks"])
    failed = {c["id"] for c in report["checks"] if c["verdict"] in ("fail", "error")}
    assert failed <= {f"binary_cross_entropy-torch-cpu-{t}-forward" for t in ("float32", "float64")}
