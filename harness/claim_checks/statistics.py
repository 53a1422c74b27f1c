"""Checks of the tensor-statistics claims (F1, F2, F4) against torch.linalg and torch's reductions."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult


def _rel(a: object, b: object) -> float:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(x - y)) / max(1e-300, float(np.max(np.abs(y)))))


def norms_distinct(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(50, 7)) * 10.0 ** rng.uniform(-3, 3, (50, 1))
    tv = torch.tensor(v)
    for order, key in ((1, "norm1"), (2, "norm2")):
        gap = _rel(st[key](v), torch.linalg.vector_norm(tv, order, dim=-1))
        r.add(f"stated {order}-norm vs torch.linalg.vector_norm(ord={order})", gap < 1e-13, "< 1e-13 relative", gap)
    m = torch.tensor(rng.normal(size=(50, 4, 3)))
    same = {}
    for order in (1, 2):
        vec = torch.linalg.vector_norm(m, order, dim=(-2, -1))
        mat = torch.linalg.matrix_norm(m, order)
        same[order] = int(torch.sum(torch.isclose(vec, mat, rtol=1e-9, atol=0)))
        r.add(
            f"matrices: vector {order}-norm vs matrix {order}-norm, equal in",
            same[order] == 0,
            0,
            same[order],
            "of 50 random 4×3 matrices",
        )
    fro = _rel(torch.linalg.vector_norm(m, 2, dim=(-2, -1)), torch.linalg.matrix_norm(m, "fro"))
    unit = F.normalize(tv, dim=-1)
    spread = float((torch.linalg.vector_norm(unit, dim=-1) - 1).abs().max())
    r.add(
        "normalize gives unit vectors, not a norm",
        spread < 1e-14 and unit.shape == tv.shape,
        "unit rows of the input's shape",
        f"shape {tuple(unit.shape)}, | ||row|| − 1 | <= {spread:.1e}",
    )
    r.detail = (
        "vector 1-norm Σ|x| and 2-norm sqrt(Σx²) match torch; on a matrix, the vector 1-norm (sum of all |a|) and "
        f"2-norm differ from the matrix 1-norm (largest column sum) and 2-norm (largest singular value), though the "
        f"vector 2-norm equals the Frobenius norm (relative gap {fro:.1e}); normalize returns x/||x||"
    )
    return r


def reduction_semantics(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    wrong: dict[str, int] = {}
    for _ in range(60):
        n = int(rng.integers(2, 9))
        x = rng.integers(-3, 4, (3, n)).astype(float) if rng.random() < 0.5 else rng.normal(size=(3, n))  # ties too
        t = torch.tensor(x)
        k = int(rng.integers(1, n + 1))
        val, idx = t.kthvalue(k, dim=-1)
        top, top_idx = t.topk(k, dim=-1)
        checks = {
            "kthvalue value": np.array_equal(val.numpy(), st["kthvalue"](x, k)),
            "kthvalue position holds the value": np.array_equal(
                np.take_along_axis(x, idx.numpy()[:, None], -1)[:, 0], val.numpy()
            ),
            "topk values": np.array_equal(top.numpy(), st["topk"](x, k)),
            "topk positions hold the values": np.array_equal(np.take_along_axis(x, top_idx.numpy(), -1), top.numpy()),
            "topk keeps the dim with size k": tuple(top.shape) == (3, k),
            "argmax / argmin hold max / min": np.array_equal(x[np.arange(3), t.argmax(-1).numpy()], x.max(-1))
            and np.array_equal(x[np.arange(3), t.argmin(-1).numpy()], x.min(-1)),
            "sum / mean": _rel(t.sum(-1), x.sum(-1)) < 1e-14 and _rel(t.mean(-1), x.mean(-1)) < 1e-14,
        }
        for name, ok in checks.items():
            wrong[name] = wrong.get(name, 0) + (not ok)
    for name, count in wrong.items():
        r.add(f"{name} (60 random rows, ties included)", count == 0, 0, count, "cases that differ")
    r.detail = (
        "kthvalue is the k-th smallest with a position holding it; topk the k largest, largest first, "
        "dim kept as size k"
    )
    r.corrected = "kthvalue(k) is the k-th SMALLEST; topk(k) the k largest, in descending order"
    return r


def norm_not_normalize(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    x = np.random.default_rng(seed).normal(size=(40, 6)) * 10.0 ** np.arange(-2, 2, 0.1)[:, None]
    norm, unit = np.asarray(st["norm"](x)), np.asarray(st["normalize"](x))
    tx = torch.tensor(x)
    gap_n = _rel(norm, torch.linalg.vector_norm(tx, dim=-1))
    gap_u = _rel(unit, F.normalize(tx, dim=-1))
    r.add("norm against torch.linalg.vector_norm", gap_n < 1e-13, "< 1e-13 relative", gap_n)
    r.add("normalize against torch.nn.functional.normalize", gap_u < 1e-13, "< 1e-13 relative", gap_u)
    r.add(
        "norm gives one number per vector, normalize a vector",
        norm.shape != unit.shape,
        "different",
        f"{norm.shape} vs {unit.shape}",
    )
    r.detail = "norm(x) = ||x|| is a number; normalize(x) = x/||x|| is a unit vector of x's shape"
    return r


def normalize_gloss(claim: Claim, seed: int) -> ClaimResult:
    """Compare normalize with the operation the gloss names, on the same weights."""
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    w0, target, lam, lr = rng.normal(size=5), rng.normal(size=5), 0.1, 0.5

    def regularisation(w: torch.Tensor) -> torch.Tensor:
        """One SGD step on a loss with torch's weight decay, the (λ/2)||w||² penalty."""
        p = w.clone().requires_grad_(True)
        opt = torch.optim.SGD([p], lr=lr, weight_decay=lam)
        ((p - torch.tensor(target)) ** 2).sum().backward()
        opt.step()
        return p.detach()

    meaning = {"regularisation": regularisation, "normalisation": lambda w: w / torch.linalg.vector_norm(w)}
    w = torch.tensor(w0)
    gap = _rel(F.normalize(w, dim=0), meaning[st["gloss"]](w))
    r.add(f"normalize(w) against {st['gloss']} of w", gap < 1e-13, "< 1e-13 relative", gap)
    r.detail = f"torch.nn.functional.normalize is {st['gloss']}: w/||w||"
    r.corrected = (
        "normalize is 归一化 (normalisation, w/||w||); 正则化 (regularisation) adds a penalty such as (λ/2)||w||² to "
        "the loss, as torch's weight_decay does"
    )
    return r


CHECKS = {
    "norms_distinct": norms_distinct,
    "reduction_semantics": reduction_semantics,
    "norm_not_normalize": norm_not_normalize,
    "normalize_is_regularisation": normalize_gloss,
}
