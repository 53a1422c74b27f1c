"""Inline SVG line plots: no script, no external file, every label escaped.

Every margin is sized from the text it holds (titles and axis labels wrap, the left margin fits
the widest tick label), so no label is clipped by the plot's box or drawn over a curve; values
that span orders of magnitude go on a log axis.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

PLOT_W, PLOT_H = 268, 208  # the axes' box; the margins around it grow with their text
SIZES = {"pt": 12, "al": 11, "tk": 10, "lg": 10, "mk": 10}  # font px per text class (the page's CSS matches)
LINE = 1.3  # line height, in font sizes
LEGEND_TEXT = 180  # longest legend line before it wraps
DECADES = 3.0  # positive values spanning this many powers of ten are drawn on a log axis
# Colour-blind-safe palette (Okabe-Ito); lines beyond it also differ by dash pattern.
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
Scale = Callable[[float], float]  # data to pixels along one axis


@dataclass
class Plot:
    title: str
    xlabel: str
    ylabel: str
    x: Sequence[float | None]
    lines: Mapping[str, Sequence[float | None]]
    log_x: bool = False
    log_y: bool = False
    marks: Sequence[tuple[float, str]] = field(default_factory=tuple)  # vertical lines with a label


def text_width(text: str, size: float) -> float:
    """A generous estimate of the drawn width: the page's fonts are not known when the page is written,
    so a label is measured as if every Latin letter were as wide as an average capital."""
    return sum(size * (1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.64) for ch in text)


def wrap(text: str, size: float, width: float) -> list[str]:
    """Greedy word wrap to `width` pixels; a word wider than that is cut where it must be."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:
            if current and text_width(current + ch, size) > width:
                lines.append(current)
                current = ""
            current += ch
    return [*lines, current] if current else lines or [""]


def _finite(v: object, log: bool) -> float | None:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        return None
    if log:
        return math.log10(v) if v > 0 else None
    return float(v)


def spans_decades(values: Sequence[float | None]) -> bool:
    """Positive values whose largest is DECADES powers of ten above the smallest: a linear axis would
    flatten all but the largest into its floor (a vanishing gradient looks like an exact 0)."""
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and math.log10(max(finite) / min(finite)) >= DECADES


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        first, last = math.ceil(lo), math.floor(hi)
        step = max(1, math.ceil((last - first + 1) / 6))
        found = [float(t) for t in range(first, last + 1, step)]
        return found or [lo, hi]  # less than a decade: its two ends
    span = hi - lo
    raw = span / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step + 1e-9) + 1)]


def _label(t: float, log: bool) -> str:
    if log:
        return f"1e{int(t)}" if float(t).is_integer() else f"{10**t:.2g}"
    return f"{t:.4g}"


def _text(x: float, y: float, lines: list[str], cls: str, anchor: str = "start", rotate: bool = False) -> str:
    """One <text> with a <tspan> per line; a rotated one stacks its lines leftwards to rightwards."""
    step = SIZES[cls] * LINE
    if rotate:
        spans = "".join(
            f'<tspan x="0" dy="{0 if k == 0 else step:.1f}">{escape(t)}</tspan>' for k, t in enumerate(lines)
        )
        return (
            f'<text transform="translate({x:.1f} {y:.1f}) rotate(-90)" text-anchor="{anchor}" class="{cls}">'
            f"{spans}</text>"
        )
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if k == 0 else step:.1f}">{escape(t)}</tspan>' for k, t in enumerate(lines)
    )
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{spans}</text>'


@dataclass(frozen=True)
class Frame:
    """Where everything goes: the axes' box at (left, top), the data's ranges, the margins' text."""

    left: float
    top: float
    width: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    title: list[str]
    ylabel: list[str]
    xlabel: list[str]
    legend: list[list[str]]

    def sx(self, x: float) -> float:
        lo, hi = self.x_range
        return self.left + (x - lo) / (hi - lo) * PLOT_W

    def sy(self, y: float) -> float:
        lo, hi = self.y_range
        return self.top + (hi - y) / (hi - lo) * PLOT_H


def _ranges(points: list[tuple[float, float]]) -> tuple[tuple[float, float], tuple[float, float]]:
    x_lo, x_hi = min(p[0] for p in points), max(p[0] for p in points)
    y_lo, y_hi = min(p[1] for p in points), max(p[1] for p in points)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    if y_hi == y_lo:
        y_lo, y_hi = y_lo - 1, y_hi + 1
    pad = 0.05 * (y_hi - y_lo)
    return (x_lo, x_hi), (y_lo - pad, y_hi + pad)


def _frame(plot: Plot, points: list[tuple[float, float]], names: list[str], log_y: bool, marks: int) -> Frame:
    x_range, y_range = _ranges(points)
    legend = [wrap(name, SIZES["lg"], LEGEND_TEXT) for name in names]
    right = 40 + max((text_width(t, SIZES["lg"]) for entry in legend for t in entry), default=0.0)
    ylabel = wrap(plot.ylabel, SIZES["al"], PLOT_H)
    ticks = [_label(t, log_y) for t in _ticks(*y_range, log_y)]
    left = 14 + SIZES["al"] * LINE * len(ylabel) + max(text_width(t, SIZES["tk"]) for t in ticks)
    width = left + PLOT_W + right
    title = wrap(plot.title, SIZES["pt"], width - 12)
    # Under the title, one row per marked step: the marks' labels sit above the axes, never on a curve.
    top = 8 + SIZES["pt"] * LINE * len(title) + SIZES["mk"] * LINE * marks + 6
    return Frame(left, top, width, x_range, y_range, title, ylabel, wrap(plot.xlabel, SIZES["al"], PLOT_W), legend)


def _marks(f: Frame, marks: list[tuple[float | None, str]]) -> list[str]:
    out = []
    shown = [(x, text) for x, text in marks if x is not None and f.x_range[0] <= x <= f.x_range[1]]
    row = SIZES["mk"] * LINE
    for k, (x, text) in enumerate(shown):
        px = f.sx(x)
        label_y = f.top - 4 - row * (len(shown) - 1 - k)
        out.append(
            f'<line x1="{px:.1f}" y1="{label_y + 2:.1f}" x2="{px:.1f}" y2="{f.top + PLOT_H}" stroke="#c00" '
            'stroke-dasharray="3 3"/>'
        )
        # Each label on its own row, on the side of its line where the plot has room.
        room_right = f.width - px - 4 >= text_width(text, SIZES["mk"])
        anchor, dx = ("start", 3) if room_right else ("end", -3)
        out.append(_text(px + dx, label_y, [text], "mk", anchor))
    return out


def _lines(f: Frame, xs: list[float | None], series: dict[str, list[float | None]]) -> list[str]:
    out = []
    ly = f.top + 10
    for k, (ys, entry) in enumerate(zip(series.values(), f.legend, strict=True)):
        colour, dash = COLOURS[k % len(COLOURS)], DASHES[(k // len(COLOURS) + k) % len(DASHES)]
        # A None (nan, inf, log of 0) breaks the line instead of joining across the gap.
        path, pen_down = [], False
        for x, y in zip(xs, ys, strict=False):
            if x is None or y is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{f.sx(x):.1f} {f.sy(y):.1f}")
            pen_down = True
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="1.8"{dash_attr}/>')
        x0 = f.left + PLOT_W + 8
        out.append(
            f'<line x1="{x0:.1f}" y1="{ly - 4:.1f}" x2="{x0 + 18:.1f}" y2="{ly - 4:.1f}" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        out.append(_text(x0 + 22, ly, entry, "lg"))
        ly += SIZES["lg"] * LINE * len(entry) + 4
    return out


def _axes(f: Frame, log_x: bool, log_y: bool) -> list[str]:
    out = [f'<rect x="{f.left:.1f}" y="{f.top:.1f}" width="{PLOT_W}" height="{PLOT_H}" fill="none" stroke="#888"/>']
    bottom = f.top + PLOT_H
    for t in _ticks(*f.x_range, log_x):
        out.append(f'<line x1="{f.sx(t):.1f}" y1="{f.top:.1f}" x2="{f.sx(t):.1f}" y2="{bottom:.1f}" stroke="#eee"/>')
        out.append(_text(f.sx(t), bottom + 14, [_label(t, log_x)], "tk", "middle"))
    for t in _ticks(*f.y_range, log_y):
        out.append(
            f'<line x1="{f.left:.1f}" y1="{f.sy(t):.1f}" x2="{f.left + PLOT_W:.1f}" y2="{f.sy(t):.1f}" stroke="#eee"/>'
        )
        out.append(_text(f.left - 4, f.sy(t) + 4, [_label(t, log_y)], "tk", "end"))
    out.append(_text(f.left + PLOT_W / 2, bottom + 32, f.xlabel, "al", "middle"))
    # The rotated label's first line sits furthest left; its lines run rightwards, towards the ticks.
    out.append(_text(6 + SIZES["al"], f.top + PLOT_H / 2, f.ylabel, "al", "middle", rotate=True))
    return out


def render(plot: Plot) -> str:
    # Only y goes on a log axis unasked: an x is a quantity the reader chose the spacing of (steps, a).
    log_x = plot.log_x
    log_y = plot.log_y or spans_decades([v for ys in plot.lines.values() for v in ys])
    xs = [_finite(v, log_x) for v in plot.x]
    series = {name: [_finite(v, log_y) for v in ys] for name, ys in plot.lines.items()}
    points = [(x, y) for ys in series.values() for x, y in zip(xs, ys, strict=False) if x is not None and y is not None]
    marks = [(_finite(v, log_x), text) for v, text in plot.marks]
    title = escape(plot.title)
    if not points:
        return f'<p class="noplot">{title}: no finite values to plot</p>'
    f = _frame(plot, points, list(series), log_y, len(marks))
    legend_height = sum(SIZES["lg"] * LINE * len(e) + 4 for e in f.legend) + 10
    height = f.top + max(PLOT_H + 32 + SIZES["al"] * LINE * len(f.xlabel), legend_height)
    out = [
        f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {f.width:.0f} {height:.0f}" '
        f'width="{f.width:.0f}" height="{height:.0f}" role="img" aria-label="{title}">',
        _text(f.width / 2, 8 + SIZES["pt"], f.title, "pt", "middle"),
        *_axes(f, log_x, log_y),
        *_marks(f, marks),
        *_lines(f, xs, series),
        "</svg>",
    ]
    return "\n".join(out)


def from_series(owner: str, name: str, spec: Mapping[str, object]) -> Plot:
    """A plot from the "series" entry `name` of the report entry `owner` (schema-validated)."""
    return Plot(
        title=f"{owner}: {spec.get('title') or name}" if owner else str(spec.get("title") or name),
        xlabel=str(spec.get("xlabel", "")),
        ylabel=str(spec.get("ylabel", "")),
        x=list(spec["x"]),  # type: ignore[call-overload]
        lines=dict(spec["lines"]),  # type: ignore[call-overload]
        log_x=bool(spec.get("log_x", False)),
        log_y=bool(spec.get("log_y", False)),
        marks=[(float(x), str(label)) for x, label in spec.get("marks", [])],  # type: ignore[attr-defined]
    )
