"""mx.linalg.norm squares without scaling: a slice whose entries are all below about 1e-19 (float32) or
1e-154 (float64) has squares below the smallest subnormal, so its 2-norm comes out 0 (torch's norm does
the same; gradproof lists that one as a known finding). Class: precision limit (range of the naive
formula). gradproof: norm2_dim forward, float32 (quick profile) and float64 (default profile).

python examples/findings/mlx_norm2_underflow.py
"""

import math

import mlx.core as mx
import numpy as np

print(f"mlx {mx.__version__}")
for dtype, scale in ((mx.float32, 1e-24), (mx.float64, 1e-247)):
    x = np.array([1.2, 0.9, 0.5]) * scale
    got = mx.linalg.norm(mx.array(x, dtype=dtype)).item()
    print(f"{dtype}: norm of {x.tolist()}: MLX {got!r}, exact {math.hypot(*x):.7g}")
