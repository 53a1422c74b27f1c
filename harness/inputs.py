"""Hypothesis strategies drawn from each derivation's declared domain and named regions."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator, Sequence

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis.extra import numpy as hnp
from hypothesis.internal.conjecture import providers

from derivations.model import Example, Interval, Op, Param, Program, Region, Simplex

# Every closed form also visits this shape region: batch > 1 with a non-square (B, n) layout (a
# program's strategy draws its own shapes in each of its regions).
BATCHED = Region("batch-nonsquare")
MAX_SIDE = 6


def regions_of(d: Op) -> tuple[Region, ...]:
    """Every region the op's examples are drawn from."""
    return d.regions if isinstance(d.engine, Program) else (*d.regions, BATCHED)


def strategy_for(d: Op, region: str) -> st.SearchStrategy[Example]:
    """The op's examples in one named region: a program's own strategy, or drawn from a closed form's domain."""
    return d.engine.strategy(region) if isinstance(d.engine, Program) else inputs_for(d, region=region)


def region_named(d: Op, name: str) -> Region:
    for r in regions_of(d):
        if r.name == name:
            return r
    raise KeyError(f"{d.name} has no region {name!r}; valid: {', '.join(r.name for r in regions_of(d))}")


def _shapes(d: Op, region: Region) -> st.SearchStrategy[tuple[int, ...]]:
    row = st.integers(2 if region is BATCHED else 1, d.closed_form.max_row if d.structure == "row" else MAX_SIDE)
    if region is BATCHED:
        return st.tuples(st.integers(2, 4), row).filter(lambda s: s[0] != s[1])
    leading = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4)
    return st.tuples(leading, row).map(lambda t: (*t[0], t[1]))


def _magnitudes(region: Region, shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    if region.low > 0:
        mags = hnp.arrays(np.float64, shape, elements=st.floats(region.low, region.bound))
        signs = hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0]))
        return st.tuples(mags, signs).map(lambda t: t[0] * t[1])
    return hnp.arrays(np.float64, shape, elements=st.floats(-region.bound, region.bound))


def _with_kinks(
    d: Op, region: Region, values: st.SearchStrategy[np.ndarray], shape: tuple[int, ...]
) -> st.SearchStrategy[np.ndarray]:
    if not (d.closed_form.kinks and region.kink_fraction > 0):
        return values
    mask = hnp.arrays(np.bool_, shape, elements=st.booleans())
    kink = d.closed_form.kinks[0].at

    def place(t: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        at = t[1].copy()
        at.flat[0] = True  # the region always holds at least one exact kink
        return np.where(at, kink, t[0])

    return st.tuples(values, mask).map(place)


def _target(domain: Interval | Simplex, region: Region, shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    if isinstance(domain, Simplex):
        weights = hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0))
        hot = st.integers(0, shape[-1] - 1)

        def normalise(t: tuple[np.ndarray, int]) -> np.ndarray:
            w, k = t
            w = w.copy()
            w[..., k] += 1e-3  # keeps every row's sum positive; one-hot rows arise from zeros
            return w / w.sum(axis=-1, keepdims=True)

        return st.tuples(weights, hot).map(normalise)
    lo, hi = max(domain.lo, -region.bound), min(domain.hi, region.bound)
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi))


def _param(p: Param, region: Region) -> st.SearchStrategy[float]:
    if region.param_samples:
        others = [v for v in p.samples if v != p.default]
        # An unbounded domain is drawn within the region's bound, as the inputs are.
        lo, hi = max(p.domain.lo, -region.bound), min(p.domain.hi, region.bound)
        return st.sampled_from(others) | st.floats(lo, hi)
    return st.just(p.default)


def shape_tags(shape: tuple[int, ...]) -> tuple[str, ...]:
    """The shape regions an example falls in: batch > 1, non-square rows."""
    tags = []
    if len(shape) >= 2 and int(np.prod(shape[:-1])) > 1:
        tags.append("batch>1")
    if len(shape) >= 2 and shape[-1] != shape[-2]:
        tags.append("non-square")
    return tuple(tags)


def inputs_for(d: Op, *, region: str | None = None) -> st.SearchStrategy[Example]:
    """Examples for `d` in the named region (the first declared one when None)."""
    reg = region_named(d, region) if region else d.regions[0]

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        shape = draw(_shapes(d, reg))
        arrays: dict[str, np.ndarray] = {}
        for inp in d.inputs:
            # The region (magnitudes, kinks) is the stated input's; targets are drawn from their domains.
            if inp.name == d.wrt.name:
                arrays[inp.name] = draw(_with_kinks(d, reg, _magnitudes(reg, shape), shape))
            else:
                arrays[inp.name] = draw(_target(inp.domain, reg, shape))
        params = {p.name: draw(_param(p, reg)) for p in d.params}
        return Example(arrays, params, reg.name, shape_tags(shape))

    return build()


@contextlib.contextmanager
def no_local_constants() -> Iterator[None]:
    """Hypothesis mixes constants it finds in the local modules imported so far into its draws, so one seed
    drew other inputs once another module had been imported: an implementation file under test, a claim
    run first, another test in the same pytest process. Without them a draw is a function of the strategy
    and the seed alone. (An internal of hypothesis: where it is missing, nothing is changed.)"""
    found = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if found is None or not hasattr(providers, "Constants") or cache is None:
        yield
        return
    providers._get_local_constants = providers.Constants
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = found
        cache.cache.clear()


def draw_examples(strategy: st.SearchStrategy[Example], count: int, seed: int) -> list[Example]:
    """`count` examples (fewer if the space is smaller), the same ones for the same seed."""
    collected: list[Example] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(strategy)
    def collect(example: Example) -> None:
        collected.append(example)

    try:
        with no_local_constants():
            collect()
    except Unsatisfiable:  # a filtered strategy none of whose draws passed
        return []
    return collected


def with_conditions(op: Op, region: Region, drawn: list[Example], seed: int) -> list[Example]:
    """The region's examples, plus one for each of the op's conditions that none of them meets, drawn
    from the same region (none where its strategy cannot make one: the coverage table shows that)."""
    found = list(drawn)
    for cond in op.conditions:
        if region.name not in cond.not_in and not any(cond.holds(ex) for ex in found):
            strategy = strategy_for(op, region.name).filter(cond.holds)
            found += draw_examples(strategy, 1, zlib.crc32(f"{seed}/{cond.name}".encode()))
    return found


def coverage(op: Op, examples: Sequence[Example]) -> dict[str, dict[str, int]]:
    """Per region, how many of its examples meet each of the op's conditions (those the region allows)."""
    table: dict[str, dict[str, int]] = {}
    for ex in examples:
        applies = [c for c in op.conditions if ex.region not in c.not_in]
        row = table.setdefault(ex.region, {c.name: 0 for c in applies})
        for cond in applies:
            row[cond.name] += int(cond.holds(ex))
    return table
