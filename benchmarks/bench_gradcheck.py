"""gradproof's Jacobian and projection checks against torch.autograd.gradcheck, side by side.

Same ops, same float64 CPU inputs of 1,024 elements, timed in one run (median of repeats).
The exact reference is computed once beforehand and timed separately: gradcheck has none.

    python benchmarks/bench_gradcheck.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from derivations import CATALOG
from harness import cases, checks, exact, projection
from harness.backends.base import Target
from harness.backends.torch_backend import TorchBackend
from harness.dtypes import get_format, reference_digits

TARGET = Target("cpu", "float64")


def _inputs(name: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    d = CATALOG[name]
    shape = (1024,) if d.structure == "elementwise" else (128, 8)
    z = rng.uniform(-4, 4, size=shape)
    z[np.abs(z) < 1e-2] = 0.5  # away from kinks, where gradcheck has no subgradient notion
    arrays = {d.wrt.name: z}
    if name == "mse":
        arrays["y"] = rng.normal(size=shape)
    elif name == "softmax_cross_entropy":
        arrays["y"] = rng.dirichlet(np.ones(shape[-1]), size=shape[0])
    elif name == "binary_cross_entropy":
        arrays["y"] = rng.uniform(size=shape)
    return arrays


def _gradcheck_fn(
    name: str, arrays: dict[str, np.ndarray]
) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
    op = TorchBackend().ops[name]
    d = CATALOG[name]
    params = d.param_defaults()
    others = [torch.from_numpy(arrays[i.name]) for i in d.inputs if not i.differentiable]
    x = torch.from_numpy(arrays[d.wrt.name].copy()).requires_grad_(True)
    return (lambda t: op(t, *others, **params)), x  # type: ignore[operator]


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _measure(name: str, rng: np.random.Generator, repeats: int) -> tuple[float, ...]:
    """Seconds for: exact reference, Jacobian check, gradcheck, projection check, fast gradcheck."""
    d = CATALOG[name]
    backend = TorchBackend()
    fmt = get_format("float64")
    arrays = _inputs(name, rng)
    x = arrays[d.wrt.name]
    cot = rng.standard_normal(d.output_shape(x.shape))
    t0 = time.perf_counter()
    ref = exact.evaluate(d, arrays, d.param_defaults(), cot, digits=reference_digits(fmt))
    t_exact = time.perf_counter() - t0
    case = cases.Case(d, arrays, d.param_defaults(), cot, ref, fmt, 0)
    # Both sides must accept the correct op before their speed means anything.
    assert checks.jacobian(backend, case, TARGET).measurement.usage <= 1.0
    assert projection.projection(backend, case, TARGET).measurement.usage <= 1.0
    fn, xt = _gradcheck_fn(name, arrays)
    assert torch.autograd.gradcheck(fn, (xt,), fast_mode=False)
    return (
        t_exact,
        _median_seconds(lambda: checks.jacobian(backend, case, TARGET), repeats),
        _median_seconds(lambda: torch.autograd.gradcheck(fn, (xt,), fast_mode=False), repeats),
        _median_seconds(lambda: projection.projection(backend, case, TARGET), repeats),
        _median_seconds(lambda: torch.autograd.gradcheck(fn, (xt,), fast_mode=True), repeats),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    ratios = []
    header = ("op", "exact ref", "jacobian", "gradcheck", "ratio", "projection", "fast gc", "ratio")
    print("{:24} {:>10} {:>10} {:>10} {:>7} {:>11} {:>9} {:>7}".format(*header))
    for name in CATALOG:
        t_exact, t_jac, t_gc, t_proj, t_fast = _measure(name, rng, args.repeats)
        ratios.append((t_gc / t_jac, t_fast / t_proj))
        print(
            f"{name:24} {t_exact:10.3f} {t_jac:10.4f} {t_gc:10.4f} {t_gc / t_jac:6.1f}x "
            f"{t_proj:11.4f} {t_fast:9.4f} {t_fast / t_proj:6.1f}x"
        )
    print(
        f"median speed-up, Jacobian mode vs gradcheck(fast_mode=False): {statistics.median(r[0] for r in ratios):.1f}x"
    )
    print(
        f"median speed-up, projection vs gradcheck(fast_mode=True):     {statistics.median(r[1] for r in ratios):.1f}x"
    )


if __name__ == "__main__":
    main()
