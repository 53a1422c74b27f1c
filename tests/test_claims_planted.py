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
from tests import (
    test_claims_activations,
    test_claims_information,
    test_claims_optimisers,
    test_claims_printed_code,
    test_claims_training,
)


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
    "gradient_clipping": {"by_norm": lambda g, c: g * c / np.linalg.norm(g)},
    "contour_normal": {"tangent": lambda fx1, fx2: fx1 / fx2},
    "learning_rate_divergence": {"threshold": lambda L: 1 / L},
    "taylor_descent": {"step": lambda x, g, eta: x + eta * g},
    # initialisation
    "zero_init_symmetry": {"init": lambda rng, shape: rng.normal(size=shape) * 0.01},
    # shapes and statistics
    "conv_worked_sizes": {"size": lambda n, k, p, s: (n - k + 2 * p) // s},
    "conv_kernel_shape": {"weight_shape": lambda out_c, in_c, kh, kw: (in_c, out_c, kh, kw)},
    "inception_channels": {"total": 80},
    "net_shape_trace": {"trace": {**CLAIMS["net_shape_trace"].statement["trace"], "full_conn input": (320,)}},
    "residual_block_shape": {"build": _without_shortcut},
    "two_3x3_for_5x5": {"single": 7},
    "keepdim_shapes": {"shape": lambda shape, dim, keepdim: shape[: dim % len(shape)] + shape[dim % len(shape) + 1 :]},
    "norms_distinct": {"norm1": lambda x: np.abs(np.sum(x, axis=-1))},
    "reduction_semantics": {"kthvalue": lambda x, k: -np.sort(-x, axis=-1)[..., k - 1]},
    # the second pass over the notes (the rows new in the revised CLAIMS.md)
    "relu_normalisable": {"range": (0.0, 0.5)},
    "approximates_continuous_on_interval": {"targets": {"sign on [-1, 1]": (np.sign, (-1.0, 1.0))}},
    "kl_zero_when_identical": {"kl": lambda p, q: sum(pi * sp.log(2 * pi / qi) for pi, qi in zip(p, q, strict=True))},
    "accuracy_definition": {"accuracy": lambda pred, y: np.count_nonzero(pred == y) / max(1, np.count_nonzero(pred))},
    "steep_surface_dense_contours": {"measure": CLAIMS["gradient_derivative_steepness"].statement["measure"]},
    "dloss_dx_L1_feeds_second_to_last": {"label_from_end": 3},
    "init_small_random_2x2": {"init": lambda rng: rng.standard_normal((2, 2)) * 100},
    "conv_io_four_dimensional": {"conv_ndim": 3},
    "norm_not_normalize": {"normalize": lambda x: x / np.sum(np.abs(x), axis=-1, keepdims=True)},
}

RIGHT = {
    "tanh_shifted_sigmoid": {"family": lambda s, z, a, b: 2 * s(2 * (z - a)) - 1 + b},
    "conv_output_size": {"size": lambda n, k, p, s: (n - k + 2 * p) // s + 1},
    "pooling_halves": {"size": lambda n: n // 2},
    # the second pass over the notes (the rows new in the revised CLAIMS.md)
    "activation_values_in_unit_interval": {"activations": {"sigmoid": lambda z: 1 / (1 + sp.exp(-z))}},
    "tanh_outputs_mean_zero": {"centres": (0.0,)},
    "approximates_any_function": {"targets": {"sin on [-π, π]": (np.sin, (-np.pi, np.pi))}},
    "kl_is_distance": {"distance": lambda p, q: 0.5 * np.sum(np.abs(p - q), axis=-1)},
    "saddle_point_axes": {"directions": "Hessian eigenvectors"},
    "gradient_derivative_steepness": {"measure": lambda grad, hessian: float(np.linalg.norm(grad))},
    "dloss_dx_L2_feeds_second_to_last": {"label_from_end": 3},
    "conv_layout_width_height": {"layout": ("n", "channels", "height", "width")},
    "inception_concat_comment": {"dim": 1},
    "fc_comment_320": {"features": 1408},
    "normalize_is_regularisation": {"gloss": "normalisation"},
}


# Each area of the second pass plants its own claims' statements beside their reasoning.
AREAS = (
    test_claims_activations,
    test_claims_information,
    test_claims_optimisers,
    test_claims_printed_code,
    test_claims_training,
)


def test_every_checked_claim_has_a_planted_statement() -> None:
    checked = {n for n, c in CLAIMS.items() if c.method != "prose"}
    in_areas = {n for area in AREAS for n in (*area.WRONG, *area.RIGHT)}
    assert checked <= set(WRONG) | set(RIGHT) | in_areas
    assert not (set(WRONG) | set(RIGHT)) & in_areas, "a statement planted here and in its area's file"


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
