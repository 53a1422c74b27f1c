"""The names the command line accepts, with no heavy import: a usage error is answered before torch,
SymPy or hypothesis load. The modules that act on these names take them from here."""

from __future__ import annotations

VALUE_CHECKS = ("forward", "vjp", "projection", "jacobian", "jvp", "transpose", "vjp-of-vjp", "hvp")
SECOND_ORDER = ("vjp-of-vjp", "hvp")  # run with --order 2 or when named
CONFORMANCE_CHECKS = ("dtype-shape", "inplace", "determinism", "cotangent")
BUILT_IN_BACKENDS = ("numpy", "torch")
FD_ORACLE = "fd"  # not an implementation: finite differences of the NumPy reference against the exact values
BACKENDS = (*BUILT_IN_BACKENDS, FD_ORACLE)
DTYPES = ("float64", "float32", "float16", "bfloat16")
DEVICES = ("cpu", "cuda")
PROFILES = {"quick": 2, "default": 6, "thorough": 40}  # examples per region
DEFAULT_TIMEOUT = 10.0  # seconds per call into --impl (a JIT compiles within it); a check stops at its first timeout
