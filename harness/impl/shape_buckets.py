"""Shape buckets for libraries that compile once per shape (JAX's jit): a closed form's arrays, flattened
and padded to a few shapes, so that a whole run compiles a handful of shapes per op, not one per example.

Used only where the catalog declares the op's structure: an elementwise op's entries are flattened to one
axis, a row op's leading axes to one axis of rows (the row length is never padded), and that axis is padded
to a power of two (at least FLOOR) with copies of the first real entry or row. Each real entry or row is
then computed from the same values as before, and the padding is cut off before anything is returned. A
program's inputs (convolutions, pooling) are never padded.

The values each real entry is computed from are the same; the bits need not be: XLA's code for an entry
depends on the shape it compiles for (a vectorised body or a scalar remainder, the order of a row's sum).
Measured: an elementwise op's forward, VJP and JVP were bitwise those at the real shape in every case, a
second-order call of one once differed by an ulp, a reduced row by up to two. Row ops are therefore bucketed
only when asked (`rows=True`), and the JAX kind says which calls it buckets.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.impl.contract import Convention


@functools.cache
def structure_of(conv: Convention) -> tuple[str, bool] | None:
    """("elementwise" or "row", whether it reduces each row to one value) of a catalog closed form called as
    `conv`; None for a program, an op the catalog does not hold, or one declared under a catalog op's name."""
    from derivations import OPS  # loaded already in a worker (isolation.PRELOAD), and cached here
    from derivations.model import ClosedForm

    op = OPS.get(conv.op)
    if op is None or not isinstance(op.engine, ClosedForm) or Convention.of(op) != conv:
        return None
    return op.structure, op.engine.reduces


# The fewest entries (elementwise) or rows (row ops) a call is padded to: the quick profile's examples have
# from 1 to a few hundred entries, and padding a small call costs less than compiling it once more.
FLOOR = {"elementwise": 64, "row": 8}


def bucket(n: int, floor: int = 1) -> int:
    """The power of two at or above n (n >= 1), and at least `floor`."""
    return max(floor, 1 << (n - 1).bit_length())


@dataclass(frozen=True)
class Buckets:
    """One call's layout: the real shape of its inputs and of its output, and the padded 2-D (row op) or
    1-D (elementwise) shapes both are evaluated at; the first axis of each padded shape holds `real` real
    entries or rows, then copies."""

    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    padded_in: tuple[int, ...]
    padded_out: tuple[int, ...]
    real: int

    def pad_in(self, values: np.ndarray, dtype: str) -> np.ndarray:
        return self._pad(values, self.padded_in, dtype)

    def pad_out(self, values: np.ndarray, dtype: str) -> np.ndarray:
        return self._pad(values, self.padded_out, dtype)

    def _pad(self, values: np.ndarray, padded: tuple[int, ...], dtype: str) -> np.ndarray:
        # Cast here, in NumPy: a cast on the JAX side compiles a conversion for every shape it meets.
        flat = np.asarray(values, dtype=dtype).reshape(self.real, *padded[1:])
        copies = np.broadcast_to(flat[:1], (padded[0] - self.real, *padded[1:]))
        return np.concatenate([flat, copies])

    def unpad(self, values: np.ndarray, like_input: bool) -> np.ndarray | None:
        """The real part of one result, in the real shape; None when the result does not have the padded
        shape the structure says it must (the caller then asks again at the real shape)."""
        padded, real_shape = (self.padded_in, self.in_shape) if like_input else (self.padded_out, self.out_shape)
        if tuple(np.shape(values)) != padded:
            return None
        return np.asarray(values)[: self.real].reshape(real_shape)


def plan(
    conv: Convention, like_inputs: Sequence[np.ndarray], like_output: Sequence[np.ndarray], *, rows: bool = False
) -> Buckets | None:
    """The buckets for one call whose arrays are `like_inputs` (the inputs, their tangents or directions)
    and `like_output` (a cotangent or weights), or None where the call keeps its shapes: an op whose
    structure the catalog does not declare, a row op unless `rows`, inputs of different shapes, a cotangent
    of another shape than the output's, no entries at all."""
    found = structure_of(conv)
    shapes = {tuple(np.shape(a)) for a in like_inputs}
    if found is None or len(shapes) != 1:
        return None
    structure, reduces = found
    (in_shape,) = shapes
    if structure == "row" and (not rows or not in_shape):
        return None  # and a row op on a scalar has no row to keep whole
    reduces = reduces and structure == "row"
    out_shape = in_shape[:-1] if reduces else in_shape
    if any(tuple(np.shape(a)) != out_shape for a in like_output):
        return None
    row = () if structure == "elementwise" else in_shape[-1:]
    real = math.prod(in_shape) if structure == "elementwise" else math.prod(in_shape[:-1])
    if real == 0 or math.prod(row) == 0:
        return None
    padded = bucket(real, FLOOR[structure])
    return Buckets(in_shape, out_shape, (padded, *row), (padded, *row[: len(row) - reduces]), real)
