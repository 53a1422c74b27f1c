"""The JAX adapter's shape buckets (harness/impl/shape_buckets.py): the same results as the calls at the real
shapes, a compile count bounded by the buckets, NaNs kept where they are, padding never returned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from harness.impl import shape_buckets
from harness.impl.contract import Convention, Raw
from harness.impl.conventions import CONVENTIONS

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from harness.impl.jax_kind import JaxKind  # noqa: E402 - only where jax is installed

ELEMENTWISE: dict[str, Callable[..., Any]] = {
    "sigmoid": lambda z: jax.nn.sigmoid(z),
    "tanh": lambda z: jnp.tanh(z),
    "leaky_relu": lambda z, alpha: jax.nn.leaky_relu(z, negative_slope=alpha),
    "binary_cross_entropy": lambda z, y: -y * jax.nn.log_sigmoid(z) - (1 - y) * jax.nn.log_sigmoid(-z),
}
ODD_SHAPES = [(1,), (7,), (3, 5), (2, 3, 5)]


def _params(conv: Convention) -> dict[str, float]:
    return {p: 0.1 for p in conv.params}


def _every_call(kind: JaxKind, op: str, fn: Callable[..., Any], arrays: dict[str, np.ndarray], dtype: str) -> list[Raw]:
    """Forward, VJP, JVP, vjp-of-vjp and HVP of one op at one input, with seeded cotangents and tangents."""
    conv, params = CONVENTIONS[op], _params(CONVENTIONS[op])
    rng = np.random.default_rng(7)
    shape = next(iter(arrays.values())).shape
    w = rng.normal(size=shape[:-1] if op in ("mse", "softmax_cross_entropy") else shape)
    tangents = {n: rng.normal(size=shape) for n, diff in zip(conv.inputs, conv.differentiable, strict=True) if diff}
    return [
        kind.forward(conv, fn, arrays, params, "cpu", dtype),
        kind.vjp(conv, fn, arrays, params, w, "cpu", dtype),
        kind.jvp(conv, fn, arrays, params, tangents, "cpu", dtype),
        kind.vjp_vjp(conv, fn, arrays, params, w, tangents, "cpu", dtype),
        kind.hvp(conv, fn, arrays, params, w, tangents, "cpu", dtype),
    ]


def assert_same_raw(bucketed: list[Raw], plain: list[Raw]) -> None:
    __tracebackhide__ = True
    for got, expected in zip(bucketed, plain, strict=True):
        assert got.shapes == expected.shapes and got.dtypes == expected.dtypes
        for g, e in zip(got.values, expected.values, strict=True):
            assert (g is None) == (e is None)
            if g is not None:
                np.testing.assert_array_equal(g, e)  # bitwise, NaNs where the other has them


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", sorted(ELEMENTWISE))
def test_elementwise_buckets_give_the_unbucketed_results(op: str, dtype: str) -> None:
    rng = np.random.default_rng(0)
    bucketed, plain = JaxKind(), JaxKind(buckets="off")
    for shape in ODD_SHAPES:
        arrays = {n: rng.normal(scale=4.0, size=shape) for n in CONVENTIONS[op].inputs}
        assert_same_raw(
            _every_call(bucketed, op, ELEMENTWISE[op], arrays, dtype),
            _every_call(plain, op, ELEMENTWISE[op], arrays, dtype),
        )


def _compiled_shapes(kind: JaxKind) -> int:
    return sum(jitted._cache_size() for jitted in kind._cache.values())


def test_compiles_are_bounded_by_the_buckets() -> None:
    """Every size from 1 to 30 in two layouts, forward and VJP: 3 buckets (64, 128 and 256 entries) per method,
    where the calls at the real shapes compile one per distinct shape."""
    bucketed, plain = JaxKind(), JaxKind(buckets="off")
    shapes = [s for n in range(1, 31) for s in ((n,), (n, 7))]
    for kind in (bucketed, plain):
        for shape in shapes:
            arrays = {"z": np.linspace(-3.0, 3.0, int(np.prod(shape))).reshape(shape)}
            kind.forward(CONVENTIONS["tanh"], ELEMENTWISE["tanh"], arrays, {}, "cpu", "float64")
            kind.vjp(CONVENTIONS["tanh"], ELEMENTWISE["tanh"], arrays, {}, np.ones(shape), "cpu", "float64")
    buckets = {shape_buckets.bucket(int(np.prod(s)), shape_buckets.FLOOR["elementwise"]) for s in shapes}
    assert buckets == {64, 128, 256}
    assert 0 < _compiled_shapes(bucketed) <= 2 * len(buckets)
    assert _compiled_shapes(plain) == 2 * len(set(shapes))


def test_exact_buckets_leave_second_order_calls_at_their_shapes() -> None:
    """One of them (binary_cross_entropy's HVP in float32) came out an ulp apart at a padded shape."""
    kind, conv, fn = JaxKind(), CONVENTIONS["tanh"], ELEMENTWISE["tanh"]
    for n in (3, 5):
        z = np.linspace(-1.0, 1.0, n)
        kind.hvp(conv, fn, {"z": z}, {}, np.ones(n), {"z": np.ones(n)}, "cpu", "float64")
    assert kind._cache[("tanh", "hvp", ())]._cache_size() == 2


def test_a_nan_in_a_real_entry_comes_through_and_padding_never_does() -> None:
    z = np.array([[np.nan, 0.5, -1.0], [2.0, 3.0, np.nan], [0.0, np.inf, -np.inf]])  # 9 entries, padded to 64
    conv, fn = CONVENTIONS["sigmoid"], ELEMENTWISE["sigmoid"]
    kind = JaxKind()
    out = kind.forward(conv, fn, {"z": z}, {}, "cpu", "float64").values[0]
    grad = kind.vjp(conv, fn, {"z": z}, {}, np.ones(z.shape), "cpu", "float64").values[0]
    assert out is not None and grad is not None and out.shape == grad.shape == z.shape
    np.testing.assert_array_equal(np.isnan(out), np.isnan(z))
    np.testing.assert_array_equal(np.isnan(grad), np.isnan(z))
    np.testing.assert_array_equal(out[np.isfinite(z)], 1 / (1 + np.exp(-z[np.isfinite(z)])))


def test_row_ops_keep_their_shapes_unless_asked() -> None:
    conv = CONVENTIONS["softmax"]
    x = np.zeros((3, 5))
    assert shape_buckets.plan(conv, [x], []) is None
    found = shape_buckets.plan(conv, [x], [], rows=True)
    assert found is not None and found.padded_in == (8, 5)  # rows padded, never the row length


def test_row_buckets_keep_each_rows_reduction_and_its_gradient() -> None:
    """Integer inputs and a power-of-two row length: every sum is exact in any order, so the rows' values and
    gradients must be bitwise those of the call at the real shape, whatever the padding."""
    rng = np.random.default_rng(3)
    fn = lambda yhat, y: jnp.mean((yhat - y) ** 2, axis=-1)  # noqa: E731
    rows, plain = JaxKind(buckets="all"), JaxKind(buckets="off")
    for shape in [(3, 4), (5, 8), (2, 3, 4)]:
        arrays = {n: rng.integers(-8, 8, size=shape).astype(np.float64) for n in ("yhat", "y")}
        arrays["yhat"][0, 0] = np.nan
        assert_same_raw(
            _every_call(rows, "mse", fn, arrays, "float64"), _every_call(plain, "mse", fn, arrays, "float64")
        )
    # (3, 4), (5, 8) and (2, 3, 4) padded to (8, 4), (8, 8) and (8, 4): two shapes for each method
    assert rows._cache and all(jitted._cache_size() == 2 for jitted in rows._cache.values())


def test_calls_outside_the_structure_go_unpadded() -> None:
    """A program, an op declared under a catalog name with another convention, inputs of two shapes, a cotangent
    not shaped as the output: the call keeps its shapes."""
    program = CONVENTIONS["conv2d"]
    assert shape_buckets.structure_of(program) is None
    shadow = Convention("sigmoid", ("z", "k"), (True, False), ())
    assert shape_buckets.structure_of(shadow) is None
    bce = CONVENTIONS["binary_cross_entropy"]
    assert shape_buckets.plan(bce, [np.zeros(3), np.zeros(4)], []) is None
    assert shape_buckets.plan(CONVENTIONS["tanh"], [np.zeros(3)], [np.zeros(2)]) is None
    assert shape_buckets.plan(CONVENTIONS["tanh"], [np.zeros(3)], [np.zeros(3)]) is not None


@pytest.mark.parametrize(
    "fn",
    [
        lambda z: jnp.sum(jnp.tanh(z)),  # not elementwise: its result has no padded entries to cut off
        lambda z: jnp.tanh(z) * z.shape[1],  # needs the real rank: raises on the flattened input
    ],
    ids=["wrong-shape", "needs-rank"],
)
def test_a_call_the_padding_does_not_fit_is_made_at_the_real_shape(fn: Callable[..., Any]) -> None:
    z = np.linspace(-1.0, 1.0, 15).reshape(3, 5)
    conv = CONVENTIONS["tanh"]
    got = JaxKind().forward(conv, fn, {"z": z}, {}, "cpu", "float64")
    expected = JaxKind(buckets="off").forward(conv, fn, {"z": z}, {}, "cpu", "float64")
    assert_same_raw([got], [expected])
