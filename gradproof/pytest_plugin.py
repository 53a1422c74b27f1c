"""gradproof's pytest plugin (entry point `pytest11`): options, configure and hook forwarding.

- `--gradproof-report=DIR` writes report.json, index.html and junit.xml for the
  gradproof.check calls of the session; under pytest-xdist (`-n`) each worker records its own
  and hands them to the controller (`workeroutput`), which writes the one report;
- markers `cuda` (skipped with the reason where there is no CUDA device), `slow` and
  `thorough`, selected with `-m`;
- hypothesis profiles `dev`, `ci` and `thorough`, selected with `--hypothesis-profile`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from gradproof import profiles, recording

profiles.register()  # before hypothesis' own plugin loads a profile named on the command line

RECORDER = pytest.StashKey[recording.Recorder]()
WRITTEN = pytest.StashKey[list[Path]]()
STARTED = pytest.StashKey[float]()
LOST = pytest.StashKey[list[str]]()  # xdist workers that went down without handing over their records
WORKER_OUTPUT = "gradproof"  # the key of a worker's records in xdist's workeroutput
MARKERS = (
    "cuda: needs a CUDA device (skipped with the reason where there is none)",
    "slow: takes long; deselect with -m 'not slow'",
    "thorough: deep runs over many seeds",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradproof")
    group.addoption(
        "--gradproof-report",
        metavar="DIR",
        type=Path,
        default=None,
        help="write report.json, index.html and junit.xml of the gradproof checks that ran to DIR",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    directory = config.getoption("--gradproof-report")
    if directory is None:
        return
    # An xdist worker records too; only the controller checks the folder and writes there.
    if not hasattr(config, "workerinput") and not directory.is_dir():
        raise pytest.UsageError(f"--gradproof-report: folder {str(directory)!r} does not exist")
    recorder = recording.Recorder()
    config.stash[RECORDER] = recorder
    config.stash[STARTED], config.stash[LOST] = time.perf_counter(), []
    recording.activate(recorder)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any("cuda" in item.keywords for item in items):
        return
    from gradproof.session import cuda_available

    if not cuda_available():
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(pytest.mark.skip(reason="no CUDA device"))


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: called on the controller as each worker ends
def pytest_testnodedown(node: Any, error: object) -> None:
    recorder = node.config.stash.get(RECORDER, None)
    if recorder is None:
        return
    output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
    if output is None:  # a worker that crashed: its records are gone, and the summary says so
        node.config.stash[LOST].append(str(node.gateway.id))
        return
    if output:
        from gradproof.session import absorb

        absorb(recorder, output)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    recorder = config.stash.get(RECORDER, None)
    if recorder is None:
        return
    if hasattr(config, "workeroutput"):  # an xdist worker: the controller writes the report
        if not (recorder.checks or recorder.derivations or recorder.entries):
            config.workeroutput[WORKER_OUTPUT] = b""  # nothing recorded: no need to load the harness
            return
        from gradproof.session import worker_output

        config.workeroutput[WORKER_OUTPUT] = worker_output(recorder)
        return
    from gradproof.session import write_report

    seconds = time.perf_counter() - config.stash[STARTED]
    config.stash[WRITTEN] = write_report(recorder, config.getoption("--gradproof-report"), seconds)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lost = config.stash.get(LOST, [])
    if lost:
        terminalreporter.write_line(
            f"gradproof report: without the records of worker(s) {', '.join(lost)}, which went down", red=True
        )
    written = config.stash.get(WRITTEN, None)
    if written:
        terminalreporter.write_line(f"gradproof report: {', '.join(map(str, written))}")


def pytest_unconfigure(config: pytest.Config) -> None:
    recorder = config.stash.get(RECORDER, None)
    if recorder is not None:
        recording.deactivate(recorder)


@pytest.fixture
def gradproof_check():  # type: ignore[no-untyped-def]
    """gradproof.check, as a fixture for suites that prefer them."""
    from gradproof.checking import check

    return check
