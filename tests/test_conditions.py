"""Structural conditions crossed with regions: every region of an op draws an example where each of
its backward's code paths (several windows per axis, a batch, padding, keepdim, ...) is taken."""

from __future__ import annotations

import pytest

from derivations import OPS
from harness import inputs
from harness.backends import NumpyBackend
from harness.backends.numpy_ref import Pair
from harness.op_entry import entry
from harness.runner import Runner, RunOptions, examples_for
from harness.selftest import mutants
from tests.tensor_helpers import run_op

WITH_CONDITIONS = [name for name, op in OPS.items() if op.conditions]


def test_the_ops_with_structural_paths_declare_them() -> None:
    expected = {"conv2d", "max_pool2d", "avg_pool2d", "sum_dim", "norm2_dim", "topk", "dense_layer", "inception_block"}
    expected |= {"residual_linear", "residual_block", "perceptron_multi"}
    expected |= {"momentum_step", "adagrad_step", "clip_by_value", "clip_by_norm"}
    assert expected | {f"backprop_chain_L{d}" for d in (1, 2, 3, 4)} <= set(WITH_CONDITIONS)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", WITH_CONDITIONS)
def test_every_region_meets_every_condition_it_allows(name: str, seed: int) -> None:
    op = OPS[name]
    examples = examples_for(op, RunOptions(seed=seed, profile="default"))
    table = inputs.coverage(op, examples)
    assert set(table) == {r.name for r in inputs.regions_of(op)}
    missing = [(region, cond) for region, row in table.items() for cond, n in row.items() if n == 0]
    assert missing == []
    ruled_out = [(r, c.name) for c in op.conditions for r in c.not_in]
    assert all(c not in table[r] for r, c in ruled_out), "a region that rules a condition out lists no 0 for it"
    # Honest exclusions: a region that rules a condition out cannot make it; and no condition holds everywhere.
    assert [
        (ex.region, c.name) for c in op.conditions for ex in examples if ex.region in c.not_in and c.holds(ex)
    ] == []
    assert [c.name for c in op.conditions if all(c.holds(ex) for ex in examples)] == []


def test_the_report_entry_holds_the_coverage_table() -> None:
    op = OPS["max_pool2d"]
    examples = examples_for(op, RunOptions(seed=0, profile="quick"))
    found = entry(op, examples, {"status": "checked"})
    assert found["coverage"] == inputs.coverage(op, examples)


@pytest.mark.parametrize("name", ["conv-bias-first-example", "max-pool-last-window-column"])
def test_a_bug_on_one_structural_path_is_caught(name: str) -> None:
    """A conv bias gradient right only for a batch of one; a max-pool backward that drops the last
    column of windows when k >= 2 and there are two or more along W."""
    variant = next(v for v in mutants.VARIANTS if v.name == name)
    forward, vjp = variant.pair()
    backend = NumpyBackend("mutant", {variant.op: Pair(forward, vjp)})
    records = run_op(variant.op, backend, kinds=("vjp",), dtypes=("float64",))
    assert [r["verdict"] for r in records] == ["fail"]


# An update rule's slip that lives on one condition's path: (variant, condition).
ON_ONE_PATH = [
    ("momentum-state-sign", "rho*delta != 0"),
    ("adagrad-forgets", "s>0"),
    ("clip-value-one-sided", "above c, below -c and inside"),
    ("clip-norm-always", "||g|| under c (kept)"),
]


@pytest.mark.parametrize(("name", "condition"), ON_ONE_PATH)
def test_an_update_rule_slip_shows_where_its_condition_holds(name: str, condition: str) -> None:
    """The slip's forward is wrong at the examples that meet the condition, and right throughout the
    regions that rule it out: the condition is the slip's path, and every other region reaches it."""
    variant = mutants.BY_NAME[name]
    op = OPS[variant.op]
    cond = next(c for c in op.conditions if c.name == condition)
    options = RunOptions(seed=0, profile="default", devices=("cpu",), dtypes=("float64",), kinds=("forward",))
    runner = Runner([NumpyBackend("mutant", {op.name: Pair(*variant.pair())})], options)
    examples = examples_for(op, options)
    meets = [ex for ex in examples if cond.holds(ex)]
    ruled_out = [ex for ex in examples if ex.region in cond.not_in]
    assert meets and ruled_out
    assert [r["verdict"] for r in runner.run_op(op, meets) if r["backend"] == "mutant"] == ["fail"]
    assert [r["verdict"] for r in runner.run_op(op, ruled_out) if r["backend"] == "mutant"] == ["pass"]
