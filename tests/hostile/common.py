"""Shared by the hostile-implementation tests: one quick `verify` run, the helper implementations."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from harness import cli

IMPLS = Path(__file__).resolve().parent.parent / "impls"
# A correct NumPy sigmoid, the well-behaved neighbour of a hostile implementation.
SIGMOID = """
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_vjp(z, c):
    a = sigmoid(z)
    return c * a * (1 - a)
"""


def verify(report_dir: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """`gradproof verify --quiet --profile quick` in this process: its exit status and report.json."""
    status = cli.main(["verify", "--quiet", "--profile", "quick", "--report-dir", str(report_dir), *args])
    return status, json.loads((report_dir / "report.json").read_text(encoding="utf-8"))


def _writable(folder: Path) -> bool:
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write in: a read-only one, or for root (whom modes do not stop)
    the read-only /sys; skipped where there is neither."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys")):
        if candidate.is_dir() and not _writable(candidate):
            return candidate
    pytest.skip("every folder tried is writable here (root without a read-only /sys)")
