"""How each kind of implementation is called: plain NumPy pairs, torch autograd, jax.vjp.

Every call copies its arguments first and reports which ones the implementation changed in
place; results come back as float64 together with their own dtype and shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np

from harness.impl import second_calls
from harness.impl.contract import ContractError, Convention, NotOffered, Raw, gradients

Arrays = Mapping[str, np.ndarray]


class Kind(Protocol):
    name: str
    watch: bool

    def targets(self) -> list[tuple[str, str]]: ...

    def unavailable(self, device: str, dtype: str) -> str | None: ...

    def check_entry(self, conv: Convention, entry: Any) -> str | None:
        """Why this op's entry cannot be called as the convention says, or None."""
        ...

    def has_jvp(self, entry: Any) -> bool:
        """Whether a Jacobian-vector product can be asked of this entry."""
        ...

    def has_second_order(self, entry: Any) -> bool:
        """Whether a double backward and a Hessian-vector product can be asked of this entry."""
        ...

    def forward(
        self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], device: str, dtype: str
    ) -> Raw: ...

    def vjp(
        self,
        conv: Convention,
        entry: Any,
        arrays: Arrays,
        params: dict[str, float],
        cotangent: np.ndarray,
        device: str,
        dtype: str,
    ) -> Raw: ...

    def jvp(
        self,
        conv: Convention,
        entry: Any,
        arrays: Arrays,
        params: dict[str, float],
        tangents: dict[str, np.ndarray],
        device: str,
        dtype: str,
    ) -> Raw: ...

    def vjp_vjp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        """`request`: the cotangent w, the direction by input, device, dtype; values: one per input, then w's."""
        ...

    def hvp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        """`request`: the weights w, the tangent by input, device, dtype; values: one per input."""
        ...


def _tangent_names(conv: Convention) -> tuple[str, ...]:
    return tuple(f"{n}_dot" for n, diff in zip(conv.inputs, conv.differentiable, strict=True) if diff)


def _raw(values: list[Any], modified: list[str], to_numpy: Callable[[Any], tuple[np.ndarray, str]]) -> Raw:
    """`to_numpy` gives the values and the name of the dtype the implementation returned."""
    found = [None if v is None else to_numpy(v) for v in values]
    return Raw(
        values=tuple(None if f is None else np.asarray(f[0], dtype=np.float64) for f in found),
        dtypes=tuple(None if f is None else f[1] for f in found),
        shapes=tuple(None if f is None else tuple(np.shape(f[0])) for f in found),
        modified=tuple(modified),
    )


def _from_numpy(value: Any) -> tuple[np.ndarray, str]:
    arr = np.asarray(value)
    return arr, str(arr.dtype)


def _changed(names: list[str], before: list[np.ndarray], after: list[np.ndarray]) -> list[str]:
    if not before:  # not watched (the built-in implementations)
        return []
    return [n for n, b, a in zip(names, before, after, strict=True) if not np.array_equal(b, a, equal_nan=True)]


class NumpyKind:
    """A pair forward(*inputs, **params), vjp(*inputs, cotangent, **params) over NumPy arrays."""

    name = "numpy"
    watch = True  # compare the arguments before and after each call (the inplace check needs it)

    def targets(self) -> list[tuple[str, str]]:
        return [("cpu", "float32"), ("cpu", "float64")]

    def unavailable(self, device: str, dtype: str) -> str | None:
        return None

    def check_entry(self, conv: Convention, entry: Any) -> str | None:
        from harness.impl.contract import signature_problem

        fwd, vjp, jvp = entry
        if vjp is None:
            return f"a forward but no vjp (define {conv.op}_vjp or register one)"
        if not callable(fwd) or not callable(vjp) or (jvp is not None and not callable(jvp)):
            return "needs a callable forward and a callable vjp (and jvp, when given)"
        return (
            signature_problem(fwd, "forward", conv.inputs, conv.params)
            or signature_problem(vjp, "vjp", (*conv.inputs, "cotangent"), conv.params)
            or (jvp and signature_problem(jvp, "jvp", (*conv.inputs, *_tangent_names(conv)), conv.params))
            or None
        )

    def has_jvp(self, entry: Any) -> bool:
        return entry[2] is not None

    def has_second_order(self, entry: Any) -> bool:
        return False  # a pair has no second derivatives to ask for

    def vjp_vjp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        raise ContractError("a NumPy pair gives no second order")

    hvp = vjp_vjp

    def _call(
        self,
        fn: Callable[..., Any],
        conv: Convention,
        arrays: Arrays,
        extra: list[np.ndarray],
        params: dict[str, float],
        dtype: str,
    ) -> tuple[Any, list[str]]:
        args = [np.array(arrays[n], dtype=dtype) for n in conv.inputs] + [np.array(e, dtype=dtype) for e in extra]
        names = [*conv.inputs, *(["cotangent"] if len(extra) == 1 else _tangent_names(conv))][: len(args)]
        before = [a.copy() for a in args] if self.watch else []
        out = fn(*args, **params)
        return out, _changed(names, before, args)

    def forward(
        self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], device: str, dtype: str
    ) -> Raw:
        out, modified = self._call(entry[0], conv, arrays, [], params, dtype)
        return _raw([out], modified, _from_numpy)

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
        out, modified = self._call(entry[1], conv, arrays, [cotangent], params, dtype)
        return _raw(gradients(conv, out), modified, _from_numpy)

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
        wrt = [n for n, diff in zip(conv.inputs, conv.differentiable, strict=True) if diff]
        out, modified = self._call(entry[2], conv, arrays, [tangents[n] for n in wrt], params, dtype)
        return _raw([out], modified, _from_numpy)


def _callable_problem(conv: Convention, entry: Any, what: str) -> str | None:
    """Why one callable cannot serve as `conv`'s op (not callable, wrong signature), or None."""
    from harness.impl.contract import signature_problem

    if not callable(entry):
        return f"needs {what}, got {type(entry).__name__}"
    return signature_problem(entry, conv.op, conv.inputs, conv.params)


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
        return _callable_problem(conv, entry, "a torch callable")

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
        return _raw([out], _changed(list(conv.inputs), before, self._snapshot(tensors)), self._numpy)

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
        modified = _changed(list(conv.inputs), before, after) + _changed(
            ["cotangent"], cot_before, self._snapshot([cot])
        )
        return _raw(grads, modified, self._numpy)

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
        modified = _changed(list(conv.inputs), before, self._snapshot(tensors))
        return _raw([found], modified, self._numpy)


class JaxKind:
    """A function of jax.numpy arrays, differentiated with jax.vjp (float64 enabled)."""

    name = "jax"
    watch = False  # JAX arrays are immutable: nothing can change in place

    def __init__(self) -> None:
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 checks need it; this is the worker's own jax
        self._cache: dict[tuple[object, ...], Any] = {}

    def targets(self) -> list[tuple[str, str]]:
        return [("cpu", "float32"), ("cpu", "float64")]

    def unavailable(self, device: str, dtype: str) -> str | None:
        return None

    def check_entry(self, conv: Convention, entry: Any) -> str | None:
        return _callable_problem(conv, entry, "a JAX function")

    def has_jvp(self, entry: Any) -> bool:
        return True

    def has_second_order(self, entry: Any) -> bool:
        return True

    def vjp_vjp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        return second_calls.jax_second(self, conv, entry, arrays, params, "vjp_vjp", *request)

    def hvp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        return second_calls.jax_second(self, conv, entry, arrays, params, "hvp", *request)

    @staticmethod
    def _numpy(value: Any) -> tuple[np.ndarray, str]:
        arr = np.asarray(value)
        return arr, str(arr.dtype)

    def _compiled(self, conv: Convention, entry: Any, params: dict[str, float], method: str) -> Any:
        """jax.jit of the forward or of the whole pullback, one per op and parameter values:
        op-by-op dispatch compiles every primitive for every new shape, several times slower."""
        import jax

        key = (conv.op, method, tuple(sorted(params.items())))
        if key not in self._cache:
            wrt = [k for k, diff in enumerate(conv.differentiable) if diff]

            def forward(*args: Any) -> Any:
                return entry(*args, **params)

            def of_differentiable(args: tuple[Any, ...]) -> Callable[..., Any]:
                """The op as a function of its differentiable inputs alone, the others held at `args`."""

                def f(*diff_args: Any) -> Any:
                    full = list(args)
                    for k, a in zip(wrt, diff_args, strict=True):
                        full[k] = a
                    return entry(*full, **params)

                return f

            def pullback(args: tuple[Any, ...], cotangent: Any) -> Any:
                _, pull = jax.vjp(of_differentiable(args), *(args[k] for k in wrt))
                return pull(cotangent)

            def pushforward(args: tuple[Any, ...], tangents: tuple[Any, ...]) -> Any:
                return jax.jvp(of_differentiable(args), tuple(args[k] for k in wrt), tangents)[1]

            def double_backward(args: tuple[Any, ...], cotangent: Any, directions: tuple[Any, ...]) -> Any:
                def first(diff_args: tuple[Any, ...], w: Any) -> Any:
                    return jax.vjp(of_differentiable(args), *diff_args)[1](w)

                return jax.vjp(first, tuple(args[k] for k in wrt), cotangent)[1](directions)

            def hessian_vector(args: tuple[Any, ...], weights: Any, tangents: tuple[Any, ...]) -> Any:
                def first(*diff_args: Any) -> Any:
                    return jax.vjp(of_differentiable(args), *diff_args)[1](weights)

                return jax.jvp(first, tuple(args[k] for k in wrt), tangents)[1]

            chosen = {
                "forward": forward,
                "vjp": pullback,
                "jvp": pushforward,
                "vjp_vjp": double_backward,
                "hvp": hessian_vector,
            }[method]
            self._cache[key] = jax.jit(chosen)
        return self._cache[key]

    def forward(
        self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], device: str, dtype: str
    ) -> Raw:
        import jax.numpy as jnp

        args = [jnp.asarray(arrays[n], dtype=dtype) for n in conv.inputs]
        out = self._compiled(conv, entry, params, "forward")(*args)
        return _raw([out], [], self._numpy)  # JAX arrays are immutable: nothing can change in place

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
        import jax.numpy as jnp

        args = tuple(jnp.asarray(arrays[n], dtype=dtype) for n in conv.inputs)
        found = list(self._compiled(conv, entry, params, "vjp")(args, jnp.asarray(cotangent, dtype=dtype)))
        grads = [found.pop(0) if diff else None for diff in conv.differentiable]
        return _raw(grads, [], self._numpy)

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
        import jax.numpy as jnp

        args = tuple(jnp.asarray(arrays[n], dtype=dtype) for n in conv.inputs)
        wrt = [n for n, diff in zip(conv.inputs, conv.differentiable, strict=True) if diff]
        tans = tuple(jnp.asarray(tangents[n], dtype=dtype) for n in wrt)
        return _raw([self._compiled(conv, entry, params, "jvp")(args, tans)], [], self._numpy)


KINDS: dict[str, Callable[[], Kind]] = {"numpy": NumpyKind, "torch": TorchKind, "jax": JaxKind}
