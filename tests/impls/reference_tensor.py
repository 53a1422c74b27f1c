"""The NumPy reference's tensor ops under the user-facing contract (an OPS dict of pairs)."""

from derivations import TENSOR_OPS
from harness.backends import numpy_ref as ref

OPS = {name: (ref.OPS[name].forward, ref.OPS[name].vjp) for name in TENSOR_OPS}
