"""Initialisation and back-propagation claims (CLAIMS.md D7-D11): seeded experiments and SymPy limits."""

from __future__ import annotations

from typing import Any

import numpy as np

from derivations.activation_facts import S003, S004
from derivations.model import Claim, Source

RESNET = "ResidualBlock resnet 残差网络 / resnet怎么解决梯度消失问题"
RESNET_CHAIN = "∂Loss/∂x=∂Loss/∂y⋅∂y/∂σ⋅∂σ/∂f⋅(∂f/∂x+1)"


def _resnet_dloss_dx(dloss_dy: Any, dy_dsigma: Any, dsigma_df: Any, df_dx: Any) -> Any:
    """004's chain for y = σ(f(x) + x), factor by factor as it prints it."""
    return dloss_dy * dy_dsigma * dsigma_df * (df_dx + 1)


def _plain_dloss_dx(dloss_dy: Any, dy_dsigma: Any, dsigma_df: Any, df_dx: Any) -> Any:
    """004's chain for y = σ(f(x)), the structure without the shortcut."""
    return dloss_dy * dy_dsigma * dsigma_df * df_dx


CLAIMS = (
    Claim(
        name="zero_init_symmetry",
        title="all-zero weights keep the hidden units identical after any number of iterations",
        source=Source(
            S003,
            "2.5 随机初始化参数",
            "无论你将这个神经网络训练多久 这两个隐藏单元仍然在使用同样的功能进行运算",
            ("D7",),
        ),
        method="empirical",
        statement={"init": lambda rng, shape: np.zeros(shape), "hidden": 3, "steps": 300},
    ),
    Claim(
        name="large_init_large_z",
        title="×100 or ×1000 initial weights make |z[1]| = |w[1]x + b[1]| large (against ×0.01)",
        source=Source(S003, "为什么是0.01", "z[1]=w[1]x+b[1] ... 当w非常大的时候 z(的绝对值)也相应的会非常大", ("D8",)),
        method="numerical",
        # The note's own numbers: ×0.01 against ×100 and ×1000; w[1] is its 2×2 matrix, b[1] its zeros.
        statement={"small": 0.01, "large": (100.0, 1000.0), "z": lambda w, x, b: w @ x + b, "b": 0.0},
    ),
    Claim(
        name="large_init_saturates",
        title="with ×100 or ×1000 initial weights tanh and sigmoid saturate (against ×0.01)",
        source=Source(
            S003, "为什么是0.01", "为什么我们不把它设置为100或1000? ... 当你使用tanh或者sigmoid的激活函数时", ("D8",)
        ),
        method="numerical",
        interpretation="the note breaks off after '|z| is very large'; the saturation is its earlier remark (z very "
        "large or small: the slope nears 0). 'Saturated' is read as a slope below 1% of the activation's peak, and "
        "'the activations saturate' as most of the layer's pre-activations being saturated. The input data is not "
        "stated: input spreads 0.01, 0.1, 1 and 10 are swept",
        # Torch callables: the slopes come from autograd, so no formula for g' is typed in here.
        statement={
            "small": 0.01,
            "large": (100.0, 1000.0),
            "activations": {"tanh": lambda z: z.tanh(), "sigmoid": lambda z: z.sigmoid()},
        },
    ),
    Claim(
        name="large_init_slows_learning",
        title="with ×100 or ×1000 initial weights learning (gradient descent) is slower than with ×0.01",
        source=Source(S003, "为什么是0.01", "为什么是0.01 为什么我们不把它设置为100或1000?", ("D8",)),
        method="empirical",
        interpretation="the note's reason is cut off after '|z| is very large'; 'learning slows' is its remark that "
        "a slope near 0 slows gradient descent. Read as: after the same number of steps the ×100 (×1000) network's "
        "training loss is higher than the ×0.01 network's by over 10% (the loss drop is not compared: scaled output "
        "weights start from a far higher loss). '如果步长过大' (if the step is too large) is read as 'if w is too "
        "large', as the sentence goes on. Not stated, so swept: tanh or sigmoid hidden units; w[1] alone scaled "
        "(the note's z[1] = w[1]x + b[1]) or every layer; learning rate 0.1 or 1; 10, 100 or 300 steps; XOR-like "
        "or linearly separable data; the note's 2×2 w[1], a sigmoid output, cross-entropy",
        # Where the note says learning slows: every set-up (setup: activation, scaled, lr, steps, data).
        statement={"small": 0.01, "large": (100.0, 1000.0), "slows_where": lambda setup: True},
    ),
    Claim(
        name="dloss_dx_L1_feeds_second_to_last",
        title="∂Loss/∂x^{L−1} is used in the second-to-last layer to get ∂Loss/∂y^{L−1}",
        source=Source(
            S004,
            "反向传播时最后一层的导数",
            "∂Loss/∂x^{L−1}:用于倒数第二层求 ∂Loss/∂y^{L−1},便于更新倒数第二层的参数",
            ("D10",),
        ),
        method="numerical",
        interpretation="'用于倒数第二层求' read as: the layer that turns ∂Loss/∂x into its ∂Loss/∂y and so into "
        "its own w and b gradients; found as the highest layer whose gradients change when ∂Loss/∂x^k is changed "
        "(a hook doubles it), counted from the end as the note counts (1 the last, 2 倒数第二层)",
        # x^k is layer k's output; the note's labels count layers from the end: 1 the last, 2 倒数第二层.
        statement={"x_index": -1, "label_from_end": 2},
    ),
    Claim(
        name="dloss_dx_L2_feeds_second_to_last",
        title="∂Loss/∂x^{L−2} is used in the second-to-last layer to get ∂Loss/∂y^{L−2}",
        source=Source(
            S004,
            "反向传播时倒数第二层的导数",
            "∂Loss/∂x^{L−2}:用于倒数第二层求 ∂Loss/∂y^{L−2},便于更新倒数第二层的参数",
            ("D10",),
        ),
        method="numerical",
        interpretation="as for ∂Loss/∂x^{L−1}: the layer whose gradients change when ∂Loss/∂x^{L−2} is changed, "
        "counted from the end",
        statement={"x_index": -2, "label_from_end": 2},
    ),
    Claim(
        name="init_small_random_2x2",
        title="the initialisation gives a 2×2 matrix of small random values; b may be np.zeros((2,1))",
        source=Source(S003, "2.5 随机初始化参数", "w[1]=np.random.randn((2,2))0.01; b[i]=np.zeros((2,1))", ("D11",)),
        method="numerical",
        interpretation="the printed line does not run (init_line_runs_as_printed); read as np.random.randn(2, 2) * "
        "0.01: the text lost the '*' (as it turned 2×2 into '22'), and randn takes its sizes as separate integers",
        statement={
            "init": lambda rng: rng.standard_normal((2, 2)) * 0.01,
            "shape": (2, 2),
            "scale": 0.01,
            "bias": lambda: np.zeros((2, 1)),
        },
    ),
    Claim(
        name="resnet_gradient_chain",
        title="resnet y = σ(f(x) + x): ∂Loss/∂x = ∂Loss/∂y · ∂y/∂σ · ∂σ/∂f · (∂f/∂x + 1)",
        source=Source(S004, RESNET, "resnet结构:x->f(x)->f(x)+x->σ(f(x)+x)->y; " + RESNET_CHAIN, ("D9",)),
        method="symbolic",
        statement={"dloss_dx": _resnet_dloss_dx, "shortcut": True},
    ),
    Claim(
        name="plain_gradient_chain",
        title="without the shortcut, y = σ(f(x)): ∂Loss/∂x = ∂Loss/∂y · ∂y/∂σ · ∂σ/∂f · ∂f/∂x",
        source=Source(S004, RESNET, "正常结构:x->f(x)->σ(f(x))=y; ∂Loss/∂x=∂Loss/∂y⋅∂y/∂σ⋅∂σ/∂f⋅∂f/∂x", ("D9",)),
        method="symbolic",
        statement={"dloss_dx": _plain_dloss_dx, "shortcut": False},
    ),
    Claim(
        name="resnet_dloss_dx_tends_to_1",
        title="resnet: when ∂f/∂x is very small, ∂Loss/∂x tends to 1",
        source=Source(S004, RESNET, "resnet结构的梯度:当∂f/∂x很小时,∂Loss/∂x趋于1", ("D9",)),
        method="symbolic",
        interpretation="'∂f/∂x very small' read as the limit ∂f/∂x → 0 with the other factors of the note's chain "
        "held fixed",
        # The limit as a function of the chain's other factors: the note says 1 whatever they are.
        statement={"dloss_dx": _resnet_dloss_dx, "limit": lambda dloss_dy, dy_dsigma, dsigma_df: 1},
    ),
    Claim(
        name="resnet_product_tends_to_1",
        title="resnet: when ∂f/∂x is very small, the chained product of the factors (∂f/∂x + 1) tends to 1",
        source=Source(S004, RESNET, "当∂f/∂x很小时,∂Loss/∂x趋于1,连乘导致趋于1; (∂f/∂x+1)", ("D9",)),
        method="symbolic",
        interpretation="the chained product read as the product over k stacked blocks of each block's factor "
        "(∂f/∂x + 1), and 'tends to 1' as the limit of every ∂f/∂x → 0 at a fixed depth k; the product of whole "
        "block derivatives σ'·(∂f/∂x + 1) is resnet_gradient_does_not_vanish",
        statement={"factor": lambda df_dx: df_dx + 1, "limit": 1},
    ),
    Claim(
        name="resnet_gradient_does_not_vanish",
        title="resnet: with the shortcut and ∂f/∂x very small, the gradient no longer vanishes through the blocks",
        source=Source(S004, RESNET, "ResidualBlock resnet 残差网络:解决神经网络的梯度消失; 连乘导致趋于1", ("D9",)),
        method="empirical",
        interpretation="σ read both ways the note writes it: the sigmoid its symbol σ names in the formula, and "
        "the ReLU of its code (resnet:y=relu(f(x)+x)). Set-up not stated, so swept: k = 4, 16, 64 blocks "
        "x ← σ(x wᵀ·ε + x) of width 16 with ε = 10⁻², 10⁻⁴ (∂f/∂x very small), Loss = Σ outputs; 'vanishes' "
        "read as ‖∂Loss/∂x‖ at the input falling below a tenth of its value at the output",
        statement={"activations": {"relu": lambda z: z.relu(), "sigmoid": lambda z: z.sigmoid()}},
    ),
    Claim(
        name="plain_dloss_dx_small",
        title="without the shortcut, y = σ(f(x)): when ∂f/∂x is very small, ∂Loss/∂x is very small",
        source=Source(S004, RESNET, "正常结构的梯度:当∂f/∂x很小时,∂Loss/∂x很小", ("D9",)),
        method="symbolic",
        interpretation="'very small' read as the limit ∂f/∂x → 0 with the chain's other factors fixed",
        statement={"dloss_dx": _plain_dloss_dx, "limit": lambda dloss_dy, dy_dsigma, dsigma_df: 0},
    ),
    Claim(
        name="plain_product_tends_to_0",
        title="without the shortcut, the chained product of the blocks' factors tends to 0",
        source=Source(S004, RESNET, "正常结构的梯度:当∂f/∂x很小时,∂Loss/∂x很小,连乘导致趋于0", ("D9",)),
        method="symbolic",
        interpretation="the chained product read as the product over k blocks of each block's factor σ'·∂f/∂x "
        "(∂y/∂σ = 1), and 'tends to 0' as the limit of every ∂f/∂x → 0 at a fixed depth k, as for the resnet's "
        "product (resnet_product_tends_to_1)",
        statement={"factor": lambda dsigma_df, df_dx: dsigma_df * df_dx, "limit": 0},
    ),
)
