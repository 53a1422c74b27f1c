"""The run's plain data, written as reports/report.json, atomically."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = "gradproof.report/1"
VERDICTS = ("pass", "fail", "error", "skip", "xfail", "xpass")  # x*: per the expectations file


def environment() -> dict[str, object]:
    import hypothesis
    import mpmath
    import numpy
    import sympy

    from harness import __version__

    env: dict[str, object] = {
        "gradproof": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "sympy": sympy.__version__,
        "mpmath": mpmath.__version__,
        "hypothesis": hypothesis.__version__,
    }
    try:
        import torch

        env["torch"] = torch.__version__
        env["cuda_devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        env["torch"] = None
    return env


def summary(checks: Sequence[Mapping[str, object]]) -> dict[str, int]:
    counts = Counter(str(c["verdict"]) for c in checks)
    return {v: counts.get(v, 0) for v in VERDICTS}


def build(
    derivations: list[dict[str, object]],
    checks: Sequence[Mapping[str, object]],
    *,
    seed: int,
    profile: str,
    seconds: float,
    claims: list[dict[str, object]] | None = None,
    coverage: dict[str, list[str]] | None = None,
    env: dict[str, object] | None = None,
) -> dict[str, object]:
    """The report of a run; `env` is where its checks ran (this process's environment by default)."""
    data: dict[str, object] = {
        "schema": SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "profile": profile,
        "seconds": round(seconds, 2),
        "environment": environment() if env is None else env,
        "summary": summary(checks),
        "derivations": derivations,
        "checks": [dict(c) for c in checks],  # check records as the JSON objects they read like
    }
    if claims is not None:
        data["claims"] = claims
        data["claims_summary"] = dict(Counter(str(c["verdict"]) for c in claims))
    if coverage is not None:
        data["coverage"] = coverage
    return data


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename: never a half-written file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(report: dict[str, object], directory: Path) -> Path:
    path = directory / "report.json"
    write_atomic(path, json.dumps(report, indent=1, allow_nan=False, default=_jsonable))
    return path


def _jsonable(value: object) -> object:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
