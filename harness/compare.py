"""The error model: how far a backend may be from the exact value, and why.

A value computed in a format with unit roundoff u by a stable algorithm is the exact value
at inputs, cotangent terms and reused outputs each perturbed by a few u. To first order its
error is then bounded by

    rho * u * (|exact| + sensitivity) + rho * tiny

where `sensitivity` (from the exact reference) is sum |d value / d q| * |q| over those
quantities q, `rho` counts the roundings on the longest path (a few per elementwise op, plus
one per term of a row's sum) and `tiny` is the smallest normal number, below which no
relative accuracy exists. torch.testing's fixed per-dtype rtol/atol ignore the input: they
are loose where a function is well conditioned and wrong where it is not (saturated
sigmoids, huge logits); this model scales with both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from derivations.model import Op, kink_interval
from harness.dtypes import Format

ELEMENTWISE_ROUNDINGS = 8
PER_ROW_TERM = 2


def roundings(d: Op, row: int) -> float:
    """rho: roundings budgeted on the longest computation path of one output entry."""
    if d.structure == "elementwise":
        return float(ELEMENTWISE_ROUNDINGS)
    return float(ELEMENTWISE_ROUNDINGS + PER_ROW_TERM * row)


def model_text(d: Op, row: int, fmt: Format, *, finite_differences: bool = False) -> str:
    rho = roundings(d, row)
    value = f"rho*u*(|exact|+sensitivity+floor)+rho*tiny with rho={rho:g}, u=2^-{fmt.mantissa_bits} ({fmt.name})"
    if d.closed_form.floor:
        value += f", floor={d.closed_form.floor:g}"
    if finite_differences:
        return f"4 x the finite-difference error estimate (|R2-R1| + rounding) + {value}"
    return value


def tolerance(exact: np.ndarray, sensitivity: np.ndarray, fmt: Format, rho: float) -> np.ndarray:
    return rho * fmt.unit_roundoff * (np.abs(exact) + np.abs(sensitivity)) + rho * fmt.tiny


@dataclass(frozen=True)
class Measurement:
    """Errors of one comparison; `index` locates the entry that used most of its tolerance."""

    abs_error: float
    rel_error: float
    ulp_error: float
    usage: float  # max over entries of error / tolerance: > 1 fails
    index: tuple[int, ...]
    expected: float
    actual: float
    tolerance: float
    nonfinite: bool
    entry_error: float = float("nan")  # the error of the entry at `index` itself (abs_error is the largest of all)
    entry_ulps: float = float("nan")  # that error in ULPs of the expected value; NaN where it is within
    # its tolerance of zero, where ULPs would count spacings far finer than the computation's rounding


def worse(m: Measurement, than: Measurement | None) -> bool:
    """Whether `m` replaces `than` as a check's worst: a larger share of the tolerance, or non-finite first."""
    return than is None or m.usage > than.usage or (m.nonfinite and not than.nonfinite)


def measure(
    actual: np.ndarray,
    expected: np.ndarray,
    tol: np.ndarray,
    fmt: Format,
    *,
    allowed: tuple[np.ndarray, np.ndarray] | None = None,
) -> Measurement:
    """Compare entrywise. `allowed` gives per-entry [lo, hi] sets (subgradients at kinks),
    NaN where the entry must match `expected` itself."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(f"shape {actual.shape} where {expected.shape} was expected")
    tol = np.broadcast_to(tol, actual.shape)
    finite_exact = np.isfinite(expected)
    err = np.abs(actual - expected)
    if allowed is not None:
        lo, hi = allowed
        at_kink = ~np.isnan(lo)
        finite_exact |= at_kink  # a subgradient set of finite values
        outside = np.maximum(lo - actual, actual - hi)
        err = np.where(at_kink, np.maximum(outside, 0.0), err)
    bad = ~np.isfinite(actual) & finite_exact
    nonfinite = bool(np.any(bad))
    err = np.where(np.isfinite(actual), err, np.inf)
    # err and tol both inf give NaN, no warning: where the exact value is finite `bad` fails that entry
    with np.errstate(invalid="ignore"):
        usage = np.divide(err, tol, out=np.where(err > 0, np.inf, 0.0), where=tol > 0)
    if actual.size == 0:
        return Measurement(0.0, 0.0, 0.0, 0.0, (), 0.0, 0.0, 0.0, False)
    # A non-finite value where the exact one is finite is the entry to show, whatever else is off.
    flat = int(np.argmax(bad)) if nonfinite else int(np.argmax(usage))
    idx = tuple(int(i) for i in np.unravel_index(flat, actual.shape))
    with np.errstate(over="ignore", invalid="ignore"):
        rel = err / np.maximum(np.abs(expected), fmt.tiny)
        ulps = err / fmt.ulp(expected)
    return Measurement(
        abs_error=float(np.max(err)),
        rel_error=float(np.max(rel)),
        ulp_error=float(np.max(ulps)),
        usage=float(usage.reshape(-1)[flat]),
        index=idx,
        expected=float(expected[idx]),
        actual=float(actual[idx]),
        tolerance=float(tol[idx]),
        entry_error=float(err[idx]),
        entry_ulps=float(ulps[idx]) if abs(float(expected[idx])) > float(tol[idx]) else float("nan"),
        nonfinite=nonfinite,
    )


def nonfinite_entry(found: Mapping[str, np.ndarray]) -> tuple[str, tuple[int, ...], float] | None:
    """The first NaN or infinite entry among the arrays, as (name, index, value), or None."""
    for name, value in found.items():
        arr = np.asarray(value, dtype=np.float64)
        bad = ~np.isfinite(arr)
        if bad.any():
            index = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), arr.shape))
            return name, index, float(arr[index])
    return None


def nonfinite_text(value: float) -> str:
    return "NaN" if np.isnan(value) else ("+inf" if value > 0 else "-inf")


def kink_sets(
    d: Op, x: np.ndarray, params: dict[str, float], cotangent: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Allowed VJP ranges at exact kinks: cotangent times the subgradient set, NaN elsewhere."""
    if not d.closed_form.kinks:
        return None
    lo = np.full(x.shape, np.nan)
    hi = np.full(x.shape, np.nan)
    for k in d.closed_form.kinks:
        a, b = kink_interval(k, params)
        at = x == k.at
        ends = np.stack([cotangent * a, cotangent * b])
        lo = np.where(at, ends.min(axis=0), lo)
        hi = np.where(at, ends.max(axis=0), hi)
    return lo, hi


def chosen_subgradients(d: Op, x: np.ndarray, cotangent: np.ndarray, got: np.ndarray) -> dict[str, list[float]]:
    """Which derivative value a backend picked at each kink (got / cotangent), deduplicated."""
    picked: dict[str, list[float]] = {}
    for k in d.closed_form.kinks:
        # A non-finite value picked at a kink is the check's failure, never a convention.
        at = (x == k.at) & (cotangent != 0) & np.isfinite(got)
        if np.any(at):
            values = np.unique(np.round(got[at] / cotangent[at], 12)) + 0.0  # no -0.0
            picked[f"{d.name}'({k.at:g})"] = [float(v) for v in values]
    return picked
