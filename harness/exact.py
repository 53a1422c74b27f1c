"""The exact reference: SymPy expressions evaluated in mpmath until the digits settle."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from mpmath import iv

from derivations.model import Op
from harness.symbols import RowSymbols, build

MAX_DIGITS = 2000  # saturated logs need ~|z|/2.3 digits: |z| = 1e3 needs ~450
Fn = Callable[..., Sequence[Any]]
# Values are computed in interval arithmetic: the enclosure's width is a proof of how many
# digits are right, where comparing two precisions is fooled by 1 - 1e-209 rounding to 1 at both.
INTERVAL = {name: getattr(iv, name) for name in ("exp", "log", "sqrt", "sin", "cos", "mpf", "pi", "e")}


class ReferenceError(RuntimeError):
    """The exact value could not be pinned down within MAX_DIGITS."""


@dataclass(frozen=True)
class Compiled:
    """mpmath evaluators of one derivation at one row length."""

    n: int
    m: int
    n_inputs: int  # number of scalar input entries per unit (all inputs, targets included)
    forward: Fn  # (inputs, params) -> m outputs
    vjp: Fn  # (inputs, cotangent, params) -> n entries per differentiable input, the stated one first
    forward_iv: Fn  # the same two in interval arithmetic
    vjp_iv: Fn
    stated_vjp: Fn  # (inputs, outputs, cotangent, params) -> n entries, written in outputs


class Reference:
    """Exact forward and VJP rounded to float64, and their sensitivities for tolerances. The forward is
    computed at once; the VJP on first use (a forward or forward-mode check never asks for it).

    A sensitivity is sum |d value / d v| * |v| over the quantities an implementation rounds:
    every input entry, each term of the cotangent sum, and, for derivatives the document
    writes in the outputs (sigmoid' = a(1-a)), the forward outputs too.
    """

    def __init__(
        self,
        wrt: str,
        forward: np.ndarray,
        forward_sensitivity: np.ndarray,
        forward_digits: int,
        vjp: Callable[[], _Vjp],
    ) -> None:
        self.wrt, self.forward, self.forward_sensitivity = wrt, forward, forward_sensitivity
        self._forward_digits, self._compute_vjp = forward_digits, vjp

    @functools.cached_property
    def _vjp(self) -> _Vjp:
        return self._compute_vjp()

    @property
    def vjps(self) -> dict[str, np.ndarray]:
        """The VJP of every differentiable input, by name."""
        return self._vjp.vjps

    @property
    def vjp_sensitivities(self) -> dict[str, np.ndarray]:
        return self._vjp.sensitivities

    @property
    def vjp(self) -> np.ndarray:
        """Of the input the stated derivative is taken with respect to."""
        return self._vjp.vjps[self.wrt]

    @property
    def vjp_sensitivity(self) -> np.ndarray:
        return self._vjp.sensitivities[self.wrt]

    @property
    def digits(self) -> int:
        return max(self._forward_digits, self._vjp.digits)


@dataclass(frozen=True)
class _Vjp:
    vjps: dict[str, np.ndarray]
    sensitivities: dict[str, np.ndarray]
    digits: int


def smooth_part(expr: sp.Expr) -> sp.Expr:
    """Drop point masses at kinks: the comparison treats kinks by their subgradient sets."""
    expr = sp.sympify(expr).replace(sp.DiracDelta, lambda *args: sp.Integer(0))
    return expr.rewrite(sp.Piecewise) if expr.has(sp.Heaviside) else expr


@functools.cache
def compile_row(d: Op, n: int) -> Compiled:
    rs: RowSymbols = build(d, n)
    n = rs.n
    inputs = [s for syms in rs.inputs.values() for s in syms]
    cot = list(sp.symbols(f"c0:{rs.m}", real=True))
    params = list(rs.params.values())
    vjp = [sum(cot[i] * jac[i * n + j] for i in range(rs.m)) for jac in rs.raw_jacobians.values() for j in range(n)]
    stated = [sum(cot[i] * rs.stated_in_out[i * n + j] for i in range(rs.m)) for j in range(n)]

    return Compiled(
        n=n,
        m=rs.m,
        n_inputs=len(inputs),
        forward=lambdify([*inputs, *params], rs.forward, n),
        vjp=lambdify([*inputs, *cot, *params], vjp, n),
        forward_iv=lambdify([*inputs, *params], rs.forward, n, interval=True),
        vjp_iv=lambdify([*inputs, *cot, *params], vjp, n, interval=True),
        stated_vjp=lambdify([*inputs, *rs.out, *cot, *params], stated, n),
    )


def lambdify(signature: list[sp.Symbol], exprs: list[sp.Expr], n: int, *, interval: bool = False) -> Fn:
    """An mpmath evaluator of `exprs` (in interval arithmetic with `interval`); rows share subexpressions."""
    modules = [INTERVAL, "mpmath"] if interval else "mpmath"
    return sp.lambdify(signature, [smooth_part(e) for e in exprs], modules=modules, cse=n > 1)


def _at(fn: Fn, args: Sequence[Any], dps: int) -> list[Any] | None:
    """Values at `dps` digits, or None where cancellation left a 0/0 or a log of 0."""
    with mpmath.workdps(dps):
        try:
            values = [mpmath.mpf(v) for v in fn(*[mpmath.mpf(a) for a in args])]
        except (ZeroDivisionError, ValueError, TypeError):
            return None
    return values if all(mpmath.isfinite(v) for v in values) else None


def sensitivity(fn: Fn, args: list[Any], positions: Sequence[int], dps: int) -> list[Any]:
    """sum_k |d fn / d args[k]| * |args[k]| by a relative forward difference at `dps` digits.

    Only a magnitude for the tolerance is needed, so a third of the digits is plenty.
    """
    base = _at(fn, args, dps)
    if base is None:
        return []
    total = [mpmath.mpf(0)] * len(base)
    with mpmath.workdps(dps):
        rel = mpmath.mpf(10) ** (-(dps // 3))
        for k in positions:
            a = mpmath.mpf(args[k])
            if a == 0:
                continue
            moved = list(args)
            moved[k] = a * (1 + rel)
            values = _at(fn, moved, dps)
            if values is None:
                continue
            total = [t + abs(v - b) / rel for t, v, b in zip(total, values, base, strict=True)]
    return total


def _enclosure(fn: Fn, args: Sequence[Any], dps: int) -> list[Any] | None:
    """Interval enclosures at `dps` digits, or None where one is unbounded or undefined."""
    iv.dps = dps
    try:
        values = [v if isinstance(v, iv.mpf) else iv.mpf(v) for v in fn(*[iv.mpf(a) for a in args])]
    except (ZeroDivisionError, ValueError, TypeError):
        return None
    return values if all(mpmath.isfinite(v.a) and mpmath.isfinite(v.b) for v in values) else None


def settled(
    fn_iv: Fn, fn: Fn, args: list[Any], sens_positions: Sequence[int], digits: int
) -> tuple[list[Any], list[Any], int]:
    """Raise the precision until every enclosure is narrower than 10^-digits of the value,
    or of its sensitivity for values that are (nearly) zero."""
    dps = digits + 10
    tol = mpmath.mpf(10) ** (-digits)
    while dps <= MAX_DIGITS:
        enclosures = _enclosure(fn_iv, args, dps)
        if enclosures is not None:
            with mpmath.workdps(dps):
                mids = [mpmath.mpf(v.mid) for v in enclosures]
                widths = [mpmath.mpf(v.delta) for v in enclosures]
                if all(w <= tol * abs(m) for w, m in zip(widths, mids, strict=True)):
                    return mids, sensitivity(fn, args, sens_positions, dps), dps
                scale = sensitivity(fn, args, sens_positions, dps)
                if scale and all(w <= tol * (abs(m) + s) for w, m, s in zip(widths, mids, scale, strict=True)):
                    return mids, scale, dps
        dps *= 2
    raise ReferenceError(f"value did not settle to {digits} digits within {MAX_DIGITS} digits")


def units(d: Op, arr: np.ndarray) -> np.ndarray:
    """View an input as (units, n): one scalar per unit for elementwise ops, one row otherwise."""
    return arr.reshape(-1, 1) if d.structure == "elementwise" else arr.reshape(-1, arr.shape[-1])


def evaluate(
    d: Op,
    arrays: dict[str, np.ndarray],
    params: dict[str, float],
    cotangent: np.ndarray,
    *,
    digits: int,
) -> Reference:
    """Exact forward (now) and VJP of every differentiable input (when first asked) at float64-held values."""
    x = np.asarray(arrays[d.wrt.name], dtype=np.float64)
    c = compile_row(d, d.row_length(x.shape))
    per_unit = [units(d, np.asarray(arrays[i.name], dtype=np.float64)) for i in d.inputs]
    pvals = [params[p.name] for p in d.params]
    fwd, fsens, worst = [], [], 0
    for k in range(per_unit[0].shape[0]):
        base: list[Any] = [float(v) for u in per_unit for v in u[k]]
        f, f_sens, dps = settled(c.forward_iv, c.forward, [*base, *pvals], range(c.n_inputs), digits)
        worst = max(worst, dps)
        fwd.append([float(v) for v in f])
        fsens.append([float(v) for v in f_sens])
    out_shape = d.output_shape(x.shape)
    forward = np.array(fwd, dtype=np.float64).reshape(out_shape)

    def vjp() -> _Vjp:
        return _vjp(d, c, arrays, per_unit, pvals, np.asarray(cotangent, dtype=np.float64), forward, digits)

    return Reference(d.wrt.name, forward, np.array(fsens, dtype=np.float64).reshape(out_shape), worst, vjp)


def _vjp(
    d: Op,
    c: Compiled,
    arrays: dict[str, np.ndarray],
    per_unit: list[np.ndarray],
    pvals: list[Any],
    cotangent: np.ndarray,
    forward: np.ndarray,
    digits: int,
) -> _Vjp:
    cot_units = cotangent.reshape(per_unit[0].shape[0], -1)
    outs = forward.reshape(per_unit[0].shape[0], -1)
    inputs_at = range(c.n_inputs)
    vjp, vsens, worst = [], [], 0
    for k in range(per_unit[0].shape[0]):
        base: list[Any] = [float(v) for u in per_unit for v in u[k]]
        cot = [float(v) for v in cot_units[k]]
        g, g_sens, dps = settled(
            c.vjp_iv, c.vjp, [*base, *cot, *pvals], [*inputs_at, *range(c.n_inputs, c.n_inputs + c.m)], digits
        )
        out_at = range(c.n_inputs, c.n_inputs + c.m)
        # The outputs' magnitudes are all the reuse term needs: the forward rounded to float64 serves.
        reuse = sensitivity(c.stated_vjp, [*base, *[float(o) for o in outs[k]], *cot, *pvals], out_at, dps)
        worst = max(worst, dps)
        vjp.append([float(v) for v in g])
        # Reused outputs enter the stated input's gradient only: it is the one the notes write in outputs.
        reuse = [*(reuse or [0] * c.n), *[0] * (len(g_sens) - c.n)]
        vsens.append([float(a + b) for a, b in zip(g_sens, reuse, strict=True)])
    return _Vjp(by_input(d, arrays, np.array(vjp, dtype=np.float64)), by_input(d, arrays, np.array(vsens)), worst)


def by_input(d: Op, arrays: dict[str, np.ndarray], per_unit: np.ndarray) -> dict[str, np.ndarray]:
    """Split (units, n x inputs) columns, n per differentiable input, into one array per input."""
    n = per_unit.shape[1] // len(d.differentiable)
    return {
        i.name: per_unit[:, k * n : (k + 1) * n].reshape(np.shape(arrays[i.name]))
        for k, i in enumerate(d.differentiable)
    }
