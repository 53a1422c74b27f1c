"""The strategies: declared domains, named regions, reproducible draws."""

from __future__ import annotations

import numpy as np
import pytest

from derivations import CATALOG
from harness.inputs import draw_examples, inputs_for, regions_of


@pytest.mark.parametrize("name", list(CATALOG))
def test_every_region_is_drawn_inside_the_domain(name: str) -> None:
    d = CATALOG[name]
    for region in regions_of(d):
        examples = draw_examples(inputs_for(d, region=region.name), 6, seed=3)
        assert examples and all(e.region == region.name for e in examples)
        for e in examples:
            assert d.check_domain(e.arrays, e.params) is None
            x = e.arrays[d.wrt.name]
            assert np.all(np.abs(x) <= region.bound)
            if region.low > 0:
                assert np.all(np.abs(x) >= region.low)


def test_same_seed_same_examples_other_seed_other_examples() -> None:
    strategy = inputs_for(CATALOG["softmax"], region="large-logits")
    a, b, c = (draw_examples(strategy, 5, seed=s) for s in (7, 7, 8))
    assert all(np.array_equal(x.arrays["z"], y.arrays["z"]) for x, y in zip(a, b, strict=True))
    assert not all(
        x.arrays["z"].shape == y.arrays["z"].shape and np.array_equal(x.arrays["z"], y.arrays["z"])
        for x, y in zip(a, c, strict=True)
    )


def test_edge_regions_contain_their_edges() -> None:
    kinks = draw_examples(inputs_for(CATALOG["relu"], region="kink"), 8, seed=0)
    assert all(np.any(e.arrays["z"] == 0.0) for e in kinks)
    slopes = draw_examples(inputs_for(CATALOG["leaky_relu"], region="slope-not-0.01"), 8, seed=0)
    assert all(e.params["alpha"] != 0.01 for e in slopes)
    logits = draw_examples(inputs_for(CATALOG["softmax_cross_entropy"], region="large-logits"), 8, seed=0)
    assert max(float(np.max(np.abs(e.arrays["z"]))) for e in logits) >= 100
    batched = draw_examples(inputs_for(CATALOG["sigmoid"], region="batch-nonsquare"), 8, seed=0)
    assert all({"batch>1", "non-square"} <= set(e.tags) for e in batched)


def test_simplex_targets_sum_to_one() -> None:
    for e in draw_examples(inputs_for(CATALOG["softmax_cross_entropy"]), 10, seed=1):
        assert np.allclose(e.arrays["y"].sum(axis=-1), 1.0) and np.all(e.arrays["y"] >= 0)


def test_a_module_imported_between_two_draws_changes_nothing(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Hypothesis mixes constants of local modules into its draws; a draw must depend on its seed alone,
    not on which implementation file or claim was imported before it."""
    strategy = inputs_for(CATALOG["sigmoid"], region="typical")
    before = draw_examples(strategy, 10, seed=11)
    (tmp_path / "numbers_of_mine.py").write_text("A, B, C = 2.75, -3.3125, 1.0625\nD, E = 0.4375, -0.8125\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("numbers_of_mine")
    after = draw_examples(strategy, 10, seed=11)
    assert all(np.array_equal(a.arrays["z"], b.arrays["z"]) for a, b in zip(before, after, strict=True))
