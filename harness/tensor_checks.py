"""The checks of one backend at one tensor-op input: value, VJP of every input, projection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from harness import compare, finite_diff
from harness.backends.base import Backend, Target
from harness.cases import Case
from harness.checks import FD_SAFETY, PROJECTION_DIRECTIONS, Outcome

TensorCase = Case  # the program case
KINDS = ("forward", "vjp", "projection")
STEP_TRIES = 4
STEP_TRIES_KINKED = 8  # down to h / 4^7 for inputs near a kink


class KinkedStencil(ValueError):
    """No finite-difference step stays on one smooth piece: nothing to measure here."""


def _passed() -> compare.Measurement:
    return compare.Measurement(0.0, 0.0, 0.0, 0.0, (), 0.0, 0.0, 0.0, False)


def _outside(reason_index: tuple[int, ...]) -> compare.Measurement:
    return compare.Measurement(np.inf, np.inf, np.inf, np.inf, reason_index, np.nan, np.nan, 0.0, False)


def forward(backend: Backend, case: TensorCase, target: Target) -> Outcome:
    got = backend.forward(case.op, case.arrays, case.params, target)  # type: ignore[arg-type]
    ref = case.reference.forward
    return Outcome(compare.measure(got, ref, case.tolerance("out", ref), case.fmt), {})


def _grads(backend: Backend, case: TensorCase, cotangent: np.ndarray, target: Target, arrays: Any = None) -> Any:
    got = backend.vjp(case.op, case.arrays if arrays is None else arrays, case.params, cotangent, target)  # type: ignore[arg-type]
    if not isinstance(got, dict):
        raise TypeError(f"{case.op.name}: the VJP must give one gradient per input, got {type(got).__name__}")
    missing = [i.name for i in case.op.differentiable if got.get(i.name) is None]
    if missing:
        raise ValueError(f"{case.op.name}: no gradient for {', '.join(missing)}")
    return got


def vjp(backend: Backend, case: TensorCase, target: Target) -> Outcome:
    got = _grads(backend, case, case.cotangent, target)
    ref = case.reference
    if ref.at_kink:
        # A subgradient set holds finite values only; a rule's comparisons are all false for NaN.
        bad = compare.nonfinite_entry({i.name: got[i.name] for i in case.op.differentiable})
        if bad is not None:
            name, index, value = bad
            nan = compare.Measurement(np.inf, np.inf, np.inf, np.inf, index, np.nan, value, 0.0, True)
            return Outcome(nan, {}, where=name)
        rule = case.op.program.subgradient_ok
        if rule is None:
            raise ValueError(f"{case.op.name}: input at a kink and the op declares no subgradient rule")
        picked = rule(case.arrays, case.params, case.cotangent, got, case.rho * case.fmt.unit_roundoff)
        if picked is None:
            return Outcome(_outside(()), {}, where=f"outside the subgradient set ({case.op.tie_rule})")
        return Outcome(_passed(), {case.op.tie_rule or "kink": [picked]})  # type: ignore[list-item]
    worst: compare.Measurement | None = None
    where = ""
    for inp in case.op.differentiable:
        exact = ref.vjp[inp.name]
        m = compare.measure(got[inp.name], exact, case.tolerance(inp.name, exact), case.fmt)
        if worst is None or m.usage > worst.usage or (m.nonfinite and not worst.nonfinite):
            worst, where = m, inp.name
    assert worst is not None
    return Outcome(worst, {}, where=where)


@dataclass(frozen=True)
class Directions:
    """v^T (J u) by finite differences for Gaussian directions u, with each estimate's own error bound."""

    names: list[str]  # the differentiable inputs, in the order u runs through them
    u: np.ndarray
    lhs: np.ndarray
    error: np.ndarray
    usable: np.ndarray  # False where every step tried crossed onto another piece


def _pairs(case: TensorCase) -> tuple[np.ndarray, np.ndarray]:
    """Independent Gaussian directions u (over all differentiable inputs) and cotangents v, from the case's seed."""
    size = sum(case.arrays[i.name].size for i in case.op.differentiable)
    rng = np.random.default_rng(case.rng_seed)
    u = case.fmt.round(rng.standard_normal((PROJECTION_DIRECTIONS, size)))
    return u, case.fmt.round(rng.standard_normal((PROJECTION_DIRECTIONS, *case.reference.forward.shape)))


def _differences(backend: Backend, case: TensorCase, target: Target, u: np.ndarray, v: np.ndarray) -> Directions:
    """All inputs moved together along each u; the forward is called once per stencil point (25 calls),
    never once per entry."""
    if case.reference.at_kink:
        raise ValueError("finite differences straddle a kink here; the VJP check judges it")
    op, fmt = case.op, case.fmt
    names = [i.name for i in op.differentiable]
    x = np.concatenate([case.arrays[n].reshape(-1) for n in names])
    spans, start = [], 0  # each input's slice of x, found once: unpacking runs for every stencil point
    for n in names:
        spans.append((n, start, start + case.arrays[n].size, case.arrays[n].shape))
        start += case.arrays[n].size

    def unpack(flat: np.ndarray) -> dict[str, np.ndarray]:
        arrays = dict(case.arrays)
        for n, lo, hi, shape in spans:
            arrays[n] = flat[lo:hi].reshape(shape)
        return arrays

    home = None if op.program.branch is None else op.program.branch(case.arrays, case.params)
    if home is not None and home.size == 0:
        home = None  # a smooth input (sigmoid, tanh): one piece, nothing to stay on
    same: list[bool] = []  # per stencil point, in the order the differences evaluate them

    def f(batch: np.ndarray) -> np.ndarray:
        rows = [unpack(row) for row in batch]
        if home is not None:
            same.extend(bool(np.array_equal(op.program.branch(r, case.params), home)) for r in rows)  # type: ignore[misc]
        return np.stack([backend.forward(op, r, case.params, target) for r in rows])  # type: ignore[arg-type]

    tol_out = case.tolerance("out", case.reference.forward)

    def noise(at_x: np.ndarray) -> np.ndarray:
        observed = np.abs(at_x - case.reference.forward)
        return np.maximum(tol_out, np.where(np.isfinite(observed), observed, 0.0))

    # Products of inputs (w x) make curvature scale with the inputs, so no one step fits every
    # op: try four, each judged by its own estimate and by its distance to the next smaller
    # step, and keep the most accurate per direction.
    # A stencil that crosses onto another piece (a ReLU pre-activation changing sign) measures
    # nothing: its candidate is discarded, and smaller steps are tried down to STEP_TRIES_KINKED.
    lhs_all: list[np.ndarray] = []
    err_all: list[np.ndarray] = []
    valid_all: list[np.ndarray] = []
    for k in range(STEP_TRIES if home is None else STEP_TRIES_KINKED):
        h = finite_diff.step_for(target.dtype) / 4**k
        same.clear()
        est = finite_diff.directional(
            f, x, u, h=h, forward_noise=noise, relative_noise=case.rho * fmt.unit_roundoff, round_input=fmt.round
        )
        axes = tuple(range(1, est.value.ndim))
        lhs_all.append(np.sum(v * est.value, axis=axes))
        err_all.append(np.sum(np.abs(v) * est.error, axis=axes))
        if home is None:
            valid_all.append(np.ones(PROJECTION_DIRECTIONS, dtype=bool))
        else:
            stencil = np.array(same[: 6 * PROJECTION_DIRECTIONS]).reshape(PROJECTION_DIRECTIONS, 6)
            valid_all.append(np.asarray(stencil.all(axis=1)))
    return _most_accurate(names, u, np.array(lhs_all), np.array(err_all), np.array(valid_all))


def _most_accurate(names: list[str], u: np.ndarray, lhs: np.ndarray, err: np.ndarray, valid: np.ndarray) -> Directions:
    """Per direction, of the steps (axis 0) that stayed on one piece, the one with the least error."""
    err[:-1] = np.maximum(err[:-1], np.abs(lhs[:-1] - lhs[1:]))
    err = np.where(valid, err, np.inf)
    best = np.argmin(err, axis=0)
    cols = np.arange(PROJECTION_DIRECTIONS)
    usable = valid[best, cols]
    if not usable.any():
        raise KinkedStencil("every step crosses a kink; the VJP check judges this input")
    return Directions(names, u, lhs[best, cols], err[best, cols], usable)


def _judge(case: TensorCase, d: Directions, grads: list[dict[str, np.ndarray]]) -> Outcome:
    """Each direction's v^T (J u) from differences against <gradient of v, u>, within the estimate's error."""
    flat = [np.concatenate([np.asarray(g[n], dtype=np.float64).reshape(-1) for n in d.names]) for g in grads]
    rhs = np.array([float(np.sum(f * u)) for f, u in zip(flat, d.u, strict=True)])
    mag = np.array([float(np.sum(np.abs(f * u))) for f, u in zip(flat, d.u, strict=True)])
    fmt = case.fmt
    tol = FD_SAFETY * d.error + case.rho * fmt.unit_roundoff * (np.abs(d.lhs) + mag) + case.rho * fmt.tiny
    return Outcome(compare.measure(rhs[d.usable], d.lhs[d.usable], tol[d.usable], fmt), {})


def projection(backend: Backend, case: TensorCase, target: Target) -> Outcome:
    """v^T (J u) by finite differences of the backend's own forward against sum over inputs of
    <VJP(v), u>, for independent Gaussian pairs (u, v)."""
    u, v = _pairs(case)
    d = _differences(backend, case, target, u, v)
    return _judge(case, d, [_grads(backend, case, v[k], target) for k in range(PROJECTION_DIRECTIONS)])


def fd_oracle(reference: Backend, case: TensorCase, target: Target) -> Outcome:
    """Finite differences as an oracle of their own: c^T (J u) from the reference's forward
    against <exact VJP of c, u>, within their own error estimate."""
    u, _ = _pairs(case)
    d = _differences(reference, case, target, u, np.broadcast_to(case.cotangent, (len(u), *case.cotangent.shape)))
    return _judge(case, d, [case.reference.vjp] * PROJECTION_DIRECTIONS)


RUNNERS = {"forward": forward, "vjp": vjp, "projection": projection}
FD_KINDS = ("projection",)
