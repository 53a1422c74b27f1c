"""gradproof.check stays silent on correct implementations over many hypothesis seeds
(the thorough profile only): the NumPy reference and torch's built-in ops."""

from __future__ import annotations

import pytest

import gradproof
from derivations import CATALOG
from harness.backends import numpy_ref
from harness.backends.torch_backend import _torch_ops
from tests.test_oracles import FINDINGS

SEEDS = range(1, 21)
KINDS = ("forward", "vjp", "projection", "jacobian")


@pytest.mark.thorough
@pytest.mark.parametrize("name", list(CATALOG))
def test_check_no_false_alarm_on_any_seed(name: str) -> None:
    op = numpy_ref.OPS[name]
    torch_fn = _torch_ops()[name]
    found = []
    for seed in SEEDS:
        try:
            gradproof.check(op.forward, name, vjp=op.vjp, max_examples=2, seed=seed, name="numpy")
        except gradproof.CheckFailure as exc:
            found.append(f"numpy seed {seed}: {exc}")
        # Only torch's documented findings (tests/test_oracles.py) leave checks out.
        kinds = FINDINGS.get((name, "torch"), KINDS)
        try:
            gradproof.check(torch_fn, name, checks=kinds, max_examples=2, seed=seed, name="torch")
        except gradproof.CheckFailure as exc:
            found.append(f"torch seed {seed}: {exc}")
    assert found == []
