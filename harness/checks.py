"""The four checks of one backend at one input: value, VJP, projection and Jacobian."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness import compare, finite_diff
from harness.backends.base import Backend, Target, stack_inputs
from harness.backends.finite_differences import FiniteDifferenceBackend
from harness.cases import Case as AnyCase

Case = AnyCase  # the closed-form case
KINDS = ("forward", "vjp", "projection", "jacobian")
PROJECTION_DIRECTIONS = 4
FD_SAFETY = 4.0  # the FD error estimate is trusted to within this factor


@dataclass(frozen=True)
class Outcome:
    measurement: compare.Measurement
    conventions: dict[str, list[float]]
    where: str = ""  # which input the worst entry belongs to, when an op has several


def _forward_tolerance(case: Case) -> np.ndarray:
    ref = case.reference
    return compare.tolerance(ref.forward, ref.forward_sensitivity + case.op.closed_form.floor, case.fmt, case.rho)


def _vjp_tolerance(case: Case) -> np.ndarray:
    ref = case.reference
    c = np.abs(case.cotangent)
    per_entry = c[..., None] if case.op.closed_form.reduces else c
    return compare.tolerance(ref.vjp, ref.vjp_sensitivity + case.op.closed_form.floor * per_entry, case.fmt, case.rho)


def forward(backend: Backend, case: Case, target: Target) -> Outcome:
    got = backend.forward(case.op, case.arrays, case.params, target)
    return Outcome(compare.measure(got, case.reference.forward, _forward_tolerance(case), case.fmt), {})


def vjp(backend: Backend, case: Case, target: Target) -> Outcome:
    got = backend.vjp(case.op, case.arrays, case.params, case.cotangent, target)
    ref = case.reference
    tol = _vjp_tolerance(case)
    allowed = compare.kink_sets(case.op, case.x, case.params, case.cotangent)
    m = compare.measure(got, ref.vjp, tol, case.fmt, allowed=allowed)
    return Outcome(m, compare.chosen_subgradients(case.op, case.x, case.cotangent, np.asarray(got)))


def _smooth_mask(case: Case, h: float) -> np.ndarray:
    """1 where finite differences can see the derivative, 0 next to kinks (left to the
    subgradient sets of the VJP check)."""
    return finite_diff.smooth(case.x, [k.at for k in case.op.closed_form.kinks], h).astype(np.float64)


def _fd_forward(backend: Backend, case: Case, target: Target) -> finite_diff.Forward:
    def f(x_batch: np.ndarray) -> np.ndarray:
        return backend.forward(case.op, stack_inputs(case.arrays, case.op.wrt.name, x_batch), case.params, target)

    return f


def _forward_noise(case: Case) -> finite_diff.Noise:
    """How noisy the backend's forward is: the model's bound, or its observed error when worse.

    A forward less accurate than the model is the forward check's finding; here it only
    widens the finite differences so that the backward is judged against what it can be.
    """

    def noise(at_x: np.ndarray) -> np.ndarray:
        observed = np.abs(at_x - case.reference.forward)
        return np.maximum(_forward_tolerance(case), np.where(np.isfinite(observed), observed, 0.0))

    return noise


def projection(backend: Backend, case: Case, target: Target) -> Outcome:
    """v^T (J u) by finite differences of the backend's own forward against (v^T J) u from its
    backward, for independent Gaussian pairs (u, v): O(1) stacked calls."""
    h = finite_diff.step_for(target.dtype)
    rng = np.random.default_rng(case.rng_seed)
    d_count = PROJECTION_DIRECTIONS
    u = rng.standard_normal((d_count, *case.x.shape)) * _smooth_mask(case, h)
    v = rng.standard_normal((d_count, *case.reference.forward.shape))
    u = case.fmt.round(u)
    v = case.fmt.round(v)
    est = finite_diff.directional(
        _fd_forward(backend, case, target),
        case.x,
        u,
        h=h,
        forward_noise=_forward_noise(case),
        relative_noise=case.rho * case.fmt.unit_roundoff,
        round_input=case.fmt.round,
    )
    axes = tuple(range(1, est.value.ndim))
    lhs = np.sum(v * est.value, axis=axes)
    lhs_err = np.sum(np.abs(v) * est.error, axis=axes)
    batch = stack_inputs(case.arrays, case.op.wrt.name, np.broadcast_to(case.x, u.shape).copy())
    g = backend.vjp(case.op, batch, case.params, v, target)
    gax = tuple(range(1, np.ndim(g)))
    rhs = np.sum(g * u, axis=gax)
    u_roundoff = case.fmt.unit_roundoff * case.rho
    tol = FD_SAFETY * lhs_err + u_roundoff * (np.abs(lhs) + np.sum(np.abs(g * u), axis=gax)) + case.rho * case.fmt.tiny
    return Outcome(compare.measure(rhs, lhs, tol, case.fmt), {})


def jacobian(backend: Backend, case: Case, target: Target) -> Outcome:
    """Every Jacobian entry the derivation's structure allows: finite differences along one
    direction per colour (all entries of an elementwise op together, column j of every row
    together) against the backward applied to the matching output colours, each side in
    one stacked call. Entries outside the structure are the projection check's business."""
    fd = FiniteDifferenceBackend(backend).jacobian(
        case.op,
        case.arrays,
        case.params,
        target,
        forward_noise=_forward_noise(case),
        relative_noise=case.rho * case.fmt.unit_roundoff,
    )
    j_fd, j_err = fd.value, fd.error
    mask = fd.smooth.astype(np.float64)
    out_shape = case.reference.forward.shape
    # Random scales, not ones: a backward that ignores its cotangent must not pass here.
    rng = np.random.default_rng(case.rng_seed)
    scale = case.fmt.round(rng.choice([-1.0, 1.0], out_shape) * rng.uniform(0.5, 2.0, out_shape))
    if case.op.structure == "elementwise" or case.op.closed_form.reduces:
        cot = scale[None]
    else:
        cot = finite_diff.colours(out_shape, "row") * scale[None]
    batch = stack_inputs(case.arrays, case.op.wrt.name, np.broadcast_to(case.x, (cot.shape[0], *case.x.shape)).copy())
    grads = np.asarray(backend.vjp(case.op, batch, case.params, cot, target)) * mask
    if case.op.structure == "elementwise":
        j_bk = grads[0] / scale
    elif case.op.closed_form.reduces:
        j_bk = (grads[0] / scale[..., None])[..., None, :]
    else:
        # grads[i] = scale_i(row) * d out_i / d x: divide each colour by its row's scale.
        per_colour = np.moveaxis(scale, -1, 0)[..., None]  # (outputs, *lead, 1)
        j_bk = np.moveaxis(grads / per_colour, 0, -2)  # (*lead, outputs, n)
    tol = (
        FD_SAFETY * j_err + case.rho * case.fmt.unit_roundoff * (np.abs(j_fd) + np.abs(j_bk)) + case.rho * case.fmt.tiny
    )
    return Outcome(compare.measure(j_bk, j_fd, tol, case.fmt), {})


RUNNERS = {"forward": forward, "vjp": vjp, "projection": projection, "jacobian": jacobian}
FD_KINDS = ("projection", "jacobian")


def fd_oracle(fd: FiniteDifferenceBackend, case: Case, target: Target) -> Outcome:
    """Finite differences as an oracle of their own: the VJP they estimate for a backend's
    forward against the exact VJP, within their own error estimate."""
    est = fd.estimate(
        case.op,
        case.arrays,
        case.params,
        case.cotangent,
        target,
        forward_noise=_forward_noise(case),
        relative_noise=case.rho * case.fmt.unit_roundoff,
    )
    tol = FD_SAFETY * est.error + _vjp_tolerance(case)
    return Outcome(compare.measure(est.value, case.reference.vjp, tol, case.fmt), {})
