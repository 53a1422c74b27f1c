"""The page fits its window: at 1,400 and 800 px nothing widens the page (wide tables scroll in their own
box), no plot's label leaves its plot, lies on the axes where the curves are, or covers another label.
Screenshots of both widths are kept under reports/ to look at."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from derivations.depth_experiment import depth_experiment
from harness import html_report, svg_plot
from tests.browser.cdp import Browser, find_chromium

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "reports"
WIDTHS = (1400, 800)

# Per <svg>: the boxes of its texts that leave it, that enter its axes' box (where the curves are drawn),
# and that cover one another, each named by its text. 1 px of slack for anti-aliasing.
PLOT_TEXT_PROBLEMS = """(() => {
  const box = e => e.getBoundingClientRect();
  const meets = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const out = [];
  for (const svg of document.querySelectorAll('svg.plot')) {
    const s = box(svg), axes = box(svg.querySelector('rect')), name = svg.getAttribute('aria-label');
    const texts = [...svg.querySelectorAll('text')].map(t => [t.textContent, box(t)]);
    for (const [text, r] of texts) {
      if (r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1)
        out.push(`${name}: '${text}' leaves its plot`);
      if (meets(r, axes)) out.push(`${name}: '${text}' lies on the axes`);
    }
    texts.forEach(([a, ra], i) => texts.slice(i + 1).forEach(([b, rb]) => {
      if (meets(ra, rb)) out.push(`${name}: '${a}' covers '${b}'`);
    }));
  }
  return out;
})()"""
WIDEST = """[...document.querySelectorAll('body *')].filter(e => {
  const r = e.getBoundingClientRect();
  return r.right > innerWidth && !e.closest('.wide');
}).slice(0, 5).map(e =>
  `${e.tagName.toLowerCase()}#${e.id}.${e.className} ends at ${Math.round(e.getBoundingClientRect().right)}`)"""

LONG = "a_rather_long_unbroken_identifier_" * 6


def _crowded(report: dict[str, Any]) -> dict[str, Any]:
    """A real report with everything that once widened the page or clipped a label, at its worst: 31 region
    columns, eleven matrix columns, an unbroken 200-character id, the gradient-norm-against-depth plot
    (values over many decades), a plot whose title, axis labels and legend are all too long for it."""
    r = copy.deepcopy(report)
    first = r["derivations"][0]
    first["regions"] = {f"region-number-{k:02d}": k for k in range(31)}
    extra = []
    for k, c in enumerate(c for c in r["checks"] if c["backend"] == "numpy"):
        for backend in ("impl:first_module", "impl:second_module", "impl:third_module", "impl:fourth_module"):
            extra.append({**c, "backend": backend, "id": f"{c['id']}-{backend}-{k}"})
    failing = {**r["checks"][0], "verdict": "fail", "id": LONG, "message": LONG, "reproduce": f"gradproof {LONG}"}
    r["checks"] = [*r["checks"], *extra, failing]
    spec = depth_experiment(0)["gradient_vs_depth"]
    crowded = {
        "title": "a title far longer than the plot is wide, " * 4,
        "xlabel": "an x label that needs more than one line under the axes " * 2,
        "ylabel": "a y label longer than the plot is high, " * 3,
        "x": [1e-12 * 10**k for k in range(12)],
        "lines": {
            f"series number {k} with a long legend entry": [10.0**-k * (j + 1) for j in range(12)] for k in range(5)
        },
        "log_x": True,
        "marks": [[1e-8, "float32 step"], [1e-7, "float64 step"], [1e-6, "a third step with a long label"]],
    }
    first["series"] = {"gradient_vs_depth": spec, "crowded": crowded}
    return r


@pytest.fixture(scope="module")
def crowded_page(_report: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("crowded") / "index.html"
    page.write_text(html_report.render(_crowded(_report)), encoding="utf-8")
    return page


@pytest.fixture(scope="module", params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def window(request: pytest.FixtureRequest) -> Iterator[tuple[Browser, int]]:
    binary = find_chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian package chromium; .ci/run installs it in CI)")
    b = Browser(binary, width=request.param, height=900)
    try:
        yield b, request.param
    finally:
        b.close()


@pytest.mark.parametrize("which", ["real", "crowded"])
def test_nothing_widens_the_page_and_no_plot_label_is_clipped_or_on_a_curve(
    window: tuple[Browser, int], which: str, report_dir: Path, crowded_page: Path
) -> None:
    browser, width = window
    browser.open((report_dir / "index.html" if which == "real" else crowded_page).as_uri())
    assert browser.problems() == []
    assert browser.evaluate("innerWidth") == width
    assert browser.evaluate("document.querySelectorAll('svg.plot').length") >= (2 if which == "real" else 4)
    # The page scrolls down, never sideways; only a wide table's own box may.
    scroll_width = browser.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= browser.evaluate("innerWidth"), browser.evaluate(WIDEST)
    assert browser.evaluate(PLOT_TEXT_PROBLEMS) == []
    if which == "crowded":
        # The 31 regions are listed per op, not as 31 columns; the wide matrix scrolls inside its box.
        assert browser.evaluate("document.querySelector('table.regions tr').children.length") == 2
        assert browser.evaluate(
            "(() => { const w = document.querySelector('#matrix').parentElement;"
            " return w.classList.contains('wide') && w.clientWidth <= innerWidth; })()"
        )
    SHOTS.mkdir(exist_ok=True)
    shot = SHOTS / f"page-{which}-{width}.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _ticks(svg: str) -> list[str]:
    return re.findall(r'class="tk"><tspan[^>]*>([^<]*)<', svg)


def test_values_over_many_decades_go_on_a_log_axis() -> None:
    spec = depth_experiment(0)["gradient_vs_depth"]
    assert svg_plot.spans_decades([v for ys in spec["lines"].values() for v in ys])
    depth = _ticks(svg_plot.render(svg_plot.from_series("residual_linear", "gradient_vs_depth", spec)))
    assert any(t.startswith("1e-") for t in depth), depth  # powers of ten: the vanishing sigmoid line shows
    linear = _ticks(svg_plot.render(svg_plot.Plot("t", "x", "y", [0, 1, 2], {"a": [1.0, 2.0, 3.0]})))
    assert linear and not any(t.startswith("1e") for t in linear), linear
