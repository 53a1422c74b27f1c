"""The notes are read from their seed files: a claim whose file is missing or not UTF-8 is an
error with the reason, and everything else still runs and the reports are written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from derivations import CLAIMS
from harness import cli, seeds


def test_a_missing_and_an_undecodable_seed_make_their_claims_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "seeds"
    shutil.copytree(seeds.SEEDS, notes)
    by_seed = {c.source.seed[:3]: name for name, c in CLAIMS.items()}
    (notes / CLAIMS[by_seed["003"]].source.seed).unlink()
    (notes / CLAIMS[by_seed["001"]].source.seed).write_bytes(b"\xff\xfe not the note")
    monkeypatch.setattr(seeds, "SEEDS", notes)
    only = ",".join(("sigmoid", by_seed["001"], by_seed["003"], by_seed["004"]))
    args = ["verify", "--quiet", "--backend", "numpy", "--dtype", "float64", "--profile", "quick"]
    status = cli.main([*args, "--only", only, "--report-dir", str(tmp_path)])
    capsys.readouterr()
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    verdicts = {c["name"]: (c["verdict"], c["detail"]) for c in report["claims"]}
    assert verdicts[by_seed["003"]][0] == "error" and "is missing" in verdicts[by_seed["003"]][1]
    assert verdicts[by_seed["001"]][0] == "error" and "is not UTF-8" in verdicts[by_seed["001"]][1]
    assert verdicts[by_seed["004"]][0] != "error"
    assert report["summary"]["pass"] > 0 and (tmp_path / "index.html").exists() and (tmp_path / "junit.xml").exists()
    assert status == 1, "a claim that could not be judged is an error of the run"
