"""An input a dtype cannot hold (1e30 in float16) is not an input of that dtype: no check of it."""

from __future__ import annotations

import numpy as np
import pytest

from derivations import OPS
from derivations.model import Example
from harness import cases
from harness.backends import NumpyBackend
from harness.runner import Runner, RunOptions


class _Half:
    """The NumPy reference at float16 on the CPU: a target no built-in backend offers here, for the
    runner's handling of inputs a dtype cannot hold."""

    name = "half"

    def targets(self) -> list[object]:
        from harness.backends.base import Target

        return [Target("cpu", "float16")]

    def unavailable(self, target: object) -> None:
        return None

    def provides(self, op: object) -> bool:
        return True

    def provides_jvp(self, op: object) -> bool:
        return False

    def forward(self, d, arrays, params, target):  # type: ignore[no-untyped-def]
        return NumpyBackend().forward(d, arrays, params, target.__class__("cpu", "float64"))


def test_an_input_a_dtype_cannot_hold_is_not_checked_in_it() -> None:
    """1e30 rounds to inf in float16: that input does not exist there, and saying so is a skip."""
    op = OPS["sigmoid"]
    ex = Example({"z": np.array([1e30, -2.0])}, {}, "typical")
    with pytest.raises(cases.OutOfRange, match="z leave float16's range"):
        cases.build(op, ex, "float16", 0)
    options = RunOptions(devices=("cpu",), kinds=("forward",), fd_oracle=False)
    records = Runner([_Half()], options).run_op(op, [ex])  # type: ignore[list-item]
    assert [(r["verdict"], r["message"]) for r in records] == [
        ("skip", "no example fits float16: z leave float16's range (and 1 in all)")
    ]


def test_an_input_whose_rounding_makes_the_op_undefined_is_not_checked_in_that_dtype() -> None:
    """Adagrad's tiny region: s and g of 2^-100 both round to 0 in float16, where the step is 0/0; in float64
    the same draw is defined and checked."""
    op = OPS["adagrad_step"]
    ex = Example(
        {"w": np.array([0.5]), "s": np.array([2.0**-100]), "g": np.array([2.0**-101])}, {"eta": 0.5, "eps": 0.0}, "tiny"
    )
    assert np.isfinite(cases.build(op, ex, "float64", 0).reference.forward).all()
    with pytest.raises(cases.OutOfRange, match="leave the op's domain"):
        cases.build(op, ex, "float16", 0)
    undefined = Example(
        {"w": np.array([0.5]), "s": np.array([0.0]), "g": np.array([0.0])}, {"eta": 0.5, "eps": 0.0}, "x"
    )
    with pytest.raises(ZeroDivisionError):  # undefined in float64 too: not a dtype's limit, the error stands
        cases.build(op, undefined, "float16", 0)
