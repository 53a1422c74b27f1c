"""ULPs, tolerances and subgradient sets."""

from __future__ import annotations

import numpy as np
import pytest

from derivations import CATALOG
from harness import compare
from harness.dtypes import FORMATS, get_format, reference_digits


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_ulp_matches_numpy_spacing(dtype: str) -> None:
    values = np.array([1.0, 3.5, 1e-3, 1234.5, -2.0], dtype=dtype)
    expected = np.abs(np.spacing(np.abs(values))).astype(np.float64)
    assert np.array_equal(FORMATS[dtype].ulp(values.astype(np.float64)), expected)


def test_bfloat16_has_eight_bits() -> None:
    fmt = get_format("bfloat16")
    assert fmt.ulp(np.array([1.0]))[0] == 2.0**-7
    assert fmt.round(np.array([1.0 + 2.0**-9]))[0] == 1.0


def test_reference_is_twice_as_precise() -> None:
    assert reference_digits(get_format("float64")) >= 32
    assert reference_digits(get_format("float32")) >= 30


def test_measure_reports_the_entry_that_uses_most_tolerance() -> None:
    fmt = get_format("float64")
    exact = np.array([1.0, 1e-10, 5.0])
    got = exact + np.array([1e-17, 1e-20, 1e-15])
    tol = compare.tolerance(exact, np.zeros(3), fmt, 8.0)
    m = compare.measure(got, exact, tol, fmt)
    errors = np.abs(got - exact)
    assert m.index == (int(np.argmax(errors / tol)),)
    assert m.usage == pytest.approx(float(np.max(errors / tol)))
    assert m.abs_error == pytest.approx(float(np.max(errors)))
    assert m.ulp_error == pytest.approx(float(np.max(errors / fmt.ulp(exact))))


def test_kinks_accept_any_subgradient_and_record_the_choice() -> None:
    d = CATALOG["leaky_relu"]
    x = np.array([0.0, 0.0, 2.0])
    c = np.array([2.0, -1.0, 1.0])
    lo, hi = compare.kink_sets(d, x, {"alpha": 0.1}, c)  # type: ignore[misc]
    assert lo[0] == pytest.approx(0.2) and hi[0] == 2.0
    assert lo[1] == -1.0 and hi[1] == pytest.approx(-0.1)
    assert np.isnan(lo[2])
    fmt = get_format("float64")
    inside = compare.measure(
        np.array([1.0, -0.5, 1.0]), np.array([9.0, 9.0, 1.0]), np.full(3, 1e-12), fmt, allowed=(lo, hi)
    )
    assert inside.usage == 0.0
    outside = compare.measure(
        np.array([3.0, -0.5, 1.0]), np.array([9.0, 9.0, 1.0]), np.full(3, 1e-12), fmt, allowed=(lo, hi)
    )
    assert outside.usage > 1.0 and outside.index == (0,)
    chosen = compare.chosen_subgradients(d, x, c, np.array([0.2, -0.1, 1.0]))
    assert chosen == {"leaky_relu'(0)": [0.1]}


def test_a_failure_message_gives_the_error_of_the_entry_it_names() -> None:
    """Not the largest error of any entry: the named entry's own, and no ULP count for a value near zero."""
    from harness.dtypes import get_format
    from harness.group_run import failure_message

    fmt = get_format("float64")
    expected = np.array([1.0, 0.0, 1e-300])
    actual = np.array([1.0 + 1e-9, 2e-11, 1e-300])
    tol = np.array([1e-8, 1e-12, 1e-8])  # entry 1 uses most of its tolerance, entry 0 has the largest error
    m = compare.measure(actual, expected, tol, fmt)
    message = failure_message("op vjp", m)
    assert m.index == (1,) and "error 2e-11;" in message and "ULP" not in message
    big = compare.measure(np.array([2.0]), np.array([1.0]), np.array([1e-3]), fmt)
    assert "ULP" in failure_message("op vjp", big)
