"""Tensor ops with one planted conformance bug each; every other property holds."""

import numpy as np

from harness.backends import numpy_ref as ref
from harness.impl.registry import Implementation

impl = Implementation("numpy")
SUM = ref.OPS["sum_dim"]


@impl.forward("sum_dim")
def sum_dim(x, dim, keepdim):
    return x.sum(axis=dim, keepdims=keepdim)


@impl.vjp("sum_dim")
def sum_dim_vjp(x, cotangent, dim, keepdim):
    # float64 whatever came in: the dtype-shape check's business.
    return (np.asarray(SUM.vjp(x, cotangent, dim=dim, keepdim=keepdim)[0], dtype=np.float64),)


@impl.forward("mean_dim")
def mean_dim(x, dim, keepdim):
    out = x.mean(axis=dim, keepdims=keepdim)
    x *= 0  # scratch space reused: the caller's input is gone
    return out


@impl.vjp("mean_dim")
def mean_dim_vjp(x, cotangent, dim, keepdim):
    return ref.OPS["mean_dim"].vjp(x, cotangent, dim=dim, keepdim=keepdim)


impl.forward("max_pool2d")(ref.OPS["max_pool2d"].forward)


@impl.vjp("max_pool2d")
def max_pool2d_vjp(x, cotangent, kernel, stride, padding):
    # The cotangent replaced by ones: right for the sum of the outputs, wrong otherwise.
    return ref.OPS["max_pool2d"].vjp(x, np.ones_like(cotangent), kernel=kernel, stride=stride, padding=padding)
