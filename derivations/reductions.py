"""What the reductions over one dim share: their source, regions, shapes and parameters.

The ops themselves live in statistics.py (sum, mean, the norms) and selections.py (max, min,
kthvalue, topk). Each reduces one dim of a rank 1-4 tensor, with and without keepdim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations.model import (
    Arrays,
    Condition,
    Example,
    Input,
    Op,
    Params,
    Program,
    Region,
    Source,
    TensorBound,
    TensorForward,
    named,
)

SOURCE = Source(
    seed="001",
    section="张量统计",
    quote="norm; mean, sum, max, min, argmax, argmin; kthvalue——第几个的数值和位置; topk; 设置keepdim=True",
    claims=("F1", "F2", "F3"),
)
STAT_REGIONS = ("typical", "ties", "zeros")
DOC = {"dim": "the reduced axis, negative counts from the end", "keepdim": "keep the reduced axis with size 1"}


def size_of_dim(x: Any, params: Params) -> int:
    return int(np.shape(x)[params["dim"]])


def keep(v: Any, params: Params) -> Any:
    return np.expand_dims(v, params["dim"]) if params.get("keepdim") else v


def sum_dim(x: Any, params: Params) -> Any:
    return np.sum(x, axis=params["dim"], keepdims=bool(params.get("keepdim")))


def expand(c: np.ndarray, params: Params) -> np.ndarray:
    """A cotangent of the reduced shape, broadcastable against x."""
    return c if params.get("keepdim") else np.expand_dims(c, params["dim"])  # type: ignore[no-any-return]


def _shape(draw: st.DrawFn) -> tuple[int, ...]:
    rank = draw(st.integers(1, 4))
    limit = (8, 5, 4, 3)[rank - 1]
    return tuple(draw(st.integers(1, limit)) for _ in range(rank))


def stat_strategy(name: str) -> Callable[[str], st.SearchStrategy[Example]]:
    """typical: entries in [-3, 3]; ties: small integers (repeated maxima, k-th values);
    zeros: whole slices of zeros and zero entries (the norms' kinks); tiny (2-norm only):
    entries scaled by 2^-80 or 2^-540, whose squares underflow in float32 or float64. Rank,
    dim, keepdim and k are drawn at random in every region."""

    def strategy(region: str) -> st.SearchStrategy[Example]:
        @st.composite
        def build(draw: st.DrawFn) -> Example:
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
            return Example({"x": np.ascontiguousarray(x)}, params, region, tuple(t for t, on in flags if on))

        return build()

    return strategy


def _rho(a: Arrays, p: Params) -> float:
    return 8.0 + 2.0 * size_of_dim(a["x"], p)


def _dim(ex: Example) -> int:
    return int(ex.params["dim"]) % ex.arrays["x"].ndim


# Reducing the first axis, the last and one between index the slices differently; keepdim keeps the
# axis the cotangent must be broadcast along.
def _conditions(name: str) -> tuple[Condition, ...]:
    found = [
        Condition("dim first (rank>=2)", lambda ex: ex.arrays["x"].ndim >= 2 and _dim(ex) == 0),
        Condition("dim last (rank>=2)", lambda ex: ex.arrays["x"].ndim >= 2 and _dim(ex) == ex.arrays["x"].ndim - 1),
    ]
    if name != "topk":
        found.append(Condition("keepdim", lambda ex: bool(ex.params.get("keepdim"))))
    return tuple(found)


def reduction_op(
    name: str,
    forward: TensorForward,
    title: str,
    claims: tuple[str, ...],
    *,
    bound: TensorBound,
    regions: tuple[Region, ...] = named(*STAT_REGIONS),
    tie_rule: str = "",
    **engine: Any,
) -> Op:
    """A reduction over one dim; `engine` takes the kink and tie fields of its Program."""
    doc = dict(DOC)
    if name == "topk":
        doc.pop("keepdim")
    if name in ("kthvalue", "topk"):
        doc["k"] = "1-based: kthvalue's k-th smallest, topk's count"
    return Op(
        name=name,
        title=title,
        source=replace(SOURCE, claims=claims),
        inputs=(Input("x"),),
        engine=Program(forward=forward, strategy=stat_strategy(name), bound=bound, roundings=_rho, **engine),
        regions=regions,
        tie_rule=tie_rule,
        params_doc=doc,
        conditions=_conditions(name),
    )
