"""`gradproof list --params [OP] [--example]`: an adapter writer's whole reference. Every op's printed NumPy
implementation passes `verify --impl` on that op, every op's layout fits every input the catalog draws,
and a name that is not an op is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from derivations import OPS
from harness import cases, cli, inputs, listing
from harness.impl import conventions

OP_NAMES = list(OPS)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("name", OP_NAMES)
def test_each_ops_example_passes_verify_impl(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, module, _ = _run(capsys, "list", "--params", name, "--example")
    assert status == 0 and 'KIND = "numpy"' in module
    path = tmp_path / f"{name}_numpy.py"
    path.write_text(module, encoding="utf-8")
    # float64 alone keeps the 29 runs near 40 s; float32's dtypes and shapes are the next test's.
    argv = ["verify", "--impl", str(path), "--only", name, "--profile", "quick", "--dtype", "float64", "--quiet"]
    argv += ["--report-dir", str(tmp_path)]
    status, out, err = _run(capsys, *argv)
    assert status == 0, out + err
    checks = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["checks"]
    ours = [c for c in checks if c["backend"] == f"impl:{name}_numpy"]
    assert ours and all(c["derivation"] == name for c in ours)
    assert [c["id"] for c in ours if c["verdict"] not in ("pass", "skip")] == []
    assert any(c["check"] == "vjp" and c["verdict"] == "pass" for c in ours)


@pytest.mark.parametrize("name", OP_NAMES)
def test_each_ops_example_keeps_float32_and_every_inputs_shape(name: str) -> None:
    op = OPS[name]
    forward, vjp = listing.example_pair(op)
    for region in inputs.regions_of(op):
        (ex,) = inputs.draw_examples(inputs.strategy_for(op, region.name), 1, 0)
        arrays = [ex.arrays[i.name].astype(np.float32) for i in op.inputs]
        out = np.asarray(forward(*arrays, **ex.params))
        assert out.dtype == np.float32 and out.shape == cases.output_shape(op, ex.arrays, ex.params)
        grads = vjp(*arrays, np.ones_like(out), **ex.params)
        grads = grads if isinstance(grads, tuple) else (grads,)
        for i, a, g in zip(op.inputs, arrays, grads, strict=True):
            assert (g.dtype, g.shape) == (np.float32, a.shape), (region.name, i.name)


@pytest.mark.parametrize("name", OP_NAMES)
def test_each_ops_layout_fits_every_region_it_draws(name: str) -> None:
    op = OPS[name]
    for region in inputs.regions_of(op):
        for ex in inputs.draw_examples(inputs.strategy_for(op, region.name), 6, 0):
            shapes = {k: tuple(v.shape) for k, v in ex.arrays.items()}
            shapes["out"] = cases.output_shape(op, ex.arrays, ex.params)
            assert conventions.layout_problems(op, shapes, ex.params) == [], (region.name, shapes, ex.params)


def test_a_wrong_layout_is_caught() -> None:
    # The check above could pass by binding nothing: a layout with w's axes swapped must fail it.
    op = OPS["dense_layer"]
    shapes = {"x": (4, 2), "w": (3, 2), "b": (3,), "out": (4, 3)}
    assert conventions.layout_problems(op, shapes, {"g": "relu"}) == []
    swapped = {**shapes, "w": (2, 3)}
    assert conventions.layout_problems(op, swapped, {"g": "relu"}) == [
        "w: I is 3 here and 2 elsewhere",
        "b: O is 3 here and 2 elsewhere",
        "out: O is 3 here and 2 elsewhere",
    ]
    conv = OPS["conv2d"]
    params = {"stride": (2, 1), "padding": (1, 0)}
    good = {"x": (1, 2, 5, 4), "w": (3, 2, 2, 3), "b": (3,), "out": (1, 3, 3, 2)}
    assert conventions.layout_problems(conv, good, params) == []
    assert conventions.layout_problems(conv, {**good, "out": (1, 3, 4, 2)}, params) != []


def _entry(capsys: pytest.CaptureFixture[str], name: str) -> str:
    """One op's entry with its wrapping and column padding undone: facts are searched for, not layout."""
    status, text, _ = _run(capsys, "list", "--params", name)
    assert status == 0
    return " ".join(text.split())


def test_one_op_entry_holds_shapes_targets_parameters_and_conventions(capsys: pytest.CaptureFixture[str]) -> None:
    text = _entry(capsys, "perceptron_multi")
    assert "input x (n,) e.g." in text and "input w (m, n) e.g." in text and "output (1,) e.g. (1,)" in text
    text = _entry(capsys, "avg_pool2d")
    assert "count_include_pad=True" in text and "Ho = (H + 2*ph - kh) // sh + 1" in text
    assert "param kernel (keyword): (kh, kw): the window; no default, every call passes it" in text
    text = _entry(capsys, "inception_block")
    assert "average pool with stride (1, 1) and padding (1, 1)" in text and "(N, O1 + O3 + Op, H, W)" in text
    text = _entry(capsys, "leaky_relu")
    assert "param alpha (keyword): default 0.01" in text and "at 0 any value in [alpha, 1] passes" in text
    status, row, _ = _run(capsys, "list", "--params", "residual_block", "--json")
    entry = json.loads(row)
    assert status == 0
    assert [i["axes"] for i in entry["inputs"]] == ["(N, C, H, W)", "(C, C, 3, 3)", "(C,)", "(C, C, 3, 3)", "(C,)"]
    assert entry["output"]["axes"] == "(N, C, H, W)" and len(entry["output"]["example_shape"]) == 4


def test_every_op_is_listed_with_its_layout(capsys: pytest.CaptureFixture[str]) -> None:
    status, text, _ = _run(capsys, "list", "--params")
    assert status == 0 and text.startswith("Every op: forward(*inputs, **params)")
    for name in OPS:
        assert f"\n{name}: " in text


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["list", "--params", "gelu"], "no op 'gelu' in the catalog; valid: sigmoid, "),
        (["list", "--params", "gelu", "--example"], "no op 'gelu' in the catalog"),
        (["list", "--example"], "--example prints one op's implementation"),
        (["list", "--params", "relu", "--example", "--json"], "--example prints Python, not JSON"),
    ],
)
def test_a_bad_request_is_one_line_exit_2(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("gradproof: error: ") and says in err
