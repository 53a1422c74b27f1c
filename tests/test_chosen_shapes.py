"""Checks at a chosen size: `--shape OP=SHAPE` and `gradproof.check(..., shapes=...)` (harness/chosen_shapes.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gradproof
from derivations import OPS
from derivations.elementary import FLOAT
from derivations.model import Example, Program, Simplex
from gradproof import recording
from harness import chosen_shapes, cli
from harness.impl.conventions import layout_problems
from harness.inputs import region_named
from harness.shape_text import parse_shape, parse_spec

CLOSED = [("sigmoid", (3, 5)), ("softmax", (2, 7)), ("leaky_relu", (4,)), ("mse", (2, 3, 4))]
CLOSED += [("softmax_cross_entropy", (3, 4)), ("binary_cross_entropy", (5, 2)), ("relu", (2, 2, 2))]
PROGRAMS = [("conv2d", (2, 3, 6, 7)), ("max_pool2d", (1, 2, 5, 6)), ("dense_layer", (5, 3)), ("kthvalue", (4, 3))]
PROGRAMS += [("momentum_step", (3, 4)), ("backprop_chain_L2", (3, 2)), ("inception_block", (1, 2, 3, 4))]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))  # type: ignore[no-any-return]


def _sigmoid_vjp(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    a = _sigmoid(z)
    return c * a * (1 - a)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("text", "shape"), [("4096x64", (4096, 64)), ("4096,64", (4096, 64)), ("(2, 3, 5)", (2, 3, 5))]
)
def test_both_spellings_read_as_one_shape(text: str, shape: tuple[int, ...]) -> None:
    assert parse_shape(text) == shape
    assert parse_spec(f"softmax={text}") == ("softmax", shape)


@pytest.mark.parametrize(("name", "shape"), CLOSED + PROGRAMS, ids=[n for n, _ in CLOSED + PROGRAMS])
def test_every_region_draws_exactly_the_shape_and_inputs_that_fit_the_layout(name: str, shape: tuple[int, ...]) -> None:
    op = OPS[name]
    examples = chosen_shapes.examples_at(op, shape, seed=0)
    assert {ex.region for ex in examples} == {r.name for r in chosen_shapes.chosen_regions(op)}
    for ex in examples:
        assert ex.arrays[op.inputs[0].name].shape == shape
        assert chosen_shapes.shape_tag(shape) in ex.tags
        shapes = {k: np.shape(v) for k, v in ex.arrays.items()}
        if isinstance(op.engine, Program):
            shapes["out"] = np.shape(op.program.forward(FLOAT, ex.arrays, ex.params))
        else:  # a closed form's inputs all have the shape: mse's y, a cross entropy's targets
            assert set(shapes.values()) == {shape}
            shapes["out"] = op.output_shape(shape)
        assert layout_problems(op, shapes, ex.params) == []


@pytest.mark.parametrize(("name", "shape"), CLOSED, ids=[n for n, _ in CLOSED])
def test_closed_form_values_lie_in_their_region_and_domain(name: str, shape: tuple[int, ...]) -> None:
    op = OPS[name]
    for ex in chosen_shapes.examples_at(op, shape, seed=3):
        region = region_named(op, ex.region)
        z = ex.arrays[op.wrt.name]
        kinks = z == op.closed_form.kinks[0].at if region.kink_fraction > 0 else np.zeros(z.shape, dtype=bool)
        assert np.all(np.abs(z) <= region.bound) and np.all((np.abs(z) >= region.low) | kinks)
        assert np.any(kinks) == (region.kink_fraction > 0), "a kink region holds an exact kink, another none"
        for inp in op.inputs:
            assert inp.domain.contains(ex.arrays[inp.name]), (inp.name, ex.region)
            if isinstance(inp.domain, Simplex):
                assert np.allclose(ex.arrays[inp.name].sum(axis=-1), 1.0)


def test_a_parameter_region_visits_every_sample_value() -> None:
    op = OPS["leaky_relu"]
    slopes = {ex.params["alpha"] for ex in chosen_shapes.examples_at(op, (3, 4), regions=["slope-not-0.01"])}
    assert {v for v in op.params[0].samples if v != op.params[0].default} <= slopes


def test_a_ties_region_keeps_its_ties_at_the_new_size() -> None:
    examples = chosen_shapes.examples_at(OPS["max_dim"], (40, 30), regions=["ties"])
    for x in (ex.arrays["x"] for ex in examples):
        assert np.all(x == np.round(x)) and len(np.unique(x)) < 6, "small whole numbers, repeated, as the region draws"


def test_the_same_seed_gives_the_same_values_and_another_seed_others() -> None:
    for name, shape in (("softmax_cross_entropy", (3, 6)), ("conv2d", (2, 2, 5, 5))):
        first, again = (chosen_shapes.examples_at(OPS[name], shape, seed=7) for _ in range(2))
        other = chosen_shapes.examples_at(OPS[name], shape, seed=8)
        for a, b in zip(first, again, strict=True):
            assert a.params == b.params and all(np.array_equal(a.arrays[k], b.arrays[k]) for k in a.arrays)
        first_input = OPS[name].inputs[0].name
        assert not any(
            np.array_equal(a.arrays[first_input], b.arrays[first_input]) for a, b in zip(first, other, strict=False)
        )


def test_a_kernel_larger_than_the_padded_input_is_named() -> None:
    op = OPS["conv2d"]
    drawn = Example(
        {"x": np.zeros((1, 1, 5, 5)), "w": np.zeros((1, 1, 3, 3)), "b": np.zeros(1)},
        {"stride": (1, 1), "padding": (0, 0)},
        "typical",
    )
    shapes, problem = chosen_shapes.fit(op, (1, 1, 2, 8), drawn)
    assert shapes["w"] == (1, 1, 3, 3)
    assert problem is not None and "larger than the padded input" in problem and "H + 2*ph = 2" in problem
    assert chosen_shapes.fit(op, (1, 1, 3, 8), drawn)[1] is None


@pytest.mark.parametrize(
    ("name", "shape", "words"),
    [
        ("conv2d", (2, 3, 4), "(N, C, H, W)"),
        ("softmax", (4, 0), "size of 1 or more"),
        ("dense_layer", "4x", "cannot read"),
    ],
)
def test_a_shape_the_op_cannot_take_is_one_line_naming_the_op(name: str, shape: object, words: str) -> None:
    with pytest.raises(ValueError, match=name) as caught:
        gradproof.check(_sigmoid, name, vjp=_sigmoid_vjp, shapes=[shape])  # type: ignore[list-item]
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_check_at_a_shape_runs_every_region_there_and_records_the_shape() -> None:
    recorder = recording.Recorder()
    recording.activate(recorder)
    try:
        records = gradproof.check(_sigmoid, "sigmoid", vjp=_sigmoid_vjp, dtypes=["float64"], shapes=[(3, 5), (2, 1, 4)])
    finally:
        recording.deactivate(recorder)
    assert (
        records and {r["verdict"] for r in records} <= {"pass", "skip"} and any(r["verdict"] == "pass" for r in records)
    )
    seen = recorder.examples["sigmoid"]
    assert sorted(ex.arrays["z"].shape for ex in seen) == [(2, 1, 4), (2, 1, 4), (3, 5), (3, 5)]
    assert {(ex.region, chosen_shapes.shape_tag(ex.arrays["z"].shape) in ex.tags) for ex in seen} == {
        ("typical", True),
        ("saturation", True),
    }


def test_check_refuses_a_shape_over_its_budget_before_calling_the_function() -> None:
    called = []

    def counted(z: np.ndarray) -> np.ndarray:
        called.append(z.shape)
        return _sigmoid(z)

    with pytest.raises(ValueError, match="sigmoid at shape 1000x1000") as caught:
        gradproof.check(counted, "sigmoid", vjp=_sigmoid_vjp, shapes=[(3, 5), (1000, 1000)], budget=1.0)
    assert "estimated" in str(caught.value) and "budget=1 s" in str(caught.value) and "\n" not in str(caught.value)
    assert not called
    with pytest.raises(ValueError, match="budget goes with shapes"):
        gradproof.check(counted, "sigmoid", vjp=_sigmoid_vjp, budget=60.0)
    records = gradproof.check(counted, "sigmoid", vjp=_sigmoid_vjp, dtypes=["float32"], shapes=[(3, 5)], budget=60.0)
    assert called and any(r["verdict"] == "pass" for r in records)


def test_verify_at_chosen_shapes_runs_just_those_ops_end_to_end(tmp_path: Path) -> None:
    status = cli.main(
        ["verify", "--quiet", "--report-dir", str(tmp_path), "--shape", "sigmoid=3x5", "--shape", "softmax=2,7"]
    )
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert status == 0 and [d["name"] for d in report["derivations"]] == ["sigmoid", "softmax"] and not report["claims"]
    assert (
        report["derivations"][0]["regions"]["shape=3x5"] == 2 and report["derivations"][1]["regions"]["shape=2x7"] == 2
    )
    assert report["summary"]["pass"] > 0 and report["summary"]["fail"] == report["summary"]["error"] == 0
    # Each record's reproduce line repeats the sizes, so that it draws the same examples.
    assert all("--shape sigmoid=3x5" in c["reproduce"] for c in report["checks"])


def test_values_like_a_region_are_not_its_repeated_draws() -> None:
    """A pool where hypothesis drew one non-whole value many times: at the new size its magnitudes are
    spread over the pool's range, not that value repeated (sums of products of a few repeated values
    canceled to within rounding of 0 at --shape dense_layer=256x16 --seed 2, and no float implementation can
    tell the branch there). The range, the signs and the share of zeros stay the pool's."""
    pool = np.array([2.1489360332489014] * 12 + [-1.0694535970687866, 0.0, 0.0, 3.0])
    got = chosen_shapes._like(pool, (4000,), np.random.default_rng(0))
    nonzero = got[got != 0]
    assert np.unique(nonzero).size > 3000
    assert 1.0694535970687866 <= np.abs(nonzero).min() and np.abs(nonzero).max() <= 3.0
    assert abs(np.mean(got == 0) - 2 / 16) < 0.03 and abs(np.mean(nonzero > 0) - 13 / 14) < 0.03
