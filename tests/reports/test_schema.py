"""report.json: every generated report passes the schema; bad ones are refused by field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness import cli, report_schema
from tests.reports.samples import with_additions

BAD_CLAIM = {"name": "x", "method": "guess", "verdict": "proved"}


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema.schema())


def test_a_generated_report_passes_the_schema_and_records_its_environment(report: dict[str, Any]) -> None:
    report_schema.validate(report)
    env = report["environment"]
    for key in ("gradproof", "python", "torch", "numpy", "sympy", "cuda_devices"):
        assert key in env, key
    assert report["schema"] == "gradproof.report/1"
    assert isinstance(report["seed"], int) and report["profile"] == "quick"


def test_documented_additions_pass_the_schema(report: dict[str, Any]) -> None:
    report_schema.validate(with_additions(report))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r["checks"][1].__setitem__("verdict", "maybe"), "checks[1].verdict"),
        (lambda r: r["checks"][0].pop("backend"), "checks[0]"),
        (lambda r: r["summary"].__setitem__("pass", -1), "summary.pass"),
        (lambda r: r["derivations"][0]["symbolic"].__setitem__("status", "fine"), "derivations[0].symbolic.status"),
        (lambda r: r.__setitem__("seed", "zero"), "seed"),
        (lambda r: r.__setitem__("coverage", {"A1": "sigmoid"}), "coverage.A1"),
        (lambda r: r.__setitem__("claims", [BAD_CLAIM]), "claims[0].method"),
    ],
)
def test_a_wrong_field_is_named(report: dict[str, Any], change: Any, field: str) -> None:
    change(report)
    with pytest.raises(report_schema.ReportError, match=rf"field '{re.escape(field)}'"):
        report_schema.validate(report)


def test_a_newer_major_version_is_refused_as_such(report: dict[str, Any]) -> None:
    report["schema"] = "gradproof.report/2"
    report["checks"] = "changed shape in version 2"
    with pytest.raises(report_schema.ReportError, match="newer major version"):
        report_schema.validate(report)


def test_a_newer_minor_version_is_read(report: dict[str, Any]) -> None:
    report["schema"] = "gradproof.report/1.3"
    report["something_new"] = {"ignored": True}
    report_schema.validate(report)


def _render(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = cli.main(["report", str(path)])
    return status, capsys.readouterr().err


def test_report_command_names_the_wrong_field_and_exits_2(
    report: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report["checks"][0]["verdict"] = "maybe"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    status, err = _render(path, capsys)
    assert status == 2
    assert "checks[0].verdict" in err and err.count("\n") == 1
    assert not (tmp_path / "index.html").exists()


def test_report_command_refuses_a_newer_major_version(
    report: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report["schema"] = "gradproof.report/2.0"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    status, err = _render(path, capsys)
    assert status == 2 and "field 'schema'" in err and "newer major version" in err


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_report_command_refuses_what_is_not_a_report(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "report.json"
    path.write_text(text, encoding="utf-8")
    status, err = _render(path, capsys)
    assert status == 2 and err.startswith("gradproof: error:")


def test_report_command_rerenders_html_and_junit(
    report_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["report", str(report_dir / "report.json"), "--out", str(tmp_path)])
    assert status == 0
    assert (tmp_path / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (tmp_path / "junit.xml").read_text(encoding="utf-8").startswith("<?xml")
