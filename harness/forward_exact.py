"""The exact Jacobian-vector product J u of any op, from the same engines as the VJP.

A closed form's J u is SymPy's derivative of every differentiable input contracted with the
tangent, evaluated in interval arithmetic until the digits settle, with the same sensitivities as
its VJP (inputs, tangent terms and, for derivatives written in the outputs, the outputs). A
program's is one forward-mode sweep, at 80 digits, of the tape its exact reference recorded
(program_exact.ProgramReference.jvp), and its tolerance magnitudes are its running-error bound
read the other way: the bound for a cotangent that picks out one output entry, weighted by |u|,
the same products of absolute values that forward mode forms.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from derivations.model import Op
from harness import box_graph, boxes, compare, exact
from harness.boxes import Box
from harness.dtypes import Format
from harness.symbols import build


@dataclass(frozen=True)
class JvpReference:
    """J u rounded to float64 and the magnitudes its tolerance scales with (None at a program's kink)."""

    value: np.ndarray | None
    magnitude: np.ndarray | None
    radius: np.ndarray | float = 0.0  # how far the exact J u may be from `value` (a float64 enclosure's)

    def tolerance(self, fmt: Format, rho: float) -> np.ndarray:
        assert self.value is not None and self.magnitude is not None
        return compare.tolerance(self.value, self.magnitude, fmt, rho) + self.radius


@dataclass(frozen=True)
class _CompiledJvp:
    jvp: exact.Fn  # (inputs, tangents of the differentiable inputs, params) -> m entries
    jvp_iv: exact.Fn
    stated: exact.Fn  # (inputs, outputs, tangent of the stated input, params) -> m entries
    n_inputs: int
    n_tangents: int


@functools.cache
def _compile(d: Op, n: int) -> _CompiledJvp:
    rs = build(d, n)
    n = rs.n
    inputs = [s for syms in rs.inputs.values() for s in syms]
    tangents = {name: list(sp.symbols(f"t_{name}_0:{n}", real=True)) for name in rs.raw_jacobians}
    flat_tangents = [t for ts in tangents.values() for t in ts]
    params = list(rs.params.values())
    jvp = [
        sum(jac[i * n + j] * tangents[name][j] for name, jac in rs.raw_jacobians.items() for j in range(n))
        for i in range(rs.m)
    ]
    own = tangents[d.wrt.name]
    stated = [sum(rs.stated_in_out[i * n + j] * own[j] for j in range(n)) for i in range(rs.m)]
    signature = [*inputs, *flat_tangents, *params]
    return _CompiledJvp(
        jvp=exact.lambdify(signature, jvp, n),
        jvp_iv=exact.lambdify(signature, jvp, n, interval=True),
        stated=exact.lambdify([*inputs, *rs.out, *own, *params], stated, n),
        n_inputs=len(inputs),
        n_tangents=len(flat_tangents),
    )


def closed_form_jvp(
    d: Op,
    arrays: dict[str, np.ndarray],
    params: dict[str, Any],
    tangents: dict[str, np.ndarray],
    forward: np.ndarray,
    *,
    digits: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact J u and its sensitivity, unit by unit (one entry of an elementwise op, one row otherwise).
    `forward` is the exact forward in float64: the outputs a stated derivative reuses, whose
    sensitivity needs only a magnitude."""
    x = np.asarray(arrays[d.wrt.name], dtype=np.float64)
    c = _compile(d, d.row_length(x.shape))
    per_unit = [exact.units(d, np.asarray(arrays[i.name], dtype=np.float64)) for i in d.inputs]
    tan_units = [exact.units(d, np.asarray(tangents[i.name], dtype=np.float64)) for i in d.differentiable]
    own = exact.units(d, np.asarray(tangents[d.wrt.name], dtype=np.float64))
    outs = np.asarray(forward, dtype=np.float64).reshape(per_unit[0].shape[0], -1)
    pvals = [params[p.name] for p in d.params]
    values, sens = [], []
    for k in range(per_unit[0].shape[0]):
        base: list[Any] = [float(v) for u in per_unit for v in u[k]]
        tan = [float(v) for t in tan_units for v in t[k]]
        args = [*base, *tan, *pvals]
        value, s, dps = exact.settled(c.jvp_iv, c.jvp, args, range(c.n_inputs + c.n_tangents), digits)
        fwd = [float(v) for v in outs[k]]
        out_at = range(c.n_inputs, c.n_inputs + len(fwd))
        reuse = exact.sensitivity(c.stated, [*base, *fwd, *[float(v) for v in own[k]], *pvals], out_at, dps)
        values.append([float(v) for v in value])
        sens.append([float(a + b) for a, b in zip(s, reuse or [0] * len(s), strict=True)])
    shape = d.output_shape(x.shape)
    return np.array(values, dtype=np.float64).reshape(shape), np.array(sens, dtype=np.float64).reshape(shape)


PROBE_BELOW = 64  # output entries


def program_magnitude(
    op: Op,
    arrays: dict[str, np.ndarray],
    params: dict[str, Any],
    tangents: dict[str, np.ndarray],
    shape: tuple[int, ...],
    *,
    transpose: bool | None = None,
) -> np.ndarray:
    """sum over inputs j of B_ij |u_j|, B_ij the running-error magnitude of gradient entry j for a
    cotangent that is 1 at output entry i. The bound is linear in |cotangent|, so this is its transpose
    applied to |u|, read from one reverse sweep of the bound itself run on float64 boxes (box_arrays.py);
    a bound the boxes cannot pass through (one that reads its cotangent as floats, or compares it), or
    `transpose=False`, is called once per output entry. By default (None) an output of fewer than
    PROBE_BELOW entries is probed too: a bound on boxes costs about as much as that many float calls."""
    if transpose is None:
        transpose = int(np.prod(shape)) >= PROBE_BELOW
    if transpose:
        try:
            with box_graph.recording(), boxes.comparing("refuse"), np.errstate(all="ignore"):
                c = Box(np.ones(shape))
                bound = op.program.bound(arrays, params, c)  # type: ignore[arg-type]  # boxes stand in for arrays
                total = sum(np.sum(bound[n.name] * np.abs(tangents[n.name])) for n in op.differentiable)
            (found,) = box_graph.vjp([boxes.box(total)], [Box(1.0)], [c])
            # The upper ends: a magnitude rounded up, never down.
            return np.array(np.broadcast_to(box_graph.fit(found, shape).hi, shape), dtype=np.float64)
        except Exception:
            pass  # it was written; a bound that is itself wrong raises again there
    out = np.zeros(shape)
    for i in np.ndindex(shape):
        pick = np.zeros(shape)
        pick[i] = 1.0
        bound = op.program.bound(arrays, params, pick)
        out[i] = sum(float(np.sum(bound[n.name] * np.abs(tangents[n.name]))) for n in op.differentiable)
    return out
