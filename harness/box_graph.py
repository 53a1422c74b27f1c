"""Closed forms evaluated on boxes: SymPy's functions swapped for the boxes' own while a closed form's
lambda runs, the graph those calls record, and reverse and forward mode over it (harness/boxes.py holds
the arithmetic)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import sympy as sp

from harness import box_arrays, boxes
from harness.boxes import Box, Link

# The SymPy names a closed form may call (SymPy has no log1p; Elementary programs use their own namespaces).
FUNCTIONS = {"exp": boxes.exp, "log": boxes.log, "tanh": boxes.tanh, "sqrt": boxes.sqrt, "Max": boxes.Max}
FUNCTIONS |= {"Min": boxes.Min, "Piecewise": boxes.Piecewise, "Abs": abs}


@contextlib.contextmanager
def sympy_on_boxes() -> Iterator[None]:
    """SymPy's elementary functions (`sp.exp`, `sp.Max`, ...) take boxes inside, so that a closed form's
    own forward and stated derivative, written in SymPy, run on boxes unchanged. Nothing else runs
    SymPy meanwhile: the closed forms' lambdas are all that is called."""
    saved = {name: getattr(sp, name) for name in FUNCTIONS}
    try:
        for name, fn in FUNCTIONS.items():
            setattr(sp, name, fn)
        yield
    finally:
        for name, fn in saved.items():
            setattr(sp, name, fn)


@contextlib.contextmanager
def recording() -> Iterator[None]:
    """Boxes made inside keep their operands and partials, for `vjp`; SymPy's functions take boxes."""
    boxes._recording[0] = True
    try:
        with sympy_on_boxes():
            yield
    finally:
        boxes._recording[0] = False


def _graph(outputs: Sequence[Box]) -> list[Box]:
    """Every box the outputs were computed from, in the order they were made (a topological order)."""
    nodes: dict[int, Box] = {}
    stack = list(outputs)
    while stack:
        node = stack.pop()
        if id(node) not in nodes:
            nodes[id(node)] = node
            stack.extend(p for p, _ in node.parents)
    return sorted(nodes.values(), key=lambda b: b.index)


def _accumulate(found: dict[int, Box], key: Box, term: Box) -> None:
    found[id(key)] = found[id(key)] + term if id(key) in found else term


def fit(term: Box, shape: tuple[int, ...]) -> Box:
    """A term of a broadcast operation brought to the shape of the box it belongs to."""
    if term.shape == shape:
        return term
    if len(term.shape) > len(shape) or any(t > n for t, n in zip(term.shape[::-1], shape[::-1], strict=False)):
        return box_arrays.unbroadcast(term, shape)
    return box_arrays.broadcast(term, shape)


def _through(link: Box | Link, value: Box, reverse: bool) -> Box:
    if isinstance(link, Link):
        return link.back(value) if reverse else link.ahead(value)
    return link * value


def vjp(outputs: Sequence[Box], cotangents: Sequence[Box], inputs: Sequence[Box]) -> list[Box]:
    """Reverse mode over the recorded graph: sum_i c_i d out_i / d input, an enclosure per input."""
    adjoint: dict[int, Box] = {}
    wanted = {id(x) for x in inputs}
    for out, c in zip(outputs, cotangents, strict=True):
        _accumulate(adjoint, out, c)
    for node in reversed(_graph(outputs)):
        a = adjoint.get(id(node))
        if a is None or not node.parents:
            continue
        del adjoint[id(node)]
        for parent, partial in node.parents:
            if parent.parents or id(parent) in wanted:  # a constant's adjoint is never read
                _accumulate(adjoint, parent, fit(_through(partial, a, True), parent.shape))
    zero = Box(0.0)
    return [adjoint.get(id(x), zero) for x in inputs]


def jvp(outputs: Sequence[Box], inputs: Sequence[Box], tangents: Sequence[Box]) -> list[Box]:
    """Forward mode over the recorded graph: sum_j d out / d input_j u_j, an enclosure per output."""
    tangent = {id(x): u for x, u in zip(inputs, tangents, strict=True)}
    for node in _graph(outputs):
        for parent, partial in node.parents:
            u = tangent.get(id(parent))
            if u is not None:
                _accumulate(tangent, node, fit(_through(partial, u, False), node.shape))
    zero = Box(0.0)
    return [tangent.get(id(o), zero) for o in outputs]
