"""index.html in a real browser: renders with no console error, the matrix and a MathML
formula are visible, hostile text never runs; a screenshot is kept under reports/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import html_report
from tests.browser.cdp import Browser, find_chromium
from tests.reports.escaping_inputs import hostile_report

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).resolve().parents[2] / "reports" / "index.png"

VISIBLE = """(selector => {
  const e = document.querySelector(selector);
  if (!e) return false;
  const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && s.visibility === 'visible' && s.display !== 'none';
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    binary = find_chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian package chromium; .ci/run installs it in CI)")
    b = Browser(binary)
    try:
        yield b
    finally:
        b.close()


def test_the_report_renders_without_errors_and_shows_matrix_and_mathml(browser: Browser, report_dir: Path) -> None:
    browser.open((report_dir / "index.html").as_uri())
    assert browser.problems() == []
    assert browser.evaluate(f"{VISIBLE}('#matrix')")
    assert browser.evaluate(f"{VISIBLE}('#matrix td.cell')")
    assert browser.evaluate(f"{VISIBLE}('math')")
    # Laid out as MathML, not as a run of plain text: a fraction stacks its parts.
    assert browser.evaluate(
        "(() => { const f = document.querySelector('math mfrac'); const [a, b] = f.children;"
        " return a.getBoundingClientRect().bottom <= b.getBoundingClientRect().top + 1; })()"
    )
    assert browser.evaluate("document.querySelector('math').namespaceURI") == "http://www.w3.org/1998/Math/MathML"
    assert browser.evaluate(f"{VISIBLE}('svg.plot')")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.screenshot(SCREENSHOT)
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hostile_text_never_runs(browser: Browser, report: dict[str, Any], tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text(html_report.render(hostile_report(report)), encoding="utf-8")
    browser.open(page.as_uri())
    assert browser.problems() == []  # a script that got in would also be refused here, loudly
    assert browser.evaluate("document.title").startswith("gradproof report")
    assert browser.evaluate("document.scripts.length") == 0
    assert browser.evaluate("document.querySelectorAll('img, #injected, [onerror]').length") == 0
    assert "<script>document.title='pwned'</script>" in browser.evaluate("document.body.innerText")
    assert browser.evaluate(f"{VISIBLE}('#matrix')") and browser.evaluate(f"{VISIBLE}('#environment')")
