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


def cmd_selftest(args: argparse.Namespace) -> int:
    from harness.selftest.run import main

    return main(args)
