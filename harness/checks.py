"""The four checks of one backend at one input: value, VJP, projection and Jacobian."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derivations.model import Derivation
from harness import compare, finite_diff
from harness.backends.base import Arrays, Backend, Target
from harness.dtypes import Format
from harness.exact import Reference

KINDS = ("forward", "vjp", "projection", "jacobian")
PROJECTION_DIRECTIONS = 4
FD_SAFETY = 4.0  # the FD error estimate is trusted to within this factor
KINK_MARGIN = 8.0  # entries within this many steps of a kink are left to the subgradient check


@dataclass(frozen=True)
class Case:
    """Everything a check needs about one example at one dtype."""

    d: Derivation
    arrays: Arrays  # rounded to the dtype, held in float64
    params: dict[str, float]
    cotangent: np.ndarray
    reference: Reference
    fmt: Format
    rho: float
    rng_seed: int

    @property
    def x(self) -> np.ndarray:
        return self.arrays[self.d.wrt.name]


@dataclass(frozen=True)
class Outcome:
    measurement: compare.Measurement
    conventions: dict[str, list[float]]


def _stacked(arrays: Arrays, wrt: str, x_batch: np.ndarray) -> Arrays:
    """Inputs with a leading batch axis: `x_batch` for the differentiable one, copies otherwise."""
    k = x_batch.shape[0]
    out = {name: np.broadcast_to(a, (k, *a.shape)).copy() for name, a in arrays.items() if name != wrt}
    out[wrt] = x_batch
    return out


def _forward_tolerance(case: Case) -> np.ndarray:
    ref = case.reference
    return compare.tolerance(ref.forward, ref.forward_sensitivity + case.d.floor, case.fmt, case.rho)


def _vjp_tolerance(case: Case) -> np.ndarray:
    ref = case.reference
    c = np.abs(case.cotangent)
    per_entry = c[..., None] if case.d.reduces else c
    return compare.tolerance(ref.vjp, ref.vjp_sensitivity + case.d.floor * per_entry, case.fmt, case.rho)


def forward(backend: Backend, case: Case, target: Target) -> Outcome:
    got = backend.forward(case.d, case.arrays, case.params, target)
    return Outcome(compare.measure(got, case.reference.forward, _forward_tolerance(case), case.fmt), {})


def vjp(backend: Backend, case: Case, target: Target) -> Outcome:
    got = backend.vjp(case.d, case.arrays, case.params, case.cotangent, target)
    ref = case.reference
    tol = _vjp_tolerance(case)
    allowed = compare.kink_sets(case.d, case.x, case.params, case.cotangent)
    m = compare.measure(got, ref.vjp, tol, case.fmt, allowed=allowed)
    return Outcome(m, compare.chosen_subgradients(case.d, case.x, case.cotangent, np.asarray(got)))


def _smooth_mask(case: Case, h: float) -> np.ndarray:
    mask = np.ones(case.x.shape)
    for k in case.d.kinks:
        mask[np.abs(case.x - k.at) <= KINK_MARGIN * h] = 0.0
    return mask


def _fd_forward(backend: Backend, case: Case, target: Target) -> finite_diff.Forward:
    def f(x_batch: np.ndarray) -> np.ndarray:
        return backend.forward(case.d, _stacked(case.arrays, case.d.wrt.name, x_batch), case.params, target)

    return f


def _forward_noise(backend: Backend, case: Case, target: Target) -> np.ndarray:
    """How noisy the backend's forward is: the model's bound, or its observed error when worse.

    A forward less accurate than the model is the forward check's finding; here it only
    widens the finite differences so that the backward is judged against what it can be.
    """
    ref = case.reference
    model = _forward_tolerance(case)
    observed = np.abs(backend.forward(case.d, case.arrays, case.params, target) - ref.forward)
    return np.maximum(model, np.where(np.isfinite(observed), observed, 0.0))


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
        forward_noise=_forward_noise(backend, case, target),
        relative_noise=case.rho * case.fmt.unit_roundoff,
        round_input=case.fmt.round,
    )
    axes = tuple(range(1, est.value.ndim))
    lhs = np.sum(v * est.value, axis=axes)
    lhs_err = np.sum(np.abs(v) * est.error, axis=axes)
    batch = _stacked(case.arrays, case.d.wrt.name, np.broadcast_to(case.x, u.shape).copy())
    g = backend.vjp(case.d, batch, case.params, v, target)
    gax = tuple(range(1, np.ndim(g)))
    rhs = np.sum(g * u, axis=gax)
    u_roundoff = case.fmt.unit_roundoff * case.rho
    tol = FD_SAFETY * lhs_err + u_roundoff * (np.abs(lhs) + np.sum(np.abs(g * u), axis=gax)) + case.rho * case.fmt.tiny
    return Outcome(compare.measure(rhs, lhs, tol, case.fmt), {})


def jacobian(backend: Backend, case: Case, target: Target) -> Outcome:
    """The whole Jacobian: finite differences along every input entry against the backward
    applied to every output basis cotangent, each side in stacked calls."""
    h = finite_diff.step_for(target.dtype)
    mask = _smooth_mask(case, h)
    directions = finite_diff.basis(case.x.shape, mask)
    est = finite_diff.directional(
        _fd_forward(backend, case, target),
        case.x,
        directions,
        h=h,
        forward_noise=_forward_noise(backend, case, target),
        relative_noise=case.rho * case.fmt.unit_roundoff,
        round_input=case.fmt.round,
    )
    n_in = case.x.size
    out_shape = case.reference.forward.shape
    j_fd = est.value.reshape(n_in, -1).T  # (outputs, inputs)
    j_err = est.error.reshape(n_in, -1).T
    cot = finite_diff.basis(out_shape)
    m_out = cot.shape[0]
    batch = _stacked(case.arrays, case.d.wrt.name, np.broadcast_to(case.x, (m_out, *case.x.shape)).copy())
    j_bk = np.asarray(backend.vjp(case.d, batch, case.params, cot, target)).reshape(m_out, n_in)
    j_bk = j_bk * mask.reshape(1, -1)  # entries at kinks belong to the subgradient check
    tol = (
        FD_SAFETY * j_err + case.rho * case.fmt.unit_roundoff * (np.abs(j_fd) + np.abs(j_bk)) + case.rho * case.fmt.tiny
    )
    return Outcome(compare.measure(j_bk, j_fd, tol, case.fmt), {})


RUNNERS = {"forward": forward, "vjp": vjp, "projection": projection, "jacobian": jacobian}
FD_KINDS = ("projection", "jacobian")


def fd_oracle(reference_backend: Backend, case: Case, target: Target) -> Outcome:
    """Finite differences as an oracle of their own: the VJP they give for the NumPy
    reference's float64 forward against the exact VJP, within their own error estimate."""
    h = finite_diff.step_for(target.dtype)
    mask = _smooth_mask(case, h)
    est = finite_diff.directional(
        _fd_forward(reference_backend, case, target),
        case.x,
        finite_diff.basis(case.x.shape, mask),
        h=h,
        forward_noise=_forward_noise(reference_backend, case, target),
        relative_noise=case.rho * case.fmt.unit_roundoff,
        round_input=case.fmt.round,
    )
    n_in = case.x.size
    c = case.cotangent.reshape(1, -1)
    got = (c @ est.value.reshape(n_in, -1).T).reshape(case.x.shape)
    err = (np.abs(c) @ est.error.reshape(n_in, -1).T).reshape(case.x.shape)
    ref = case.reference
    exact = np.where(mask > 0, ref.vjp, 0.0)
    tol = FD_SAFETY * err + _vjp_tolerance(case)
    return Outcome(compare.measure(got, exact, tol, case.fmt), {})
