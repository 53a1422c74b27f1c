"""torch callables (a function, or a custom autograd.Function's .apply) through torch's autograd."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.impl import second_calls
from harness.impl.contract import ContractError, Convention, NotOffered, Raw
from harness.impl.kind_base import Arrays, callable_problem, changed, raw


class TorchKind:
    """A torch callable (a function, or a custom autograd.Function's .apply) through autograd."""

    name = "torch"
    HALF = ("float16", "bfloat16")
    watch = True

    def targets(self) -> list[tuple[str, str]]:
        cpu = [("cpu", "float32"), ("cpu", "float64")]
        return cpu + [("cuda", t) for t in ("float32", "float64", *self.HALF)]

    def unavailable(self, device: str, dtype: str) -> str | None:
        import torch

        if device == "cuda" and not torch.cuda.is_available():
            return "no CUDA device"
        return None

    def check_entry(self, conv: Convention, entry: Any) -> str | None:
        return callable_problem(conv, entry, "a torch callable")

    def has_jvp(self, entry: Any) -> bool:
        """Forward-mode AD runs through any torch function; a custom autograd.Function only with its own jvp."""
        import torch

        owner = getattr(entry, "__self__", None)
        if isinstance(owner, type) and issubclass(owner, torch.autograd.Function):
            return owner.jvp is not torch.autograd.Function.jvp
        return True

    def has_second_order(self, entry: Any) -> bool:
        return True  # a backward that cannot be differentiated says so when asked, and that is the finding

    def vjp_vjp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        return second_calls.torch_vjp_vjp(self, conv, entry, arrays, params, *request)

    def hvp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        return second_calls.torch_hvp(self, conv, entry, arrays, params, *request)

    @staticmethod
    def _numpy(t: Any) -> tuple[np.ndarray, str]:
        import torch

        if not isinstance(t, torch.Tensor):
            raise ContractError(f"returned {type(t).__name__}, not a torch.Tensor")
        host = t.detach().cpu()
        # NumPy has no bfloat16: keep the name, carry the values as float64 (exact).
        return host.double().numpy(), str(host.dtype).removeprefix("torch.")

    def _tensors(self, conv: Convention, arrays: Arrays, device: str, dtype: str, grad: bool) -> list[Any]:
        import torch

        out = []
        for name, diff in zip(conv.inputs, conv.differentiable, strict=True):
            t = torch.from_numpy(np.array(arrays[name], dtype=np.float64)).to(
                device=device, dtype=getattr(torch, dtype)
            )
            out.append(t.requires_grad_(grad and diff))
        return out

    def _snapshot(self, tensors: list[Any]) -> list[np.ndarray]:
        return [t.detach().cpu().double().numpy().copy() for t in tensors] if self.watch else []

    def forward(
        self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], device: str, dtype: str
    ) -> Raw:
        import torch

        tensors = self._tensors(conv, arrays, device, dtype, False)
        before = self._snapshot(tensors)
        with torch.no_grad():
            out = entry(*tensors, **params)
        return raw([out], changed(list(conv.inputs), before, self._snapshot(tensors)), self._numpy)

    def vjp(
        self,
        conv: Convention,
        entry: Any,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        device: str,
        dtype: str,
    ) -> Raw:
        import torch

        tensors = self._tensors(conv, arrays, device, dtype, True)
        before = self._snapshot(tensors)
        out = entry(*tensors, **params)
        if not isinstance(out, torch.Tensor):
            raise ContractError(f"returned {type(out).__name__}, not a torch.Tensor")
        cot = torch.from_numpy(np.array(cotangent, dtype=np.float64)).to(out.device, out.dtype)
        cot_before = self._snapshot([cot])
        wrt = [t for t, diff in zip(tensors, conv.differentiable, strict=True) if diff]
        found = list(torch.autograd.grad(out, wrt, grad_outputs=cot, allow_unused=True))
        grads: list[Any] = []
        for t, diff in zip(tensors, conv.differentiable, strict=True):
            if diff:
                g = found.pop(0)
                grads.append(torch.zeros_like(t) if g is None else g)  # unused: the gradient is zero
            else:
                grads.append(None)
        after = self._snapshot(tensors)
        modified = changed(list(conv.inputs), before, after) + changed(["cotangent"], cot_before, self._snapshot([cot]))
        return raw(grads, modified, self._numpy)

    def jvp(
        self,
        conv: Convention,
        entry: Any,
        arrays: Arrays,
        params: dict[str, float],
        tangents: dict[str, np.ndarray],
        device: str,
        dtype: str,
    ) -> Raw:
        """Forward-mode AD (dual tensors), which runs a custom autograd.Function's own jvp."""
        import torch
        import torch.autograd.forward_ad as fwad

        tensors = self._tensors(conv, arrays, device, dtype, False)
        before = self._snapshot(tensors)
        with fwad.dual_level():
            args = [
                fwad.make_dual(t, torch.from_numpy(np.array(tangents[n], dtype=np.float64)).to(t.device, t.dtype))
                if diff
                else t
                for t, n, diff in zip(tensors, conv.inputs, conv.differentiable, strict=True)
            ]
            try:
                out = entry(*args, **params)
            except NotImplementedError as exc:
                if second_calls.NO_JVP in str(exc):
                    raise NotOffered("a custom autograd.Function without a jvp: forward mode is not offered") from None
                raise
            if not isinstance(out, torch.Tensor):
                raise ContractError(f"returned {type(out).__name__}, not a torch.Tensor")
            primal, tangent = fwad.unpack_dual(out)
            found = torch.zeros_like(primal) if tangent is None else tangent  # no dependence: J u is zero
        modified = changed(list(conv.inputs), before, self._snapshot(tensors))
        return raw([found], modified, self._numpy)
