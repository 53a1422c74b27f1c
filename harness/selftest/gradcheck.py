"""torch.autograd.gradcheck (float64, default settings) on the same variants and inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from derivations.model import Example, Op
from harness.impl.contract import Convention, gradients
from harness.selftest.mutants import Variant


def _function(v: Variant, conv: Convention, params: dict[str, float]) -> Any:
    import torch

    fwd, vjp = v.pair()

    class Wrapped(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *args: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(*args)
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

    return Wrapped.apply


def catches(v: Variant, d: Op, examples: Sequence[Example]) -> tuple[bool, str]:
    """Whether gradcheck rejects the variant at any of the examples, and what it said first."""
    import torch

    conv = Convention.of(d)
    for k, ex in enumerate(examples):
        inputs = tuple(
            torch.tensor(ex.arrays[i.name], dtype=torch.float64, requires_grad=i.differentiable) for i in d.inputs
        )
        fn = _function(v, conv, ex.params)
        try:
            torch.autograd.gradcheck(fn, inputs)
        except Exception as exc:  # GradcheckError, or whatever the implementation raised
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return True, f"example {k} ({ex.region}): {type(exc).__name__}: {first[:160]}"
    return False, ""
