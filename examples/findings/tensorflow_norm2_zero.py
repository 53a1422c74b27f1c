"""The gradient of tf.norm (ord="euclidean" over an axis) is NaN on an all-zero slice: sqrt's gradient
is inf at 0 and meets the zero of d(x^2)/dx. Every vector of norm at most 1 is a subgradient there (0
is the usual choice, and torch's); NaN is none. Class: bug (upstream tensorflow/tensorflow#12071, open
since 2017). gradproof: norm2_dim vjp, float32 and float64 (region "zeros").

python examples/findings/tensorflow_norm2_zero.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}")
for dtype in (np.float32, np.float64):
    x = tf.constant(np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0]], dtype=dtype))
    with tf.GradientTape() as tape:
        tape.watch(x)
        n = tf.norm(x, ord="euclidean", axis=-1)
    g = tape.gradient(n, x)
    print(dtype.__name__, "norms", n.numpy().tolist(), "gradient", g.numpy().tolist(), "(row 0: a zero slice)")
