"""The exact second-order reference of a closed form: the Hessian of <w, f> applied to a direction,
H(w) v = d/dx <v, J(x)^T w>, for every differentiable input together.

It is what a double backward returns for the inputs (the gradient of <v, vjp(x, w)> with respect to
x) and what a Hessian-vector product returns for a loss, with w the loss's weights. SymPy
differentiates the op's first derivatives once more; the entries are evaluated in interval
arithmetic until their digits settle, with the same sensitivities as the VJP (every input entry,
weight and direction entry an implementation rounds).

At a kink of an elementwise op the second derivative is a point mass, which no implementation
returns: what is checked there is a value between the one-sided second derivatives (0 on both sides
of ReLU's and leaky ReLU's kinks, which are piecewise linear), times w v.
"""

from __future__ import annotations

import functools
import types
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from derivations.elementary import Dual
from derivations.model import Op
from harness import exact
from harness.symbols import build


def _lifted(name: str, base: Any, space: dict[str, Any]) -> Any:
    """`base` (mpmath's or its interval twin) extended to dual numbers: f(a + b eps) = f(a) + f'(a) b eps."""
    derivative = {
        "exp": base,
        "log": lambda a: 1 / a,
        "sqrt": lambda a: 1 / (2 * base(a)),
        "tanh": lambda a: 1 - base(a) ** 2,
        "sin": lambda a: space["cos"](a),
        "cos": lambda a: -space["sin"](a),
    }[name]

    def f(x: Any) -> Any:
        return Dual(base(x.a), derivative(x.a) * x.b) if isinstance(x, Dual) else base(x)

    return f


def on_duals(fn: exact.Fn) -> exact.Fn:
    """The same lambdified code with its elementary functions taking dual numbers: the first derivatives
    SymPy already took, pushed along a tangent, are the second derivatives (nothing is differentiated
    symbolically twice, which costs seconds per row length)."""
    space = dict(fn.__globals__)  # type: ignore[attr-defined]
    for name in ("exp", "log", "sqrt", "tanh", "sin", "cos"):
        if name in space:
            space[name] = _lifted(name, space[name], space)
    if "mpf" in space:  # constants are duals too: an interval meeting a dual does not defer to it
        constant = space["mpf"]
        space["mpf"] = lambda v: Dual(constant(v), 0)
    return types.FunctionType(fn.__code__, space, fn.__name__, fn.__defaults__, fn.__closure__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Layout:
    """Where each argument sits: inputs, cotangent (or outputs then cotangent), directions, parameters."""

    n_inputs: int
    n_middle: int  # cotangent entries, or outputs and cotangent entries for the stated form
    wrt: tuple[int, ...]  # positions of the differentiable inputs' entries among the inputs
    n_outputs: int = 0  # the first n_outputs of the middle are outputs, carried with their tangents J v


def _pushed(fn: exact.Fn, at: _Layout, out_tangents: tuple[Any, ...] = ()) -> exact.Fn:
    """args = inputs, middle, directions (one per entry of `wrt`), params -> the tangent of fn's values."""
    dual = on_duals(fn)

    def pushed(*args: Any) -> list[Any]:
        inputs = list(args[: at.n_inputs])
        middle = list(args[at.n_inputs : at.n_inputs + at.n_middle])
        rest = args[at.n_inputs + at.n_middle :]
        directions, params = rest[: len(at.wrt)], rest[len(at.wrt) :]
        # Every argument a dual (tangent 0 where it is held): an interval meeting a dual does not defer to it.
        tangent = dict(zip(at.wrt, directions, strict=True))
        inputs = [Dual(a, tangent.get(k, 0)) for k, a in enumerate(inputs)]
        middle = [Dual(a, out_tangents[k] if k < len(out_tangents) else 0) for k, a in enumerate(middle)]
        params = tuple(Dual(p, 0) for p in params)
        return [o.b if isinstance(o, Dual) else 0 for o in dual(*inputs, *middle, *params)]  # 0: no dependence on x

    return pushed


def _in_outputs(c: exact.Compiled, at: _Layout) -> exact.Fn:
    """args = inputs, outputs, cotangent, directions, params -> H(w) v of the stated input as an implementation
    forms it from its outputs: the notes' derivative in the outputs pushed along v, the outputs' own tangents
    J v formed from the outputs too (row l of J is the stated VJP of the l-th unit cotangent)."""

    def from_outputs(*args: Any) -> list[Any]:
        inputs, outs = args[: at.n_inputs], args[at.n_inputs : at.n_inputs + at.n_outputs]
        rest = args[at.n_inputs + at.n_middle :]
        directions, params = rest[: len(at.wrt)], rest[len(at.wrt) :]
        own = directions[: c.n]  # the stated input's directions come first
        tangents = []
        for row in range(at.n_outputs):
            unit = [1 if i == row else 0 for i in range(at.n_outputs)]
            tangents.append(sum(a * b for a, b in zip(c.stated_vjp(*inputs, *outs, *unit, *params), own, strict=True)))
        return list(_pushed(c.stated_vjp, at, tuple(tangents))(*args))

    return from_outputs


def _layout(d: Op, n: int) -> tuple[exact.Compiled, _Layout]:
    c = exact.compile_row(d, n)
    width = c.n_inputs // len(d.inputs)
    wrt = tuple(k * width + j for k, i in enumerate(d.inputs) if i.differentiable for j in range(width))
    return c, _Layout(c.n_inputs, c.m, wrt)


def closed_form_hvp(
    d: Op,
    arrays: dict[str, np.ndarray],
    params: dict[str, Any],
    weights: np.ndarray,
    directions: dict[str, np.ndarray],
    forward: np.ndarray,
    *,
    digits: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Exact H(w) v and its sensitivity by differentiable input, unit by unit (an entry of an elementwise
    op, a row otherwise): the exact VJP's tangent along v. `forward` is exact, in float64: an implementation's
    backward may reuse the outputs (sigmoid' = a(1 - a)), and the tolerance counts their rounding through
    the notes' derivative written in them."""
    x = np.asarray(arrays[d.wrt.name], dtype=np.float64)
    c, at = _layout(d, d.row_length(x.shape))
    per_unit = [exact.units(d, np.asarray(arrays[i.name], dtype=np.float64)) for i in d.inputs]
    count = per_unit[0].shape[0]
    w_units = np.asarray(weights, dtype=np.float64).reshape(count, -1)
    v_units = [exact.units(d, np.asarray(directions[i.name], dtype=np.float64)) for i in d.differentiable]
    outs = np.asarray(forward, dtype=np.float64).reshape(count, -1)
    pvals = [params[p.name] for p in d.params]
    hvp, hvp_iv = _pushed(c.vjp, at), _pushed(c.vjp_iv, at)
    stated_at = _Layout(at.n_inputs, c.m + c.m, at.wrt, c.m)
    rounded = range(at.n_inputs + at.n_middle + len(at.wrt))
    values, sens = [], []
    for k in range(count):
        base = [float(v) for u in per_unit for v in u[k]]
        w = [float(v) for v in w_units[k]]
        v = [float(t) for u in v_units for t in u[k]]
        value, s, dps = exact.settled(hvp_iv, hvp, [*base, *w, *v, *pvals], rounded, digits)
        stated = _in_outputs(c, stated_at)
        fwd = [float(o) for o in outs[k]]
        out_at = range(at.n_inputs, at.n_inputs + c.m)
        reuse = exact.sensitivity(stated, [*base, *fwd, *w, *v, *pvals], out_at, dps) or [0] * c.n
        reuse = [*reuse, *[0] * (len(value) - len(reuse))]  # the stated input's part is the first
        values.append([float(t) for t in value])
        sens.append([float(a + b) for a, b in zip(s or [0] * len(value), reuse, strict=True)])
    return exact.by_input(d, arrays, np.array(values)), exact.by_input(d, arrays, np.array(sens))


@functools.cache
def one_sided_second(d: Op, at: float, params: tuple[tuple[str, float], ...]) -> tuple[float, float]:
    """The second derivative's limits from the left and the right at an elementwise op's kink."""
    rs = build(d, 1)
    z = rs.inputs[d.wrt.name][0]
    f2 = exact.smooth_part(sp.diff(rs.forward[0], z, 2)).subs({rs.params[k]: v for k, v in params})
    return float(sp.limit(f2, z, at, "-")), float(sp.limit(f2, z, at, "+"))


def kink_sets(
    d: Op, x: np.ndarray, params: dict[str, Any], weights: np.ndarray, direction: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """At a kink of an elementwise op, w v times the range of its one-sided second derivatives (NaN
    elsewhere), the entries a double backward may return there."""
    if d.structure != "elementwise" or not d.closed_form.kinks:
        return None
    lo = np.full(x.shape, np.nan)
    hi = np.full(x.shape, np.nan)
    key = tuple(sorted((k, float(v)) for k, v in params.items()))
    for k in d.closed_form.kinks:
        left, right = one_sided_second(d, k.at, key)
        at = x == k.at
        ends = np.stack([weights * direction * left, weights * direction * right])
        lo = np.where(at, ends.min(axis=0), lo)
        hi = np.where(at, ends.max(axis=0), hi)
    return lo, hi
