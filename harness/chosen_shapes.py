"""Examples at a shape the user chooses (`--shape OP=SHAPE`, `gradproof.check(..., shapes=...)`): each
region's values drawn with NumPy from the seed, at any size, where hypothesis draws shapes a few wide.

SHAPE is the shape of the op's first input (a closed form's differentiable input z or yhat; x, or w of
an update rule, or g of a clipping rule). A closed form's other inputs have that shape too: mse's y,
binary cross entropy's y in [0, 1], softmax cross entropy's y a probability row. A program's other
inputs follow its layout (harness/impl/conventions.py): an axis the first input names takes its size
from SHAPE (conv2d's C, a dense layer's I, an update rule's whole shape); every other axis (conv2d's
O, kh and kw, a layer's output features) and every parameter (stride, padding, kernel, dim, k, g, c)
come from an example the region's own strategy draws at that seed: the first whose parameters fit
SHAPE. An input whose shape is then the drawn one keeps the drawn values; one whose shape changed gets
values like the drawn ones (their range, sign, share of exact zeros, and their distinct values when
they are all whole numbers, as the ties regions draw them), so a ties region keeps its ties. A
program's exact kinks (a ReLU pre-activation exactly 0) are not rebuilt at the new size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from derivations.elementary import FLOAT
from derivations.model import ClosedForm, Example, Interval, Op, Param, Region, Simplex
from harness import check_cost
from harness.impl.conventions import PAIRS, layout
from harness.inputs import BATCHED, draw_examples, regions_of, shape_tags, strategy_for
from harness.options import seed_of
from harness.shape_text import Shape, parse_shape, shape_text

CANDIDATES = 40  # examples a program's strategy draws per region to find parameters that fit SHAPE


class ShapeError(ValueError):
    """A shape that cannot be checked: one line naming the op and the constraint."""


def shape_tag(shape: Sequence[int]) -> str:
    """The tag every example drawn at a chosen shape carries, counted in its op's report entry."""
    return f"shape={shape_text(shape)}"


def as_shape(op: Op, given: object) -> Shape:
    """A shape as the Python API takes it (a tuple of ints, or the CLI's text), checked for `op`."""
    if isinstance(given, str):
        try:
            shape = parse_shape(given)
        except ValueError as exc:
            raise ShapeError(f"{op.name}: {exc}") from None
    elif isinstance(given, Sequence) and all(isinstance(s, (int, np.integer)) for s in given):
        shape = tuple(int(s) for s in given)
    else:
        raise ShapeError(f"{op.name}: a shape is a tuple of whole sizes, like (4096, 64), not {given!r}")
    if not shape:
        raise ShapeError(f"{op.name}: a shape needs one axis or more")
    if min(shape) < 1:
        raise ShapeError(
            f"{op.name}: the shape {shape} has an axis of size {min(shape)}: every axis needs a size of 1 or more"
        )
    wanted = _rank(op)
    if wanted is not None and len(shape) != wanted[0]:
        raise ShapeError(f"{op.name}: {op.inputs[0].name} is {wanted[1]} ({wanted[0]} axes), not {shape}")
    return shape


def _rank(op: Op) -> tuple[int, str] | None:
    """The rank the first input must have, with its layout in words, or None for any rank."""
    if isinstance(op.engine, ClosedForm):
        return None
    axes = layout(op).inputs[op.inputs[0].name]
    return None if "..." in axes else (len(axes), "(" + ", ".join(axes) + ("," if len(axes) == 1 else "") + ")")


def chosen_regions(op: Op) -> tuple[Region, ...]:
    """The regions drawn at a chosen shape: the op's own; a closed form's shape region adds nothing there."""
    return tuple(r for r in regions_of(op) if r is not BATCHED)


def examples_at(
    op: Op, shape: Sequence[int], *, seed: int = 0, count: int = 1, regions: Sequence[str] | None = None
) -> list[Example]:
    """`count` examples of every region (or the named ones) at `shape`, the same ones for the same seed;
    a program's region adds one for each of the op's conditions that no example meets, where the region's
    strategy drew parameters that fit. Raises ShapeError when the shape does not fit the op."""
    fixed = as_shape(op, shape)
    names = {r.name: r for r in regions_of(op)}
    chosen = [names[n] for n in regions] if regions is not None else list(chosen_regions(op))
    return [ex for region in chosen for ex in region_examples(op, region, fixed, seed=seed, count=count)]


def region_examples(op: Op, region: Region, shape: Shape, *, seed: int, count: int) -> list[Example]:
    if isinstance(op.engine, ClosedForm):
        # A parameter region visits each of the parameter's sample values, as the hypothesis draws do.
        visits = max([count, *(len(_others(p)) for p in op.params if region.param_samples)])
        return [_closed_form(op, region, shape, _rng(seed, op, region, shape, k), k) for k in range(visits)]
    return _program(op, region, shape, seed, count)


def _rng(seed: int, op: Op, region: Region, shape: Shape, index: int) -> np.random.Generator:
    return np.random.default_rng(seed_of(seed, op.name, region.name, shape_text(shape), index))


# Closed forms: the region's magnitudes and kinks for the differentiable input, the domain for the rest.


def _closed_form(op: Op, region: Region, shape: Shape, rng: np.random.Generator, index: int) -> Example:
    arrays: dict[str, np.ndarray] = {}
    for inp in op.inputs:
        if inp.name == op.wrt.name:
            arrays[inp.name] = _with_kinks(op, region, _magnitudes(region, shape, rng), rng)
        else:
            arrays[inp.name] = _target(inp.domain, region, shape, rng)
    params = {p.name: _param(p, region, rng, index) for p in op.params}
    return Example(arrays, params, region.name, (*shape_tags(shape), shape_tag(shape)))


def _magnitudes(region: Region, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    if region.low > 0:
        return rng.uniform(region.low, region.bound, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.uniform(-region.bound, region.bound, shape)


def _with_kinks(op: Op, region: Region, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    kinks = op.closed_form.kinks
    if not (kinks and region.kink_fraction > 0):
        return values
    at = rng.random(values.shape) < 0.5  # about half the entries, as the hypothesis draws place them
    at.flat[0] = True  # the region always holds at least one exact kink
    return np.where(at, kinks[0].at, values)


def _target(domain: Interval | Simplex, region: Region, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    if isinstance(domain, Simplex):
        weights = rng.uniform(0.0, 1.0, shape)
        hot = rng.integers(0, shape[-1], shape[:-1])
        # Keeps every row's sum positive, as the hypothesis draws do.
        np.put_along_axis(weights, hot[..., None], np.take_along_axis(weights, hot[..., None], -1) + 1e-3, -1)
        return weights / weights.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]
    lo, hi = max(domain.lo, -region.bound), min(domain.hi, region.bound)
    return rng.uniform(lo, hi, shape)


def _others(p: Param) -> list[float]:
    return [v for v in p.samples if v != p.default]


def _param(p: Param, region: Region, rng: np.random.Generator, index: int) -> float:
    if not region.param_samples:
        return p.default
    others = _others(p)
    if index < len(others):
        return others[index]
    return float(rng.uniform(max(p.domain.lo, -region.bound), min(p.domain.hi, region.bound)))


# Programs: the region's strategy draws the parameters and the axes SHAPE does not name.


def _program(op: Op, region: Region, shape: Shape, seed: int, count: int) -> list[Example]:
    drawn = draw_examples(strategy_for(op, region.name), CANDIDATES, seed_of(seed, op.name, region.name, "shapes"))
    fitting: list[tuple[Example, dict[str, Shape]]] = []
    problems: list[str] = []
    for ex in drawn:
        shapes, problem = fit(op, shape, ex)
        if problem is None:
            fitting.append((ex, shapes))
        else:
            problems.append(problem)
    if not fitting:
        why = problems[0] if problems else "its strategy drew nothing"
        raise ShapeError(f"{op.name}: no example of region {region.name!r} fits {shape}: {why}")
    # The values of a resized input are modelled on what the region drew in all its examples, not one.
    pools = {i.name: np.concatenate([np.ravel(ex.arrays[i.name]) for ex in drawn]) for i in op.inputs}

    def build(k: int) -> Example:
        ex, shapes = fitting[k]
        return _build(op, region, (shape, shapes), ex, pools, _rng(seed, op, region, shape, k))

    found = [build(k) for k in range(min(count, len(fitting)))]
    unmet = [c for c in op.conditions if region.name not in c.not_in and not any(c.holds(e) for e in found)]
    for k in range(count, len(fitting)):
        if not unmet:
            break
        built = build(k)  # one at a time: at a large shape each example is large
        if any(c.holds(built) for c in unmet):
            found.append(built)
            unmet = [c for c in unmet if not c.holds(built)]
    return found


def fit(op: Op, shape: Shape, drawn: Example) -> tuple[dict[str, Shape], str | None]:
    """Each input's shape with the first input at `shape` and the other axes as drawn, and why the drawn
    parameters do not fit it (None when they do)."""
    lay = layout(op)
    first = op.inputs[0].name
    bound: dict[str, int] = dict(zip(lay.inputs[first], shape, strict=False))
    shapes: dict[str, Shape] = {}
    for inp in op.inputs:
        axes = lay.inputs[inp.name]
        if "..." in axes:
            shapes[inp.name] = shape  # the update and clipping rules: every input has the first one's shape
            continue
        sizes = np.shape(drawn.arrays[inp.name])
        for axis, size in zip(axes, sizes, strict=True):
            bound.setdefault(axis, int(axis) if axis.isdigit() else int(size))
        shapes[inp.name] = tuple(bound[a] for a in axes)
    return shapes, _params_problem(shape, shapes, bound, drawn.params)


def _params_problem(
    shape: Shape, shapes: Mapping[str, Shape], bound: Mapping[str, int], params: Mapping[str, object]
) -> str | None:
    named = {n: int(v) for p, pair in PAIRS.items() if p in params for n, v in zip(pair, params[p], strict=True)}  # type: ignore[call-overload]
    sizes = {**bound, **named}
    for axis, kernel, pad in (("H", "kh", "ph"), ("W", "kw", "pw")):
        if kernel in sizes and axis in sizes and sizes[axis] + 2 * sizes.get(pad, 0) < sizes[kernel]:
            padded = sizes[axis] + 2 * sizes.get(pad, 0)
            return f"a kernel of {sizes[kernel]} is larger than the padded input ({axis} + 2*{pad} = {padded})"
    if "dim" in params:
        dim = int(params["dim"])  # type: ignore[call-overload]
        if not -len(shape) <= dim < len(shape):
            return f"dim {dim} is outside the {len(shape)} axes"
        if "k" in params and int(params["k"]) > shape[dim]:  # type: ignore[call-overload]
            return f"k = {params['k']} is more than the {shape[dim]} entries along dim {dim}"
    return None


def _build(
    op: Op,
    region: Region,
    sizes: tuple[Shape, Mapping[str, Shape]],
    drawn: Example,
    pools: Mapping[str, np.ndarray],
    rng: np.random.Generator,
) -> Example:
    """The drawn example with each input at its shape: kept where its shape is the drawn one, else new values
    like the region's."""
    shape, shapes = sizes
    arrays: dict[str, np.ndarray] = {}
    for inp in op.inputs:
        old = np.asarray(drawn.arrays[inp.name], dtype=np.float64)
        arrays[inp.name] = old if old.shape == shapes[inp.name] else _like(pools[inp.name], shapes[inp.name], rng)
    example = Example(arrays, dict(drawn.params), region.name, (*shape_tags(shape), shape_tag(shape)))
    try:
        op.program.forward(FLOAT, arrays, example.params)
    except Exception as exc:  # a constraint the layout does not state: said in one line, not a traceback
        raise ShapeError(f"{op.name}: cannot evaluate at {shape}: {type(exc).__name__}: {exc}") from None
    return example


def _like(values: np.ndarray, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Entries like the region's `values`: its distinct values when they are all whole numbers (the ties
    regions' small integers, repeated); else magnitudes interpolated between its distinct magnitudes,
    sorted (a range, or scales decades apart as the tiny regions mix them), with its share of each sign and
    of exact zeros. Distinct: a drawn value repeated many times came back repeated at the new size, and a
    layer's sums of products of a few such values canceled to within float64's rounding of 0 but not to 0
    (-2.7e-137 at --shape dense_layer=256x16 --seed 2), where no float implementation can tell the branch."""
    flat = values.reshape(-1)
    if flat.size == 0:
        return np.zeros(shape)
    if np.all(flat == np.round(flat)):
        return rng.choice(np.unique(flat), shape)
    nonzero = flat[flat != 0]
    mags = np.unique(np.abs(nonzero)) if nonzero.size else np.zeros(1)
    out = np.interp(rng.uniform(0, mags.size - 1, shape), np.arange(mags.size), mags)
    positive = float(np.mean(nonzero > 0)) if nonzero.size else 1.0
    out = np.where(rng.random(shape) < positive, out, -out)
    return np.where(rng.random(shape) < float(np.mean(flat == 0)), 0.0, out)  # type: ignore[no-any-return]


def draw_chosen(
    specs: Sequence[tuple[str, Shape]],
    ops: Mapping[str, Op],
    *,
    seed: int,
    budget: float | None = None,
    dtypes: Sequence[str] = ("float64", "float32"),
    implementations: int = 1,
    say: Callable[[str], None] | None = None,
) -> dict[str, list[Example]]:
    """The examples of each `--shape OP=SHAPE`, by op, every problem found before any check runs: an unknown
    op, a shape the op cannot take, an estimated time of checking (harness/check_cost.py) over `budget`
    seconds. `say` hears each shape's estimate. Raises ShapeError with one line."""
    shapes: dict[str, list[Shape]] = {}
    for name, given in specs:
        if name not in ops:
            raise ShapeError(f"--shape: unknown op {name!r}; valid: {', '.join(ops)}")
        shapes.setdefault(name, []).append(as_shape(ops[name], given))
    drawn: dict[str, list[Example]] = {}
    estimates: list[tuple[str, str, check_cost.Estimate]] = []
    for name, chosen in shapes.items():
        for shape in chosen:
            found = examples_at(ops[name], shape, seed=seed)
            drawn.setdefault(name, []).extend(found)
            cost = check_cost.estimate(ops[name], found, dtypes, implementations)
            estimates.append((name, f"{shape_text(shape)}: {len(found)} examples", cost))
    problem = None
    if budget is not None:
        labelled = [(f"--shape {name}={what}", cost) for name, what, cost in estimates]
        problem = check_cost.over_budget(labelled, budget, f"--budget {budget:g} s")
    if problem:
        raise ShapeError(problem)
    for name, what, cost in estimates:
        if say is not None:
            say(f"{name} at {what}, {cost.text()}")
    return drawn
