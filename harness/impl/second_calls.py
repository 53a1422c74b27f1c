"""Second-order calls of the torch kind (the JAX kind's are in jax_kind.py): reverse over reverse (a double backward, as
`create_graph=True` and `gradgradcheck` do) and forward over reverse (the tangent of a backward,
as Hessian-vector products are formed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from harness.impl.contract import ContractError, Convention, NotOffered, Raw
from harness.impl.kind_base import raw

Arrays = Mapping[str, np.ndarray]


NO_JVP = "jvp function for custom autograd.Function"  # torch's words when forward mode meets a Function without one


def _as_tensor(like: Any, values: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(np.array(values, dtype=np.float64)).to(like.device, like.dtype)


def _first_backward(
    kind: Any, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], dev: str, dt: str
) -> tuple[list[Any], Any]:
    """The inputs as tensors that need a gradient, and the output."""
    import torch

    tensors = kind._tensors(conv, arrays, dev, dt, True)
    out = entry(*tensors, **params)
    if not isinstance(out, torch.Tensor):
        raise ContractError(f"returned {type(out).__name__}, not a torch.Tensor")
    return tensors, out


def _grad(outputs: Any, inputs: list[Any], **how: Any) -> list[Any]:
    import torch

    try:
        return list(torch.autograd.grad(outputs, inputs, allow_unused=True, **how))
    except RuntimeError as exc:
        if "once_differentiable" in str(exc):
            raise NotOffered(f"its backward cannot be differentiated: {exc}") from None
        raise
    except NotImplementedError as exc:
        if NO_JVP in str(exc):
            raise NotOffered("a custom autograd.Function in its backward has no jvp: no forward over reverse") from None
        raise


def _per_input(kind: Any, conv: Convention, tensors: list[Any], found: list[Any]) -> list[Any]:
    import torch

    out: list[Any] = []
    for t, diff in zip(tensors, conv.differentiable, strict=True):
        if diff:
            g = found.pop(0)
            out.append(torch.zeros_like(t) if g is None else g)  # no dependence: that part is zero
        else:
            out.append(None)
    return out


def torch_vjp_vjp(
    kind: Any, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any
) -> Raw:
    """The gradient of <v, vjp(x, w)> with respect to x and w, both through torch's autograd."""
    import torch

    weights, direction, device, dtype = request
    tensors, out = _first_backward(kind, conv, entry, arrays, params, device, dtype)
    w = _as_tensor(out, weights).requires_grad_(True)
    wrt = [t for t, diff in zip(tensors, conv.differentiable, strict=True) if diff]
    first = _grad(out, wrt, grad_outputs=w, create_graph=True)
    if any(g is not None and type(g.grad_fn).__name__ == "Error" for g in first):
        # torch's DelayedError node: differentiating through it reaches none of the inputs, and a silent zero
        # would read as a wrong second derivative where there is none on offer.
        raise NotOffered("its backward cannot be differentiated (@once_differentiable)")
    names = [n for n, diff in zip(conv.inputs, conv.differentiable, strict=True) if diff]
    total = sum(
        ((g * _as_tensor(g, direction[n])).sum() for g, n in zip(first, names, strict=True) if g is not None),
        torch.zeros((), dtype=out.dtype, device=out.device),
    )
    if not total.requires_grad:  # the backward ignores both x and w: every second-order part is zero
        found: list[Any] = [None] * (len(wrt) + 1)
    else:
        found = _grad(total, [*wrt, w])
    w_part = torch.zeros_like(w) if found[-1] is None else found[-1]
    return kind_raw(kind, [*_per_input(kind, conv, tensors, found[:-1]), w_part])


def torch_hvp(kind: Any, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
    """The forward-mode tangent of vjp(x, w) for tangents of x: the backward runs on dual tensors."""
    import torch.autograd.forward_ad as fwad

    weights, tangents, device, dtype = request
    with fwad.dual_level():
        tensors = kind._tensors(conv, arrays, device, dtype, True)
        duals = [
            fwad.make_dual(t, _as_tensor(t, tangents[n])) if diff else t
            for t, n, diff in zip(tensors, conv.inputs, conv.differentiable, strict=True)
        ]
        try:
            out = entry(*duals, **params)
        except NotImplementedError as exc:
            if NO_JVP in str(exc):
                raise NotOffered("a custom autograd.Function without a jvp: no forward over reverse") from None
            raise
        wrt = [t for t, diff in zip(duals, conv.differentiable, strict=True) if diff]
        first = _grad(out, wrt, grad_outputs=_as_tensor(out, weights))
        found = [None if g is None else fwad.unpack_dual(g).tangent for g in first]
        return kind_raw(kind, _per_input(kind, conv, tensors, found))


def kind_raw(kind: Any, values: list[Any]) -> Raw:
    return raw(values, [], kind._numpy)
