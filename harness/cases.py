"""The one case type: an example of any op at one dtype, with its cotangent and exact reference.

A check reads the inputs rounded to the dtype, the cotangent, the exact values from the op's
engine (interval arithmetic for a closed form, an 80-digit reverse-mode tape for a program), the
magnitudes its tolerance scales with and the seed of its random directions. What differs between
the engines is answered here, once, so that every check reads one interface.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from derivations.elementary import FLOAT
from derivations.model import ClosedForm, Example, Op, Program
from harness import box_reference, compare, forward_exact, program_boxes, program_exact, second_exact
from harness.dtypes import Format, get_format, reference_digits


@dataclass(frozen=True)
class SecondReference:
    """H(w) v by differentiable input, rounded to float64, and the magnitudes its tolerance scales with."""

    value: dict[str, np.ndarray]
    magnitude: dict[str, np.ndarray]


@dataclass(frozen=True)
class Case:
    op: Op
    arrays: dict[str, np.ndarray]  # rounded to the dtype, held in float64
    params: dict[str, Any]
    cotangent: np.ndarray
    # box_reference.FastReference for a closed form; for a program program_boxes.BoxProgramReference, or
    # program_exact.ProgramReference where the boxes do not settle it
    reference: Any
    fmt: Format
    rng_seed: int

    @property
    def x(self) -> np.ndarray:
        """A closed form's one differentiable input."""
        assert isinstance(self.op.engine, ClosedForm)
        return self.arrays[self.op.wrt.name]

    @property
    def at_kink(self) -> bool:
        """A program's input exactly at a kink or tie: its VJP is a set, judged by the op's rule."""
        return isinstance(self.op.engine, Program) and self.reference.at_kink

    @property
    def exact_vjp(self) -> dict[str, np.ndarray]:
        """The exact gradient of each differentiable input, by name (none at a program's kink)."""
        if isinstance(self.op.engine, Program):
            return dict(self.reference.vjp)
        return dict(self.reference.vjps)

    @functools.cached_property
    def tangent(self) -> dict[str, np.ndarray]:
        """Gaussian tangents u, one per differentiable input, for the forward-mode checks: a stream of
        their own, so that the cotangent and every other draw stay what they were without them."""
        rng = np.random.default_rng([self.rng_seed, 1])
        return {
            i.name: self.fmt.round(rng.standard_normal(np.shape(self.arrays[i.name]))) for i in self.op.differentiable
        }

    @functools.cached_property
    def jvp_reference(self) -> forward_exact.JvpReference:
        """The exact J u and its tolerance magnitudes (none at a program's kink or tie)."""
        op, engine = self.op, self.op.engine
        if isinstance(engine, Program):
            if self.at_kink:
                return forward_exact.JvpReference(None, None)
            shape = self.reference.forward.shape
            mag = forward_exact.program_magnitude(op, self.arrays, self.params, self.tangent, shape)
            found = self.reference.jvp_enclosure(
                self.tangent, lambda value: compare.tolerance(value, mag, self.fmt, self.rho)
            )
            if found is None:
                return forward_exact.JvpReference(None, None)
            return forward_exact.JvpReference(found[0], mag, 0.0 if found[1] is None else found[1])
        # The floor's rounding enters every term J_ij u_j of an output entry.
        mass = sum(np.abs(self.tangent[i.name]) for i in op.differentiable)
        if op.structure != "elementwise":
            mass = (
                np.sum(mass, axis=-1)
                if engine.reduces
                else np.broadcast_to(np.sum(mass, -1, keepdims=True), mass.shape)
            )
        floor = engine.floor * mass

        def tolerance(value: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
            return compare.tolerance(value, magnitude + floor, self.fmt, self.rho)

        value, sens, radius = self.reference.jvp(self.tangent, tolerance)
        return forward_exact.JvpReference(value, sens + floor, radius)

    @functools.cached_property
    def second_reference(self) -> SecondReference:
        """The exact H(w) v of a closed form, w the cotangent and v the tangents, and its magnitudes."""
        op, engine = self.op, self.op.closed_form
        value, sens = second_exact.closed_form_hvp(
            op,
            self.arrays,
            self.params,
            self.cotangent,
            self.tangent,
            self.reference.forward,
            digits=reference_digits(self.fmt),
        )
        # The floor's rounding enters every term w_i H_ijk v_k of an entry.
        mass = sum(np.abs(self.tangent[i.name]) for i in op.differentiable)
        w = np.abs(self.cotangent)
        if op.structure == "elementwise":
            floor = w * mass
        else:
            per_row = np.sum(mass, axis=-1, keepdims=True)
            floor = (w[..., None] if engine.reduces else np.sum(w, axis=-1, keepdims=True)) * per_row
        return SecondReference(value, {k: s + engine.floor * np.broadcast_to(floor, s.shape) for k, s in sens.items()})

    @property
    def rho(self) -> float:
        return roundings(self.op, self.arrays, self.params)

    @functools.cached_property
    def bound(self) -> dict[str, np.ndarray]:
        """A program's running-error magnitudes: "out" and one per differentiable input."""
        return self.op.program.bound(self.arrays, self.params, self.cotangent)

    def magnitude(self, key: str) -> np.ndarray:
        """What the tolerance of the output ("out") or of an input's gradient scales with: a program's
        running-error magnitudes, a closed form's sensitivities plus the floor it cannot avoid."""
        if isinstance(self.op.engine, Program):
            return self.bound[key]
        sens = self.reference.forward_sensitivity if key == "out" else self.reference.vjp_sensitivities[key]
        return sens + floor(self.op, key, self.cotangent)

    def tolerance(self, key: str, exact_value: np.ndarray) -> np.ndarray:
        """The error model's tolerance, widened by how far the exact value may be from the reference's
        (a float64 enclosure's radius; 0 where the exact engine computed it)."""
        tol = compare.tolerance(exact_value, self.magnitude(key), self.fmt, self.rho)
        radius = getattr(self.reference, "radius", None)
        return tol if radius is None else tol + radius(key)

    def subgradients(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Per entry of a closed form's input, the allowed range at its kinks (NaN elsewhere); its kinks
        are those of the input its derivative is stated for."""
        if isinstance(self.op.engine, Program) or name != self.op.wrt.name:
            return None
        return compare.kink_sets(self.op, self.arrays[name], self.params, self.cotangent)

    def conventions(self, gradients: dict[str, np.ndarray]) -> dict[str, list[float]]:
        """Which value a backend picked at each of a closed form's kinks."""
        if isinstance(self.op.engine, Program):
            return {}
        name = self.op.wrt.name
        return compare.chosen_subgradients(self.op, self.arrays[name], self.cotangent, np.asarray(gradients[name]))


def floor(op: Op, key: str, cotangent: np.ndarray) -> np.ndarray | float:
    """The closed form's floor in the output ("out") or in an input's gradient, where it scales with the
    cotangent: an error no stable algorithm avoids, whatever the sensitivity."""
    engine = op.closed_form
    if key == "out":
        return engine.floor
    c = np.abs(cotangent)
    return engine.floor * (c[..., None] if engine.reduces else c)


def output_shape(op: Op, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> tuple[int, ...]:
    """The shape of the op's output at these inputs: a program's from running it in float64."""
    if isinstance(op.engine, Program):
        return tuple(np.shape(op.engine.forward(FLOAT, arrays, params)))
    return op.output_shape(arrays[op.wrt.name].shape)


def roundings(op: Op, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> float:
    """Roundings on the longest path of the computation at these inputs, which scales the tolerance."""
    if isinstance(op.engine, Program):
        return float(op.engine.roundings(arrays, params))
    return compare.roundings(op, op.row_length(arrays[op.wrt.name].shape))


class OutOfRange(ValueError):
    """The example's inputs leave the dtype's range when rounded to it (1e30 in float16): there is no
    such input in that dtype to check."""


def _program_reference(
    op: Op, arrays: dict[str, np.ndarray], params: dict[str, Any], cot: np.ndarray, fmt: Format
) -> Any:
    """On float64 boxes where they settle every entry (program_boxes.py); otherwise, and at a kink or tie,
    the exact engine."""
    engine = op.program
    if engine.kink_gap is None or engine.kink_gap(arrays, params) > program_exact.KINK_GAP:
        rho, bound = roundings(op, arrays, params), engine.bound(arrays, params, cot)
        try:
            return program_boxes.reference(
                op, arrays, params, cot, lambda key, value: compare.tolerance(value, bound[key], fmt, rho)
            )
        except program_boxes.NotEnclosed:
            pass
    return program_exact.reference(op, arrays, params, cot)


def build(op: Op, ex: Example, dtype: str, seed: int) -> Case:
    """One example rounded to `dtype`, a random cotangent from `seed`, and the exact reference."""
    fmt = get_format(dtype)
    arrays = {k: fmt.round(v) for k, v in ex.arrays.items()}
    lost = [k for k, v in arrays.items() if not np.all(np.isfinite(v)) and np.all(np.isfinite(ex.arrays[k]))]
    if lost:
        raise OutOfRange(f"{', '.join(lost)} leave {dtype}'s range")
    params = dict(ex.params)
    cot = fmt.round(np.random.default_rng(seed).standard_normal(output_shape(op, arrays, params)))
    if isinstance(op.engine, Program):
        try:
            ref: Any = _program_reference(op, arrays, params, cot, fmt)
        except ZeroDivisionError:
            # Adagrad's tiny g and s both round to 0 in float16, where its step is 0/0: that input has no
            # counterpart in the dtype. Only where the draw itself is defined; otherwise the error stands.
            program_exact.reference(op, dict(ex.arrays), params, cot)
            raise OutOfRange(f"the inputs rounded to {dtype} leave the op's domain (a division by 0)") from None
    else:
        rho = roundings(op, arrays, params)

        def tolerance(key: str, value: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
            return compare.tolerance(value, magnitude + floor(op, key, cot), fmt, rho)

        ref = box_reference.FastReference(op, arrays, params, cot, fmt, tolerance, seed)
    return Case(op, arrays, params, cot, ref, fmt, seed)
