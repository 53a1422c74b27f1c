"""An implementation whose errors carry a lone surrogate and a two-megabyte message."""

import numpy as np


def sigmoid(z):
    raise ValueError("bad byte \udc80 in a message")


def sigmoid_vjp(z, c):
    return c


def tanh(z):
    raise ValueError("x" * 2_000_000)


def tanh_vjp(z, c):
    return c * (1 - np.tanh(z) ** 2)
