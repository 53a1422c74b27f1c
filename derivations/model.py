"""The record every oracle, strategy and report reads: one documented op.

An op's reference comes from one of two engines. A closed form (activations, softmax, losses) is
written in SymPy, entry by entry or row by row. A program (layers, networks, convolutions, pooling,
reductions) has several differentiable inputs and integer parameters, so its forward is written once
over NumPy arrays and the `Elementary` namespace, and runs in float64 and in 80-digit dual numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np
import sympy as sp
from hypothesis import strategies as st

# A forward is built from SymPy symbols: one Symbol per input for an elementwise op, one
# list of Symbols (a row of length n) per input for a row op. Parameters come as keywords.
Forward = Callable[..., "sp.Expr | list[sp.Expr]"]
# The derivative as the document writes it. It receives the same inputs plus `out`, symbols
# that stand for the forward's outputs (the notes write sigmoid' as a(1-a), in the output a).
# Elementwise: an Expr. Row op with a scalar output: a list (the gradient). Row op with a
# row output: a nested list J[i][j] = d out_i / d x_j.
Stated = Callable[..., "sp.Expr | list[sp.Expr] | list[list[sp.Expr]]"]

# A program is written once over NumPy arrays and a small namespace of elementary functions: the
# same declaration runs in float64 and, with mpmath numbers in object arrays, as the exact reference.
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
class Source:
    """Where the formula comes from: seed file, section and the quoted words."""

    seed: str
    section: str
    quote: str
    claims: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"seed": self.seed, "section": self.section, "quote": self.quote, "claims": list(self.claims)}


@dataclass(frozen=True)
class Interval:
    """A closed interval of allowed input values; infinite ends mean unbounded."""

    lo: float = float("-inf")
    hi: float = float("inf")

    def contains(self, values: object) -> bool:
        import numpy as np

        arr = np.asarray(values, dtype=np.float64)
        return bool(np.all(np.isfinite(arr)) and np.all(arr >= self.lo) and np.all(arr <= self.hi))

    def describe(self) -> str:
        return f"[{self.lo:g}, {self.hi:g}]"


@dataclass(frozen=True)
class Simplex:
    """Rows of non-negative entries summing to 1 (probability targets)."""

    def contains(self, values: object) -> bool:
        import numpy as np

        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            return False
        return bool(np.allclose(arr.sum(axis=-1), 1.0, rtol=0, atol=1e-6))

    def describe(self) -> str:
        return "probability rows (entries >= 0, each row sums to 1)"


Domain = Interval | Simplex


@dataclass(frozen=True)
class Input:
    """One array argument. `differentiable=False` marks targets and labels."""

    name: str
    domain: Domain = Interval()
    differentiable: bool = True


@dataclass(frozen=True)
class Param:
    """A scalar parameter such as the leaky slope; `samples` are always visited."""

    name: str
    default: float
    domain: Interval
    samples: tuple[float, ...] = ()


@dataclass(frozen=True)
class Example:
    """One concrete input of any op: float64 arrays by input name, parameter values, the named region
    it was drawn from and its shape tags (batch > 1, non-square, ...)."""

    arrays: dict[str, Any]
    params: dict[str, Any]
    region: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kink:
    """A non-differentiable point of an elementwise op and its subgradient set [lo, hi].

    `lo` and `hi` are SymPy expressions in the parameters (leaky ReLU: alpha and 1).
    """

    at: float
    lo: sp.Expr
    hi: sp.Expr


@dataclass(frozen=True)
class Condition:
    """A structural condition under which an op's backward takes a code path of its own (k >= 2 with
    several windows along an axis, a batch of more than one, ...). Every region of the op draws at
    least one example where it holds, when the region's strategy can make one: a bug that lives
    only on that path is reached at every seed, not at some."""

    name: str
    holds: Callable[[Example], bool]
    not_in: tuple[str, ...] = ()  # regions whose definition rules it out (a 1x1 kernel has no stride)


# Regions at the edge of what a format holds, or where cancellation is inherent to the formula:
# saturated activations and logits of 20 to 1e3 (1e4 for a squared error), entries whose squares
# under- or overflow (tiny: 1e-19 and below in float32, 1e-154 in float64; huge: 1e19 and above).
# A check that fails only there meets a range or precision limit of an algorithm; one that fails
# anywhere else computes a wrong value (see harness/group_run.py, severity).
RANGE_REGIONS = frozenset({"saturation", "saturated", "large-logits", "large-values", "tiny", "huge"})


@dataclass(frozen=True)
class Region:
    """A named input region; `bound` caps |x| for the differentiable input, `low` floors it."""

    name: str
    low: float = 0.0
    bound: float = 10.0
    kink_fraction: float = 0.0  # share of entries set exactly to a kink
    param_samples: bool = False  # draw parameters from Param.samples only


@dataclass(frozen=True)
class ClosedForm:
    """The reference engine of a formula written in SymPy, entry by entry (elementwise) or row by row:
    interval arithmetic until the digits settle, and a symbolic verdict on the stated derivative."""

    structure: Literal["elementwise", "row"]
    forward: Forward
    stated: Stated
    kinks: tuple[Kink, ...] = ()
    reduces: bool = False  # a row op whose output is one scalar per row (a loss)
    # Absolute error, in units of u per unit of output (and of cotangent for the VJP), that
    # any stable algorithm makes by rounding a quantity of size 1 it cannot avoid forming:
    # the sum inside log-sum-exp, 1 + e^-|z|, the probabilities p in p - y. 0 when the
    # value can be relatively accurate.
    floor: float = 0.0
    max_row: int = 8  # longest row the exact reference expands symbolically


@dataclass(frozen=True)
class Program:
    """The reference engine of a forward written over `Elementary` as NumPy code: the same program in
    80-digit dual numbers, its error model from running-error magnitudes, its inputs from `strategy`."""

    forward: TensorForward
    strategy: TensorStrategy
    bound: TensorBound
    roundings: Callable[[Arrays, Params], float]  # rho: roundings on the longest path
    stated: TensorStated | None = None
    kink_gap: KinkGap | None = None
    branch: Branch | None = None
    # At a kink or tie the derivative is a set: `subgradient_ok` decides whether a backend's
    # gradient is in it, within relative error rtol (returns the convention it picked, or None).
    subgradient_ok: SubgradientRule | None = None


@dataclass(frozen=True)
class Op:
    """One documented op, whatever its structure: where the notes state it, its inputs, parameters and
    named regions, and the engine that computes its exact reference and holds its stated derivative."""

    name: str
    title: str
    source: Source
    inputs: tuple[Input, ...]
    engine: ClosedForm | Program
    params: tuple[Param, ...] = ()  # scalar parameters with domains (closed forms draw them)
    regions: tuple[Region, ...] = (Region("typical"),)  # a program's strategy draws each by its name
    tie_rule: str = ""  # at a kink or tie, what the notes say goes where ("the gradient goes to the maximum")
    conditions: tuple[Condition, ...] = ()  # crossed with every region (see Condition)
    # A program's parameter conventions; left out of the hash, which caches of compiled forms key on.
    params_doc: Mapping[str, str] = field(default_factory=dict, hash=False)
    notes: str = ""
    # experiment(seed) -> {series name: {"title", "xlabel", "ylabel", "x", "lines": {label: ys}}}:
    # a seeded experiment whose figures go into the op's record (e.g. gradient norm vs depth).
    experiment: Callable[[int], dict[str, Any]] | None = None
    # proof() -> (what was proved, the entries where SymPy found the stated gradient wrong):
    # a symbolic proof of the stated gradients at small sizes, beside the 80-digit check.
    proof: Callable[[], tuple[str, list[str]]] | None = None

    @property
    def structure(self) -> str:
        return self.engine.structure if isinstance(self.engine, ClosedForm) else "tensor"

    @property
    def closed_form(self) -> ClosedForm:
        assert isinstance(self.engine, ClosedForm), f"{self.name} is a program"
        return self.engine

    @property
    def program(self) -> Program:
        assert isinstance(self.engine, Program), f"{self.name} is a closed form"
        return self.engine

    def with_engine(self, **changes: Any) -> Op:
        """The same op with some of its engine's fields changed: a planted wrong formula, say."""
        return replace(self, engine=replace(self.engine, **changes))

    @property
    def differentiable(self) -> tuple[Input, ...]:
        return tuple(i for i in self.inputs if i.differentiable)

    @property
    def claims(self) -> tuple[str, ...]:
        return self.source.claims

    @property
    def wrt(self) -> Input:
        """A closed form's one differentiable input, the one its stated derivative is taken with respect to."""
        return self.differentiable[0]

    def row_length(self, shape: tuple[int, ...]) -> int:
        """Entries one output of a closed form depends on: 1 for an elementwise op, the last axis for a row op."""
        return 1 if self.structure == "elementwise" else shape[-1]

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """A closed-form loss reduces the last axis to one value per row; every other one keeps the shape."""
        return shape[:-1] if self.closed_form.reduces else shape

    def param_defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def check_domain(self, arrays: Mapping[str, object], params: Mapping[str, float]) -> str | None:
        """The reason an input lies outside the declared domain, or None when it is inside."""
        for inp in self.inputs:
            if inp.name not in arrays:
                return f"{self.name}: missing input {inp.name!r}"
            if not inp.domain.contains(arrays[inp.name]):
                return f"{self.name}: input {inp.name!r} outside its domain {inp.domain.describe()}"
        for p in self.params:
            if not p.domain.contains(params.get(p.name, p.default)):
                return f"{self.name}: parameter {p.name!r} outside {p.domain.describe()}"
        unknown = set(params) - {p.name for p in self.params} - set(self.params_doc)
        if unknown:
            return f"{self.name}: unknown parameter(s) {sorted(unknown)}"
        return None


@dataclass(frozen=True)
class Claim:
    """A statement of the notes that is not one op's derivative: a shape rule, a worked example, an
    optimiser's update rule, an inequality, an experiment's outcome, or prose no machine can decide.

    `statement` holds the notes' formulas and numbers as written (SymPy expressions, Python
    functions, numbers), keyed by name; the check in harness/claim_checks/ reads them and nothing
    else, so a wrong statement put in their place goes through the same check.
    """

    name: str
    title: str
    source: Source
    method: Literal["symbolic", "numerical", "empirical", "prose"]
    statement: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""  # prose only: why no machine can decide it
    # What the encoding had to read into the words (a typo, an ambiguous word, a lost image), and why.
    interpretation: str = ""


def named(*names: str) -> tuple[Region, ...]:
    """Regions known by name only: a program's strategy decides what each draws."""
    return tuple(Region(n) for n in names)


def row_symbols(prefix: str, n: int) -> list[sp.Symbol]:
    return list(sp.symbols(f"{prefix}0:{n}", real=True))


def kink_interval(kink: Kink, params: dict[str, float]) -> tuple[float, float]:
    subs = {sp.Symbol(k, real=True): v for k, v in params.items()}
    a, b = float(kink.lo.subs(subs)), float(kink.hi.subs(subs))
    return min(a, b), max(a, b)


def as_list(values: Sequence[sp.Expr] | sp.Expr) -> list[sp.Expr]:
    return list(values) if isinstance(values, (list, tuple)) else [values]
