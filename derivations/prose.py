"""Prose of the notes that no machine can decide, recorded with the reason (CLAIMS.md G1-G4)."""

from __future__ import annotations

from derivations.activation_facts import S001, S003, S004
from derivations.model import Claim, Source

CLAIMS = (
    Claim(
        name="entropy_information",
        title="higher entropy means less information, more stability, less surprise",
        source=Source(S001, "Entropy", "熵大则信息量量比较小,越稳定,越没有惊喜度", ("G1",)),
        method="prose",
        reason="'information', 'stable' and 'surprise' are not defined; in Shannon's sense higher entropy means "
        "MORE expected surprise (information per outcome), so the sentence is either false or uses private meanings",
    ),
    Claim(
        name="activation_priority",
        title="priority relu > tanh > sigmoid for hidden layers; sigmoid for binary output, softmax for multi-class",
        source=Source(
            S004, "选定优先级", "relu>tanh>sigmoid; sigmoid一般用于二分类最后一层,softmax用于多分类最后一层", ("G2",)
        ),
        method="prose",
        reason="a recommendation whose truth depends on the task, data and architecture; no formula to test",
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
        reason="'reduces overfitting' is a claim about generalisation across data sets and training runs, not a "
        "property of the function; sparsity of outputs depends on the inputs and weights",
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
        reason="'more complex feature' has no definition to compute; it describes trained vision networks, not "
        "something a formula fixes",
    ),
)
