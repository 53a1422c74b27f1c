"""Seeded torch experiments for the initialisation and back-propagation claims (D7, D8, D10, D11)."""

from __future__ import annotations

import itertools

import numpy as np
import torch

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult


def _data(rng: np.random.Generator, n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    x = rng.normal(size=(n, 2))
    return torch.tensor(x), torch.tensor((x[:, 0] * x[:, 1] > 0).astype(np.float64))


def _train(
    w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, x: torch.Tensor, y: torch.Tensor, steps: int, act: str
) -> tuple[list[torch.Tensor], list[float]]:
    """Two layers, `act` hidden, a sigmoid output through BCE; plain SGD, lr 0.5."""
    params = [torch.tensor(v, requires_grad=True) for v in (w1, b1, w2, np.zeros(1))]
    opt = torch.optim.SGD(params, lr=0.5)
    f = torch.sigmoid if act == "sigmoid" else torch.tanh
    losses = []
    for _ in range(steps):
        hidden = f(x @ params[0].T + params[1])
        loss = torch.nn.functional.binary_cross_entropy_with_logits((hidden @ params[2].T + params[3])[:, 0], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return [p.detach() for p in params], losses


def zero_init_symmetry(claim: Claim, seed: int) -> ClaimResult:
    """Hidden unit i is (row i of W1, b1[i], column i of W2): they must stay equal to unit 0."""
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    x, y = _data(rng, 31)  # an odd count: the labels' mean is never 1/2, where zero weights get no gradient
    h, steps = st["hidden"], st["steps"]
    w1, w2 = st["init"](rng, (h, 2)), st["init"](rng, (1, h))
    (tw1, tb1, tw2, _), _ = _train(w1, np.zeros(h), w2, x, y, steps, "sigmoid")
    units = torch.cat([tw1, tb1[:, None], tw2.T], dim=1)
    spread = float((units - units[0]).abs().max())
    moved = float((tw1 - torch.tensor(w1)).abs().max() + (tw2 - torch.tensor(w2)).abs().max())
    r.add(
        f"largest difference between hidden units after {steps} steps", spread <= 1e-12 * max(1.0, moved), 0.0, spread
    )
    r.add(
        "the weights did train (distance from the initial values)",
        moved > 1e-3,
        "> 1e-3",
        moved,
        "so identical units are not a frozen net",
    )
    broken = rng.normal(size=(h, 2)) * 0.01
    (bw1, bb1, bw2, _), _ = _train(broken, np.zeros(h), rng.normal(size=(1, h)) * 0.01, x, y, steps, "sigmoid")
    other = torch.cat([bw1, bb1[:, None], bw2.T], dim=1)
    split = float((other - other[0]).abs().max())
    r.add(
        "control: random ×0.01 weights with b = 0 give distinct units",
        split > 1e-6,
        "> 1e-6",
        split,
        "b may start at 0",
    )
    r.detail = (
        f"sigmoid 2-{h}-1 network, {steps} SGD steps from zero weights: every hidden unit equal (spread {spread:g})"
    )
    return r


def large_init_saturation(claim: Claim, seed: int) -> ClaimResult:
    """First-layer weights ×small vs ×large, output layer ×0.01 as the notes do: tanh' and the loss."""
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    steps, runs = st["steps"], st["runs"]
    slope: dict[str, list[float]] = {"small": [], "large": []}
    drop: dict[str, list[float]] = {"small": [], "large": []}
    curves: dict[str, list[float]] = {}
    for run in range(runs):
        x, y = _data(rng, 64)
        w1, w2 = rng.normal(size=(8, 2)), rng.normal(size=(1, 8)) * 0.01
        for key in ("small", "large"):
            scaled = w1 * st[key]
            z = x @ torch.tensor(scaled).T
            slope[key].append(float((1 - torch.tanh(z) ** 2).mean()))
            _, losses = _train(scaled, np.zeros(8), w2, x, y, steps, "tanh")
            drop[key].append(losses[0] - losses[-1])
            if run == 0:
                curves[f"×{st[key]:g}"] = losses
    s_small, s_large = float(np.median(slope["small"])), float(np.median(slope["large"]))
    d_small, d_large = float(np.median(drop["small"])), float(np.median(drop["large"]))
    r.add(
        f"mean tanh'(z) at init, ×{st['large']:g} vs ×{st['small']:g}",
        s_large < 0.5 * s_small,
        f"< half of {s_small:.4f}",
        s_large,
        "saturation",
    )
    r.add(
        f"loss decrease after {steps} steps, ×{st['large']:g} vs ×{st['small']:g}",
        d_large < d_small,
        f"< {d_small:.4f}",
        d_large,
        f"median of {runs} seeded runs",
    )
    r.plot(
        "init_scale_loss",
        "2-8-1 tanh network: loss per step by first-layer init scale",
        "step",
        "BCE loss",
        range(steps),
        curves,
    )
    r.detail = (
        f"×{st['large']:g} saturates tanh (mean tanh' {s_large:.3f} vs {s_small:.3f}) "
        f"and learns slower (loss drop {d_large:.3f} vs {d_small:.3f})"
    )
    r.corrected = (
        f"large weights do saturate tanh (mean tanh' {s_large:.3f} vs {s_small:.3f}), but in this experiment the "
        f"×{st['small']:g} network learned slower (loss drop {d_small:.3f} vs {d_large:.3f} in {steps} steps): tiny "
        "weights give tiny hidden activations, so small is not automatically faster"
    )
    return r


def _layer_gradients(
    params: list[tuple[torch.Tensor, torch.Tensor]], x0: torch.Tensor, hooked: int | None
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """x^k = sigmoid(w^k x^{k-1} + b^k); the gradient arriving at x^hooked is doubled on its way down."""
    x, ys = x0, []
    for k, (w, b) in enumerate(params, start=1):
        y = w @ x + b
        y.retain_grad()
        ys.append(y)
        x = torch.sigmoid(y)
        if k == hooked:
            x.register_hook(lambda g: 2 * g)
    for w, b in params:
        w.grad = b.grad = None
    (x**2).sum().backward()
    return [w.grad.clone() for w, _ in params], torch.stack([y.grad.norm() for y in ys])  # type: ignore[union-attr]


def dloss_dx_layer(claim: Claim, seed: int) -> ClaimResult:
    """Which layer uses ∂Loss/∂x^k: the highest layer whose gradients change when that quantity changes."""
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    widths = [3, 4, 5, 4, 2]  # L = 4 layers, none square
    depth = len(widths) - 1
    params = [
        (
            torch.tensor(rng.normal(size=(m, n)), requires_grad=True),
            torch.tensor(rng.normal(size=m), requires_grad=True),
        )
        for n, m in itertools.pairwise(widths)
    ]
    x0 = torch.tensor(rng.normal(size=widths[0]))
    k = depth + st["x_index"]
    plain, plain_y = _layer_gradients(params, x0, None)
    moved, moved_y = _layer_gradients(params, x0, k)
    changed = [m + 1 for m in range(depth) if not torch.equal(plain[m], moved[m])]
    y_changed = [m + 1 for m in range(depth) if not torch.equal(plain_y[m], moved_y[m])]
    user = max(changed)
    from_end = depth - user + 1
    r.add(f"∂Loss/∂y^k that change with ∂Loss/∂x^{k} (L = {depth})", max(y_changed) == k, f"k <= {k}", y_changed)
    r.add(
        f"layer using ∂Loss/∂x^{k}, counted from the end (1 = last)",
        from_end == st["label_from_end"],
        st["label_from_end"],
        from_end,
        f"the highest layer whose ∂Loss/∂w changes is layer {user} of {depth}",
    )
    r.detail = f"doubling ∂Loss/∂x^{k} changes the gradients of layers {changed}: it is used by layer {user}"
    r.corrected = (
        f"∂Loss/∂x^(L−{-st['x_index']}) is used by layer L−{-st['x_index']}, number {-st['x_index'] + 1} from the end, "
        f"to get ∂Loss/∂y^(L−{-st['x_index']}) and update its w and b"
    )
    return r


def small_init(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    draws = np.stack([st["init"](rng) for _ in range(10_000)])
    first = draws[0]
    r.add("shape of w", first.shape == st["shape"], st["shape"], first.shape)
    spread = float(np.std(draws))
    r.add("spread of the entries", abs(spread / st["scale"] - 1) < 0.05, st["scale"], spread, "10,000 draws")
    distinct = int(np.count_nonzero(np.ptp(draws.reshape(len(draws), -1), axis=1) > 0))
    r.add("entries differ within a draw (no symmetry)", distinct == len(draws), len(draws), distinct)
    b = st["bias"]()
    r.add(
        "b = np.zeros((2,1))", b.shape == (2, 1) and not np.any(b), "(2, 1) zeros", f"{b.shape}, {b.ravel().tolist()}"
    )
    r.detail = f"w: 2×2 random entries of spread {spread:.4f}; b: a 2×1 column of zeros"
    return r


CHECKS = {
    "zero_init_symmetry": zero_init_symmetry,
    "large_init_saturation": large_init_saturation,
    "dloss_dx_L1_feeds_second_to_last": dloss_dx_layer,
    "dloss_dx_L2_feeds_second_to_last": dloss_dx_layer,
    "init_small_random_2x2": small_init,
}
