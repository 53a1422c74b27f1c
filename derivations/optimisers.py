"""Gradient descent and the optimisers as the notes write them (CLAIMS.md C1-C11)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from derivations.activation_facts import S001, S004
from derivations.model import Claim, Source


def _momentum(w: np.ndarray, dw: np.ndarray, g: np.ndarray, eta: float, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """w = w − Δw; Δw_t = η g_t + ρ Δw_{t−1}."""
    dw = eta * g + rho * dw
    return w - dw, dw


def _adagrad_abs_sum(w: np.ndarray, total: np.ndarray, g: np.ndarray, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """The note's denominator: the running sum of the absolute first derivatives, Σ_{i≤t} |g_i|."""
    total = total + np.abs(g)
    return w - eta * g / total, total


def _mean_over(xs: Sequence[Any], ys: Sequence[Any], term: Callable[[Any, Any], Any]) -> Any:
    """The programs' loops: a running sum from 0 over zip(xs, ys), divided by len(xs)."""
    total = 0
    for x, y in zip(xs, ys, strict=True):
        total += term(x, y)
    return total / len(xs)


# Seed 004's worked example as its two programs write it: loss(xs, ys) and gradient(xs, ys) of the first
# (the hand gradient), loss(x, y) of the second (one sample, differentiated by autograd).
WORKED_EXAMPLE: dict[str, Any] = {
    "x": (1.0, 2.0, 3.0),
    "y": (2.0, 4.0, 6.0),
    "w0": 1.0,
    "lr": 0.01,
    "epochs": 100,
    "loss": lambda xs, ys, w: _mean_over(xs, ys, lambda x, y: (x * w - y) ** 2),
    "gradient": lambda xs, ys, w: _mean_over(xs, ys, lambda x, y: 2 * x * (x * w - y)),
    "sample_loss": lambda x, y, w: (x * w - y) ** 2,
    "predict_at": 4.0,
}


def _clip_by_norm(g: np.ndarray, c: float) -> np.ndarray:
    norm = float(np.linalg.norm(g))
    return g * min(1.0, c / norm) if norm > 0 else g


CLAIMS = (
    Claim(
        name="update_rule",
        title="gradient descent: param = param − lr · ∂loss/∂param",
        source=Source(S004, "参数更新优化方法:梯度下降", "参数=参数-学习率*偏导", ("C1",)),
        method="numerical",
        statement={"update": lambda p, g, lr: p - lr * g},
    ),
    Claim(
        name="worked_example_gradient",
        title="the worked example's hand gradient: gradient(xs, ys) = mean of 2x(xw − y) is d/dw of the mean "
        "squared error loss(xs, ys)",
        source=Source(S004, "梯度下降 代码", "loss+=(y_pred-y)**2; return loss/len(xs); grad+=2*x*(x*w-y)", ("C2",)),
        method="symbolic",
        statement={"loss": WORKED_EXAMPLE["loss"], "gradient": WORKED_EXAMPLE["gradient"]},
    ),
    Claim(
        name="worked_example",
        title="the worked example: from w = 1, w -= 0.01·gradient for 100 epochs fits y = 2x (the loss falls every "
        "epoch, w ends at the minimiser of the loss)",
        source=Source(S004, "梯度下降 代码", "w=1; for epoch in range(100): ... w-=0.01*grad", ("C2",)),
        method="numerical",
        interpretation="the note prints the program and no result: what it implies is that training fits the data "
        "y = 2x, read as the loss falling every epoch and w ending within 1e-3 of the loss's minimiser",
        statement=WORKED_EXAMPLE,
    ),
    Claim(
        name="worked_example_autograd_sgd",
        title="the worked example with torch autograd, one update per sample: autograd's gradient is the hand "
        "gradient 2x(xw − y), and 100 epochs fit y = 2x (the prediction at 4 ends near 8)",
        source=Source(S004, "梯度下降 代码", "l=loss(x,y); l.backward(); w.data=w.data-rate*w.grad.data", ("C2",)),
        method="numerical",
        interpretation="as the program: w = torch.Tensor([1.0]) (float32), rate 0.01, one update per sample in "
        "the order of x_data; the hand gradient of one sample is the first program's gradient([x], [y])",
        statement=WORKED_EXAMPLE,
    ),
    Claim(
        name="batch_minibatch",
        title="batch, stochastic and mini-batch gradient descent",
        source=Source(
            S004,
            "Mini-batch 和batch",
            "遍历全部数据集算一次损失函数 ... 每一个数据就算一下损失函数 ... 按批来更新参数",
            ("C3",),
        ),
        method="numerical",
        # The batch gradient the notes describe: one gradient over the whole data set, that is the
        # mean of the per-sample gradients of the mean loss.
        statement={"combine": lambda grads: np.mean(grads, axis=0)},
    ),
    Claim(
        name="momentum_rule",
        title="momentum: w = w − Δw; Δw_t = η g_t + ρ Δw_{t−1}",
        source=Source(S004, "动量优化 Momentum", "△w_t=ηg_t+ρ△w_{t−1}", ("C4",)),
        method="numerical",
        statement={"step": _momentum, "eta": 0.05, "rho": 0.9},
    ),
    Claim(
        name="adagrad_rule",
        title="Adagrad: the denominator holds the sum of the absolute first derivatives, w ← w − η·g_t / Σ_{i≤t} |g_i|",
        source=Source(
            S001,
            "Adagrad",
            "分母上也有g的和,分母越大,w参数值下降得越小; 这里的分母虽然是一阶导的绝对值的和",
            ("C5",),
        ),
        method="numerical",
        interpretation="the note gives no formula; 'g的和' (the sum of g) "
        "read with the note's own gloss two lines on, '一阶导的绝对值的和' (the sum of the absolute values of the "
        "first derivatives): Σ|g_i| over the steps so far, this step's included, per parameter; the numerator is "
        "η·g_t. η = 0.5 on random positive-definite quadratics (the note gives no set-up)",
        statement={"step": _adagrad_abs_sum, "eta": 0.5},
    ),
    Claim(
        name="adagrad_denominator_curvature",
        title="the denominator, though a sum of absolute first derivatives, in some measure shows the size of "
        "the second derivative",
        source=Source(
            S001, "Adagrad", "这里的分母虽然是一阶导的绝对值的和,但在一定程度上可以看出二阶导的大小来", ("C5",)
        ),
        method="numerical",
        interpretation="'看出二阶导的大小' read as: the denominator ranks quadratics f = ½a(w − c)² by their second "
        "derivative a (the larger a, the larger Σ|f'|); '在一定程度上' (to some extent) as: where the first "
        "derivatives are taken at comparable points. The note does not say where they are taken: swept over "
        "points shared by all the quadratics (the same offsets from each minimum), Adagrad's own run from the "
        "same distance to each minimum, and Adagrad's own run from different distances (as the coordinates of "
        "one problem start); the verdict needs the first two, the third is reported",
        statement={"denominator": lambda gs: np.sum(np.abs(gs), axis=0)},
    ),
    Claim(
        name="best_step_quadratic",
        title="for a quadratic the best step is |f'| / f''",
        source=Source(S001, "Adagrad", "最好的步长是一阶导的绝对值除以二阶导的值", ("C5",)),
        method="symbolic",
        interpretation="the best step read as the step, taken downhill, that lands on the minimum; a quadratic "
        "a(x − c)² + d has one only for a > 0 (for a < 0 f'' < 0 and f has no minimum), so a > 0",
        statement={"step": lambda fp, fpp: sp.Abs(fp) / fpp},
    ),
    Claim(
        name="gradient_clipping",
        title="gradient clipping: a gradient over the threshold is forced back within it",
        source=Source(S004, "解决梯度爆炸", "梯度裁剪:如果梯度超过阈值,就将其强制限制在这个范围之内", ("C6",)),
        method="numerical",
        statement={"by_value": lambda g, c: np.clip(g, -c, c), "by_norm": _clip_by_norm},
    ),
    Claim(
        name="contour_normal",
        title="the gradient is normal to the contour lines and points to increasing f",
        source=Source(S004, "等高线", "dx2/dx1=−f_x1/f_x2 ... 法线斜率为 f_x2/f_x1", ("C7",)),
        method="symbolic",
        statement={"tangent": lambda fx1, fx2: -fx1 / fx2, "normal": lambda fx1, fx2: fx2 / fx1},
    ),
    Claim(
        name="learning_rate_divergence",
        title="too large a learning rate makes the loss grow (above 2/L for a quadratic of curvature L)",
        source=Source(S001, "Gradient Descent", "如果learning rate非常大,loss有可能越来越大", ("C8",)),
        method="numerical",
        statement={"threshold": lambda L: 2 / L},
    ),
    Claim(
        name="taylor_descent",
        title="a small enough step against the gradient decreases f (first-order Taylor)",
        source=Source(S001, "梯度下降背后的数学原理", "泰勒定理", ("C9",)),
        method="numerical",
        statement={"step": lambda x, g, eta: x - eta * g},
    ),
    Claim(
        name="saddle_point_axes",
        title="at a saddle point f has a maximum along one variable and a minimum along the other",
        source=Source(
            S001,
            "凸函数 / 容易出现的问题",
            "saddle point出现鞍点,在一个自变量上的偏微分取得极大值,在另一个自变量上取极小值",
            ("C10",),
        ),
        method="symbolic",
        interpretation="'偏微分取得极大值' (the partial derivative attains a maximum) read as f, as a function of that "
        "one variable with the other held fixed, attains a maximum there; read literally (∂f/∂x itself maximal) "
        "it fails already at x² − y², where ∂f/∂x = 2x has no extremum",
        # The lines through the point along which the note looks: the coordinate axes of the variables.
        statement={"directions": "variables", "extrema": ("max", "min")},
    ),
    Claim(
        name="gradient_derivative_steepness",
        title="the larger the derivative of the gradient, the steeper the surface, the larger one step's height "
        "change and the denser the contour lines",
        source=Source(S004, "等高线", "梯度的导数越大,越陡,走一步造成的高度差越大,等高线越密", ("C11",)),
        method="numerical",
        interpretation="'梯度的导数' read as written: the derivative of the gradient, the Hessian (its largest "
        "absolute eigenvalue at the point); steepness as the height change of one short step uphill and contour "
        "density as level lines crossed per unit length",
        statement={"measure": lambda grad, hessian: float(np.max(np.abs(np.linalg.eigvalsh(hessian))))},
    ),
    Claim(
        name="steep_surface_dense_contours",
        title="the steeper the surface (the larger the gradient), the larger one step's height change and the "
        "denser the contour lines",
        source=Source(S004, "等高线", "越陡,走一步造成的高度差越大,等高线越密", ("C11",)),
        method="numerical",
        interpretation="steepness as the gradient's norm, the rest of the sentence as in gradient_derivative_steepness",
        statement={"measure": lambda grad, hessian: float(np.linalg.norm(grad))},
    ),
)
