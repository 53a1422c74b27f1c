"""SymPy decides whether each documented derivative is the derivative of its forward."""

from __future__ import annotations

import contextlib
import random
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import mpmath
import sympy as sp

from derivations.model import Op, Simplex
from harness.symbols import RowSymbols, build

PROVED_SIZES = (1, 2, 3, 4)  # rows proved symbolically; longer rows checked numerically
NUMERIC_SIZES = (5, 6, 8)
SEARCH_POINTS = 40
SEARCH_DIGITS = 50


@dataclass(frozen=True)
class Verdict:
    status: Literal["proved", "refuted", "numerical-only"]
    detail: str
    counterexample: dict[str, object] | None = None
    corrected: str | None = None
    sizes: tuple[int, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "detail": self.detail,
            "counterexample": self.counterexample,
            "corrected": self.corrected,
            "sizes": list(self.sizes),
        }


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in the block after `seconds` (main thread only; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    fired = []

    def _expire(signum: int, frame: object) -> None:
        fired.append(True)
        raise TimeoutError(f"SymPy did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expire)
    # Every 10 ms after the first: an alarm that lands where exceptions are swallowed (a gc callback's
    # "exception ignored") would otherwise let the block run on to its end, however long that takes.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.01)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:
        # The alarm went off but its exception never left the block: code that swallows exceptions was
        # running when it landed (a gc callback's "exception ignored"). The block overran all the same.
        raise TimeoutError(f"SymPy did not finish within {seconds:g} s")


def _differences(rs: RowSymbols) -> list[sp.Expr]:
    """true - stated, entry by entry, with domain constraints substituted."""
    return [t - s for t, s in zip(rs.true_jacobian, rs.stated_jacobian, strict=True)]


def _smooth_pieces(d: Op, rs: RowSymbols) -> list[dict[sp.Symbol, sp.Expr]]:
    """Substitutions that place the input strictly inside each smooth piece."""
    if not d.closed_form.kinks:
        return [{}]
    t = sp.Symbol("t", positive=True)
    x = rs.inputs[d.wrt.name][0]
    pieces = []
    for k in d.closed_form.kinks:
        pieces += [{x: sp.Float(k.at) + t}, {x: sp.Float(k.at) - t}] if k.at else [{x: t}, {x: -t}]
    return pieces


def _param_variants(d: Op, rs: RowSymbols) -> list[dict[sp.Symbol, sp.Expr]]:
    """The parameters as they are, then pushed inside their finite bounds by a positive gap.

    Each variant covers a superset of the declared domain, so a zero under any one of them is
    a proof for the whole domain.
    """
    variants: list[dict[sp.Symbol, sp.Expr]] = [{}]
    gap = sp.Symbol("gap", positive=True)
    for p in d.params:
        sym = rs.params[p.name]
        if p.domain.hi != float("inf"):
            variants.append({sym: sp.nsimplify(p.domain.hi) - gap})
        if p.domain.lo != float("-inf"):
            variants.append({sym: sp.nsimplify(p.domain.lo) + gap})
    return variants


def _is_zero(expr: sp.Expr) -> bool:
    if expr == 0:
        return True
    simplified = sp.simplify(expr)
    if simplified == 0:
        return True
    return sp.simplify(sp.expand(sp.together(simplified.rewrite(sp.exp)))) == 0


def _proved(d: Op, rs: RowSymbols) -> bool:
    for piece in _smooth_pieces(d, rs):
        diffs = [sp.sympify(e).subs(piece) for e in _differences(rs)]
        if not any(all(_is_zero(e.subs(v)) for e in diffs) for v in _param_variants(d, rs)):
            return False
    return True


def _sample_point(d: Op, rs: RowSymbols, rng: random.Random) -> dict[sp.Symbol, Any]:
    point: dict[sp.Symbol, Any] = {}
    for inp in d.inputs:
        syms = rs.inputs[inp.name]
        if isinstance(inp.domain, Simplex):
            w = [rng.expovariate(1.0) for _ in syms]
            point.update({s: mpmath.mpf(v) / mpmath.fsum(w) for s, v in zip(syms, w, strict=True)})
        else:
            lo, hi = max(inp.domain.lo, -6.0), min(inp.domain.hi, 6.0)
            point.update({s: mpmath.mpf(rng.uniform(lo, hi)) for s in syms})
    for p in d.params:
        sym = rs.params[p.name]
        point[sym] = mpmath.mpf(rng.choice(p.samples) if p.samples else p.default)
    return point


def _search(d: Op, rs: RowSymbols, seed: int) -> dict[str, object] | None:
    """The sampled point where stated and true derivative differ most, or None."""
    rng = random.Random(seed)
    symbols = [s for syms in rs.inputs.values() for s in syms] + list(rs.params.values())
    true_f = sp.lambdify(symbols, rs.true_jacobian, modules="mpmath")
    stated_f = sp.lambdify(symbols, rs.stated_jacobian, modules="mpmath")
    worst: tuple[mpmath.mpf, dict[str, object]] | None = None
    with mpmath.workdps(SEARCH_DIGITS):
        for _ in range(SEARCH_POINTS):
            point = _sample_point(d, rs, rng)
            args = [point[s] for s in symbols]
            true_v, stated_v = true_f(*args), stated_f(*args)
            for k, (t, s) in enumerate(zip(true_v, stated_v, strict=True)):
                gap = abs(t - s) / (1 + abs(t))
                if gap > mpmath.mpf(10) ** (-SEARCH_DIGITS // 2) and (worst is None or gap > worst[0]):
                    worst = (
                        gap,
                        {
                            "at": {str(s_): float(point[s_]) for s_ in symbols},
                            "entry": k,
                            "stated": float(s),
                            "true": float(t),
                        },
                    )
    return None if worst is None else worst[1]


def _corrected(rs: RowSymbols) -> str:
    return ", ".join(str(sp.simplify(e)) for e in rs.true_jacobian)


def decide(d: Op, *, budget_s: float = 10.0, seed: int = 0) -> Verdict:
    """Proved, refuted with a counterexample, or numerical only when SymPy cannot decide."""
    sizes = (1,) if d.structure == "elementwise" else PROVED_SIZES
    proved: list[int] = []
    reason = ""
    try:
        with time_budget(budget_s):
            for n in sizes:
                rs = build(d, n)
                if not _proved(d, rs):
                    reason = f"SymPy could not reduce the difference to 0 for n={n}"
                    break
                proved.append(n)
    except TimeoutError as exc:
        reason = str(exc)
    for n in (*sizes, *(NUMERIC_SIZES if d.structure == "row" else ())):
        if n in proved:
            continue
        rs = build(d, n)
        found = _search(d, rs, seed + n)
        if found is not None:
            found["n"] = n
            return Verdict(
                "refuted",
                f"the stated derivative differs from d/d{d.wrt.name} of the forward (n={n})",
                counterexample=found,
                corrected=_corrected(build(d, 1 if d.structure == "elementwise" else 2)),
                sizes=tuple(proved),
            )
    if len(proved) == len(sizes):
        where = "" if d.structure == "elementwise" else f" for n={sizes[0]}..{sizes[-1]}"
        extra = "" if d.structure == "elementwise" else f"; numerically for n in {NUMERIC_SIZES}"
        kinks = f"; on each smooth piece, kinks at {[k.at for k in d.closed_form.kinks]}" if d.closed_form.kinks else ""
        return Verdict("proved", f"symbolically{where}{extra}{kinks}", sizes=tuple(proved))
    return Verdict(
        "numerical-only",
        f"{reason}; no counterexample in {SEARCH_POINTS} points at {SEARCH_DIGITS} digits per size",
        sizes=tuple(proved),
    )


__all__ = ["Verdict", "decide", "time_budget"]
