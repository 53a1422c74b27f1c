"""mlx.nn.losses.cross_entropy with probability targets computes logsumexp(z) - sum(y z), which equals
the cross entropy -sum y log softmax(z) only where the targets sum to 1. Its gradient in the targets is
therefore -(z - max z) where the cross entropy's is -log softmax(z) = logsumexp(z) - z: the two differ by
logsumexp(z) - max z in every entry of a row, a multiple of (1, ..., 1), the one direction that leaves the
probability simplex. Along the simplex (any change of y whose entries sum to 0) both agree, so targets
produced by a softmax get the same gradient; a free, unnormalised target does not. torch, TensorFlow
and JAX differentiate -sum y log softmax(z). Class: convention (which extension of the loss off the
simplex is differentiated). gradproof: softmax_cross_entropy vjp (the gradient of y), float32 and float64.

python examples/findings/mlx_cross_entropy_targets.py
"""

import mlx.core as mx
import mlx.nn as nn
import numpy as np

z = np.array([[0.5, -1.2, 2.0], [3.0, 0.0, -4.0]])
y = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
print(f"mlx {mx.__version__}")
Z, Y = mx.array(z, dtype=mx.float64), mx.array(y, dtype=mx.float64)
_, (dz, dy) = mx.vjp(lambda a, b: nn.losses.cross_entropy(a, b), [Z, Y], [mx.ones((2,), dtype=mx.float64)])
lse = np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
print("MLX d/dy                     :", np.array(dy).round(6).tolist())
print("d/dy of -sum y log softmax(z):", (lse - z).round(6).tolist())
print("difference per row           :", (np.array(dy) - (lse - z)).round(6).tolist(), "(constant along each row)")
print("MLX d/dz (agrees)            :", np.allclose(np.array(dz), np.exp(z - lse) - y))
