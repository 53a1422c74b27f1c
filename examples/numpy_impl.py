"""The harness's own NumPy reference, declared the way a user declares plain function pairs
(module attributes named after catalog ids). gradproof verify --impl examples/numpy_impl.py"""

from harness.backends import numpy_ref as ref

sigmoid, sigmoid_vjp = ref.sigmoid, ref.sigmoid_vjp
tanh, tanh_vjp = ref.tanh, ref.tanh_vjp
relu, relu_vjp = ref.relu, ref.relu_vjp
leaky_relu, leaky_relu_vjp = ref.leaky_relu, ref.leaky_relu_vjp
softmax, softmax_vjp = ref.softmax, ref.softmax_vjp
mse = ref.mse
softmax_cross_entropy = ref.softmax_cross_entropy
binary_cross_entropy = ref.binary_cross_entropy


# Losses have a target input: one gradient per input, None for the target.
def mse_vjp(yhat, y, cotangent):
    return ref.mse_vjp(yhat, y, cotangent), None


def softmax_cross_entropy_vjp(z, y, cotangent):
    return ref.softmax_cross_entropy_vjp(z, y, cotangent), None


def binary_cross_entropy_vjp(z, y, cotangent):
    return ref.binary_cross_entropy_vjp(z, y, cotangent), None
