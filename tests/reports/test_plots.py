"""The plots drawn from the catalog: activations with their stated derivatives, and the
V-shaped finite-difference error curve with the harness's steps marked."""

from __future__ import annotations

import math

import numpy as np

from harness import catalog_plots, finite_diff, svg_plot
from tests.reports.page import parse


def test_each_activation_is_drawn_with_its_stated_derivative() -> None:
    plots = catalog_plots.activations(["sigmoid", "tanh", "relu", "leaky_relu", "softmax", "mse"])
    assert [p.title.split(" ")[0].split(":")[0] for p in plots] == ["sigmoid", "tanh", "relu", "leaky_relu"]
    sigmoid = plots[0]
    x = np.array(sigmoid.x)
    a = np.array(sigmoid.lines["forward"])
    # The plotted derivative is the notes' a(1 - a), sampled from the catalog.
    np.testing.assert_allclose(sigmoid.lines["stated derivative"], a * (1 - a), rtol=1e-12)
    np.testing.assert_allclose(a, 1 / (1 + np.exp(-x)), rtol=1e-12)
    relu_derivative = plots[2].lines["stated derivative"]
    assert any(v is not None and math.isnan(v) for v in relu_derivative)  # no value stated at the kink


def test_finite_difference_error_is_v_shaped_around_the_chosen_step() -> None:
    (plot,) = catalog_plots.fd_step(["sigmoid"])
    errors = plot.lines["central, float64"]
    steps = plot.x
    finite = [(h, e) for h, e in zip(steps, errors, strict=True) if e is not None]
    best_step, best = min(finite, key=lambda t: t[1])
    # Truncation dominates at large steps and rounding at small ones: both ends are worse.
    assert finite[0][1] > 1e3 * best and finite[-1][1] > 1e3 * best
    assert 1e-8 < best_step < 1e-2
    richardson = dict(zip(steps, plot.lines["Richardson O(h⁶), float64"], strict=True))
    chosen = richardson[finite_diff.STEPS["float64"]]
    assert chosen is not None and chosen < 1e-12
    assert [m[0] for m in plot.marks] == list(finite_diff.STEPS.values())


def test_gaps_break_the_line_instead_of_joining_it() -> None:
    svg = svg_plot.render(svg_plot.Plot("t", "x", "y", [0, 1, 2, 3], {"a": [0, 1, None, 3]}))
    path = next(a["d"] for t, a in parse(svg).tags if t == "path")
    assert path is not None and path.count("M") == 2


def test_a_plot_with_nothing_finite_says_so() -> None:
    html = svg_plot.render(svg_plot.Plot("empty", "x", "y", [1, 2], {"a": [float("nan"), None]}))
    assert "no finite values" in html and "<svg" not in html
