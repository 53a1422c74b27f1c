"""SymPy's verdict on each documented derivative, and on planted wrong ones."""

from __future__ import annotations

import dataclasses
import time

import pytest
import sympy as sp

from derivations import CATALOG
from harness.symbolic import decide, time_budget


@pytest.mark.parametrize("name", list(CATALOG))
def test_catalog_derivative_is_proved(name: str) -> None:
    verdict = decide(CATALOG[name])
    assert verdict.status == "proved", verdict.detail
    if CATALOG[name].structure == "row":
        assert verdict.sizes == (1, 2, 3, 4)


def test_wrong_sigmoid_derivative_is_refuted_with_counterexample() -> None:
    wrong = dataclasses.replace(
        CATALOG["sigmoid"].with_engine(stated=lambda z, out: out * (1 + out)), name="sigmoid_wrong"
    )
    verdict = decide(wrong)
    assert verdict.status == "refuted"
    ce = verdict.counterexample
    assert ce is not None
    z = ce["at"]["z"]  # type: ignore[index]
    s = 1 / (1 + sp.exp(-sp.Float(z, 30)))
    assert abs(float(s * (1 + s)) - ce["stated"]) < 1e-12  # type: ignore[operator]
    assert abs(float(s * (1 - s)) - ce["true"]) < 1e-12  # type: ignore[operator]
    assert verdict.corrected is not None
    corrected = sp.sympify(verdict.corrected).subs(sp.Symbol("z"), sp.Float(z, 30))
    assert abs(float(corrected) - float(s * (1 - s))) < 1e-12


def test_diagonal_only_softmax_jacobian_is_refuted() -> None:
    def diagonal(z: list[sp.Expr], out: list[sp.Expr]) -> list[list[sp.Expr]]:
        return [[out[i] * (1 - out[i]) if i == j else sp.Integer(0) for j in range(len(z))] for i in range(len(z))]

    verdict = decide(dataclasses.replace(CATALOG["softmax"].with_engine(stated=diagonal), name="softmax_wrong"))
    assert verdict.status == "refuted"
    assert verdict.counterexample is not None and verdict.counterexample["n"] == 2


def test_cross_entropy_gradient_needs_targets_on_the_simplex() -> None:
    # Without the simplex domain p - y is not the gradient (it is p * sum(y) - y).
    from derivations.model import Input

    loose = dataclasses.replace(
        CATALOG["softmax_cross_entropy"],
        name="ce_any_targets",
        inputs=(Input("z"), Input("y", differentiable=False)),
    )
    assert decide(loose).status == "refuted"


def test_leaky_relu_is_proved_for_every_slope_in_its_domain() -> None:
    verdict = decide(CATALOG["leaky_relu"])
    assert verdict.status == "proved" and "smooth piece" in verdict.detail


def test_a_time_budget_holds_when_its_alarm_is_swallowed() -> None:
    """An alarm that lands in code that swallows exceptions (a gc callback) fires again, so the block still
    ends soon after its budget, not when its work is done (a proof of softmax once ran to the end that way)."""
    t0 = time.perf_counter()
    with pytest.raises(TimeoutError), time_budget(0.01):
        try:
            time.sleep(0.2)
        except TimeoutError:
            pass  # what a gc callback's "exception ignored" does to it
        time.sleep(5)  # the work goes on
    assert time.perf_counter() - t0 < 1


def test_time_budget_falls_back_to_numerical_only() -> None:
    verdict = decide(CATALOG["softmax"], budget_s=0.001)
    assert verdict.status == "numerical-only"
    assert "did not finish" in verdict.detail
