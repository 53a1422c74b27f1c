"""The record every oracle, strategy and report reads: one documented formula."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sympy as sp

# A forward is built from SymPy symbols: one Symbol per input for an elementwise op, one
# list of Symbols (a row of length n) per input for a row op. Parameters come as keywords.
Forward = Callable[..., "sp.Expr | list[sp.Expr]"]
# The derivative as the document writes it. It receives the same inputs plus `out`, symbols
# that stand for the forward's outputs (the notes write sigmoid' as a(1-a), in the output a).
# Elementwise: an Expr. Row op with a scalar output: a list (the gradient). Row op with a
# row output: a nested list J[i][j] = d out_i / d x_j.
Stated = Callable[..., "sp.Expr | list[sp.Expr] | list[list[sp.Expr]]"]


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
class Region:
    """A named input region; `bound` caps |x| for the differentiable input, `low` floors it."""

    name: str
    low: float = 0.0
    bound: float = 10.0
    kink_fraction: float = 0.0  # share of entries set exactly to a kink
    param_samples: bool = False  # draw parameters from Param.samples only


@dataclass(frozen=True)
class Derivation:
    """One documented formula: forward, derivative as written, domain and source."""

    name: str
    title: str
    source: Source
    structure: Literal["elementwise", "row"]
    inputs: tuple[Input, ...]
    forward: Forward
    stated: Stated
    params: tuple[Param, ...] = ()
    kinks: tuple[Kink, ...] = ()
    regions: tuple[Region, ...] = (Region("typical"),)
    reduces: bool = False  # a row op whose output is one scalar per row (a loss)
    notes: str = ""
    # Absolute error, in units of u per unit of output (and of cotangent for the VJP), that
    # any stable algorithm makes by rounding a quantity of size 1 it cannot avoid forming:
    # the sum inside log-sum-exp, 1 + e^-|z|, the probabilities p in p - y. 0 when the
    # value can be relatively accurate.
    floor: float = 0.0
    max_row: int = field(default=8)  # longest row the exact reference expands symbolically

    @property
    def wrt(self) -> Input:
        """The differentiable input the stated derivative is taken with respect to."""
        return next(i for i in self.inputs if i.differentiable)

    def input(self, name: str) -> Input:
        return next(i for i in self.inputs if i.name == name)

    def row_length(self, shape: tuple[int, ...]) -> int:
        """Entries one output depends on: 1 for an elementwise op, the last axis for a row op."""
        return 1 if self.structure == "elementwise" else shape[-1]

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """A loss reduces the last axis to one value per row; every other op keeps the shape."""
        return shape[:-1] if self.reduces else shape

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
        unknown = set(params) - {p.name for p in self.params}
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


def row_symbols(prefix: str, n: int) -> list[sp.Symbol]:
    return list(sp.symbols(f"{prefix}0:{n}", real=True))


def kink_interval(kink: Kink, params: dict[str, float]) -> tuple[float, float]:
    subs = {sp.Symbol(k, real=True): v for k, v in params.items()}
    a, b = float(kink.lo.subs(subs)), float(kink.hi.subs(subs))
    return min(a, b), max(a, b)


def as_list(values: Sequence[sp.Expr] | sp.Expr) -> list[sp.Expr]:
    return list(values) if isinstance(values, (list, tuple)) else [values]
