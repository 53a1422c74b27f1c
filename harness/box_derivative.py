"""An elementwise op's derivative rewritten so that the chain rule's terms cancel in SymPy, not in
arithmetic, and evaluated on boxes beside reverse mode.

Reverse mode over the notes' forward keeps its cancellations: tanh written as a quotient of exponentials
differentiates to 1 - tanh^2, whose box at z = 30 is a few ULPs of 1 wide around 4e-26, too wide for a
float32 tolerance, and every such entry went to the exact engine at hundreds of digits. SymPy's own
derivative brought over one denominator with its numerator expanded is the same function with those
terms gone (4 e^{2z} / (e^{2z} + 1)^2); both are enclosures of the exact value, so the reference takes,
entry by entry, the narrower. Ops with kinks keep reverse mode alone: their derivative is piecewise.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import sympy as sp

from derivations.model import Op
from harness import boxes
from harness.symbols import build

_FUNCTIONS = {sp.exp: boxes.exp, sp.log: boxes.log, sp.tanh: boxes.tanh}


@functools.cache
def rewritten(op: Op) -> dict[str, sp.Expr] | None:
    """d out / d input for each differentiable input of an elementwise op without kinks, over one
    denominator with the numerator expanded; None for any other op."""
    if op.structure != "elementwise" or op.closed_form.kinks:
        return None
    found = {}
    for name, (derivative,) in build(op, 1).raw_jacobians.items():
        numerator, denominator = sp.fraction(sp.together(derivative))
        expr = sp.expand(numerator) / denominator
        if expr.has(sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.Abs):
            return None
        found[name] = expr
    return found


def symbols(op: Op) -> dict[str, sp.Symbol]:
    """The symbols `rewritten` is written in: each input's and each parameter's, by name."""
    rs = build(op, 1)
    return {**{name: syms[0] for name, syms in rs.inputs.items()}, **rs.params}


def on_boxes(expr: sp.Expr, values: Mapping[sp.Symbol, boxes.Box]) -> boxes.Box:
    """`expr` evaluated on boxes: numbers enclosed exactly (boxes.box), functions by their box versions."""
    if expr in values:
        return values[expr]  # type: ignore[index]
    if expr.is_Number or expr.is_NumberSymbol:
        return boxes.box(expr)
    args = [on_boxes(a, values) for a in expr.args]
    if expr.is_Add:
        return functools.reduce(lambda a, b: a + b, args)
    if expr.is_Mul:
        return functools.reduce(lambda a, b: a * b, args)
    if expr.is_Pow:
        return boxes.power(args[0], expr.args[1]) if expr.args[1].is_Number else boxes.exp(args[1] * boxes.log(args[0]))
    fn = _FUNCTIONS.get(expr.func)
    if fn is None:
        raise TypeError(f"no box version of {expr.func} in {expr}")
    return fn(*args)
