"""The notes' claims about losses and information (CLAIMS.md B1-B9, and G1's entropy statements)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations import losses
from derivations.activation_facts import S001, S003, S004
from derivations.model import Claim, Source


def _mse(yhat: list[sp.Expr], y: list[sp.Expr]) -> sp.Expr:
    return losses.mse.closed_form.forward(yhat, y)  # type: ignore[return-value]


def _bce(z: sp.Expr, y: sp.Expr) -> sp.Expr:
    return losses.binary_cross_entropy.closed_form.forward(z, y)  # type: ignore[return-value]


def _logistic_loss(w: list[sp.Expr], b: sp.Expr, x: list[sp.Expr], y: sp.Expr) -> sp.Expr:
    """One sample's cross entropy of logistic regression, ŷ = σ(w·x + b), with w and x vectors of features."""
    return _bce(sum(wi * xi for wi, xi in zip(w, x, strict=True)) + b, y)


def _mean(losses: list[sp.Expr]) -> sp.Expr:
    return sum(losses) / len(losses)  # type: ignore[return-value]


def _cross(y: list[sp.Expr], y_pred: list[sp.Expr]) -> sp.Expr:
    """004's H = −Σ y_i log(y'_i): y the true distribution, y' the predicted one."""
    return -sum(yi * sp.log(qi) for yi, qi in zip(y, y_pred, strict=True))  # type: ignore[return-value]


_LOST_LOSS = (
    "003's loss formula is an image lost from its text ('交叉熵损失函数:,其中yhat是指y的预测值'); it is reconstructed "
    "as the course's logistic loss −(y log ŷ + (1−y) log(1−ŷ)), ŷ = σ(w·x + b), and the many-sample cost as its mean"
)


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
        name="cross_entropy_positive",
        title="the cross entropy H = −Σ y_i log(y'_i) is positive",
        source=Source(S004, "交叉熵", "交叉熵是正的; H=−∑ y_i log(y_i′); y是真实分布,y^是预测分布", ("B3",)),
        method="symbolic",
        interpretation="正的 read as strictly positive (> 0), its ordinary meaning; y and y' range over what the note "
        "names them, a true and a predicted distribution (entries in [0, 1] summing to 1, a one-hot row included); a "
        "term with y_i = 0 counts 0, the limit of y log y'. The check sweeps the outputs: any predicted distribution, "
        "and softmax outputs (every y'_i < 1)",
        statement={"cross": _cross, "holds": lambda h: h > 0},
    ),
    Claim(
        name="cross_entropy_sign_reason",
        title="H is positive despite its minus sign because y_i < 1",
        source=Source(S004, "交叉熵", "不要被负号影响, 因为yi <1", ("B3",)),
        method="numerical",
        interpretation="read as written: y_i is the target, the factor in front of the log (the note's H multiplies "
        "by y_i and takes the log of y'_i). 'Because' read as: the sign of each term −y_i log y'_i follows the "
        "condition, positive where it holds and not where it fails. To tell the two variables apart the check "
        "varies each on a grid: y ∈ {¼, ½, ¾, 1} (1 is a one-hot target's entry) and y' ∈ {¼, ½, ¾, 1, 3/2, 2}, past "
        "1 and so outside a distribution",
        statement={"term": lambda y, y_pred: -y * sp.log(y_pred), "reason": lambda y, y_pred: y < 1},
    ),
    Claim(
        name="cross_entropy_near_zero_at_match",
        title="when the outputs are close to the targets, the cross entropy is close to 0",
        source=Source(S004, "交叉熵", "当所有输入x的输出都接近期望的输出y的话,交叉熵也会很小,接近于0", ("B3",)),
        method="symbolic",
        interpretation="'outputs close to the targets' read as the limit y' → y (along y' = (1−ε)y + ε/n, which "
        "stays a distribution), and 'close to 0' as: that limit is 0; the note calls y the true distribution, so "
        "one-hot and soft targets are both swept",
        statement={"cross": _cross, "at_match": lambda y: 0},
    ),
    Claim(
        name="cross_entropy_with_softmax",
        title="cross entropy serves binary and multi-class problems and is usually used with softmax",
        source=Source(
            S001, "loss及其梯度", "Cross Entropy Loss 可以用于二分类、多分类问题,经常使用softmax激活函数", ("B3",)
        ),
        method="prose",
        reason="'经常使用' (often used) reports how often people pair the two, a fact about practice that no "
        "formula fixes. What the formulas do fix is decided elsewhere: H = −Σ y_i log y'_i is defined for any "
        "number of classes n ≥ 2; softmax outputs are a probability row with every entry in (0, 1) "
        "(softmax_probabilities), so every log y'_i is finite and H > 0 (cross_entropy_positive's sweep); and the "
        "gradient of H(y, softmax(z)) in the logits is p − y (the op record softmax_cross_entropy)",
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
        title="for many samples, logistic regression's cross entropy is convex in (w, b)",
        source=Source(
            S003, "1.1 单层神经网络", "对于多样本的情况,逻辑回归的交叉熵损失函数是关于w和b参数的凸函数", ("B6",)
        ),
        method="symbolic",
        interpretation=_LOST_LOSS + "; w is a vector of features (proved for 1 and 2; the argument is the same for "
        "any number), the labels y any real numbers",
        statement={"sample_loss": _logistic_loss, "cost": _mean, "features": (1, 2)},
    ),
    Claim(
        name="logistic_ce_single_extremum",
        title="being convex, the many-sample cross entropy has at most one extremum point",
        source=Source(S003, "1.1 单层神经网络", "是关于w和b参数的凸函数,即至多仅有一个极值点", ("B6",)),
        method="symbolic",
        interpretation=_LOST_LOSS + "; 极值点 read as a point (w, b) where the cost has a local extremum. The note "
        "says 'for many samples' and nothing of the data, so the check sweeps data sets of one feature: overlapping "
        "classes, separable classes, and every x equal",
        statement={"sample_loss": _logistic_loss, "cost": _mean, "extrema_at_most": 1, "data": lambda x: len(x) > 1},
    ),
    Claim(
        name="logistic_ce_max_likelihood",
        title="logistic regression's cross entropy can be derived by maximum likelihood",
        source=Source(S003, "1.1 单层神经网络", "交叉熵损失函数的形式可以用极大似然(可能性)估计算法推导得到", ("B6",)),
        method="symbolic",
        interpretation=_LOST_LOSS + "; the likelihood of a label y ∈ {0, 1} is Bernoulli's ŷ^y (1−ŷ)^(1−y), and "
        "'derived' read as: the negative log-likelihood of the samples equals the summed cross entropy, so the "
        "parameters that maximise one minimise the other",
        statement={
            "likelihood": lambda yhat, y: yhat**y * (1 - yhat) ** (1 - y),
            "loss": lambda yhat, y: -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat)),
        },
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
    Claim(
        name="entropy_less_information",
        title="higher entropy means less information",
        source=Source(S001, "Entropy", "Entropy——熵,指不确定性 / 熵大则信息量量比较小", ("G1",)),
        method="symbolic",
        interpretation="信息量 read as Shannon's information content of an outcome, −log p(x), the standard meaning of "
        "the term, and 'less information' as less of it on average, E_p[−log p], the quantity entropy is defined as. "
        "Read instead as what an observer already knows of the outcome (log n − H, the redundancy), the sentence "
        "would hold; the note's own gloss, 熵指不确定性, and the term 信息量 point to Shannon's",
        statement={"word": "信息量 (information)", "quantity": lambda p: [-sp.log(pi) for pi in p], "direction": -1},
    ),
    Claim(
        name="entropy_less_surprise",
        title="higher entropy means less surprise",
        source=Source(S001, "Entropy", "熵大则信息量量比较小,越稳定,越没有惊喜度", ("G1",)),
        method="symbolic",
        interpretation="惊喜度 read as surprisal, the measure of how surprising an outcome is, −log p(x), and 'less "
        "surprise' as less of it on average, E_p[−log p], the quantity entropy is defined as",
        statement={"word": "惊喜度 (surprise)", "quantity": lambda p: [-sp.log(pi) for pi in p], "direction": -1},
    ),
)
