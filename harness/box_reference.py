"""A closed form's reference at any size: float64 enclosures of every entry, the exact engine where they
are not narrow enough.

The closed form's own forward runs once on boxes (harness/boxes.py), one column per row position, and
reverse mode over it gives the VJP: enclosures [lo, hi] of the exact values and magnitudes for the
tolerance, in NumPy calls over all rows at once. An entry whose enclosure is narrower than
SETTLED_SHARE of its tolerance is compared against the enclosure's middle, its tolerance widened by the
radius (the exact value lies within it), so the check is as sharp as against the exact value itself.

An elementwise op's VJP and J u are also enclosed through its derivative rewritten without the chain
rule's cancellations (box_derivative.py), and each entry keeps the narrower enclosure. A unit (an entry
of an elementwise op, a row of a row op) that float64 leaves unbounded (exp(1000) overflows, exp(-1000)
is no relative value) or too wide is enclosed again in long double (boxes.extended), a row op's through
its rewritten Jacobian too. A unit with an entry still unsettled (cancellation past long double, a
branch the boxes cannot decide) takes its values from the exact engine (exact.py).
For float16, bfloat16 and float32 inputs that is every such unit. For float64 inputs, where an
enclosure must be narrow against float64's own tolerance of a few ULPs, long double settles most units
(all but 337 of sigmoid's 20,000 typical ones) and not all; where more than SAMPLE_UNITS remain the
exact engine covers a stratified sample: every unit whose enclosure is unbounded, and SAMPLE_UNITS units
drawn at random from the rest, which misses an error present on MISS_FRACTION of them with probability
at most MISS_PROBABILITY; the units outside the sample are still held to their enclosure. `Coverage`
says which.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from derivations.model import Op, as_list
from harness import box_derivative, box_graph, boxes, exact, forward_exact
from harness.dtypes import Format, reference_digits

SETTLED_SHARE = 1 / 16
MISS_FRACTION = 0.01
MISS_PROBABILITY = 1e-3
SAMPLE_UNITS = math.ceil(math.log(MISS_PROBABILITY) / math.log(1 - MISS_FRACTION))  # 688

Tolerance = Callable[[str, np.ndarray, np.ndarray], np.ndarray]  # (key, value, magnitude) -> tolerance


@dataclass(frozen=True)
class Coverage:
    """Which units of an example the exact engine computed, and what that guarantees."""

    units: int
    exact: int  # units whose reference is the exact engine's
    unsettled: int  # units the enclosures (float64, then long double) did not settle
    sampled: bool  # the exact engine covered a random sample of the unsettled units, not all of them
    extended: int = 0  # units enclosed again in extended precision, where float64 did not settle them

    @staticmethod
    def total(found: Sequence[Coverage]) -> Coverage:
        """Several examples' coverage as one (a check group's)."""
        return Coverage(
            sum(c.units for c in found),
            sum(c.exact for c in found),
            sum(c.unsettled for c in found),
            any(c.sampled for c in found),
            sum(c.extended for c in found),
        )

    def text(self) -> str:
        if self.exact == self.units:
            return f"exact engine on all {self.units} units"
        share = f"1/{round(1 / SETTLED_SHARE)} of the tolerance"
        head = f"exact engine on {self.exact} of {self.units} units"
        again = (
            f"; long double enclosed again the {self.extended} units float64 did not settle" if self.extended else ""
        )
        if not self.sampled:
            return f"{head}, float64 enclosures narrower than {share} on the rest{again}"
        return (
            f"{head}: those whose enclosure is unbounded and a random sample of the {self.unsettled} "
            f"whose enclosure is wider than {share} (an error on {MISS_FRACTION:.0%} of an example's units goes "
            f"unsampled with probability <= {MISS_PROBABILITY:g}); every other unit is held to its enclosure, "
            f"the tolerance widened by its radius{again}"
        )


@dataclass(frozen=True)
class _Enclosed:
    """One quantity on the (units, k) grid: middles, radii, magnitudes."""

    mid: np.ndarray
    radius: np.ndarray
    magnitude: np.ndarray
    loose: np.ndarray  # entries whose magnitude was formed from a box too wide to trust (boxes.LOOSE)

    def spliced(self, at: np.ndarray, values: np.ndarray, magnitude: np.ndarray) -> _Enclosed:
        """These units' exact values: radius 0."""
        return self.replaced(at, _Enclosed(values, np.zeros_like(values), magnitude, np.zeros(values.shape, bool)))

    def replaced(self, at: np.ndarray, other: _Enclosed) -> _Enclosed:
        """These units' rows from `other` (enclosed again, or exact, on those units only)."""
        mid, radius, mag, loose = self.mid.copy(), self.radius.copy(), self.magnitude.copy(), self.loose.copy()
        mid[at], radius[at], mag[at], loose[at] = other.mid, other.radius, other.magnitude, other.loose
        return _Enclosed(mid, radius, mag, loose)

    def narrower(self, other: _Enclosed) -> _Enclosed:
        """Entry by entry, whichever of two enclosures of the same values is bounded, trusted and narrower."""
        with np.errstate(invalid="ignore"):
            take = other.usable & (~self.usable | (other.radius < self.radius))
        return _Enclosed(
            np.where(take, other.mid, self.mid),
            np.where(take, other.radius, self.radius),
            np.where(take, other.magnitude, self.magnitude),
            np.where(take, other.loose, self.loose),
        )

    @property
    def usable(self) -> np.ndarray:
        return np.isfinite(self.mid) & np.isfinite(self.radius) & np.isfinite(self.magnitude) & ~self.loose

    def rows(self, at: np.ndarray) -> _Enclosed:
        return _Enclosed(self.mid[at], self.radius[at], self.magnitude[at], self.loose[at])

    def in_float64(self) -> _Enclosed:
        """Extended-precision enclosures as float64 ones: the middle rounded, and the radius grown by that
        rounding and rounded up, so that it still reaches the exact value."""
        mid = self.mid.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            wide = self.radius + np.abs(self.mid - mid)
            radius = wide.astype(np.float64)
            radius = np.where(radius < wide, np.nextafter(radius, np.inf), radius)
        loose = np.asarray(self.loose) | ~np.isfinite(mid)  # past float64's range: no float64 reference
        return _Enclosed(mid, radius, self.magnitude.astype(np.float64), loose)

    def narrower_values(self, other: _Enclosed) -> _Enclosed:
        """Entry by entry the narrower of two enclosures of the same values (a bounded one before an
        unbounded one); the magnitudes stay this one's."""
        with np.errstate(invalid="ignore"):
            bounded = np.isfinite(other.mid) & np.isfinite(other.radius)
            take = bounded & ~(other.radius >= self.radius)
        return _Enclosed(
            np.where(take, other.mid, self.mid), np.where(take, other.radius, self.radius), self.magnitude, self.loose
        )

    def trusting(self, magnitude: np.ndarray, loose: np.ndarray) -> _Enclosed:
        """Where this magnitude is loose and another one of the same sum is not, that one."""
        take = self.loose & ~loose
        return _Enclosed(self.mid, self.radius, np.where(take, magnitude, self.magnitude), self.loose & ~take)

    def at_kinks(self, kinks: np.ndarray) -> _Enclosed:
        """Radius 0 at a kink's entries, judged by their subgradient set and not against this value."""
        return _Enclosed(self.mid, np.where(kinks, 0.0, self.radius), self.magnitude, self.loose)

    def plus(self, magnitude: np.ndarray) -> _Enclosed:
        return _Enclosed(self.mid, self.radius, self.magnitude + magnitude, self.loose)


class FastReference:
    """exact.Reference's interface (forward, VJPs and their magnitudes), with the enclosures' radii and
    the coverage. The VJP's exact units are computed on first use, as exact.Reference's VJP is."""

    def __init__(
        self,
        op: Op,
        arrays: dict[str, np.ndarray],
        params: dict[str, Any],
        cotangent: np.ndarray,
        fmt: Format,
        tolerance: Tolerance,
        seed: int,
    ) -> None:
        self.op, self.wrt = op, op.wrt.name
        self._arrays, self._params, self._cotangent, self._fmt = arrays, params, cotangent, fmt
        self._digits = reference_digits(fmt)
        self._rng = np.random.default_rng([seed, 2])
        self._out_shape = op.output_shape(arrays[self.wrt].shape)
        self._tolerance = tolerance
        forward, grads = _enclose(op, arrays, params, cotangent)
        self._extended = np.zeros(0, dtype=np.int64)
        if boxes.EXTENDED is not None:
            forward, grads = self._widened(forward, grads)
        self._grads = grads
        tol = tolerance("out", forward.mid.reshape(self._out_shape), forward.magnitude.reshape(self._out_shape))
        self._unsettled = np.zeros(forward.mid.shape[0], dtype=bool)
        self._priority = self._rng.permutation(forward.mid.shape[0])
        self._sampled = False
        self._forward_units = self._chosen(*_unsettled(forward, tol.reshape(forward.mid.shape)))
        if self._forward_units.size:
            ref = self._exact(self._forward_units)
            k = len(self._forward_units)
            forward = forward.spliced(
                self._forward_units, ref.forward.reshape(k, -1), ref.forward_sensitivity.reshape(k, -1)
            )
        self._forward = forward
        self._vjp_units = np.zeros(0, dtype=np.int64)
        self._jvp_units = np.zeros(0, dtype=np.int64)

    def _widened(self, forward: _Enclosed, grads: dict[str, _Enclosed]) -> tuple[_Enclosed, dict[str, _Enclosed]]:
        """The units float64 leaves unbounded (an exp past its range) or too wide (a few bits short: float64
        inputs' own tolerance is a few ULPs) enclosed again in extended precision."""
        unbounded, wide = _unsettled(forward, self._tol("out", forward))
        more_unbounded, more_wide = self._unsettled_grads(grads)
        redo = np.flatnonzero(unbounded | wide | more_unbounded | more_wide)
        if not redo.size:
            return forward, grads
        sub, cot = self._sub(redo)
        with boxes.extended():
            wide_forward, wide_grads = _enclose(self.op, sub, self._params, cot, rows=True)
        self._extended = redo
        return forward.replaced(redo, wide_forward.in_float64()), {
            name: g.replaced(redo, wide_grads[name].in_float64()) for name, g in grads.items()
        }

    def _unsettled_grads(self, grads: dict[str, _Enclosed]) -> tuple[np.ndarray, np.ndarray]:
        """Units with a VJP entry unbounded, and units with one too wide (`_unsettled`); kinks exempt."""
        units = grads[self.wrt].mid.shape[0]
        unbounded, wide = np.zeros(units, dtype=bool), np.zeros(units, dtype=bool)
        for name, g in grads.items():
            more_unbounded, more_wide = _unsettled(g, self._tol(name, g), self._kinks(g) if name == self.wrt else None)
            unbounded, wide = unbounded | more_unbounded, wide | more_wide
        return unbounded, wide

    def _kinks(self, q: _Enclosed) -> np.ndarray:
        return kink_entries(self.op, self._arrays[self.wrt]).reshape(q.mid.shape)

    def _tol(self, key: str, q: _Enclosed) -> np.ndarray:
        """A quantity's tolerance on its (units, k) grid."""
        shape = self._out_shape if key == "out" else np.shape(self._arrays[key])
        return self._tolerance(key, q.mid.reshape(shape), q.magnitude.reshape(shape)).reshape(q.mid.shape)

    @property
    def forward(self) -> np.ndarray:
        return self._forward.mid.reshape(self._out_shape)

    @property
    def forward_sensitivity(self) -> np.ndarray:
        return self._forward.magnitude.reshape(self._out_shape)

    @property
    def forward_radius(self) -> np.ndarray:
        return self._forward.radius.reshape(self._out_shape)

    @functools.cached_property
    def _vjp(self) -> dict[str, _Enclosed]:
        grads = self._grads
        self._vjp_units = self._chosen(*self._unsettled_grads(grads))
        # At a kink the subgradient set is the reference: the box's [0, 1] derivative must not widen its tolerance.
        grads = {**grads, self.wrt: grads[self.wrt].at_kinks(self._kinks(grads[self.wrt]))}
        if not self._vjp_units.size:
            return grads
        ref = self._exact(self._vjp_units)
        k = len(self._vjp_units)
        return {
            name: g.spliced(self._vjp_units, ref.vjps[name].reshape(k, -1), ref.vjp_sensitivities[name].reshape(k, -1))
            for name, g in grads.items()
        }

    @property
    def vjps(self) -> dict[str, np.ndarray]:
        return {name: g.mid.reshape(np.shape(self._arrays[name])) for name, g in self._vjp.items()}

    @property
    def vjp_sensitivities(self) -> dict[str, np.ndarray]:
        return {name: g.magnitude.reshape(np.shape(self._arrays[name])) for name, g in self._vjp.items()}

    @property
    def vjp_radii(self) -> dict[str, np.ndarray]:
        return {name: g.radius.reshape(np.shape(self._arrays[name])) for name, g in self._vjp.items()}

    @property
    def vjp(self) -> np.ndarray:
        return self.vjps[self.wrt]

    @property
    def vjp_sensitivity(self) -> np.ndarray:
        return self.vjp_sensitivities[self.wrt]

    def radius(self, key: str) -> np.ndarray:
        """How far the exact value may be from the reference's value: 0 where the exact engine gave it."""
        return self.forward_radius if key == "out" else self.vjp_radii[key]

    def jvp(
        self, tangents: dict[str, np.ndarray], tolerance: Callable[[np.ndarray, np.ndarray], np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """J u in the output's shape: value, magnitude (without the floor: `tolerance` adds it) and radius,
        from the exact engine where the enclosure does not settle."""
        ju = _enclose_jvp(self.op, self._arrays, self._params, tangents, self._forward)

        def tol_of(ju: _Enclosed) -> np.ndarray:
            return tolerance(ju.mid.reshape(self._out_shape), ju.magnitude.reshape(self._out_shape)).reshape(
                ju.mid.shape
            )

        # An elementwise op's J u at a kink is judged by its set too (forward_mode.kink_sets), with one input only.
        kinks = None
        if self.op.structure == "elementwise" and len(self.op.differentiable) == 1:
            kinks = self._kinks(ju)
        unbounded, wide = _unsettled(ju, tol_of(ju), kinks)
        redo = np.flatnonzero(unbounded | wide)
        if boxes.EXTENDED is not None and redo.size:
            sub = self._sub(redo)[0]
            own = {name: self._rows(redo, t) for name, t in tangents.items()}
            with boxes.extended():
                again = _enclose_jvp(self.op, sub, self._params, own, self._forward.rows(redo), rows=True)
            ju = ju.replaced(redo, again.in_float64())
            self._extended = np.union1d(self._extended, redo)
            unbounded, wide = _unsettled(ju, tol_of(ju), kinks)
        if kinks is not None:
            ju = ju.at_kinks(kinks)
        units = self._chosen(unbounded, wide)
        self._jvp_units = np.union1d(self._jvp_units, units)
        if units.size:
            own = {name: self._rows(units, t) for name, t in tangents.items()}
            value, sens = forward_exact.closed_form_jvp(
                self.op, self._sub(units)[0], self._params, own, self._forward.mid[units], digits=self._digits
            )
            k = len(units)
            ju = ju.spliced(units, value.reshape(k, -1), sens.reshape(k, -1))
        return (*(a.reshape(self._out_shape) for a in (ju.mid, ju.magnitude, ju.radius)),)  # type: ignore[return-value]

    @property
    def coverage(self) -> Coverage:
        """Which units the exact engine computed; the VJP's and J u's count once they have been asked for."""
        exact_units = np.union1d(np.union1d(self._forward_units, self._vjp_units), self._jvp_units)
        return Coverage(
            len(self._unsettled), len(exact_units), int(np.sum(self._unsettled)), self._sampled, len(self._extended)
        )

    def _chosen(self, unbounded: np.ndarray, wide: np.ndarray) -> np.ndarray:
        """The units the exact engine computes: every unsettled one, or for float64 inputs every one whose
        enclosure is unbounded and a random sample of the rest."""
        self._unsettled |= unbounded | wide
        at = np.flatnonzero(wide)
        if self._fmt.name == "float64" and len(at) > SAMPLE_UNITS:
            self._sampled = True
            # One random order of the units for every quantity: the forward, VJP and J u share their sample.
            at = at[np.argsort(self._priority[at])[:SAMPLE_UNITS]]
        return np.union1d(np.flatnonzero(unbounded), at)

    def _rows(self, units: np.ndarray, a: np.ndarray) -> np.ndarray:
        """The chosen units of an input-shaped array, shaped as the op takes them."""
        rows = exact.units(self.op, np.asarray(a))[units]
        return rows.reshape(-1) if self.op.structure == "elementwise" else rows

    def _sub(self, units: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The inputs and the cotangent of the chosen units."""
        op = self.op
        cot = self._cotangent.reshape(exact.units(op, self._arrays[self.wrt]).shape[0], -1)[units]
        if op.structure == "elementwise" or op.closed_form.reduces:
            cot = cot.reshape(-1)
        return {name: self._rows(units, a) for name, a in self._arrays.items()}, cot

    def _exact(self, units: np.ndarray) -> exact.Reference:
        sub, cot = self._sub(units)
        return exact.evaluate(self.op, sub, self._params, cot, digits=self._digits)


def _unsettled(q: _Enclosed, tol: np.ndarray, exempt: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Units with an entry whose enclosure (or magnitude) is unbounded, and units with one wider than
    SETTLED_SHARE of its tolerance."""
    with np.errstate(invalid="ignore"):
        bounded = np.isfinite(q.mid) & np.isfinite(q.radius) & np.isfinite(q.magnitude) & ~q.loose
        narrow = q.radius <= SETTLED_SHARE * tol
    if exempt is not None:
        bounded, narrow = bounded | exempt, narrow | exempt
    unbounded = ~np.all(bounded, axis=1)
    return unbounded, ~unbounded & ~np.all(narrow, axis=1)


def kink_entries(op: Op, x: np.ndarray) -> np.ndarray:
    """Entries exactly at a kink: judged by the subgradient set, whatever the reference's value there."""
    at = np.zeros(np.shape(x), dtype=bool)
    for k in op.closed_form.kinks:
        at |= np.asarray(x) == k.at
    return at


def _recorded(
    op: Op, arrays: dict[str, np.ndarray], params: dict[str, Any], extra: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, list[boxes.Box]], list[boxes.Box], list[boxes.Box]]:
    """The closed form's forward recorded on boxes. Sources, each with its own tangent: every input entry of
    a unit, then the `extra` columns (cotangent terms, or tangent entries), whose boxes come back unrecorded.
    Returns the inputs by unit, every source's value, the input columns, the extra boxes and the outputs."""
    per_unit = {i.name: exact.units(op, np.asarray(arrays[i.name], dtype=np.float64)) for i in op.inputs}
    units, n = per_unit[op.wrt.name].shape
    quantities = np.concatenate([*per_unit.values(), extra], axis=1)
    eye = np.eye(quantities.shape[1])

    def column(k: int) -> boxes.Box:
        return boxes.Box(quantities[:, k], tan=np.broadcast_to(eye[k], (units, len(eye))))

    cols = {name: [column(k * n + j) for j in range(n)] for k, name in enumerate(per_unit)}
    with box_graph.recording():
        out = [boxes.box(v) for v in as_list(op.closed_form.forward(*forward_args(op, cols), **params))]
    start = len(per_unit) * n
    return per_unit, quantities, cols, [column(start + k) for k in range(extra.shape[1])], out


def _enclose(
    op: Op, arrays: dict[str, np.ndarray], params: dict[str, Any], cotangent: np.ndarray, *, rows: bool = False
) -> tuple[_Enclosed, dict[str, _Enclosed]]:
    """The forward and every differentiable input's VJP as enclosures on the (units, k) grid, with the
    magnitudes sum_q |d value / d q| * |q| over every input entry and cotangent term q of the unit. An
    elementwise op's VJP is enclosed through its rewritten derivative too; a row op's with `rows` (n^2
    expressions a row: only for the units enclosed again)."""
    units, n = exact.units(op, np.asarray(arrays[op.wrt.name])).shape
    cot_units = np.asarray(cotangent, dtype=np.float64).reshape(units, -1)
    per_unit, quantities, cols, cot, out = _recorded(op, arrays, params, cot_units)
    grads = box_graph.vjp(out, cot, [col for i in op.differentiable for col in cols[i.name]])
    derivatives = rewritten_jacobians(op, cols, params, rows=rows)
    forward = _gathered(out, quantities)
    values = rewritten_values(op, cols, params, rows=rows)
    if values is not None:
        forward = forward.narrower_values(_gathered(values, quantities))
    through = None if derivatives is None or not forward.loose.any() else jacobian_magnitude(op, derivatives, per_unit)
    if through is not None:
        forward = forward.trusting(*through)
    reuse = _stated_magnitude(op, per_unit, forward, params, lambda stated: _stated_vjp(stated, cot_units, n))
    again = None if derivatives is None else vjp_through(op, derivatives, cot, n)
    found: dict[str, _Enclosed] = {}
    for k, i in enumerate(op.differentiable):
        g = _gathered(grads[k * n : (k + 1) * n], quantities)
        if again is not None:
            g = g.narrower(_gathered(again[k * n : (k + 1) * n], quantities))
        found[i.name] = g.plus(reuse) if k == 0 else g
    return forward, found


def rewritten_jacobians(
    op: Op, cols: dict[str, list[boxes.Box]], params: Mapping[str, Any], *, rows: bool
) -> dict[str, list[boxes.Box]] | None:
    """The op's Jacobians (m x n, row-major), rewritten without the chain rule's cancellations
    (box_derivative.py), on the input columns' boxes; None where the op has no rewrite, and for a row op
    without `rows` (n^2 expressions a row: only for the units enclosed again)."""
    exprs = box_derivative.rewritten(op, len(cols[op.wrt.name])) if rows or op.structure == "elementwise" else None
    if exprs is None:
        return None
    values = _symbol_boxes(op, cols, params)
    return {name: [box_derivative.on_boxes(e, values) for e in entries] for name, entries in exprs.items()}


def rewritten_values(
    op: Op, cols: dict[str, list[boxes.Box]], params: Mapping[str, Any], *, rows: bool
) -> list[boxes.Box] | None:
    """The forward rewritten (box_derivative.rewritten_forward) on the input columns' boxes; None where
    there is none, and for a row op without `rows`, as rewritten_jacobians."""
    n = len(cols[op.wrt.name])
    exprs = box_derivative.rewritten_forward(op, n) if rows or op.structure == "elementwise" else None
    if exprs is None:
        return None
    values = _symbol_boxes(op, cols, params)
    return [box_derivative.on_boxes(e, values) for e in exprs]


def _symbol_boxes(op: Op, cols: dict[str, list[boxes.Box]], params: Mapping[str, Any]) -> dict[Any, boxes.Box]:
    """box_derivative's symbols, each with its box: the input columns' and the parameters'."""
    inputs, named = box_derivative.symbols(op, len(cols[op.wrt.name]))
    values = {s: b for name, c in cols.items() for s, b in zip(inputs[name], c, strict=True)}
    return values | {named[k]: boxes.box(v) for k, v in params.items()}


def vjp_through(op: Op, derivatives: dict[str, list[boxes.Box]], cot: list[boxes.Box], n: int) -> list[boxes.Box]:
    """sum_i c_i d out_i / d x_j through the rewritten Jacobians, for every differentiable input's entries
    in turn (box_graph.vjp's order)."""
    return [
        _total([c * derivatives[i.name][r * n + j] for r, c in enumerate(cot)])
        for i in op.differentiable
        for j in range(n)
    ]


def jacobian_magnitude(
    op: Op, derivatives: dict[str, list[boxes.Box]], per_unit: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray] | None:
    """The forward's magnitudes sum_q |d out / d q| |q| through the rewritten Jacobians, on the (units, m)
    grid, and where they are not to be trusted (an entry loose or unbounded); None unless every input is
    differentiable (the sum runs over every input's terms). Reverse mode's tangents pass through every box
    on the way, and one loose box makes the sum loose: softmax cross entropy's log s_i at a dominant
    logit, whose term in the loss is negligible."""
    if len(op.differentiable) != len(op.inputs):
        return None
    units, n = next(iter(per_unit.values())).shape
    m = len(derivatives[op.wrt.name]) // n
    magnitude, loose = np.zeros((units, m)), np.zeros((units, m), dtype=bool)
    for name, jacobian in derivatives.items():
        q = np.abs(per_unit[name])
        for r in range(m):
            for j in range(n):
                d = jacobian[r * n + j]
                magnitude[:, r] = magnitude[:, r] + np.abs(d.mid) * q[:, j]
                loose[:, r] |= np.asarray(d.loose) | ~np.isfinite(d.mid)
    return magnitude, loose


def _total(terms: list[boxes.Box]) -> boxes.Box:
    return functools.reduce(lambda a, b: a + b, terms)


def _enclose_jvp(
    op: Op,
    arrays: dict[str, np.ndarray],
    params: dict[str, Any],
    tangents: dict[str, np.ndarray],
    forward: _Enclosed,
    *,
    rows: bool = False,
) -> _Enclosed:
    """J u as enclosures on the (units, m) grid, with magnitudes over every input and tangent entry, and
    the stated derivative's reuse of the outputs it is written in; through the rewritten derivative too,
    as `_enclose`."""
    own = {i.name: exact.units(op, np.asarray(tangents[i.name], dtype=np.float64)) for i in op.differentiable}
    per_unit, quantities, cols, seeds, out = _recorded(op, arrays, params, np.concatenate([*own.values()], axis=1))
    ju = box_graph.jvp(out, [col for i in op.differentiable for col in cols[i.name]], seeds)
    reuse = _stated_magnitude(op, per_unit, forward, params, lambda stated: _stated_jvp(stated, own[op.wrt.name]))
    found = _gathered(ju, quantities)
    derivatives = rewritten_jacobians(op, cols, params, rows=rows)
    if derivatives is not None:
        n, m = len(cols[op.wrt.name]), len(out)
        by_input = [(derivatives[i.name], seeds[k * n : (k + 1) * n]) for k, i in enumerate(op.differentiable)]
        terms = [[jac[r * n + j] * u[j] for jac, u in by_input for j in range(n)] for r in range(m)]
        found = found.narrower(_gathered([_total(t) for t in terms], quantities))
    return found.plus(reuse)


def _stated_jvp(matrix: list[Any], u: np.ndarray) -> list[boxes.Box]:
    """sum_j S_ij u_j for each output i, S the stated derivative's entries (row-major, n per output)."""
    n = u.shape[1]
    found = []
    for i in range(len(matrix) // n):
        total = boxes.box(0.0)
        for j in range(n):
            total = total + boxes.box(matrix[i * n + j]) * boxes.Box(u[:, j])
        found.append(total)
    return found


def _magnitudes(values: list[boxes.Box], quantities: np.ndarray) -> np.ndarray:
    """(units, k): sum_q |d value / d q| * |q| for each of the k boxes."""
    units = quantities.shape[0]
    found = [np.zeros(units) if b.tan is None else np.sum(np.abs(b.tan) * np.abs(quantities), axis=-1) for b in values]
    return _stack(found, units)


def _gathered(values: list[boxes.Box], quantities: np.ndarray) -> _Enclosed:
    """k boxes as one quantity on the (units, k) grid."""
    units = quantities.shape[0]
    return _Enclosed(
        _stack([b.mid for b in values], units),
        _stack([b.radius for b in values], units),
        _magnitudes(values, quantities),
        _stack([np.asarray(b.loose) for b in values], units),
    )


def forward_args(op: Op, cols: dict[str, list[boxes.Box]]) -> list[Any]:
    """The forward's arguments as symbols.declare gives them: a scalar per input for an elementwise op,
    a row (list) per input otherwise."""
    if op.structure == "elementwise":
        return [cols[i.name][0] for i in op.inputs]
    return [cols[i.name] for i in op.inputs]


def _stack(columns: list[np.ndarray], units: int) -> np.ndarray:
    return np.stack([np.broadcast_to(c, (units,)) for c in columns], axis=1)


def _stated_magnitude(
    op: Op,
    per_unit: dict[str, np.ndarray],
    forward: _Enclosed,
    params: dict[str, Any],
    combine: Callable[[list[Any]], list[boxes.Box]],
) -> np.ndarray:
    """The sensitivity of a product of the stated derivative (`combine` forms it from the matrix's
    entries) to the forward outputs it is written in (sigmoid's a(1 - a)): an implementation that follows
    the notes reuses its rounded outputs. Where the stated formula is undefined (a kink), no
    implementation can follow it there: 0."""
    cf = op.closed_form
    units, m = forward.mid.shape
    cols = {name: [boxes.Box(u[:, j]) for j in range(u.shape[1])] for name, u in per_unit.items()}
    eye = np.eye(m)
    outs = [boxes.Box(forward.mid[:, i], tan=np.broadcast_to(eye[i], (units, m))) for i in range(m)]
    out_arg: Any = outs[0] if (op.structure == "elementwise" or cf.reduces) else outs
    with box_graph.sympy_on_boxes():
        stated = cf.stated(*forward_args(op, cols), out_arg, **params)
    rows = stated if isinstance(stated, list) else [stated]
    matrix = [e for row in rows for e in (row if isinstance(row, list) else [row])]
    found = _magnitudes(combine(matrix), np.abs(forward.mid))
    return np.where(np.isnan(found), 0.0, found)


def _stated_vjp(matrix: list[Any], c: np.ndarray, n: int) -> list[boxes.Box]:
    """sum_i c_i S_ij for each input entry j, S the stated derivative's entries (row-major, n per output)."""
    found = []
    for j in range(n):
        total = boxes.box(0.0)
        for i in range(c.shape[1]):
            total = total + boxes.Box(c[:, i]) * boxes.box(matrix[i * n + j])
        found.append(total)
    return found
