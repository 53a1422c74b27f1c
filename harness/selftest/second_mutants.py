"""Second-order variants: torch custom Functions whose first derivatives are right and whose double
backward is not (or is, for the correct ones). Only a check of second derivatives can tell them apart
from a correct implementation."""

from __future__ import annotations

from typing import Any


def _softmax_function(symmetric_term: bool) -> Any:
    """softmax with a hand-written double backward: the backward is a Function of its own, whose backward
    gives the second derivatives; without `symmetric_term` it drops -g_i <v, y> from the output's part."""
    import torch

    class SoftmaxBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, y: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(y, g)
            return y * (g - (g * y).sum(-1, keepdim=True))

        @staticmethod
        def backward(ctx: Any, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            y, g = ctx.saved_tensors
            s = (g * y).sum(-1, keepdim=True)
            grad_g = y * (v - (v * y).sum(-1, keepdim=True))
            grad_y = v * (g - s)
            if symmetric_term:
                grad_y = grad_y - g * (v * y).sum(-1, keepdim=True)
            return grad_y, grad_g

    class Softmax(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, z: torch.Tensor) -> torch.Tensor:
            y = torch.softmax(z, dim=-1)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
            (y,) = ctx.saved_tensors
            return SoftmaxBackward.apply(y, g)

    return Softmax.apply


def _sigmoid_detached() -> Any:
    import torch

    class Sigmoid(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, z: torch.Tensor) -> torch.Tensor:
            y = torch.sigmoid(z)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
            (y,) = ctx.saved_tensors
            return (g * y * (1 - y)).detach()  # right values, cut from the graph: no second derivatives

    return Sigmoid.apply


def softmax_missing_symmetric_term(z: Any) -> Any:
    return _softmax_function(symmetric_term=False)(z)


def softmax_double_backward_by_hand(z: Any) -> Any:
    return _softmax_function(symmetric_term=True)(z)


def sigmoid_detached_backward(z: Any) -> Any:
    return _sigmoid_detached()(z)


def sigmoid_torch(z: Any) -> Any:
    import torch

    return torch.sigmoid(z)
