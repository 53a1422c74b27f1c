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


NOTES_SHOT = SCREENSHOT.with_name("notes.png")
CJK_FAMILIES = ("WenQuanYi", "Noto Sans CJK", "Noto Sans SC", "Source Han Sans", "PingFang", "Hiragino", "YaHei")


def _cjk_font_installed() -> bool:
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list"], capture_output=True, text=True, check=False).stdout
    return any(family in listed for family in CJK_FAMILIES)


@pytest.fixture(scope="module")
def notes_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report with claims of the notes: a refuted one, a checked one and prose."""
    from harness import cli

    directory = tmp_path_factory.mktemp("notes")
    only = "sigmoid,kl_is_distance,accuracy_definition,activation_priority"
    args = ["verify", "--quiet", "--profile", "quick", "--backend", "numpy", "--dtype", "float64", "--only", only]
    assert cli.main([*args, "--report-dir", str(directory)]) == 0
    return directory / "index.html"


def test_the_notes_section_shows_each_statement_with_its_chinese_quote(browser: Browser, notes_page: Path) -> None:
    browser.open(notes_page.as_uri())
    assert browser.problems() == []
    assert browser.evaluate(f"{VISIBLE}('#notes')") and browser.evaluate(f"{VISIBLE}('#n-B8 .statement')")
    text = browser.evaluate("document.querySelector('#n-B8').innerText")
    assert "Dkl表示的是两个概率分布的距离" in text and "refuted" in text and "What holds" in text
    # The teacher's headline counts the notes' verdicts apart from the implementations' checks.
    assert "refuted" in browser.evaluate("document.querySelector('#notes-summary').innerText")
    browser.send("DOM.enable")
    browser.send("CSS.enable")
    root = browser.send("DOM.getDocument")["root"]["nodeId"]
    quote = browser.send("DOM.querySelector", {"nodeId": root, "selector": "#n-B8 blockquote"})["nodeId"]
    fonts = [f["familyName"] for f in browser.send("CSS.getPlatformFontsForNode", {"nodeId": quote})["fonts"]]
    if _cjk_font_installed():
        assert any(family in name for name in fonts for family in CJK_FAMILIES), fonts
    NOTES_SHOT.parent.mkdir(exist_ok=True)
    browser.screenshot(NOTES_SHOT, "#n-B8")
    assert NOTES_SHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
