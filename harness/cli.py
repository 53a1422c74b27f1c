"""gradproof's command line: `verify` runs the catalog, `report` re-renders its views, `list` prints it.

Only the arguments are read here, with no heavy import: a usage error answers before torch, SymPy and
hypothesis load; each command's module is imported once its arguments are known to be good."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from harness.choices import BACKENDS, CONFORMANCE_CHECKS, DEFAULT_TIMEOUT, DEVICES, DTYPES, PROFILES, VALUE_CHECKS
from harness.selftest import cli as selftest_cli
from harness.shape_text import parse_spec
from harness.usage import UsageError, names, report_dir


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradproof", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    verify = sub.add_parser("verify", help="check every derivation x backend x dtype; write reports")
    verify.add_argument("--only", action="append", help="derivations and claims, comma separated")
    verify.add_argument("--no-claims", action="store_true", help="check the derivations only, not the claims")
    verify.add_argument("--backend", action="append", help=f"backends: {', '.join(BACKENDS)}")
    verify.add_argument("--dtype", action="append", help=f"dtypes: {', '.join(DTYPES)}")
    verify.add_argument("--device", action="append", help="devices: cpu, cuda")
    verify.add_argument("--check", action="append", help=f"checks: {', '.join(VALUE_CHECKS + CONFORMANCE_CHECKS)}")
    verify.add_argument(
        "--order", type=int, choices=(1, 2), default=1, help="2: add the second-order checks (vjp-of-vjp, hvp)"
    )
    verify.add_argument("--seed", type=int, default=0, help="seed for inputs and directions (default 0)")
    verify.add_argument("--profile", choices=tuple(PROFILES), default="default", help="examples per region")
    verify.add_argument("--report-dir", type=Path, help="where report.json goes (default ./reports)")
    verify.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="NAME=v1,v2;v3,v4",
        help="check at this input only; NAME=[JSON] too",
    )
    verify.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="parameter for --at")
    _add_shape(verify)
    verify.add_argument("--quiet", action="store_true", help="no progress lines")
    verify.add_argument("--shard", metavar="K/N", help="run the K-th of N parts of the plan (merge with `report`)")
    verify.add_argument(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="run up to N shard processes, then merge (default: the usable cores for a large plan, else 1)",
    )
    rerender = sub.add_parser(
        "report", help="render index.html and junit.xml from a report.json; merge the reports of shards"
    )
    rerender.add_argument("json", type=Path, nargs="+", help="the report.json to render, or the shards' to merge")
    rerender.add_argument("--out", type=Path, help="folder for the views (default: the JSON's; needed to merge)")
    verify.add_argument(
        "--impl", action="append", metavar="MODULE_OR_FILE", help="check your implementation (see `list --params`)"
    )
    verify.add_argument(
        "--ops", action="append", default=[], metavar="MODULE_OR_FILE", help="your own ops (gradproof.op), with --impl"
    )
    verify.add_argument("--expectations", type=Path, metavar="FILE", help="skip/xfail entries keyed by check id")
    verify.add_argument(
        "--timeout",
        type=float,
        help=f"seconds per call into --impl (default {DEFAULT_TIMEOUT:g})",
    )
    verify.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help="with --shape: a run whose estimated checking time is over it is refused before it starts; "
        "with --impl: seconds all calls into each implementation may take, its later checks errors",
    )
    verify.add_argument("--in-process", action="store_true", help="run --impl without a worker process")
    # -j's shard processes: their parent merges the reports and writes (and validates) the views once.
    verify.add_argument("--json-only", action="store_true", help=argparse.SUPPRESS)
    show = sub.add_parser("list", help="print the catalog")
    show.add_argument("--json", action="store_true", help="as JSON")
    show.add_argument("--params", nargs="?", const="", metavar="OP", help="every op's call and layout, or OP's")
    show.add_argument("--example", action="store_true", help="with --params OP: a NumPy implementation of OP")
    selftest_cli.add_parser(sub)
    return parser


def _add_shape(verify: argparse.ArgumentParser) -> None:
    verify.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="OP=SHAPE",
        help="check OP at this size: SHAPE is its first input's (softmax=4096x64, conv2d=2,3,32,32), one "
        "example per region; repeatable; without --only the run covers just the ops named here, with --only "
        "the ops it names (those without a --shape keep their usual small draws)",
    )


def _seconds(flag: str, value: float | None) -> None:
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise UsageError(f"{flag} must be a positive number of seconds, not {value:g}")


def _check_verify(args: argparse.Namespace) -> None:
    """Every check of verify's arguments that needs no catalog, before anything heavy is imported."""
    _seconds("--timeout", args.timeout)
    _seconds("--budget", args.budget)
    for flag, given in (("--timeout", args.timeout), ("--in-process", args.in_process)):
        if given not in (None, False) and not args.impl:
            raise UsageError(f"{flag} goes with --impl: it is about the implementations under check")
    if args.budget is not None and not (args.impl or args.shape):
        raise UsageError("--budget goes with --impl or --shape: it bounds their time")
    if args.ops and not args.impl:
        raise UsageError("--ops needs --impl: the implementations to check against your ops")
    if args.backend and args.impl:
        raise UsageError("--backend does not go with --impl: --impl names the implementations to check")
    if args.param and not args.at:
        raise UsageError("--param goes with --at")
    if args.shape and args.at:
        raise UsageError("--shape does not go with --at: --at gives the input itself")
    try:
        args.shapes = [parse_spec(spec) for spec in args.shape]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # A run that can be split into shard processes (a --shape's examples are drawn and checked up front, in one).
    whole = not (args.impl or args.at or args.shard or args.shape)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"-j takes a number of processes, 1 or more, not {args.jobs}")
    if args.jobs is not None and args.jobs != 1 and not whole:
        raise UsageError("-j does not go with --impl, --at, --shard or --shape: run those as one process")
    for values, valid, what in (
        (args.backend, BACKENDS, "backend"),
        (args.dtype, DTYPES, "dtype"),
        (args.device, DEVICES, "device"),
        (args.check, VALUE_CHECKS + CONFORMANCE_CHECKS, "check"),
    ):
        names(values, valid, what)
    if args.timeout is None:
        args.timeout = DEFAULT_TIMEOUT
    report_dir(args.report_dir)


def _command(args: argparse.Namespace) -> Callable[[argparse.Namespace], int]:
    """The command's function, its module imported only now."""
    if args.command == "verify":
        _check_verify(args)
    _hypothesis_cache()
    if args.command == "verify":
        from harness.verify_command import cmd_verify

        return cmd_verify
    if args.command == "report":
        from harness.verify_command import cmd_report

        return cmd_report
    if args.command == "list":
        from harness.listing import cmd_list

        return cmd_list
    return selftest_cli.cmd_selftest


def _hypothesis_cache() -> None:
    """hypothesis keeps a cache of its own (constants, examples): under the user's cache folder, never in
    whatever folder a run was started from."""
    from hypothesis.configuration import set_hypothesis_home_dir

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    set_hypothesis_home_dir(base / "gradproof" / "hypothesis")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # -j runs this very command in shards
        return _command(args)(args)
    except UsageError as exc:
        print(f"gradproof: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gradproof: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`gradproof list | head`): no traceback, and nothing more to write there.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
