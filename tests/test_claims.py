"""The claims: every one has a check, every CLAIMS.md id is covered, verdicts are the ones reasoned out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import derivations
from derivations import CATALOG, CLAIMS
from harness import claims, cli
from harness.claim_checks import CHECKS

CLAIMS_FILE = Path(__file__).resolve().parents[1].parent / "shared" / "CLAIMS.md"

# Rows whose entries are gradient checks of networks, residual blocks and reductions: the tensor ops
# cover them. Until derivations exports TENSOR_OPS these are the only rows allowed to be uncovered.
TENSOR_OP_ROWS = {"D1", "D2", "D3", "D4", "D6", "D9"}

# The verdicts established by reasoning (see each check's docstring and the README's findings).
EXPECTED = {
    **dict.fromkeys(
        (
            "sigmoid_range_monotone sigmoid_derivative_range tanh_range_zero_centred relu_derivative_values "
            "leaky_gradient_nonzero softmax_probabilities linear_layers_collapse saturation "
            "sigmoid_chain_factors_small mse_not_norm square_loss_convex kl_decomposition logistic_ce_convex "
            "best_step_quadratic contour_normal kl_zero_when_identical"
        ).split(),
        "proved",
    ),
    **dict.fromkeys(
        (
            "tanh_shifted_sigmoid softmax_widens_gaps large_init_saturation conv_output_size pooling_halves "
            "activation_values_in_unit_interval tanh_outputs_mean_zero approximates_any_function kl_is_distance "
            "saddle_point_axes gradient_derivative_steepness dloss_dx_L2_feeds_second_to_last "
            "init_line_runs_as_printed conv_layout_width_height inception_concat_comment fc_comment_320 "
            "inception_code_runs_as_printed normalize_is_regularisation"
        ).split(),
        "refuted",
    ),
    **dict.fromkeys("entropy_information activation_priority relu_sparsity deep_features".split(), "not-checkable"),
}
EXPECTED.update({name: "checked" for name in CLAIMS if name not in EXPECTED})
FORMAT = {
    "name",
    "title",
    "claims",
    "source",
    "method",
    "interpretation",
    "verdict",
    "detail",
    "corrected",
    "evidence",
    "series",
    "seconds",
}


@pytest.fixture(scope="module")
def records() -> dict[str, dict[str, object]]:
    return {name: claims.run_claim(c, seed=0) for name, c in CLAIMS.items()}


def test_every_claim_but_prose_has_a_check_and_every_check_a_claim() -> None:
    assert {n for n, c in CLAIMS.items() if c.method != "prose"} == set(CHECKS)
    assert all(c.reason for c in CLAIMS.values() if c.method == "prose")
    assert not set(CLAIMS) & set(CATALOG), "claim and derivation names share one namespace"


def test_claim_ids_match_the_claims_file() -> None:
    if not CLAIMS_FILE.exists():
        pytest.skip(f"{CLAIMS_FILE} is not in this checkout")
    assert claims.ids_in_claims_file(CLAIMS_FILE) == list(claims.CLAIM_IDS)


def test_every_claims_id_is_covered() -> None:
    entries = [*CATALOG.values(), *CLAIMS.values(), *getattr(derivations, "TENSOR_OPS", {}).values()]
    covered = claims.coverage((e.name, e.source) for e in entries)
    assert set(covered) == set(claims.CLAIM_IDS), "every entry cites a real CLAIMS.md id"
    missing = {cid for cid, names in covered.items() if not names}
    allowed = set() if hasattr(derivations, "TENSOR_OPS") else TENSOR_OP_ROWS
    assert missing <= allowed, f"uncovered: {sorted(missing - allowed)}"


def test_verdicts_are_the_reasoned_ones(records: dict[str, dict[str, object]]) -> None:
    got = {name: rec["verdict"] for name, rec in records.items()}
    assert got == EXPECTED
    for rec in records.values():
        assert set(rec) == FORMAT
        assert rec["detail"]
        assert bool(rec["corrected"]) == (rec["verdict"] == "refuted")
        if rec["method"] != "prose":
            assert rec["evidence"], rec["name"]
    assert "floor((in" not in str(records["conv_output_size"]["corrected"])
    assert "+ 1" in str(records["conv_output_size"]["corrected"])


def test_series_are_plottable(records: dict[str, dict[str, object]]) -> None:
    plotted = {name for name, rec in records.items() if rec["series"]}
    assert {"mse_sigmoid_vanishing", "worked_example", "learning_rate_divergence", "large_init_saturation"} <= plotted
    for name in plotted:
        for plot in records[name]["series"].values():  # type: ignore[attr-defined]
            assert {"title", "xlabel", "ylabel", "x", "lines"} <= set(plot)
            assert all(len(line) == len(plot["x"]) for line in plot["lines"].values())
    json.dumps(records, allow_nan=False)


def test_an_exception_in_a_check_is_an_error_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(claim: object, seed: int) -> object:
        raise ValueError("boom")

    monkeypatch.setitem(CHECKS, "cross_entropy_numbers", broken)
    rec = claims.run_claim(CLAIMS["cross_entropy_numbers"], 0)
    assert rec["verdict"] == "error" and rec["detail"] == "ValueError: boom"


def test_cli_prints_refuted_claims_and_writes_claims_and_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        [
            "verify",
            "--quiet",
            "--profile",
            "quick",
            "--report-dir",
            str(tmp_path),
            "--backend",
            "numpy",
            "--dtype",
            "float64",
            "--only",
            "sigmoid,conv_output_size,conv_worked_sizes,entropy_information",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, "a refuted claim is a finding, not a failure"
    assert "REFUTED conv_output_size:" in out and "corrected: (H, W)" in out
    assert "REFUTED conv_worked_sizes" not in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert [c["name"] for c in report["claims"]] == ["conv_output_size", "conv_worked_sizes", "entropy_information"]
    assert [c["verdict"] for c in report["claims"]] == ["refuted", "checked", "not-checkable"]
    assert set(report["coverage"]) == set(claims.CLAIM_IDS)
    assert report["coverage"]["E1"][0] == "conv_output_size"


def test_cli_claim_error_exits_1_and_no_claims_skips_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, "conv_worked_sizes", lambda claim, seed: 1 / 0)
    base = ["verify", "--quiet", "--report-dir", str(tmp_path), "--backend", "numpy", "--dtype", "float64"]
    assert cli.main([*base, "--only", "conv_worked_sizes"]) == 1
    assert cli.main([*base, "--only", "sigmoid", "--check", "forward", "--no-claims"]) == 0
    assert json.loads((tmp_path / "report.json").read_text())["claims"] == []


def test_list_shows_claims_with_their_method(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    assert "claim/prose" in capsys.readouterr().out
    assert cli.main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"]: r.get("method") for r in rows}["conv_output_size"] == "numerical"


@pytest.mark.thorough
@pytest.mark.parametrize("seed", range(1, 21))
def test_verdicts_hold_over_seeds(seed: int) -> None:
    got = {name: claims.run_claim(c, seed)["verdict"] for name, c in CLAIMS.items()}
    assert got == EXPECTED


def test_a_missing_or_undecodable_seed_makes_its_claims_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.claim_checks import printed_code

    monkeypatch.setattr(printed_code, "SEEDS", tmp_path)
    rec = claims.run_claim(CLAIMS["init_line_runs_as_printed"], 0)
    assert rec["verdict"] == "error" and "is missing" in str(rec["detail"])
    (tmp_path / CLAIMS["init_line_runs_as_printed"].statement["seed"]).write_bytes(b"w[1]=\xff\xfe")
    rec = claims.run_claim(CLAIMS["init_line_runs_as_printed"], 0)
    assert rec["verdict"] == "error" and "not UTF-8" in str(rec["detail"])


def test_printed_code_failure_names_the_seed_line() -> None:
    rec = claims.run_claim(CLAIMS["inception_code_runs_as_printed"], 0)
    failure = next(e for e in rec["evidence"] if not e["ok"])  # type: ignore[union-attr]
    # The scraped text lost its indentation: the first body line after `class Inception` is where Python stops.
    assert "line 1966: 'def __init__(self,in_channels):': IndentationError" in failure["actual"]
