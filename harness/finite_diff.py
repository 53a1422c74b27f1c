"""Central differences with two Richardson levels, batched, with their own error estimates.

Every estimate evaluates all perturbed inputs in one stacked call per chunk: the forward
receives an array with an extra leading axis, never one Python call per element.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Steps for an O(h^6) estimate: near u^(1/7), rounded to a power of two so x +- h is as exact
# as the format allows.
STEPS = {"float64": 2.0**-8, "float32": 2.0**-4}
# (64 D(h/4) - 20 D(h/2) + D(h)) / 45 amplifies forward noise eps by (64*4 + 20*2 + 1)/45 / h.
NOISE_GAIN = (64 * 4 + 20 * 2 + 1) / 45
MAX_BATCH_ELEMENTS = 1 << 23  # elements per stacked call, to bound memory
KINK_MARGIN = 8.0  # steps: a stencil closer than this to a kink straddles it

Forward = Callable[[np.ndarray], np.ndarray]  # (K, *x.shape) -> (K, *out.shape)
Noise = Callable[[np.ndarray], np.ndarray]  # the forward at x -> its absolute noise


@dataclass(frozen=True)
class Estimate:
    """Directional derivatives J @ u for each direction, with a truncation and a rounding bound."""

    value: np.ndarray  # (D, *out.shape)
    truncation: np.ndarray  # |R2 - R1|: distance between the last two extrapolations
    rounding: np.ndarray  # NOISE_GAIN * eps_f / h for the forward's own noise eps_f
    center: np.ndarray  # the forward at x itself, evaluated in the same stacked call

    @property
    def error(self) -> np.ndarray:
        return self.truncation + self.rounding


def step_for(dtype: str) -> float:
    try:
        return STEPS[dtype]
    except KeyError:
        raise ValueError(f"finite differences need float32 or float64, not {dtype}") from None


def directional(
    forward: Forward,
    x: np.ndarray,
    directions: np.ndarray,
    *,
    h: float,
    forward_noise: Noise | float = 0.0,
    relative_noise: float = 0.0,
    round_input: Callable[[np.ndarray], np.ndarray] = lambda a: a,
) -> Estimate:
    """Estimate J(x) @ u for each u in `directions` (shape (D, *x.shape)).

    The forward's noise is `forward_noise` (absolute, at x; a function of the forward's value
    at x when given one) plus `relative_noise` times the largest value met on the stencil,
    where values can be far larger than at x.
    """
    d = directions.shape[0]
    per_direction = 6 * max(1, x.size)
    chunk = max(1, MAX_BATCH_ELEMENTS // per_direction)
    values, truncs, peaks = [], [], []
    center: np.ndarray | None = None
    steps = np.array([h, -h, h / 2, -h / 2, h / 4, -h / 4])
    for start in range(0, d, chunk):
        u = directions[start : start + chunk]
        shifted = x[None, None] + steps.reshape(1, 6, *([1] * x.ndim)) * u[:, None]
        shifted = round_input(shifted).reshape(-1, *x.shape)
        if center is None:  # x itself rides along with the first chunk
            shifted = np.concatenate([shifted, x[None]])
        f = np.asarray(forward(shifted), dtype=np.float64)
        if center is None:
            center, f = f[-1], f[:-1]
        f = f.reshape(u.shape[0], 6, *f.shape[1:])
        d1 = (f[:, 0] - f[:, 1]) / (2 * h)
        d2 = (f[:, 2] - f[:, 3]) / h
        d4 = (f[:, 4] - f[:, 5]) / (h / 2)
        r1 = (4 * d2 - d1) / 3
        r2 = (4 * d4 - d2) / 3
        values.append((16 * r2 - r1) / 15)
        truncs.append(np.abs(r2 - r1))
        peaks.append(np.max(np.abs(f), axis=1))
    value = np.concatenate(values)
    assert center is not None
    at_x = forward_noise(center) if callable(forward_noise) else forward_noise
    noise = np.asarray(at_x, dtype=np.float64) + relative_noise * np.concatenate(peaks)
    rounding = NOISE_GAIN * np.broadcast_to(noise, value.shape) / h
    return Estimate(value, np.concatenate(truncs), rounding.copy(), center)


def colours(shape: tuple[int, ...], structure: str) -> np.ndarray:
    """Directions that together recover every Jacobian entry the structure allows.

    Entries that no output shares get one colour (Curtis-Powell-Reid): all entries of an
    elementwise op at once, column j of every row of a row op at once. Returns (C, *shape).
    """
    if structure == "elementwise":
        return np.ones((1, *shape))
    n = shape[-1]
    return np.broadcast_to(np.eye(n).reshape(n, *([1] * (len(shape) - 1)), n), (n, *shape)).copy()


def smooth(x: np.ndarray, kinks: Sequence[float], h: float) -> np.ndarray:
    """True where a stencil of step h (directions up to KINK_MARGIN long) stays off every kink."""
    away = np.ones(x.shape, dtype=bool)
    for at in kinks:
        away &= np.abs(x - at) > KINK_MARGIN * h
    return away


def uncolour(values: np.ndarray, x_shape: tuple[int, ...], structure: str, reduces: bool) -> np.ndarray:
    """Per-colour results (C, *out.shape) as Jacobian entries: the diagonal (*x.shape) of an
    elementwise op, J[..., i, j] = d out_i / d x_j of a row op (*lead, outputs, n)."""
    if structure == "elementwise":
        return values[0]
    out_width = 1 if reduces else x_shape[-1]
    v = values.reshape(values.shape[0], *x_shape[:-1], out_width)
    return np.moveaxis(v, 0, -1)


@functools.cache
def miss_probability(ratio: float, directions: int) -> float:
    """Chance that `directions` independent Gaussian pairs (u, v) all miss a rank-one error.

    For a Jacobian error E = s a b^T (unit a, b), v^T E u = s (v.a)(u.b) is s times a product
    of two independent standard normals, whose density is K0(|t|)/pi. A pair misses when
    |v^T E u| stays under the tolerance t; `ratio` is t / s. Pairs are independent, so the
    chances multiply. Errors of higher rank are missed less often.
    """
    from math import erf, sqrt

    # P(|g1 g2| < r) = E_g1[erf(r / (|g1| sqrt 2))], integrated over the half-normal density.
    grid = np.linspace(1e-6, 8.0, 4000)
    density = np.exp(-(grid**2) / 2) * sqrt(2 / math.pi)
    integrand = density * np.array([erf(ratio / (g * sqrt(2))) for g in grid])
    one = float(np.sum((integrand[1:] + integrand[:-1]) * np.diff(grid)) / 2)
    return min(max(one, 0.0), 1.0) ** directions
