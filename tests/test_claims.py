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

# Every CLAIMS.md row: each statement encoded from it (a claim, or an op whose stated derivative it
# gives) and the verdict reasoned out for it. The reasoning for each verdict sits beside the claim's
# check and in the area's test file (tests/test_claims_<area>.py); the refuted ones are the README's
# findings. A claim or op that starts or stops citing a row, or a verdict that moves, fails here.
OP = "op"  # an op's stated derivative: judged by the op checks (tests/test_symbolic.py, tensor tests)
ROWS: dict[str, dict[str, str]] = {
    # [0,1] printed closed: σ never reaches 0 or 1; σ' never reaches 0 (002's open (0,1) is right).
    "A1": {
        "sigmoid_range": "refuted",
        "sigmoid_range_open": "proved",
        "sigmoid_monotone": "proved",
        "sigmoid_derivative_range": "refuted",
        "sigmoid": OP,
    },
    "A2": {"tanh_range_zero_centred": "proved", "tanh_shifted_sigmoid": "refuted", "tanh": OP},  # 2σ(2z) − 1
    # "[0,正无穷]" closes the interval at ∞, which is no value; "[0,正无穷)" is right.
    "A3": {
        "relu_derivative_discontinuous": "proved",
        "relu_derivative_values": "proved",
        "relu_derivative_by_sign": "proved",
        "relu_range_closed": "refuted",
        "relu_range": "proved",
        "relu": OP,
    },
    # max(αz, z) is leaky ReLU only for α <= 1; "usually 0.01" is advice.
    "A4": {
        "leaky_max_form": "refuted",
        "leaky_gradient_nonzero": "proved",
        "leaky_slope_usual": "not-checkable",
        "leaky_relu": OP,
    },
    # Σ_j^{n−1} read from 1 leaves a class out; softmax narrows small gaps.
    "A5": {
        "softmax_sum_from_0": "proved",
        "softmax_sum_from_1": "refuted",
        "softmax_positive": "proved",
        "softmax_sums_to_one": "proved",
        "softmax_widens_gaps": "refuted",
        "softmax": OP,
        "softmax_cross_entropy": OP,
    },
    "A6": {"linear_layers_collapse": "proved"},
    "A7": {"saturation": "proved"},
    # Only sigmoid's values lie in [0, 1]; tanh's mean is 0 only for inputs symmetric about 0.
    "A8": {"activation_values_in_unit_interval": "refuted", "relu_normalisable": "checked"},
    "A9": {"tanh_outputs_mean_zero": "refuted"},
    "B1": {"mse_not_norm": "proved", "square_loss_convex": "proved", "mse": OP},
    "B2": {"mse_sigmoid_vanishing": "checked"},
    # H = 0 at a matched one-hot target; the sign comes from y' <= 1, not y < 1; H(y, y) is y's entropy.
    "B3": {
        "cross_entropy_positive": "refuted",
        "cross_entropy_sign_reason": "refuted",
        "cross_entropy_near_zero_at_match": "refuted",
        "cross_entropy_with_softmax": "not-checkable",
        "softmax_cross_entropy": OP,
        "binary_cross_entropy": OP,
    },
    "B4": {"cross_entropy_numbers": "checked", "binary_cross_entropy": OP},
    "B5": {"kl_decomposition": "proved", "kl_zero_only_when_equal": "checked"},
    # Convex does not mean one extremum: equal x give a line of minima, separable data none.
    "B6": {
        "square_loss_convex": "proved",
        "logistic_ce_convex": "proved",
        "logistic_ce_single_extremum": "refuted",
        "logistic_ce_max_likelihood": "proved",
        "network_loss_nonconvex": "checked",
    },
    "B7": {"accuracy_gradient": "checked"},
    "B8": {"kl_is_distance": "refuted", "kl_zero_when_identical": "proved"},  # not symmetric, no triangle
    "B9": {"accuracy_definition": "checked"},
    "C1": {"update_rule": "checked"},
    # The printed programs lost their indentation; the SGD one stores tensors that need grad for plotting
    # and labels an after-training print "before training".
    "C2": {
        "worked_example_gradient": "proved",
        "worked_example": "checked",
        "worked_example_autograd_sgd": "checked",
        "gd_program_runs_as_printed": "refuted",
        "sgd_program_runs_as_printed": "refuted",
        "gd_program_loss_plot": "checked",
        "sgd_program_loss_plot": "refuted",
        "sgd_program_predict_labels": "refuted",
        "mse": OP,
    },
    "C3": {"batch_minibatch": "checked"},
    "C4": {"momentum_rule": "checked", "momentum_step": OP},
    # The sum of |g| is not Adagrad's root of the sum of g².
    "C5": {
        "adagrad_rule": "refuted",
        "adagrad_denominator_curvature": "checked",
        "best_step_quadratic": "proved",
        "adagrad_step": OP,
    },
    "C6": {"gradient_clipping": "checked", "clip_by_value": OP, "clip_by_norm": OP},
    "C7": {"contour_normal": "proved"},
    "C8": {"learning_rate_divergence": "checked"},
    "C9": {"taylor_descent": "checked"},
    "C10": {"saddle_point_axes": "refuted"},  # xy is flat along both axes
    "C11": {"gradient_derivative_steepness": "refuted", "steep_surface_dense_contours": "checked"},
    "D1": dict.fromkeys(
        ("dense_layer", "backprop_chain_L1", "backprop_chain_L2", "backprop_chain_L3", "backprop_chain_L4"), OP
    ),
    "D2": dict.fromkeys(
        ("dense_layer", "backprop_chain_L1", "backprop_chain_L2", "backprop_chain_L3", "backprop_chain_L4"), OP
    ),
    "D3": dict.fromkeys(("backprop_chain_L2", "backprop_chain_L3", "backprop_chain_L4"), OP),
    "D4": dict.fromkeys(("perceptron_single", "perceptron_multi"), OP),  # reconstructed: 001's formulas were images
    "D5": {
        "sigmoid_chain_factors_small": "proved",
        **dict.fromkeys(("backprop_chain_L2", "backprop_chain_L3", "backprop_chain_L4"), OP),
    },
    "D6": dict.fromkeys(("backprop_chain_L2", "backprop_chain_L3", "backprop_chain_L4"), OP),
    "D7": {"zero_init_symmetry": "checked"},
    # ×100 and ×1000 make |z| large; they saturate unless the inputs are tiny (spread 0.01); slower learning
    # holds when every layer is scaled.
    "D8": {"large_init_large_z": "checked", "large_init_saturates": "refuted", "large_init_slows_learning": "refuted"},
    # ∂Loss/∂x tends to ∂Loss/∂y·σ', not 1; with a sigmoid σ the gradient still vanishes.
    "D9": {
        "resnet_gradient_chain": "proved",
        "plain_gradient_chain": "proved",
        "resnet_dloss_dx_tends_to_1": "refuted",
        "resnet_product_tends_to_1": "proved",
        "resnet_gradient_does_not_vanish": "refuted",
        "plain_dloss_dx_small": "proved",
        "plain_product_tends_to_0": "proved",
        "residual_linear": OP,
        "residual_block": OP,
    },
    # ∂Loss/∂x^{L−2} belongs to layer L−2, the third from the end.
    "D10": {"dloss_dx_L1_feeds_second_to_last": "checked", "dloss_dx_L2_feeds_second_to_last": "refuted"},
    "D11": {"init_small_random_2x2": "checked", "init_line_runs_as_printed": "refuted"},  # SyntaxError as printed
    "E1": {"conv_output_size": "refuted", "conv2d": OP},  # the +1 is missing
    "E2": {"conv_worked_sizes": "checked"},
    "E3": {"conv_kernel_shape": "checked", "conv2d": OP},
    # A 1×1 conv to fewer channels, and a valid conv to fewer numbers, lose information; the
    # bottleneck costs more below 17 input channels.
    "E4": {
        "conv1x1_mixes_channels": "checked",
        "conv1x1_lossless": "refuted",
        "conv1x1_reduces_computation": "refuted",
        "conv_reduces_computation": "checked",
        "conv_keeps_information": "refuted",
        "conv2d": OP,
    },
    "E5": {"pooling_halves": "refuted", "max_pool2d": OP, "avg_pool2d": OP},  # ⌊H/2⌋ for odd sizes
    "E6": {"inception_channels": "checked", "inception_block": OP},
    "E7": {"net_shape_trace": "checked"},
    "E8": {"residual_block_shape": "checked", "residual_code_runs_as_printed": "refuted", "residual_block": OP},
    "E9": {"two_3x3_for_5x5": "checked"},
    "E10": {"conv_io_four_dimensional": "checked", "conv_layout_width_height": "refuted"},  # (N, C, H, W)
    # dim=-1 is w, not the channel; the layer takes 1408 features; the block lost its indentation.
    "E11": {
        "inception_concat_comment": "refuted",
        "fc_comment_320": "refuted",
        "inception_code_runs_as_printed": "refuted",
    },
    "F1": {"norms_distinct": "checked", "norm1_dim": OP, "norm2_dim": OP},
    "F2": {
        "reduction_semantics": "checked",
        **dict.fromkeys(("sum_dim", "mean_dim", "max_dim", "min_dim", "kthvalue", "topk"), OP),
    },
    "F3": {
        "keepdim_shapes": "checked",
        **dict.fromkeys(
            ("sum_dim", "mean_dim", "norm1_dim", "norm2_dim", "max_dim", "min_dim", "kthvalue", "topk"), OP
        ),
    },
    "F4": {"norm_not_normalize": "checked", "normalize_is_regularisation": "refuted"},  # normalize is 归一化
    # Entropy is the average information (surprisal): higher entropy, more of both; "stable" is undefined.
    "G1": {
        "entropy_less_information": "refuted",
        "entropy_less_surprise": "refuted",
        "entropy_more_stable": "not-checkable",
    },
    "G2": {"activation_priority": "not-checkable"},
    "G3": {"relu_sparsity": "not-checkable"},
    "G4": {"deep_features": "not-checkable"},
    # Not a jump, not x² on the whole line; continuous functions on a closed interval, yes.
    "G5": {"approximates_any_function": "refuted", "approximates_continuous_on_interval": "checked"},
}
EXPECTED = {name: verdict for row in ROWS.values() for name, verdict in row.items() if verdict != OP}
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
    entries = [*CATALOG.values(), *CLAIMS.values(), *derivations.TENSOR_OPS.values()]
    covered = claims.coverage((e.name, e.source) for e in entries)
    assert set(covered) == set(claims.CLAIM_IDS), "every entry cites a real CLAIMS.md id"
    assert not [cid for cid, names in covered.items() if not names]


def test_each_rows_statements_are_the_pinned_ones() -> None:
    """A statement added to a row, or one that stops citing it, must be pinned here with its verdict."""
    entries = [*CATALOG.values(), *CLAIMS.values(), *derivations.TENSOR_OPS.values()]
    covered = claims.coverage((e.name, e.source) for e in entries)
    assert {cid: sorted(names) for cid, names in covered.items()} == {cid: sorted(row) for cid, row in ROWS.items()}
    ops = {*CATALOG, *derivations.TENSOR_OPS}
    assert all((verdict == OP) == (name in ops) for row in ROWS.values() for name, verdict in row.items())


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
    assert {
        "mse_sigmoid_vanishing",
        "worked_example",
        "learning_rate_divergence",
        "large_init_slows_learning",
    } <= plotted
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
            "sigmoid,conv_output_size,conv_worked_sizes,entropy_more_stable",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, "a refuted claim is a finding, not a failure"
    assert "REFUTED conv_output_size:" in out and "corrected: (H, W)" in out
    assert "REFUTED conv_worked_sizes" not in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert [c["name"] for c in report["claims"]] == ["conv_output_size", "conv_worked_sizes", "entropy_more_stable"]
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
    from harness import seeds

    monkeypatch.setattr(seeds, "SEEDS", tmp_path)
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
