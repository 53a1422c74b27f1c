"""MLX's topk (a slice of mx.partition) sends cotangents to the wrong entries when the input has tied
values: Partition's vjp recomputes the permutation with argpartition, which can arrange the entries
differently from the partition the forward returned. The gradient then lands on entries that hold
another value (here 1.0 gets the cotangent of a -1.0 output). Class: bug. gradproof: topk vjp,
float32 and float64 (region "zeros", which draws ties).

python examples/findings/mlx_topk_ties.py
"""

import mlx.core as mx
import numpy as np

x = np.array([-1.0, -0.0, 1.0, -1.0, -1.0, -2.0])
c = np.array([1.0, 10.0, 100.0, 1000.0])  # one cotangent per output, told apart by their size
print(f"mlx {mx.__version__}")
X = mx.array(x, dtype=mx.float64)
print("partition(x, 2) values        :", np.array(mx.partition(X, 2)).tolist())
print("x[argpartition(x, 2)]         :", x[np.array(mx.argpartition(X, 2))].tolist(), "(another arrangement)")
(out,), (g,) = mx.vjp(lambda t: mx.topk(t, 4), [X], [mx.array(c, dtype=mx.float64)])
out, g = np.array(out), np.array(g)
print("topk(x, 4)                    :", out.tolist())
print("cotangent                     :", c.tolist())
print("MLX gradient                  :", g.tolist())
# Each output's cotangent must reach an entry that holds the output's value.
for value, cot in zip(out, c, strict=True):
    holders = np.flatnonzero(g == cot)
    where = ", ".join(f"x[{i}] = {x[i]}" for i in holders)
    verdict = "right" if x[holders[0]] == value else "WRONG value"
    print(f"output {value:+.1f}: its cotangent {cot:g} went to {where} ({verdict})")
