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
