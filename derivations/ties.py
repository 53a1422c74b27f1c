"""Where a max, k-th value or top-k routes its cotangent when several entries tie.

At a tie the derivative is a set: each output o may hand its cotangent c_o to any convex
combination of the entries S_o that hold its value. Top-k's outputs of one slice also share
their entries: together they route at most one unit to each (a convex combination of
partial permutations). `routing_ok` decides whether a backend's gradient is in that set and
names the convention it picked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def floor(rtol: float, *arrays: object) -> float:
    """rho * tiny, the absolute floor the core adds to every tolerance, for the narrowest format
    that holds every value (a rule hears rtol = rho * u only): below the smallest normal
    number no relative accuracy exists, and float32 reaches it at 1e-38."""
    values = [np.asarray(a, dtype=np.float64) for a in arrays]
    with np.errstate(over="ignore"):
        narrow = all(np.array_equal(v.astype(np.float32).astype(np.float64), v) for v in values)
    fmt = np.finfo(np.float32 if narrow else np.float64)
    return float(rtol / (float(fmt.eps) / 2) * float(fmt.tiny))


def _route(
    candidates: Sequence[np.ndarray], cot: np.ndarray, size: int, pick: str, groups: Sequence[Sequence[int]]
) -> np.ndarray:
    grad = np.zeros(size)
    group_of = {o: g for g, members in enumerate(groups) for o in members}
    used: dict[int, set[int]] = {}
    for o, s in enumerate(candidates):
        if pick == "split evenly":
            np.add.at(grad, s, cot[o] / len(s))
            continue
        taken = used.setdefault(group_of.get(o, -1 - o), set())
        free = [i for i in (sorted(s) if pick == "lowest index" else sorted(s, reverse=True)) if i not in taken]
        i = free[0] if free else int(s[0])
        taken.add(i)
        grad[i] += cot[o]
    return grad


def routing_ok(
    candidates: Sequence[np.ndarray],
    cot: np.ndarray,
    got: np.ndarray,
    rtol: float,
    groups: Sequence[Sequence[int]] = (),
) -> str | None:
    """candidates[o]: the flat indices tied at output o's value; cot[o]: its cotangent; got:
    the backend's flat gradient; groups: outputs that share their entries (a top-k slice)."""
    got = np.asarray(got, dtype=np.float64).reshape(-1)
    cot = np.asarray(cot, dtype=np.float64).reshape(-1)
    magnitude = np.zeros(got.size)
    for o, s in enumerate(candidates):
        magnitude[s] += abs(cot[o])
    tol = rtol * (magnitude + np.abs(got)) + floor(rtol, cot, got)
    tied = any(len(s) > 1 for s in candidates)
    for pick in ("lowest index", "highest index", "split evenly"):
        if np.all(np.abs(got - _route(candidates, cot, got.size, pick, groups)) <= tol):
            return f"ties: {pick}" if tied else "no tie reached"
    return "ties: another split within the set" if _feasible(candidates, cot, got, tol, groups) else None


def _feasible(
    candidates: Sequence[np.ndarray], cot: np.ndarray, got: np.ndarray, tol: np.ndarray, groups: Sequence[Sequence[int]]
) -> bool:
    """Is there a lambda >= 0 with sum_i lambda_oi = 1 per output, |sum_o c_o lambda_o - got| <= tol
    entrywise, and sum over a group's outputs of lambda_oi <= 1? A linear program, its matrices sparse: one
    entry per (output, tied index) pair. Dense, kthvalue over 16,384 entries with a few thousand tied
    took 5.4 GB (verify --shape kthvalue=16384), and 65,536 the machine's 24 GB."""
    from scipy import sparse
    from scipy.optimize import linprog

    outs = np.array([o for o, s in enumerate(candidates) for _ in s], dtype=np.int64)
    at = np.concatenate([np.asarray(s, dtype=np.int64).reshape(-1) for s in candidates]) if len(outs) else outs
    pair = np.arange(len(outs))
    a = sparse.csr_array((cot[outs], (at, pair)), shape=(got.size, len(outs)))
    eq = sparse.csr_array((np.ones(len(outs)), (outs, pair)), shape=(len(candidates), len(outs)))
    rows, bounds_ub = [a, -a], [got + tol, tol - got]
    for members in groups:
        mine = np.isin(outs, list(members))
        rows.append(sparse.csr_array((np.ones(int(mine.sum())), (at[mine], pair[mine])), shape=a.shape))
        bounds_ub.append(np.ones(got.size))
    result = linprog(
        np.zeros(len(outs)),
        A_ub=sparse.vstack(rows, format="csr"),
        b_ub=np.concatenate(bounds_ub),
        A_eq=eq,
        b_eq=np.ones(len(candidates)),
        bounds=(0, None),
        method="highs",
    )
    return bool(result.status == 0)
