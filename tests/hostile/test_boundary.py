"""The host/implementation boundary: what a worker sends down its pipe, and global state set in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.hostile.common import IMPLS, verify

# An implementation that finds its worker's end of the pipe and sends MESSAGE before its own answer.
GARBLER = """
import gc
from multiprocessing.connection import Connection

import numpy as np

MESSAGE = {message!r}


def sigmoid(z):
    for obj in gc.get_objects():
        if isinstance(obj, Connection) and not obj.closed:
            try:
                obj.send_bytes(MESSAGE)
            except OSError:
                pass
    return 1 / (1 + np.exp(-z))


def sigmoid_vjp(z, c):
    a = 1 / (1 + np.exp(-z))
    return c * a * (1 - a)


def tanh(z):
    return np.tanh(z)


def tanh_vjp(z, c):
    return c * (1 - np.tanh(z) ** 2)
"""


def _raw(shape: str) -> bytes:
    """A well-formed "ok" answer whose one array has this shape and no bytes."""
    array = '{"__float64__": ' + shape + ', "bytes": ""}'
    return ('["ok", {"values": [' + array + '], "dtypes": [null], "shapes": [null], "modified": []}]').encode()


def test_a_worker_message_is_never_unpickled(tmp_path: Path) -> None:
    """An implementation that writes a pickle to its pipe gets an error for that check, not code run in the host."""
    marker = tmp_path / "ran-in-host"
    (tmp_path / "hostile.py").write_text((IMPLS / "hostile.py").read_text())
    args = ("--impl", str(tmp_path / "hostile.py"), "--only", "sigmoid,tanh", "--dtype", "float64")
    status, report = verify(tmp_path, *args)
    assert not marker.exists()
    checks = {c["id"]: c for c in report["checks"]}
    forward = checks["sigmoid-impl:hostile-cpu-float64-forward"]
    assert forward["verdict"] == "error" and "outside the protocol" in forward["message"]
    assert checks["sigmoid-impl:hostile-cpu-float64-vjp"]["verdict"] == "fail", "its wrong gradient is still found"
    assert checks["tanh-impl:hostile-cpu-float64-vjp"]["verdict"] == "pass", "the run goes on with a fresh worker"
    assert status == 1


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(b"\x80\x04\x95garbage", id="not-json"),
        pytest.param(b"[" * 100_000, id="nested-1e5-deep"),
        pytest.param(b'["ok", "not a record"]', id="not-a-record"),
        pytest.param(_raw("[3]"), id="bytes-short-of-shape"),
        pytest.param(_raw("[-1]"), id="negative-size"),
        pytest.param(_raw("[4294967296, 4294967296]"), id="size-wraps-to-0-in-int64"),
        pytest.param(_raw("[" + "9" * 30 + "]"), id="size-past-int64"),
    ],
)
def test_a_garbled_message_is_an_error_for_that_check_alone(tmp_path: Path, message: bytes) -> None:
    """Whatever a worker sends instead of its answer is that check's error; the next op's verdicts are its own."""
    (tmp_path / "garble.py").write_text(GARBLER.format(message=message))
    args = ("--impl", str(tmp_path / "garble.py"), "--only", "sigmoid,tanh", "--dtype", "float64")
    status, report = verify(tmp_path, *args, "--check", "forward,vjp")
    checks = {c["id"]: c for c in report["checks"] if c["device"] == "cpu"}
    forward = checks.pop("sigmoid-impl:garble-cpu-float64-forward")
    assert forward["verdict"] == "error"
    assert {i: c["verdict"] for i, c in checks.items()} == dict.fromkeys(checks, "pass"), "out of step"
    assert "outside the protocol" in forward["message"], forward["message"]
    assert status == 1


def test_numpy_error_state_set_by_an_implementation_behaves_the_same_in_process(tmp_path: Path) -> None:
    (tmp_path / "strict.py").write_text(
        "import numpy as np\nnp.seterr(all='raise')\n"
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
        "def sigmoid_vjp(z, c):\n    a = sigmoid(z)\n    return c * a * (1 - a)\n"
    )
    verdicts, host = [], np.geterr()
    for mode in ((), ("--in-process",)):
        out = tmp_path / f"out{len(mode)}"
        out.mkdir()
        _, report = verify(out, "--impl", str(tmp_path / "strict.py"), "--dtype", "float64", *mode)
        verdicts.append({c["id"]: c["verdict"] for c in report["checks"]})
    assert verdicts[0] == verdicts[1]
    assert np.geterr() == host, "the host's own error state is untouched"


def test_torch_default_dtype_set_by_an_implementation_is_restored_in_process() -> None:
    torch = pytest.importorskip("torch")
    import types

    from harness.impl.conventions import CONVENTIONS
    from harness.impl.isolation import InProcess

    def sigmoid(z: np.ndarray) -> np.ndarray:
        torch.set_default_dtype(torch.float64)  # a careless implementation changes global state
        return 1 / (1 + np.exp(-z))

    module = types.ModuleType("careless")
    module.OPS = {"sigmoid": (sigmoid, lambda z, c: c)}  # type: ignore[attr-defined]
    caller = InProcess("careless", CONVENTIONS, module)
    before = torch.get_default_dtype()
    caller.call("forward", "sigmoid", {"z": np.zeros(3)}, {}, None, "cpu", "float64")
    assert torch.get_default_dtype() == before
