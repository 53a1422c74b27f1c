"""`gradproof selftest`."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("selftest", help="run the mutant library and print the detection table")
    p.add_argument("--seed", type=int, default=0, help="seed for inputs and directions (default 0)")
    p.add_argument("--only", action="append", help="mutant families or ops, comma separated")
    p.add_argument("--report-dir", help="where report.json goes (default ./reports)")
    p.add_argument("--in-process", action="store_true", help="no worker process")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "-j",
        "--jobs",
        type=_processes,
        metavar="N",
        help="check N ops at once, each in a process of its own (default: the number of CPUs); the same table",
    )


def _processes(text: str) -> int:
    """-j's value, checked before anything heavy is imported."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"-j takes a number of processes, 1 or more, not {text!r}")
    return n


def cmd_selftest(args: argparse.Namespace) -> int:
    from harness.selftest.run import main

    return main(args)
