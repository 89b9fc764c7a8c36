"""Small server-side SVG charts: a line per series over weeks, and bars.

No JavaScript and no CDN (hospitals run offline): the page gets a finished
``<svg>``. Every text that reaches the SVG is escaped, because labels come
from data (codes, emails). Each chart sits beside its table on the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#1f5fae", "#b3261e", "#1e7a46", "#9a5b00", "#6b3fa0", "#00777a")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[str, float]]  # (x label, value between 0 and 1)


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="#5b6575">{escape(text)}</text>'
    )


def line_chart(
    series: Sequence[Series], *, title: str, width: int = 720, height: int = 260
) -> SafeString:
    """Lines of shares (0 to 1) over shared x labels (weeks), with a legend."""
    labels = sorted({x for s in series for x, _ in s.points})
    left, right, top, bottom = 44, 150, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    if not labels:
        return _empty(title, width)
    step = plot_w / max(len(labels) - 1, 1)
    xpos = {label: left + i * step for i, label in enumerate(labels)}
    parts = [_frame(title, width, height)]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d8dde5"/>'
        )
        parts.append(_text(left - 6, y + 4, f"{tick:.2f}", anchor="end"))
    every = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(_text(xpos[label], height - bottom + 16, label, anchor="middle", size=10))
    for index, one in enumerate(series):
        ys = [top + plot_h * (1 - min(max(v, 0.0), 1.0)) for _, v in one.points]
        parts.extend(_line(one, index, xpos, ys))
        ly = top + 14 + index * 16
        parts.append(
            f'<rect x="{width - right + 10}" y="{ly - 9}" width="10" height="10" '
            f'fill="{COLOURS[index % len(COLOURS)]}"/>'
        )
        parts.append(_text(width - right + 26, ly, one.name))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every data text is escaped above


def _line(one: Series, index: int, xpos: dict[str, float], ys: list[float]) -> list[str]:
    """One series: its polyline and a dot per point with the value on hover."""
    colour = COLOURS[index % len(COLOURS)]
    points = " ".join(f"{xpos[x]:.1f},{y:.1f}" for (x, _), y in zip(one.points, ys, strict=True))
    parts = [f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>']
    for (x, v), y in zip(one.points, ys, strict=True):
        parts.append(
            f'<circle cx="{xpos[x]:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}">'
            f"<title>{escape(one.name)} {escape(x)}: {v:.3f}</title></circle>"
        )
    return parts


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 720,
    value_format: str = "{:.2f}",
    maximum: float | None = None,
) -> SafeString:
    """Horizontal bars, one per (label, value), longest scale at ``maximum``."""
    if not bars:
        return _empty(title, width)
    row, left, right, top = 18, 190, 60, 8
    height = top * 2 + row * len(bars)
    scale = maximum if maximum is not None else max((v for _, v in bars), default=1.0) or 1.0
    plot_w = width - left - right
    parts = [_frame(title, width, height)]
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        length = plot_w * min(max(value, 0.0) / scale, 1.0)
        parts.append(_text(left - 6, y + 12, label[:30], anchor="end"))
        tip = f"{escape(label)}: {value_format.format(value)}"
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" '
            f'fill="{COLOURS[0]}"><title>{tip}</title></rect>'
        )
        parts.append(_text(left + length + 4, y + 12, value_format.format(value)))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every data text is escaped above


def _frame(title: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )


def _empty(title: str, width: int) -> SafeString:
    return mark_safe(  # the title is escaped
        _frame(title, width, 30) + _text(8, 20, "No data for this selection.") + "</svg>"
    )
