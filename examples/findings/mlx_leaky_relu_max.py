"""mlx.nn.leaky_relu is max(alpha x, x), as its docstring says; that is leaky ReLU (x for x > 0,
alpha x below) only for alpha <= 1. With alpha = 2 it returns 2x for x > 0 and x for x < 0. The notes'
own a = max(alpha z, z) has the same limit (gradproof's claim leaky_max_form). Class: convention.
gradproof: leaky_relu forward and vjp at a slope above 1 (not drawn at seed 0 of the quick profile:
gradproof verify --impl examples/mlx_impl.py --only leaky_relu --at z=-1.5,0.5,-2 --param alpha=2).

python examples/findings/mlx_leaky_relu_max.py
"""

import mlx.core as mx
import mlx.nn as nn
import numpy as np

z = np.array([-1.5, 0.5, -2.0])
print(f"mlx {mx.__version__}")
got = np.array(nn.leaky_relu(mx.array(z, dtype=mx.float64), negative_slope=2.0))
print("z                :", z.tolist())
print("nn.leaky_relu(z) :", got.tolist())
print("leaky ReLU, a = 2:", np.where(z > 0, z, 2.0 * z).tolist())
