"""An implementation with one op per way third-party code can go wrong, for the isolation tests."""

import ctypes
import os
import time

from harness.backends import numpy_ref as ref

sigmoid, sigmoid_vjp = ref.sigmoid, ref.sigmoid_vjp  # fine: must still be checked


def binary_cross_entropy(z, y):
    raise ValueError("binary_cross_entropy is not implemented yet")


def binary_cross_entropy_vjp(z, y, c):
    raise ValueError("binary_cross_entropy is not implemented yet")


def relu(z):
    time.sleep(3600)  # a hang


def relu_vjp(z, c):
    time.sleep(3600)


def tanh(z):
    ctypes.string_at(0)  # a segfault


def tanh_vjp(z, c):
    ctypes.string_at(0)


def leaky_relu(z, alpha):
    os.abort()


def leaky_relu_vjp(z, c, alpha):
    os.abort()


mse = ref.mse


def mse_vjp(yhat, y, c):
    return ref.mse_vjp(yhat, y, c)[0]  # one gradient, but mse has two inputs: a contract error


def softmax_cross_entropy(z, y, extra):  # wrong signature
    return ref.softmax_cross_entropy(z, y)


softmax_cross_entropy_vjp = ref.softmax_cross_entropy_vjp
