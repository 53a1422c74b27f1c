"""Validation of report.json against the JSON Schema shipped beside this module."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from harness.report import SCHEMA

SCHEMA_FILE = Path(__file__).with_name("report_schema.json")
MAJOR = int(SCHEMA.rsplit("/", 1)[1].split(".")[0])


class ReportError(ValueError):
    """A report that cannot be read: the message names the field."""


@functools.cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def _field(path: Any) -> str:
    """`checks[3].verdict` from a jsonschema path deque."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validate(data: object) -> dict[str, Any]:
    """Return the report when it is valid; otherwise raise ReportError naming the wrong field.

    The version is read before the schema applies: a newer major version is refused as
    such rather than as whatever field it happens to have changed.
    """
    import jsonschema

    if not isinstance(data, dict):
        raise ReportError(f"a report is a JSON object, not {type(data).__name__}")
    version = data.get("schema")
    if not isinstance(version, str) or not version.startswith("gradproof.report/"):
        raise ReportError(f"field 'schema': expected 'gradproof.report/{MAJOR}', got {version!r}")
    major = version.rsplit("/", 1)[1].split(".")[0]
    if not major.isdigit():
        raise ReportError(f"field 'schema': unreadable version {version!r}")
    if int(major) > MAJOR:
        raise ReportError(
            f"field 'schema': {version!r} is a newer major version than this gradproof reads "
            f"(gradproof.report/{MAJOR}); upgrade gradproof"
        )
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.path))))
    if errors:
        # The deepest error of the best match names the field most precisely.
        best = jsonschema.exceptions.best_match(errors)
        assert best is not None
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ReportError(f"field '{_field(best.absolute_path)}': {best.message}{more}")
    return data


def load(path: Path) -> dict[str, Any]:
    """Read and validate a report file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ReportError(f"{str(path)!r} is not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{str(path)!r} is not JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, nesting 10^5 deep
        raise ReportError(f"{str(path)!r} is not a report gradproof can read: {type(exc).__name__}") from None
    try:
        return validate(data)
    except RecursionError:
        raise ReportError(f"{str(path)!r} is nested too deeply to be a report") from None
