"""The checks of one backend at one input of any op: value and VJP; a closed form's Jacobian and
finite-difference oracle. The projection check, and a program's oracle, are in projection.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from harness import compare, finite_diff
from harness.backends.base import Backend, Target, stack_inputs
from harness.backends.finite_differences import FiniteDifferenceBackend
from harness.cases import Case
from harness.choices import VALUE_CHECKS

# jvp and transpose are forward mode's (forward_mode.py), run where a backend gives a jvp.
KINDS = VALUE_CHECKS
PROJECTION_DIRECTIONS = 4
FD_SAFETY = 4.0  # the FD error estimate is trusted to within this factor


@dataclass(frozen=True)
class Outcome:
    measurement: compare.Measurement
    conventions: dict[str, list[float]]
    where: str = ""  # which input the worst entry belongs to, when an op has several


def _forward_tolerance(case: Case) -> np.ndarray:
    return case.tolerance("out", case.reference.forward)


def _vjp_tolerance(case: Case) -> np.ndarray:
    return case.tolerance(case.op.wrt.name, case.reference.vjp)


def forward(backend: Backend, case: Case, target: Target) -> Outcome:
    got = backend.forward(case.op, case.arrays, case.params, target)
    ref = case.reference.forward
    return Outcome(compare.measure(got, ref, case.tolerance("out", ref), case.fmt), {})


def gradients(backend: Backend, case: Case, cotangent: np.ndarray, target: Target) -> dict[str, np.ndarray]:
    """The backend's gradient of every differentiable input, by name, whichever form it gave them in."""
    got: Any = backend.vjp(case.op, case.arrays, case.params, cotangent, target)
    if not isinstance(got, dict):
        if len(case.op.differentiable) > 1:
            raise TypeError(f"{case.op.name}: the VJP must give one gradient per input, got {type(got).__name__}")
        return {case.op.wrt.name: got}
    missing = [i.name for i in case.op.differentiable if got.get(i.name) is None]
    if missing:
        raise ValueError(f"{case.op.name}: no gradient for {', '.join(missing)}")
    return got


def vjp(backend: Backend, case: Case, target: Target) -> Outcome:
    """Each differentiable input's gradient against the exact one, entry by entry; at a closed form's
    kink against the subgradient set, at a program's kink or tie by the op's own rule."""
    got = gradients(backend, case, case.cotangent, target)
    if case.at_kink:
        return _in_subgradient_set(case, got)
    worst: compare.Measurement | None = None
    where = ""
    for name, exact in case.exact_vjp.items():
        tol = case.tolerance(name, exact)
        m = compare.measure(got[name], exact, tol, case.fmt, allowed=case.subgradients(name))
        if compare.worse(m, worst):
            worst, where = m, name
    assert worst is not None
    return Outcome(worst, case.conventions(got), where=where)


def _in_subgradient_set(case: Case, got: dict[str, np.ndarray]) -> Outcome:
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
        unmeasured = compare.Measurement(np.inf, np.inf, np.inf, np.inf, (), np.nan, np.nan, 0.0, False)
        return Outcome(unmeasured, {}, where=f"outside the subgradient set ({case.op.tie_rule})")
    passed = compare.Measurement(0.0, 0.0, 0.0, 0.0, (), 0.0, 0.0, 0.0, False)
    return Outcome(passed, {case.op.tie_rule or "kink": [picked]})  # type: ignore[list-item]


def forward_noise(case: Case) -> finite_diff.Noise:
    """How noisy the backend's forward is: the model's bound, or its observed error when worse.

    A forward less accurate than the model is the forward check's finding; here it only
    widens the finite differences so that the backward is judged against what it can be.
    """

    def noise(at_x: np.ndarray) -> np.ndarray:
        observed = np.abs(at_x - case.reference.forward)
        return np.maximum(_forward_tolerance(case), np.where(np.isfinite(observed), observed, 0.0))

    return noise


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
        forward_noise=forward_noise(case),
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
    got = backend.vjp(case.op, batch, case.params, cot, target)
    grads = np.asarray(got[case.op.wrt.name] if isinstance(got, dict) else got) * mask
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


def fd_oracle(fd: FiniteDifferenceBackend, case: Case, target: Target) -> Outcome:
    """Finite differences as an oracle of their own: the VJP they estimate for a backend's
    forward against the exact VJP, within their own error estimate."""
    est = fd.estimate(
        case.op,
        case.arrays,
        case.params,
        case.cotangent,
        target,
        forward_noise=forward_noise(case),
        relative_noise=case.rho * case.fmt.unit_roundoff,
    )
    tol = FD_SAFETY * est.error + _vjp_tolerance(case)
    return Outcome(compare.measure(est.value, case.reference.vjp, tol, case.fmt), {})
