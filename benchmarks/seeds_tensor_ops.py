"""Silence over many seeds: tensor ops through the NumPy reference and torch, CPU, default profile.

    python benchmarks/seeds_tensor_ops.py --seeds 0 31 perceptron_single perceptron_multi

Prints every check that failed or errored, then the count; 0 means no false alarm.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs=2, type=int, default=(0, 20), metavar=("FIRST", "STOP"))
    parser.add_argument("--profile", default="default")
    parser.add_argument("ops", nargs="*", help="tensor op names (default: all)")
    args = parser.parse_args()

    from derivations import TENSOR_OPS
    from harness.backends import NumpyBackend, TorchBackend
    from harness.runner import Runner, RunOptions, examples_for

    bad = 0
    for name in args.ops or list(TENSOR_OPS):
        op = TENSOR_OPS[name]
        for seed in range(*args.seeds):
            options = RunOptions(seed=seed, profile=args.profile, devices=("cpu",))
            records = Runner([NumpyBackend(), TorchBackend()], options).run_op(op, examples_for(op, options))
            failed = [str(r["id"]) for r in records if r["verdict"] in ("fail", "error")]
            bad += len(failed)
            for rid in failed:
                print(f"seed {seed}: {rid}")
    print(f"{bad} failed or errored")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
