"""The notes' claims about losses and information (CLAIMS.md B1, B2, B4-B9)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations import losses
from derivations.activation_facts import S001, S003, S004
from derivations.model import Claim, Source


def _mse(yhat: list[sp.Expr], y: list[sp.Expr]) -> sp.Expr:
    return losses.mse.forward(yhat, y)  # type: ignore[return-value]


def _bce(z: sp.Expr, y: sp.Expr) -> sp.Expr:
    return losses.binary_cross_entropy.forward(z, y)  # type: ignore[return-value]


def _tiny_network(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """1 input -> 2 tanh hidden units -> 1 output, for P parameter rows (w1[2], b1[2], w2[2], b2) at once."""
    hidden = np.tanh(x[None, :, None] * theta[:, None, 0:2] + theta[:, None, 2:4])
    return np.sum(hidden * theta[:, None, 4:6], axis=-1) + theta[:, 6:7]


def _linear_model(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """w x + b (the logit of logistic regression) for P parameter rows (w, b): a convex control."""
    return x[None, :] * theta[:, 0:1] + theta[:, 1:2]


CLAIMS = (
    Claim(
        name="mse_not_norm",
        title="MSE has no square root: it is not the 2-norm of the error",
        source=Source(S001, "loss及其梯度", "MSE不同于二范数 / MSE不开根号", ("B1",)),
        method="symbolic",
        statement={"mse": _mse, "norm": lambda d: sp.sqrt(sum(di**2 for di in d)), "sizes": (1, 2, 3, 4)},
    ),
    Claim(
        name="square_loss_convex",
        title="the mean squared error is convex (in the prediction, and in (w, b) of a linear model)",
        source=Source(S004, "凸函数?", "平方差/均值平方差:凸函数", ("B1", "B6")),
        method="symbolic",
        statement={"mse": _mse, "sizes": (1, 2, 3, 4), "sample_loss": lambda w, b, x, y: (w * x + b - y) ** 2},
    ),
    Claim(
        name="mse_sigmoid_vanishing",
        title="MSE on a sigmoid output: the partial derivative is tiny when the output is near 0 or 1",
        source=Source(S004, "均值平方差(MSE)", "偏导值在输出概率值接近0或者接近1的时候非常小", ("B2",)),
        method="numerical",
        # "Tiny" read as: within `near` of 0 or 1, at most `tiny` of the derivative's largest value.
        statement={"loss": lambda a, y: (a - y) ** 2, "near": 0.01, "tiny": 0.1},
    ),
    Claim(
        name="cross_entropy_numbers",
        title="binary cross entropy -log p falls from 0.916 to 0.02 as the model improves",
        source=Source(S001, "Binary Classification", "交叉熵从0.916到0.02时,越接近于我们的目标", ("B4",)),
        method="numerical",
        statement={"loss": lambda p: -np.log(p), "values": (0.916, 0.02)},
    ),
    Claim(
        name="kl_decomposition",
        title="H(p, q) = H(p) + KL(p||q); KL(p||p) = 0; H(one-hot) = 0",
        source=Source(S001, "Cross Entropy", "当P=Q时:corss Entropy=Entropy; 在0ne—hot编码规则下H(p)=0", ("B5",)),
        method="symbolic",
        statement={
            "entropy": lambda p: -sum(pi * sp.log(pi) for pi in p),
            "cross": lambda p, q: -sum(pi * sp.log(qi) for pi, qi in zip(p, q, strict=True)),
            "kl": lambda p, q: sum(pi * sp.log(pi / qi) for pi, qi in zip(p, q, strict=True)),
            "sizes": (2, 3, 4),
        },
    ),
    Claim(
        name="kl_zero_only_when_equal",
        title="KL(p||q) = 0 only when p = q (a distance between distributions)",
        source=Source(S001, "Cross Entropy", "当两个概率分布完全相同的时候,距离为0,Dkl=0", ("B5",)),
        method="numerical",
        statement={"kl": lambda p, q: np.sum(p * np.log(p / q), axis=-1)},
    ),
    Claim(
        name="logistic_ce_convex",
        title="logistic-regression cross entropy is convex in (w, b)",
        source=Source(S003, "逻辑回归", "是关于w和b参数的凸函数", ("B6",)),
        method="symbolic",
        statement={"sample_loss": lambda w, b, x, y: _bce(w * x + b, y), "targets": (0, 1)},
    ),
    Claim(
        name="network_loss_nonconvex",
        title="a neural network's loss is not convex",
        source=Source(S004, "凸函数?", "神经网络:非凸函数", ("B6",)),
        method="numerical",
        statement={"model": _tiny_network, "parameters": 7, "convex": False},
    ),
    Claim(
        name="accuracy_gradient",
        title="accuracy has gradient 0 almost everywhere and jumps: 0.6 -> 0.8 as p moves 0.499 -> 0.501",
        source=Source(S001, "无法直接最大化准确率", "准确率从0.6变动到0.8 ... 概率值变动了0.002", ("B7",)),
        method="numerical",
        statement={
            "samples": 5,
            "moved": (0.499, 0.501),
            "accuracy": (0.6, 0.8),
            "unchanged": (0.4, 0.45),
            "threshold": 0.5,
        },
    ),
    Claim(
        name="kl_is_distance",
        title="D_KL is the distance between two probability distributions",
        source=Source(S001, "Cross Entropy", "Dkl表示的是两个概率分布的距离", ("B8",)),
        method="numerical",
        interpretation="'distance' (距离) read as a metric: non-negative, 0 exactly for identical arguments, "
        "symmetric, and obeying the triangle inequality",
        statement={"distance": lambda p, q: np.sum(p * np.log(p / q), axis=-1)},
    ),
    Claim(
        name="kl_zero_when_identical",
        title="D_KL is 0 when the two distributions are identical",
        source=Source(S001, "Cross Entropy", "当两个概率分布完全相同的时候,距离为0,Dkl=0", ("B8",)),
        method="symbolic",
        statement={
            "kl": lambda p, q: sum(pi * sp.log(pi / qi) for pi, qi in zip(p, q, strict=True)),
            "sizes": (2, 3, 4),
        },
    ),
    Claim(
        name="accuracy_definition",
        title="accuracy = (number of predictions equal to the truth) / (number of all y)",
        source=Source(S001, "无法直接最大化准确率", "分母为所有的y值,分子为预测值等于真实值的个数", ("B9",)),
        method="numerical",
        statement={"accuracy": lambda pred, y: np.count_nonzero(pred == y) / np.size(y)},
    ),
)
