"""The Inception-style block (E6 in small): concatenation routes each channel's gradient to its branch."""

from __future__ import annotations

import numpy as np

from harness.backends import NumpyBackend, TorchBackend
from harness.backends.numpy_conv import inception_block_vjp
from tests.tensor_helpers import bad, caught, run_op


def test_correct_backends_pass() -> None:
    records = run_op("inception_block", NumpyBackend(), TorchBackend(), dtypes=("float64",))
    assert bad(records) == []
    passed = {r["check"] for r in records if r["verdict"] == "pass"}
    assert passed == {"forward", "vjp", "projection", "jvp", "transpose"}  # the last two: torch's forward mode


def _channels_shifted(x, w1, b1, w3, b3, wp, bp, c):  # type: ignore[no-untyped-def]
    return inception_block_vjp(x, w1, b1, w3, b3, wp, bp, np.roll(c, 1, axis=1))  # channels shifted by one


def test_cotangent_sent_to_the_wrong_branch_is_caught() -> None:
    assert "vjp" in caught("inception_block", _channels_shifted)
