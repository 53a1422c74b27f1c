"""What the user typed, checked before any work: one line and exit status 2 when it is wrong."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path


class UsageError(Exception):
    """Bad input from the user: one line, exit status 2."""


def names(values: Sequence[str] | None, valid: Sequence[str], what: str) -> tuple[str, ...] | None:
    if not values:
        return None
    names = tuple(n.strip() for v in values for n in v.split(",") if n.strip())
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise UsageError(f"unknown {what} {', '.join(map(repr, unknown))}; valid: {', '.join(valid)}")
    return names


def report_dir(given: Path | None) -> Path:
    """The report folder, checked before the run: a run must not end unable to write what it found."""
    directory = Path("reports") if given is None else given
    if not directory.exists() and directory.parent.is_dir():  # one missing level is made; a deeper typo is not
        try:
            directory.mkdir()
        except OSError as exc:
            raise UsageError(f"cannot create the report folder {str(directory)!r}: {exc.strerror}") from None
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"report directory {str(directory)!r} is a file, not a folder")
    if not directory.is_dir():
        raise UsageError(f"report directory {str(directory)!r} does not exist")
    try:
        tempfile.TemporaryFile(dir=directory).close()
    except OSError as exc:
        raise UsageError(f"cannot write in the report folder {str(directory)!r}: {exc.strerror}") from None
    return directory
