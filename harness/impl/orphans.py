"""Processes an implementation leaves behind in a session of their own (setsid, a daemon's double
fork), out of reach of the worker's process group.

The workers' forkserver is made a child subreaper (Linux): whatever a worker started is re-parented
to it, not to init, when the worker ends. After a worker ends, the host ends every child of the
forkserver that is not a live worker. Where there is no prctl or /proc (not Linux), nothing is done
and such a process outlives the run, as the README says.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from collections.abc import Collection
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Adopt this process's orphaned descendants; False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def parent_of(pid: int) -> int | None:
    stat = _stat(pid)
    return int(stat[1]) if stat else None


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, ...), None when it is gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(parent: int) -> list[int]:
    """Live (not zombie) children of `parent`, found by scanning /proc (children files need a kernel option)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and stat[0] != "Z" and int(stat[1]) == parent:
            found.append(int(entry.name))
    return found


def end_adopted(forkserver: int | None, workers: Collection[int], wait: float = 5.0) -> list[int]:
    """SIGKILL every live child of the forkserver that is not one of `workers`, until none is left
    (a killed process's own children are adopted in turn); the pids killed. The forkserver reaps them."""
    if forkserver is None or not Path("/proc").is_dir():
        return []
    killed: list[int] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        adopted = [pid for pid in _children(forkserver) if pid not in workers]
        if not adopted:
            return killed
        for pid in adopted:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)  # until they are gone and their children re-parented
    return killed
