"""D4, D8, D9 and E4, statement by statement: each verdict pinned with its reasoning, a wrong statement
planted in place of each proved/checked one (it must be refuted) and the corrected statement in place
of each refuted one (it must hold)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

from derivations import CLAIMS, TENSOR_OPS
from harness import claims
from harness.claim_checks import conv_information


def _run(name: str, seed: int = 3, **changes: Any) -> dict[str, Any]:
    claim = CLAIMS[name]
    return claims.run_claim(dataclasses.replace(claim, statement={**claim.statement, **changes}), seed=seed)


VERDICTS = {
    # D8. z[1] = w[1]x + b[1] with b[1] = 0 is linear in w[1]: ×100 and ×1000 make |z| 10⁴ and 10⁵ times the
    # ×0.01 value, exactly.
    "large_init_large_z": "checked",
    # D8. tanh'(z) < 1% of its peak once |z| > 3.0, sigmoid' once |z| > 6.0: with inputs of spread 0.1 to 10,
    # ×100 puts most |z| beyond that (the closest case, sigmoid at spread 0.1, has 55% saturated: z is 10 times
    # a Laplace(1) variable), ×0.01 none. The note does not say how large the inputs are: at spread 0.01, ×100
    # leaves |z| about 1 and only 5% (tanh) and 0.3% (sigmoid) of the units saturated, so as a statement for
    # any inputs it does not hold.
    "large_init_saturates": "refuted",
    # D8. With every layer ×100/×1000 the loss stays far above the ×0.01 network's at 10, 100 and 300 steps.
    # With w[1] alone (the note's z[1]) the saturated hidden units are fixed ±1 features the ×0.01 output layer
    # fits at once: on linearly separable data the large initialisation is ahead after 10 steps (loss 0.36 vs
    # 0.65 for tanh, lr 1), so "learning slows" does not hold in every set-up.
    "large_init_slows_learning": "refuted",
    # D9. SymPy's derivative of Loss(σ(f(x) + x)) for undefined f, σ, Loss is the note's chain with (∂f/∂x + 1);
    # of Loss(σ(f(x))), the chain with ∂f/∂x.
    "resnet_gradient_chain": "proved",
    "plain_gradient_chain": "proved",
    # D9. As ∂f/∂x → 0 the chain tends to ∂Loss/∂y·∂y/∂σ·∂σ/∂f, which is 1/2 for ∂Loss/∂y = 1/2 with an active
    # ReLU and 0 for an inactive one: ∂Loss/∂x does not tend to 1; the factor (∂f/∂x + 1) does.
    "resnet_dloss_dx_tends_to_1": "refuted",
    # D9. ∏(c_i t + 1) → 1 as t → 0 at a fixed depth.
    "resnet_product_tends_to_1": "proved",
    # D9. Without the shortcut ∂Loss/∂x carries ∂f/∂x itself: it → 0, and so does the product of σ'·∂f/∂x.
    "plain_dloss_dx_small": "proved",
    "plain_product_tends_to_0": "proved",
    # D9. With ReLU (the note's code) the gradient crosses 64 blocks at about 0.7 of its size; with the sigmoid
    # that the note's σ names, every block multiplies it by σ' <= 1/4 and it vanishes (0.003 of its size after
    # 4 blocks, 4e-11 after 16).
    "resnet_gradient_does_not_vanish": "refuted",
    # E4. A 1×1 convolution is a per-pixel channel mix: shapes and values agree with torch.
    "conv1x1_mixes_channels": "checked",
    # E4. 20 → 16 channels (the note's incept2) has a 4-dimensional null space: x and x + v give one output.
    "conv1x1_lossless": "refuted",
    # E4. At the note's incept1 (10 channels, 12×12) the 1×1 bottleneck before the 5×5 costs 1,142,784
    # multiply-adds against 699,840 for the 5×5 alone; it only pays from 17 input channels.
    "conv1x1_reduces_computation": "refuted",
    # E4. Every convolution of the Net needs fewer multiply-adds than a dense layer with its inputs and outputs.
    "conv_reduces_computation": "checked",
    # E4. conv2 maps 88@12×12 = 12,672 numbers to 20@8×8 = 1,280: it cannot be injective.
    "conv_keeps_information": "refuted",
}

WRONG: dict[str, dict[str, Any]] = {
    "large_init_large_z": {"z": lambda w, x, b: np.tanh(w @ x) + b},
    "resnet_gradient_chain": {"dloss_dx": lambda a, b, c, d: a * b * c * d},
    "plain_gradient_chain": {"dloss_dx": lambda a, b, c, d: a * b * c * (d + 1)},
    "plain_dloss_dx_small": {"dloss_dx": lambda a, b, c, d: a * b * c * (d + 1)},
    "resnet_product_tends_to_1": {"factor": lambda df_dx: df_dx + 2},
    "plain_product_tends_to_0": {"factor": lambda dsigma_df, df_dx: dsigma_df * (df_dx + 1)},
    "conv_reduces_computation": {"fewer": False},
    "conv1x1_mixes_channels": {"mix": "nchw,oc->nowh"},
}

RIGHT: dict[str, dict[str, Any]] = {
    # ×1000 alone saturates most units down to inputs of spread 0.01 (sigmoid: 55%, 13 standard errors over 1/2).
    "large_init_saturates": {"large": (1000.0,)},
    "large_init_slows_learning": {"slows_where": lambda setup: setup["scaled"] == "all"},
    "resnet_dloss_dx_tends_to_1": {"limit": lambda dloss_dy, dy_dsigma, dsigma_df: dloss_dy * dy_dsigma * dsigma_df},
    "resnet_gradient_does_not_vanish": {"activations": {"relu": lambda z: z.relu()}},
    "conv1x1_lossless": {"channels": ((10, 16), (10, 24), (20, 24))},
    "conv1x1_reduces_computation": {"inputs": ((20, 4),)},
    "conv_keeps_information": {"layers": ("conv1",)},
}


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdict(name: str) -> None:
    rec = _run(name, seed=0)
    assert rec["verdict"] == VERDICTS[name], rec["detail"]
    assert rec["detail"]
    assert bool(rec["corrected"]) == (rec["verdict"] == "refuted")
    assert rec["seconds"] < 2.0


def test_every_claim_has_a_plant() -> None:
    assert set(WRONG) | set(RIGHT) == set(VERDICTS)
    assert all(VERDICTS[n] in ("proved", "checked") for n in WRONG)
    assert all(VERDICTS[n] == "refuted" for n in RIGHT)
    assert {c for n in VERDICTS for c in CLAIMS[n].source.claims} == {"D8", "D9", "E4"}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_wrong_statement_is_refuted(name: str) -> None:
    assert _run(name, **WRONG[name])["verdict"] == "refuted"


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_the_corrected_statement_holds(name: str) -> None:
    rec = _run(name, **RIGHT[name])
    assert rec["verdict"] in ("proved", "checked"), rec["detail"]


@pytest.mark.parametrize("seed", [1, 17, 59])
def test_the_experiments_verdicts_do_not_depend_on_the_seed(seed: int) -> None:
    # The full 0..59 loop runs in the report's seed check; three seeds here keep the file fast.
    for name in ("large_init_saturates", "large_init_slows_learning", "resnet_gradient_does_not_vanish"):
        assert _run(name, seed=seed)["verdict"] == VERDICTS[name]


def test_d8_uses_the_notes_numbers() -> None:
    # "为什么是0.01 为什么我们不把它设置为100或1000?": ×0.01 against ×100 and ×1000, not ×10.
    for name in ("large_init_large_z", "large_init_saturates", "large_init_slows_learning"):
        assert CLAIMS[name].statement["small"] == 0.01
        assert CLAIMS[name].statement["large"] == (100.0, 1000.0)
    assert "large_init_saturation" not in CLAIMS


def test_slow_learning_is_refuted_by_a_faster_large_initialisation() -> None:
    # The first failure shown is a set-up where ×100/×1000 learned faster, not merely a tie; the loss curves
    # of one such set-up are plotted.
    rec = _run("large_init_slows_learning", seed=0)
    assert "faster" in rec["detail"]
    plot = rec["series"]["init_scale_loss"]
    assert set(plot["lines"]) == {"×0.01", "×100", "×1000"} and len(plot["x"]) == 301


def test_multiply_adds_match_torchs_count_without_padding() -> None:
    # Without padding every tap lands on the input: the count is torch's out_h·out_w·k²·C_in·C_out.
    conv = torch.nn.Conv2d(3, 4, kernel_size=3)
    assert conv_information._macs(conv, 7, 9) == conv_information._padded_macs(conv, (5, 7)) == 5 * 7 * 9 * 3 * 4
    padded = torch.nn.Conv2d(16, 24, kernel_size=5, padding=2)  # incept2's 5×5 on 4×4: 14 taps per row
    assert conv_information._taps(padded, 4, 4) == 14 * 14


def test_d4_perceptron_formulas_are_marked_reconstructed() -> None:
    for name in ("perceptron_single", "perceptron_multi"):
        op = TENSOR_OPS[name]
        assert op.source.claims == ("D4",)
        assert "RECONSTRUCTED" in op.notes and "image" in op.notes
