"""torch.autograd.gradcheck (float64, default settings; forward AD too where the op has a jvp) on the same
variants and inputs, and gradgradcheck on the torch variants (second order)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from derivations.model import Example, Op
from harness.backends import numpy_ref as ref
from harness.impl.contract import Convention, gradients
from harness.selftest.mutants import Variant


def _function(v: Variant, conv: Convention, params: dict[str, float]) -> Any:
    import torch

    fwd, vjp = v.pair()
    jvp = forward_mode(v)

    class Wrapped(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *args: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(*args)
            ctx.save_for_forward(*args)
            # Views, not copies: what the implementation does to its arguments, gradcheck sees.
            out = fwd(*(a.detach().numpy() for a in args), **params)
            return torch.from_numpy(np.array(out, dtype=np.float64))

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
            arrays = [a.detach().numpy() for a in ctx.saved_tensors]
            grads = gradients(conv, vjp(*arrays, g.detach().numpy(), **params))
            return tuple(
                torch.from_numpy(np.array(gr, dtype=np.float64)) if diff and gr is not None else None
                for gr, diff in zip(grads, conv.differentiable, strict=True)
            )

        @staticmethod
        def jvp(ctx: Any, *tangents: torch.Tensor) -> torch.Tensor:
            assert jvp is not None  # gradcheck asks only with check_forward_ad, set where there is one
            arrays = [a.detach().numpy() for a in ctx.saved_tensors]
            dots = [t.detach().numpy() for t, diff in zip(tangents, conv.differentiable, strict=True) if diff]
            return torch.from_numpy(np.array(jvp(*arrays, *dots, **params), dtype=np.float64))

    return Wrapped.apply


def forward_mode(v: Variant) -> Any:
    """The variant's jvp (or the reference's), None where the op has none: gradcheck then checks reverse mode only."""
    return v.jvp or ref.OPS[v.op].jvp


def catches(v: Variant, d: Op, examples: Sequence[Example]) -> tuple[bool, str]:
    """Whether gradcheck rejects the variant at any of the examples, and what it said first."""
    import torch

    conv = Convention.of(d)
    for k, ex in enumerate(examples):
        inputs = tuple(
            torch.tensor(ex.arrays[i.name], dtype=torch.float64, requires_grad=i.differentiable) for i in d.inputs
        )
        try:
            if v.torch is not None:  # a torch variant: its own autograd, second order by gradgradcheck
                torch_fn: Any = v.torch
                torch.autograd.gradcheck(torch_fn, inputs)
                torch.autograd.gradgradcheck(torch_fn, inputs)
                continue
            fn = _function(v, conv, ex.params)
            torch.autograd.gradcheck(fn, inputs, check_forward_ad=forward_mode(v) is not None)
        except Exception as exc:  # GradcheckError, or whatever the implementation raised
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return True, f"example {k} ({ex.region}): {type(exc).__name__}: {first[:160]}"
    return False, ""
