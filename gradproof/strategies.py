"""Public hypothesis strategies for each catalog derivation's inputs, for your own property tests.

from hypothesis import given
from gradproof import strategies

@given(strategies.inputs("softmax", region="large-logits"))
def test_my_softmax(example):
    z = example.arrays["z"]
    ...
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from derivations import CATALOG
from derivations.model import Derivation
from harness.dtypes import FORMATS, get_format
from harness.inputs import Example, inputs_for, regions_of

__all__ = ["Example", "arrays", "derivation", "inputs", "regions"]


def derivation(name: str) -> Derivation:
    """The catalog entry, with a one-line error naming the valid names."""
    if not isinstance(name, str) or name not in CATALOG:
        raise ValueError(f"unknown derivation {name!r}; valid: {', '.join(CATALOG)}")
    return CATALOG[name]


def regions(name: str) -> tuple[str, ...]:
    """The named input regions of a derivation; each is always visited by gradproof.check."""
    return tuple(r.name for r in regions_of(derivation(name)))


def inputs(name: str, *, region: str | None = None) -> st.SearchStrategy[Example]:
    """Examples (`.arrays` by input name, `.params`, `.region`) from the derivation's domain.

    `region=None` draws from every region of the derivation.
    """
    d = derivation(name)
    names = regions(name)
    if region is None:
        return st.one_of([inputs_for(d, region=r) for r in names])
    if region not in names:
        raise ValueError(f"{name} has no region {region!r}; regions: {', '.join(names)}")
    return inputs_for(d, region=region)


def arrays(name: str, *, dtype: str = "float64", region: str | None = None) -> st.SearchStrategy[dict[str, np.ndarray]]:
    """Just the input arrays, held in `dtype` (values rounded to it, as a backend would see them)."""
    if dtype not in FORMATS:
        raise ValueError(f"unknown dtype {dtype!r}; valid: {', '.join(FORMATS)}")
    fmt = get_format(dtype)
    return inputs(name, region=region).map(lambda ex: {k: fmt.round(v) for k, v in ex.arrays.items()})
