"""tf.norm squares without scaling: a slice whose entries are all below about 1e-19 (float32) or 1e-154
(float64) has squares below the smallest subnormal, so its 2-norm comes out 0 (torch's norm does the
same; gradproof lists that one as a known finding). Class: precision limit (range of the naive formula).
gradproof: norm2_dim forward, float32 (quick profile) and float64 (default profile).

python examples/findings/tensorflow_norm2_underflow.py
"""

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}")
for dtype, scale in ((tf.float32, 1e-24), (tf.float64, 1e-247)):
    x = np.array([1.2, 0.9, 0.5]) * scale
    got = float(tf.norm(tf.constant(x, dtype=dtype), ord="euclidean").numpy())
    print(f"{dtype.name}: norm of {x.tolist()}: TensorFlow {got!r}, exact {math.hypot(*x):.7g}")
