"""torch callables as an implementation under test: a custom autograd.Function (where a Triton
or CUDA kernel would sit) for sigmoid, torch's built-ins for the rest. Checked through autograd
on CPU and, where a device exists, CUDA. gradproof verify --impl examples/torch_impl.py"""

import torch
import torch.nn.functional as F

from harness.impl import Implementation

impl = Implementation("torch")


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        a = torch.sigmoid(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a * (1 - a)


impl.add("sigmoid", Sigmoid.apply)
impl.add("tanh", torch.tanh)
impl.add("relu", torch.relu)
impl.add("softmax", lambda z: torch.softmax(z, dim=-1))
impl.add("mse", lambda yhat, y: F.mse_loss(yhat, y, reduction="none").mean(dim=-1))


@impl.op("leaky_relu")
def leaky_relu(z, alpha):
    return F.leaky_relu(z, alpha)


@impl.op("softmax_cross_entropy")
def softmax_cross_entropy(z, y):
    n = z.shape[-1]
    return F.cross_entropy(z.reshape(-1, n), y.reshape(-1, n), reduction="none").reshape(z.shape[:-1])


# Tensor ops: parameters (stride, padding, dim, keepdim, the activation g) come as keywords.
ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda y: F.leaky_relu(y, 0.1),
}


@impl.op("dense_layer")
def dense_layer(x, w, b, g):
    return ACTIVATIONS[g](F.linear(x, w, b))


impl.add("conv2d", lambda x, w, b, stride, padding: F.conv2d(x, w, b, stride=tuple(stride), padding=tuple(padding)))
impl.add("max_pool2d", lambda x, kernel, stride, padding: F.max_pool2d(x, tuple(kernel), tuple(stride), tuple(padding)))
impl.add("sum_dim", lambda x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim))
