"""The notes' printed code (D11, E11), taken from the seed text and run as printed in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from derivations.model import Claim
from harness.claim_checks.result import ClaimResult

TIMEOUT_S = 60.0
# The notes sit beside the checkout (../shared/seeds); GRADPROOF_SEEDS points elsewhere.
SEEDS = Path(os.environ.get("GRADPROOF_SEEDS", Path(__file__).resolve().parents[2].parent / "shared" / "seeds"))


def seed_text(name: str) -> str:
    """The seed's text; a missing or undecodable file raises with the path, so the claim is an error, not a crash."""
    path = SEEDS / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"seed file {path} is missing") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"seed file {path} is not UTF-8 ({exc.reason} at byte {exc.start})") from None


@dataclass(frozen=True)
class Run:
    code: str
    first_line: int  # the code's first line in the seed file
    returncode: int | None  # None: stopped at the timeout
    stdout: str
    error: str  # the last line of stderr
    error_line: int | None  # the failing line, in the seed file's numbering


def run_printed(text: str, pattern: str) -> Run:
    """Run the first match of `pattern` in `text` as it stands: no import added, nothing re-indented."""
    match = re.search(pattern, text)
    if match is None:
        raise LookupError(f"the printed code {pattern!r} is not in the seed text")
    code, first = match.group(0), text.count("\n", 0, match.start()) + 1
    with tempfile.TemporaryDirectory() as cwd:
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            return Run(code, first, None, "", f"still running after {TIMEOUT_S:.0f} s", None)
    lines = done.stderr.strip().splitlines()
    where = [int(n) for n in re.findall(r'File "<string>", line (\d+)', done.stderr)]
    return Run(
        code, first, done.returncode, done.stdout, lines[-1] if lines else "", first + where[-1] - 1 if where else None
    )


def runs_as_printed(claim: Claim, seed: int) -> ClaimResult:
    st, r = claim.statement, ClaimResult()
    run = run_printed(seed_text(st["seed"]), st["pattern"])
    n = run.code.count("\n") + 1
    where = f"{st['seed']} lines {run.first_line}-{run.first_line + n - 1}"
    failed_at = ""
    if run.error_line is not None:
        printed = run.code.splitlines()[run.error_line - run.first_line].strip()
        failed_at = f"line {run.error_line}: {printed!r}: "
    r.add(
        f"runs as printed ({where})",
        run.returncode == 0,
        "exit status 0",
        f"exit status {run.returncode}" if run.returncode == 0 else f"{failed_at}{run.error}",
        "in a fresh interpreter, nothing added",
    )
    r.detail = f"{where} ran with exit status 0" + (f", printing {run.stdout.strip()[:200]!r}" if run.stdout else "")
    r.corrected = (
        "the code as printed does not run (the text lost what it needs: indentation, an operator, imports); "
        "the catalog's transcription (derivations/notes_modules.py) restores it and the shape claims check that"
    )
    return r


CHECKS = {"init_line_runs_as_printed": runs_as_printed, "inception_code_runs_as_printed": runs_as_printed}
