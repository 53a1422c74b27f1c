"""F1, F2: sum, mean and the vector 1- and 2-norms over a dim, with their kinks.

The notes name these ops (001) but state no gradient formulas: the gradients are checked
against the exact ones. Kinks: |x|' at 0 (anywhere in [-1, 1]) and the 2-norm at a zero
slice, whose derivative there is the whole unit ball.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from derivations.model import Arrays, Elementary, Op, Params, named
from derivations.reductions import STAT_REGIONS, expand, keep, reduction_op, size_of_dim, sum_dim
from derivations.ties import floor


# The forwards, as the ops are defined.
def sum_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return sum_dim(a["x"], p)


def mean_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return sum_dim(a["x"], p) / size_of_dim(a["x"], p)


def norm1_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return sum_dim(np.abs(a["x"]), p)  # ||x||_1 = sum |x_i|


def norm2_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return m.sqrt(sum_dim(a["x"] * a["x"], p))  # ||x||_2 = sqrt(sum x_i^2)


def _linear_bound(scale: Callable[[np.ndarray, Params], float]) -> Callable[..., dict[str, np.ndarray]]:
    def bound(a: Arrays, p: Params, c: np.ndarray) -> dict[str, np.ndarray]:
        x = np.asarray(a["x"], dtype=np.float64)
        k = scale(x, p)
        return {"out": np.asarray(sum_dim(np.abs(x), p)) * k, "x": np.broadcast_to(np.abs(expand(c, p)) * k, x.shape)}

    return bound


def _norm_and_unit(x: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """Each slice's 2-norm (kept dim) and x / ||x|| (0 at a zero slice), scaled by max |x| first
    so that tiny or huge entries neither underflow nor overflow in the squares."""
    scale = np.max(np.abs(x), axis=p["dim"], keepdims=True)
    y = np.divide(x, scale, out=np.zeros_like(x), where=scale > 0)
    length = np.sqrt(np.sum(y * y, axis=p["dim"], keepdims=True))
    return scale * length, np.divide(y, length, out=np.zeros_like(y), where=length > 0)


def norm2_bound(a: Arrays, p: Params, c: np.ndarray) -> dict[str, np.ndarray]:
    x = np.asarray(a["x"], dtype=np.float64)
    norm, unit = _norm_and_unit(x, p)
    unit = np.where(norm > 0, np.abs(unit), 1.0)
    return {"out": np.asarray(keep(np.squeeze(norm, p["dim"]), p)), "x": np.abs(expand(c, p)) * unit}


def norm1_gap(a: Arrays, p: Params) -> float:
    return float(np.min(np.abs(a["x"])))


def norm1_branch(a: Arrays, p: Params) -> np.ndarray:
    return np.sign(a["x"])  # type: ignore[no-any-return]


def norm1_rule(a: Arrays, p: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float) -> str | None:
    """|x|'(0) may be any t in [-1, 1], entry by entry; elsewhere it is sign(x)."""
    x = np.asarray(a["x"], dtype=np.float64)
    cx = np.broadcast_to(expand(c, p), x.shape)
    g = np.asarray(grads["x"], dtype=np.float64)
    tol = rtol * (np.abs(cx) + np.abs(g)) + floor(rtol, x, c, g)
    zero = x == 0
    off_sign = np.abs(g - cx * np.sign(x))[~zero] > tol[~zero]
    if np.any(off_sign) or np.any(np.abs(g[zero]) > np.abs(cx[zero]) + tol[zero]):
        return None
    if not zero.any():
        return "no zero entry reached"
    t = sorted({round(float(v), 6) for v in (g[zero] / np.where(cx[zero] == 0, 1, cx[zero]))})
    return "|x|'(0) = 0" if t == [0.0] else "|x|'(0) in [-1, 1]: " + ", ".join(f"{v:g}" for v in t[:4])


def norm2_gap(a: Arrays, p: Params) -> float:
    x = np.asarray(a["x"], dtype=np.float64)
    return float(np.min(np.max(np.abs(x), axis=p["dim"])))  # 0 only at a zero slice


def norm2_branch(a: Arrays, p: Params) -> np.ndarray:
    """Each slice norm's binade, offset so that no sum of squared integers sits on a boundary:
    a stencil whose step is not small beside ||x|| leaves it and is discarded (near a zero
    slice the norm is a cone, and differences there agree with each other and are wrong)."""
    norm = np.squeeze(_norm_and_unit(np.asarray(a["x"], dtype=np.float64), p)[0], p["dim"])
    return np.floor(np.log2(np.where(norm > 0, norm, 1.0)) + 0.3) + np.where(norm > 0, 0, -4096)  # type: ignore[no-any-return]


def norm2_rule(a: Arrays, p: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float) -> str | None:
    """At a zero slice the gradient may be c u for any u in the unit ball; elsewhere c x / ||x||."""
    x = np.asarray(a["x"], dtype=np.float64)
    norm, unit = _norm_and_unit(x, p)
    cx = expand(c, p)
    g = np.asarray(grads["x"], dtype=np.float64)
    want = cx * unit
    zero = np.broadcast_to(norm == 0, x.shape)
    tiny = floor(rtol, x, c, g)
    tol = rtol * (np.abs(want) + np.abs(g)) + tiny
    if np.any(np.abs(g - want)[~zero] > tol[~zero]):
        return None
    length = np.sqrt(np.sum(np.where(zero, g, 0.0) ** 2, axis=p["dim"], keepdims=True))
    if np.any(length > np.abs(cx) * (1 + rtol) + tiny):
        return None
    if not zero.any():
        return "no zero slice reached"
    if np.any(g[zero]):
        return "||x||' at 0: a point of the unit ball"
    return "||x||' at 0 = 0 (the unit ball's centre)"


OPS: tuple[Op, ...] = (
    reduction_op("sum_dim", sum_forward, "Sum over a dim", ("F2", "F3"), bound=_linear_bound(lambda x, p: 1.0)),
    reduction_op(
        "mean_dim",
        mean_forward,
        "Mean over a dim",
        ("F2", "F3"),
        bound=_linear_bound(lambda x, p: 1.0 / size_of_dim(x, p)),
    ),
    reduction_op(
        "norm1_dim",
        norm1_forward,
        "Vector 1-norm over a dim, sum |x_i|",
        ("F1", "F3"),
        bound=_linear_bound(lambda x, p: 1.0),
        kink_gap=norm1_gap,
        branch=norm1_branch,
        tie_rule="|x|'(0) anywhere in [-1, 1]",
        subgradient_ok=norm1_rule,
    ),
    reduction_op(
        "norm2_dim",
        norm2_forward,
        "Vector 2-norm over a dim, sqrt(sum x_i^2)",
        ("F1", "F3"),
        bound=norm2_bound,
        kink_gap=norm2_gap,
        branch=norm2_branch,
        regions=named(*STAT_REGIONS, "tiny"),
        tie_rule="at a zero slice, c u for any u in the unit ball",
        subgradient_ok=norm2_rule,
    ),
)
