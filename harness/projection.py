"""The projection check of any op: v^T (J u) by finite differences of the backend's own forward
against <VJP(v), u>, for independent Gaussian pairs (u, v), u running through every differentiable
input at once; and the finite-difference oracle of a program, judged the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from derivations.model import ClosedForm
from harness import compare, finite_diff
from harness.backends.base import Backend, Target, stack_inputs
from harness.cases import Case
from harness.checks import FD_SAFETY, PROJECTION_DIRECTIONS, Outcome, forward_noise, gradients

STEP_TRIES = 4
STEP_TRIES_KINKED = 8  # down to h / 4^7 for inputs near a kink


class KinkedStencil(ValueError):
    """No finite-difference step stays on one smooth piece: nothing to measure here."""


@dataclass(frozen=True)
class Directions:
    """v^T (J u) by finite differences for Gaussian directions u, with each estimate's own error bound."""

    names: list[str]  # the differentiable inputs, in the order u runs through them
    u: np.ndarray
    lhs: np.ndarray
    error: np.ndarray
    usable: np.ndarray  # False where every step tried crossed onto another piece


def _pairs(case: Case, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Independent Gaussian directions u (over all differentiable inputs, flattened in input order) and
    cotangents v, from the case's seed. A closed form's kinks are known: u is 0 next to them (within the
    step h), which leaves those entries to the VJP check's subgradient sets."""
    size = sum(case.arrays[i.name].size for i in case.op.differentiable)
    rng = np.random.default_rng(case.rng_seed)
    u = rng.standard_normal((PROJECTION_DIRECTIONS, size))
    v = rng.standard_normal((PROJECTION_DIRECTIONS, *case.reference.forward.shape))
    if isinstance(case.op.engine, ClosedForm):  # its kinks are the stated input's, the first in u
        kinks = [k.at for k in case.op.engine.kinks]
        smooth = finite_diff.smooth(case.x, kinks, h).astype(np.float64).reshape(-1)
        u[:, : smooth.size] *= smooth
    return case.fmt.round(u), case.fmt.round(v)


Unpack = Callable[[np.ndarray], dict[str, np.ndarray]]


def _flattened(case: Case, names: list[str]) -> tuple[np.ndarray, Unpack, Unpack]:
    """The named inputs as one vector, and its inverses: a vector back into the op's arrays, and a
    batch of vectors into the op's arrays with a leading batch axis (the others copied along it)."""
    spans, start = [], 0  # each input's slice, found once: unpacking runs for every stencil point
    for n in names:
        spans.append((n, start, start + case.arrays[n].size, case.arrays[n].shape))
        start += case.arrays[n].size

    def unpack(flat: np.ndarray) -> dict[str, np.ndarray]:
        arrays = dict(case.arrays)
        for n, lo, hi, shape in spans:
            arrays[n] = flat[lo:hi].reshape(shape)
        return arrays

    def unpack_batch(batch: np.ndarray) -> dict[str, np.ndarray]:
        k = len(batch)
        arrays = {n: np.broadcast_to(a, (k, *np.shape(a))).copy() for n, a in case.arrays.items() if n not in names}
        for n, lo, hi, shape in spans:
            arrays[n] = batch[:, lo:hi].reshape(k, *shape)
        return arrays

    return np.concatenate([case.arrays[n].reshape(-1) for n in names]), unpack, unpack_batch


def _differences(backend: Backend, case: Case, target: Target, u: np.ndarray, v: np.ndarray) -> Directions:
    """All inputs moved together along each u. A closed form takes every stencil point in one stacked
    call; a program is called once per stencil point (25 calls), never once per entry."""
    if case.at_kink:
        raise ValueError("finite differences straddle a kink here; the VJP check judges it")
    op = case.op
    names = [i.name for i in op.differentiable]
    x, unpack, unpack_batch = _flattened(case, names)
    branch = None if isinstance(op.engine, ClosedForm) else op.engine.branch
    home = None if branch is None else branch(case.arrays, case.params)
    if home is not None and home.size == 0:
        home = None  # a smooth input (sigmoid, tanh): one piece, nothing to stay on
    same: list[bool] = []  # per stencil point, in the order the differences evaluate them

    def f(batch: np.ndarray) -> np.ndarray:
        if isinstance(op.engine, ClosedForm):  # every op of the closed forms takes leading batch axes
            return backend.forward(op, unpack_batch(batch), case.params, target)
        rows = [unpack(row) for row in batch]
        if branch is not None and home is not None:
            same.extend(bool(np.array_equal(branch(r, case.params), home)) for r in rows)
        return np.stack([backend.forward(op, r, case.params, target) for r in rows])

    # Products of inputs (w x) make curvature scale with the inputs, so no one step fits every
    # program: try four, each judged by its own estimate and by its distance to the next smaller
    # step, and keep the most accurate per direction. A closed form's one step is fitted to its dtype.
    # A stencil that crosses onto another piece (a ReLU pre-activation changing sign) measures
    # nothing: its candidate is discarded, and smaller steps are tried down to STEP_TRIES_KINKED.
    tries = 1 if isinstance(op.engine, ClosedForm) else STEP_TRIES if home is None else STEP_TRIES_KINKED
    lhs_all: list[np.ndarray] = []
    err_all: list[np.ndarray] = []
    valid_all: list[np.ndarray] = []
    for k in range(tries):
        h = finite_diff.step_for(target.dtype) / 4**k
        same.clear()
        est = finite_diff.directional(
            f,
            x,
            u,
            h=h,
            forward_noise=forward_noise(case),
            relative_noise=case.rho * case.fmt.unit_roundoff,
            round_input=case.fmt.round,
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
    """Per direction, of the steps (axis 0) that stayed on one piece, the one with the least error. A step's
    error is at least its distance to the next smaller step's estimate, and to every smaller step's beyond
    that one's own error: where the function turns over a width below the larger steps (a tanh chain with
    weights of 29, in float32), those steps agree with each other and are all wrong, and only the smallest
    approach the derivative (-59.5, -221, -1806, -2612 against -2645, the first with an error of 415)."""
    err[:-1] = np.maximum(err[:-1], np.abs(lhs[:-1] - lhs[1:]))
    for k in range(len(lhs) - 2):
        beyond = np.where(valid[k + 1 :], np.abs(lhs[k] - lhs[k + 1 :]) - err[k + 1 :], 0.0)
        err[k] = np.maximum(err[k], np.max(beyond, axis=0))
    err = np.where(valid, err, np.inf)
    best = np.argmin(err, axis=0)
    cols = np.arange(PROJECTION_DIRECTIONS)
    usable = valid[best, cols]
    if not usable.any():
        raise KinkedStencil("every step crosses a kink; the VJP check judges this input")
    return Directions(names, u, lhs[best, cols], err[best, cols], usable)


def _judge(case: Case, d: Directions, grads: list[dict[str, np.ndarray]]) -> Outcome:
    """Each direction's v^T (J u) from differences against <gradient of v, u>, within the estimate's error."""
    flat = np.array([np.concatenate([np.asarray(g[n], dtype=np.float64).reshape(-1) for n in d.names]) for g in grads])
    rhs = np.sum(flat * d.u, axis=1)
    mag = np.sum(np.abs(flat * d.u), axis=1)
    fmt = case.fmt
    tol = FD_SAFETY * d.error + case.rho * fmt.unit_roundoff * (np.abs(d.lhs) + mag) + case.rho * fmt.tiny
    return Outcome(compare.measure(rhs[d.usable], d.lhs[d.usable], tol[d.usable], fmt), {})


def _gradients_along(backend: Backend, case: Case, v: np.ndarray, target: Target) -> list[dict[str, np.ndarray]]:
    """The backend's gradients for each cotangent v[k]: a closed form's in one stacked call."""
    if not isinstance(case.op.engine, ClosedForm):
        return [gradients(backend, case, v[k], target) for k in range(len(v))]
    name = case.op.wrt.name
    batch = stack_inputs(case.arrays, name, np.broadcast_to(case.x, (len(v), *case.x.shape)).copy())
    got = backend.vjp(case.op, batch, case.params, v, target)
    g: dict[str, np.ndarray] = got if isinstance(got, dict) else {name: got}
    return [{n: g[n][k] for n in g} for k in range(len(v))]


def projection(backend: Backend, case: Case, target: Target) -> Outcome:
    u, v = _pairs(case, finite_diff.step_for(target.dtype))
    d = _differences(backend, case, target, u, v)
    return _judge(case, d, _gradients_along(backend, case, v, target))


def fd_oracle(reference: Backend, case: Case, target: Target) -> Outcome:
    """Finite differences as an oracle of their own: c^T (J u) from the reference's forward
    against <exact VJP of c, u>, within their own error estimate."""
    u, _ = _pairs(case, finite_diff.step_for(target.dtype))
    d = _differences(reference, case, target, u, np.broadcast_to(case.cotangent, (len(u), *case.cotangent.shape)))
    return _judge(case, d, [case.exact_vjp] * PROJECTION_DIRECTIONS)
