"""The report files: a folder that cannot take them, messages that cannot be shown as they are, a cut-short run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import cli
from tests.hostile.common import IMPLS, unwritable_folder, verify

# Importing this implementation leaves a file beside it: proof that the run got as far as loading it.
MARKS_ITS_IMPORT = "from pathlib import Path\nPath(__file__).with_name('imported').touch()\nOPS = {}\n"


@pytest.mark.parametrize("kind", ["a-file", "not-writable"])
def test_a_report_folder_that_cannot_take_the_report_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    (tmp_path / "marks.py").write_text(MARKS_ITS_IMPORT)
    if kind == "a-file":
        folder, message = tmp_path / "file", "is a file, not a folder"
        folder.write_text("")
    else:
        folder, message = unwritable_folder(tmp_path), "cannot write in the report folder"
    args = ["verify", "--impl", str(tmp_path / "marks.py"), "--only", "sigmoid", "--report-dir", str(folder)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "imported").exists(), "the folder is checked before the implementation is loaded"


NAN_AT_THE_KINK = """
import numpy as np


def relu(z):
    return np.maximum(z, 0)


def relu_vjp(z, c):
    return np.where(z == 0, np.nan, c * (z > 0))  # a NaN "chosen subgradient"
"""


def _strict_json(path: Path) -> dict[str, object]:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)  # type: ignore[no-any-return]


def test_messages_that_cannot_be_shown_as_they_are_still_make_a_report(tmp_path: Path) -> None:
    """A lone surrogate and a 2 MB exception message (tests/impls/loud.py): every report file is written."""
    status, report = verify(tmp_path, "--impl", str(IMPLS / "loud.py"), "--dtype", "float64", "--check", "forward")
    checks = {c["id"]: c for c in report["checks"]}
    assert "\\udc80" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "bad byte \udc80" in checks["sigmoid-impl:loud-cpu-float64-forward"]["message"]  # JSON escapes it
    assert "characters cut" in checks["tanh-impl:loud-cpu-float64-forward"]["message"]
    for name in ("report.json", "index.html", "junit.xml"):
        assert (tmp_path / name).stat().st_size < 2_000_000, name
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")}
    assert "characters cut" in cases["tanh-impl:loud-cpu-float64-forward"].find("error").get("message")  # type: ignore[union-attr]
    assert status == 1


def test_a_nan_chosen_subgradient_is_a_failure_in_a_report_that_is_still_written(tmp_path: Path) -> None:
    (tmp_path / "nan_kink.py").write_text(NAN_AT_THE_KINK)
    args = ("--impl", str(tmp_path / "nan_kink.py"), "--dtype", "float64", "--check", "vjp")
    status, _ = verify(tmp_path, *args)
    report = _strict_json(tmp_path / "report.json")  # no NaN literal: other readers of JSON refuse it
    (vjp,) = [c for c in report["checks"] if c["device"] == "cpu"]  # type: ignore[attr-defined]
    assert vjp["verdict"] == "fail" and "is NaN" in vjp["message"] and vjp["conventions"] == {}
    assert "relu-impl:nan_kink-cpu-float64-vjp" in (tmp_path / "index.html").read_text(encoding="utf-8")
    failures = list(ET.parse(tmp_path / "junit.xml").getroot().iter("failure"))
    assert len(failures) == 1 and "is NaN" in (failures[0].get("message") or "")
    assert cli.main(["report", str(tmp_path / "report.json")]) == 0, "gradproof report reads it back"
    assert status == 1


def test_an_interrupted_run_keeps_what_it_gathered_and_is_not_green_in_junit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness import symbolic

    real = symbolic.decide

    def decide_then_interrupt(d, **kw):  # type: ignore[no-untyped-def]
        if d.name == "tanh":
            raise KeyboardInterrupt
        return real(d, **kw)

    monkeypatch.setattr(symbolic, "decide", decide_then_interrupt)
    args = ["verify", "--quiet", "--profile", "quick", "--only", "sigmoid,tanh", "--backend", "numpy"]
    status = cli.main([*args, "--report-dir", str(tmp_path)])
    assert status == 130
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["interrupted"] is True
    assert [d["name"] for d in report["derivations"]] == ["sigmoid"]
    assert {c["derivation"] for c in report["checks"]} == {"sigmoid"}
    root = ET.parse(tmp_path / "junit.xml").getroot()
    (complete,) = [c for c in root.iter("testcase") if c.get("name") == "run-complete"]
    error = complete.find("error")
    assert error is not None and "the run was interrupted" in (error.get("message") or "")
    assert sum(int(s.get("errors") or 0) for s in root.iter("testsuite")) == 1
