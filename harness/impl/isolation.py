"""Running third-party code in a reused worker process, so that an exception, a hang or a hard
crash (segfault, os.abort) becomes one check's error and never touches the results gathered.

Workers come from a forkserver: started clean once, then forked in milliseconds whenever a
worker has to be replaced after a crash or a timeout.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import sys
import traceback
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from types import ModuleType
from typing import Any

import numpy as np

from harness.choices import DEFAULT_TIMEOUT
from harness.impl import orphans, wire
from harness.impl.contract import Convention, NotOffered, Raw
from harness.impl.host import Descriptor, Host, LoadError

START_FLOOR = 30.0  # seconds; importing the implementation (torch, jax) may take a while


class IsolationError(Exception):
    """The implementation timed out or crashed its worker."""


class ImplementationError(Exception):
    """The implementation raised inside its worker; the message keeps its type, text and line."""


def _serve(conn: Connection, spec: str, catalog: Mapping[str, Convention]) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash here needs no core dump, and writing one is slow
    os.setpgid(0, 0)  # its own process group: whatever the implementation starts is ended with it
    try:
        host = Host(spec, catalog)
    except LoadError as exc:
        conn.send_bytes(wire.encode("load-error", str(exc)))
        return
    conn.send_bytes(wire.encode("ok", host.descriptor))
    while True:
        try:
            request = conn.recv()
        except (EOFError, ConnectionResetError):  # the host is gone (ended, or a pool cut off by Ctrl-C)
            return
        try:
            conn.send_bytes(wire.encode("ok", host.call(*request)))
        except NotOffered as exc:
            conn.send_bytes(wire.encode("not-offered", str(exc)))
        except BaseException as exc:  # everything the implementation raises goes back as text
            where = traceback.extract_tb(exc.__traceback__)[-1:]
            at = f" ({where[0].filename}:{where[0].lineno})" if where else ""
            conn.send_bytes(wire.encode("raise", f"{type(exc).__name__}: {exc}{at}"))


# Modules the forkserver imports once, so that each forked worker starts with them loaded.
# Takes effect when the forkserver starts, at the first worker of the process.
PRELOAD = ["harness.impl.forkserver_setup", "numpy", "harness.impl.host", "harness.backends.numpy_ref"]
_WORKERS: set[int] = set()  # the pids of the workers alive, of every Isolated in this process


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


class InProcess:
    """Calls the implementation directly: fastest, and what isolation is measured against."""

    def __init__(
        self, spec: str, catalog: Mapping[str, Convention], module: ModuleType | None = None, *, watch: bool = True
    ) -> None:
        # NumPy's error state is global: what the implementation sets (np.seterr(all="raise")) holds in its
        # own calls, as in a worker, and never turns the host's arithmetic into false errors.
        host = np.geterr()
        try:
            self.host = Host(spec, catalog, module, watch=watch)
        finally:
            self._errors = np.seterr(**host)
        self.descriptor: Descriptor = self.host.descriptor

    def call(self, *request: Any) -> Raw:
        host = np.seterr(**self._errors)
        torch = sys.modules.get("torch")  # its default dtype is global too; only torch code can change it
        dtype = torch.get_default_dtype() if torch is not None else None
        try:
            return self.host.call(*request)
        finally:
            self._errors = np.seterr(**host)
            if dtype is not None and torch is not None:
                torch.set_default_dtype(dtype)

    def close(self) -> None:
        pass


class Isolated:
    """Calls the implementation in a worker process that is reused until it fails."""

    def __init__(self, spec: str, catalog: Mapping[str, Convention], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.spec, self.catalog, self.timeout = spec, dict(catalog), timeout
        self._ctx = _context()
        self._proc: Any = None
        self._conn: Connection | None = None
        self._forkserver: int | None = None
        self.restarts = 0
        self.descriptor: Descriptor = self._start()

    def _start(self) -> Descriptor:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_serve, args=(child, self.spec, self.catalog), daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        _WORKERS.add(proc.pid)
        self._forkserver = orphans.parent_of(proc.pid)
        try:  # importing gets several calls' time, and at least START_FLOOR
            wait = max(START_FLOOR, 6 * self.timeout)
            status, payload = self._receive(wait, "loading the implementation", wire.descriptor)
        except IsolationError as exc:  # a crash, hang or garbled answer on import: it cannot be checked
            raise LoadError(f"{self.spec}: {exc}") from None
        if status == "load-error":
            self.close()
            raise LoadError(payload)
        return payload  # type: ignore[no-any-return]

    def _receive(self, timeout: float, doing: str, read: Callable[[Any], Any]) -> tuple[str, Any]:
        """The worker's status and its payload: `read` of it when "ok", else the text it sent."""
        assert self._conn is not None
        if not self._conn.poll(timeout):
            self._kill()
            raise IsolationError(f"timed out after {timeout:g} s {doing}")
        try:
            # Bytes, decoded as plain data: the worker runs the implementation, so this is hostile input.
            status, payload = wire.decode(self._conn.recv_bytes(wire.MAX_MESSAGE))
            return status, read(payload) if status == "ok" else wire.text(payload)
        except (EOFError, OSError):
            self._proc.join(5)
            why = _death(self._proc.exitcode)
            self._kill()
            raise IsolationError(f"the implementation crashed its worker process ({why}) {doing}") from None
        except wire.WireError as exc:
            self._kill()
            raise IsolationError(f"the worker sent a message outside the protocol {doing}: {exc}") from None

    def call(
        self,
        method: str,
        op: str,
        arrays: Mapping[str, np.ndarray],
        params: dict[str, float],
        cotangent: Any,  # the cotangent of a vjp, the tangents by input of a jvp
        device: str,
        dtype: str,
    ) -> Raw:
        if self._conn is None:
            self.restarts += 1
            self._start()
        assert self._conn is not None
        self._conn.send((method, op, dict(arrays), params, cotangent, device, dtype))
        status, payload = self._receive(self.timeout, f"in {op} {method}", wire.raw)
        if status == "raise":
            raise ImplementationError(payload)
        if status == "not-offered":
            raise NotOffered(wire.text(payload))
        return payload  # type: ignore[no-any-return]

    def _kill(self) -> None:
        if self._proc is not None:
            try:  # the worker and every process the implementation started, which may hold our stdout
                os.killpg(self._proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass  # the group was not made yet (killed at once) or is gone
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(5)
            _WORKERS.discard(self._proc.pid)
            # What escaped the group in a session of its own was adopted by the forkserver when the worker ended.
            orphans.end_adopted(self._forkserver, _WORKERS)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()  # the worker sees EOF and returns
        if self._proc is not None:
            self._proc.join(2)
        self._kill()
