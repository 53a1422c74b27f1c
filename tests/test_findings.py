"""What the harness finds in real backends, asserted so that it keeps finding it."""

from __future__ import annotations

import numpy as np
import pytest

from derivations import CATALOG
from harness import cases, checks, exact
from harness.backends.base import Target
from harness.backends.numpy_ref import NumpyBackend
from harness.backends.torch_backend import TorchBackend
from harness.dtypes import get_format, reference_digits


def _case(name: str, arrays: dict[str, np.ndarray], dtype: str) -> cases.Case:
    d = CATALOG[name]
    fmt = get_format(dtype)
    arrays = {k: fmt.round(v) for k, v in arrays.items()}
    x = arrays[d.wrt.name]
    cot = np.ones(d.output_shape(x.shape))
    ref = exact.evaluate(d, arrays, d.param_defaults(), cot, digits=reference_digits(fmt))
    return cases.Case(d, arrays, d.param_defaults(), cot, ref, fmt, 0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_bce_with_logits_cancels_for_very_negative_logits(dtype: str) -> None:
    # torch forms (1 - y) * z + max(-z, 0) + log(...): for z << 0 the first two terms cancel
    # and the loss y*|z| keeps only about u*|z| of absolute accuracy.
    case = _case("binary_cross_entropy", {"z": np.array([-840.4896734011865]), "y": np.array([1.192092896e-07])}, dtype)
    torch_outcome = checks.forward(TorchBackend(), case, Target("cpu", dtype))
    numpy_outcome = checks.forward(NumpyBackend(), case, Target("cpu", dtype))
    assert torch_outcome.measurement.usage > 1.0
    assert numpy_outcome.measurement.usage <= 1.0
    # The backward is accurate: only the forward value is affected.
    assert checks.vjp(TorchBackend(), case, Target("cpu", dtype)).measurement.usage <= 1.0


def test_torch_relu_picks_zero_at_the_kink() -> None:
    case = _case("relu", {"z": np.array([0.0, 0.0, 1.5, -2.0])}, "float64")
    outcome = checks.vjp(TorchBackend(), case, Target("cpu", "float64"))
    assert outcome.measurement.usage <= 1.0
    assert outcome.conventions == {"relu'(0)": [0.0]}
