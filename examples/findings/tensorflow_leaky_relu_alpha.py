"""tf.nn.leaky_relu keeps its slope in the op attribute `alpha: float`, a 32-bit float: in float64 it
multiplies by float32(alpha), so every negative input (and its gradient) is off by up to 2^-24
relatively, 1e8 ulps of float64, for any slope that float32 cannot hold exactly (0.01, 0.1).
Class: bug (float64 computed with a float32 constant). gradproof: leaky_relu forward and vjp at
float64, and backprop_chain_L2..L4 with g = leaky_relu (slope 0.1) at float64.

python examples/findings/tensorflow_leaky_relu_alpha.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

z = np.array([-2.22076167133441e-154, -1.0, -3.7])
print(f"tensorflow {tf.__version__}")
for alpha in (0.01, 0.1):
    x = tf.constant(z)  # float64
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.leaky_relu(x, alpha=alpha)
    g = tape.gradient(y, x).numpy()
    print(f"alpha {alpha}: forward {y.numpy().tolist()}")
    print(f"           exact   {(alpha * z).tolist()}")
    print(f"           gradient {g.tolist()} (exact {alpha!r}; float32(alpha) = {float(np.float32(alpha))!r})")
