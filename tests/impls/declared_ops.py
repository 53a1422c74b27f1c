"""Two ops declared by a user, for `gradproof verify --ops` (the README's GELU and layer norm)."""

import gradproof


@gradproof.op(inputs={"x": ("B", "n")}, regions={"typical": (-3, 3), "wide": (-20, 20)})
def gelu(m, x):
    """GELU, tanh form"""
    return 0.5 * x * (1 + m.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


@gradproof.op(inputs={"x": ("B", "n"), "gamma": ("n",), "beta": ("n",)}, params={"eps": 1e-5}, dims={"n": (2, 6)})
def layer_norm(m, x, gamma, beta, *, eps):
    """Layer norm over the last axis"""
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / m.sqrt(var + eps) * gamma + beta
