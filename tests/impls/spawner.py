"""An implementation that starts a child process which keeps the run's stdout open for a minute."""

import subprocess

import numpy as np

_children = []


def sigmoid(z):
    if not _children:
        _children.append(subprocess.Popen(["sleep", "60"]))  # inherits stdout and stderr
    return 1 / (1 + np.exp(-z))


def sigmoid_vjp(z, c):
    a = sigmoid(z)
    return c * a * (1 - a)
