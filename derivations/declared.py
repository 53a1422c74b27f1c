"""Ops declared by their users: a forward over `Elementary`, input shapes and value ranges.

The declaration is all an op needs. The exact reference runs the forward at 80 digits with dual
numbers, as for the catalog's tensor ops; the error bound comes from the forward's own running-error
magnitudes (derivations/magnitudes.py); inputs are drawn per named region from the declared shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derivations import magnitudes
from derivations.elementary import FLOAT, MP, to_mp
from derivations.model import Arrays, Example, Input, Interval, Op, Params, Program, Source, named

# The magnitudes count every rounding of the declared program once; an implementation computing the
# same quantity another stable way, or a library function a few ULPs off, stays within this many times.
ROUNDINGS = 4.0
DEFAULT_DIMS = (1, 4)
DEFAULT_REGIONS: Mapping[str, tuple[float, float]] = {"typical": (-3.0, 3.0)}


class DeclarationError(ValueError):
    """A declared op that cannot be checked as written: one line saying why."""


Shape = tuple[str | int, ...]


@dataclass(frozen=True)
class Declaration:
    name: str
    forward: Callable[..., Any]  # forward(m, *inputs, **params), inputs in declared order
    shapes: Mapping[str, Shape]  # input name -> its axes: a dim name, drawn per example, or a size
    params: Mapping[str, Any]
    regions: Mapping[str, tuple[float, float]]  # region name -> range of every entry
    domains: Mapping[str, tuple[float, float]]  # input name -> its own range, within every region
    dims: Mapping[str, tuple[int, int]]  # dim name -> smallest and largest size
    differentiable: tuple[str, ...]

    def program(self, m: Any, arrays: Arrays, params: Params) -> Any:
        return self.forward(m, *(arrays[n] for n in self.shapes), **params)

    def entries(self, name: str, region: str) -> tuple[float, float]:
        lo, hi = self.regions[region]
        if name in self.domains:
            lo, hi = max(lo, self.domains[name][0]), min(hi, self.domains[name][1])
        if lo > hi:
            raise DeclarationError(f"{self.name}: input {name!r} has no values in region {region!r}")
        return lo, hi

    def strategy(self, region: str) -> st.SearchStrategy[Example]:
        names = sorted({d for shape in self.shapes.values() for d in shape if isinstance(d, str)})

        @st.composite
        def draw(data: st.DrawFn) -> Example:
            size = {d: data(st.integers(*self.dims.get(d, DEFAULT_DIMS))) for d in names}
            arrays = {}
            for name, shape in self.shapes.items():
                lo, hi = self.entries(name, region)
                dims = tuple(size[d] if isinstance(d, str) else d for d in shape)
                values = st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)
                arrays[name] = data(hnp.arrays(np.float64, dims, elements=values))
            return Example(arrays, dict(self.params), region)

        return draw()

    def bound(self, arrays: Arrays, params: Params, c: np.ndarray) -> dict[str, np.ndarray]:
        found = magnitudes.bound(self.program, self.differentiable, dict(arrays), dict(params), c)
        if not all(np.all(np.isfinite(v)) for v in found.values()):
            # An infinite bound would pass anything: refuse rather than check nothing.
            raise ArithmeticError(f"{self.name}: the error bound overflowed at this input")
        return found


def _try(decl: Declaration) -> None:
    """Run the forward once in float and at 80 digits on a small input, so that a forward the
    harness cannot evaluate fails at declaration with one line, not deep inside a check."""
    region = next(iter(decl.regions))
    arrays = {
        name: np.full(tuple(2 if isinstance(d, str) else d for d in shape), sum(decl.entries(name, region)) / 2)
        for name, shape in decl.shapes.items()
    }
    try:
        decl.program(FLOAT, arrays, dict(decl.params))
        decl.program(MP, {k: to_mp(v) for k, v in arrays.items()}, dict(decl.params))
    except AttributeError as exc:
        raise DeclarationError(f"{decl.name}: {exc}") from None
    except TypeError as exc:
        if "no callable" in str(exc):  # np.exp(x) on exact numbers
            raise DeclarationError(
                f"{decl.name}: the forward calls a NumPy function on the inputs ({exc}); "
                "write it with the namespace, m.exp(x)"
            ) from None
        raise


def declare(
    forward: Callable[..., Any],
    *,
    inputs: Mapping[str, Shape],
    params: Mapping[str, Any] | None = None,
    regions: Mapping[str, tuple[float, float]] | None = None,
    domains: Mapping[str, tuple[float, float]] | None = None,
    dims: Mapping[str, tuple[int, int]] | None = None,
    differentiable: tuple[str, ...] | None = None,
    name: str | None = None,
    title: str = "",
) -> Op:
    """An op from a forward written over `Elementary` and its inputs' shapes and ranges."""
    if not inputs:
        raise DeclarationError("an op needs at least one input")
    name = name or forward.__name__
    wrt = tuple(inputs) if differentiable is None else tuple(differentiable)
    unknown = [n for n in (*wrt, *(domains or {})) if n not in inputs]
    if unknown:
        raise DeclarationError(f"{name}: {', '.join(map(repr, unknown))} is not one of the inputs {list(inputs)}")
    decl = Declaration(
        name, forward, dict(inputs), dict(params or {}), dict(regions or DEFAULT_REGIONS), dict(domains or {}),
        dict(dims or {}), wrt,
    )  # fmt: skip
    _try(decl)
    module = getattr(forward, "__module__", "") or ""
    return Op(
        name=name,
        title=title or (forward.__doc__ or name).strip().splitlines()[0],
        source=Source(seed="declared by the user", section=f"{module}.{forward.__qualname__}", quote="", claims=()),
        inputs=tuple(
            Input(n, Interval(*decl.domains.get(n, (-np.inf, np.inf))), differentiable=n in wrt) for n in inputs
        ),
        engine=Program(
            forward=decl.program,
            strategy=decl.strategy,
            bound=decl.bound,
            roundings=lambda arrays, params: ROUNDINGS,
        ),
        regions=named(*decl.regions),
        params_doc={k: f"keyword, {v!r} in every check" for k, v in decl.params.items()},
        notes=(
            "Declared by the user; the tolerance is "
            f"{ROUNDINGS:g} u times the forward's running-error magnitudes (derivations/magnitudes.py)."
        ),
    )
