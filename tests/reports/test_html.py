"""index.html: self-contained, every section present, axes taken from the data."""

from __future__ import annotations

import json
import re
from typing import Any

from harness import html_report, report_view
from tests.reports.page import parse
from tests.reports.samples import REFUTED_QUOTE, with_additions


def test_the_page_is_self_contained(report: dict[str, Any]) -> None:
    html = html_report.render(report)
    page = parse(html)
    # Nothing is fetched: no script, stylesheet link, image file, font or frame.
    assert page.count("script") == 0 and page.count("link") == 0 and page.count("iframe") == 0
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert "@import" not in html and "url(" not in html
    assert all(not (a.get("href") or "#").lstrip().startswith(("http", "//")) for _, a in page.tags)


def test_the_page_shows_matrix_formulas_regions_conventions_and_plots(report: dict[str, Any]) -> None:
    page = parse(html_report.render(report))
    text = page.all_text
    assert "matrix" in page.ids
    assert page.count("math") >= 4  # forward and stated derivative of sigmoid and relu
    assert page.count("svg") >= 3  # two activations, one finite-difference curve
    for name in ("sigmoid", "relu", "typical", "saturation", "kink", "relu'(0)", report["environment"]["torch"]):
        assert name in text, name
    for backend in {c["backend"] for c in report["checks"]}:
        assert backend in text
    assert report["derivations"][0]["source"]["quote"] in text


def test_matrix_axes_come_from_the_data(report: dict[str, Any]) -> None:
    extended = with_additions(report)
    m = report_view.matrix(extended)
    assert {"backend": "impl:mymodule", "device": "cpu", "dtype": "float64"} in m["columns"]
    assert "conformance" in m["kinds"]
    row = next(r for r in m["rows"] if r["name"] == "conv2d")
    assert [c["verdict"] for c in row["cells"] if c] == ["fail"]
    assert row["totals"]["fail"] == 1
    # Every check lands in exactly one cell, or in the line of a target no check could run on.
    in_cells = sum(len(c["checks"]) for r in m["rows"] for c in r["cells"] if c)
    assert in_cells + sum(u["count"] for u in m["unavailable"]) == len(extended["checks"])


def test_refuted_claims_come_first_with_quote_counterexample_and_correction(report: dict[str, Any]) -> None:
    html = html_report.render(with_additions(report))
    findings = html[html.index('id="findings"') : html.index('id="failures"')]
    assert REFUTED_QUOTE in findings
    assert "expected <code>0.5</code>, found <code>0.25</code>" in findings
    assert "σ′ takes values in (0, 0.25]" in findings
    assert html.index(REFUTED_QUOTE) < html.index('id="matrix"')


def test_tensor_records_show_their_kink_rules_and_parameter_conventions(report: dict[str, Any]) -> None:
    text = parse(html_report.render(with_additions(report))).all_text
    assert "g'(0) anywhere in [alpha, 1]" in text and "g: one of sigmoid, tanh, relu" in text


def test_coverage_shows_uncovered_claims_red(report: dict[str, Any]) -> None:
    html = html_report.render(with_additions(report))
    assert re.search(r'<tr class="uncovered"><td><a href="#n-G4">G4</a></td>', html)
    assert re.search(r'<tr class="covered"><td><a href="#n-A6">A6</a></td>', html)


def test_coverage_and_the_notes_section_show_each_entry_verdict(report: dict[str, Any]) -> None:
    """The report ran sigmoid and relu only: their verdicts show, the rest of the catalog reads "not run"."""
    rows = {r["claim"]: r for r in report_view.notes(report)}
    assert [(s["name"], s["verdict"]) for s in rows["A1"]["ran"]] == [("sigmoid", "proved")]
    assert all(s["verdict"] == "not run" for s in rows["B8"]["statements"]) and not rows["B8"]["ran"]
    # A report in which no claim ran shows neither coverage nor the notes' sections, and says why.
    html = html_report.render(report)
    assert "No claim of the notes ran in this report" in html and 'id="n-A1"' not in html
    html = html_report.render(with_additions(report))
    assert re.search(r'sigmoid<span class="badge (\w+)">\1</span>', html)
    assert 'id="n-A1"' in html and "No claim of the notes ran" not in html


def test_coverage_fallback_comes_from_the_sources(report: dict[str, Any]) -> None:
    del report["coverage"]  # a report from before the coverage map
    view = report_view.coverage(report)
    assert view["inferred"]
    rows = {r["claim"]: r for r in view["rows"]}
    assert rows["A1"]["entries"] == ["sigmoid"] and rows["A3"]["entries"] == ["relu"]
    assert not rows["A2"]["covered"]  # a gap in A's numbering: nothing here covers it


def test_failures_come_first_with_input_expected_actual_and_reproduce(report: dict[str, Any]) -> None:
    extended = with_additions(report)
    html = html_report.render(extended)
    failures = html[html.index('id="failures"') : html.index('id="matrix-h"')]
    assert "conv2d-impl:mymodule-cpu-float64-conformance" in failures
    assert "1.25" in failures and "[0, 1]" in failures and "Reproduce" in failures


def test_selftest_and_series_are_drawn(report: dict[str, Any]) -> None:
    html = html_report.render(with_additions(report))
    page = parse(html)
    assert "selftest" in page.ids and "sigmoid_plus" in page.all_text
    assert "conv2d: gradient norm per layer against depth" in page.all_text and "sigmoid_range: depth" in page.all_text


def test_failures_are_ordered_errors_then_most_tolerance_used() -> None:
    checks = [
        {"verdict": "fail", "tolerance_usage": 2.0, "id": "a"},
        {"verdict": "error", "tolerance_usage": None, "id": "b"},
        {"verdict": "fail", "tolerance_usage": 50.0, "id": "c"},
        {"verdict": "pass", "tolerance_usage": 0.5, "id": "d"},
    ]
    assert [c["id"] for c in report_view.failures({"checks": checks})] == ["b", "c", "a"]


def test_a_cell_speaks_for_the_check_that_used_most_of_its_tolerance() -> None:
    def rec(check: str, verdict: str, ulp: float | str, usage: float | str) -> dict[str, Any]:
        return {
            "id": check,
            "derivation": "d",
            "backend": "b",
            "device": "cpu",
            "dtype": "float32",
            "check": check,
            "verdict": verdict,
            "message": "",
            "max_ulp_error": ulp,
            "tolerance_usage": usage,
        }

    report = {"derivations": [], "checks": [rec("forward", "pass", 1e15, 0.01), rec("vjp", "fail", 40.0, 3.5)]}
    (cell,) = report_view.matrix(report)["rows"][0]["cells"]
    assert (cell["verdict"], cell["usage"]) == ("fail", "3.5")
    report["checks"].append(rec("jacobian", "error", "inf", "inf"))
    (cell,) = report_view.matrix(report)["rows"][0]["cells"]
    assert (cell["verdict"], cell["usage"]) == ("error", "inf")


def test_gradproof_report_renders_from_the_json_alone(report_dir: Any, tmp_path: Any) -> None:
    """Formulas and plots were stored at verify time: rendering loads neither SymPy nor torch nor a backend."""
    import subprocess
    import sys

    code = (
        "import sys, pathlib; from harness import html_report, report_schema;"
        f"page = html_report.render(report_schema.load(pathlib.Path({str(report_dir / 'report.json')!r})));"
        "print('<math' in page, '<svg' in page, sorted(m for m in ('sympy', 'torch', 'mpmath', 'harness.backends')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True True []"


def test_targets_no_check_could_run_on_are_one_line_not_a_column() -> None:
    def rec(device: str, dtype: str, verdict: str, message: str = "", check: str = "forward") -> dict[str, Any]:
        return {
            "id": f"sigmoid-torch-{device}-{dtype}-{check}",
            "derivation": "sigmoid",
            "backend": "torch",
            "device": device,
            "dtype": dtype,
            "check": check,
            "verdict": verdict,
            "message": message,
            "max_ulp_error": 0.5 if verdict == "pass" else None,
            "tolerance_usage": 0.1 if verdict == "pass" else None,
        }

    checks = [rec("cpu", "float32", "pass"), rec("cuda", "float32", "skip", "no CUDA device")]
    checks += [rec("cuda", "float64", "skip", "no CUDA device"), rec("cpu", "float64", "skip", "expectations: slow")]
    checks.append(rec("cpu", "float64", "pass", check="vjp"))  # a column where something ran stays
    view = report_view.matrix({"derivations": [], "checks": checks})
    assert [(c["device"], c["dtype"]) for c in view["columns"]] == [("cpu", "float32"), ("cpu", "float64")]
    assert view["unavailable"] == [
        {"backend": "torch", "device": "cuda", "dtypes": ["float32", "float64"], "reason": "no CUDA device", "count": 2}
    ]
    assert len(view["rows"][0]["cells"]) == 2


def test_a_narrower_run_says_what_it_covered(tmp_path: Any) -> None:
    from harness import cli

    args = ["verify", "--quiet", "--only", "sigmoid", "--no-claims", "--profile", "quick", "--backend", "numpy"]
    assert cli.main([*args, "--dtype", "float64", "--report-dir", str(tmp_path)]) == 0
    from derivations import OPS

    data = json.loads((tmp_path / "report.json").read_text())
    assert data["scope"]["ops_in_catalog"] == len(OPS) and data["scope"]["claims_in_catalog"] > 100
    page = (tmp_path / "index.html").read_text()
    assert f"this report covers 1 of the catalog's {len(OPS)} ops and 0 of its" in page
    whole = {**data, "scope": {"ops_in_catalog": 1, "claims_in_catalog": 0}}  # a catalog of one op, all of it run
    assert 'id="scope"' not in html_report.render(whole)
