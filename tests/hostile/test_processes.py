"""Worker processes: an implementation that crashes, exits or hangs on import, or leaves processes behind."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from harness.impl import isolation
from tests.hostile.common import IMPLS, SIGMOID, verify


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("import os\nos._exit(3)\n", "crashed its worker process (exited with status 3) loading the implementation"),
        ("import ctypes\nctypes.string_at(0)\n", "crashed its worker process (killed by SIGSEGV) loading the"),
        ("import time\ntime.sleep(3600)\n", "timed out after 2 s loading the implementation"),
    ],
    ids=["os-exit", "segfault", "hang"],
)
def test_an_import_crash_is_a_problem_line_and_the_other_implementations_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, source: str, why: str
) -> None:
    monkeypatch.setattr(isolation, "START_FLOOR", 2.0)  # an import may take START_FLOOR, 30 s, otherwise
    (tmp_path / "dies.py").write_text(source)
    (tmp_path / "fine.py").write_text(SIGMOID)
    out = tmp_path / "out"
    out.mkdir()
    args = ("--impl", str(tmp_path / "dies.py"), "--impl", str(tmp_path / "fine.py"), "--only", "sigmoid")
    status, report = verify(out, *args, "--dtype", "float64", "--timeout", "0.3")
    problems = [line for line in capsys.readouterr().err.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"PROBLEM {tmp_path / 'dies.py'}: ") and why in problems[0], problems[0]
    assert {c["backend"] for c in report["checks"]} == {"impl:fine"}
    assert {c["verdict"] for c in report["checks"]} == {"pass"} and report["load_errors"]
    assert status == 1, "an implementation that cannot be loaded is a problem of the run"


def _alive_with(mark: str) -> list[int]:
    """Processes (not zombies) whose environment holds this mark: the run's and any it left behind."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if mark.encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


def _left_behind(mark: str) -> list[int]:
    """The processes started with GRADPROOF_HOSTILE_TEST=mark still alive once the run's ending is done."""
    deadline = time.monotonic() + 5  # SIGKILL is sent, not waited for
    while (alive := _alive_with(f"GRADPROOF_HOSTILE_TEST={mark}")) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find the processes left")
@pytest.mark.parametrize("spawner", ["spawner.py", "spawner_setsid.py"], ids=["same-group", "own-session"])
def test_processes_an_implementation_starts_end_with_the_run(tmp_path: Path, spawner: str) -> None:
    """Otherwise `gradproof verify ... | cat` waits for them, and they outlive the run; a child in a
    session of its own (setsid, a daemon's double fork) escapes the worker's group but not the run."""
    command = [sys.executable, "-m", "harness", "verify", "--impl", str(IMPLS / spawner), "--only", "sigmoid"]
    command += ["--quiet", "--profile", "quick", "--check", "forward", "--report-dir", str(tmp_path)]
    mark = uuid.uuid4().hex
    env = {**os.environ, "GRADPROOF_HOSTILE_TEST": mark}
    start = time.monotonic()
    done = subprocess.run(
        ["sh", "-c", f"{shlex.join(command)} | cat"], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 45, "the child's hold on stdout was not released"  # it sleeps 60 s
    assert _left_behind(mark) == [], "the implementation's child outlived the run"
