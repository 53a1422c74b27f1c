"""Markup and script in names, quotes and messages are shown as text, never run as code."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from harness import html_report, junit, svg_plot
from tests.reports.escaping_inputs import HOSTILE, hostile_report
from tests.reports.page import parse


def test_hostile_text_stays_text_in_html(report: dict[str, Any]) -> None:
    html = html_report.render(hostile_report(report))
    page = parse(html)
    assert page.count("script") == 0
    assert page.count("img") == 0
    assert "injected" not in page.ids
    assert not any(k.startswith("on") for _, attrs in page.tags for k in attrs)
    # MathML is drawn only from the stored formulas, through an allowlist: a name's <math> is text,
    # and a formula with a script, an event attribute, CDATA or an entity is named, not drawn.
    assert page.count("math") == parse(html_report.render(report)).count("math")
    assert page.all_text.count("(not drawn:") == 5
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
