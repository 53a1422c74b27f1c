"""torch versions of the update rules (C4-C6), written with the arithmetic of torch's own optimisers
and clipping functions, as functions of their inputs (torch's mutate in place under no_grad, which
no autograd can differentiate); gradients come from autograd.

- momentum: torch.optim.SGD(lr=η, momentum=ρ)'s step (dampening 0, no Nesterov). torch keeps
  buf = Δw/η where the note keeps Δw_t = η g_t + ρ Δw_{t−1}: one step from the note's state is
  buf = (Δw/η)·ρ + g, p − η·buf, and the new state η·buf. The same as long as η is constant (C4).
- Adagrad: torch.optim.Adagrad's step with the note's sum of |g| where torch sums g², and no root:
  torch's own rule, √(Σg²) + eps, agrees with the note's on the first step only (C5), so it is not
  this op.
- clipping: torch.nn.utils.clip_grad_value_ (clamp) and clip_grad_norm_ (c / (||g|| + eps), clamped
  at 1; torch's eps is 1e-6 and its norm squares without scaling, the norm of the one norm taken).
  The quotient is formed only where it is below 1: torch's eps is fixed at 1e-6, the note's rule has
  none, and at eps = 0 a zero gradient would send 0 * inf = NaN back through c / 0, an artefact of
  running torch's formula outside torch's setting, not something torch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def torch_update_rule_ops() -> dict[str, Callable[..., Any]]:
    import torch

    def momentum_step(w: Any, delta: Any, g: Any, eta: float, rho: float) -> Any:
        buf = (delta / eta).mul(rho).add(g)  # buf.mul_(momentum).add_(grad)
        return torch.stack([w.add(buf, alpha=-eta), buf.mul(eta)])  # param.add_(buf, alpha=-lr)

    def adagrad_step(w: Any, s: Any, g: Any, eta: float, eps: float) -> Any:
        total = s.add(g.abs())  # state_sum.addcmul_(grad, grad, value=1), |g| for g²
        return torch.stack([w.addcdiv(g, total.add(eps), value=-eta), total])  # std = state_sum(.sqrt()).add_(eps)

    def clip_by_value(g: Any, c: float) -> Any:
        return g.clamp(min=-c, max=c)

    def clip_by_norm(g: Any, c: float, eps: float) -> Any:
        norm = torch.linalg.vector_norm(torch.linalg.vector_norm(g).reshape(1))  # _get_total_norm over [g]
        denom = norm + eps
        scaled = denom > c  # clamp(c / denom, max=1) < 1 exactly here
        safe = torch.where(scaled, denom, torch.ones_like(denom))
        return g.mul(torch.where(scaled, c / safe, torch.ones_like(denom)))  # _clip_grads_with_norm_

    return {
        "momentum_step": momentum_step,
        "adagrad_step": adagrad_step,
        "clip_by_value": clip_by_value,
        "clip_by_norm": clip_by_norm,
    }
