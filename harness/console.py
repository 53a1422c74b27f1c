"""What `gradproof verify` prints: progress lines while it runs, the summary and failures at the end,
and a warning when it replaces a fuller report."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path


def say_what_is_replaced(directory: Path, data: dict[str, object]) -> None:
    """A narrower run (--only) over a fuller report in the same folder says so: the fuller one is gone."""
    try:
        old = json.loads((directory / "report.json").read_text(encoding="utf-8"))
        before = {str(d["name"]) for d in old["derivations"]} | {str(c["name"]) for c in old.get("claims", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return
    now = {str(d["name"]) for d in data["derivations"]} | {str(c["name"]) for c in data.get("claims", [])}  # type: ignore[attr-defined]
    if before - now:
        print(
            f"gradproof: replacing {directory / 'report.json'}, which covered {len(before)} ops and claims, "
            f"with this run's {len(now)} ({len(before - now)} no longer in it)",
            file=sys.stderr,
        )


def progress(quiet: bool) -> tuple[Callable[[str], None], Callable[[str], None]]:
    """`say` prints a finished line; `live` shows where a long run is: one rewritten line on
    a terminal, nothing elsewhere, so that logs keep only the finished lines."""
    if quiet:
        return (lambda line: None), (lambda line: None)
    tty = sys.stderr.isatty()
    clear = "\r\033[K" if tty else ""

    def say(line: str) -> None:
        print(clear + line, file=sys.stderr, flush=True)

    def live(line: str) -> None:
        if tty:
            print(clear + line[:150], end="", file=sys.stderr, flush=True)

    return say, live


def _abridged(given: dict[str, object], width: int = 160) -> str:
    """The input a failing check used, in the checked dtype's values, cut to one line per run."""
    arrays = given.get("arrays") or {}
    parts = [f"region {given.get('region')}"]
    if given.get("params"):
        parts.append(f"params {json.dumps(given['params'])}")
    for name, values in arrays.items():  # type: ignore[attr-defined]
        text = json.dumps(values)
        parts.append(f"{name}={text if len(text) <= width else text[: width - 5] + ' ...'}")
    return "; ".join(parts)


def print_summary(data: dict[str, object], path: Path) -> None:
    s = data["summary"]
    assert isinstance(s, dict)
    for rec in data["checks"]:  # type: ignore[attr-defined]
        if rec["verdict"] in ("fail", "error"):
            limit = " [range limit: only at range regions]" if rec.get("severity") == "range-limit" else ""
            print(f"{rec['verdict'].upper()} {rec['id']}{limit}: {rec['message']}")
            given = (rec.get("failure") or {}).get("input")
            if given:
                print(f"  input: {_abridged(given)}")
            print(f"  reproduce: {rec['reproduce']}")
    for d in data["derivations"]:  # type: ignore[attr-defined]
        if d["symbolic"]["status"] == "refuted":
            print(f"REFUTED {d['name']}: {d['symbolic']['detail']}; corrected: {d['symbolic']['corrected']}")
    for c in data.get("claims", []):  # type: ignore[attr-defined]
        if c["verdict"] == "refuted":
            print(f"REFUTED {c['name']}: {c['detail']}; corrected: {c['corrected']}")
        elif c["verdict"] == "error":
            print(f"ERROR claim {c['name']}: {c['detail']}")
    if data.get("claims_summary"):
        print("claims: " + ", ".join(f"{n} {v}" for v, n in data["claims_summary"].items()))  # type: ignore[attr-defined]
    for rec in data["checks"]:  # type: ignore[attr-defined]
        if rec["verdict"] == "xpass":
            print(f"XPASS {rec['id']}: expected to fail ({rec['expected_failure']['reason']}) but passed")
    counts = f"{s['pass']} passed, {s['fail']} failed, {s['error']} errors, {s['skip']} skipped"
    if s.get("xfail") or s.get("xpass"):
        counts += f", {s['xfail']} expected failures, {s['xpass']} unexpected passes"
    print(f"{counts} in {data['seconds']} s; report: {path}")
