"""Checks of an implementation's behaviour beyond its values: dtype and shape of what it
returns, arguments changed in place, two identical calls that differ, and a backward that is
not linear in its cotangent. None needs the exact reference: each compares the
implementation with itself, so a correct one passes bitwise (up to subnormal rounding)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from derivations.model import Example, Op, Program
from harness import cases
from harness.backends.base import Target
from harness.choices import CONFORMANCE_CHECKS
from harness.dtypes import Format, get_format
from harness.group_run import check_record, input_summary
from harness.impl.backend import ImplBackend
from harness.impl.contract import Raw
from harness.options import RunOptions, seed_of
from harness.records import CheckRecord

KINDS = CONFORMANCE_CHECKS


class Nonconformance(Exception):
    """One conformance property does not hold; the message says which and where."""


class Probe:
    """One example at one target, with the calls every conformance check shares."""

    def __init__(self, backend: ImplBackend, d: Op, ex: Example, target: Target, seed: int) -> None:
        self.backend, self.d, self.target = backend, d, target
        self.fmt: Format = get_format(target.dtype)
        self.arrays = {k: self.fmt.round(v) for k, v in ex.arrays.items()}
        self.params = dict(ex.params)
        self.out_shape = cases.output_shape(d, self.arrays, self.params)
        self.rho = cases.roundings(d, self.arrays, self.params)
        self.rng = np.random.default_rng(seed)
        self.cotangent = self.fmt.round(self.rng.standard_normal(self.out_shape))
        self.wrt = [k for k, i in enumerate(d.inputs) if i.differentiable]

    def forward(self) -> Raw:
        return self.backend.raw_forward(self.d, self.arrays, self.params, self.target)

    def vjp(self, cotangent: np.ndarray | None = None) -> Raw:
        c = self.cotangent if cotangent is None else cotangent
        return self.backend.raw_vjp(self.d, self.arrays, self.params, c, self.target)

    def grads(self, raw: Raw) -> list[np.ndarray]:
        return [np.asarray(raw.values[k]) for k in self.wrt]

    def allowed(self, value: np.ndarray) -> np.ndarray:
        """How far two values that should agree may differ: rounding at subnormal size, plus
        the ULPs the implementation declares as its nondeterminism."""
        ulps = self.backend.descriptor.nondeterminism_ulps
        return self.rho * self.fmt.tiny + ulps * self.fmt.ulp(value)


def _dtype_shape(p: Probe) -> None:
    fwd = p.forward()
    want = p.target.dtype
    if fwd.dtypes[0] != want or fwd.shapes[0] != p.out_shape:
        raise Nonconformance(f"forward returned {fwd.dtypes[0]} {fwd.shapes[0]}; expected {want} {p.out_shape}")
    raw = p.vjp()
    for k in p.wrt:
        name = p.d.inputs[k].name
        shape = p.arrays[name].shape
        if raw.dtypes[k] != want or raw.shapes[k] != shape:
            raise Nonconformance(f"gradient for {name!r} is {raw.dtypes[k]} {raw.shapes[k]}; expected {want} {shape}")


def _inplace(p: Probe) -> None:
    for what, raw in (("forward", p.forward()), ("vjp", p.vjp())):
        if raw.modified:
            raise Nonconformance(f"{what} changed its argument(s) {', '.join(raw.modified)} in place")


def _differ(what: str, a: np.ndarray, b: np.ndarray, allowed: np.ndarray) -> str | None:
    if a.shape != b.shape:
        return f"{what}: shapes {a.shape} and {b.shape}"
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):  # inf - inf: not the same, and not close either
        bad = ~same & ~(np.abs(a - b) <= allowed)
    if not np.any(bad):
        return None
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{what}: entry {list(idx)} is {a[idx]!r} and {b[idx]!r}"


def _determinism(p: Probe) -> None:
    for what, call in (("forward", p.forward), ("vjp", p.vjp)):
        first, second = call(), call()
        for a, b in zip(first.values, second.values, strict=True):
            if a is None or b is None:
                continue
            problem = _differ(what, a, b, p.allowed(a))
            if problem:
                raise Nonconformance(f"two identical calls differ ({problem})")


def _split_mask(p: Probe) -> np.ndarray | None:
    """A random 0/1 mask over whole output rows: a row of a row op goes to one part or the other.

    None for a tensor op: one input entry gathers many output entries (a matrix product, a
    convolution), so the two parts' sum rounds differently from the whole and no mask is exact."""
    if isinstance(p.d.engine, Program):
        return None
    row_op = p.d.structure == "row" and not p.d.closed_form.reduces
    shape = (*p.out_shape[:-1], 1) if row_op and p.out_shape else p.out_shape
    return np.broadcast_to(p.rng.integers(0, 2, shape).astype(np.float64), p.out_shape)


def _cotangent(p: Probe) -> None:
    """vjp(-2c) = -2 vjp(c) exactly (scaling by a power of two rounds nothing), and
    vjp(c m) + vjp(c (1 - m)) = vjp(c) for a mask m over whole rows (each row's part is exact;
    elementwise and row ops only)."""
    c = p.cotangent
    g = p.grads(p.vjp())
    g_scaled = p.grads(p.vjp(-2.0 * c))
    if all(np.array_equal(a, b) for a, b in zip(g, g_scaled, strict=True)) and any(np.any(a != 0) for a in g):
        raise Nonconformance("the backward ignores its cotangent: vjp(-2c) equals vjp(c)")
    for a, b in zip(g, g_scaled, strict=True):
        problem = _differ("vjp(-2c) against -2 vjp(c)", b, -2.0 * a, p.allowed(2 * a))
        if problem:
            raise Nonconformance(f"the backward is not linear in its cotangent ({problem})")
    m = _split_mask(p)
    if m is None:
        return
    g1, g2 = p.grads(p.vjp(c * m)), p.grads(p.vjp(c * (1 - m)))
    for a, b, whole in zip(g1, g2, g, strict=True):
        problem = _differ("vjp(c m) + vjp(c (1-m)) against vjp(c)", a + b, whole, p.allowed(whole))
        if problem:
            raise Nonconformance(f"the backward mixes rows of its cotangent ({problem})")


CHECKS: dict[str, Callable[[Probe], None]] = {
    "dtype-shape": _dtype_shape,
    "inplace": _inplace,
    "determinism": _determinism,
    "cotangent": _cotangent,
}


def run(
    backend: ImplBackend,
    d: Op,
    examples: Sequence[Example],
    options: RunOptions,
    kinds: Sequence[str] = KINDS,
    skip_reason: Callable[[str], str | None] = lambda check_id: None,
) -> list[CheckRecord]:
    """One record per target and conformance check, over every example; the first problem
    found is the check's `fail`, an exception its `error`."""
    records: list[CheckRecord] = []
    if not backend.provides(d):
        return records
    for target in backend.targets():
        if options.dtypes is not None and target.dtype not in options.dtypes:
            continue
        if options.devices is not None and target.device not in options.devices:
            continue
        for kind in kinds:
            check_id = f"{d.name}-{backend.name}-{target}-{kind}"
            skip = backend.unavailable(target) or skip_reason(check_id)
            if skip:
                records.append(check_record(d, backend.name, target, kind, "skip", message=skip, options=options))
                continue
            records.append(_run_one(backend, d, examples, options, target, kind))
    return records


def _run_one(
    backend: ImplBackend,
    d: Op,
    examples: Sequence[Example],
    options: RunOptions,
    target: Target,
    kind: str,
) -> CheckRecord:
    start = time.perf_counter()
    verdict, message, failed_at = "pass", "", None
    for i, ex in enumerate(examples):
        try:
            CHECKS[kind](Probe(backend, d, ex, target, seed_of(options.seed, d.name, i, target.dtype, kind)))
        except Nonconformance as exc:
            verdict, message, failed_at = "fail", f"{d.name} {kind} on {backend.name}/{target}: {exc}", ex
        except Exception as exc:  # the implementation raised, hung or crashed: this check's error
            verdict, message, failed_at = "error", f"{type(exc).__name__}: {exc}", ex
        if failed_at is not None:
            break
    failure = {"input": input_summary(failed_at, target.dtype)} if failed_at is not None else None
    seconds = time.perf_counter() - start
    return check_record(
        d, backend.name, target, kind, verdict, message=message, options=options, seconds=seconds,
        examples=len(examples), failure=failure,
    )  # fmt: skip
