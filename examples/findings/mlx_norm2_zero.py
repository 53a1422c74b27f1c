"""The vjp of mx.linalg.norm (the 2-norm over an axis) is NaN on an all-zero slice: it divides x by
the norm, 0/0. Every vector of norm at most 1 is a subgradient there (0 is the usual choice, and
torch's); NaN is none and poisons a training step. Class: bug. gradproof: norm2_dim vjp, float32 and
float64 (region "zeros").

python examples/findings/mlx_norm2_zero.py
"""

import mlx.core as mx
import numpy as np

print(f"mlx {mx.__version__}")
for dtype in (mx.float32, mx.float64):
    x = mx.array(np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0]]), dtype=dtype)
    (n,), (g,) = mx.vjp(lambda t: mx.linalg.norm(t, axis=-1), [x], [mx.ones((2,), dtype=dtype)])
    print(dtype, "norms", np.array(n).tolist(), "gradient", np.array(g).tolist(), "(row 0: a zero slice)")
