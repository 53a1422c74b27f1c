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
