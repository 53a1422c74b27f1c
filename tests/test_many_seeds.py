"""Silence on correct implementations over many seeds (the thorough profile only)."""

from __future__ import annotations

import pytest

from derivations import CATALOG
from harness.backends.numpy_ref import NumpyBackend
from harness.backends.torch_backend import TorchBackend
from tests.helpers import failures, run_checks
from tests.test_oracles import FINDINGS

SEEDS = range(1, 21)


@pytest.mark.thorough
@pytest.mark.parametrize("name", list(CATALOG))
def test_no_false_alarm_on_any_seed(name: str) -> None:
    found = []
    for seed in SEEDS:
        for backend in (NumpyBackend(), TorchBackend()):
            kinds = FINDINGS.get((name, backend.name), ("forward", "vjp", "projection", "jacobian"))
            records = run_checks(name, backend, kinds=kinds, seed=seed, profile="default", fd_oracle=True)
            found += [f"seed {seed}: {f}" for f in failures(records)]
    assert found == []
