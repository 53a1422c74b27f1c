"""What the pytest plugin does at the ends of a session, kept out of the plugin itself: the report,
and under pytest-xdist what a worker hands the controller and how the controller takes it in."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from gradproof.recording import Recorder
from harness import op_entry, outputs, report


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _entry(d: Any, examples: list[Any]) -> dict[str, object]:
    return op_entry.entry(d, examples, op_entry.stated_verdict(d, examples, 0))


def write_report(recorder: Recorder, directory: Path, seconds: float) -> list[Path]:
    """The same files `gradproof verify` writes, for the checks the session ran."""
    derivations = [_entry(d, recorder.examples.get(name, [])) for name, d in recorder.derivations.items()]
    derivations += [e for name, e in recorder.entries.items() if name not in recorder.derivations]
    data = report.build(derivations, list(recorder.checks.values()), seed=0, profile="pytest", seconds=seconds)
    data["interrupted"] = False
    return outputs.write_all(data, directory)


def worker_output(recorder: Recorder) -> bytes:
    """An xdist worker's records, for the controller. A catalog op travels as its name with the examples,
    so that the controller decides its stated derivative over every worker's examples, as one process
    would; an op declared in a test module cannot be rebuilt there, so its report entry travels instead
    (its verdict does not depend on the examples). Pickled: examples hold NumPy arrays."""
    from derivations import OPS

    ops: dict[str, dict[str, Any]] = {}
    for name, d in recorder.derivations.items():
        examples = recorder.examples.get(name, [])
        ops[name] = {"examples": examples, "entry": None if OPS.get(name) is d else _entry(d, examples)}
    ops.update({name: {"examples": [], "entry": e} for name, e in recorder.entries.items() if name not in ops})
    return pickle.dumps({"checks": list(recorder.checks.values()), "ops": ops})


def absorb(recorder: Recorder, output: bytes) -> None:
    """Take in what worker_output wrote: the checks merged by id as within one process."""
    from derivations import OPS

    found = pickle.loads(output)  # written by this session's own workers
    for name, op in found["ops"].items():
        if op["entry"] is None:
            recorder.add(OPS[name], op["examples"], [])
        else:
            recorder.add_entry(op["entry"])
    recorder.add_records(found["checks"])
