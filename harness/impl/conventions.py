"""`gradproof list --params`: each op's calling convention and layout, derived from its catalog entry.

Facts come from the op records (inputs, differentiable or not, parameters with their defaults and
meanings, notes, tie rules); what the records do not hold as data, the axes of each tensor op's
inputs and output, is the table LAYOUTS here, which tests/test_listing.py holds against every region
the catalog draws from, so that it cannot drift from the ops it describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from derivations import OPS
from derivations.inception import POOL as INCEPTION_POOL
from derivations.model import ClosedForm, Op, Program
from harness.impl.contract import Convention

# How every catalog op is called, by name.
CONVENTIONS = {name: Convention.of(op) for name, op in OPS.items()}

# Said once for every op, above the entries.
PREAMBLE = (
    "Every op: forward(*inputs, **params) and vjp(*inputs, cotangent, **params) -> one gradient per input",
    "(a tuple in input order, or a dict by input name), None for an input that is not differentiable;",
    "optionally jvp(*inputs, *tangents, **params) -> J u, one tangent per differentiable input (name_dot);",
    "float32 or float64 arrays in, the same dtype and each input's shape out. Layouts are torch's: images",
    "(N, C, H, W), a weight w (out, in) or (out, in, kh, kw), rows are examples and leading axes batch.",
    "Axes with one name have one size; '...' is any number of leading axes (none included).",
)


@dataclass(frozen=True)
class Layout:
    """The axes of each input and of the output; `sizes` defines the output axes that are computed."""

    inputs: Mapping[str, tuple[str, ...]]
    out: tuple[str, ...] | str  # a str where axes cannot say it (a reduction's dim)
    sizes: Mapping[str, str] = field(default_factory=dict)
    note: str = ""  # what the output's axes do not show


_IMAGE = ("N", "C", "H", "W")
_WINDOW = {"Ho": "(H + 2*ph - kh) // sh + 1", "Wo": "(W + 2*pw - kw) // sw + 1"}
# A pair parameter's two names, H's first.
PAIRS = {"stride": ("sh", "sw"), "padding": ("ph", "pw"), "kernel": ("kh", "kw")}
PARAM_NAMES = frozenset(n for pair in PAIRS.values() for n in pair)
_REDUCED = "x's shape without the axis dim; with keepdim=True that axis stays, with size 1"
_ANY_RANK = ("...",)

LAYOUTS: dict[str, Layout] = {
    **{  # a step's two results stacked on a new leading axis
        name: Layout({n: _ANY_RANK for n in ("w", state, "g")}, f"(2, *w.shape): out[0] the new w, [1] the new {state}")
        for name, state in (("momentum_step", "delta"), ("adagrad_step", "s"))
    },
    **{name: Layout({"g": _ANY_RANK}, _ANY_RANK) for name in ("clip_by_value", "clip_by_norm")},
    "conv2d": Layout({"x": _IMAGE, "w": ("O", "C", "kh", "kw"), "b": ("O",)}, ("N", "O", "Ho", "Wo"), _WINDOW),
    "max_pool2d": Layout({"x": _IMAGE}, ("N", "C", "Ho", "Wo"), _WINDOW),
    "avg_pool2d": Layout({"x": _IMAGE}, ("N", "C", "Ho", "Wo"), _WINDOW),
    "inception_block": Layout(
        {
            "x": _IMAGE,
            **{f"w{k}": (f"O{k}", "C", size, size) for k, size in (("1", "1"), ("3", "3"), ("p", "1"))},
            **{f"b{k}": (f"O{k}",) for k in ("1", "3", "p")},
        },
        ("N", "O1 + O3 + Op", "H", "W"),
    ),
    "dense_layer": Layout({"x": ("N", "I"), "w": ("O", "I"), "b": ("O",)}, ("N", "O")),
    "perceptron_single": Layout({"x": ("n",), "w": ("n",), "t": ("1",)}, ("1",)),
    "perceptron_multi": Layout({"x": ("n",), "w": ("m", "n"), "t": ("m",)}, ("1",)),
    "residual_linear": Layout({"x": ("N", "n"), "w": ("n", "n"), "b": ("n",)}, ("N", "n")),
    "residual_block": Layout(
        {"x": _IMAGE, "w1": ("C", "C", "3", "3"), "b1": ("C",), "w2": ("C", "C", "3", "3"), "b2": ("C",)}, _IMAGE
    ),
    **{
        name: Layout({"x": _ANY_RANK}, _REDUCED)
        for name in ("max_dim", "min_dim", "kthvalue", "sum_dim", "mean_dim", "norm1_dim", "norm2_dim")
    },
    "topk": Layout({"x": _ANY_RANK}, "x's shape with the axis dim of size k, largest first"),
}

# What an op's record leaves to a module constant, said beside its notes.
EXTRA = {
    "inception_block": "branches: w1 a 1x1 convolution, w3 a 3x3 one (padding 1), wp a 1x1 convolution after a "
    f"{INCEPTION_POOL['kernel'][0]}x{INCEPTION_POOL['kernel'][1]} average pool with stride {INCEPTION_POOL['stride']} "
    f"and padding {INCEPTION_POOL['padding']}, the padding counted in the average as in avg_pool2d; every branch "
    "keeps H and W",
}


def _chain(op: Op) -> Layout:
    """An L-layer network: layer l maps n(l-1) features to n(l); w_l is (n_l, n_(l-1))."""
    axes: dict[str, tuple[str, ...]] = {"x": ("N", "n0")}
    for i in op.inputs[1:]:
        layer = int(i.name[1:])
        axes[i.name] = (f"n{layer}", f"n{layer - 1}") if i.name.startswith("w") else (f"n{layer}",)
    return Layout(axes, ("N", f"n{len(axes) // 2}"))


def layout(op: Op) -> Layout:
    """A closed form's from its structure, a network's from its inputs' names, any other tensor op's from LAYOUTS."""
    if isinstance(op.engine, ClosedForm):
        if op.structure == "elementwise":
            return Layout({i.name: ("...",) for i in op.inputs}, ("...",), note="entry by entry")
        row = ("...", "n")
        if op.engine.reduces:
            return Layout({i.name: row for i in op.inputs}, ("...",), note="one value per row: the last axis reduced")
        return Layout({i.name: row for i in op.inputs}, row, note="row by row along the last axis")
    if op.name.startswith("backprop_chain_L"):
        return _chain(op)
    return LAYOUTS[op.name]


def describe_axes(axes: tuple[str, ...] | str) -> str:
    if isinstance(axes, str):
        return axes
    if axes == ("...",):
        return "(...)"  # any shape
    return "(" + ", ".join(axes) + ("," if len(axes) == 1 else "") + ")"


def _names(params: Mapping[str, Any]) -> dict[str, int]:
    return {n: int(v) for p, pair in PAIRS.items() if p in params for n, v in zip(pair, params[p], strict=True)}


def _match(axes: tuple[str, ...], shape: tuple[int, ...], bound: dict[str, Any]) -> str | None:
    """Binds the axes' names to the shape's sizes in `bound`; why they do not fit, or None."""
    fixed = axes[1:] if axes[:1] == ("...",) else axes
    if len(shape) < len(fixed) or (fixed is axes and len(shape) != len(axes)):
        return f"{len(shape)} axes where the layout has {describe_axes(axes)}"
    if fixed is not axes:
        lead = shape[: len(shape) - len(fixed)]
        if bound.setdefault("...", lead) != lead:
            return f"leading axes {lead} where {bound['...']} was bound"
        shape = shape[len(lead) :]
    for name, size in zip(fixed, shape, strict=True):
        if not name.isidentifier():
            bound.setdefault("?", []).append((name, size))  # an expression or a number: checked once all are bound
        elif bound.setdefault(name, size) != size:
            return f"{name} is {size} here and {bound[name]} elsewhere"
    return None


def _value(expression: str, names: Mapping[str, Any]) -> Any:
    return eval(expression, {"__builtins__": {}}, dict(names))  # the table's own arithmetic on axis sizes


def layout_problems(op: Op, shapes: Mapping[str, tuple[int, ...]], params: Mapping[str, Any]) -> list[str]:
    """Where an example's shapes (each input's, and "out") break the op's layout; empty when they fit it."""
    return bind(op, shapes, params)[1]


def bind(op: Op, shapes: Mapping[str, tuple[int, ...]], params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The size of each named axis at these shapes, and where the shapes break the op's layout."""
    lay = layout(op)
    bound: dict[str, Any] = dict(_names(params))
    wanted = {**lay.inputs, **({"out": lay.out} if not isinstance(lay.out, str) else {})}
    problems = [f"{name}: {p}" for name, axes in wanted.items() if (p := _match(axes, shapes[name], bound))]
    if problems:
        return bound, problems
    sizes = {n: _value(e, bound) for n, e in lay.sizes.items()}
    for expression, size in bound.pop("?", []):
        if (value := _value(expression, {**bound, **sizes})) != size:
            problems.append(f"{expression} = {value}, the shape has {size}")
    problems += [f"{n} = {lay.sizes[n]} = {v}, the shape has {bound[n]}" for n, v in sizes.items() if v != bound[n]]
    return bound, problems


def kinks(op: Op) -> list[str]:
    if isinstance(op.engine, ClosedForm):
        return [f"at {k.at:g} any value in [{k.lo}, {k.hi}] passes" for k in op.engine.kinks]
    return [op.tie_rule] if op.tie_rule else []


def params(op: Op) -> list[dict[str, Any]]:
    """Each parameter: a closed form's scalar with its default, domain and the values checks also use; a
    program's (integers, pairs, booleans, names) passed as keywords in every call, with its meaning."""
    scalars = [
        {"name": p.name, "default": p.default, "domain": p.domain.describe(), "also": list(p.samples)}
        for p in op.params
    ]
    return [*scalars, *({"name": k, "meaning": v, "default": None} for k, v in op.params_doc.items())]


def notes(op: Op) -> list[str]:
    return [t for t in (op.notes, EXTRA.get(op.name, "")) if t]


def is_program(op: Op) -> bool:
    return isinstance(op.engine, Program)
