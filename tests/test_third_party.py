"""The shipped adapters for real autodiff libraries nobody here wrote: zero failures apart from
the convention differences their expectations files document."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from harness import cli

EXAMPLES = Path(__file__).parent.parent / "examples"


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install gradproof[{module}])")


def _verify(tmp_path: Path, name: str, *args: str) -> dict[str, object]:
    status = cli.main(
        [
            "verify",
            "--quiet",
            "--profile",
            "quick",
            "--report-dir",
            str(tmp_path),
            "--impl",
            str(EXAMPLES / f"{name}_impl.py"),
            "--expectations",
            str(EXAMPLES / f"{name}_expectations.txt"),
            *args,
        ]
    )
    report = json.loads((tmp_path / "report.json").read_text())
    bad = [f"{r['id']}: {r['message']}" for r in report["checks"] if r["verdict"] in ("fail", "error")]
    assert bad == [] and status == 0, bad
    return report


def test_autograd_example(tmp_path: Path) -> None:
    _needs("autograd")
    report = _verify(tmp_path, "autograd", "--only", "sigmoid,mse")
    assert report["summary"]["pass"] > 0  # type: ignore[index]


def test_jax_example_one_op(tmp_path: Path) -> None:
    _needs("jax")
    report = _verify(tmp_path, "jax", "--only", "tanh", "--dtype", "float64")
    assert report["summary"]["pass"] == 8  # type: ignore[index]


@pytest.mark.thorough
@pytest.mark.parametrize("name", ["autograd", "jax"])
def test_whole_catalog(tmp_path: Path, name: str) -> None:
    _needs(name)
    _verify(tmp_path, name)
