"""MLX on CPU computes float64 exp (and so sigmoid, softmax, logaddexp, logsumexp and their vjps) with a
float32 polynomial: the result is labelled float64 but carries about 7 significant digits, and exp
saturates at float32's range (exp(-200) = 0, exp(100) = inf). Class: bug (upstream ml-explore/mlx#3047,
open, labelled "bug, low priority"). gradproof: sigmoid, softmax, softmax_cross_entropy, dense_layer and
the backprop chains with g = sigmoid, perceptron_single/multi, all at float64.

python examples/findings/mlx_float64_exp.py
"""

import math

import mlx.core as mx
import numpy as np

z = np.array([-5.561603149401883, -0.9650184304300264, 1.7118999128264072, 5.789228347405096])
Z = mx.array(z, dtype=mx.float64)
exact_sigmoid = 1 / (1 + np.exp(-z))  # NumPy's float64 exp is correctly rounded to within 1 ulp
exact_softmax = np.exp(z - z.max()) / np.exp(z - z.max()).sum()

rows = [
    ("exp", np.array(mx.exp(Z)), np.exp(z)),
    ("sigmoid", np.array(mx.sigmoid(Z)), exact_sigmoid),
    ("softmax", np.array(mx.softmax(Z, axis=-1)), exact_softmax),
    ("logaddexp(z, 0)", np.array(mx.logaddexp(Z, mx.zeros_like(Z))), np.logaddexp(z, 0)),
]
_, (dz,) = mx.vjp(mx.sigmoid, [Z], [mx.ones_like(Z)])
rows.append(("sigmoid vjp", np.array(dz), exact_sigmoid * (1 - exact_sigmoid)))
print(f"mlx {mx.__version__}, float64 on {mx.default_device()}")
for name, got, want in rows:
    rel = np.max(np.abs(got - want) / np.abs(want))
    print(f"{name:16s} dtype {got.dtype}  max relative error {rel:.1e}  (float64 eps 1.1e-16, float32 eps 6.0e-08)")
for v in (-200.0, 100.0):
    got = mx.exp(mx.array(v, dtype=mx.float64)).item()
    print(f"exp({v:g}) in float64: MLX {got!r}, exact {math.exp(v)!r}")
# The underflow reaches softmax: a logit 380 below the row's maximum gets probability 0, not ~1e-165.
row = mx.array([0.0, -380.0], dtype=mx.float64)
print("softmax([0, -380]) in float64:", np.array(mx.softmax(row)).tolist(), "exact second entry", math.exp(-380))
