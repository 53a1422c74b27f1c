"""SymPy expressions of a derivation at a concrete row length, built once and cached."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import sympy as sp

from derivations.model import Op, Simplex, as_list, row_symbols


@dataclass(frozen=True)
class RowSymbols:
    """Everything symbolic about one derivation at row length n (1 for elementwise ops).

    Jacobians are flattened row-major: entry i*n + j is d out_i / d x_j.
    """

    n: int
    inputs: dict[str, list[sp.Symbol]]
    params: dict[str, sp.Symbol]
    out: list[sp.Symbol]
    forward: list[sp.Expr]
    stated_in_out: list[sp.Expr]  # as the document writes it, outputs left as symbols
    raw_true_jacobian: list[sp.Expr]  # no constraint substituted: what backends compute
    # The same for every differentiable input, the stated one first: a target's gradient is checked
    # too, against SymPy's derivative (the notes state none for it).
    raw_jacobians: dict[str, list[sp.Expr]]
    constraint: dict[sp.Symbol, sp.Expr]  # a simplex input's last entry in terms of the others

    @property
    def m(self) -> int:
        return len(self.forward)

    # The two substituted forms only the symbolic verdict reads: the references never pay for them.
    @functools.cached_property
    def true_jacobian(self) -> list[sp.Expr]:
        """Differentiated by SymPy, domain constraints applied."""
        return [e.subs(self.constraint) for e in self.raw_true_jacobian]

    @functools.cached_property
    def stated_jacobian(self) -> list[sp.Expr]:
        """As the document writes it, outputs substituted and domain constraints applied."""
        to_forward = dict(zip(self.out, self.forward, strict=True))
        return [e.subs(to_forward).subs(self.constraint) for e in self.stated_in_out]


def _stated_matrix(d: Op, value: Any, m: int, n: int) -> list[sp.Expr]:
    if d.structure == "elementwise":
        return [sp.sympify(value)]
    rows = value if isinstance(value, list) else [value]
    if m == 1 and not isinstance(rows[0], list):
        return [sp.sympify(e) for e in rows]
    return [sp.sympify(e) for row in rows for e in row]


@dataclass(frozen=True)
class Declared:
    """A derivation's expressions as declared, before anything is differentiated."""

    inputs: dict[str, list[sp.Symbol]]
    params: dict[str, sp.Symbol]
    out: list[sp.Symbol]
    forward: list[sp.Expr]
    stated_in_out: list[sp.Expr]  # as the document writes it, outputs left as symbols


@functools.cache
def declare(d: Op, n: int) -> Declared:
    """Cheap: the symbols, the forward and the stated derivative (what the report prints)."""
    if d.structure == "elementwise":
        n = 1
        inputs = {i.name: [sp.Symbol(i.name, real=True)] for i in d.inputs}
        args = [syms[0] for syms in inputs.values()]
    else:
        inputs = {i.name: row_symbols(i.name + "_", n) for i in d.inputs}
        args = list(inputs.values())
    params = {p.name: sp.Symbol(p.name, real=True) for p in d.params}
    forward = as_list(d.closed_form.forward(*args, **params))
    m = len(forward)
    out = [sp.Symbol("out", real=True)] if m == 1 else row_symbols("out_", m)
    out_arg: object = out[0] if (d.structure == "elementwise" or d.closed_form.reduces) else out
    stated_in_out = _stated_matrix(d, d.closed_form.stated(*args, out_arg, **params), m, n)
    return Declared(inputs, params, out, forward, stated_in_out)


@functools.cache
def build(d: Op, n: int) -> RowSymbols:
    if d.structure == "elementwise":
        n = 1
    decl = declare(d, n)
    inputs, forward, out, stated_in_out = decl.inputs, decl.forward, decl.out, decl.stated_in_out
    raw = {i.name: [sp.diff(f, v) for f in forward for v in inputs[i.name]] for i in d.differentiable}
    for name in list(raw)[1:]:
        # A target's gradient as differentiated cancels exactly where it is 0 (BCE's log(1 - s) - log s
        # at z = 0), and no interval is narrow against 0; simplified it is -z, exact there.
        raw[name] = [sp.simplify(e) for e in raw[name]]
    constraint: dict[sp.Symbol, sp.Expr] = {}
    for inp in d.inputs:
        if isinstance(inp.domain, Simplex):
            syms = inputs[inp.name]
            constraint[syms[-1]] = 1 - sum(syms[:-1])
    return RowSymbols(n, inputs, decl.params, out, forward, stated_in_out, raw[d.wrt.name], raw, constraint)
