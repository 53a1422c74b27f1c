"""HIPS autograd as an implementation under test: plain NumPy-style pairs, each vjp made by
autograd.make_vjp from the op written with autograd.numpy.
gradproof verify --impl examples/autograd_impl.py

Needs `pip install gradproof[autograd]`.
"""

import autograd.numpy as anp
from autograd import make_vjp
from autograd.scipy.special import logsumexp

from harness.impl import Implementation

impl = Implementation("numpy")


def _cross_entropy(z, y):
    # (sum y) log sum e^(z - m) - sum y (z - m): two non-negative terms, no cancellation at
    # large logits; the max's own gradient cancels between them.
    shifted = z - anp.max(z, axis=-1, keepdims=True)
    return anp.sum(y, axis=-1) * logsumexp(shifted, axis=-1) - anp.sum(y * shifted, axis=-1)


def _ops(alpha_default=0.01):
    return {
        "sigmoid": lambda z: anp.exp(-anp.logaddexp(0, -z)),
        "tanh": anp.tanh,
        "relu": lambda z: anp.maximum(z, 0),
        "leaky_relu": lambda z, alpha=alpha_default: anp.where(z > 0, z, alpha * z),
        "softmax": lambda z: anp.exp(z - logsumexp(z, axis=-1, keepdims=True)),
        "mse": lambda yhat, y: anp.mean((yhat - y) ** 2, axis=-1),
        "softmax_cross_entropy": _cross_entropy,
        "binary_cross_entropy": lambda z, y: anp.logaddexp(0, z) - y * z,
    }


def _register(name, f):
    def forward(*args, **params):
        return f(*args, **params)

    def vjp(*args, **params):
        # The last positional argument is the cotangent; every input before it gets a gradient
        # (a loss's target too: its gradient is as much part of the contract as the prediction's).
        # One make_vjp per argument (argnum), as autograd.grad does: a tuple of all inputs as one
        # argument would have autograd cast each gradient to its input's dtype, which it does not
        # do for a single array.
        *inputs, cotangent = args
        grads = tuple(
            make_vjp(lambda *xs: f(*xs, **params), argnum=k)(*inputs)[0](cotangent) for k in range(len(inputs))
        )
        return grads[0] if len(inputs) == 1 else grads

    impl.add(name, forward, vjp)


for _name, _f in _ops().items():
    _register(_name, _f)
