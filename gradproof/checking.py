"""gradproof.check: one line that verifies a user's function against any catalog op, with
hypothesis drawing the inputs from every named region of the op's domain.

The user's functions go through the same adapter (`harness/impl`) and the same checks as
`gradproof verify --impl`: one calling convention, the conformance checks included.
"""

from __future__ import annotations

import os
import shlex
import types
import unittest
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed

from derivations.model import Example
from gradproof import recording
from gradproof.profiles import DEFAULT_EXAMPLES, PROFILES
from gradproof.strategies import inputs as _inputs
from gradproof.strategies import op as _op
from gradproof.strategies import regions as _regions
from harness import check_cost, chosen_shapes
from harness import checks as check_kinds
from harness.backends.base import Target
from harness.dtypes import FORMATS
from harness.impl import conformance
from harness.impl.backend import ImplBackend
from harness.impl.contract import Convention
from harness.impl.isolation import InProcess
from harness.impl.session import CONVENTIONS
from harness.inputs import no_local_constants
from harness.pipeline import Pipeline
from harness.runner import RunOptions
from harness.shape_text import shape_text

DEVICES = ("cpu", "cuda")
KINDS = (*check_kinds.KINDS, *conformance.KINDS)
IMPLEMENTATION_KINDS = ("numpy", "torch", "jax")
MODES = ("rev", "fwd")


SECOND_ORDER = ("vjp-of-vjp", "hvp")


def _mode_kinds(modes: Sequence[str], order: int) -> tuple[str, ...]:
    """The check kinds of the chosen modes and order; the forward values and the conformance checks go with
    any. Order 2 adds the double backward (reverse over reverse, with "rev") and the Hessian-vector product
    (forward over reverse, with both modes)."""
    by_mode = {"rev": ("vjp", "projection", "jacobian"), "fwd": ("jvp", "transpose")}
    chosen = {k for m in modes for k in by_mode[m]}
    if order == 2:
        chosen |= {"vjp-of-vjp"} if "rev" in modes else set()
        chosen |= {"hvp"} if {"rev", "fwd"} <= set(modes) else set()
    tied = {k for ks in by_mode.values() for k in ks} | set(SECOND_ORDER)
    return tuple(k for k in KINDS if k in chosen or k not in tied)


class CheckFailure(AssertionError):
    """A check failed or errored; the message names derivation, input, worst entry,
    expected vs actual, that entry's error and its share of the tolerance."""


def _names(values: Sequence[str], valid: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    names = tuple(values)
    unknown = [v for v in names if v not in valid]
    if unknown or not names:
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown)) or '(none given)'}; valid: {', '.join(valid)}")
    return names


def _implementation_name(fn: Callable[..., Any]) -> str:
    """module.qualname; a custom autograd.Function's `apply` is named after the user's class."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type) and getattr(fn, "__name__", "") == "apply":
        return f"{owner.__module__}.{owner.__qualname__}"
    qualname = getattr(fn, "__qualname__", None) or type(fn).__name__
    return f"{getattr(fn, '__module__', None) or '?'}.{qualname}"


def _implementation(
    fn: Callable[..., Any],
    vjp: Callable[..., Any] | None,
    jvp: Callable[..., Any] | None,
    op: Any,
    kind: str,
    label: str,
) -> ImplBackend:
    """The user's functions as a one-op implementation, called in this process (a test's local
    functions cannot be sent to a worker)."""
    module = types.ModuleType(label)
    module.KIND = kind  # type: ignore[attr-defined]
    module.OPS = {op.name: (fn, vjp, jvp) if kind == "numpy" else fn}  # type: ignore[attr-defined]
    backend = ImplBackend(InProcess(label, {**CONVENTIONS, op.name: Convention.of(op)}, module))
    if backend.descriptor.problems:
        raise TypeError("; ".join(backend.descriptor.problems))
    return backend


def _array_text(a: np.ndarray) -> str:
    return np.array2string(np.asarray(a), precision=17, separator=", ", threshold=64)


def _message(rec: Mapping[str, Any], example: Any) -> str:
    lines = [f"gradproof: {rec['verdict']} {rec['id']}", f"  {rec['message']}", f"  input (region {example.region}):"]
    lines += [f"    {k} = {_array_text(v)}" for k, v in example.arrays.items()]
    if example.params:
        lines.append(f"    parameters {example.params}")
    failure = rec.get("failure") or {}
    if "worst_index" in failure:
        lines.append(
            f"  worst entry {failure['worst_index']}: expected {failure['expected']!r}, actual {failure['actual']!r}"
        )
        lines.append(f"  {rec['tolerance_usage']!r} × the tolerance {failure['tolerance']!r} at that entry")
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


def _raise_on_failure(records: Sequence[Mapping[str, Any]], example: Any) -> None:
    bad = [r for r in records if r["verdict"] in ("fail", "error")]
    if bad:
        raise CheckFailure(_message(bad[0], example))


def _skip_unless_available(backend: ImplBackend, dtypes: Sequence[str], device: str) -> None:
    reasons = {
        backend.unavailable(Target(dv, dt)) for dv, dt in backend.descriptor.targets if dt in dtypes and dv == device
    }
    if None not in reasons:
        raise unittest.SkipTest("; ".join(sorted(r for r in reasons if r)) or f"no {device} target for {dtypes}")


class _Session:
    """One check() call's records, merged per check id over hypothesis' examples."""

    def __init__(self, pipeline: Pipeline, op: Any) -> None:
        self.pipeline, self.op = pipeline, op
        self.merged: dict[str, dict[str, Any]] = {}
        self.seen: list[Any] = []

    def keep(self, records: Sequence[Mapping[str, Any]], example: Any) -> None:
        for rec in records:
            self.merged[str(rec["id"])] = recording.merge(self.merged.get(str(rec["id"])), rec)
        _raise_on_failure(records, example)

    def one(self, example: Any) -> None:
        self.seen.append(example)
        self.keep(self.pipeline.values(self.op, [example]), example)

    def conformance(self) -> None:
        if self.seen:
            self.keep(self.pipeline.conformance(self.op, self.seen), self.seen[0])


def _within(
    d: Any, sizes: Sequence[tuple[int, ...]], drawn: Sequence[Sequence[Example]], dtypes: Sequence[str], budget: float
) -> None:
    """Raise ValueError when checking the examples drawn at `sizes` is estimated to take over `budget` seconds."""
    found = [
        (f"{d.name} at shape {shape_text(size)}", check_cost.estimate(d, examples, dtypes, implementations=1))
        for size, examples in zip(sizes, drawn, strict=True)
    ]
    problem = check_cost.over_budget(found, budget, f"budget={budget:g} s")
    if problem:
        raise ValueError(problem)


def _visit(
    session: _Session,
    d: Any,
    regions: Sequence[str],
    drawn: Sequence[Sequence[Example]] | None,
    *,
    seed: int | None,
    count: int,
) -> None:
    """Every region's examples: those drawn with NumPy at each chosen size, or hypothesis' small ones."""
    if drawn is not None:
        for examples in drawn:
            for example in examples:
                session.one(example)
        return
    run_settings = settings(
        max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
    )
    for region in regions:
        # A fresh function per region: hypothesis decorates each test function once.
        test = run_settings(given(_inputs(d, region=region))(lambda example: session.one(example)))
        # Drawn from the seed alone, not from whichever local modules this test process imported so far.
        with no_local_constants():
            (hypothesis_seed(seed)(test) if seed is not None else test)()


def check(
    fn: Callable[..., Any],
    derivation: str | Any,
    *,
    vjp: Callable[..., Any] | None = None,
    jvp: Callable[..., Any] | None = None,
    kind: str | None = None,
    modes: Sequence[str] = ("rev", "fwd"),
    order: int = 1,
    dtypes: Sequence[str] = ("float32", "float64"),
    device: str = "cpu",
    checks: Sequence[str] = KINDS,
    regions: Sequence[str] | None = None,
    max_examples: int | None = None,
    seed: int | None = None,
    name: str | None = None,
    shapes: Sequence[Sequence[int]] | None = None,
    budget: float | None = None,
) -> list[dict[str, Any]]:
    """Check `fn` against the catalog op `derivation` (any of them: `gradproof list`, or an op of
    your own from gradproof.op); raise
    CheckFailure on the first failing check, after hypothesis has shrunk its input. Returns the
    records (one per check).

    With `vjp`, `fn(*inputs, **params)` and `vjp(*inputs, cotangent, **params)` are NumPy
    functions, and vjp returns one gradient per input: a tuple in input order, a dict by input
    name, None for an input that is not differentiable, or a bare array for a one-input op
    (`gradproof list --params` shows each op's). Without it, `fn` is a torch callable checked
    through autograd (`kind="jax"` for a JAX function). Every region of the op is visited
    (`regions` picks some) with `max_examples` inputs each; `seed` fixes hypothesis' draws.

    `modes` picks reverse mode ("rev": vjp, projection, jacobian) and forward mode ("fwd": jvp
    against the exact J u, and transpose, <v, J u> = <J^T v, u>). Forward mode runs where there
    is a jvp: NumPy functions with `jvp(*inputs, *tangents, **params)`, torch callables through
    forward-mode AD (a custom autograd.Function with its own jvp), JAX functions through jax.jvp.
    `order=2` adds second derivatives against the exact H(w) v, for the closed-form ops: the double
    backward ("vjp-of-vjp": create_graph in torch, jax.vjp of jax.vjp) and, with both modes, the
    Hessian-vector product of forward over reverse ("hvp"). NumPy functions give no second order.

    `shapes=[(4096, 64), ...]` checks every region at each of these sizes instead of hypothesis' small
    shapes: `max_examples` inputs per region and shape (default 1), drawn with NumPy from `seed` (default
    0). A shape is the op's first input's (z, yhat, x): the other inputs follow the op's layout, and a
    program's other axes and parameters (conv2d's kernel, stride and padding) are drawn as usual, fitting
    it (harness/chosen_shapes.py). Each example is tagged `shape=4096x64`. A shape the op cannot take
    raises ValueError with one line. With `budget=SECONDS` too, a check whose estimated time (as `verify
    --shape ... --budget` estimates it, harness/check_cost.py) is over it raises ValueError before any
    call into `fn`, saying the estimate.
    """
    d = _op(derivation)
    if not callable(fn) or (vjp is not None and not callable(vjp)):
        raise TypeError("gradproof.check needs a callable forward (and, if given, a callable vjp)")
    kind = kind or ("numpy" if vjp is not None else "torch")
    _names(kind, IMPLEMENTATION_KINDS, "kind")
    dtypes = _names(dtypes, tuple(FORMATS), "dtype")
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; valid: {', '.join(DEVICES)}")
    if order not in (1, 2):
        raise ValueError(f"order is 1 or 2, not {order!r}")
    kinds = tuple(k for k in _names(checks, KINDS, "check") if k in _mode_kinds(_names(modes, MODES, "mode"), order))
    chosen = _names(regions, _regions(d), "region") if regions is not None else _regions(d)
    sizes = [chosen_shapes.as_shape(d, s) for s in shapes] if shapes is not None else None
    if sizes == []:
        raise ValueError("shapes needs one shape or more, like [(4096, 64)]")
    if sizes is not None and regions is None:  # a closed form's shape region adds nothing at a chosen shape
        chosen = tuple(r.name for r in chosen_shapes.chosen_regions(d))
    if budget is not None and sizes is None:
        raise ValueError("budget goes with shapes: it is checked against an estimate at those sizes")
    count = _examples_per_region(max_examples)
    if kind == "numpy" and device != "cpu":
        raise ValueError("NumPy functions run on the cpu device only")
    if jvp is not None and (kind != "numpy" or not callable(jvp)):
        raise TypeError("gradproof.check's jvp goes with NumPy functions (vjp=...): a callable jvp(*inputs, *tangents)")
    backend = _implementation(fn, vjp, jvp, d, kind, name or _implementation_name(fn))
    _skip_unless_available(backend, dtypes, device)
    # The CLI cannot rerun a user's function; their test can.
    where = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    rerun = shlex.join(("pytest", where)) if where else None
    options = RunOptions(
        seed=0, profile="default", dtypes=dtypes, devices=(device,), kinds=kinds, fd_oracle=False, reproduce=rerun
    )
    drawn = None
    if sizes is not None:
        per_region = max_examples or 1
        drawn = [chosen_shapes.examples_at(d, s, seed=seed or 0, count=per_region, regions=chosen) for s in sizes]
        if budget is not None:
            _within(d, sizes, drawn, dtypes, budget)
    session = _Session(Pipeline([backend], options), d)
    try:
        _visit(session, d, chosen, drawn, seed=seed, count=count)
        session.conformance()
    finally:
        recording.record(d, session.seen, list(session.merged.values()))
    return list(session.merged.values())
