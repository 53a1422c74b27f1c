"""Markup and script in names, quotes and messages are shown as text, never run as code."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from harness import html_report, junit, report_schema, svg_plot
from tests.reports.page import parse
from tests.reports.samples import with_additions

HOSTILE = (
    "<script>document.title='pwned'</script>",
    '"><img src=x onerror="document.title=1">',
    "</td></tr></table><h1 id=injected>broken</h1>",
    "{{ 7*7 }}{% raw %}",
    "<math><mi>x</mi></math>",
    "\x01ctl",
)


def hostile_report(report: dict[str, Any]) -> dict[str, Any]:
    report = with_additions(report)
    bad = "".join(HOSTILE)
    d = report["derivations"][-1]
    d["name"] = d["title"] = bad
    d["source"]["quote"] = d["source"]["section"] = bad
    d["symbolic"]["detail"] = bad
    d["series"] = {bad: {"title": bad, "xlabel": bad, "ylabel": bad, "x": [0, 1], "lines": {bad: [0, 1]}}}
    d["regions"] = {bad: 1}
    for c in report["checks"]:
        c["message"] = bad
    bad_check = report["checks"][-1]
    bad_check["derivation"] = bad_check["backend"] = bad_check["dtype"] = bad_check["check"] = bad
    bad_check["id"] = bad_check["reproduce"] = bad
    bad_check["conventions"] = {bad: [0.0]}
    report["claims"][0]["detail"] = report["claims"][0]["corrected"] = bad
    report["claims"][0]["evidence"][0]["note"] = bad
    report["coverage"] = {"A1": [bad]}
    report["selftest"][0]["detail"] = report["selftest"][0]["mutant"] = bad
    report["environment"]["platform"] = bad
    return report_schema.validate(report)


def test_hostile_text_stays_text_in_html(report: dict[str, Any]) -> None:
    html = html_report.render(hostile_report(report))
    page = parse(html)
    assert page.count("script") == 0
    assert page.count("img") == 0
    assert "injected" not in page.ids
    assert not any(k.startswith("on") for _, attrs in page.tags for k in attrs)
    # The MathML comes from the catalog only: a name's <math> is text.
    assert page.count("math") == parse(html_report.render(report)).count("math")
    assert "{{ 7*7 }}" in page.all_text  # shown literally, never evaluated as a template
    assert HOSTILE[0] in page.all_text and HOSTILE[2] in page.all_text


def test_hostile_text_stays_text_in_junit(report: dict[str, Any]) -> None:
    root = ET.fromstring(junit.render(hostile_report(report)))
    messages = [f.get("message") for f in root.iter("failure")]
    assert any(m and HOSTILE[0] in m for m in messages)
    assert all("\x01" not in (m or "") for m in messages)


def test_svg_labels_are_escaped() -> None:
    svg = svg_plot.render(svg_plot.Plot("<b>t</b>", "<x>", "<y>", [0, 1], {"<script>": [0, 1]}))
    page = parse(svg)
    assert page.count("script") == 0 and page.count("b") == 0
    assert "<script>" in page.all_text and "<b>t</b>" in page.all_text
