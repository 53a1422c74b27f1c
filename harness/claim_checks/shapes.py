"""Checks of the shape claims (E1-E11, F3) against torch's convolution, pooling and reductions; E4's information
and computation claims are in conv_information.py."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from derivations import notes_modules
from derivations.model import Claim
from harness.claim_checks import conv_information
from harness.claim_checks.result import ClaimResult

Size = Callable[[int, int, int, int], float]


def _conv_cases(seed: int, count: int = 240) -> list[tuple[int, int, int, int, int, int, int, int]]:
    """(h, w, kh, kw, ph, pw, sh, sw) with kernel <= padded input; strides >= 2 and paddings >= 1 common."""
    rng = np.random.default_rng(seed)
    cases: list[tuple[int, int, int, int, int, int, int, int]] = []
    while len(cases) < count:
        h, w = (int(v) for v in rng.integers(1, 17, 2))
        ph, pw = (int(v) for v in rng.integers(0, 4, 2))
        kh, kw = int(rng.integers(1, min(h + 2 * ph, 7) + 1)), int(rng.integers(1, min(w + 2 * pw, 7) + 1))
        sh, sw = (int(v) for v in rng.integers(1, 5, 2))
        cases.append((h, w, kh, kw, ph, pw, sh, sw))
    return cases


def _bias(conv: torch.nn.Conv2d) -> torch.Tensor:
    assert conv.bias is not None  # every convolution of the notes has one
    return conv.bias.detach()


def _torch_conv_size(h: int, w: int, kh: int, kw: int, ph: int, pw: int, sh: int, sw: int) -> tuple[int, int]:
    out = F.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, kh, kw), stride=(sh, sw), padding=(ph, pw))
    return int(out.shape[2]), int(out.shape[3])


def _grid(r: ClaimResult, size: Size, seed: int) -> None:
    cases = _conv_cases(seed)
    wrong = []
    for h, w, kh, kw, ph, pw, sh, sw in cases:
        stated = (size(h, kh, ph, sh), size(w, kw, pw, sw))
        actual = _torch_conv_size(h, w, kh, kw, ph, pw, sh, sw)
        if stated != actual:
            wrong.append(
                f"in {h}×{w}, kernel {kh}×{kw}, padding {ph},{pw}, stride {sh},{sw}: stated {stated}, torch {actual}"
            )
    strided = sum(1 for c in cases if max(c[6:]) >= 2 and max(c[4:6]) >= 1)
    r.add(
        f"{len(cases)} sizes ({strided} with stride >= 2 and padding >= 1) vs torch conv2d",
        not wrong,
        "all equal",
        f"{len(wrong)} differ" + (f", e.g. {wrong[0]}" if wrong else ""),
    )


CORRECTED_SIZE = "(H, W) = (⌊(in_h − kernel_h + 2·padding)/stride⌋ + 1, ⌊(in_w − kernel_w + 2·padding)/stride⌋ + 1)"


def conv_output_size(claim: Claim, seed: int) -> ClaimResult:
    r = ClaimResult()
    _grid(r, claim.statement["size"], seed)
    r.detail = "the stated formula gives torch's output size for every case"
    r.corrected = CORRECTED_SIZE
    return r


def conv_worked_sizes(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    for (n, k, s), out in st["examples"].items():
        actual = _torch_conv_size(n, n, k, k, 0, 0, s, s)[0]
        r.add(f"in {n}, kernel {k}, stride {s}", out == actual, out, actual, "the notes' worked number vs torch")
    _grid(r, st["size"], seed)
    r.detail = "the worked numbers and their rule ⌊(in − k + 2p)/s⌋ + 1 agree with torch everywhere"
    r.corrected = CORRECTED_SIZE
    return r


def conv_kernel_shape(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(6):
        in_c, out_c, kh, kw = (int(v) for v in rng.integers(1, 6, 4))
        conv = torch.nn.Conv2d(in_c, out_c, (kh, kw)).double()
        r.add(
            f"Conv2d({in_c}, {out_c}, ({kh}, {kw})).weight.shape",
            tuple(conv.weight.shape) == st["weight_shape"](out_c, in_c, kh, kw),
            st["weight_shape"](out_c, in_c, kh, kw),
            tuple(conv.weight.shape),
        )
        x = torch.randn(2, in_c, kh + 4, kw + 3, dtype=torch.float64)
        with torch.no_grad():
            out = conv(x)
        for o in range(out_c):
            weight, bias = conv.weight.detach(), _bias(conv)
            summed = sum(F.conv2d(x[:, c : c + 1], weight[o : o + 1, c : c + 1]) for c in range(in_c)) + bias[o]
            worst = max(worst, float((out[:, o : o + 1] - summed).abs().max()))
    if st["sums_input_channels"]:
        r.add(
            "each output channel = Σ over input channels of one kernel slice (+ bias)", worst < 1e-12, "< 1e-12", worst
        )
    r.detail = "one kernel of shape (in_channels, h, w) per output channel; it sums all input channels"
    return r


def conv1x1(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    for in_c, out_c, h, w in ((3, 8, 5, 7), (16, 4, 6, 6), (1, 2, 9, 4)):
        conv = torch.nn.Conv2d(in_c, out_c, kernel_size=1).double()
        x = torch.randn(2, in_c, h, w, dtype=torch.float64)
        with torch.no_grad():
            out = conv(x)
        r.add(
            f"1×1 conv {in_c}->{out_c} on {h}×{w}: shape",
            tuple(out.shape) == (2, out_c, h, w),
            (2, out_c, h, w),
            tuple(out.shape),
        )
        mixed = torch.einsum(st["mix"], x, conv.weight.detach()[:, :, 0, 0]) + _bias(conv)[None, :, None, None]
        gap = float((out - mixed).abs().max()) if mixed.shape == out.shape else float("inf")
        r.add(
            f"1×1 conv {in_c}->{out_c}: the same per-pixel channel mix",
            gap < 1e-12,
            "< 1e-12",
            gap,
            "each pixel maps on its own",
        )
    r.detail = "a 1×1 convolution is a per-pixel linear map of the channels: H and W stay, channels change"
    return r


def pooling_halves(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    k = st["window"]
    sizes, values = [], 0.0
    for h in range(2, 14):
        w = int(rng.integers(2, 14))
        x = torch.tensor(rng.normal(size=(2, 3, h, w)))
        for name, pool in (("max", torch.nn.MaxPool2d(k)), ("average", torch.nn.AvgPool2d(k))):
            out = pool(x)
            if (out.shape[1], out.shape[2], out.shape[3]) != (3, st["size"](h), st["size"](w)):
                sizes.append(f"{name} {h}×{w} -> {tuple(out.shape[2:])}, stated ({st['size'](h):g}, {st['size'](w):g})")
            windows = x[:, :, : h // k * k, : w // k * k].reshape(2, 3, h // k, k, w // k, k)
            expect = windows.amax(dim=(3, 5)) if name == "max" else windows.mean(dim=(3, 5))
            values = max(values, float((out - expect).abs().max()))
    r.add(
        "24 pooled sizes 2..13 (odd included): (C, H, W) as stated",
        not sizes,
        "all as stated",
        f"{len(sizes)} differ" + (f", e.g. {sizes[0]}" if sizes else ""),
    )
    r.add("values: max / mean of each 2×2 window", values < 1e-12, "< 1e-12", values)
    r.detail = "channels kept, H and W halved, each output the max or mean of its window"
    r.corrected = (
        "(H, W) -> (⌊H/2⌋, ⌊W/2⌋): exactly half only for even sizes (ceil_mode=False drops the last row/column)"
    )
    return r


def inception_channels(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    r.add("16 + 24 + 24 + 24", sum(st["branches"].values()) == st["total"], st["total"], sum(st["branches"].values()))
    for in_c, h, w in ((10, 12, 12), (20, 4, 4), (3, 7, 9)):
        module = st["build"](in_c)
        x = torch.randn(2, in_c, h, w)
        with torch.no_grad():
            for name, out in module.branches(x).items():
                want = (2, st["branches"][name], h, w)
                r.add(f"in {in_c}@{h}×{w}: {name}", tuple(out.shape) == want, want, tuple(out.shape))
            total = tuple(module(x).shape)
        r.add(f"in {in_c}@{h}×{w}: concatenation", total == (2, st["total"], h, w), (2, st["total"], h, w), total)
    r.detail = "every branch keeps H and W (odd sizes too); the concatenation has 88 channels"
    return r


def net_shape_trace(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    model = st["build"]()
    seen: list[tuple[str, tuple[int, ...]]] = []

    def hook(name: str) -> Callable[..., None]:
        def record(module: torch.nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            if name == "max_pooling":
                seen.append((f"max_pooling({seen[-1][0]})", tuple(out.shape[1:])))
                return
            if name == "full_conn":
                seen.append(("full_conn input", tuple(args[0].shape[1:])))
            seen.append((name, tuple(out.shape[1:])))

        return record

    for name in ("conv1", "max_pooling", "incept1", "conv2", "incept2", "full_conn"):
        getattr(model, name).register_forward_hook(hook(name))
    with torch.no_grad():
        model(torch.randn(3, *st["input"]))
    traced = dict(seen)
    for name, shape in st["trace"].items():
        r.add(name, traced.get(name) == tuple(shape), tuple(shape), traced.get(name, "not reached"))
    r.detail = " -> ".join(f"{n} {'×'.join(map(str, s))}" for n, s in seen)
    return r


def residual_block_shape(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    for c, h, w in ((1, 5, 7), (3, 8, 8), (8, 4, 9)):
        block = st["build"](c).double()
        x = torch.randn(2, c, h, w, dtype=torch.float64)
        with torch.no_grad():
            out = block(x)
            formula = F.relu(x + block.conv2(F.relu(block.conv1(x))))
        r.add(f"ResidualBlock({c}) on {h}×{w}: shape", out.shape == x.shape, tuple(x.shape), tuple(out.shape))
        r.add(
            f"ResidualBlock({c}): relu(x + conv2(relu(conv1(x))))",
            float((out - formula).abs().max()) == 0.0,
            0.0,
            float((out - formula).abs().max()),
        )
    r.detail = "(N, C, H, W) kept for odd and even sizes; the output is the stated formula"
    return r


def two_3x3_for_5x5(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    ks, single = st["stacked"], st["single"]
    kernels = [torch.randn(1, 1, k, k, dtype=torch.float64, requires_grad=True) for k in ks]
    x = torch.randn(1, 1, 15, 15, dtype=torch.float64, requires_grad=True)
    y = x
    for k in kernels:
        y = F.conv2d(y, k)
    centre = y[0, 0, y.shape[2] // 2, y.shape[3] // 2]
    (grad,) = torch.autograd.grad(centre, x, retain_graph=True)
    rows, cols = torch.nonzero(grad[0, 0], as_tuple=True)
    field = (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))
    r.add("receptive field of one output pixel", field == (single, single), (single, single), field)
    # Cross-correlating twice is cross-correlating once with the full convolution of the kernels.
    big = F.conv2d(F.pad(kernels[1].detach(), (ks[0] - 1,) * 4), kernels[0].detach().flip(2, 3))
    if big.shape[-1] == single:
        gap = float((y - F.conv2d(x, big)).detach().abs().max())
        r.add(
            f"two layers = one {single}×{single} conv with the kernels' full convolution", gap < 1e-12, "< 1e-12", gap
        )
    counts = (sum(k * k for k in ks), single * single)
    flat = torch.autograd.functional.jacobian(
        lambda a, b: F.conv2d(F.pad(b, (ks[0] - 1,) * 4), a.flip(2, 3)).flatten(), tuple(k.detach() for k in kernels)
    )
    rank = int(torch.linalg.matrix_rank(torch.cat([j.reshape(j.shape[0], -1) for j in flat], dim=1)))
    r.detail = (
        f"same receptive field {single}×{single}; weights {counts[0]} vs {counts[1]} per channel pair; the composed "
        f"kernels span a {rank}-dimensional family, so most {single}×{single} kernels are not two stacked 3×3"
    )
    return r


def keepdim_shapes(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    rng = np.random.default_rng(seed)
    ops: dict[str, Callable[[torch.Tensor, int, bool], list[torch.Tensor]]] = {
        "sum": lambda x, d, k: [x.sum(dim=d, keepdim=k)],
        "mean": lambda x, d, k: [x.mean(dim=d, keepdim=k)],
        "max": lambda x, d, k: list(x.max(dim=d, keepdim=k)),
        "min": lambda x, d, k: list(x.min(dim=d, keepdim=k)),
        "argmax": lambda x, d, k: [x.argmax(dim=d, keepdim=k)],
        "argmin": lambda x, d, k: [x.argmin(dim=d, keepdim=k)],
        "kthvalue": lambda x, d, k: list(x.kthvalue(1, dim=d, keepdim=k)),
        "norm": lambda x, d, k: [torch.linalg.vector_norm(x, dim=d, keepdim=k)],
    }
    wrong, count = [], 0
    for _ in range(40):
        shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 5))))
        x = torch.tensor(rng.normal(size=shape))
        dim = int(rng.integers(-len(shape), len(shape)))
        for keep in (False, True):
            for name, op in ops.items():
                count += 1
                for out in op(x, dim, keep):
                    if tuple(out.shape) != st["shape"](shape, dim, keep):
                        wrong.append(f"{name}{shape} dim={dim} keepdim={keep}: {tuple(out.shape)}")
    r.add(
        f"{count} reductions over random ranks and dims (values and indices)",
        not wrong,
        "as stated",
        f"{len(wrong)} differ" + (f", e.g. {wrong[0]}" if wrong else ""),
    )
    r.detail = f"{', '.join(ops)}: the dim goes unless keepdim=True keeps it as size 1"
    r.corrected = "the reduced dim is removed; keepdim=True keeps it with size 1"
    return r


def conv_io_ndim(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    conv, fc = torch.nn.Conv2d(3, 5, kernel_size=3), torch.nn.Linear(12, 4)
    with torch.no_grad():
        x = torch.randn(2, 3, 7, 9)
        y = conv(x)
        unbatched = conv(x[0]).dim()
        z = fc(torch.randn(2, 12))
    r.add(
        "Conv2d input, output", (x.dim(), y.dim()) == (st["conv_ndim"],) * 2, (st["conv_ndim"],) * 2, (x.dim(), y.dim())
    )
    r.add("Linear input, output", (2, z.dim()) == (st["linear_ndim"],) * 2, (st["linear_ndim"],) * 2, (2, z.dim()))
    r.detail = (
        f"a batch (n, C, H, W) in, (n, C', H', W') out; a Linear layer's (n, features) in and out; torch also takes "
        f"one unbatched image (C, H, W) and returns {unbatched}-D"
    )
    return r


def conv_layout(claim: Claim, seed: int) -> ClaimResult:
    """Name each spatial axis by the kernel side that shrinks it, as the note's kernel (out, in, 高', 宽') does."""
    st, r = claim.statement, ClaimResult()
    conv = torch.nn.Conv2d(1, 1, kernel_size=(3, 1))  # 高' = weight.shape[2] = 3, 宽' = weight.shape[3] = 1
    with torch.no_grad():
        out = conv(torch.zeros(1, 1, 5, 8))
    named = {2: "height", 3: "width"} if tuple(out.shape[2:]) == (5 - 3 + 1, 8) else {2: "width", 3: "height"}
    for axis, name in named.items():
        r.add(
            f"axis {axis}", st["layout"][axis] == name, st["layout"][axis], name, f"shrinks by the kernel's {name} − 1"
        )
    r.detail = "the layout is " + ", ".join(st["layout"])
    r.corrected = "[n, channels, height, width], as the note's own (N, C, 高, 宽) and torch's (N, C, H, W) say"
    return r


def concat_comment(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    module = notes_modules.inception(10)
    with torch.no_grad():
        branches = list(module.branches(torch.randn(2, 10, 12, 12)).values())
        try:
            shape: object = tuple(torch.cat(branches, dim=st["dim"]).shape)
        except RuntimeError as exc:
            shape = f"RuntimeError: {str(exc).splitlines()[0]}"
    axis = st["layout"][st["dim"]]
    r.add(f"dim={st['dim']} of {st['layout']}", axis == st["axis"], st["axis"], axis)
    want = (2, 88, 12, 12)
    r.add(f"torch.cat(outputs, dim={st['dim']})", shape == want, want, shape, "the four branches of Inception(10)")
    r.detail = f"dim={st['dim']} is the {axis} axis; the concatenation gives {shape}"
    r.corrected = "dim=1 (as the code has it) is the channel axis of (batch_size, channel, h, w); -1 is w"
    return r


def fc_comment(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    torch.manual_seed(seed)
    model, seen = st["build"](), []
    model.full_conn.register_forward_hook(lambda m, args, out: seen.append(tuple(args[0].shape)))
    with torch.no_grad():
        model(torch.zeros(*st["input"]))
    n = st["input"][0]
    r.add("the fully connected layer's input", seen[0] == (n, st["features"]), (n, st["features"]), seen[0])
    r.detail = f"the flattened (batch_size, 88, 4, 4) has {seen[0][1]} features, as Linear({seen[0][1]}, 10) takes"
    r.corrected = f"(batch_size,{seen[0][1]})->(batch_size,10): the comment's 320 is stale (88·4·4 = 1408)"
    return r


CHECKS = {
    "conv_io_four_dimensional": conv_io_ndim,
    "conv_layout_width_height": conv_layout,
    "inception_concat_comment": concat_comment,
    "fc_comment_320": fc_comment,
    "conv_output_size": conv_output_size,
    "conv_worked_sizes": conv_worked_sizes,
    "conv_kernel_shape": conv_kernel_shape,
    "conv1x1_mixes_channels": conv1x1,
    "pooling_halves": pooling_halves,
    "inception_channels": inception_channels,
    "net_shape_trace": net_shape_trace,
    "residual_block_shape": residual_block_shape,
    "two_3x3_for_5x5": two_3x3_for_5x5,
    "keepdim_shapes": keepdim_shapes,
    **conv_information.CHECKS,  # E4's information and computation, in their own module for its length
}
