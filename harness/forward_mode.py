"""The forward-mode checks: an implementation's Jacobian-vector product J u against the exact one,
and its consistency with its own VJP, <v, J u> = <J^T v, u>, which needs no exact value.

Both use the case's Gaussian tangents u (one per differentiable input) and its cotangent v. At a
closed form's kink J u is the tangent times a subgradient, judged as a set like the VJP; at a
program's kink or tie J u depends on the direction (the one-sided derivatives differ), so there is
no one value to compare and neither check applies to that example.
"""

from __future__ import annotations

import numpy as np

from derivations.model import ClosedForm
from harness import compare
from harness.backends.base import Backend, Target
from harness.cases import Case
from harness.checks import Outcome, gradients

AT_KINKS = "every example sits at a kink or tie, where J u depends on the direction"


def kink_sets(case: Case) -> tuple[np.ndarray, np.ndarray] | None:
    """Per output entry of an elementwise closed form, u times its subgradient set at kinks (NaN elsewhere)."""
    op = case.op
    if not isinstance(op.engine, ClosedForm) or op.structure != "elementwise" or len(op.differentiable) > 1:
        return None
    return compare.kink_sets(op, case.x, case.params, case.tangent[op.wrt.name])


def jvp(backend: Backend, case: Case, target: Target) -> Outcome | None:
    ref = case.jvp_reference
    if ref.value is None or ref.magnitude is None:
        return None
    got = backend.jvp(case.op, case.arrays, case.params, case.tangent, target)
    tol = ref.tolerance(case.fmt, case.rho)
    return Outcome(compare.measure(got, ref.value, tol, case.fmt, allowed=kink_sets(case)), {})


def _smooth_tangent(case: Case) -> dict[str, np.ndarray]:
    """The case's tangents, 0 at a closed form's kinks: there J u and J^T v may pick different
    subgradients, each rightly; elsewhere the two are one matrix."""
    op, u = case.op, dict(case.tangent)
    if isinstance(op.engine, ClosedForm) and op.engine.kinks:
        at = np.isin(case.x, [k.at for k in op.engine.kinks])
        u[op.wrt.name] = np.where(at, 0.0, u[op.wrt.name])
    return u


def transpose(backend: Backend, case: Case, target: Target) -> Outcome | None:
    """<v, J u> - <J^T v, u> against 0, within the error model's tolerance of both products."""
    ref = case.jvp_reference
    if case.at_kink or ref.magnitude is None:
        return None
    u, v = _smooth_tangent(case), case.cotangent
    ju = np.asarray(backend.jvp(case.op, case.arrays, case.params, u, target), dtype=np.float64)
    g = gradients(backend, case, v, target)
    names = [i.name for i in case.op.differentiable]
    fmt, rho = case.fmt, case.rho
    # An implementation's inf or NaN makes the difference NaN, which compare.measure fails: not a warning.
    with np.errstate(invalid="ignore", over="ignore"):
        lhs = float(np.sum(v * ju))
        rhs = float(sum(np.sum(np.asarray(g[n], dtype=np.float64) * u[n]) for n in names))
        # Each side is off by its own entries' errors, weighted by the other vector, and by its sum's rounding.
        tol_ju = compare.tolerance(ju, ref.magnitude, fmt, rho) + ref.radius
        tol_g = {n: case.tolerance(n, np.asarray(g[n], dtype=np.float64)) for n in names}
        tol = float(np.sum(np.abs(v) * tol_ju) + sum(np.sum(np.abs(u[n]) * tol_g[n]) for n in names))
        tol += rho * fmt.unit_roundoff * float(np.sum(np.abs(v * ju)) + sum(np.sum(np.abs(g[n] * u[n])) for n in names))
        diff = np.array([lhs - rhs])
    return Outcome(compare.measure(diff, np.zeros(1), np.array([tol + rho * fmt.tiny]), fmt), {})
