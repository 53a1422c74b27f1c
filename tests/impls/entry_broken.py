"""Every catalog op with a right forward and a wrong vjp (2 g + 1 for every differentiable input),
for the xfail lines of an expectations file."""

from derivations import CATALOG, TENSOR_OPS
from harness.backends import numpy_ref as ref


def _wrong(name, vjp):
    count = len({**CATALOG, **TENSOR_OPS}[name].inputs)

    def grads(*args, **params):
        out = vjp(*args, **params)
        out = tuple(out) if isinstance(out, (tuple, list)) else (out, *[None] * (count - 1))
        # 2 g + 1 moves every entry but -1, so each op's vjp check fails at any drawn or given input.
        return tuple(None if g is None else 2 * g + 1 for g in out)

    return grads


OPS = {name: (op.forward, _wrong(name, op.vjp)) for name, op in ref.OPS.items()}
