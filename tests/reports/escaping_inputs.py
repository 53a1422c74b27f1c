"""Text with markup and script, fed through every name and message of a report."""

from __future__ import annotations

from typing import Any

from harness import report_schema
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
    d["symbolic"] = {"status": "numerical-only", "detail": bad}
    d["series"] = {bad: {"title": bad, "xlabel": bad, "ylabel": bad, "x": [0, 1], "lines": {bad: [0, 1]}}}
    d["regions"] = {bad: 1}
    # Stored formulas are drawn from an allowlist: markup smuggled into them is refused, not drawn.
    smuggled = (
        "<math><mi>x</mi><script>document.title='pwned'</script></math>",
        '<math><mi onmouseover="document.title=1">a</mi></math>',
        "<math><mtext><![CDATA[<script>document.title=2</script>]]></mtext></math>",
        '<!DOCTYPE math [<!ENTITY e "<script>x</script>">]><math><mi>&e;</mi></math>',
        bad,
    )
    d["formulas"] = [*d.get("formulas", []), *({"caption": bad, "mathml": m} for m in smuggled)]
    d["plots"] = {"activation": {"title": bad, "xlabel": bad, "ylabel": bad, "x": [0, 1], "lines": {bad: [0, 1]}}}
    d["plots"]["activation"]["marks"] = [[0.5, bad]]
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
