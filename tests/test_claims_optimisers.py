"""C2's worked example (checked in-process) and C5's Adagrad: every verdict pinned with its reasoning; a wrong
statement planted in place of each proved/checked one is refuted, the corrected statement in place of each
refuted one holds."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import sympy as sp

from derivations import CLAIMS
from harness import claims


def _run(name: str, seed: int = 0, **changes: Any) -> dict[str, Any]:
    claim = CLAIMS[name]
    return claims.run_claim(dataclasses.replace(claim, statement={**claim.statement, **changes}), seed)


VERDICTS = {
    # d/dw (1/n) Σ (xw − y)² = (1/n) Σ 2x(xw − y): the program's gradient() is the derivative of its loss(),
    # with the samples as symbols (1 to 4 of them; the note's data has 3).
    "worked_example_gradient": "proved",
    # On the note's data the mean loss is (14/3)(w − 2)²: each epoch multiplies w − 2 by 1 − 0.01·28/3 = 0.9067,
    # so the loss falls every epoch and after 100 epochs w = 2 − 0.9067^100 = 2 − 5.6e-5, inside 1e-3.
    "worked_example": "checked",
    # One update per sample multiplies w − 2 by (1 − 0.02x²): 0.98·0.92·0.82 per epoch, w = 2 to float32 after
    # 100 epochs; autograd of (xw − y)² is 2x(xw − y) up to float32 rounding (1.4e-6 against a margin of 1e-5).
    "worked_example_autograd_sgd": "checked",
    # The note's denominator Σ|g_i| equals torch's √(Σg_i²) while one gradient has been seen, and exceeds it
    # after: the first step agrees, the trajectory then parts (27% apart after 100 steps, against 1e-6).
    "adagrad_rule": "refuted",
    # On ½a(w − c)², f' = a(w − c): at offsets shared by all the quadratics Σ|f'| = a·Σ|w − c|, strictly
    # increasing in a; Adagrad's 1-D run is invariant to a (a cancels in g/Σ|g|), so along its run from one
    # distance the denominator is a times the same number. (From different distances it is not: reported.)
    "adagrad_denominator_curvature": "checked",
    # x − sign(f')·|f'|/f'' = x − f'/f'' = c for a(x − c)² + d with a > 0: Newton's step.
    "best_step_quadratic": "proved",
}


@pytest.mark.parametrize("seed", [0, 29, 59])
@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdict(name: str, seed: int) -> None:
    rec = claims.run_claim(CLAIMS[name], seed)
    assert rec["verdict"] == VERDICTS[name], rec["detail"]


WRONG = {
    # drops the factor 2 of the derivative
    "worked_example_gradient": {
        "gradient": lambda xs, ys, w: sum(x * (x * w - y) for x, y in zip(xs, ys, strict=True)) / len(xs)
    },
    # ten epochs leave w = 2 − 0.9067^10 = 1.62
    "worked_example": {"epochs": 10},
    # half the squared error: autograd then gives x(xw − y), half the hand gradient
    "worked_example_autograd_sgd": {"sample_loss": lambda x, y, w: (x * w - y) ** 2 / 2},
    # a count of the steps sees nothing of f'': every quadratic gets the same denominator
    "adagrad_denominator_curvature": {"denominator": lambda gs: float(len(gs))},
    "best_step_quadratic": {"step": lambda fp, fpp: sp.Abs(fp) / (2 * fpp)},
}

RIGHT = {
    # torch's Adagrad without eps: the root of the summed squares
    "adagrad_rule": {"step": lambda w, total, g, eta: (w - eta * g / np.sqrt(total + g**2), total + g**2)},
}


def test_every_claim_is_planted() -> None:
    assert set(WRONG) | set(RIGHT) == set(VERDICTS)


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_wrong_statement_is_refuted(name: str) -> None:
    assert _run(name, **WRONG[name])["verdict"] == "refuted"


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_the_corrected_statement_holds(name: str) -> None:
    assert _run(name, **RIGHT[name])["verdict"] in ("proved", "checked")


def test_a_learning_rate_past_the_stability_limit_is_refuted() -> None:
    # 0.25 · 28/3 = 2.33 > 2: each epoch multiplies w − 2 by −1.33, and the loss grows
    rec = _run("worked_example", lr=0.25)
    assert rec["verdict"] == "refuted" and "falls" in str(rec["detail"])


def test_adagrad_agrees_on_the_first_step_and_names_torchs_rule() -> None:
    rec = claims.run_claim(CLAIMS["adagrad_rule"], 0)
    first, whole = rec["evidence"]
    assert first["ok"] and not whole["ok"]
    assert "√(Σ_{i≤t} g_i²) + ε" in rec["corrected"] and "torch.optim.Adagrad" in rec["corrected"]


def test_the_curvature_ranking_is_the_denominators_not_the_harness() -> None:
    # The root of the summed squares is homogeneous in f'' as well: it ranks the same way.
    root = _run("adagrad_denominator_curvature", denominator=lambda gs: float(np.sqrt(np.sum(np.square(gs)))))
    assert root["verdict"] == "checked"
    # Reversed, the ranking fails in every set-up.
    reversed_ = _run("adagrad_denominator_curvature", denominator=lambda gs: 1 / float(np.sum(np.abs(gs))))
    assert reversed_["verdict"] == "refuted"


def test_the_curvature_claim_reports_where_it_fails() -> None:
    rec = claims.run_claim(CLAIMS["adagrad_denominator_curvature"], 0)
    assert "its own distance" in str(rec["detail"]) and "f''·distance" in str(rec["detail"])
