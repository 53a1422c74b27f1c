"""gradproof's public API: check() and the strategies, with their argument errors."""

from __future__ import annotations

import unittest

import numpy as np
import pytest
from hypothesis import Phase, given, settings

import gradproof
from derivations import CATALOG
from gradproof import strategies
from harness.backends import numpy_conv, numpy_ref


def _reference(name: str) -> tuple[object, object]:
    op = numpy_ref.OPS[name]
    return op.forward, op.vjp


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"derivation": "sigmoidd"}, "unknown derivation 'sigmoidd'; valid: sigmoid, tanh"),
        ({"dtypes": ["float8"]}, "unknown dtype 'float8'; valid: float64"),
        ({"dtypes": []}, "unknown dtype (none given)"),
        ({"checks": ["hessian"]}, "unknown check 'hessian'; valid: forward, vjp"),
        ({"regions": ["kink"]}, "unknown region 'kink'; valid: typical, saturation"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"max_examples": 0}, "max_examples must be at least 1"),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs: dict[str, object], message: str) -> None:
    forward, vjp = _reference("sigmoid")
    args = {"derivation": "sigmoid", **kwargs}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        gradproof.check(forward, vjp=vjp, **args)  # type: ignore[arg-type]


def test_a_correct_implementation_passes_every_check_and_region() -> None:
    forward, vjp = _reference("leaky_relu")
    records = gradproof.check(forward, "leaky_relu", vjp=vjp, max_examples=2, seed=1)  # type: ignore[arg-type]
    numeric = [r for r in records if r["check"] in ("forward", "vjp", "projection", "jacobian")]
    assert len(numeric) == 8 and all(r["verdict"] == "pass" for r in records)
    assert {r["check"] for r in records} - {r["check"] for r in numeric} == {
        "dtype-shape",
        "inplace",
        "determinism",
        "cotangent",
    }, "the conformance checks of --impl run too"
    assert all(r["examples"] >= 2 * len(strategies.regions("leaky_relu")) for r in numeric)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -z))


VJP_FORMS = {
    "bare array": lambda z, c: c * _sigmoid(z) * (1 - _sigmoid(z)),
    "tuple": lambda z, c: (c * _sigmoid(z) * (1 - _sigmoid(z)),),
    "dict": lambda z, c: {"z": c * _sigmoid(z) * (1 - _sigmoid(z))},
}


@pytest.mark.parametrize("form", VJP_FORMS)
def test_every_form_of_the_vjp_contract_is_accepted(form: str) -> None:
    records = gradproof.check(_sigmoid, "sigmoid", vjp=VJP_FORMS[form], dtypes=["float64"], max_examples=2, seed=0)
    assert records and all(r["verdict"] == "pass" for r in records)


def test_a_vjp_that_breaks_the_contract_is_an_error_naming_it() -> None:
    with pytest.raises(gradproof.CheckFailure, match=r"not inputs of sigmoid"):
        gradproof.check(_sigmoid, "sigmoid", vjp=lambda z, c: {"x": c}, dtypes=["float64"], max_examples=1, seed=0)


def _conv_vjp_by_name(x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray, **params: object) -> dict:
    dx, dw, db = numpy_conv.conv2d_vjp(x, w, b, c, **params)  # type: ignore[arg-type]
    return {"x": dx, "w": dw, "b": db}


@pytest.mark.parametrize("vjp", [numpy_conv.conv2d_vjp, _conv_vjp_by_name], ids=["tuple", "dict"])
def test_a_tensor_op_is_checked_like_any_other(vjp: object) -> None:
    """gradproof.check(my_conv2d, "conv2d", vjp=my_conv2d_vjp): every input's gradient, projection, conformance."""
    records = gradproof.check(numpy_conv.conv2d, "conv2d", vjp=vjp, dtypes=["float64"], max_examples=1, seed=0)  # type: ignore[arg-type]
    assert {r["check"] for r in records} == {"forward", "vjp", "projection", *("dtype-shape", "inplace")} | {
        "determinism",
        "cotangent",
    }
    assert all(r["verdict"] == "pass" for r in records)


def test_a_wrong_tensor_gradient_fails() -> None:
    def no_bias_gradient(x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray, **params: object) -> tuple:
        dx, dw, db = numpy_conv.conv2d_vjp(x, w, b, c, **params)  # type: ignore[arg-type]
        return dx, dw, 0 * db

    with pytest.raises(gradproof.CheckFailure, match="conv2d-impl:"):
        gradproof.check(numpy_conv.conv2d, "conv2d", vjp=no_bias_gradient, dtypes=["float64"], max_examples=2, seed=0)


def test_a_torch_callable_is_checked_through_autograd() -> None:
    torch = pytest.importorskip("torch")
    records = gradproof.check(torch.tanh, "tanh", dtypes=["float32"], max_examples=2, seed=0)
    assert {r["backend"] for r in records} == {"impl:torch._VariableFunctionsClass.tanh"}
    assert all(r["verdict"] == "pass" for r in records)


def test_a_wrong_derivative_raises_with_the_details() -> None:
    def wrong_vjp(z: np.ndarray, c: np.ndarray) -> np.ndarray:
        return c * (1 - np.tanh(z))  # 1 - a instead of 1 - a**2

    before = settings.get_current_profile_name()
    settings.register_profile("no-shrink", phases=[Phase.explicit, Phase.generate], database=None)
    settings.load_profile("no-shrink")  # shrinking reruns the exact reference; the message is what matters
    try:
        with pytest.raises(gradproof.CheckFailure) as failure:
            gradproof.check(np.tanh, "tanh", vjp=wrong_vjp, dtypes=["float64"], regions=["typical"], seed=0)
    finally:
        settings.load_profile(before)
    text = str(failure.value)
    for part in ("tanh-impl:", "-vjp", "input (region typical)", "worst entry", "expected", "actual", "ULP"):
        assert part in text, part


def test_cuda_without_a_device_is_a_skip() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(unittest.SkipTest, match="no CUDA device"):
        gradproof.check(torch.sigmoid, "sigmoid", device="cuda", dtypes=["float32"])


@pytest.mark.parametrize("name", list(strategies.OPS))
def test_public_strategies_stay_in_the_declared_domain(name: str) -> None:
    d = strategies.op(name)

    @settings(max_examples=10, deadline=None, database=None)
    @given(strategies.inputs(name))
    def inside(example: strategies.Example) -> None:
        if name in CATALOG:
            assert CATALOG[name].check_domain(example.arrays, example.params) is None
        else:
            assert all(i.domain.contains(example.arrays[i.name]) for i in d.inputs)
        assert example.region in strategies.regions(name)

    inside()


def test_arrays_hold_values_of_the_dtype() -> None:
    @settings(max_examples=20, deadline=None, database=None)
    @given(strategies.arrays("softmax", dtype="float32", region="large-logits"))
    def held(arrays: dict[str, np.ndarray]) -> None:
        z = arrays["z"]
        np.testing.assert_array_equal(z, z.astype(np.float32).astype(np.float64))

    held()


def test_strategy_errors_name_the_valid_choices() -> None:
    with pytest.raises(ValueError, match="valid: sigmoid"):
        strategies.inputs("nope")
    with pytest.raises(ValueError, match="regions: typical, kink"):
        strategies.inputs("relu", region="saturation")
    with pytest.raises(ValueError, match="valid: float64, float32"):
        strategies.arrays("relu", dtype="int8")
