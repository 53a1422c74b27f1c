"""The skip/xfail file: known differences of an implementation, keyed by check id.

One entry a line, `skip PATTERN [reason]` or `xfail PATTERN reason`, where PATTERN is a check
id or a shell-style pattern (`*-cuda-*`); `#` at the start of a line or after a space starts a
comment (a reason may name "mlx#3047"). A skipped check is not run. An
xfail check that fails or errors is reported as `xfail`, one that passes as `xpass`. Entries
that match no check are reported, since a stale entry hides nothing and misleads.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.records import CheckRecord

ACTIONS = ("skip", "xfail")


class ExpectationsError(Exception):
    """The file cannot be read as expectations; the message names the file and line."""


@dataclass(frozen=True)
class Entry:
    action: str
    pattern: str
    reason: str
    line: int

    def matches(self, check_id: str) -> bool:
        return fnmatch.fnmatchcase(check_id, self.pattern)


class Expectations:
    def __init__(self, entries: list[Entry], source: str = "") -> None:
        self.entries = entries
        self.source = source
        self.used: set[int] = set()

    @classmethod
    def read(cls, path: Path) -> Expectations:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ExpectationsError(f"expectations file {str(path)!r}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise ExpectationsError(f"expectations file {str(path)!r} is not UTF-8 text (byte {exc.start})") from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, source: str = "<expectations>") -> Expectations:
        entries = []
        for n, raw in enumerate(text.splitlines(), 1):
            line = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 2)
            action = parts[0]
            if action not in ACTIONS:
                raise ExpectationsError(f"{source}:{n}: unknown action {action!r}; valid: {', '.join(ACTIONS)}")
            if len(parts) < 2:
                raise ExpectationsError(f"{source}:{n}: {action} needs a check id or pattern")
            reason = parts[2].strip() if len(parts) > 2 else ""
            if action == "xfail" and not reason:
                raise ExpectationsError(f"{source}:{n}: xfail {parts[1]} needs a reason")
            entries.append(Entry(action, parts[1], reason, n))
        return cls(entries, source)

    def _find(self, check_id: str, action: str) -> Entry | None:
        for e in self.entries:
            if e.action == action and e.matches(check_id):
                self.used.add(e.line)
                return e
        return None

    def skip_reason(self, check_id: str) -> str | None:
        e = self._find(check_id, "skip")
        if e is None:
            return None
        return f"skipped by {self.source}:{e.line}" + (f": {e.reason}" if e.reason else "")

    def apply(self, records: Sequence[CheckRecord]) -> list[CheckRecord]:
        """The records with expected failures as `xfail`, unexpected passes as `xpass`."""
        found = []
        for rec in records:
            e = self._find(rec.id, "xfail")
            found.append(
                rec if e is None or rec.verdict == "skip" else rec.expected(e.reason, f"{self.source}:{e.line}")
            )
        return found

    def unmatched(self) -> list[str]:
        return [
            f"{self.source}:{e.line}: {e.action} {e.pattern} matches no check"
            for e in self.entries
            if e.line not in self.used
        ]
