"""TensorFlow's CPU kernels run with denormals-are-zero and flush-to-zero: a subnormal input reads as 0,
so tf.nn.relu's gradient at a positive subnormal z is 0 where 1 is due (and relu(z) is 0, not z). XLA
does the same (gradproof's JAX expectations). Class: convention (a speed setting of the CPU kernels).
gradproof: relu vjp, float32 and float64, at the default profile (seed 0 of the quick profile draws no
positive subnormal for relu).

python examples/findings/tensorflow_denormals.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}")
for dtype, z in ((np.float32, 3.3572308608293967e-41), (np.float64, 2.2250738585e-313)):
    x = tf.constant(np.array([z, 1.0], dtype=dtype))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.relu(x)
    relu, grad = float(y.numpy()[0]), float(tape.gradient(y, x).numpy()[0])
    print(f"{dtype.__name__}: z = {z!r} (subnormal, > 0): relu {relu!r}, gradient {grad!r}; exact {z!r} and 1.0")
    print(f"  in TensorFlow z * 1 = {float((x * 1).numpy()[0])!r} and z > 0 is {bool((x > 0).numpy()[0])}")
