"""Inline SVG line plots: no script, no external file, every label escaped."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 460, 280
LEFT, RIGHT, TOP, BOTTOM = 62, 130, 28, 44
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


def _finite(v: object, log: bool) -> float | None:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        return None
    if log:
        return math.log10(v) if v > 0 else None
    return float(v)


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        first, last = math.ceil(lo), math.floor(hi)
        step = max(1, math.ceil((last - first + 1) / 6))
        return [float(t) for t in range(first, last + 1, step)]
    span = hi - lo
    raw = span / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step + 1e-9) + 1)]


def _label(t: float, log: bool) -> str:
    if log:
        return f"1e{int(t)}"
    return f"{t:.4g}"


def _marks(marks: list[tuple[float | None, str]], x_lo: float, x_hi: float, sx: Scale, pw: int, ph: int) -> list[str]:
    out = []
    for k, (x, text) in enumerate(marks):
        if x is None or not x_lo <= x <= x_hi:
            continue
        out.append(
            f'<line x1="{sx(x):.1f}" y1="{TOP}" x2="{sx(x):.1f}" y2="{TOP + ph}" stroke="#c00" stroke-dasharray="3 3"/>'
        )
        # Labels step down the plot and sit on the roomier side of their line, so neighbours stay apart.
        anchor, dx = ("end", -3) if sx(x) > LEFT + pw / 2 else ("start", 3)
        label_y = TOP + ph - 8 - 12 * k
        out.append(f'<text x="{sx(x) + dx:.1f}" y="{label_y}" text-anchor="{anchor}" class="mk">{escape(text)}</text>')
    return out


def _lines(xs: list[float | None], series: dict[str, list[float | None]], sx: Scale, sy: Scale, pw: int) -> list[str]:
    out = []
    for k, (name, ys) in enumerate(series.items()):
        colour, dash = COLOURS[k % len(COLOURS)], DASHES[(k // len(COLOURS) + k) % len(DASHES)]
        # A None (nan, inf, log of 0) breaks the line instead of joining across the gap.
        path, pen_down = [], False
        for x, y in zip(xs, ys, strict=False):
            if x is None or y is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{sx(x):.1f} {sy(y):.1f}")
            pen_down = True
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="1.8"{dash_attr}/>')
        ly = TOP + 14 + 16 * k
        out.append(
            f'<line x1="{LEFT + pw + 8}" y1="{ly - 4}" x2="{LEFT + pw + 26}" y2="{ly - 4}" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        out.append(f'<text x="{LEFT + pw + 30}" y="{ly}" class="lg">{escape(name)}</text>')
    return out


def render(plot: Plot) -> str:
    xs = [_finite(v, plot.log_x) for v in plot.x]
    series = {name: [_finite(v, plot.log_y) for v in ys] for name, ys in plot.lines.items()}
    points = [(x, y) for ys in series.values() for x, y in zip(xs, ys, strict=False) if x is not None and y is not None]
    marks = [(_finite(v, plot.log_x), text) for v, text in plot.marks]
    title = escape(plot.title)
    if not points:
        return f'<p class="noplot">{title}: no finite values to plot</p>'
    x_lo, x_hi = min(p[0] for p in points), max(p[0] for p in points)
    y_lo, y_hi = min(p[1] for p in points), max(p[1] for p in points)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    if y_hi == y_lo:
        y_lo, y_hi = y_lo - 1, y_hi + 1
    pad = 0.05 * (y_hi - y_lo)
    y_lo, y_hi = y_lo - pad, y_hi + pad
    # The legend sits right of the axes, as wide as its longest label needs.
    right = max(RIGHT, 40 + 6 * max(len(name) for name in series))
    width = WIDTH - RIGHT + right
    pw, ph = width - LEFT - right, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - x_lo) / (x_hi - x_lo) * pw

    def sy(y: float) -> float:
        return TOP + (y_hi - y) / (y_hi - y_lo) * ph

    out = [
        f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {HEIGHT}" '
        f'width="{width}" height="{HEIGHT}" role="img" aria-label="{title}">',
        f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" class="pt">{title}</text>',
        f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>',
    ]
    for t in _ticks(x_lo, x_hi, plot.log_x):
        out.append(f'<line x1="{sx(t):.1f}" y1="{TOP}" x2="{sx(t):.1f}" y2="{TOP + ph}" stroke="#eee"/>')
        out.append(
            f'<text x="{sx(t):.1f}" y="{TOP + ph + 14}" text-anchor="middle" class="tk">{_label(t, plot.log_x)}</text>'
        )
    for t in _ticks(y_lo, y_hi, plot.log_y):
        out.append(f'<line x1="{LEFT}" y1="{sy(t):.1f}" x2="{LEFT + pw}" y2="{sy(t):.1f}" stroke="#eee"/>')
        label = _label(t, plot.log_y)
        out.append(f'<text x="{LEFT - 4}" y="{sy(t) + 4:.1f}" text-anchor="end" class="tk">{label}</text>')
    out.append(
        f'<text x="{LEFT + pw / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle" class="al">{escape(plot.xlabel)}</text>'
    )
    out.append(
        f'<text transform="translate(14 {TOP + ph / 2:.0f}) rotate(-90)" text-anchor="middle" class="al">'
        f"{escape(plot.ylabel)}</text>"
    )
    out += _marks(marks, x_lo, x_hi, sx, pw, ph)
    out += _lines(xs, series, sx, sy, pw)
    out.append("</svg>")
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
