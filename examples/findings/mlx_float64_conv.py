"""MLX on CPU convolves float64 inputs in float32: mx.conv2d copies them to float32 and calls
cblas_sgemm (or accumulates in a C++ float), so the float64 result has float32 accuracy; and the
vjp of a strided convolution (which convolves with input dilation) raises "unsupported data type"
for float64. Class: bug. gradproof: conv2d, inception_block and residual_block at float64.

python examples/findings/mlx_float64_conv.py
"""

import mlx.core as mx
import numpy as np

rng = np.random.default_rng(0)
x = rng.standard_normal((1, 5, 5, 2))  # NHWC, as MLX lays it out
w = rng.standard_normal((3, 2, 2, 2))  # (O, kh, kw, C)


def reference(x: np.ndarray, w: np.ndarray, stride: tuple[int, int]) -> np.ndarray:
    n, h, wd, _ = x.shape
    o, kh, kw, _ = w.shape
    oh, ow = (h - kh) // stride[0] + 1, (wd - kw) // stride[1] + 1
    out = np.zeros((n, oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw, :]
            out[:, i, j, :] = np.einsum("nhwc,ohwc->no", patch, w)
    return out


print(f"mlx {mx.__version__}, float64 on {mx.default_device()}")
X, W = mx.array(x, dtype=mx.float64), mx.array(w, dtype=mx.float64)
for stride in ((1, 1), (2, 1)):
    y = mx.conv2d(X, W, stride=stride)
    err = np.max(np.abs(np.array(y) - reference(x, w, stride)))
    print(f"stride {stride}: forward dtype {y.dtype}, max abs error {err:.1e} (float64 would be ~1e-15)")
    try:
        _, grads = mx.vjp(lambda a, b, s=stride: mx.conv2d(a, b, stride=s), [X, W], [mx.ones(y.shape, mx.float64)])
        mx.eval(grads)
        print(f"stride {stride}: vjp returns {grads[0].dtype}")
    except ValueError as exc:
        print(f"stride {stride}: vjp raises ValueError: {exc}")
