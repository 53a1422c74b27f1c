"""How deep a run goes and how its records name themselves: the options every entry point passes."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from harness import checks
from harness.choices import PROFILES

__all__ = ["PROFILES", "RunOptions", "seed_of"]


@dataclass(frozen=True)
class RunOptions:
    seed: int = 0
    profile: str = "default"
    dtypes: tuple[str, ...] | None = None
    devices: tuple[str, ...] | None = None
    kinds: tuple[str, ...] = checks.KINDS
    fd_oracle: bool = True
    # Check id -> why it is not run (the skip entries of an expectations file), or None.
    skip_reason: Callable[[str], str | None] | None = None
    # How a record's `reproduce` line names its backend (default `--backend NAME`; `--impl FILE` for an
    # implementation), the arguments every line carries (--ops, --at, ...), or one fixed line (a pytest node).
    selects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    extra_args: tuple[str, ...] = ()
    reproduce: str | None = None


def seed_of(*parts: object) -> int:
    """A seed derived from the run's seed and what is drawn (op, region, example, dtype)."""
    return zlib.crc32(":".join(map(str, parts)).encode())
