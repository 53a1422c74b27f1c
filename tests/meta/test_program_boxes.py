"""A program's forward on float64 boxes over whole arrays: enclosures of its exact forward, VJP and J u."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from derivations import TENSOR_OPS
from derivations.conv import CONV2D
from derivations.elementary import FLOAT
from derivations.model import Example, Op
from harness import box_arrays, box_graph, boxes, cases, compare, program_boxes, program_exact
from harness.boxes import Box
from harness.dtypes import get_format
from harness.runner import RunOptions, examples_for

OPTIONS = RunOptions(seed=0, profile="quick", dtypes=("float64",), devices=("cpu",))
# Programs whose forward runs on boxes (every NumPy function they call is in box_arrays): in float32 every
# quick example off a kink must be enclosed, so that the containment test below cannot pass on none.
ON_BOXES = {
    "conv2d",
    "dense_layer",
    "backprop_chain_L1",
    "backprop_chain_L3",
    "avg_pool2d",
    "max_pool2d",
    "sum_dim",
    "momentum_step",
    "max_dim",
    "residual_block",
    "kthvalue",
    "perceptron_single",
    "perceptron_multi",
}


def _inside(exact: np.ndarray, mid: np.ndarray, radius: np.ndarray) -> bool:
    assert np.shape(mid) == np.shape(exact) == np.shape(radius)
    return bool(np.all(np.abs(np.asarray(exact) - mid) <= radius))


def _reference(op: Op, arrays: dict[str, np.ndarray], params: dict, c: np.ndarray, dtype: str) -> object:
    fmt = get_format(dtype)
    rho, bound = cases.roundings(op, arrays, params), op.program.bound(arrays, params, c)
    return program_boxes.reference(op, arrays, params, c, lambda k, v: compare.tolerance(v, bound[k], fmt, rho))


@pytest.mark.parametrize("name", list(TENSOR_OPS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_enclosures_hold_the_80_digit_forward_vjp_and_jvp(name: str, dtype: str) -> None:
    op, fmt = TENSOR_OPS[name], get_format(dtype)
    rng = np.random.default_rng(3)
    enclosed = off_kink = 0
    for ex in examples_for(op, OPTIONS)[:5]:
        arrays = {k: fmt.round(np.asarray(v, dtype=np.float64)) for k, v in ex.arrays.items()}
        params = dict(ex.params)
        if op.program.kink_gap is not None and op.program.kink_gap(arrays, params) <= program_exact.KINK_GAP:
            continue
        try:
            c = fmt.round(rng.standard_normal(np.shape(op.program.forward(FLOAT, arrays, params))))
            exact = program_exact.reference(op, arrays, params, c)
        except ZeroDivisionError:
            continue
        off_kink += 1
        try:
            ref = _reference(op, arrays, params, c, dtype)
        except program_boxes.NotEnclosed:
            continue
        enclosed += 1
        assert _inside(exact.forward, ref.forward, ref.radius("out"))
        for key, grad in exact.vjp.items():
            assert _inside(grad, ref.vjp[key], ref.radius(key)), key
        u = {i.name: fmt.round(rng.standard_normal(np.shape(arrays[i.name]))) for i in op.differentiable}
        found = ref.jvp_enclosure(u, lambda v: np.full(np.shape(v), np.inf))  # settled whatever its width
        assert found is not None and found[1] is not None
        assert _inside(exact.jvp(u), found[0], found[1])
    if dtype == "float32" and name in ON_BOXES:
        assert enclosed == off_kink > 0


def test_a_wrong_contraction_vjp_leaves_the_exact_gradient_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """The containment above can fail: a VJP link with the wrong sign is caught."""
    rng = np.random.default_rng(0)
    arrays = {
        "x": rng.uniform(-3, 3, (1, 1, 6, 6)),
        "w": rng.uniform(-3, 3, (2, 1, 3, 3)),
        "b": rng.uniform(-3, 3, (2,)),
    }
    arrays = {k: np.float32(v).astype(np.float64) for k, v in arrays.items()}
    params = {"stride": (1, 1), "padding": (1, 1)}
    c = rng.standard_normal((1, 2, 6, 6)).astype(np.float32).astype(np.float64)
    exact = program_exact.reference(CONV2D, arrays, params, c)
    ref = _reference(CONV2D, arrays, params, c, "float32")
    assert _inside(exact.vjp["w"], ref.vjp["w"], ref.radius("w"))
    back = box_arrays._Contracted.back
    monkeypatch.setattr(box_arrays._Contracted, "back", lambda self, a: -back(self, a))
    ref = _reference(CONV2D, arrays, params, c, "float32")
    assert not _inside(exact.vjp["w"], ref.vjp["w"], ref.radius("w"))


def test_sums_and_contractions_enclose_the_exact_value_under_cancellation() -> None:
    rng = np.random.default_rng(1)
    big = rng.standard_normal((5, 400)) * 10.0 ** rng.integers(-8, 9, (5, 400))
    big[:, 1] = -big[:, 0]  # exact cancellation among terms of very different sizes
    s = box_arrays.box_sum(Box(big), axis=1)
    exact = [sum(Fraction(float(t)) for t in row) for row in big]
    assert all(Fraction(lo) <= e <= Fraction(hi) for lo, hi, e in zip(s.lo, s.hi, exact, strict=True))
    # A long sum, in chunks added pairwise: its width is some hundred u of sum |terms|, not 10^5 u.
    long = rng.standard_normal(100_000)
    t = box_arrays.box_sum(Box(long))
    assert Fraction(float(t.lo)) <= sum(Fraction(float(v)) for v in long) <= Fraction(float(t.hi))
    assert float(t.hi - t.lo) <= 4 * (box_arrays.CHUNK + 20) * 2.0**-53 * np.sum(np.abs(long))
    a, b = rng.standard_normal((3, 300)) * 1e5, rng.standard_normal((300, 2))
    p = box_arrays.matmul(Box(a), Box(b))
    for i in range(3):
        for j in range(2):
            e = sum(Fraction(float(x)) * Fraction(float(y)) for x, y in zip(a[i], b[:, j], strict=True))
            assert Fraction(p.lo[i, j]) <= e <= Fraction(p.hi[i, j])
    # An interval operand: the product at any of its points lies inside (its two ends, exactly).
    lo, hi = a - 1e-3, a + 1e-3
    q = box_arrays.tensordot(Box(lo, hi), Box(b), axes=([1], [0]))
    for corner in (lo, hi):
        for i, j in ((0, 0), (2, 1)):
            e = sum(Fraction(float(x)) * Fraction(float(y)) for x, y in zip(corner[i], b[:, j], strict=True))
            assert Fraction(q.lo[i, j]) <= e <= Fraction(q.hi[i, j])


def test_index_maps_move_entries_exactly_and_their_vjp_adds_them_back() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 4))
    with box_graph.recording():
        leaf = Box(x)
        padded = np.pad(leaf, [(0, 0), (0, 0), (1, 1), (2, 2)])
        win = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(-2, -1))[..., ::2, ::1, :, :]
        moved = np.moveaxis(win, 1, -1)
        joined = np.concatenate([moved.reshape(-1), leaf[:, 1].ravel()])
    want = np.concatenate(
        [
            np.moveaxis(
                np.lib.stride_tricks.sliding_window_view(
                    np.pad(x, [(0, 0), (0, 0), (1, 1), (2, 2)]), (3, 3), axis=(-2, -1)
                )[..., ::2, ::1, :, :],
                1,
                -1,
            ).reshape(-1),
            x[:, 1].ravel(),
        ]
    )
    assert joined.lo.shape == want.shape and np.array_equal(joined.lo, want) and joined.lo is joined.hi
    c = rng.standard_normal(want.shape)
    (g,) = box_graph.vjp([joined], [Box(c)], [leaf])
    # The same VJP from numpy: each adjoint added onto the entry it was read from.
    numbers = np.arange(x.size).reshape(x.shape)
    taken = np.concatenate(
        [
            np.moveaxis(
                np.lib.stride_tricks.sliding_window_view(
                    np.pad(numbers, [(0, 0), (0, 0), (1, 1), (2, 2)], constant_values=-1), (3, 3), axis=(-2, -1)
                )[..., ::2, ::1, :, :],
                1,
                -1,
            ).reshape(-1),
            numbers[:, 1].ravel(),
        ]
    )
    want_g = np.zeros(x.size)
    np.add.at(want_g, taken[taken >= 0], c[taken >= 0])
    assert np.all((g.lo <= want_g.reshape(x.shape) + 1e-12) & (want_g.reshape(x.shape) - 1e-12 <= g.hi))
    assert np.max(g.hi - g.lo) < 1e-13


def test_undecided_branches_unhandled_functions_and_float_conversion_are_refused() -> None:
    with boxes.comparing("decided"):
        assert np.array_equal(Box(np.array([1.0, -2.0])) > 0, [True, False])
        with pytest.raises(boxes.Undecided):
            _ = Box(np.array([-1e-3]), np.array([1e-3])) > 0
        assert np.array_equal(np.max(Box(np.array([[1.0, 3.0, 2.0]])), axis=1).lo, [3.0])
        with pytest.raises(boxes.Undecided):
            np.max(Box(np.array([[1.0, 3.0, 3.0]])), axis=1)  # a tie: the exact engine's subgradient rule
        with pytest.raises(boxes.Undecided):
            np.min(Box(np.array([[1.0, 1.0 + 1e-9]]), np.array([[1.0 + 1e-8, 1.0 + 2e-9]])), axis=1)
    with boxes.comparing("refuse"):
        with pytest.raises(TypeError):
            _ = Box(np.array([1.0])) > 0
        with pytest.raises(TypeError):
            np.max(Box(np.array([1.0, 2.0])))
        assert np.array_equal(np.abs(Box(np.array([-1.0, 2.0]))).lo, [1.0, 2.0])  # |c|: linear where signed
    with pytest.raises(TypeError):
        np.asarray(Box(np.ones(3)))
    with pytest.raises(TypeError):
        np.cumsum(Box(np.ones(3)))
    with pytest.raises(TypeError):
        bool(Box(1.0))


def test_a_case_takes_the_boxes_where_they_settle_and_the_exact_engine_where_not() -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(-3, 3, (1, 1, 40, 40))
    ex = Example(
        {"x": x, "w": rng.uniform(-3, 3, (2, 1, 3, 3)), "b": rng.uniform(-3, 3, (2,))},
        {"stride": (1, 1), "padding": (1, 1)},
        "typical",
        (),
    )
    boxed = cases.build(CONV2D, ex, "float32", 0)
    assert isinstance(boxed.reference, program_boxes.BoxProgramReference)
    assert np.all(boxed.tolerance("w", boxed.reference.vjp["w"]) > 0)
    assert boxed.jvp_reference.value is not None
    # Its float64 sums over 1,600 positions run in chunks of 64 added pairwise: narrow enough there too.
    assert isinstance(cases.build(CONV2D, ex, "float64", 0).reference, program_boxes.BoxProgramReference)
    # A small dense layer in float64: a few roundings' tolerance, which the boxes' widening fills.
    dense = TENSOR_OPS["dense_layer"]
    exact = cases.build(dense, examples_for(dense, OPTIONS)[0], "float64", 0)
    assert isinstance(exact.reference, program_exact.ProgramReference)


def test_from_review_equality_int_masks_sum_arguments_and_zero_times_unbounded() -> None:
    with boxes.comparing("decided"):
        x = Box(np.array([0.0, 1.0, -2.0]))
        assert np.array_equal(x == 0, [True, False, False])  # not Python's identity
        assert np.array_equal(x != 0, [False, True, True])
        with pytest.raises(boxes.Undecided):
            _ = Box(np.array([0.0]), np.array([1e-3])) == 0
    with boxes.comparing("refuse"), pytest.raises(TypeError):
        _ = Box(np.array([1.0])) == 0
    with box_graph.recording():
        a, b = Box(np.array([1.0, 2.0, 3.0])), Box(np.array([4.0, 5.0, 6.0]))
        picked = np.where(np.array([1, 0, 1]), a, b)  # an int mask: ~mask must not be a bitwise not
    (ga, gb) = box_graph.vjp([picked], [Box(np.ones(3))], [a, b])
    assert np.array_equal(ga.lo, [1.0, 0.0, 1.0]) and np.array_equal(gb.lo, [0.0, 1.0, 0.0])
    with pytest.raises(TypeError):
        np.sum(Box(np.ones(3)), initial=100.0)
    assert np.sum(Box(np.ones((2, 3))), 0).shape == (3,)
    assert np.max(Box(np.arange(6.0).reshape(2, 3)), keepdims=True).shape == (1, 1)
    # 0/0 is no number: unbounded, never a settled 0.
    zero_over_zero = Box(np.array([0.0])) * boxes.reciprocal(Box(np.array([0.0])))
    assert not np.all(np.isfinite(zero_over_zero.mid))


def test_a_bound_the_boxes_cannot_run_is_probed_whatever_it_raises() -> None:
    from derivations.conv import conv_bound

    def copying(arrays: dict, params: dict, c: np.ndarray) -> dict[str, np.ndarray]:
        return conv_bound(arrays, params, np.abs(c).copy())  # a Box has no .copy: AttributeError

    from harness import forward_exact

    op = CONV2D.with_engine(bound=copying)
    rng = np.random.default_rng(5)
    arrays = {
        "x": rng.uniform(-3, 3, (1, 1, 4, 4)),
        "w": rng.uniform(-3, 3, (2, 1, 3, 3)),
        "b": rng.uniform(-3, 3, (2,)),
    }
    params = {"stride": (1, 1), "padding": (1, 1)}
    u = {k: np.ones(v.shape) for k, v in arrays.items()}
    got = forward_exact.program_magnitude(op, arrays, params, u, (1, 2, 4, 4), transpose=True)
    want = forward_exact.program_magnitude(CONV2D, arrays, params, u, (1, 2, 4, 4), transpose=False)
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_a_contraction_below_the_normal_range_still_encloses_its_exact_value() -> None:
    """Products that underflow round by up to half the smallest subnormal apart from any relative error,
    in the middles and in the radius terms alike (found by a review: 1,000 terms came out 250 ETA short)."""
    eta, k = 2.0**-1074, 1000
    alpha, rho = 0.05526464904682654, 0.008608654796234627
    a = Box(np.full(k, alpha - rho), np.full(k, alpha + rho))
    b = Box(np.full(k, 1 * eta), np.full(k, 51 * eta))
    out = np.einsum("i,i->", a, b)
    assert Fraction(float(out.hi)) >= k * Fraction(alpha + rho) * Fraction(51 * eta)
    assert Fraction(float(out.lo)) <= k * Fraction(alpha - rho) * Fraction(eta)


@pytest.mark.parametrize(("side", "calls"), [(4, 32), (10, 1)])
def test_small_outputs_are_probed_and_larger_ones_transposed_on_boxes(side: int, calls: int) -> None:
    from derivations.conv import conv_bound
    from harness import forward_exact

    seen: list[bool] = []

    def spied(arrays: dict, params: dict, c: np.ndarray) -> dict[str, np.ndarray]:
        seen.append(isinstance(c, Box))
        return conv_bound(arrays, params, c)

    rng = np.random.default_rng(6)
    arrays = {"x": rng.uniform(-3, 3, (1, 1, side, side)), "w": rng.uniform(-3, 3, (2, 1, 3, 3)), "b": np.ones(2)}
    u = {k: np.ones(v.shape) for k, v in arrays.items()}
    forward_exact.program_magnitude(
        CONV2D.with_engine(bound=spied), arrays, {"stride": (1, 1), "padding": (1, 1)}, u, (1, 2, side, side)
    )
    assert len(seen) == calls and all(seen) == (calls == 1)  # 2 x side^2 outputs against PROBE_BELOW = 64
