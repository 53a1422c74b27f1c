"""A program's reference at any size: its own forward run once on float64 boxes over whole arrays
(harness/box_arrays.py), reverse mode over the recorded graph for the VJP, forward mode for J u.

Every entry is then an enclosure [lo, hi] of its exact value. Where every entry of the forward, of each
gradient and of J u is narrower than box_reference.SETTLED_SHARE of its tolerance, each is compared
against the enclosure's middle with its tolerance widened by the radius, which is as sharp as the exact
value itself; the example needs no 80-digit arithmetic at all. Anything else takes the whole example to
the exact engine (program_exact.py): an input at a kink or tie, a branch the boxes cannot decide, an
operation box_arrays does not handle, a division by a box holding 0, an enclosure too wide. A program's
outputs depend on many of its inputs, so there are no units to send there one by one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from derivations.elementary import Namespace
from derivations.model import Op
from harness import box_graph, boxes, program_exact
from harness.box_reference import SETTLED_SHARE
from harness.boxes import Box

Tolerance = Callable[[str, np.ndarray], np.ndarray]  # (key, value) -> tolerance


class BoxMath(Namespace):
    """The `Elementary` namespace over boxes; sigmoid as 1 / (1 + exp(-x)), enclosed as it is written."""

    exp = staticmethod(boxes.exp)
    log = staticmethod(boxes.log)
    log1p = staticmethod(boxes.log1p)
    tanh = staticmethod(boxes.tanh)
    sqrt = staticmethod(boxes.sqrt)

    @staticmethod
    def sigmoid(x: Any) -> Any:
        return 1.0 / (1.0 + boxes.exp(-boxes.box(x)))


BOXES = BoxMath()


class NotEnclosed(Exception):
    """The boxes do not settle this example: the exact engine computes its reference."""


class BoxProgramReference:
    """program_exact.ProgramReference's interface from enclosures: middles as values, `radius(key)` for the
    tolerance; `vjp_digits` (80-digit values for a formula's verdict) come from the exact engine on use."""

    at_kink = False
    enclosed = True

    def __init__(
        self,
        forward: Box,
        grads: dict[str, Box],
        leaves: dict[str, Box],
        exact: Callable[[], program_exact.ProgramReference],
    ) -> None:
        self._out, self._leaves, self._exact = forward, leaves, exact
        self.forward = forward.mid
        self.vjp = {k: g.mid for k, g in grads.items()}
        self._radius = {"out": forward.radius, **{k: g.radius for k, g in grads.items()}}

    def radius(self, key: str) -> np.ndarray:
        return self._radius[key]

    @functools.cached_property
    def vjp_digits(self) -> dict[str, np.ndarray]:
        return self._exact().vjp_digits

    def jvp_enclosure(
        self, tangents: dict[str, np.ndarray], tolerance: Callable[[np.ndarray], np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """J u and its radius; from the exact engine (radius None) where the boxes do not settle it."""
        names = list(tangents)
        (ju,) = box_graph.jvp([self._out], [self._leaves[n] for n in names], [Box(tangents[n]) for n in names])
        ju = box_graph.fit(ju, self._out.shape)
        mid, radius = np.broadcast_to(ju.mid, self._out.shape), np.broadcast_to(ju.radius, self._out.shape)
        if _settled(mid, radius, tolerance(mid)):
            return mid, radius
        value = self._exact().jvp(tangents)
        return None if value is None else (value, None)


def _settled(mid: np.ndarray, radius: np.ndarray, tol: np.ndarray) -> bool:
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.isfinite(mid) & (radius <= SETTLED_SHARE * tol)))


def reference(
    op: Op,
    arrays: dict[str, np.ndarray],
    params: dict[str, Any],
    cotangent: np.ndarray,
    tolerance: Tolerance,
) -> BoxProgramReference:
    """The program's reference on boxes; NotEnclosed where the exact engine must compute it."""
    exact = functools.cache(lambda: program_exact.reference(op, arrays, params, cotangent))
    names = [i.name for i in op.differentiable]
    try:
        with box_graph.recording(), boxes.comparing("decided"), np.errstate(all="ignore"):
            leaves = {k: Box(np.asarray(v, dtype=np.float64)) for k, v in arrays.items()}
            out = op.program.forward(BOXES, leaves, params)  # type: ignore[arg-type]  # boxes stand in for arrays
        if not isinstance(out, Box):
            raise NotEnclosed(f"{op.name}'s forward did not return a box")
        with boxes.comparing("decided"), np.errstate(all="ignore"):
            grads = box_graph.vjp([out], [Box(np.asarray(cotangent, dtype=np.float64))], [leaves[n] for n in names])
            grads = [box_graph.fit(g, leaves[n].shape) for g, n in zip(grads, names, strict=True)]
    except Exception as exc:
        # again and raises it there if the program itself is wrong
        raise NotEnclosed(f"{op.name} on boxes: {exc!r}") from exc
    found = dict(zip(names, grads, strict=True))
    for key, b in [("out", out), *found.items()]:
        shape = out.shape if key == "out" else leaves[key].shape
        mid, radius = np.broadcast_to(b.mid, shape), np.broadcast_to(b.radius, shape)
        if not _settled(mid, radius, tolerance(key, mid)):
            raise NotEnclosed(f"{op.name}: the enclosure of {key} is wider than {SETTLED_SHARE:g} of its tolerance")
    return BoxProgramReference(out, found, leaves, exact)


def coverage(enclosed: list[bool]) -> str:
    """Which examples' references came from the boxes, in words for a check record."""
    boxed = sum(enclosed)
    if boxed == 0:
        return f"exact engine on all {len(enclosed)} examples"
    share = f"1/{round(1 / SETTLED_SHARE)} of its tolerance"
    return (
        f"float64 enclosures over whole arrays for {boxed} of {len(enclosed)} examples (every entry narrower than "
        f"{share}, the tolerance widened by its radius; J u from the exact engine where its own enclosure is not), "
        "the exact engine for the rest"
    )
