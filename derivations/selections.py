"""F2: max, min, kthvalue (k 1-based, as torch) and topk (the k largest, largest first) over a dim.

Their values are exact selections. At a tie the derivative is a set: each output may route
its cotangent to any entry holding its value (derivations/ties.py judges it), and the
backend's pick is recorded as a convention.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from derivations.model import Arrays, Elementary, Op, Params
from derivations.reductions import expand, keep, reduction_op, size_of_dim
from derivations.ties import routing_ok


def _sorted(x: Any, p: Params) -> Any:
    return np.sort(x, axis=p["dim"])


def max_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return np.max(a["x"], axis=p["dim"], keepdims=bool(p.get("keepdim")))


def min_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return np.min(a["x"], axis=p["dim"], keepdims=bool(p.get("keepdim")))


def kthvalue_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    return keep(np.take(_sorted(a["x"], p), p["k"] - 1, axis=p["dim"]), p)  # the k-th smallest


def topk_forward(m: Elementary, a: Arrays, p: Params) -> Any:
    n = size_of_dim(a["x"], p)
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
    n = size_of_dim(x, p)
    index = np.moveaxis(np.arange(x.size).reshape(x.shape), p["dim"], -1).reshape(-1, n)
    return np.moveaxis(np.asarray(x, dtype=np.float64), p["dim"], -1).reshape(-1, n), index


def _rows_of(c: np.ndarray, p: Params, single: bool) -> np.ndarray:
    """The cotangent as (slice, output) rows, in the order of _slices."""
    c = expand(c, p) if single else np.asarray(c)
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
        forward = FORWARDS[name][0]
        return {"out": np.abs(np.asarray(forward(np, a, p), dtype=np.float64)), "x": g.reshape(x.shape)}

    return gap, branch, rule, bound


FORWARDS: dict[str, tuple[Callable[..., Any], str]] = {
    "max_dim": (max_forward, "Max over a dim (values)"),
    "min_dim": (min_forward, "Min over a dim (values)"),
    "kthvalue": (kthvalue_forward, "The k-th smallest value over a dim (k 1-based)"),
    "topk": (topk_forward, "The k largest values over a dim, largest first"),
}
TIE_RULE = "a tied value: the output's cotangent split in any convex combination among the entries that hold it"


def _selecting(name: str) -> Op:
    gap, branch, rule, bound = _selection(name)
    forward, title = FORWARDS[name]
    return reduction_op(
        name,
        forward,
        title,
        ("F2", "F3"),
        bound=bound,
        kink_gap=gap,
        branch=branch,
        tie_rule=TIE_RULE,
        subgradient_ok=rule,
    )


OPS: tuple[Op, ...] = tuple(_selecting(name) for name in POSITIONS)
