"""Plots drawn from the catalog itself at report time: each activation with its stated
derivative, and the finite-difference error against the step size (the V-shaped curve)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import mpmath
import numpy as np
import sympy as sp

from derivations import CATALOG
from derivations.model import Op
from harness import finite_diff, symbols
from harness.backends.base import Target
from harness.backends.numpy_ref import NumpyBackend
from harness.dtypes import get_format
from harness.svg_plot import Plot

# The notes plot leaky ReLU with alpha = 0.1 (and recommend 0.01): the plot follows the notes.
PLOT_PARAMS: dict[str, dict[str, float]] = {"leaky_relu": {"alpha": 0.1}}
ACTIVATION_SAMPLES = 241
FD_POINT = 0.7  # away from any kink, where the derivative is neither 0 nor flat
FD_EXPONENTS = range(1, 41, 1)  # steps 2^-1 .. 2^-40
MAX_FD_PLOTS = 3


def _catalog(names: Iterable[str]) -> list[Op]:
    return [CATALOG[n] for n in names if n in CATALOG]


def activations(names: Iterable[str]) -> list[Plot]:
    """Every elementwise op with one input: its forward and the derivative as the notes state it."""
    return [p for d in _catalog(names) if (p := _activation(d.name)) is not None]


@functools.cache  # a plot depends on the catalog only: once per process
def _activation(name: str) -> Plot | None:
    d = CATALOG[name]
    if d.structure != "elementwise" or len(d.inputs) != 1:
        return None
    rs = symbols.build(d, 1)
    params = {**d.param_defaults(), **PLOT_PARAMS.get(d.name, {})}
    subs = {rs.params[k]: v for k, v in params.items()}
    z = rs.inputs[d.wrt.name][0]
    forward = sp.lambdify(z, rs.forward[0].subs(subs), "numpy")
    stated = sp.lambdify(z, rs.stated_jacobian[0].subs(subs), "numpy")
    xs = np.linspace(-6.0, 6.0, ACTIVATION_SAMPLES)
    with np.errstate(all="ignore"):
        # A Piecewise with no branch at a kink gives nan there: the line breaks at the kink.
        ys = np.broadcast_to(np.asarray(forward(xs), dtype=float), xs.shape)
        dys = np.broadcast_to(np.asarray(stated(xs), dtype=float), xs.shape)
    shown = ", ".join(f"{k}={v:g}" for k, v in params.items())
    return Plot(
        title=f"{d.name}{f' ({shown})' if shown else ''}: forward and stated derivative",
        xlabel=d.wrt.name,
        ylabel="value",
        x=xs.tolist(),
        lines={"forward": ys.tolist(), "stated derivative": dys.tolist()},
    )


def _exact_derivative(d: Op, point: float, params: dict[str, float]) -> float:
    rs = symbols.build(d, 1)
    subs = {rs.params[k]: v for k, v in params.items()}
    z = rs.inputs[d.wrt.name][0]
    f = sp.lambdify(z, rs.true_jacobian[0].subs(subs), "mpmath")
    with mpmath.workdps(50):
        return float(f(mpmath.mpf(point)))


def _fd_errors(
    reference: NumpyBackend,
    d: Op,
    params: dict[str, float],
    point: float,
    dtype: str,
    steps: list[float],
    exact: float,
) -> tuple[list[float], list[float]]:
    fmt, target = get_format(dtype), Target("cpu", dtype)

    def forward(a: np.ndarray) -> np.ndarray:
        return reference.forward(d, {d.wrt.name: a}, params, target)

    central, richardson = [], []
    for h in steps:
        f = forward(fmt.round(np.array([point + h, point - h])))
        central.append(abs(float(f[0] - f[1]) / (2 * h) - exact))
        est = finite_diff.directional(forward, np.array([point]), np.ones((1, 1)), h=h, round_input=fmt.round)
        richardson.append(abs(float(est.value[0, 0]) - exact))
    return central, richardson


def fd_step(names: Iterable[str]) -> list[Plot]:
    """|estimate - exact| against the step for central differences and the harness's
    Richardson estimate, on the NumPy reference, with the harness's chosen steps marked."""
    plots = [p for d in _catalog(names) if (p := _fd_plot(d.name)) is not None]
    return plots[:MAX_FD_PLOTS]


@functools.cache
def _fd_plot(name: str) -> Plot | None:
    d = CATALOG[name]
    reference = NumpyBackend()
    if d.structure != "elementwise" or d.closed_form.kinks or len(d.inputs) != 1 or not reference.provides(d):
        return None
    params = d.param_defaults()
    steps = [2.0**-k for k in FD_EXPONENTS]
    lines: dict[str, list[float | None]] = {}
    point = float(np.float32(FD_POINT))  # one point both formats hold exactly
    exact = _exact_derivative(d, point, params)
    for dtype in finite_diff.STEPS:
        central, richardson = _fd_errors(reference, d, params, point, dtype, steps, exact)
        lines[f"central, {dtype}"] = [e if e > 0 else None for e in central]
        lines[f"Richardson O(h⁶), {dtype}"] = [e if e > 0 else None for e in richardson]
    return Plot(
        title=f"{d.name}: finite-difference error at {d.wrt.name}={point:g}",
        xlabel="step h",
        ylabel="|estimate − exact|",
        x=steps,
        lines=lines,
        log_x=True,
        log_y=True,
        marks=[(h, f"{dtype} step") for dtype, h in finite_diff.STEPS.items()],
    )


def as_series(plot: Plot) -> dict[str, object]:
    """A plot as report data (the schema's series, with marks): non-finite values become None."""

    def finite(values: Iterable[float | None]) -> list[float | None]:
        return [float(v) if v is not None and np.isfinite(v) else None for v in values]

    return {
        "title": plot.title,
        "xlabel": plot.xlabel,
        "ylabel": plot.ylabel,
        "x": finite(plot.x),
        "lines": {name: finite(ys) for name, ys in plot.lines.items()},
        "log_x": plot.log_x,
        "log_y": plot.log_y,
        "marks": [[float(x), label] for x, label in plot.marks],
    }


def of(name: str) -> dict[str, dict[str, object]]:
    """The catalog's plots of one op, as stored in its report record: the activation and the
    finite-difference error against the step, where they apply."""
    if name not in CATALOG:
        return {}
    found = {"activation": _activation(name), "fd_step": _fd_plot(name)}
    return {kind: as_series(plot) for kind, plot in found.items() if plot is not None}
