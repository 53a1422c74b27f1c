"""Public hypothesis strategies for each catalog op's inputs, for your own property tests.

from hypothesis import given
from gradproof import strategies

@given(strategies.inputs("softmax", region="large-logits"))
def test_my_softmax(example):
    z = example.arrays["z"]
    ...
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from derivations import OPS
from derivations.model import Example, Op
from harness.dtypes import FORMATS, get_format
from harness.inputs import regions_of, strategy_for

__all__ = ["Example", "TensorExample", "arrays", "derivation", "inputs", "op", "regions"]

TensorExample = Example  # the name tensor ops' examples had before every op drew the one Example type


def op(name: str | Op) -> Op:
    """The catalog entry of any op (elementwise, row or tensor), with a one-line error naming the
    valid names; an op declared with gradproof.op is its own entry."""
    if isinstance(name, Op):
        return name
    if not isinstance(name, str) or name not in OPS:
        raise ValueError(f"unknown derivation {name!r}; valid: {', '.join(OPS)}")
    return OPS[name]


derivation = op  # the name this function had when it covered the elementwise and row ops only


def regions(name: str | Op) -> tuple[str, ...]:
    """The named input regions of an op; each is always visited by gradproof.check."""
    d = op(name)
    return tuple(r.name for r in regions_of(d))


def inputs(name: str | Op, *, region: str | None = None) -> st.SearchStrategy[Any]:
    """Examples (`.arrays` by input name, `.params`, `.region`) from the op's domain.

    `region=None` draws from every region of the op.
    """
    d = op(name)
    names = regions(d)
    if region is None:
        return st.one_of([strategy_for(d, r) for r in names])
    if region not in names:
        raise ValueError(f"{d.name} has no region {region!r}; regions: {', '.join(names)}")
    return strategy_for(d, region)


def arrays(
    name: str | Op, *, dtype: str = "float64", region: str | None = None
) -> st.SearchStrategy[dict[str, np.ndarray]]:
    """Just the input arrays, held in `dtype` (values rounded to it, as a backend would see them)."""
    if dtype not in FORMATS:
        raise ValueError(f"unknown dtype {dtype!r}; valid: {', '.join(FORMATS)}")
    fmt = get_format(dtype)
    return inputs(name, region=region).map(lambda ex: {k: fmt.round(v) for k, v in ex.arrays.items()})
