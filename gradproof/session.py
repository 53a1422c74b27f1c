"""What the pytest plugin does at the ends of a session, kept out of the plugin itself."""

from __future__ import annotations

import time
from pathlib import Path

from gradproof.recording import Recorder
from harness import op_entry, outputs, report

_START = time.perf_counter()


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def write_report(recorder: Recorder, directory: Path) -> list[Path]:
    """The same files `gradproof verify` writes, for the checks the session ran."""
    derivations = []
    for name, d in recorder.derivations.items():
        examples = recorder.examples.get(name, [])
        derivations.append(op_entry.entry(d, examples, op_entry.stated_verdict(d, examples, 0)))
    data = report.build(
        derivations,
        list(recorder.checks.values()),
        seed=0,
        profile="pytest",
        seconds=time.perf_counter() - _START,
    )
    data["interrupted"] = False
    return outputs.write_all(data, directory)
