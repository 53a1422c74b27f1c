"""The estimate of a check at a chosen shape (harness/check_cost.py), and --budget refusing a run before it starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from derivations import OPS
from derivations.model import Example
from harness import box_derivative, cases, check_cost, chosen_shapes, cli


def _softmax(z: np.ndarray) -> Example:
    return Example({"z": z}, {}, "typical")


def test_the_units_whose_boxes_overflow_or_underflow_go_to_long_double_and_what_cancels_to_the_exact_engine() -> None:
    z = np.zeros((4, 3))
    z[1, 2] = 800.0  # exp(800) overflows float64; in long double the rewritten Jacobian settles that row's VJP
    z[3, 0] = -800.0  # exp(-800) underflows float64 to a box [0, tiny], loose; in long double a normal number
    z[2, 1] = -30.0  # exp(-30) is a narrow box
    again, loose = check_cost.box_tiers(OPS["softmax"], {"z": z}, {})
    assert again == 2 and not loose.any()
    # A row longer than box_derivative.MAX_ROW has no rewritten Jacobian: reverse mode's 1 - s at the
    # logit of 800 cancels to a loose box in long double too, and that row is the exact engine's.
    long = np.zeros((2, box_derivative.MAX_ROW + 1))
    long[0, 3] = 800.0
    again, loose = check_cost.box_tiers(OPS["softmax"], {"z": long}, {})
    assert again == 1 and loose.tolist() == [True, False]
    # sigmoid's VJP at -800, exp(800) / (1 + exp(800))^2, is inf / inf on float64 boxes; at 800 it underflows
    # to [0, tiny], loose; long double encloses both narrowly. At 2 every float64 box is narrow.
    again, loose = check_cost.box_tiers(OPS["sigmoid"], {"z": np.array([-800.0, 800.0, 2.0])}, {})
    assert again == 2 and not loose.any()


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("sigmoid", (100,)),
        ("tanh", (60,)),
        ("softmax", (8, 6)),
        ("binary_cross_entropy", (10, 4)),
        ("softmax_cross_entropy", (8, 5)),
        ("relu", (50,)),
    ],
)
def test_the_units_counted_before_the_run_are_those_the_float32_check_gives_the_exact_engine(
    name: str, shape: tuple[int, ...]
) -> None:
    """In float32 every unit the boxes do not settle goes to the exact engine: the count must be that one."""
    op = OPS[name]
    for ex in chosen_shapes.examples_at(op, shape, seed=0):
        reference = cases.build(op, ex, "float32", 0).reference
        reference.vjps  # noqa: B018 - the VJP's exact units are computed on first use
        found = int(check_cost.box_tiers(op, ex.arrays, ex.params)[1].sum())
        assert found == reference.coverage.exact, (ex.region, found, reference.coverage)


def test_a_row_costs_its_length_squared() -> None:
    """The same entries in rows of 16 and of 64: the reference of the longer rows costs more, not the same."""
    rng = np.random.default_rng(0)
    short = check_cost.estimate(OPS["softmax"], [_softmax(rng.uniform(-4, 4, (256, 16)))], ["float32"], 1)
    long = check_cost.estimate(OPS["softmax"], [_softmax(rng.uniform(-4, 4, (64, 64)))], ["float32"], 1)
    assert long.calls == pytest.approx(short.calls)
    assert long.reference > 3 * short.reference


def test_units_the_boxes_cannot_bound_and_floats_sample_add_exact_rows() -> None:
    rng = np.random.default_rng(1)
    typical = rng.uniform(-4, 4, (8, 32))
    large = typical.copy()
    large[:, 0] = 900.0  # every row overflows
    op = OPS["softmax"]
    one_row = check_cost.exact_row_seconds(32, 32)
    f32 = [check_cost.estimate(op, [_softmax(z)], ["float32"], 1) for z in (typical, large)]
    # The 8 rows are enclosed again in long double (each entry carrying a tangent of 32), then computed exactly.
    again = 8 * 32 * check_cost.EXTENDED_COST * 32 * check_cost.ROW_ENTRY_PER_LENGTH
    assert f32[1].seconds - f32[0].seconds == pytest.approx(8 * one_row + again)
    assert "exact engine" in f32[1].largest
    # float64 samples every row of so small an example, bounded or not.
    f64 = [check_cost.estimate(op, [_softmax(z)], ["float64"], 1) for z in (typical, large)]
    assert f64[1].seconds - f64[0].seconds == pytest.approx(again) and f64[0].seconds > f32[0].seconds + 7 * one_row


def test_the_estimate_counts_every_example_dtype_and_implementation() -> None:
    op = OPS["sigmoid"]
    examples = chosen_shapes.examples_at(op, (100, 100), seed=0)
    one = check_cost.estimate(op, examples[:1], ["float32"], 1)
    assert check_cost.estimate(op, examples[:1], ["float32"], 3).calls == pytest.approx(3 * one.calls)
    assert check_cost.estimate(op, examples[:1] * 2, ["float32", "float32"], 1).seconds == pytest.approx(
        4 * one.seconds
    )


def test_a_shape_over_the_budget_is_refused_before_any_check_without_an_implementation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["verify", "--report-dir", str(tmp_path), "--shape", "softmax=1024x1024", "--budget", "600"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "--shape softmax=1024x1024: 2 examples, an estimated" in err and "over --budget 600 s" in err, err
    assert not (tmp_path / "report.json").exists()


def test_each_shapes_estimate_is_said_before_its_checks_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["verify", "--report-dir", str(tmp_path), "--shape", "sigmoid=3x5", "--budget", "600", "--dtype", "float64"]
    assert cli.main(args) == 0
    lines = capsys.readouterr().err.splitlines()
    first = next(k for k, line in enumerate(lines) if line.startswith("sigmoid at 3x5: 2 examples, an estimated"))
    assert first < next(k for k, line in enumerate(lines) if line.startswith("[1/1] sigmoid:"))
