"""F1-F3: reductions over one dim of a rank 1-4 tensor, with and without keepdim.

sum, mean, the vector 1- and 2-norms, max, min, kthvalue (k is 1-based, as in torch) and topk
(the k largest, largest first). The notes name these ops (001) but state no gradient
formulas: the gradients are checked against the exact ones. Kinks: |x|' at 0, the 2-norm at a
zero slice (its derivative there is the whole unit ball) and ties of the selecting ops, where
each output may route its cotangent to any entry that holds its value (derivations/ties.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations.model import Input, Source
from derivations.tensor_model import Arrays, Elementary, Params, TensorExample, TensorOp
from derivations.ties import TINY, routing_ok

SOURCE = Source(
    seed="001",
    section="张量统计",
    quote="norm; mean, sum, max, min, argmax, argmin; kthvalue——第几个的数值和位置; topk; 设置keepdim=True",
    claims=("F1", "F2", "F3"),
)
STAT_REGIONS = ("typical", "ties", "zeros")
DOC = {"dim": "the reduced axis, negative counts from the end", "keepdim": "keep the reduced axis with size 1"}


def _n(x: Any, params: Params) -> int:
    return int(np.shape(x)[params["dim"]])


def _keep(v: Any, params: Params) -> Any:
    return np.expand_dims(v, params["dim"]) if params.get("keepdim") else v


def _sum(x: Any, params: Params) -> Any:
    return np.sum(x, axis=params["dim"], keepdims=bool(params.get("keepdim")))


def _expand(c: np.ndarray, params: Params) -> np.ndarray:
    """A cotangent of the reduced shape, broadcastable against x."""
    return np.asarray(c if params.get("keepdim") else np.expand_dims(c, params["dim"]))


# The forwards, as the ops are defined.
def sum_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return _sum(a["x"], p)


def mean_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return _sum(a["x"], p) / _n(a["x"], p)


def norm1_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return _sum(np.abs(a["x"]), p)  # ||x||_1 = sum |x_i|


def norm2_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return m.sqrt(_sum(a["x"] * a["x"], p))  # ||x||_2 = sqrt(sum x_i^2)


def _sorted(x: Any, p: Params) -> Any:
    return np.sort(x, axis=p["dim"])


def max_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return np.max(a["x"], axis=p["dim"], keepdims=bool(p.get("keepdim")))


def min_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return np.min(a["x"], axis=p["dim"], keepdims=bool(p.get("keepdim")))


def kthvalue_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return _keep(np.take(_sorted(a["x"], p), p["k"] - 1, axis=p["dim"]), p)  # the k-th smallest


def topk_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    n = _n(a["x"], p)
    return np.take(_sorted(a["x"], p), range(n - 1, n - 1 - p["k"], -1), axis=p["dim"])  # largest first


# Which ascending-order positions of a slice of length n each op outputs, in output order.
POSITIONS: dict[str, Callable[[int, Params], list[int]]] = {
    "max_dim": lambda n, p: [n - 1],
    "min_dim": lambda n, p: [0],
    "kthvalue": lambda n, p: [p["k"] - 1],
    "topk": lambda n, p: list(range(n - 1, n - 1 - p["k"], -1)),
}


def _slices(x: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """x's slices along dim as rows, and each entry's flat index in x."""
    n = _n(x, p)
    index = np.moveaxis(np.arange(x.size).reshape(x.shape), p["dim"], -1).reshape(-1, n)
    return np.moveaxis(np.asarray(x, dtype=np.float64), p["dim"], -1).reshape(-1, n), index


def _rows_of(c: np.ndarray, p: Params, single: bool) -> np.ndarray:
    """The cotangent as (slice, output) rows, in the order of _slices."""
    c = _expand(c, p) if single else np.asarray(c)
    return np.moveaxis(c, p["dim"], -1).reshape(-1, c.shape[p["dim"]])


def _selection(name: str) -> tuple[Callable[..., Any], ...]:
    """kink_gap, branch, subgradient rule and bound of a selecting op."""
    where = POSITIONS[name]

    def gap(a: Arrays, p: Params) -> float:
        rows, _ = _slices(a["x"], p)
        s = np.sort(rows, axis=-1)
        n = s.shape[-1]
        gaps = [np.inf]
        for q in where(n, p):
            gaps += [float(np.min(s[:, q] - s[:, q - 1]))] if q > 0 else []
            gaps += [float(np.min(s[:, q + 1] - s[:, q]))] if q + 1 < n else []
        return min(gaps)

    def branch(a: Arrays, p: Params) -> np.ndarray:
        rows, _ = _slices(a["x"], p)
        return np.argsort(rows, axis=-1, kind="stable")[:, where(rows.shape[-1], p)]  # type: ignore[no-any-return]

    def candidates(a: Arrays, p: Params) -> tuple[list[np.ndarray], list[list[int]]]:
        rows, index = _slices(a["x"], p)
        s = np.sort(rows, axis=-1)
        found: list[np.ndarray] = []
        groups: list[list[int]] = []
        for r in range(rows.shape[0]):
            qs = where(rows.shape[-1], p)
            groups.append(list(range(len(found), len(found) + len(qs))))
            found += [index[r][rows[r] == s[r, q]] for q in qs]
        return found, groups

    def rule(a: Arrays, p: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float) -> str | None:
        found, groups = candidates(a, p)
        return routing_ok(found, _rows_of(c, p, name != "topk").reshape(-1), grads["x"], rtol, groups)

    def bound(a: Arrays, p: Params, c: np.ndarray) -> dict[str, np.ndarray]:
        x = np.asarray(a["x"], dtype=np.float64)
        found, _ = candidates(a, p)
        g = np.zeros(x.size)
        for o, cot in enumerate(np.abs(_rows_of(c, p, name != "topk").reshape(-1))):
            g[found[o]] += cot  # a selection is exact; every tied entry may receive the cotangent
        forward = TABLE[name][0]
        return {"out": np.abs(np.asarray(forward(np, a, p), dtype=np.float64)), "x": g.reshape(x.shape)}

    return gap, branch, rule, bound


def _linear_bound(scale: Callable[[np.ndarray, Params], float]) -> Callable[..., dict[str, np.ndarray]]:
    def bound(a: Arrays, p: Params, c: np.ndarray) -> dict[str, np.ndarray]:
        x = np.asarray(a["x"], dtype=np.float64)
        k = scale(x, p)
        return {"out": np.asarray(_sum(np.abs(x), p)) * k, "x": np.broadcast_to(np.abs(_expand(c, p)) * k, x.shape)}

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
    return {"out": np.asarray(_keep(np.squeeze(norm, p["dim"]), p)), "x": np.abs(_expand(c, p)) * unit}


def norm1_gap(a: Arrays, p: Params) -> float:
    return float(np.min(np.abs(a["x"])))


def norm1_branch(a: Arrays, p: Params) -> np.ndarray:
    return np.sign(a["x"])  # type: ignore[no-any-return]


def norm1_rule(a: Arrays, p: Params, c: np.ndarray, grads: Mapping[str, np.ndarray], rtol: float) -> str | None:
    """|x|'(0) may be any t in [-1, 1], entry by entry; elsewhere it is sign(x)."""
    x = np.asarray(a["x"], dtype=np.float64)
    cx = np.broadcast_to(_expand(c, p), x.shape)
    g = np.asarray(grads["x"], dtype=np.float64)
    tol = rtol * (np.abs(cx) + np.abs(g)) + TINY
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
    cx = _expand(c, p)
    g = np.asarray(grads["x"], dtype=np.float64)
    want = cx * unit
    zero = np.broadcast_to(norm == 0, x.shape)
    tol = rtol * (np.abs(want) + np.abs(g)) + TINY
    if np.any(np.abs(g - want)[~zero] > tol[~zero]):
        return None
    length = np.sqrt(np.sum(np.where(zero, g, 0.0) ** 2, axis=p["dim"], keepdims=True))
    if np.any(length > np.abs(cx) * (1 + rtol) + TINY):
        return None
    if not zero.any():
        return "no zero slice reached"
    if np.any(g[zero]):
        return "||x||' at 0: a point of the unit ball"
    return "||x||' at 0 = 0 (the unit ball's centre)"


def _shape(draw: st.DrawFn) -> tuple[int, ...]:
    rank = draw(st.integers(1, 4))
    limit = (8, 5, 4, 3)[rank - 1]
    return tuple(draw(st.integers(1, limit)) for _ in range(rank))


def stat_strategy(name: str) -> Callable[[str], st.SearchStrategy[TensorExample]]:
    """typical: entries in [-3, 3]; ties: small integers (repeated maxima, k-th values);
    zeros: whole slices of zeros and zero entries (the norms' kinks); tiny (2-norm only):
    entries scaled by 2^-80 or 2^-540, whose squares underflow in float32 or float64. Rank, dim, keepdim
    and k are drawn at random in every region."""

    def strategy(region: str) -> st.SearchStrategy[TensorExample]:
        @st.composite
        def build(draw: st.DrawFn) -> TensorExample:
            shape = _shape(draw)
            dim = draw(st.integers(-len(shape), len(shape) - 1))
            if region == "ties":
                x = draw(hnp.arrays(np.float64, shape, elements=st.integers(-2, 2).map(float)))
            else:
                x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3.0, 3.0, allow_subnormal=False)))
            if region == "tiny":  # squares below the smallest normal number (float32, then float64)
                x = x * draw(st.sampled_from([2.0**-80, 2.0**-540]))
            if region == "zeros":
                rows = np.moveaxis(x, dim, -1).copy()
                flat = rows.reshape(-1, shape[dim])
                flat[draw(hnp.arrays(np.bool_, flat.shape))] = 0.0  # scattered zero entries
                flat[draw(st.integers(0, flat.shape[0] - 1))] = 0.0  # and one whole slice of zeros
                x = np.moveaxis(flat.reshape(rows.shape), -1, dim)
            params: dict[str, Any] = {"dim": dim}
            if name != "topk":
                params["keepdim"] = draw(st.booleans())
            if name in ("kthvalue", "topk"):
                params["k"] = draw(st.integers(1, shape[dim]))
            flags = (
                (f"rank-{len(shape)}", True),
                ("keepdim", bool(params.get("keepdim"))),
                ("dim<0", dim < 0),
                ("tied-values", len(np.unique(x)) < x.size),
            )
            return TensorExample({"x": np.ascontiguousarray(x)}, params, region, tuple(t for t, on in flags if on))

        return build()

    return strategy


def _rho(a: Arrays, p: Params) -> float:
    return 8.0 + 2.0 * _n(a["x"], p)


TABLE: dict[str, tuple[Callable[..., Any], str]] = {
    "sum_dim": (sum_forward, "Sum over a dim"),
    "mean_dim": (mean_forward, "Mean over a dim"),
    "norm1_dim": (norm1_forward, "Vector 1-norm over a dim, sum |x_i|"),
    "norm2_dim": (norm2_forward, "Vector 2-norm over a dim, sqrt(sum x_i^2)"),
    "max_dim": (max_forward, "Max over a dim (values)"),
    "min_dim": (min_forward, "Min over a dim (values)"),
    "kthvalue": (kthvalue_forward, "The k-th smallest value over a dim (k 1-based)"),
    "topk": (topk_forward, "The k largest values over a dim, largest first"),
}

TIE_RULE = "a tied value: the output's cotangent split in any convex combination among the entries that hold it"


def _op(name: str, **extra: Any) -> TensorOp:
    forward, title = TABLE[name]
    doc = dict(DOC)
    if name == "topk":
        doc.pop("keepdim")
    if name in ("kthvalue", "topk"):
        doc["k"] = "1-based: kthvalue's k-th smallest, topk's count"
    return TensorOp(
        name=name,
        title=title,
        source=replace(SOURCE, claims=("F1", "F3") if name.startswith("norm") else ("F2", "F3")),
        inputs=(Input("x"),),
        forward=forward,
        strategy=stat_strategy(name),
        roundings=_rho,
        params_doc=doc,
        **{"regions": STAT_REGIONS, **extra},
    )


def _selecting(name: str) -> TensorOp:
    gap, branch, rule, bound = _selection(name)
    return _op(name, bound=bound, kink_gap=gap, branch=branch, tie_rule=TIE_RULE, subgradient_ok=rule)


STATISTICS: tuple[TensorOp, ...] = (
    _op("sum_dim", bound=_linear_bound(lambda x, p: 1.0)),
    _op("mean_dim", bound=_linear_bound(lambda x, p: 1.0 / _n(x, p))),
    _op(
        "norm1_dim",
        bound=_linear_bound(lambda x, p: 1.0),
        kink_gap=norm1_gap,
        branch=norm1_branch,
        tie_rule="|x|'(0) anywhere in [-1, 1]",
        subgradient_ok=norm1_rule,
    ),
    _op(
        "norm2_dim",
        bound=norm2_bound,
        kink_gap=norm2_gap,
        branch=norm2_branch,
        regions=(*STAT_REGIONS, "tiny"),
        tie_rule="at a zero slice, c u for any u in the unit ball",
        subgradient_ok=norm2_rule,
    ),
    *(_selecting(name) for name in POSITIONS),
)
