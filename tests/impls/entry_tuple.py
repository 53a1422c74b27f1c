"""The NumPy reference for every catalog op, its vjp returning one gradient per input as a tuple in
input order, None for an input that is not differentiable, whatever form the reference returns them in."""

from derivations import CATALOG, TENSOR_OPS
from harness.backends import numpy_ref as ref


def _as_tuple(name, vjp):
    count = len({**CATALOG, **TENSOR_OPS}[name].inputs)

    def grads(*args, **params):
        out = vjp(*args, **params)
        return tuple(out) if isinstance(out, (tuple, list)) else (out, *[None] * (count - 1))

    return grads


OPS = {name: (op.forward, _as_tuple(name, op.vjp)) for name, op in ref.OPS.items()}
