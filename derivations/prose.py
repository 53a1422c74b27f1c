"""Prose of the notes that no machine can decide, each with the reason (CLAIMS.md G1-G4).

G1's other two parts, about information and surprise, are decided against the definition of entropy in
derivations/information.py (entropy_less_information, entropy_less_surprise).
"""

from __future__ import annotations

from derivations.activation_facts import S001, S003, S004
from derivations.model import Claim, Source

CLAIMS = (
    Claim(
        name="entropy_more_stable",
        title="higher entropy means more stability",
        source=Source(S001, "Entropy", "熵大则信息量量比较小,越稳定,越没有惊喜度", ("G1",)),
        method="prose",
        reason="稳定 (stable) has no definition for a distribution or for its outcomes: stability is defined for "
        "dynamical systems, algorithms and estimators (a small perturbation stays small), and the sentence names "
        "none of them. Each definition one could supply gives its own answer: 'the outcome is predictable' goes "
        "the other way (by Fano's inequality a higher entropy caps the chance of guessing the outcome lower); "
        "'the distribution is an equilibrium' agrees (maximum entropy is the equilibrium "
        "of the second law); 'an estimate varies little from sample to sample' depends on the estimator and the "
        "sample size, not on the entropy alone. The choice between them is the note's, and it does not make one",
    ),
    Claim(
        name="activation_priority",
        title="priority relu > tanh > sigmoid for hidden layers; sigmoid for binary output, softmax for multi-class",
        source=Source(
            S004, "选定优先级", "relu>tanh>sigmoid; sigmoid一般用于二分类最后一层,softmax用于多分类最后一层", ("G2",)
        ),
        method="prose",
        reason="'>' ranks the three functions without saying by what: test accuracy, training speed and the size "
        "of the gradients at depth are all candidates, and each depends on the task, the data, the depth, the "
        "initialisation and the optimiser, none of which the note fixes, so no experiment decides the ranking in "
        "general. The reason 004 gives for it (tanh and sigmoid saturate, their derivatives tend to 0) is a claim "
        "of its own, decided as A7 (saturation). '一般用于' (generally used for) reports what is usual in practice, a "
        "frequency no formula fixes; what the formulas fix, that σ(z) lies in (0, 1) and softmax gives a "
        "probability row, is decided under A1 and A5",
    ),
    Claim(
        name="relu_sparsity",
        title="ReLU makes the network sparse and reduces overfitting",
        source=Source(
            S004,
            "为什么引入?",
            "Relu会使一部分神经元的输出为0,这样就造成了网络的稀疏性 ... 缓解了过拟合问题的发生",
            ("G3",),
        ),
        method="prose",
        reason="the definition fixes only that a unit outputs 0 exactly when its pre-activation is ≤ 0; how many "
        "units do ('一部分', and so how sparse the network is) depends on the inputs, weights and biases: none when "
        "every pre-activation is positive, all when every one is negative. 'Reduces the interdependence of "
        "parameters' names no measure of interdependence. 'Alleviates overfitting' is a statement about the gap "
        "between training and test error, which depends on the data, the model's size, the length of training and "
        "any other regularisation; an experiment decides it only for the task it runs, and the note names none",
    ),
    Claim(
        name="deep_features",
        title="deeper layers learn more complex features (edges -> parts -> faces)",
        source=Source(
            S003,
            "3.1 为什么深度神经网络对很多问题确实很有效",
            "浅层 看作是简单的检测函数 如 (检测) 边缘 ... 以便它可以学习 更多和更复杂 的功能",
            ("G4",),
        ),
        method="prose",
        reason="'more complex feature' has no definition: the note gives no measure of a feature's complexity, "
        "and 'edges, then parts of faces, then faces' describes what the units of trained face-recognition "
        "networks respond to, as people read it off visualisations. What a layer learns depends on the training "
        "data, the architecture and the training run, so no computation on the formulas decides it. The one part "
        "the definitions fix, that a deeper layer computes a function of the earlier layers' outputs, holds by "
        "construction and says nothing about complexity",
    ),
)
