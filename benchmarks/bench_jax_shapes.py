"""What shape buckets save a JIT library: JAX over the catalog, with the adapter as it was and as it is.

    python benchmarks/bench_jax_shapes.py --before /tmp/jaxbench/jax_kind_before.py --repeats 2

Each run is `gradproof verify --impl examples/jax_impl.py --profile quick --in-process -j 1` in a fresh
process (JAX's compile cache is per process), with one of four adapters: "before", loaded from a copy of
the old jax_kind.py in place of the current one; "plain", the current one with buckets="off"; "after",
the current one as it is (buckets="exact"); "all", the current one with buckets="all". The variants
rotate so that all see the same load. For each run: wall and CPU seconds (the child's user + system), the
XLA compilations JAX made (its backend-compile events), per op the shapes the adapter's jitted functions
compiled for, and the checks whose verdict differs from the first run's.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = str(ROOT / "examples" / "jax_impl.py")
BUCKETS = {"plain": "off", "current": "exact", "all": "all"}  # the current adapter's settings, by variant
VERIFY = ["verify", "--impl", SPEC, "--profile", "quick", "--in-process", "-j", "1", "--quiet", "--no-claims"]


def child(adapter: str, out: str, extra: list[str]) -> None:
    """One verify run in this process; the compile counts go to `out` as JSON."""
    sys.path.insert(0, str(ROOT))
    import jax

    from harness import cli
    from harness.impl import kinds

    compiles = [0]

    def on_event(event: str, duration_secs: float, **kwargs: str | int) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            compiles[0] += 1

    jax.monitoring.register_event_duration_secs_listener(on_event)
    kind_class: Any = kinds.KINDS["jax"]
    if adapter not in BUCKETS:
        loader = importlib.util.spec_from_file_location("jax_kind_before", adapter)
        assert loader is not None and loader.loader is not None
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
        kind_class = module.JaxKind
    made: list[Any] = []

    def tracked() -> Any:
        made.append(kind_class())
        made[-1].buckets = BUCKETS.get(adapter, "off")
        return made[-1]

    kinds.KINDS["jax"] = tracked
    with tempfile.TemporaryDirectory() as reports:
        code = cli.main([*VERIFY, "--report-dir", reports, *extra])
        checks = json.loads((Path(reports) / "report.json").read_text())["checks"]
    per_op: Counter[str] = Counter()
    for kind in made:
        for key, jitted in kind._cache.items():
            per_op[key[0]] += jitted._cache_size()
    verdicts = {c["id"]: c["verdict"] for c in checks}
    found = {"exit": code, "compiles": compiles[0], "per_op": dict(per_op), "verdicts": verdicts}
    Path(out).write_text(json.dumps(found))


def measure(adapter: str, extra: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--child", adapter, "--out", out, "--", *extra],
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found: dict[str, Any] = json.loads(Path(out).read_text())
    os.unlink(out)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), **found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", help="a copy of the old harness/impl/jax_kind.py; without it, the current only")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("extra", nargs="*", help="more verify arguments, after --")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out, args.extra)
        return
    variants = [("plain", "plain"), ("after", "current"), ("all", "all")]
    if args.before:
        variants.insert(0, ("before", args.before))
    first: dict[str, str] = {}
    for repeat in range(args.repeats):
        shift = repeat % len(variants)
        for name, adapter in variants[shift:] + variants[:shift]:
            found = measure(adapter, args.extra)
            verdicts = found.pop("verdicts")
            first = first or verdicts
            differ = sorted(k for k in first.keys() | verdicts.keys() if first.get(k) != verdicts.get(k))
            print(
                f"{name:6} wall {found['wall_s']:6.1f} s  cpu {found['cpu_s']:6.1f} s  compiles {found['compiles']:4}"
                f"  checks {len(verdicts)}  verdicts differing from the first run {differ}  per op {found['per_op']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
