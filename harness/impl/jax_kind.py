"""JAX functions, differentiated with jax.vjp and jax.jvp under jax.jit (float64 enabled)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from harness.impl import second_calls
from harness.impl.contract import Convention, Raw
from harness.impl.kind_base import Arrays, callable_problem, raw


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
        return callable_problem(conv, entry, "a JAX function")

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
        return raw([out], [], self._numpy)  # JAX arrays are immutable: nothing can change in place

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
        return raw(grads, [], self._numpy)

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
        return raw([self._compiled(conv, entry, params, "jvp")(args, tans)], [], self._numpy)
