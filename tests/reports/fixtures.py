"""A small real report, made once per session by the command line, and a copy to alter."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness import cli


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("report")
    status = cli.main(
        [
            "verify",
            "--quiet",
            "--profile",
            "quick",
            "--only",
            "sigmoid,relu",
            "--dtype",
            "float32,float64",
            "--report-dir",
            str(directory),
        ]
    )
    assert status == 0
    return directory


@pytest.fixture(scope="session")
def _report(report_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def report(_report: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy each test may change."""
    return copy.deepcopy(_report)
