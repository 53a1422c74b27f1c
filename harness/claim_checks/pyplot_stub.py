"""A stand-in for matplotlib.pyplot, for the notes' printed programs: it records each call and draws nothing.

matplotlib is not a dependency of gradproof. The printed-code runner copies this file to `matplotlib/pyplot.py`
in a folder it puts first on the subprocess's path, so `import matplotlib.pyplot as plt` finds it. `plot` turns
its data into arrays the way matplotlib does first (matplotlib.cbook._check_1d: `np.atleast_1d` on anything
without a shape, then a float array): data that matplotlib cannot take fails here with the same exception.
Every call is appended, as one JSON line, to the file named by GRADPROOF_PYPLOT_LOG.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np

LOG_VARIABLE = "GRADPROOF_PYPLOT_LOG"


def _record(call: str, *values: object) -> None:
    path = os.environ.get(LOG_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps([call, list(values)]) + "\n")


def _as_array(data: Any) -> np.ndarray:
    if not hasattr(data, "shape") or not hasattr(data, "ndim") or len(data.shape) < 1:
        data = np.atleast_1d(data)
    return np.asarray(data, dtype=np.float64)


def plot(*args: Any, **kwargs: Any) -> list[object]:
    # A string among the positional arguments is a format ('r--'), not data.
    _record("plot", *[_as_array(a).ravel().tolist() for a in args if not isinstance(a, str)])
    return []


def xlabel(label: object, *args: Any, **kwargs: Any) -> None:
    _record("xlabel", str(label))


def ylabel(label: object, *args: Any, **kwargs: Any) -> None:
    _record("ylabel", str(label))


def title(label: object, *args: Any, **kwargs: Any) -> None:
    _record("title", str(label))


def show(*args: Any, **kwargs: Any) -> None:
    _record("show")


def __getattr__(name: str) -> Callable[..., None]:
    """Any other pyplot function: recorded by name, draws nothing."""
    if name.startswith("__"):
        raise AttributeError(name)

    def call(*args: Any, **kwargs: Any) -> None:
        _record(name)

    return call
