"""gradproof's pytest plugin (entry point `pytest11`): options, configure and hook forwarding.

- `--gradproof-report=DIR` writes report.json, index.html and junit.xml for the
  gradproof.check calls of the session;
- markers `cuda` (skipped with the reason where there is no CUDA device), `slow` and
  `thorough`, selected with `-m`;
- hypothesis profiles `dev`, `ci` and `thorough`, selected with `--hypothesis-profile`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gradproof import profiles, recording

profiles.register()  # before hypothesis' own plugin loads a profile named on the command line

RECORDER = pytest.StashKey[recording.Recorder]()
WRITTEN = pytest.StashKey[list[Path]]()
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
    if directory is None or hasattr(config, "workerinput"):  # xdist workers keep nothing
        return
    if not directory.is_dir():
        raise pytest.UsageError(f"--gradproof-report: folder {str(directory)!r} does not exist")
    recorder = recording.Recorder()
    config.stash[RECORDER] = recorder
    recording.activate(recorder)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any("cuda" in item.keywords for item in items):
        return
    from gradproof.session import cuda_available

    if not cuda_available():
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(pytest.mark.skip(reason="no CUDA device"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    recorder = session.config.stash.get(RECORDER, None)
    if recorder is None:
        return
    from gradproof.session import write_report

    written = write_report(recorder, session.config.getoption("--gradproof-report"))
    session.config.stash[WRITTEN] = written


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
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
