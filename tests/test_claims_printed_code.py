"""The notes' printed code (C2's two programs, D11's line, E8's ResidualBlock, E11's Inception and Net): every
verdict pinned with its reasoning; the corrected statement in place of each refuted one holds and a wrong one
in place of each checked one is refuted."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch

from derivations import CLAIMS, notes_modules
from derivations.notes_code import (
    GD_PROGRAM,
    GD_READING,
    INCEPTION_READING,
    INIT_READING,
    RESIDUAL_READING,
    SGD_READING,
    Reading,
)
from harness import claims, seeds
from harness.claim_checks import printed_code


def _run(name: str, seed: int = 0, **changes: Any) -> dict[str, Any]:
    claim = CLAIMS[name]
    return claims.run_claim(dataclasses.replace(claim, statement={**claim.statement, **changes}), seed)


def _failure(rec: dict[str, Any]) -> str:
    return str(next(e for e in rec["evidence"] if not e["ok"])["actual"])


# Where Python stops on each block as printed: the scraped text lost every indentation, so the first line of
# the first def or class body is an IndentationError; D11's line lost its '*' and is a SyntaxError.
STOPS = {
    "init_line_runs_as_printed": "line 106: 'w[1]=np.random.randn((2,2))0.01': SyntaxError",
    "inception_code_runs_as_printed": "line 1966: 'def __init__(self,in_channels):': IndentationError",
    "residual_code_runs_as_printed": "line 2348: 'def __init__(self,channels):': IndentationError",
    "gd_program_runs_as_printed": "line 487: 'return x*w': IndentationError",
    "sgd_program_runs_as_printed": "line 1799: 'return x*w': IndentationError",
}

VERDICTS = {
    **dict.fromkeys(STOPS, "refuted"),
    # Indentation restored, the hand-gradient program runs to its end and calls plt.plot once with epochs 0..99
    # and the 100 losses loss(x_data, y_data) before each update, exactly as computed in-process.
    "gd_program_loss_plot": "checked",
    # Indentation restored, the autograd program appends l (a tensor that requires grad) to loss_list; plot
    # turns the list into an array as matplotlib does (np.atleast_1d) and torch refuses: RuntimeError, no plot.
    "sgd_program_loss_plot": "refuted",
    # Line 1807 prints 4·w0 = 4.0 before any update, as labelled; line 1820, labelled the same, is printed after
    # the 300 updates and prints 4·w = 7.9999986.
    "sgd_program_predict_labels": "refuted",
}


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdict(name: str) -> None:
    rec = claims.run_claim(CLAIMS[name], 0)
    assert rec["verdict"] == VERDICTS[name], rec["detail"]


@pytest.mark.parametrize("name", sorted(STOPS))
def test_a_block_that_fails_as_printed_names_the_seed_line_and_error(name: str) -> None:
    assert STOPS[name] in _failure(claims.run_claim(CLAIMS[name], 0))


def test_the_corrected_statements_say_what_the_reading_does() -> None:
    corrected = {name: str(claims.run_claim(CLAIMS[name], 0)["corrected"]) for name in STOPS}
    assert "NameError: name 'torch' is not defined; it uses F, torch" in corrected["residual_code_runs_as_printed"]
    assert "NameError: name 'np' is not defined; it uses np, w" in corrected["init_line_runs_as_printed"]
    assert corrected["gd_program_runs_as_printed"].endswith("it runs to its end")
    assert "line 1821: 'plt.plot(epoch_list, loss_list)': RuntimeError" in corrected["sgd_program_runs_as_printed"]


IMPORTS = ("import torch", "import torch.nn.functional as F")
# The autograd program with loss_list keeping numbers: the fix its plot needs.
SGD_FIXED = dataclasses.replace(SGD_READING, edits=(("loss_list.append(l)", "loss_list.append(l.item())"),))
# The second 'predict (before training)' line, the one after the loop, relabelled.
RELABEL = (
    'print("predict (before training)",4,forward(4).item())\nplt.plot',
    'print("predict (after training)",4,forward(4).item())\nplt.plot',
)

RIGHT = {
    "init_line_runs_as_printed": {"restore": dataclasses.replace(INIT_READING, prelude=("import numpy as np", "w={}"))},
    "inception_code_runs_as_printed": {"restore": dataclasses.replace(INCEPTION_READING, prelude=IMPORTS)},
    "residual_code_runs_as_printed": {"restore": dataclasses.replace(RESIDUAL_READING, prelude=IMPORTS)},
    "gd_program_runs_as_printed": {"restore": GD_READING},
    "sgd_program_runs_as_printed": {"restore": SGD_FIXED},
    "sgd_program_loss_plot": {"restore": SGD_FIXED},
    "sgd_program_predict_labels": {
        "restore": dataclasses.replace(SGD_FIXED, edits=(*SGD_FIXED.edits, RELABEL)),
        "labels": {"predict (before training)": "before", "predict (after training)": "after"},
    },
}

WRONG = {
    # the axes swapped: the program plots the epoch on x
    "gd_program_loss_plot": {"axes": ("loss", "epoch")},
}


def test_every_claim_is_planted() -> None:
    assert set(WRONG) | set(RIGHT) == set(VERDICTS)


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_the_corrected_statement_holds(name: str) -> None:
    rec = _run(name, **RIGHT[name])
    assert rec["verdict"] == "checked", rec["detail"]


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_wrong_statement_is_refuted(name: str) -> None:
    assert _run(name, **WRONG[name])["verdict"] == "refuted"


def test_the_first_label_holds_and_the_second_does_not() -> None:
    rec = claims.run_claim(CLAIMS["sgd_program_predict_labels"], 0)
    first, second = rec["evidence"]
    assert first["ok"] and first["actual"] == 4.0 and "line 1807" in first["name"]
    assert not second["ok"] and abs(second["actual"] - 8.0) < 1e-5 and "line 1820" in second["name"]
    assert "after 300 updates" in second["note"]


def test_the_pyplot_stand_in_records_and_draws_nothing() -> None:
    run = printed_code.run_printed(seeds.text(CLAIMS["gd_program_loss_plot"].statement["seed"]), GD_PROGRAM, GD_READING)
    assert [call for call, _ in run.calls] == ["plot", "ylabel", "xlabel", "show"]
    assert run.calls[1][1] == ("losss",) and run.stdout == ""


def test_a_reading_must_keep_the_printed_lines() -> None:
    with pytest.raises(ValueError, match="indentation levels"):
        printed_code.apply_reading("a\nb", Reading("two lines read as one", "0"))
    with pytest.raises(ValueError, match="keep the printed lines"):
        printed_code.apply_reading("a\nb", Reading("a line added", edits=(("a", "a\nc"),)))
    assert printed_code.apply_reading("if x:\ny", Reading("indented", "01")) == "if x:\n    y"


def test_a_missing_seed_makes_the_program_claims_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seeds, "SEEDS", tmp_path)
    for name in ("gd_program_loss_plot", "sgd_program_predict_labels", "residual_code_runs_as_printed"):
        rec = claims.run_claim(CLAIMS[name], 0)
        assert rec["verdict"] == "error" and "is missing" in str(rec["detail"])


@pytest.mark.parametrize(
    ("name", "defines", "transcribed", "shape"),
    [
        ("residual_code_runs_as_printed", "ResidualBlock", lambda: notes_modules.residual_block(4), (2, 4, 6, 6)),
        ("inception_code_runs_as_printed", "Net", notes_modules.net, (2, 1, 28, 28)),
    ],
)
def test_the_transcription_is_the_printed_code_read_with_its_indentation(
    name: str, defines: str, transcribed: Any, shape: tuple[int, ...]
) -> None:
    """The shape claims (E6-E8, E11) run derivations/notes_modules.py: it must be the printed block, read."""
    st = CLAIMS[name].statement
    code, _first = printed_code.extract(seeds.text(st["seed"]), st["pattern"])
    namespace: dict[str, Any] = {"torch": torch, "F": torch.nn.functional}
    exec(compile(printed_code.apply_reading(code, st["reading"]), st["seed"], "exec"), namespace)
    printed = namespace[defines](4) if defines == "ResidualBlock" else namespace[defines]()
    ours = transcribed()
    ours.load_state_dict(printed.state_dict())  # strict: the same parameters, named and shaped alike
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ours(x), printed(x))
