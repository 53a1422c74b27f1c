"""Convolution and pooling (E1, E3-E5): correct backends pass, planted backward bugs are caught."""

from __future__ import annotations

import numpy as np
import pytest

from derivations import TENSOR_OPS
from derivations.windows import scatter, window_index
from harness.backends import NumpyBackend, TorchBackend
from harness.backends.numpy_conv import _crop, _offsets, _padded, _window_stack, conv2d_vjp
from harness.op_entry import stated_verdict
from harness.runner import Runner, RunOptions, examples_for
from tests.tensor_helpers import bad, caught, run_op

OPS = ("conv2d", "max_pool2d", "avg_pool2d")


@pytest.mark.parametrize("name", OPS)
def test_correct_backends_pass(name: str) -> None:
    records = run_op(name, NumpyBackend(), TorchBackend())
    assert bad(records) == []
    passed = {(r["backend"], r["check"]) for r in records if r["verdict"] == "pass"}
    reverse = {(b, k) for b in ("numpy", "torch") for k in ("forward", "vjp", "projection")}
    assert passed == reverse | {("torch", "jvp"), ("torch", "transpose")}  # the NumPy reference has no jvp here


def test_notes_pooling_gradients_hold() -> None:
    options = RunOptions(seed=0, profile="quick")
    for name in ("max_pool2d", "avg_pool2d"):
        op = TENSOR_OPS[name]
        assert stated_verdict(op, examples_for(op, options), 0)["status"] == "checked"


def test_max_pool_records_the_first_maximum_as_torchs_tie_rule() -> None:
    records = run_op("max_pool2d", TorchBackend(), kinds=("vjp",), dtypes=("float64",))
    picked = {v for r in records for vs in r["conventions"].values() for v in vs}  # type: ignore[attr-defined]
    assert picked == {"ties: lowest index"}


def _flipped_kernel(x, w, b, c, stride, padding):  # type: ignore[no-untyped-def]
    return conv2d_vjp(x, w[:, :, ::-1, ::-1], b, c, stride, padding)  # true convolution's flip


def _transposed_kernel_grad(x, w, b, c, stride, padding):  # type: ignore[no-untyped-def]
    gx, gw, gb = conv2d_vjp(x, w, b, c, stride, padding)
    return gx, gw[::-1, ::-1], gb  # output and input channels swapped


def _stride_off_by_one(x, w, b, c, stride, padding):  # type: ignore[no-untyped-def]
    gx, _, gb = conv2d_vjp(x, w, b, c, stride, padding)
    s = (stride[0] + 1, stride[1])
    xp = _padded(x, padding, 0.0)
    gw = np.zeros_like(w)
    for i, j, rows, cols in _offsets(xp.shape, w.shape[2:], s):
        part = xp[:, :, rows, cols]
        gw[:, :, i, j] = np.einsum("bohw,bchw->oc", c[..., : part.shape[2], :], part[:, :, : c.shape[2]])
    return gx, gw, gb


def _avg_padding_off_by_one(x, c, kernel, stride, padding):  # type: ignore[no-untyped-def]
    gxp = np.zeros_like(_padded(x, padding, 0.0))
    for _, _, rows, cols in _offsets(gxp.shape, kernel, stride):
        gxp[:, :, rows, cols] += c / (kernel[0] * kernel[1])
    shifted = np.roll(gxp, 1, axis=(2, 3)) if max(padding) else np.roll(gxp, 1, axis=2)
    return (_crop(shifted, padding),)


def _avg_over_k(x, c, kernel, stride, padding):  # type: ignore[no-untyped-def]
    gxp = np.zeros_like(_padded(x, padding, 0.0))
    for _, _, rows, cols in _offsets(gxp.shape, kernel, stride):
        gxp[:, :, rows, cols] += c / max(kernel)  # 1/k instead of 1/k^2
    return (_crop(gxp, padding),)


def _max_to_every_tie(x, c, kernel, stride, padding):  # type: ignore[no-untyped-def]
    win = _window_stack(x, kernel, stride, padding, -np.inf)
    top = win == win.max(axis=0)  # every tied entry gets the whole cotangent: sum > c
    gxp = np.zeros_like(_padded(x, padding, 0.0))
    for k, (_, _, rows, cols) in enumerate(_offsets(gxp.shape, kernel, stride)):
        gxp[:, :, rows, cols] += np.where(top[k], c, 0.0)
    return (_crop(gxp, padding),)


@pytest.mark.parametrize(
    ("name", "vjp"),
    [
        ("conv2d", _flipped_kernel),
        ("conv2d", _transposed_kernel_grad),
        ("conv2d", _stride_off_by_one),
        ("avg_pool2d", _avg_padding_off_by_one),
        ("avg_pool2d", _avg_over_k),
        ("max_pool2d", _max_to_every_tie),
    ],
)
def test_planted_backward_bugs_are_caught(name: str, vjp: object) -> None:
    assert "vjp" in caught(name, vjp)  # type: ignore[arg-type]


@pytest.mark.thorough
@pytest.mark.parametrize("name", OPS)
def test_no_false_alarm_on_any_seed(name: str) -> None:
    found = [
        f"seed {s}: {line}"
        for s in range(1, 21)
        for line in bad(run_op(name, NumpyBackend(), TorchBackend(), seed=s, profile="default"))
    ]
    assert found == []


def test_a_stated_value_on_a_rounding_tie_is_judged_at_80_digits() -> None:
    # At seed 5 an average-pooling gradient sits within 1e-40 of the midpoint between two
    # doubles: compared after rounding to float64, the exact formula looked refuted.
    op = TENSOR_OPS["avg_pool2d"]
    assert stated_verdict(op, examples_for(op, RunOptions(seed=5)), 5)["status"] == "checked"


def test_a_failing_conv2d_record_fits_the_report_schema() -> None:
    # Its failure input carries kernel/stride/padding pairs: lists in JSON.
    import json

    from harness import report, report_schema
    from harness.backends.numpy_ref import OPS, Pair

    forward, vjp = OPS["conv2d"].forward, OPS["conv2d"].vjp

    def wrong_weight(*args: object, **params: object) -> tuple[object, ...]:
        dx, dw, db = vjp(*args, **params)  # type: ignore[misc]
        return dx, dw * 1.5, db

    options = RunOptions(seed=0, profile="quick", devices=("cpu",), kinds=("vjp",), fd_oracle=False)
    op = TENSOR_OPS["conv2d"]
    records = Runner([NumpyBackend("mutant", {"conv2d": Pair(forward, wrong_weight)})], options).run_op(
        op, examples_for(op, options)
    )
    assert {r["verdict"] for r in records} == {"fail"}
    data = report.build([], records, seed=0, profile="quick", seconds=0.0)
    report_schema.validate(json.loads(json.dumps(data, default=lambda v: v.tolist())))


@pytest.mark.parametrize(
    ("shape", "kernel", "stride", "padding"),
    [
        ((5, 6), (3, 3), (1, 1), (1, 1)),
        ((7, 5), (2, 3), (2, 3), (1, 2)),
        ((4, 4), (1, 1), (1, 1), (0, 0)),
        ((6, 6), (2, 2), (3, 3), (0, 0)),
    ],
)
def test_scatter_adds_every_window_entry_onto_the_input_entry_it_read(shape, kernel, stride, padding) -> None:
    """The windows' transpose, against np.add.at over window_index (stride > kernel leaves entries unread)."""
    idx = window_index(shape, kernel, stride, padding)
    per_window = np.random.default_rng(0).standard_normal((2, 3, *idx.shape))
    where, flat = idx.reshape(-1), per_window.reshape(2, 3, -1)
    want = np.zeros((shape[0] * shape[1], 2, 3))
    np.add.at(want, where[where >= 0], np.moveaxis(flat, -1, 0)[where >= 0])
    got = scatter(per_window, shape, kernel, stride, padding)
    np.testing.assert_allclose(got, np.moveaxis(want, 0, -1).reshape(2, 3, *shape), rtol=1e-15, atol=1e-15)
    if stride[0] > kernel[0]:
        assert np.any(got == 0.0)  # an entry no window reads gets nothing
