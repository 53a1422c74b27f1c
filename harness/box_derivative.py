"""A closed form's derivative rewritten so that the chain rule's terms cancel in SymPy, not in
arithmetic, and evaluated on boxes beside reverse mode.

Reverse mode over the notes' forward keeps its cancellations: tanh written as a quotient of exponentials
differentiates to 1 - tanh^2, whose box at z = 30 is a few ULPs of 1 wide around 4e-26, too wide for a
float32 tolerance, and every such entry went to the exact engine at hundreds of digits. SymPy's own
derivative brought over one denominator with its numerator expanded is the same function with those
terms gone (4 e^{2z} / (e^{2z} + 1)^2); both are enclosures of the exact value, so the reference takes,
entry by entry, the narrower. A row op's rewrite is its m x n Jacobian (softmax's diagonal entry
e^{z_i} sum_{k != i} e^{z_k} / (sum_k e^{z_k})^2, where reverse mode cancels 1 - s_i at a dominant
logit), rows up to MAX_ROW long. Ops with kinks keep reverse mode alone: their derivative is piecewise.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import sympy as sp
from sympy.codegen.cfunctions import log1p

from derivations.model import Op
from harness import boxes
from harness.symbols import build

_FUNCTIONS = {sp.exp: boxes.exp, sp.log: boxes.log, log1p: boxes.log1p, sp.tanh: boxes.tanh}
MAX_ROW = 16  # a row's rewrite is m x n SymPy expressions of about n terms: about a second at 16, once per length


@functools.cache
def rewritten(op: Op, n: int = 1) -> dict[str, list[sp.Expr]] | None:
    """d out_i / d input_j (row-major, m x n entries; one for an elementwise op) for each differentiable input
    of an op without kinks, over one denominator with the numerator expanded; None for an op with kinks, or
    rows longer than MAX_ROW."""
    if op.closed_form.kinks or n > MAX_ROW:
        return None
    found = {}
    for name, jacobian in build(op, n).raw_jacobians.items():
        entries = []
        for derivative in jacobian:
            numerator, denominator = sp.fraction(sp.together(derivative))
            expr = _shifted_log_sums(sp.expand(numerator) / denominator)
            if not _on_boxes_only(expr):  # a derivative with sign(z), erf, ... keeps reverse mode
                return None
            entries.append(expr)
        found[name] = entries
    return found


@functools.cache
def rewritten_forward(op: Op, n: int = 1) -> list[sp.Expr] | None:
    """The forward with each log's argument over one denominator, logs of products split and log(1 + t)
    written log1p(t); None where that changes nothing or the op has kinks. Binary cross entropy's
    log(1 - sigma(z)) takes the log of a box from 0 at z = 400 (1 - sigma is 1e-174 there, and float64
    rounds 1 - sigma to 0); rewritten it is log1p(e^z) less z, which a box holds within a few ULPs."""
    if op.closed_form.kinks or n > MAX_ROW:
        return None
    forward = build(op, n).forward
    found = []
    for expr in forward:
        expr = expr.replace(lambda e: isinstance(e, sp.log), lambda e: sp.log(sp.together(e.args[0])))
        expr = sp.expand_log(expr, force=True)
        expr = expr.replace(_log_of_one_plus, lambda e: log1p(e.args[0] - 1))
        if not _on_boxes_only(expr):
            return None
        found.append(_shifted_log_sums(expr))
    return None if found == list(forward) else found


def _on_boxes_only(expr: sp.Expr) -> bool:
    """Whether on_boxes evaluates `expr`: its functions all have box versions, and no branch or max."""
    known = all(f.func in _FUNCTIONS for f in expr.atoms(sp.Function))
    return known and not expr.has(sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.Abs)


def _log_of_one_plus(e: sp.Expr) -> bool:
    return isinstance(e, sp.log) and e.args[0].is_Add and any(a == 1 for a in e.args[0].args)


def _shifted_log_sums(expr: sp.Expr) -> sp.Expr:
    """Every log(sum_j e^{b_j}) - b_i written log1p(sum_{j != i} e^{b_j - b_i}). SymPy writes softmax cross
    entropy's derivative in its targets, -log s_i, as that difference, and at a dominant logit its two terms
    agree to every digit long double has (log(1 - 1e-120)); the log1p form has no difference to cancel."""
    if expr.is_Atom:
        return expr
    expr = expr.func(*(_shifted_log_sums(a) for a in expr.args))
    if not expr.is_Add:
        return expr
    terms = list(expr.args)
    for term in terms:
        inside = term.args[0] if isinstance(term, sp.log) else None
        if inside is None or not inside.is_Add or not all(isinstance(e, sp.exp) for e in inside.args):
            continue
        powers = [e.args[0] for e in inside.args]
        for i, b in enumerate(powers):
            if -b in terms:
                rest = [t for t in terms if t is not term]
                rest.remove(-b)
                others = sp.Add(*(sp.exp(c - b) for j, c in enumerate(powers) if j != i))
                return sp.Add(*rest) + log1p(others)  # type: ignore[no-any-return]
    return expr


def symbols(op: Op, n: int = 1) -> tuple[dict[str, list[sp.Symbol]], dict[str, sp.Symbol]]:
    """The symbols `rewritten` is written in: each input's row, by name, and each parameter's."""
    rs = build(op, n)
    return rs.inputs, rs.params


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
