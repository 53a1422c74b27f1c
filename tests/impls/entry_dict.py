"""The NumPy reference for every catalog op, its vjp returning a dict by input name; a target is
left out of the dict (the contract reads a missing input as None)."""

from derivations import CATALOG, TENSOR_OPS
from harness.backends import numpy_ref as ref


def _as_dict(name, vjp):
    inputs = [i.name for i in {**CATALOG, **TENSOR_OPS}[name].inputs]

    def grads(*args, **params):
        out = vjp(*args, **params)
        out = tuple(out) if isinstance(out, (tuple, list)) else (out, *[None] * (len(inputs) - 1))
        return {n: g for n, g in zip(inputs, out, strict=True) if g is not None}

    return grads


OPS = {name: (op.forward, _as_dict(name, op.vjp)) for name, op in ref.OPS.items()}
