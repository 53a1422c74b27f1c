"""Wrong statements planted in place of the notes' go through the same checks and are refuted;
right ones put in place of the notes' refuted statements pass. A check that cannot fail fails here."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import sympy as sp

from derivations import CLAIMS, notes_modules
from derivations.information import _linear_model
from harness import claims
from tests.test_claims_printed_code import RIGHT as PRINTED_RIGHT

J = sp.Symbol("j", integer=True)


def _without_shortcut(channels: int) -> Any:
    """The notes' block with the shortcut left out: relu(conv2(relu(conv1(x))))."""
    import torch.nn.functional as F

    block = notes_modules.residual_block(channels)
    block.forward = lambda x: F.relu(block.conv2(F.relu(block.conv1(x))))
    return block


def _with(name: str, **changes: Any) -> dict[str, object]:
    claim = CLAIMS[name]
    return claims.run_claim(dataclasses.replace(claim, statement={**claim.statement, **changes}), seed=3)


WRONG = {
    # activations
    "tanh_range_zero_centred": {"centre": sp.Rational(1, 2)},
    "linear_layers_collapse": {"activation": lambda v: sp.tanh(v)},
    "saturation": {"functions": {"relu": lambda z: sp.Max(0, z)}},
    "sigmoid_chain_factors_small": {"bound": lambda k: sp.Rational(1, 5) ** k},
    # losses and information
    "mse_not_norm": {"mse": lambda yhat, y: sp.sqrt(sum((a - b) ** 2 for a, b in zip(yhat, y, strict=True)))},
    "square_loss_convex": {"sample_loss": lambda w, b, x, y: -((w * x + b - y) ** 2)},
    "mse_sigmoid_vanishing": {"loss": lambda a, y: -(y * sp.log(a) + (1 - y) * sp.log(1 - a))},
    "cross_entropy_numbers": {"values": (0.02, 0.916)},
    "kl_decomposition": {"cross": lambda p, q: -sum(qi * sp.log(pi) for pi, qi in zip(p, q, strict=True))},
    "kl_zero_only_when_equal": {"kl": lambda p, q: np.sum(p * np.log(p / q), axis=-1) ** 2 * 0.0},
    "network_loss_nonconvex": {"model": _linear_model, "parameters": 2},
    "accuracy_gradient": {"accuracy": (0.6, 0.7)},
    # gradient descent
    "update_rule": {"update": lambda p, g, lr: p + lr * g},
    "batch_minibatch": {"combine": lambda grads: np.sum(grads, axis=0)},
    "momentum_rule": {"step": lambda w, dw, g, eta, rho: (w - (eta * g - rho * dw), eta * g - rho * dw)},
    "best_step_quadratic": {"step": lambda fp, fpp: sp.Abs(fp) / (2 * fpp)},
    "gradient_clipping": {"by_norm": lambda g, c: g * c / np.linalg.norm(g)},
    "contour_normal": {"tangent": lambda fx1, fx2: fx1 / fx2},
    "learning_rate_divergence": {"threshold": lambda L: 1 / L},
    "taylor_descent": {"step": lambda x, g, eta: x + eta * g},
    # initialisation
    "zero_init_symmetry": {"init": lambda rng, shape: rng.normal(size=shape) * 0.01},
    # shapes and statistics
    "conv_worked_sizes": {"size": lambda n, k, p, s: (n - k + 2 * p) // s},
    "conv_kernel_shape": {"weight_shape": lambda out_c, in_c, kh, kw: (in_c, out_c, kh, kw)},
    "conv1x1_mixes_channels": {"mix": "nchw,oc->nowh"},
    "inception_channels": {"total": 80},
    "net_shape_trace": {"trace": {**CLAIMS["net_shape_trace"].statement["trace"], "full_conn input": (320,)}},
    "residual_block_shape": {"build": _without_shortcut},
    "two_3x3_for_5x5": {"single": 7},
    "keepdim_shapes": {"shape": lambda shape, dim, keepdim: shape[: dim % len(shape)] + shape[dim % len(shape) + 1 :]},
    "norms_distinct": {"norm1": lambda x: np.abs(np.sum(x, axis=-1))},
    "reduction_semantics": {"kthvalue": lambda x, k: -np.sort(-x, axis=-1)[..., k - 1]},
    # the second pass over the notes
    "relu_normalisable": {"range": (0.0, 0.5)},
    "approximates_continuous_on_interval": {"targets": {"sign on [-1, 1]": (np.sign, (-1.0, 1.0))}},
    "kl_zero_when_identical": {"kl": lambda p, q: sum(pi * sp.log(2 * pi / qi) for pi, qi in zip(p, q, strict=True))},
    "accuracy_definition": {"accuracy": lambda pred, y: np.count_nonzero(pred == y) / max(1, np.count_nonzero(pred))},
    "steep_surface_dense_contours": {"measure": CLAIMS["gradient_derivative_steepness"].statement["measure"]},
    "dloss_dx_L1_feeds_second_to_last": {"label_from_end": 3},
    "init_small_random_2x2": {"init": lambda rng: rng.standard_normal((2, 2)) * 100},
    "conv_io_four_dimensional": {"conv_ndim": 3},
    "norm_not_normalize": {"normalize": lambda x: x / np.sum(np.abs(x), axis=-1, keepdims=True)},
    # the second pass over the notes: activations (A1, A3-A5)
    "sigmoid_range_open": {"brackets": "(]"},
    "sigmoid_monotone": {"direction": "decreasing"},
    "relu_derivative_discontinuous": {"derivative_continuous": True},
    "relu_derivative_values": {"values": sp.FiniteSet(0, sp.Rational(1, 2), 1)},
    "relu_derivative_by_sign": {"negative": 1},
    "relu_range": {"brackets": "[]"},
    "leaky_gradient_nonzero": {"alpha_domain": sp.S.Reals},
    "softmax_sum_from_0": {"yhat": CLAIMS["softmax_sum_from_1"].statement["yhat"]},
    "softmax_positive": {"yhat": lambda z, i, n: z[i] / n},
    "softmax_sums_to_one": {"yhat": CLAIMS["softmax_sum_from_1"].statement["yhat"]},
    # losses (B6)
    "logistic_ce_convex": {
        "sample_loss": lambda w, b, x, y: -((sum(wi * xi for wi, xi in zip(w, x, strict=True)) + b - y) ** 2)
    },
    "logistic_ce_max_likelihood": {"loss": lambda yhat, y: (yhat - y) ** 2},
    # the worked example and Adagrad (C2, C5)
    "worked_example_gradient": {
        "gradient": lambda xs, ys, w: sum(x * (x * w - y) for x, y in zip(xs, ys, strict=True)) / len(xs)
    },
    "worked_example": {"epochs": 10},
    "worked_example_autograd_sgd": {"sample_loss": lambda x, y, w: (x * w - y) ** 2 / 2},
    "adagrad_denominator_curvature": {"denominator": lambda gs: float(len(gs))},
    "gd_program_loss_plot": {"axes": ("loss", "epoch")},
    # initialisation and residual blocks (D8, D9)
    "large_init_large_z": {"z": lambda w, x, b: np.tanh(w @ x) + b},
    "resnet_gradient_chain": {"dloss_dx": lambda a, b, c, d: a * b * c * d},
    "plain_gradient_chain": {"dloss_dx": lambda a, b, c, d: a * b * c * (d + 1)},
    "plain_dloss_dx_small": {"dloss_dx": lambda a, b, c, d: a * b * c * (d + 1)},
    "resnet_product_tends_to_1": {"factor": lambda df_dx: df_dx + 2},
    "plain_product_tends_to_0": {"factor": lambda dsigma_df, df_dx: dsigma_df * (df_dx + 1)},
    # convolutions (E4)
    "conv_reduces_computation": {"fewer": False},
}

RIGHT = {
    "tanh_shifted_sigmoid": {"family": lambda s, z, a, b: 2 * s(2 * (z - a)) - 1 + b},
    "conv_output_size": {"size": lambda n, k, p, s: (n - k + 2 * p) // s + 1},
    "pooling_halves": {"size": lambda n: n // 2},
    "softmax_widens_gaps": {"widens": lambda z, p: min(z) < 1 or (max(p) / min(p)) >= max(z) / min(z)},
    # the second pass over the notes
    "activation_values_in_unit_interval": {"activations": {"sigmoid": lambda z: 1 / (1 + sp.exp(-z))}},
    "tanh_outputs_mean_zero": {"centres": (0.0,)},
    "approximates_any_function": {"targets": {"sin on [-π, π]": (np.sin, (-np.pi, np.pi))}},
    "kl_is_distance": {"distance": lambda p, q: 0.5 * np.sum(np.abs(p - q), axis=-1)},
    "saddle_point_axes": {"directions": "Hessian eigenvectors"},
    "gradient_derivative_steepness": {"measure": lambda grad, hessian: float(np.linalg.norm(grad))},
    "dloss_dx_L2_feeds_second_to_last": {"label_from_end": 3},
    "init_line_runs_as_printed": {"seed": "004_f140c67d6cd45aad.txt", "pattern": r"(?m)^import torch$"},
    "conv_layout_width_height": {"layout": ("n", "channels", "height", "width")},
    "inception_concat_comment": {"dim": 1},
    "fc_comment_320": {"features": 1408},
    "inception_code_runs_as_printed": {"pattern": r"(?m)^import torch$"},
    "normalize_is_regularisation": {"gloss": "normalisation"},
    # the second pass over the notes
    "sigmoid_range": {"brackets": "()"},
    "sigmoid_derivative_range": {"brackets": "(]"},
    "relu_range_closed": {"brackets": "[)"},
    "leaky_max_form": {"alpha_domain": sp.Interval(-sp.oo, 1)},
    "softmax_sum_from_1": {
        "yhat": lambda z, i, n: sp.exp(z[i]) / sp.Sum(sp.exp(z[J]), (J, 1, n)),
        "classes": lambda n: range(1, n + 1),
    },
    "cross_entropy_positive": {"holds": lambda h: h >= 0},
    "cross_entropy_sign_reason": {"reason": lambda y, y_pred: y_pred < 1},
    "cross_entropy_near_zero_at_match": {"at_match": lambda y: -sum(v * sp.log(v) for v in y if v != 0)},
    "logistic_ce_single_extremum": {
        "data": lambda x: np.linalg.matrix_rank(np.column_stack([x, np.ones(len(x))])) == x.shape[1] + 1
    },
    "entropy_less_information": {"direction": 1},
    "entropy_less_surprise": {"direction": 1},
    "adagrad_rule": {"step": lambda w, total, g, eta: (w - eta * g / np.sqrt(total + g**2), total + g**2)},
    "residual_code_runs_as_printed": {"pattern": r"(?m)^x_data=\[1\.0,2\.0,3\.0\]$"},
    "gd_program_runs_as_printed": {"pattern": r"(?m)^x_data=\[1\.0,2\.0,3\.0\]$"},
    "sgd_program_runs_as_printed": {"pattern": r"(?m)^x_data=\[1\.0,2\.0,3\.0\]$"},
    "sgd_program_loss_plot": PRINTED_RIGHT["sgd_program_loss_plot"],
    "sgd_program_predict_labels": PRINTED_RIGHT["sgd_program_predict_labels"],
    "large_init_saturates": {"large": (1000.0,)},
    "large_init_slows_learning": {"slows_where": lambda setup: setup["scaled"] == "all"},
    "resnet_dloss_dx_tends_to_1": {"limit": lambda dloss_dy, dy_dsigma, dsigma_df: dloss_dy * dy_dsigma * dsigma_df},
    "resnet_gradient_does_not_vanish": {"activations": {"relu": lambda z: z.relu()}},
    "conv1x1_lossless": {"channels": ((10, 16), (10, 24), (20, 24))},
    "conv1x1_reduces_computation": {"inputs": ((20, 4),)},
    "conv_keeps_information": {"layers": ("conv1",)},
}


def test_every_checked_claim_has_a_planted_statement() -> None:
    checked = {n for n, c in CLAIMS.items() if c.method != "prose"}
    assert checked <= set(WRONG) | set(RIGHT)


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_wrong_statement_is_refuted(name: str) -> None:
    rec = _with(name, **WRONG[name])
    assert rec["verdict"] == "refuted", rec["detail"]


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_the_corrected_statement_holds(name: str) -> None:
    rec = _with(name, **RIGHT[name])
    assert rec["verdict"] in ("proved", "checked"), rec["detail"]


def test_the_wrong_direction_of_large_init_is_refuted() -> None:
    assert _with("large_init_saturates", small=100.0, large=(0.01,))["verdict"] == "refuted"
