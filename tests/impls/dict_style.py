"""The dict form, for torch: a custom autograd.Function and a plain torch function."""

import torch
import torch.nn.functional as F

KIND = "torch"


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        a = torch.sigmoid(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a * (1 - a)


OPS = {
    "sigmoid": Sigmoid.apply,
    "mse": lambda yhat, y: F.mse_loss(yhat, y, reduction="none").mean(dim=-1),
}
