"""What the worked example's two printed programs (C2) do once run: their loss plots and printed labels.

The programs are taken from the seed text and run in a subprocess under the reading their claim names (the
indentation the text lost); the expected values are computed here, in-process, from the note's numbers
(derivations.optimisers.WORKED_EXAMPLE), the way each program computes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from derivations.model import Claim
from harness import seeds
from harness.claim_checks.printed_code import Run, failure, run_printed
from harness.claim_checks.result import ClaimResult
from harness.claim_checks.worked_example import gradient_descent, per_sample_sgd


def batch_losses(ex: Mapping[str, Any]) -> tuple[list[float], float]:
    """The hand-gradient program's loss_list and its last w."""
    losses, trace = gradient_descent(ex)
    return losses, trace[-1]


def sample_losses(ex: Mapping[str, Any]) -> tuple[list[float], float]:
    """The autograd program's loss_list (l of each epoch's last sample) and its last w."""
    losses, trace = per_sample_sgd(ex)
    return losses, trace[-1]


def _rel(a: object, b: object) -> float:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        return float("inf")
    return float(np.max(np.abs(x - y) / np.maximum(1e-300, np.abs(y)), initial=0.0))


def _run(claim: Claim) -> Run:
    st = claim.statement
    return run_printed(seeds.text(st["seed"]), st["pattern"], st["restore"])


def _labels(run: Run) -> str:
    said = {c: v[0] for c, v in run.calls if c in ("xlabel", "ylabel") and v}
    return f"x label {said.get('xlabel')!r}, y label {said.get('ylabel')!r}"


def _loss_plot(claim: Claim, series: Callable[[Mapping[str, Any]], tuple[list[float], float]]) -> ClaimResult:
    """plt.plot(epoch_list, loss_list): one line, its x the stated axis's quantity, its y the other's."""
    st, r = claim.statement, ClaimResult()
    run = _run(claim)
    losses, _w = series(st["example"])
    quantity = {"epoch": list(range(st["example"]["epochs"])), "loss": losses}
    meaning = {"epoch": "the epoch numbers", "loss": "each epoch's loss"}
    plots = [values for call, values in run.calls if call == "plot"]
    stopped = "" if run.returncode == 0 else f"; stopped: {failure(run)}"
    r.add("the program calls plt.plot once", len(plots) == 1, "1 call", f"{len(plots)} call(s){stopped}")
    if len(plots) == 1 and len(plots[0]) == 2:
        for axis, data in zip(("x", "y"), plots[0], strict=True):
            name = st["axes"]["xy".index(axis)]
            gap = _rel(data, quantity[name])
            r.add(f"the plot's {axis} data: {meaning[name]}", gap < 1e-6, "< 1e-6 relative", gap)
    r.add("the program runs to its end", run.returncode == 0, "exit status 0", failure(run) or run.returncode)
    r.detail = (
        f"plots {len(losses)} points: epoch 0..{len(losses) - 1} against loss {losses[0]:.4g} -> {losses[-1]:.3g}; "
        f"{_labels(run)}; prints {len(run.stdout.splitlines()) or 'no'} lines; show() draws nothing (the stand-in)"
    )
    return r


def gd_program_loss_plot(claim: Claim, seed: int) -> ClaimResult:
    r = _loss_plot(claim, batch_losses)
    r.corrected = "the hand-gradient program, its indentation restored, does not plot the loss per epoch"
    return r


def sgd_program_loss_plot(claim: Claim, seed: int) -> ClaimResult:
    r = _loss_plot(claim, sample_losses)
    r.corrected = (
        "loss_list.append(l) keeps l, a tensor that requires grad; plt.plot turns the list into an array "
        "(np.atleast_1d), which torch refuses, so the program stops at plt.plot(epoch_list, loss_list). With "
        "loss_list.append(l.item()) it plots the loss of each epoch's last sample against the epoch"
    )
    return r


def _value(line: str) -> float:
    return float(line.split()[-1])


def sgd_program_predict_labels(claim: Claim, seed: int) -> ClaimResult:
    """Each line printed under a label: 'before' training prints 4·w0, 'after' training anything else."""
    st, r = claim.statement, ClaimResult()
    ex, run = st["example"], _run(claim)
    untrained = ex["predict_at"] * ex["w0"]
    out = run.stdout.splitlines()
    for label, when in st["labels"].items():
        printed_at = [run.first_line + i for i, ln in enumerate(run.code.splitlines()) if f'"{label}"' in ln]
        shown = [(i, ln) for i, ln in enumerate(out) if ln.startswith(label)]
        if not shown:
            r.add(f"a line labelled {label!r} is printed", False, "at least one", 0, failure(run))
        for k, (i, line) in enumerate(shown):
            source = (
                f"{st['seed'][:3]} line {printed_at[k]}" if len(printed_at) == len(shown) else f"stdout line {i + 1}"
            )
            updates = sum("grad:" in earlier for earlier in out[:i])
            same = abs(_value(line) - untrained) <= 1e-6 * max(1.0, abs(untrained))
            r.add(
                f"{source}: {line.strip()!r} printed {when} training",
                same if when == "before" else not same,
                f"{ex['predict_at']:g}·w0 = {untrained:g}" if when == "before" else f"not {untrained:g}",
                _value(line),
                f"after {updates} updates",
            )
    _losses, w = sample_losses(ex)
    r.detail = f"prints {len(out)} lines; the labelled lines print {ex['predict_at']:g}·w as labelled"
    if run.returncode != 0:
        r.detail += f"; then the program stops: {failure(run)}"
    wrong = r.first_failure()
    where, after, value = (wrong.name.split(": ")[0], wrong.note, wrong.actual) if wrong else ("", "", "")
    r.corrected = (
        f"{where} is printed after the {ex['epochs']} epochs of training ({after}): it prints the prediction "
        f"after training, {value} ({ex['predict_at']:g}·w = {ex['predict_at'] * w:.7g} in-process), not before"
    )
    return r


CHECKS = {
    "gd_program_loss_plot": gd_program_loss_plot,
    "sgd_program_loss_plot": sgd_program_loss_plot,
    "sgd_program_predict_labels": sgd_program_predict_labels,
}
