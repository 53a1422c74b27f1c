"""JAX functions, differentiated with jax.vjp and jax.jvp under jax.jit (float64 enabled); a catalog closed
form's calls are evaluated at bucketed shapes (shape_buckets), so that jit compiles a few shapes per op."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from harness.impl import shape_buckets
from harness.impl.contract import Convention, Raw
from harness.impl.kind_base import Arrays, callable_problem, raw

Compiled = Callable[..., Any]
# "exact": only where the results were bitwise those at the real shapes in every case measured (elementwise
# ops' forward, VJP and JVP); XLA's rounding of a reduced row, and of some second-order calls, depends on the
# shape it compiles for (tests/impls/test_jax_buckets.py, benchmarks/bench_jax_shapes.py).
BUCKETS = ("off", "exact", "all")

# How each method's compiled function takes the inputs xs, the output-shaped w (a cotangent or weights) and
# the input-shaped ts (tangents or directions), and its results as one flat list.
_CALLS: dict[str, Callable[[Compiled, tuple[Any, ...], Any, tuple[Any, ...]], list[Any]]] = {
    "forward": lambda fn, xs, w, ts: [fn(*xs)],
    "vjp": lambda fn, xs, w, ts: list(fn(xs, w)),
    "jvp": lambda fn, xs, w, ts: [fn(xs, ts)],
    "vjp_vjp": lambda fn, xs, w, ts: [*(found := fn(xs, w, ts))[0], found[1]],
    "hvp": lambda fn, xs, w, ts: list(fn(xs, w, ts)),
}


class JaxKind:
    """A function of jax.numpy arrays, differentiated with jax.vjp (float64 enabled)."""

    name = "jax"
    watch = False  # JAX arrays are immutable: nothing can change in place

    def __init__(self, *, buckets: str = "exact") -> None:
        """`buckets`: "off" calls at the shapes given; "exact" buckets the first-order calls of elementwise ops,
        bitwise the same results; "all" row ops and second-order calls too, within an ulp or two (shape_buckets)."""
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 checks need it; this is the worker's own jax
        self._cache: dict[tuple[object, ...], Any] = {}
        if buckets not in BUCKETS:
            raise ValueError(f"buckets={buckets!r}; valid: {', '.join(BUCKETS)}")
        self.buckets = buckets

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
        """The gradient of <direction, vjp(x, w)>: one part per input (None where not differentiable), then w's."""
        weights, direction, _device, dtype = request
        found = self._evaluate(conv, entry, params, "vjp_vjp", dtype, arrays, weights, direction)
        return raw([*self._per_input(conv, found[:-1]), found[-1]], [], self._numpy)

    def hvp(self, conv: Convention, entry: Any, arrays: Arrays, params: dict[str, float], *request: Any) -> Raw:
        """The tangent of vjp(x, weights) for the tangents of x, one part per input."""
        weights, tangents, _device, dtype = request
        found = self._evaluate(conv, entry, params, "hvp", dtype, arrays, weights, tangents)
        return raw(self._per_input(conv, found), [], self._numpy)

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
        found = self._evaluate(conv, entry, params, "forward", dtype, arrays, None, {})
        return raw(found, [], self._numpy)  # JAX arrays are immutable: nothing can change in place

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
        found = self._evaluate(conv, entry, params, "vjp", dtype, arrays, cotangent, {})
        return raw(self._per_input(conv, found), [], self._numpy)

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
        return raw(self._evaluate(conv, entry, params, "jvp", dtype, arrays, None, tangents), [], self._numpy)

    @staticmethod
    def _per_input(conv: Convention, found: list[Any]) -> list[Any]:
        """One result per differentiable input spread over all inputs, None at the others."""
        parts = iter(found)
        return [next(parts) if diff else None for diff in conv.differentiable]

    def _evaluate(
        self,
        conv: Convention,
        entry: Any,
        params: dict[str, float],
        method: str,
        dtype: str,
        arrays: Arrays,
        w: np.ndarray | None,
        by_input: Arrays,
    ) -> list[Any]:
        """One call's results: at bucketed shapes where `buckets` and shape_buckets allow, else at the shapes given.
        `w` is output-shaped (a cotangent, weights); `by_input` holds one input-shaped array per differentiable
        input (tangents, directions)."""
        xs = [arrays[n] for n in conv.inputs]
        ts = [by_input[n] for n, diff in zip(conv.inputs, conv.differentiable, strict=True) if diff and by_input]
        like_output = [] if w is None else [w]
        wanted = self.buckets == "all" or (self.buckets == "exact" and method not in ("vjp_vjp", "hvp"))
        plan = shape_buckets.plan(conv, [*xs, *ts], like_output, rows=self.buckets == "all") if wanted else None
        if plan is not None:
            real = self._bucketed(plan, conv, entry, params, method, dtype, xs, w, ts)
            if real is not None:
                return real
        # Cast in NumPy, as jnp.asarray(x, dtype) does before the conversion it compiles for each shape.
        cast = [np.asarray(a, dtype=dtype) for a in xs], [np.asarray(a, dtype=dtype) for a in ts]
        return self._call(
            conv, entry, params, method, cast[0], [] if w is None else [np.asarray(w, dtype=dtype)], cast[1]
        )

    def _bucketed(
        self,
        plan: shape_buckets.Buckets,
        conv: Convention,
        entry: Any,
        params: dict[str, float],
        method: str,
        dtype: str,
        xs: list[np.ndarray],
        w: np.ndarray | None,
        ts: list[np.ndarray],
    ) -> list[Any] | None:
        """The real part of each result of the padded call; None when that call raised or gave results of
        other shapes than the structure says, so that the call at the real shapes shows what it does."""
        padded_xs = [plan.pad_in(a, dtype) for a in xs]
        padded_ts = [plan.pad_in(a, dtype) for a in ts]
        padded_w = [] if w is None else [plan.pad_out(w, dtype)]
        try:
            found = [np.asarray(r) for r in self._call(conv, entry, params, method, padded_xs, padded_w, padded_ts)]
        except Exception:  # whatever it was, the call at the real shapes raises it again, or does not
            return None
        like_input = [method not in ("forward", "jvp")] * len(found)
        if method == "vjp_vjp":
            like_input[-1] = False  # w's part is shaped like the output
        real = [plan.unpad(r, li) for r, li in zip(found, like_input, strict=True)]
        return None if any(r is None for r in real) else real

    def _call(
        self,
        conv: Convention,
        entry: Any,
        params: dict[str, float],
        method: str,
        xs: list[np.ndarray],
        w: list[np.ndarray],
        ts: list[np.ndarray],
    ) -> list[Any]:
        """The compiled call on NumPy arrays of the dtype wanted: jit moves them to the device itself, where
        jnp.asarray would compile a copy (its `stage`) for every shape."""
        return _CALLS[method](self._compiled(conv, entry, params, method), tuple(xs), w[0] if w else None, tuple(ts))
