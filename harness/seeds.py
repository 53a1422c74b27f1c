"""The notes themselves: the seed files the catalog quotes, read where the checkout keeps them."""

from __future__ import annotations

import functools
import os
from pathlib import Path

# The notes sit beside the checkout (../shared/seeds); GRADPROOF_SEEDS points elsewhere.
SEEDS = Path(os.environ.get("GRADPROOF_SEEDS", Path(__file__).resolve().parents[1].parent / "shared" / "seeds"))


class SeedError(Exception):
    """A seed file cannot be read: the message names the file and why."""


def text(name: str, directory: Path | None = None) -> str:
    """The seed's text; a missing or undecodable file raises SeedError naming it."""
    return _read((directory or SEEDS) / name)


@functools.cache
def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedError(f"seed file {path} is missing") from None
    except UnicodeDecodeError as exc:
        raise SeedError(f"seed file {path} is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise SeedError(f"seed file {path} cannot be read: {exc.strerror}") from None
