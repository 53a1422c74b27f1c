"""The shipped adapters for real autodiff libraries nobody here wrote: zero failures apart from
the differences their expectations files document (each with a reproducer in examples/findings/)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from harness import cli

EXAMPLES = Path(__file__).parent.parent / "examples"
# What each adapter imports, where that is not the extra's name: the Linux wheel of mlx has no
# backend without mlx-cpu, and then mlx.core is missing.
MODULES = {"mlx": "mlx.core"}


def _needs(name: str) -> None:
    module = MODULES.get(name, name)
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package of a dotted name is absent
        found = False
    if not found:
        pytest.skip(f"{module} is not installed (pip install gradproof[{name}])")


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


def _verdicts(report: dict[str, object]) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in report["checks"]}  # type: ignore[attr-defined]


def test_autograd_example(tmp_path: Path) -> None:
    _needs("autograd")
    report = _verify(tmp_path, "autograd", "--only", "sigmoid,mse")
    assert report["summary"]["pass"] > 0  # type: ignore[index]


def test_jax_example_one_op(tmp_path: Path) -> None:
    _needs("jax")
    verdicts = _verdicts(_verify(tmp_path, "jax", "--only", "tanh", "--dtype", "float64"))
    assert set(verdicts.values()) == {"pass"} and verdicts["tanh-impl:jax_impl-cpu-float64-vjp"] == "pass"


def test_mlx_example(tmp_path: Path) -> None:
    """A tensor op that passes, and the tie bug of mx.topk's vjp still there in the pinned MLX."""
    _needs("mlx")
    verdicts = _verdicts(_verify(tmp_path, "mlx", "--only", "max_pool2d,topk", "--dtype", "float32"))
    assert verdicts["max_pool2d-impl:mlx_impl-cpu-float32-vjp"] == "pass"
    assert verdicts["topk-impl:mlx_impl-cpu-float32-vjp"] == "xfail"


def test_tensorflow_example(tmp_path: Path) -> None:
    """A float64 convolution that passes, and tf.nn.leaky_relu's float32 slope still there in the pinned version."""
    _needs("tensorflow")
    verdicts = _verdicts(_verify(tmp_path, "tensorflow", "--only", "conv2d,leaky_relu", "--dtype", "float64"))
    assert verdicts["conv2d-impl:tensorflow_impl-cpu-float64-vjp"] == "pass"
    assert verdicts["leaky_relu-impl:tensorflow_impl-cpu-float64-forward"] == "xfail"


@pytest.mark.thorough
@pytest.mark.parametrize("name", ["autograd", "jax", "mlx", "tensorflow"])
def test_whole_catalog(tmp_path: Path, name: str) -> None:
    _needs(name)
    _verify(tmp_path, name)
