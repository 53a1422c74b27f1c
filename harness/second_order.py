"""The second-order checks of a closed form, against the exact H(w) v of second_exact.py.

`vjp-of-vjp` is reverse over reverse, what `gradgradcheck` exercises: the implementation's
gradient of <c, vjp(x, w)> with respect to x (H(w) c) and to the cotangent w (J c). `hvp` is
forward over reverse, how Hessian-vector products are formed for second-order optimisers: the
tangent of vjp(x, w) for a tangent u of x (H(w) u). The case's Gaussian tangents serve as both c
and u, and its cotangent as w, so one exact H(w) v serves both checks and J c is the JVP check's
own reference.

At a kink (ReLU's 0) the x part is judged as w v times the range of the one-sided second
derivatives and the w part as the subgradient set times c; a NaN or inf is a failure everywhere.
"""

from __future__ import annotations

import numpy as np

from harness import compare, forward_mode, second_exact
from harness.backends.base import Backend, Target
from harness.cases import Case
from harness.checks import Outcome

COTANGENT = "cotangent"  # the key of the w part in a double backward's result


def _worst(parts: list[tuple[str, compare.Measurement]]) -> Outcome:
    worst, where = parts[0][1], parts[0][0]
    for name, m in parts[1:]:
        if compare.worse(m, worst):
            worst, where = m, name
    return Outcome(worst, {}, where=where)


def _hessian_parts(case: Case, got: dict[str, np.ndarray]) -> list[tuple[str, compare.Measurement]]:
    """Each differentiable input's H(w) v entries against the exact ones."""
    ref = case.second_reference
    parts = []
    for i in case.op.differentiable:
        name = i.name
        if got.get(name) is None:
            raise ValueError(f"{case.op.name}: no second-order result for {name}")
        tol = compare.tolerance(ref.value[name], ref.magnitude[name], case.fmt, case.rho)
        allowed = None
        if name == case.op.wrt.name:
            allowed = second_exact.kink_sets(case.op, case.x, case.params, case.cotangent, case.tangent[name])
        parts.append((name, compare.measure(got[name], ref.value[name], tol, case.fmt, allowed=allowed)))
    return parts


def vjp_of_vjp(backend: Backend, case: Case, target: Target) -> Outcome:
    got = backend.vjp_vjp(case.op, case.arrays, case.params, case.cotangent, case.tangent, target)
    parts = _hessian_parts(case, got)
    jc = case.jvp_reference
    assert jc.value is not None and jc.magnitude is not None  # a closed form always has one
    tol = jc.tolerance(case.fmt, case.rho)
    if got.get(COTANGENT) is None:
        raise ValueError(f"{case.op.name}: no second-order result for the cotangent")
    allowed = forward_mode.kink_sets(case)
    parts.append((COTANGENT, compare.measure(got[COTANGENT], jc.value, tol, case.fmt, allowed=allowed)))
    return _worst(parts)


def hvp(backend: Backend, case: Case, target: Target) -> Outcome:
    got = backend.hvp(case.op, case.arrays, case.params, case.cotangent, case.tangent, target)
    return _worst(_hessian_parts(case, got))
