"""Running tensor ops from tests: one op, chosen backends, the failures they produce."""

from __future__ import annotations

from collections.abc import Callable

from derivations import TENSOR_OPS
from harness.backends import NumpyBackend
from harness.backends.base import Backend
from harness.backends.numpy_layers import LAYER_OPS
from harness.backends.numpy_ref import Pair
from harness.runner import Runner, RunOptions, examples_for


def run_op(
    name: str,
    *backends: Backend,
    seed: int = 0,
    profile: str = "quick",
    kinds: tuple[str, ...] | None = None,
    dtypes: tuple[str, ...] | None = None,
) -> list[dict[str, object]]:
    """Every backend in one runner, so that they share the exact references."""
    chosen = {"kinds": kinds} if kinds else {}
    # The backends under test only: the finite-difference oracle has tests of its own (test_oracles.py).
    options = RunOptions(seed=seed, profile=profile, devices=("cpu",), dtypes=dtypes, fd_oracle=False, **chosen)  # type: ignore[arg-type]
    op = TENSOR_OPS[name]
    return Runner(list(backends), options).run_op(op, examples_for(op, options))


def bad(records: list[dict[str, object]]) -> list[str]:
    return [f"{r['id']}: {r['verdict']} {r['message']}" for r in records if r["verdict"] in ("fail", "error")]


def caught(name: str, vjp: Callable[..., object], seed: int = 0, profile: str = "quick") -> set[str]:
    """The checks that fail when `name`'s NumPy backward is replaced by `vjp`."""
    mutant = NumpyBackend("mutant", {name: Pair(LAYER_OPS[name][0], vjp)})  # type: ignore[arg-type]
    records = run_op(name, mutant, seed=seed, profile=profile, kinds=("vjp",), dtypes=("float64",))
    return {str(r["check"]) for r in records if r["verdict"] in ("fail", "error")}
