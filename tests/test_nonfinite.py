"""Non-finite is never a pass: NaN or inf from an implementation where the exact value is finite is that
check's failure, naming the value and the entry, in every region of every op (kinks, ties, zero slices,
saturation included), and nothing an implementation returns breaks the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from harness.backends.numpy_ref import OPS as REFERENCE
from harness.backends.numpy_ref import NumpyBackend, Pair
from harness.pipeline import OPS, Pipeline, draw
from harness.runner import RunOptions

OPTIONS = RunOptions(profile="quick", dtypes=("float64",), kinds=("forward", "vjp"), fd_oracle=False)
PLANTED = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}
WORDS = {"nan": "is NaN", "inf": "is +inf", "-inf": "is -inf"}


def _gradients(op: Any, result: Any) -> list[Any]:
    """The vjp's result as a list in input order (a one-input op may return its gradient bare)."""
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _planted_vjp(name: str, value: float, position: int) -> Callable[..., Any]:
    """The reference vjp with `value` at entry 0 of the gradient of differentiable input `position`."""
    op = OPS[name]
    differentiable = [k for k, i in enumerate(op.inputs) if i.differentiable]
    which = differentiable[position % len(differentiable)]

    def vjp(*args: Any, **params: Any) -> Any:
        grads = [
            None if g is None else np.array(g, dtype=np.float64)
            for g in _gradients(op, REFERENCE[name].vjp(*args, **params))
        ]
        grads[which].reshape(-1)[0] = value  # type: ignore[union-attr]
        return tuple(grads) if len(op.inputs) > 1 else grads[0]

    return vjp


def _planted_forward(name: str, value: float) -> Callable[..., Any]:
    def forward(*args: Any, **params: Any) -> Any:
        out = np.array(REFERENCE[name].forward(*args, **params), dtype=np.float64)
        out.reshape(-1)[0] = value
        return out

    return forward


@pytest.mark.parametrize("name", list(OPS))
def test_nan_and_inf_in_any_gradient_fail_in_every_region(name: str) -> None:
    op = OPS[name]
    examples = draw(op, OPTIONS)
    regions = list(dict.fromkeys(ex.region for ex in examples))
    for k, region in enumerate(regions):
        chosen = [next(ex for ex in examples if ex.region == region)]
        planted = {
            label: NumpyBackend(label, {name: Pair(REFERENCE[name].forward, _planted_vjp(name, value, k))})
            for label, value in PLANTED.items()
        }
        records = Pipeline(list(planted.values()), OPTIONS).values(op, chosen)
        for label in PLANTED:
            (rec,) = [r for r in records if r["backend"] == label and r["check"] == "vjp"]
            assert rec["verdict"] == "fail", (region, rec["message"])
            assert WORDS[label] in str(rec["message"]) and "entry [" in str(rec["message"]), rec["message"]
            json.dumps(dict(rec), allow_nan=False)  # the report can hold it: no bare NaN in the record


@pytest.mark.parametrize("name", list(OPS))
def test_nan_in_the_forward_fails(name: str) -> None:
    op = OPS[name]
    backend = NumpyBackend("nan", {name: Pair(_planted_forward(name, np.nan), REFERENCE[name].vjp)})
    records = Pipeline([backend], OPTIONS).values(op, draw(op, OPTIONS)[:1])
    (rec,) = [r for r in records if r["check"] == "forward"]
    assert rec["verdict"] == "fail" and "is NaN where the exact value is finite" in str(rec["message"])


def test_relu_nan_only_at_its_kink_fails_and_the_report_is_written() -> None:
    def vjp(z: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.where(z == 0, np.nan, c * (z > 0))

    examples = [ex for ex in draw(OPS["relu"], OPTIONS) if np.any(ex.arrays["z"] == 0)]
    assert examples, "the kink region puts entries exactly at 0"
    backend = NumpyBackend("nan-at-0", {"relu": Pair(REFERENCE["relu"].forward, vjp)})
    (rec,) = [r for r in Pipeline([backend], OPTIONS).values(OPS["relu"], examples) if r["check"] == "vjp"]
    assert rec["verdict"] == "fail" and "is NaN" in str(rec["message"]), rec["message"]
    json.dumps(dict(rec), allow_nan=False)


def test_float32_inf_everywhere_in_a_one_norm_fails() -> None:
    """Once recorded as the convention "|x|'(0) in [-1, 1]: inf"."""
    options = RunOptions(profile="quick", dtypes=("float32",), kinds=("vjp",), fd_oracle=False)

    def vjp(x: np.ndarray, c: np.ndarray, **params: Any) -> tuple[np.ndarray]:
        return (np.full(x.shape, np.inf, dtype=x.dtype),)

    backend = NumpyBackend("inf", {"norm1_dim": Pair(REFERENCE["norm1_dim"].forward, vjp)})
    op = OPS["norm1_dim"]
    for region in ("typical", "zeros"):
        chosen = [ex for ex in draw(op, options) if ex.region == region]
        (rec,) = Pipeline([backend], options).values(op, chosen)
        assert rec["verdict"] == "fail" and "is +inf" in str(rec["message"]), (region, rec["message"])
        assert rec["conventions"] == {}


def test_a_float32_failure_shows_the_input_rounded_as_the_check_used_it() -> None:
    """The failing input in the record is the float32 value checked, not the float64 draw before rounding."""
    from harness.runner import Runner, examples_for

    ref = REFERENCE["sigmoid"]
    wrong = NumpyBackend("off", {"sigmoid": Pair(lambda z: ref.forward(z) * 1.01, ref.vjp)})
    options = RunOptions(profile="quick", dtypes=("float32",), kinds=("forward",), fd_oracle=False)
    op = OPS["sigmoid"]
    (record,) = Runner([wrong], options).run_op(op, examples_for(op, options))
    assert record["verdict"] == "fail"
    shown = record["failure"]["input"]
    z = np.asarray(shown["arrays"]["z"], dtype=np.float64)
    assert shown["dtype"] == "float32"
    assert np.array_equal(z.astype(np.float32).astype(np.float64), z)
    drawn = [e for e in examples_for(op, options) if e.region == shown["region"]]
    assert any(not np.array_equal(e.arrays["z"].astype(np.float32), e.arrays["z"]) for e in drawn)
