"""Checks of E4: does a convolution keep the information, and does it reduce the computation.

Information is decided by injectivity (can the input be recovered from the output); computation by
multiply-adds, counting the kernel taps that fall on the input (zero padding is not multiplied).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sps
import torch
import torch.nn.functional as F

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult


def _taps(conv: torch.nn.Conv2d, h: int, w: int) -> int:
    """Kernel taps that land on an h×w input, summed over the output positions (one channel pair)."""
    ones = torch.ones(1, 1, h, w, dtype=torch.float64)
    kernel = torch.ones(1, 1, *conv.kernel_size, dtype=torch.float64)
    return int(F.conv2d(ones, kernel, stride=conv.stride, padding=conv.padding).sum())  # type: ignore[arg-type]


def _macs(conv: torch.nn.Conv2d, h: int, w: int) -> int:
    return _taps(conv, h, w) * conv.in_channels * conv.out_channels // conv.groups


def _padded_macs(conv: torch.nn.Conv2d, out_hw: tuple[int, ...]) -> int:
    """What torch's conv2d multiplies: every tap at every output position, padding zeros included."""
    return math.prod(out_hw) * math.prod(conv.kernel_size) * conv.in_channels * conv.out_channels // conv.groups


def _net_convs(claim: Claim) -> dict[str, tuple[torch.nn.Conv2d, tuple[int, ...], tuple[int, ...]]]:
    """Every Conv2d of the note's Net with the (C, H, W) it reads and writes for the stated input."""
    model = claim.statement["build"]()
    seen: dict[str, tuple[torch.nn.Conv2d, tuple[int, ...], tuple[int, ...]]] = {}

    def record(name: str) -> Any:
        def hook(module: torch.nn.Conv2d, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            seen.setdefault(name, (module, tuple(args[0].shape[1:]), tuple(out.shape[1:])))

        return hook

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(record(name))
    with torch.no_grad():
        model(torch.zeros(1, *claim.statement["input"]))
    return seen


def conv1x1_lossless(claim: Claim, seed: int) -> ClaimResult:
    """Injective: rank = in_channels, and the input comes back through the pseudo-inverse. Not injective:
    a null vector v of the channel mix, added at every pixel, leaves the output unchanged."""
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    lost: list[str] = []
    for c_in, c_out in st["channels"]:
        conv = torch.nn.Conv2d(c_in, c_out, kernel_size=1).double()
        mix, bias = conv.weight.detach()[:, :, 0, 0], conv.bias.detach()[None, :, None, None]  # type: ignore[union-attr]
        x = torch.randn(2, c_in, 5, 5, dtype=torch.float64)
        with torch.no_grad():
            out = conv(x)
            singular = torch.linalg.svdvals(mix)
            rank = int((singular > 1e-10 * singular[0]).sum())
            if rank == c_in:
                back = torch.einsum("co,nohw->nchw", torch.linalg.pinv(mix), out - bias)
                gap = float((back - x).abs().max())
                lossless, found = gap < 1e-9, f"rank {rank} = {c_in}: the input recovered to {gap:.1e}"
            else:
                v = torch.linalg.svd(mix).Vh[-1]
                gap = float((conv(x + v[None, :, None, None]) - out).abs().max())
                lossless, found = (
                    gap > 1e-9,
                    f"rank {rank} < {c_in}: x and x + v (|v| = 1 at every pixel): outputs {gap:.1e} apart",
                )
        want = "injective" if st["lossless"] else "not injective"
        r.add(f"1×1 conv {c_in} → {c_out} channels", lossless == st["lossless"], want, found)
        lost += [] if lossless else [f"{c_in} → {c_out}"]
    rule = all(
        (int(torch.linalg.matrix_rank(torch.randn(o, i, dtype=torch.float64))) == i) == (o >= i)
        for i in range(1, 9)
        for o in range(1, 9)
    )
    r.detail = "every stated channel change keeps the information (the input is recovered from the output)"
    r.corrected = (
        "a 1×1 convolution is a per-pixel linear map of the channels: it keeps the information only when it does not "
        f"reduce them (C_out >= C_in{', as every random mix with C_in, C_out in 1..8 confirmed' if rule else ''}); "
        f"to fewer channels ({', '.join(lost) or 'none stated'}) distinct inputs give the same output"
    )
    return r


def conv1x1_reduces_computation(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    found, dearer, cheaper_from = [], [], []
    for c_in, size in st["inputs"]:
        block = st["build"](c_in)
        first, second = block.branch5x5_1, block.branch5x5_2
        alone = torch.nn.Conv2d(c_in, second.out_channels, second.kernel_size, padding=second.padding)
        with_1x1, without = _macs(first, size, size) + _macs(second, size, size), _macs(alone, size, size)
        r.add(
            f"in {c_in}@{size}×{size}: 1×1 to {first.out_channels}, then 5×5, against the 5×5 alone",
            (with_1x1 < without) == st["reduces"],
            "fewer multiply-adds" if st["reduces"] else "not fewer",
            f"{with_1x1:,} vs {without:,}",
        )
        found.append(f"{c_in}@{size}×{size}: {with_1x1:,} vs {without:,}")
        dearer += [found[-1]] if with_1x1 >= without else []
        # Each input channel adds a 1×1 map to the bottleneck and one 5×5 slice per output to the 5×5 alone.
        taps, fixed, extra = _taps(second, size, size), _macs(second, size, size), _macs(first, size, size) // c_in
        pays = next(
            (c for c in range(1, 4096) if c * extra + fixed < c * second.out_channels * taps), "no count below 4096 of"
        )
        cheaper_from.append(f"{pays} input channels at {size}×{size}")
    r.detail = "multiply-adds with the 1×1 bottleneck vs the 5×5 alone: " + "; ".join(found)
    r.corrected = (
        f"the 1×1 bottleneck reduces computation only from {' and '.join(cheaper_from)}; "
        f"with fewer it costs more ({'; '.join(dearer) or 'none of the stated inputs'})"
    )
    return r


def conv_reduces_computation(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    padded_more = []
    for name, (conv, (c, h, w), out) in _net_convs(claim).items():
        macs, dense = _macs(conv, h, w), c * h * w * math.prod(out)
        padded = _padded_macs(conv, out[1:])
        r.add(
            f"{name}: {c}@{h}×{w} → {out[0]}@{out[1]}×{out[2]}, against a dense layer",
            (macs < dense) == st["fewer"],
            "fewer multiply-adds" if st["fewer"] else "not fewer",
            f"{macs:,} vs {dense:,}",
        )
        padded_more += [f"{name} ({padded:,} with its padding zeros vs {dense:,})"] if padded >= dense else []
    r.detail = (
        "every convolution of the Net needs fewer multiply-adds than a dense layer with its inputs and outputs"
        + (
            "; counting padding zeros as torch's conv2d multiplies them, not " + ", ".join(padded_more)
            if padded_more
            else ""
        )
    )
    r.corrected = "a convolution needs at most the multiply-adds of a dense layer with the same inputs and outputs"
    return r


def _gram(weight: np.ndarray, h: int, w: int) -> torch.Tensor:
    """JᵀJ of a valid, stride-1 convolution (no padding, no bias) on C×h×w inputs, J built sparse."""
    c_out, c_in, kh, kw = weight.shape
    oh, ow = h - kh + 1, w - kw + 1
    o, c, i, j, a, b = np.ix_(*(np.arange(n) for n in (c_out, c_in, oh, ow, kh, kw)))
    full = (c_out, c_in, oh, ow, kh, kw)
    rows = np.broadcast_to((o * oh + i) * ow + j, full).ravel()
    cols = np.broadcast_to((c * h + i + a) * w + j + b, full).ravel()
    jac = sps.csr_matrix((np.broadcast_to(weight[o, c, a, b], full).ravel(), (rows, cols)))
    return torch.tensor((jac.T @ jac).toarray())


def _injective(conv: torch.nn.Conv2d, shape: tuple[int, ...], out: tuple[int, ...]) -> tuple[bool, str]:
    n_in, n_out = math.prod(shape), math.prod(out)
    weight = conv.weight.detach().double()
    if n_out < n_in:
        found = f"{n_in:,} numbers in, {n_out:,} out: rank <= {n_out:,}"
        corner = weight[:, :, 0, 0]  # a valid convolution reads pixel (0, 0) through this tap only
        if conv.padding == (0, 0) and corner.shape[1] > corner.shape[0]:
            v, x = torch.linalg.svd(corner).Vh[-1], torch.randn(1, *shape, dtype=torch.float64)
            moved = x.clone()
            moved[0, :, 0, 0] += v
            with torch.no_grad():
                gap = float((F.conv2d(moved, weight) - F.conv2d(x, weight)).abs().max())
            found += f"; x and x + v at pixel (0, 0), |v| = 1: outputs {gap:.1e} apart"
        return False, found
    gram = _gram(weight.numpy(), *shape[1:])
    shift = 1e-10 * float(torch.trace(gram)) / len(gram)
    positive = int(torch.linalg.cholesky_ex(gram - shift * torch.eye(len(gram), dtype=gram.dtype)).info) == 0
    return positive, f"{n_in:,} numbers in, {n_out:,} out: JᵀJ {'positive definite' if positive else 'singular'}"


def conv_keeps_information(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    convs: dict[str, Any] = _net_convs(claim)
    kept: list[str] = []
    lost: list[str] = []
    for name in st["layers"]:
        conv, shape, out = convs[name]
        injective, found = _injective(conv, shape, out)
        (kept if injective else lost).append(f"{name} {shape[0]}@{shape[1]}×{shape[2]} → {out[0]}@{out[1]}×{out[2]}")
        want = "injective" if st["lossless"] else "not injective"
        r.add(
            f"{name}: {shape[0]}@{shape[1]}×{shape[2]} → {out[0]}@{out[1]}×{out[2]}",
            injective == st["lossless"],
            want,
            found,
        )
    r.detail = "the input can be recovered from every stated layer's output"
    r.corrected = (
        "a convolution keeps the information only with at least as many numbers out as in and full rank (kept: "
        f"{', '.join(kept) or 'none'}); lost: {', '.join(lost)}. A valid k×k convolution from C to C channels maps "
        "C·H·W numbers to C·(H−k+1)·(W−k+1), always fewer"
    )
    return r


CHECKS = {
    "conv1x1_lossless": conv1x1_lossless,
    "conv1x1_reduces_computation": conv1x1_reduces_computation,
    "conv_reduces_computation": conv_reduces_computation,
    "conv_keeps_information": conv_keeps_information,
}
