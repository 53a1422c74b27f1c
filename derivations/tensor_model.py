"""The record for ops over whole tensors: layers, networks, convolutions, pooling, reductions.

An elementwise or row op (model.Derivation) is checked entry by entry from SymPy. A tensor op
has several differentiable inputs (x, W, b) and integer parameters (stride, dim, k), so its
forward is written once over NumPy arrays and a small namespace of elementary functions
(`Elementary`): the same declaration runs in float64 and, with mpmath numbers in object
arrays, as the exact reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from hypothesis import strategies as st

from derivations.model import Example, Input, Source

Arrays = Mapping[str, np.ndarray]
Params = Mapping[str, Any]


class Elementary(Protocol):
    """Elementwise functions over arrays of floats or of mpmath numbers.

    Everything else a forward needs (+, *, @, sum, max, where, sliding windows) is plain
    NumPy, which works on object arrays as it does on float arrays.
    """

    def exp(self, x: Any) -> Any: ...
    def log(self, x: Any) -> Any: ...
    def log1p(self, x: Any) -> Any: ...
    def tanh(self, x: Any) -> Any: ...
    def sqrt(self, x: Any) -> Any: ...
    def sigmoid(self, x: Any) -> Any: ...


# forward(m, arrays, params) -> the output array, the notes' formula as written.
TensorForward = Callable[[Elementary, Arrays, Params], np.ndarray]
# stated(m, arrays, params, cotangent) -> {input name: gradient}, the notes' gradient formulas.
TensorStated = Callable[[Elementary, Arrays, Params, np.ndarray], dict[str, np.ndarray]]
# bound(arrays, params, cotangent) -> {"out": ..., input name: ...}: for each entry, the sum of
# the absolute values of the terms a float computation adds up to form it (the running-error
# magnitudes of a first-order error bound). The tolerance is rho * u * (|exact| + bound).
TensorBound = Callable[[Arrays, Params, np.ndarray], dict[str, np.ndarray]]
# kink_gap(arrays, params) -> how far the input is from the nearest non-differentiable point
# (a ReLU pre-activation from 0, a pooling window's maximum from its runner-up); inf if smooth.
KinkGap = Callable[[Arrays, Params], float]
# branch(arrays, params) -> which smooth piece the input lies on (the sign pattern of ReLU
# pre-activations, each pooling window's argmax): a finite-difference stencil is only valid
# if every point of it lies on the same piece.
Branch = Callable[[Arrays, Params], np.ndarray]
# subgradient_ok(arrays, params, cotangent, gradients, rtol) -> the convention picked, or None.
SubgradientRule = Callable[[Arrays, Params, np.ndarray, Mapping[str, np.ndarray], float], "str | None"]
# strategy(region) -> hypothesis strategy of examples in that region.
TensorStrategy = Callable[[str], "st.SearchStrategy[Example]"]


@dataclass(frozen=True)
class TensorOp:
    """One documented op over tensors: forward as the notes write it, inputs, regions, error model."""

    name: str
    title: str
    source: Source
    inputs: tuple[Input, ...]
    forward: TensorForward
    strategy: TensorStrategy
    bound: TensorBound
    roundings: Callable[[Arrays, Params], float]  # rho: roundings on the longest path
    regions: tuple[str, ...] = ("typical",)
    stated: TensorStated | None = None
    kink_gap: KinkGap | None = None
    branch: Branch | None = None
    # At a kink or tie the derivative is a set; `tie_rule` names what the notes say goes
    # where (e.g. "the gradient goes to the maximum") and `subgradient_ok` decides whether a
    # backend's gradient is in the set, within relative error rtol (returns the convention
    # it picked, or None if outside).
    tie_rule: str = ""
    subgradient_ok: SubgradientRule | None = None
    params_doc: Mapping[str, str] = field(default_factory=dict)  # parameter conventions (axes, 1-based k, ...)
    notes: str = ""
    structure: str = "tensor"
    # experiment(seed) -> {series name: {"title", "xlabel", "ylabel", "x", "lines": {label: ys}}}:
    # a seeded experiment whose figures go into the op's record (e.g. gradient norm vs depth).
    experiment: Callable[[int], dict[str, Any]] | None = None
    # proof() -> (what was proved, the entries where SymPy found the stated gradient wrong):
    # a symbolic proof of the stated gradients at small sizes, beside the 80-digit check.
    proof: Callable[[], tuple[str, list[str]]] | None = None

    @property
    def differentiable(self) -> tuple[Input, ...]:
        return tuple(i for i in self.inputs if i.differentiable)

    @property
    def claims(self) -> tuple[str, ...]:
        return self.source.claims
