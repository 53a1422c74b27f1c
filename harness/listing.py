"""`gradproof list`: the catalog, one line or one JSON row per entry, and with --params each op's call."""

from __future__ import annotations

import argparse
import json

from derivations import CLAIMS, OPS
from derivations.model import Claim, Op
from harness.impl import conventions


def cmd_list(args: argparse.Namespace) -> int:
    if args.params:
        print(conventions.text() if not args.json else json.dumps(conventions.rows(), indent=1))
        return 0
    entries: list[Op | Claim] = [*OPS.values(), *CLAIMS.values()]
    if args.json:
        print(json.dumps([_list_row(e) for e in entries], indent=1, ensure_ascii=False))
        return 0
    for e in entries:
        print(_list_line(e))
    return 0


def _list_row(e: Op | Claim) -> dict[str, object]:
    kind = {"method": e.method} if isinstance(e, Claim) else {"structure": e.structure}
    return {"name": e.name, "title": e.title, **kind, "claims": list(e.source.claims), "seed": e.source.seed}


def _list_line(e: Op | Claim) -> str:
    claims = "/".join(e.source.claims)
    if isinstance(e, Claim):
        return f"{e.name:24} claim/{e.method:10} {claims}  {e.title}"
    inputs = ", ".join(i.name + ("" if i.differentiable else " (target)") for i in e.inputs)
    params = "".join([*(f", {p.name}={p.default:g}" for p in e.params), *(f", {p}" for p in e.params_doc)])
    return f"{e.name:24} {e.structure:11} ({inputs}{params})  {claims}  {e.title}"
