"""What the pytest plugin does at the ends of a session, kept out of the plugin itself."""

from __future__ import annotations

import time
from pathlib import Path

from derivations.model import Program
from gradproof.recording import Recorder
from harness import outputs, report, symbolic
from harness.runner import derivation_record
from harness.tensor_runner import stated_verdict, tensor_record

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
        if isinstance(d.engine, Program):
            derivations.append(tensor_record(d, examples, stated_verdict(d, examples, 0)))
        else:
            derivations.append(derivation_record(d, examples, symbolic.decide(d, seed=0)))
    data = report.build(
        derivations,
        list(recorder.checks.values()),
        seed=0,
        profile="pytest",
        seconds=time.perf_counter() - _START,
    )
    data["interrupted"] = False
    return outputs.write_all(data, directory)
