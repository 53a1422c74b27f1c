"""The forwards and vjps that mutants.py builds its variants of the elementwise ops and losses from."""

from __future__ import annotations

import numpy as np

from harness.backends import numpy_ref as ref


def row(c: np.ndarray) -> np.ndarray:
    return c[..., None]


# The mutants overflow and divide by zero on purpose; the checks report it, warnings would only
# clutter the output (this module is imported only by the self-test and its workers).
np.seterr(all="ignore")
_rng = np.random.default_rng()  # the nondeterministic mutant's own source of disorder


def shuffled_sum(x: np.ndarray) -> np.ndarray:
    """A row sum in a different order on every call, as an unordered parallel (atomic)
    reduction; short rows often sum alike in any order, so the last bit also lands
    either way, as it does when atomics race."""
    perm = _rng.permutation(x.shape[-1])
    out = np.zeros(x.shape[:-1], dtype=x.dtype)
    for j in perm:
        out = out + x[..., j]
    out = np.where(_rng.random(out.shape) < 0.5, np.nextafter(out, np.inf), out)
    return out[..., None]


def softmax_no_shift(z: np.ndarray) -> np.ndarray:
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_shuffled(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / shuffled_sum(e)


def sigmoid_exp(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -z))


def rmse(yhat: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.sqrt(ref.mse(yhat, y))


def rmse_vjp(yhat: np.ndarray, y: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = row(c / (yhat.shape[-1] * rmse(yhat, y))) * (yhat - y)
    return g, -g


def ce_no_shift(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * (z - np.log(np.exp(z).sum(axis=-1, keepdims=True)))).sum(axis=-1)


def ce_factored(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    # sum_i y_i (lse - z_i) = (sum y) log sum e^(z - m) - sum y (z - m): two non-negative terms.
    shifted = z - z.max(axis=-1, keepdims=True)
    return y.sum(axis=-1) * np.log(np.exp(shifted).sum(axis=-1)) - (y * shifted).sum(axis=-1)


def bce_naive(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = 1 / (1 + np.exp(-z))
        return -(y * np.log(s) + (1 - y) * np.log(1 - s))


def softmax_jacobian_vjp(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    p = ref.softmax(z)
    jac = np.einsum("...i,ij->...ij", p, np.eye(p.shape[-1], dtype=p.dtype)) - p[..., :, None] * p[..., None, :]
    return np.einsum("...i,...ij->...j", c, jac)


def sig(z: np.ndarray) -> np.ndarray:
    return ref.sigmoid(z)


def f16(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16).astype(x.dtype)


def softmax_jvp_explicit(z: np.ndarray, z_dot: np.ndarray) -> np.ndarray:
    p = ref.softmax(z)
    jac = np.einsum("...i,ij->...ij", p, np.eye(p.shape[-1])) - p[..., :, None] * p[..., None, :]
    return np.einsum("...ij,...j->...i", jac, z_dot)
