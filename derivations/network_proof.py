"""SymPy proof of the back-propagation recursion (D2, D3) for small networks with a generic g.

derivations.networks.chain_recursion - the same code the 80-digit check runs - is evaluated
over SymPy symbols with g an undefined function whose derivative is another undefined
function g', and compared entry by entry with SymPy's derivative of the whole network.
Equality proves the layer-wise formulas at that depth and width whatever g is (the
activations' own g' forms, a(1 - a) and 1 - a^2, are the A rows' business).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from derivations.networks import chain_recursion, layer_names


class g_prime(sp.Function):
    """g', left undefined."""


class g(sp.Function):
    """An activation left undefined, whose derivative is g'."""

    def fdiff(self, argindex: int = 1) -> Any:
        return g_prime(self.args[0])


def _symbols(prefix: str, shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        out[idx] = sp.Symbol(prefix + "_" + "_".join(map(str, idx)), real=True)
    return out


def prove_chain_recursion(depth: int, width: int = 2, batch: int = 2, stated: Any = chain_recursion) -> list[str]:
    """Entries where the stated recursion differs from SymPy's derivative (empty: proved)."""
    arrays: dict[str, np.ndarray] = {"x": _symbols("x", (batch, width))}
    for k, (wn, bn) in enumerate(layer_names(depth), 1):
        arrays[wn] = _symbols(f"w{k}", (width, width))
        arrays[bn] = _symbols(f"b{k}", (width,))
    c = _symbols("c", (batch, width))
    act = np.frompyfunc(g, 1, 1)
    slope = np.frompyfunc(g_prime, 1, 1)
    said = stated(arrays, c, act, lambda y, a: slope(y))
    out: Any = arrays["x"]
    for wn, bn in layer_names(depth):
        out = act(out @ arrays[wn].T + arrays[bn])
    loss = sp.Add(*np.ravel(out * c))
    return [
        f"d/d{name}{list(idx)}"
        for name in ("x", *(n for pair in layer_names(depth) for n in pair))
        for idx in np.ndindex(arrays[name].shape)
        if sp.expand(sp.diff(loss, arrays[name][idx]) - said[name][idx]) != 0
    ]
