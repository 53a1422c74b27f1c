"""Reverse mode over object arrays: one sweep gives what a dual-number pass per input entry gives."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from derivations import TENSOR_OPS
from derivations.conv import CONV2D, conv_bound
from derivations.elementary import FLOAT, MP, Dual, to_mp
from derivations.model import Op
from harness import forward_exact, program_exact, reverse_mode
from harness.boxes import Box
from harness.runner import RunOptions, examples_for

OPTIONS = RunOptions(seed=0, profile="quick", dtypes=("float64",), devices=("cpu",))


def _examples(op: Op) -> list[tuple[dict[str, np.ndarray], dict[str, object]]]:
    """The quick profile's examples, as float64 arrays."""
    return [
        ({k: np.asarray(v, dtype=np.float64) for k, v in ex.arrays.items()}, dict(ex.params))
        for ex in examples_for(op, OPTIONS)
    ]


def _dual_vjp(op: Op, arrays: dict[str, np.ndarray], params: dict[str, object], c: np.ndarray) -> dict[str, list]:
    """The VJP entry by entry in forward mode: one 80-digit forward per input entry, tangent 1 there."""
    found: dict[str, list] = {}
    with mpmath.workdps(program_exact.DIGITS):
        held = {k: to_mp(v) for k, v in arrays.items()}
        cot = to_mp(c)
        for inp in op.differentiable:
            x, column = held[inp.name], []
            for j in np.ndindex(x.shape):
                x0, x[j] = x[j], Dual(x[j], 1)
                total = np.sum(np.asarray(op.program.forward(MP, held, params), dtype=object) * cot)
                column.append(total.b if isinstance(total, Dual) else 0)
                x[j] = x0
            found[inp.name] = column
    return found


@pytest.mark.parametrize("name", list(TENSOR_OPS))
def test_one_reverse_sweep_gives_the_dual_numbers_vjp_to_70_digits(name: str) -> None:
    op = TENSOR_OPS[name]
    rng = np.random.default_rng(7)
    compared, examples = 0, 0
    for arrays, params in _examples(op):
        if examples == 4:
            break
        c = rng.standard_normal(np.shape(op.program.forward(FLOAT, arrays, params)))
        ref = program_exact.reference(op, arrays, params, c)
        if ref.at_kink:
            assert ref.vjp == {}  # a set there, judged by the op's subgradient rule
            continue
        want, examples = _dual_vjp(op, arrays, params, c), examples + 1
        with mpmath.workdps(program_exact.DIGITS):
            for inp in op.differentiable:
                for got, exact in zip(ref.vjp_digits[inp.name].reshape(-1), want[inp.name], strict=True):
                    scale = max(abs(mpmath.mpf(exact)), mpmath.mpf(10) ** -300)
                    assert abs(mpmath.mpf(got) - exact) <= scale * mpmath.mpf(10) ** -70, (inp.name, got, exact)
                    compared += 1
    assert compared > 0


# Bounds that write their cotangent into float arrays, or compare it: probed per output entry instead.
PROBED = {"max_dim", "min_dim", "kthvalue", "topk", "clip_by_norm"}


@pytest.mark.parametrize("name", list(TENSOR_OPS))
def test_the_jvp_magnitude_by_transpose_equals_one_bound_per_output_entry(name: str) -> None:
    op = TENSOR_OPS[name]
    rng = np.random.default_rng(8)
    calls = []

    def counted(arrays: dict, params: dict, c: np.ndarray) -> dict[str, np.ndarray]:
        calls.append(isinstance(c, Box))
        return op.program.bound(arrays, params, c)

    spied = op.with_engine(bound=counted)
    for arrays, params in _examples(op)[:6]:
        shape = np.shape(op.program.forward(FLOAT, arrays, params))
        u = {i.name: rng.standard_normal(arrays[i.name].shape) for i in op.differentiable}
        calls.clear()
        got = forward_exact.program_magnitude(spied, arrays, params, u, shape, transpose=True)
        if name not in PROBED:  # one call, on boxes: the transpose, not the probes
            assert calls == [True]
        want = forward_exact.program_magnitude(op, arrays, params, u, shape, transpose=False)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


def test_a_bound_that_reads_its_cotangent_as_floats_is_probed_instead() -> None:
    def floats_first(arrays: dict, params: dict, c: np.ndarray) -> dict[str, np.ndarray]:
        return conv_bound(arrays, params, np.asarray(c, dtype=np.float64))

    op = CONV2D.with_engine(bound=floats_first)
    arrays, params = _examples(CONV2D)[0]
    shape = np.shape(op.program.forward(FLOAT, arrays, params))
    u = {i.name: np.ones(arrays[i.name].shape) for i in op.differentiable}
    got = forward_exact.program_magnitude(op, arrays, params, u, shape, transpose=True)
    want = forward_exact.program_magnitude(CONV2D, arrays, params, u, shape, transpose=False)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert np.all(got > 0)


def test_a_var_outside_a_recording_is_refused() -> None:
    with pytest.raises(RuntimeError, match="outside"):
        reverse_mode.Var(1.0)


def test_a_bound_that_compares_its_cotangent_is_probed_not_transposed() -> None:
    def clipped(arrays: dict, params: dict, c: np.ndarray) -> dict[str, np.ndarray]:
        return conv_bound(arrays, params, np.where(np.abs(c) > 0.5, c, 0.0))  # not linear in |c|

    op = CONV2D.with_engine(bound=clipped)
    arrays, params = _examples(CONV2D)[0]
    shape = np.shape(op.program.forward(FLOAT, arrays, params))
    u = {i.name: np.ones(arrays[i.name].shape) for i in op.differentiable}
    got = forward_exact.program_magnitude(op, arrays, params, u, shape, transpose=True)
    np.testing.assert_array_equal(got, forward_exact.program_magnitude(op, arrays, params, u, shape, transpose=False))


def test_a_derivative_undefined_where_the_forward_is_defined_fails_the_vjp_not_the_forward() -> None:
    op = TENSOR_OPS["sum_dim"].with_engine(forward=lambda m, arrays, params: m.sqrt(arrays["x"] * arrays["x"]))
    ref = program_exact.reference(op, {"x": np.array([[0.0, 2.0]])}, {"dim": 1}, np.ones((1, 2)))
    assert ref.forward.tolist() == [[0.0, 2.0]]
    with pytest.raises(ZeroDivisionError):
        _ = ref.vjp
    with pytest.raises(ZeroDivisionError):
        ref.jvp({"x": np.ones((1, 2))})


def test_elementary_functions_and_division_by_a_float_keep_80_digits() -> None:
    with mpmath.workdps(80), reverse_mode.recording() as tape:
        (x,) = reverse_mode.leaves(to_mp(np.array([0.7])))
        y = MP.exp(np.array([x * x], dtype=object))[0] / (1 + x) - MP.tanh(np.array([x], dtype=object))[0] / 9.0
        adj = reverse_mode.adjoints(y, tape)
        got = adj[x.i]
        want = mpmath.diff(lambda t: mpmath.exp(t * t) / (1 + t) - mpmath.tanh(t) / 9, mpmath.mpf(0.7))
        assert abs(got - want) < mpmath.mpf(10) ** -70


def test_branches_follow_the_values_and_abs_takes_the_right_derivative_at_zero() -> None:
    with reverse_mode.recording() as tape:
        a, b = reverse_mode.leaves(np.array([0.0, -2.0]))
        total = abs(a) + np.maximum(np.array([a], dtype=object), np.array([b], dtype=object))[0] * 3
        adj = reverse_mode.adjoints(total, tape)
    assert (adj[a.i], adj[b.i]) == (4.0, None)  # |a|' = 1 at 0 (as Dual), max picks a; b unused


def test_a_total_that_depends_on_no_input_has_zero_gradients() -> None:
    with reverse_mode.recording() as tape:
        leaves = reverse_mode.leaves(np.array([1.0, 2.0]))
        grads = reverse_mode.gradient(leaves, reverse_mode.adjoints(3.0, tape))
    assert grads.tolist() == [0, 0]


def _dual_jvp(op: Op, arrays: dict[str, np.ndarray], params: dict[str, object], u: dict[str, np.ndarray]) -> list:
    """J u from one 80-digit pass of dual numbers carrying the whole tangent."""
    with mpmath.workdps(program_exact.DIGITS):
        held = {k: to_mp(v) for k, v in arrays.items()}
        for inp in op.differentiable:
            x, t = held[inp.name], to_mp(u[inp.name])
            for j in np.ndindex(x.shape):
                x[j] = Dual(x[j], t[j])
        out = np.asarray(op.program.forward(MP, held, params), dtype=object).reshape(-1)
        return [o.b if isinstance(o, Dual) else 0 for o in out]


@pytest.mark.parametrize("name", list(TENSOR_OPS))
def test_a_forward_sweep_of_the_tape_gives_the_dual_numbers_jvp_to_70_digits(name: str) -> None:
    op = TENSOR_OPS[name]
    rng = np.random.default_rng(9)
    compared = 0
    for arrays, params in _examples(op)[:6]:
        c = rng.standard_normal(np.shape(op.program.forward(FLOAT, arrays, params)))
        u = {i.name: rng.standard_normal(arrays[i.name].shape) for i in op.differentiable}
        ref = program_exact.reference(op, arrays, params, c)
        assert ref.vjp is not None  # its cotangent's products join the tape first: the sweep must not mind them
        got = ref.jvp(u)
        if ref.at_kink:
            assert got is None
            continue
        assert got is not None
        want = [float(v) for v in _dual_jvp(op, arrays, params, u)]
        assert got.reshape(-1).tolist() == want
        compared += 1
    assert compared > 0
