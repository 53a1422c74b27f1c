"""The fast reference: float64 boxes enclose the exact values, their tangents give the exact engine's
magnitudes, and whatever they cannot settle goes to the exact engine."""

from __future__ import annotations

import dataclasses

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch

from derivations import OPS
from derivations.model import Example, Op, Program
from harness import box_derivative, box_graph, box_reference, boxes, cases, compare, exact, forward_exact
from harness.dtypes import reference_digits
from harness.options import RunOptions
from harness.runner import examples_for
from harness.symbols import build

CLOSED_FORMS = tuple(name for name, op in OPS.items() if not isinstance(op.engine, Program))


def _points(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """Values spread over magnitudes 10^low .. 10^high, both signs."""
    return rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(low, high, n)


def _inside(b: boxes.Box, exact_values: list[mpmath.mpf]) -> bool:
    return all(b.lo[i] <= v <= b.hi[i] for i, v in enumerate(exact_values))


UNARY = {
    "exp": (boxes.exp, mpmath.exp, (-3, 2.85)),
    "log": (boxes.log, mpmath.log, (-300, 300)),
    "log1p": (boxes.log1p, mpmath.log1p, (-20, 0)),
    "tanh": (boxes.tanh, mpmath.tanh, (-10, 2)),
    "sqrt": (boxes.sqrt, mpmath.sqrt, (-300, 300)),
    "reciprocal": (boxes.reciprocal, lambda v: 1 / v, (-300, 300)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_a_function_of_a_box_encloses_the_exact_value(name: str) -> None:
    fn, exact_fn, (low, high) = UNARY[name]
    x = _points(np.random.default_rng(0), 2000, low, high)
    if name in ("log", "sqrt"):
        x = np.abs(x)
    if name == "log1p":
        x = np.maximum(x, -0.99)
    out = fn(boxes.Box(x))
    with mpmath.workdps(60):
        assert _inside(out, [exact_fn(mpmath.mpf(float(v))) for v in x])


def test_arithmetic_encloses_the_exact_value() -> None:
    rng = np.random.default_rng(1)
    a, b = _points(rng, 2000, -150, 150), _points(rng, 2000, -150, 150)
    wide = boxes.Box(a, np.nextafter(a, np.inf) * (1 + 1e-9))  # not a point: the four-product rule
    with mpmath.workdps(700):
        pa, pb = [mpmath.mpf(float(v)) for v in a], [mpmath.mpf(float(v)) for v in b]
        assert _inside(boxes.Box(a) + boxes.Box(b), [x + y for x, y in zip(pa, pb, strict=True)])
        assert _inside(boxes.Box(a) * boxes.Box(b), [x * y for x, y in zip(pa, pb, strict=True)])
        assert _inside(boxes.Box(a) / boxes.Box(b), [x / y for x, y in zip(pa, pb, strict=True)])
        assert _inside(boxes.Box(a) ** 3, [x**3 for x in pa])
        assert _inside(wide * boxes.Box(b), [x * y for x, y in zip(pa, pb, strict=True)])


def test_a_product_that_underflows_is_not_taken_for_zero() -> None:
    tiny = boxes.Box(np.array([1e-200])) * boxes.Box(np.array([1e-200]))
    assert tiny.lo[0] <= 0 < tiny.hi[0]
    assert bool(tiny.loose)  # its middle is no value to differentiate at
    exact_zero = boxes.Box(np.array([0.0])) * boxes.Box(np.array([1e-200]))
    assert exact_zero.lo[0] == exact_zero.hi[0] == 0 and not bool(exact_zero.loose)


def _exact(v: np.floating) -> mpmath.mpf:
    """A float64 or long double exactly, mantissa and exponent apart (float() would round a long double)."""
    mantissa, exponent = np.frexp(v)
    return mpmath.ldexp(mpmath.mpf(int(np.ldexp(mantissa, 64))), int(exponent) - 64)


needs_extended = pytest.mark.skipif(boxes.EXTENDED is None, reason="this platform's long double is float64")
PRECISIONS = [np.float64, pytest.param(np.longdouble, marks=needs_extended)]


@pytest.mark.parametrize("dtype", PRECISIONS)
@pytest.mark.parametrize("fn", [np.exp, np.log, np.log1p, np.tanh])
def test_numpys_functions_stay_within_the_margin(fn: np.ufunc, dtype: type) -> None:
    """libm_ulps is a margin over what NumPy's functions are measured to make: at most half of it here,
    in float64 and in the long double the extended boxes use (its own range: exp to 10^3.3)."""
    rng = np.random.default_rng(2)
    high = 2.8 if dtype is np.float64 else 3.3
    x = _points(rng, 4000, -8, high).astype(dtype)
    # Long double inputs off float64's grid: a float64 draw times (1 + 2^-60) rounds to a value float64 lacks.
    x = x * (1 + dtype(2.0) ** -60) if dtype is not np.float64 else x
    x = np.abs(x) if fn in (np.log, np.log1p) else x
    got = fn(x)
    exact_fn = {np.exp: mpmath.exp, np.log: mpmath.log, np.log1p: mpmath.log1p, np.tanh: mpmath.tanh}[fn]
    with mpmath.workdps(50):
        errors = [abs(_exact(g) - exact_fn(_exact(v))) for g, v in zip(got, x, strict=True)]
        # One ULP from the exponent: NumPy's spacing is NaN at the long double just below 1.
        bits = np.finfo(dtype).nmant + 1
        ulps = [float(e / mpmath.ldexp(1, int(np.frexp(g)[1]) - bits)) for e, g in zip(errors, got, strict=True)]
    margin = (boxes.FLOAT64 if dtype is np.float64 else boxes.EXTENDED).libm_ulps  # type: ignore[union-attr]
    assert max(ulps) <= margin / 2


@needs_extended
@pytest.mark.parametrize("name", sorted(UNARY))
def test_a_long_double_box_encloses_the_exact_value_past_float64s_range(name: str) -> None:
    fn, exact_fn, (low, high) = UNARY[name]
    high = 3.3 if name == "exp" else high  # exp(2000) is a long double
    x = _points(np.random.default_rng(6), 2000, low, high)
    if name in ("log", "sqrt"):
        x = np.abs(x)
    if name == "log1p":
        x = np.maximum(x, -0.99)
    with boxes.extended():
        out = fn(boxes.Box(x)) * boxes.Box(np.full(2000, 1e-300)) * boxes.Box(np.full(2000, 1e-300))
    assert out.lo.dtype == np.longdouble
    with mpmath.workdps(80):
        values = [exact_fn(mpmath.mpf(float(v))) * mpmath.mpf(1e-300) ** 2 for v in x]
        assert all(_exact(out.lo[i]) <= v <= _exact(out.hi[i]) for i, v in enumerate(values))
    assert not np.any(np.asarray(out.loose)[np.abs([float(v) for v in values]) > 0])  # 1e-600 is no underflow


@needs_extended
def test_long_double_settles_what_overflows_float64_and_agrees_with_the_exact_engine() -> None:
    """sigmoid at +-800: exp(800) overflows float64 and exp(-800) underflows it; both are long doubles."""
    for dtype in ("float32", "float64"):
        # (Ordinary inputs would go to the exact engine in float64, wide against float64's own tolerance.)
        case = _case("sigmoid", {"z": np.array([-800.0, 800.0, -750.0, 1000.0])}, dtype)
        ref = exact.evaluate(case.op, case.arrays, case.params, case.cotangent, digits=reference_digits(case.fmt))
        fast = case.reference
        for key, value, sens, got in [
            ("out", ref.forward, ref.forward_sensitivity, fast.forward),
            ("z", ref.vjp, ref.vjp_sensitivity, fast.vjp),
        ]:
            tol = compare.tolerance(value, sens, case.fmt, case.rho)
            assert np.all(np.abs(got - value) <= 0.07 * tol), (dtype, key)
            assert np.all(fast.radius(key) <= box_reference.SETTLED_SHARE * tol), (dtype, key)
        assert fast.coverage.extended == 4 and fast.coverage.exact == 0, dtype
        assert "long double" in fast.coverage.text()


def test_reverse_and_forward_mode_enclose_the_exact_derivative() -> None:
    x = np.linspace(-30, 30, 61)
    z = boxes.Box(x, tan=np.ones((61, 1)))
    with box_graph.recording():
        f = boxes.tanh(z) * boxes.exp(-z) + boxes.log(1 + z * z)
    c = boxes.Box(np.full(61, 0.5))
    (g,) = box_graph.vjp([f], [c], [z])
    (ju,) = box_graph.jvp([f], [z], [boxes.Box(np.full(61, 2.0))])
    with mpmath.workdps(50):
        derivative = [
            mpmath.diff(lambda t: mpmath.tanh(t) * mpmath.exp(-t) + mpmath.log(1 + t * t), mpmath.mpf(float(v)))
            for v in x
        ]
        assert _inside(g, [d / 2 for d in derivative])
        assert _inside(ju, [2 * d for d in derivative])
    assert np.allclose(f.tan[:, 0], [float(d) for d in derivative], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", CLOSED_FORMS)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float64"])
def test_the_fast_reference_agrees_with_the_exact_engine(name: str, dtype: str) -> None:
    """Same values to within a sliver of the tolerance, and the same tolerances, on the catalog's own draws."""
    op = OPS[name]
    for ex in examples_for(op, RunOptions(seed=0, profile="quick")):
        try:
            case = cases.build(op, ex, dtype, 3)
        except cases.OutOfRange:
            continue
        ref = exact.evaluate(op, case.arrays, case.params, case.cotangent, digits=reference_digits(case.fmt))
        quantities = [("out", ref.forward, ref.forward_sensitivity, case.reference.forward)]
        quantities += [(k, ref.vjps[k], ref.vjp_sensitivities[k], case.reference.vjps[k]) for k in ref.vjps]
        for key, value, sens, fast in quantities:
            tol = compare.tolerance(value, sens + cases.floor(op, key, case.cotangent), case.fmt, case.rho)
            judged = np.ones(np.shape(value), dtype=bool)
            if key == op.wrt.name:  # at a kink the subgradient set is the reference, whatever the value
                judged = ~np.isin(case.arrays[key], [k.at for k in op.closed_form.kinks])
            assert np.all((np.abs(fast - value) <= 0.07 * tol)[judged]), (name, dtype, ex.region, key)
            ratio = (case.tolerance(key, fast) / tol)[judged]
            assert np.all((ratio >= 0.999) & (ratio <= 1.07)), (name, dtype, ex.region, key, ratio.min(), ratio.max())


def _case(op_name: str, arrays: dict[str, np.ndarray], dtype: str) -> cases.Case:
    op = OPS[op_name]
    return cases.build(op, Example(arrays, op.param_defaults(), "typical", ()), dtype, 5)


def test_what_the_boxes_cannot_settle_goes_to_the_exact_engine() -> None:
    """A logit of 1000 in a row longer than box_derivative.MAX_ROW: float64 overflows, and in long double
    reverse mode's 1 - s of that entry cancels to a loose box, with no rewritten Jacobian to take instead;
    the row goes to the exact engine."""
    n = box_derivative.MAX_ROW + 1
    z = np.array([np.linspace(-3.0, 2.0, n), np.linspace(0.1, 0.3, n)])
    z[0, 0] = 1000.0
    case = _case("softmax", {"z": z}, "float32")
    ref = exact.evaluate(case.op, case.arrays, case.params, case.cotangent, digits=reference_digits(case.fmt))
    assert np.array_equal(case.reference.forward[0], ref.forward[0])
    assert np.array_equal(case.reference.vjp[0], ref.vjp[0])
    assert case.reference.coverage.exact == 1


def _agrees_with_the_exact_engine(case: cases.Case) -> exact.Reference:
    """The forward and every VJP of the fast reference within a sliver of the tolerance of the exact engine's."""
    ref = exact.evaluate(case.op, case.arrays, case.params, case.cotangent, digits=reference_digits(case.fmt))
    fast = case.reference
    quantities = [("out", ref.forward, ref.forward_sensitivity, fast.forward)]
    quantities += [(k, ref.vjps[k], ref.vjp_sensitivities[k], fast.vjps[k]) for k in ref.vjps]
    for key, value, sens, got in quantities:
        tol = compare.tolerance(value, sens + cases.floor(case.op, key, case.cotangent), case.fmt, case.rho)
        assert np.all(np.abs(got - value) <= 0.07 * tol), key
    return ref


def test_cross_entropy_at_a_dominant_logit_settles_on_boxes() -> None:
    """-log s_k at a logit 300 above the others is about e^-290: the log of a box around 1 - e^-290 cannot
    give it, log1p of the other terms can; and the loss's magnitude comes through the rewritten Jacobian,
    where reverse mode's tangents pass through that loose box. Nothing goes to the exact engine."""
    z = np.array([[0.0, 300.0, -50.0, 10.0], [0.3, -0.2, 0.1, 0.0]])
    y = np.array([[0.1, 0.6, 0.2, 0.1], [0.25, 0.25, 0.4, 0.1]])
    case = _case("softmax_cross_entropy", {"z": z, "y": y}, "float32")
    ref = _agrees_with_the_exact_engine(case)
    assert abs(ref.vjps["y"][0, 1]) < 1e-120  # the entry that cancelled
    assert case.reference.coverage.exact == 0 and case.reference.coverage.extended == 1


def test_binary_cross_entropy_at_saturation_settles_on_boxes() -> None:
    """log(1 - sigma(z)) at z = 415 is the log of a box from 0 in the notes' form; the rewritten forward,
    log1p(e^z) less z, holds it (and in long double past z = 709, where e^z overflows float64)."""
    z = np.array([415.0, 905.0, -900.0, 3.0, -40.0])
    y = np.array([0.3, 0.7, 0.2, 0.5, 0.9])
    case = _case("binary_cross_entropy", {"z": z, "y": y}, "float32")
    _agrees_with_the_exact_engine(case)
    assert case.reference.coverage.exact == 0


@pytest.mark.parametrize(("name", "n"), [("binary_cross_entropy", 1), ("softmax_cross_entropy", 3)])
def test_a_rewritten_forward_is_the_forward(name: str, n: int) -> None:
    op = OPS[name]
    rewritten = box_derivative.rewritten_forward(op, n)
    assert rewritten is not None
    _same_at_50_digits(op, n, list(zip(rewritten, build(op, n).forward, strict=True)), seed=8)
    assert box_derivative.rewritten_forward(OPS["sigmoid"]) is None  # nothing to rewrite


def test_float64_samples_the_exact_engine_and_still_catches_a_sparse_error() -> None:
    """Long double leaves a few per cent of float64's units wide against float64's own tolerance: of
    100,000, more than SAMPLE_UNITS, so the exact engine takes a sample of them."""
    n = 100_000
    rng = np.random.default_rng(4)
    case = _case("sigmoid", {"z": rng.uniform(-6, 6, n)}, "float64")
    z = torch.tensor(case.arrays["z"], requires_grad=True)
    torch.sigmoid(z).backward(torch.tensor(case.cotangent))
    got = z.grad.numpy()
    exact_vjp = case.reference.vjp
    tol = case.tolerance("z", exact_vjp)
    assert compare.measure(got, exact_vjp, tol, case.fmt).usage <= 1  # torch's own: silent
    coverage = case.reference.coverage
    assert coverage.sampled and box_reference.SAMPLE_UNITS <= coverage.exact < coverage.unsettled < n // 10
    assert "unsampled" in coverage.text()
    wrong = got.copy()
    hit = rng.choice(n, n // 50, replace=False)  # 2 % of the entries, off by 5 tolerances
    wrong[hit] += 5 * tol[hit]
    assert compare.measure(wrong, exact_vjp, tol, case.fmt).usage > 1


def test_the_coverage_counts_the_units_whose_j_u_came_from_the_exact_engine() -> None:
    case = _case("sigmoid", {"z": np.linspace(-3.0, 3.0, 40)}, "float32")
    assert case.reference.coverage.exact == 0  # every forward and VJP enclosure settles in float32
    # A tolerance of 0 settles no enclosure of J u: every unit goes to the exact engine, and is counted.
    value, _, _ = case.reference.jvp(case.tangent, lambda v, m: np.zeros_like(v))
    assert case.reference.coverage.exact == 40
    np.testing.assert_allclose(value, case.jvp_reference.value, rtol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_kink_keeps_its_tolerance_so_a_subgradient_just_outside_the_set_fails(dtype: str) -> None:
    """At ReLU's kink the box of the derivative is [0, 1]: its radius must not widen the set's tolerance."""
    case = _case("relu", {"z": np.array([0.0, 0.0, 1.5, -2.0])}, dtype)
    allowed = case.subgradients("z")
    exact_vjp = case.reference.vjp
    tol = case.tolerance("z", exact_vjp)
    inside = case.cotangent * np.array([0.7, 0.0, 1.0, 0.0])
    assert compare.measure(inside, exact_vjp, tol, case.fmt, allowed=allowed).usage <= 1
    outside = case.cotangent * np.array([1.3, 0.0, 1.0, 0.0])
    assert compare.measure(outside, exact_vjp, tol, case.fmt, allowed=allowed).usage > 1
    ju = case.jvp_reference
    u = case.tangent["z"]
    # The set u * [0, 1] at the kink, as forward_mode.kink_sets builds it.
    allowed_ju = (np.where(case.x == 0, np.minimum(0, u), np.nan), np.where(case.x == 0, np.maximum(0, u), np.nan))
    wrong_ju = np.where(case.x == 0, 1.3 * u, ju.value)
    assert compare.measure(wrong_ju, ju.value, ju.tolerance(case.fmt, case.rho), case.fmt, allowed=allowed_ju).usage > 1


@pytest.mark.parametrize(
    ("name", "n"),
    [
        ("tanh", 1),
        ("sigmoid", 1),
        ("binary_cross_entropy", 1),
        ("softmax", 4),
        ("softmax_cross_entropy", 3),
        ("mse", 3),
    ],
)
def test_a_rewritten_derivative_is_the_derivative(name: str, n: int) -> None:
    """The rewrite is SymPy's algebra, checked anyway: every Jacobian entry equal to the raw one at 50 digits."""
    op = OPS[name]
    rewritten = box_derivative.rewritten(op, n)
    assert rewritten is not None
    raw = build(op, n).raw_jacobians
    assert all(len(entries) == len(raw[key]) for key, entries in rewritten.items())
    pairs = [(expr, want) for key, entries in rewritten.items() for expr, want in zip(entries, raw[key], strict=True)]
    _same_at_50_digits(op, n, pairs, seed=7)


def _same_at_50_digits(op: Op, n: int, pairs: list[tuple[sp.Expr, sp.Expr]], seed: int) -> None:
    """Each pair equal at ten random points, evaluated at 50 digits (targets in (0, 1), the rest in (-30, 30))."""
    inputs, params = box_derivative.symbols(op, n)
    assert not params
    rng = np.random.default_rng(seed)
    for _ in range(10):
        at = {
            s: sp.Float(rng.uniform(0.05, 0.95) if k == "y" else rng.uniform(-30, 30), 30)
            for k, row in inputs.items()
            for s in row
        }
        for expr, want in pairs:
            got, value = expr.evalf(50, subs=at), want.evalf(50, subs=at)
            assert abs(got - value) <= 1e-40 * (1 + abs(value)), at


def test_an_op_with_kinks_or_a_long_row_keeps_reverse_mode_alone() -> None:
    assert box_derivative.rewritten(OPS["relu"]) is None
    assert box_derivative.rewritten(OPS["softmax"], box_derivative.MAX_ROW + 1) is None
    # |z| declared without a kink: its derivative sign(z) has no box version, so no rewrite (not an error).
    undeclared = dataclasses.replace(
        OPS["sigmoid"],
        name="abs_sigmoid",
        engine=dataclasses.replace(OPS["sigmoid"].closed_form, forward=lambda z: abs(z)),
    )
    assert box_derivative.rewritten(undeclared) is None


@needs_extended
def test_softmaxs_dominant_logit_settles_on_boxes_and_agrees_with_the_exact_engine() -> None:
    """Reverse mode cancels the VJP's 1 - s at a logit of 1000; the rewritten Jacobian's diagonal,
    e^{z_i} sum_{k != i} e^{z_k} / (sum e^{z_k})^2, in long double, does not."""
    z = np.array([[1000.0, -3.0, 2.0], [0.1, 0.2, 0.3], [-700.0, 5.0, 900.0]])
    for dtype in ("float32", "float64"):
        case = _case("softmax", {"z": z}, dtype)
        ref = exact.evaluate(case.op, case.arrays, case.params, case.cotangent, digits=reference_digits(case.fmt))
        for key, value, sens, got in [
            ("out", ref.forward, ref.forward_sensitivity, case.reference.forward),
            ("z", ref.vjp, ref.vjp_sensitivity, case.reference.vjp),
        ]:
            tol = compare.tolerance(value, sens, case.fmt, case.rho)
            assert np.all(np.abs(got - value) <= 0.07 * tol), (dtype, key)
            ratio = case.tolerance(key, got) / tol
            assert np.all((ratio >= 0.999) & (ratio <= 1.07)), (dtype, key, ratio)
        coverage = case.reference.coverage
        assert coverage.extended >= 2 and (coverage.exact == 0 if dtype == "float32" else not coverage.sampled), dtype


@needs_extended
def test_tanhs_saturated_derivative_settles_on_boxes_and_agrees_with_the_exact_engine() -> None:
    """Reverse mode over tanh's quotient cancels to 1 - tanh^2, a box ULPs of 1 wide around 1e-26 at
    z = 30; the rewritten derivative 4 e^{2z} / (e^{2z} + 1)^2 encloses it narrowly, in long double past
    float64's range (z = 576, 1000)."""
    for dtype in ("bfloat16", "float32"):
        case = _case("tanh", {"z": np.array([576.0, -1000.0, 30.0, -25.0, 0.5])}, dtype)
        ref = exact.evaluate(case.op, case.arrays, case.params, case.cotangent, digits=reference_digits(case.fmt))
        tol = compare.tolerance(ref.vjp, ref.vjp_sensitivity, case.fmt, case.rho)
        assert np.all(np.abs(case.reference.vjp - ref.vjp) <= 0.07 * tol), dtype
        ratio = case.tolerance("z", case.reference.vjp) / tol
        assert np.all((ratio >= 0.999) & (ratio <= 1.07)), (dtype, ratio)
        assert case.reference.coverage.exact == 0, dtype
        fmt, rho = case.fmt, case.rho
        value, magnitude, _ = case.reference.jvp(
            case.tangent, lambda v, m, fmt=fmt, rho=rho: compare.tolerance(v, m, fmt, rho)
        )
        want, sens = forward_exact.closed_form_jvp(
            case.op, case.arrays, case.params, case.tangent, ref.forward, digits=reference_digits(fmt)
        )
        tol = compare.tolerance(want, sens, fmt, rho)
        assert np.all(np.abs(value - want) <= 0.07 * tol), dtype
        assert np.all(compare.tolerance(value, magnitude, fmt, rho) / tol <= 1.07), dtype
        assert case.reference.coverage.exact == 0, dtype
