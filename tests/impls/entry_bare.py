"""The NumPy reference for every one-input catalog op as module attributes `NAME` and `NAME_vjp`,
the vjp returning its one gradient as a bare array."""

from derivations import CATALOG, TENSOR_OPS
from harness.backends import numpy_ref as ref

ONE_INPUT = [name for name, d in {**CATALOG, **TENSOR_OPS}.items() if len(d.inputs) == 1]


def _bare(vjp):
    def grad(*args, **params):
        out = vjp(*args, **params)
        return out[0] if isinstance(out, (tuple, list)) else out

    return grad


for _name in ONE_INPUT:
    globals()[_name] = ref.OPS[_name].forward
    globals()[f"{_name}_vjp"] = _bare(ref.OPS[_name].vjp)
