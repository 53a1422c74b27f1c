"""A catalog derivation's forward and stated derivative as MathML, from SymPy's printer,
so that browsers draw the formulas with no script."""

from __future__ import annotations

import functools
import re
from html import escape

import sympy as sp
from sympy.printing.mathml import mathml

from derivations import CATALOG
from harness import symbols

ROW_LENGTH = 3  # row ops are shown at a small concrete row length


def _ml(expr: object) -> str:
    # SymPy prints the relations of a Piecewise as a bare "<" or ">": escaped, the MathML is well-formed XML.
    raw = mathml(expr, printer="presentation")
    return re.sub(r"<mo>([<>]=?)</mo>", lambda m: f"<mo>{escape(m.group(1))}</mo>", raw)


def _equation(lhs: object, rhs: object) -> str:
    return f'<math display="block"><mrow>{_ml(lhs)}<mo>=</mo>{_ml(rhs)}</mrow></math>'


@functools.cache
def of(name: str) -> tuple[tuple[str, str], ...]:
    """(caption, MathML) pairs for a catalog entry; empty for names outside the catalog.

    Only catalog code reaches the printer: a report's own strings never become markup.
    """
    d = CATALOG.get(name)
    if d is None or d.structure not in ("elementwise", "row"):
        return ()
    n = 1 if d.structure == "elementwise" else ROW_LENGTH
    rs = symbols.declare(d, n)
    x = rs.inputs[d.wrt.name]
    shown: list[tuple[str, str]] = []
    if d.structure == "elementwise":
        shown.append(("forward", _equation(rs.out[0], rs.forward[0])))
        derivative = sp.Derivative(rs.out[0], x[0])
        shown.append(("derivative as the notes state it", _equation(derivative, rs.stated_in_out[0])))
        return tuple(shown)
    at = f" (row length n = {n})"
    shown.append(("forward" + at, _equation(rs.out[0], rs.forward[0])))
    m = len(rs.forward)
    stated = sp.Matrix(m, n, rs.stated_in_out)
    lhs = sp.Symbol(f"∂{rs.out[0]}/∂{d.wrt.name}") if m == 1 else sp.Symbol(f"∂out/∂{d.wrt.name}")
    shown.append(("derivative as the notes state it" + at, _equation(lhs, stated)))
    return tuple(shown)
