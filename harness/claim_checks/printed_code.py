"""The notes' printed code (C2, D11, E8, E11), taken from the seed text and run as printed in a subprocess.

The code runs in a fresh interpreter (`python -I`) from a file in an empty folder, with a stand-in for
matplotlib.pyplot first on its path (harness/claim_checks/pyplot_stub.py: records the calls, draws nothing).
Nothing is added or changed unless a claim's statement names a `Reading` (derivations/notes_code.py): the
indentation the text lost, lines put before the code, replacements within a line. Error lines are given in
the seed file's numbering.
"""

from __future__ import annotations

import builtins
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import symtable
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from derivations.model import Claim
from derivations.notes_code import Reading
from harness import seeds
from harness.claim_checks import pyplot_stub
from harness.claim_checks.result import ClaimResult

TIMEOUT_S = 60.0
PROGRAM = "printed.py"
# Runs the program file with the stand-in folder first on sys.path; -I keeps the user's site and PYTHON* out.
BOOT = (
    "import runpy, sys; sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[2:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


@dataclass(frozen=True)
class Run:
    code: str  # as printed (the seed's lines, before any reading)
    first_line: int  # the code's first line in the seed file
    returncode: int | None  # None: stopped at the timeout
    stdout: str
    error: str  # the last line of stderr, its line numbers in the seed's numbering
    error_line: int | None  # the failing line, in the seed file's numbering
    calls: tuple[tuple[str, tuple[object, ...]], ...] = ()  # the pyplot calls, in order

    def printed_line(self, seed_line: int) -> str:
        return self.code.splitlines()[seed_line - self.first_line].strip()


def extract(text: str, pattern: str) -> tuple[str, int]:
    """The first match of `pattern` and the seed line it starts on."""
    match = re.search(pattern, text)
    if match is None:
        raise LookupError(f"the printed code {pattern!r} is not in the seed text")
    return match.group(0), text.count("\n", 0, match.start()) + 1


def apply_reading(code: str, reading: Reading) -> str:
    """The code as read: one line in, one line out, each changed only as the reading says."""
    lines = code.splitlines()
    for old, new in reading.edits:
        if old not in code:
            raise LookupError(f"the reading replaces {old!r}, which the printed code does not hold")
        code = code.replace(old, new)
    edited = code.splitlines()
    if len(edited) != len(lines):
        raise ValueError("a reading's replacement must keep the printed lines")
    levels = reading.levels()
    if levels is None:
        return code
    if len(levels) != len(lines):
        raise ValueError(f"the reading gives {len(levels)} indentation levels for {len(lines)} printed lines")
    return "\n".join("    " * level + line.lstrip() for level, line in zip(levels, edited, strict=True))


def run_printed(text: str, pattern: str, reading: Reading | None = None) -> Run:
    """Run the first match of `pattern` in `text`: as it stands, or as `reading` reads it."""
    code, first = extract(text, pattern)
    source = code if reading is None else "\n".join((*reading.prelude, apply_reading(code, reading)))
    return _run(code, first, source, len(reading.prelude) if reading else 0)


@functools.lru_cache(maxsize=16)
def _run(code: str, first: int, source: str, added: int) -> Run:
    """One subprocess per distinct program: the claims that read one program's output share its run."""
    with tempfile.TemporaryDirectory() as cwd:
        stubs = Path(cwd, "stubs", "matplotlib")
        stubs.mkdir(parents=True)
        (stubs / "__init__.py").write_text('"""gradproof\'s stand-in: no plotting."""\n', encoding="utf-8")
        shutil.copyfile(pyplot_stub.__file__, stubs / "pyplot.py")
        Path(cwd, PROGRAM).write_text(source + "\n", encoding="utf-8")
        log = Path(cwd, "pyplot.jsonl")
        # Code scraped from the notes gets no more of this process's environment than it needs to run:
        # its home and temporary folder are the empty working folder.
        keep = {k: os.environ[k] for k in ("PATH", "LANG", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
        env = {**keep, "HOME": cwd, "TMPDIR": cwd, pyplot_stub.LOG_VARIABLE: str(log)}
        # -X utf8: the programs' text and tracebacks (Chinese comments) cross the pipe as UTF-8 whatever the locale.
        command = [sys.executable, "-I", "-X", "utf8", "-c", BOOT, str(stubs.parent), PROGRAM]
        # A session of its own, so that a timeout ends the program and anything it started, not only the child.
        with subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            encoding="utf-8",
            errors="replace",
        ) as proc:
            try:
                stdout, stderr_text = proc.communicate(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                return Run(code, first, None, "", f"still running after {TIMEOUT_S:.0f} s", None)
        done = subprocess.CompletedProcess(command, proc.returncode, stdout, stderr_text)
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    calls = tuple((str(c), tuple(v)) for c, v in map(json.loads, lines))

    def seed_line(n: int) -> int | None:
        return first + n - 1 - added if n > added else None  # None: a line the reading put before the code

    where = [int(n) for n in re.findall(rf'File "[^"]*{re.escape(PROGRAM)}", line (\d+)', done.stderr)]
    stderr = done.stderr.strip().splitlines()
    error = re.sub(r"\bon line (\d+)", lambda m: f"on line {seed_line(int(m.group(1)))}", stderr[-1] if stderr else "")
    return Run(code, first, done.returncode, done.stdout, error, seed_line(where[-1]) if where else None, calls)


def undefined_names(source: str) -> list[str]:
    """Names the code uses but never binds at module level, imports or finds among the builtins."""
    table = symtable.symtable(source, PROGRAM, "exec")
    bound = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    used: set[str] = set()
    tables = [table]
    while tables:
        scope = tables.pop()
        used |= {s.get_name() for s in scope.get_symbols() if s.is_global() and s.is_referenced()}
        tables.extend(scope.get_children())
    return sorted(used - bound - set(dir(builtins)))


def failure(run: Run) -> str:
    """'line N: 'the printed line': the error', or the error alone when no line of the code is named."""
    if run.error_line is None:
        return run.error
    return f"line {run.error_line}: {run.printed_line(run.error_line)!r}: {run.error}"


def read_as(text: str, pattern: str, reading: Reading) -> str:
    """What the code does as the reading reads it: run to its end, or where it stops; and the names it lacks."""
    run = run_printed(text, pattern, reading)
    code, _first = extract(text, pattern)
    try:
        missing = undefined_names("\n".join((*reading.prelude, apply_reading(code, reading))))
    except SyntaxError:
        missing = []
    outcome = "it runs to its end" if run.returncode == 0 else f"it stops at {failure(run)}"
    lacks = f"; it uses {', '.join(missing)}, which it never imports or defines" if missing else ""
    return f"read {reading.describe()}, {outcome}{lacks}"


def runs_as_printed(claim: Claim, seed: int) -> ClaimResult:
    """The statement names the code (seed, pattern) and optionally a `restore` reading to run it under; the
    claim's own `reading` only describes, in the corrected statement, what the damaged text needs."""
    st, r = claim.statement, ClaimResult()
    text = seeds.text(st["seed"])
    run = run_printed(text, st["pattern"], st.get("restore"))
    n = run.code.count("\n") + 1
    where = f"{st['seed']} lines {run.first_line}-{run.first_line + n - 1}"
    r.add(
        f"runs {'as printed' if st.get('restore') is None else 'as read'} ({where})",
        run.returncode == 0,
        "exit status 0",
        f"exit status {run.returncode}" if run.returncode == 0 else failure(run),
        "in a fresh interpreter, nothing added to the code" if st.get("restore") is None else st["restore"].describe(),
    )
    shown = f", printing {run.stdout.strip()[:200]!r}" if run.stdout.strip() else ", printing nothing"
    r.detail = f"{where} ran with exit status 0{shown}"
    reading = st.get("reading")
    if run.returncode != 0:  # only a refuted claim shows the corrected statement, and the reading costs a run
        r.corrected = (
            f"the code as printed does not run ({failure(run)}); {read_as(text, st['pattern'], reading)}"
            if reading is not None
            else "the code as printed does not run (the text lost what it needs: indentation, an operator, imports)"
        )
    return r


CHECKS = {
    name: runs_as_printed
    for name in (
        "init_line_runs_as_printed",
        "inception_code_runs_as_printed",
        "residual_code_runs_as_printed",
        "gd_program_runs_as_printed",
        "sgd_program_runs_as_printed",
    )
}
