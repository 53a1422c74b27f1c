"""gradproof.check: one line that verifies a user's function against a catalog derivation,
with hypothesis drawing the inputs from every named region of the derivation's domain."""

from __future__ import annotations

import os
import unittest
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed

from gradproof import recording
from gradproof.profiles import DEFAULT_EXAMPLES, PROFILES
from gradproof.strategies import derivation as _derivation
from gradproof.strategies import regions as _regions
from harness import checks as check_kinds
from harness.backends.base import Backend
from harness.backends.numpy_ref import NumpyBackend, Op
from harness.dtypes import FORMATS
from harness.inputs import Example, inputs_for
from harness.runner import Runner, RunOptions

DEVICES = ("cpu", "cuda")


class CheckFailure(AssertionError):
    """A check failed or errored; the message names derivation, input, worst entry,
    expected vs actual, ULPs and tolerance."""


def _names(values: Sequence[str], valid: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    names = tuple(values)
    unknown = [v for v in names if v not in valid]
    if unknown or not names:
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown)) or '(none given)'}; valid: {', '.join(valid)}")
    return names


def _backend(fn: Callable[..., Any], name: str, vjp: Callable[..., Any] | None, derivation: str) -> Backend:
    if vjp is not None:
        return NumpyBackend(name, {derivation: Op(fn, vjp)})
    from harness.backends.torch_backend import TorchBackend

    return TorchBackend(name, {derivation: fn})


def _implementation_name(fn: Callable[..., Any]) -> str:
    qualname = getattr(fn, "__qualname__", None) or type(fn).__name__
    return f"impl:{getattr(fn, '__module__', None) or '?'}.{qualname}"


def _array_text(a: np.ndarray) -> str:
    return np.array2string(np.asarray(a), precision=17, separator=", ", threshold=64)


def _message(rec: dict[str, Any], example: Example) -> str:
    lines = [f"gradproof: {rec['verdict']} {rec['id']}", f"  {rec['message']}", f"  input (region {example.region}):"]
    lines += [f"    {k} = {_array_text(v)}" for k, v in example.arrays.items()]
    if example.params:
        lines.append(f"    parameters {example.params}")
    failure = rec.get("failure") or {}
    if "worst_index" in failure:
        lines.append(
            f"  worst entry {failure['worst_index']}: expected {failure['expected']!r}, actual {failure['actual']!r}"
        )
        lines.append(
            f"  error {rec['max_abs_error']!r} = {rec['max_ulp_error']!r} ULP; tolerance {failure['tolerance']!r} "
            f"({rec['tolerance_usage']!r} × the tolerance)"
        )
        lines.append(f"  tolerance: {rec['tolerance_model']}")
    return "\n".join(lines)


def _examples_per_region(max_examples: int | None) -> int:
    if max_examples is not None:
        if max_examples < 1:
            raise ValueError(f"max_examples must be at least 1, not {max_examples}")
        return max_examples
    # gradproof's hypothesis profiles set how deep a check goes; under any other profile
    # (hypothesis' own default asks for 100) a check keeps to a quick default.
    current = settings.default
    if settings.get_current_profile_name() in PROFILES and current is not None:
        return current.max_examples
    return DEFAULT_EXAMPLES


def check(
    fn: Callable[..., Any],
    derivation: str,
    *,
    vjp: Callable[..., Any] | None = None,
    dtypes: Sequence[str] = ("float32", "float64"),
    device: str = "cpu",
    checks: Sequence[str] = check_kinds.KINDS,
    regions: Sequence[str] | None = None,
    max_examples: int | None = None,
    seed: int | None = None,
    name: str | None = None,
) -> list[dict[str, Any]]:
    """Check `fn` against the catalog derivation `derivation`; raise CheckFailure on the first
    failing check, after hypothesis has shrunk its input. Returns the records (one per check).

    With `vjp`, `fn(*inputs, **params)` and `vjp(*inputs, cotangent, **params)` are NumPy
    functions; without it, `fn` is a torch callable checked through autograd. Every region of
    the derivation is visited (`regions` picks some) with `max_examples` inputs each;
    `seed` fixes hypothesis' draws.
    """
    d = _derivation(derivation)
    if not callable(fn) or (vjp is not None and not callable(vjp)):
        raise TypeError("gradproof.check needs a callable forward (and, if given, a callable vjp)")
    dtypes = _names(dtypes, tuple(FORMATS), "dtype")
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; valid: {', '.join(DEVICES)}")
    kinds = _names(checks, check_kinds.KINDS, "check")
    chosen = _names(regions, _regions(d.name), "region") if regions is not None else _regions(d.name)
    count = _examples_per_region(max_examples)
    backend = _backend(fn, name or _implementation_name(fn), vjp, d.name)
    if vjp is not None and device != "cpu":
        raise ValueError("NumPy functions run on the cpu device only")
    options = RunOptions(seed=0, profile="default", dtypes=dtypes, devices=(device,), kinds=kinds, fd_oracle=False)
    runner = Runner([backend], NumpyBackend(), options)
    reasons = {backend.unavailable(t) for t in backend.targets() if t.dtype in dtypes and t.device == device}
    if None not in reasons:
        raise unittest.SkipTest("; ".join(sorted(r for r in reasons if r)) or f"no {device} target for {dtypes}")

    where = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    merged: dict[str, dict[str, Any]] = {}
    seen: list[Example] = []

    def one(example: Example) -> None:
        records = runner.run_derivation(d, [example])
        seen.append(example)
        for rec in records:
            if where:  # the CLI cannot rerun a user's function; their test can
                rec["reproduce"] = f"pytest '{where}'"
            key = str(rec["id"])
            merged[key] = recording.merge(merged.get(key), rec)
        bad = [r for r in records if r["verdict"] in ("fail", "error")]
        if bad:
            raise CheckFailure(_message(bad[0], example))

    run_settings = settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    try:
        for region in chosen:
            # A fresh function per region: hypothesis decorates each test function once.
            test = run_settings(given(inputs_for(d, region=region))(lambda example: one(example)))
            (hypothesis_seed(seed)(test) if seed is not None else test)()
    finally:
        recording.record(d, seen, list(merged.values()))
    return list(merged.values())
