"""An implementation that leaves processes in sessions of their own, out of reach of its worker's
process group: a setsid child, and a daemon (double fork: the middle process exits at once, so the
grandchild is an orphan while the worker is still alive). Both keep the run's stdout open."""

import os
import subprocess

import numpy as np

_children = []


def _daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "60"])
        os._exit(0)


def sigmoid(z):
    if not _children:
        _children.append(subprocess.Popen(["sleep", "60"], start_new_session=True))  # inherits stdout and stderr
        _daemon()
    return 1 / (1 + np.exp(-z))


def sigmoid_vjp(z, c):
    a = sigmoid(z)
    return c * a * (1 - a)
