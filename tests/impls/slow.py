"""A correct sigmoid whose every call takes a fifth of a second: --budget must stop it."""

import time

import numpy as np


def sigmoid(z):
    time.sleep(0.2)
    return 1 / (1 + np.exp(-z))


def sigmoid_vjp(z, c):
    time.sleep(0.2)
    s = 1 / (1 + np.exp(-z))
    return c * s * (1 - s)
