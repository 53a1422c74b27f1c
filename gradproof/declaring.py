"""gradproof.op: declare an op the notes do not cover, and check implementations against it.

@gradproof.op(inputs={"x": ("B", "n")})
def gelu(m, x):
    return 0.5 * x * (1 + m.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))

gradproof.check(lambda x: torch.nn.functional.gelu(x, approximate="tanh"), gelu)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from derivations.declared import DeclarationError, declare
from derivations.model import Op

__all__ = ["DeclarationError", "op"]


def op(**declaration: Any) -> Callable[[Callable[..., Any]], Op]:
    """Turn `forward(m, *inputs, **params)`, written with NumPy operators and the functions of the
    namespace m (exp, log, log1p, tanh, sqrt, sigmoid), into an op every check can use.

    Keywords (derivations/declared.py:declare): `inputs` maps each input to its axes: a name (a size
    drawn per example, within `dims`, default 1 to 4, shared by every axis of that name) or a fixed
    size. `regions` maps a region's name to the range of every entry (default {"typical": (-3, 3)});
    `domains` narrows one input's range; `differentiable` names the inputs with a gradient (default
    all). `params` are keyword constants passed to the forward and to the implementation alike.
    """
    return lambda forward: declare(forward, **declaration)
