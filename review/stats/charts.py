"""Small server-side SVG charts: a line per series over weeks, and bars.

No JavaScript and no CDN (hospitals run offline): the page gets a finished
``<svg>``. Every text that reaches the SVG is escaped, because labels come
from data (codes, emails). Each chart sits beside its table on the page.

Every chart reads at a glance: its title is drawn on it (not only in the
accessible name), both axes carry ticks and a caption, a label too long for
its place is cut and given whole on hover (``<title>``), one week is a
labelled point in the middle of the axis rather than a dot lost in the
corner, and no data says so in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#1f5fae", "#b3261e", "#1e7a46", "#9a5b00", "#6b3fa0", "#00777a")
INK, MUTED, GRID, AXIS = "#1d2533", "#5b6575", "#d8dde5", "#8a94a3"
TITLE_HEIGHT = 26
FONT = 12
LABEL_CHARS = 28  # a bar label longer than this is cut (whole on hover)
EMPTY = "No data for this selection yet."


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[str, float]]  # (x label, value between 0 and 1)


@dataclass(frozen=True)
class Bar:
    """One bar: its short ``label``, its value, and what hovering says
    (``hover``: the whole name, e.g. a chapter's title)."""

    label: str
    value: float
    hover: str = ""


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = FONT,
    fill: str = MUTED,
    extra: str = "",
    hover: str = "",
) -> str:
    tip = f"<title>{escape(hover)}</title>" if hover else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}"{extra}>{tip}{escape(text)}</text>'
    )


def _frame(title: str, width: int, height: int) -> str:
    """The ``<svg>`` with its accessible name and its title drawn on top."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        + _text(0, 17, title, size=14, fill=INK, extra=' font-weight="600" class="chart-title"')
    )


def _empty(title: str, width: int, message: str = EMPTY) -> SafeString:
    return mark_safe(  # the title and message are escaped
        _frame(title, width, TITLE_HEIGHT + 34)
        + f'<rect x="0" y="{TITLE_HEIGHT}" width="{width}" height="28" fill="#f3f5f8" rx="4"/>'
        + _text(10, TITLE_HEIGHT + 19, message, extra=' class="chart-empty"')
        + "</svg>"
    )


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    y_label: str = "",
    x_label: str = "Week (starting Monday)",
    width: int = 900,
    height: int = 290,
    empty: str = EMPTY,
) -> SafeString:
    """Lines of shares (0 to 1) over shared x labels (weeks), with a legend.

    With one x label there is no line to draw: each series is a point in
    the middle of the axis with its value written beside it.
    """
    labels = sorted({x for s in series for x, _ in s.points})
    if not labels:
        return _empty(title, width, empty)
    left, right, top, bottom = 56, 160, TITLE_HEIGHT + 10, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    single = len(labels) == 1
    if single:
        xpos = {labels[0]: left + plot_w / 2}
    else:
        step = plot_w / (len(labels) - 1)
        xpos = {label: left + i * step for i, label in enumerate(labels)}
    parts = [_frame(title, width, height), *_y_grid(left, top, plot_w, plot_h)]
    parts.append(_axes(left, top, plot_w, plot_h))
    parts.extend(_x_ticks(labels, xpos, top + plot_h))
    parts.append(_text(left + plot_w / 2, height - 8, x_label, anchor="middle"))
    if y_label:
        parts.append(_y_caption(y_label, top + plot_h / 2))
    for index, one in enumerate(series):
        ys = [top + plot_h * (1 - min(max(v, 0.0), 1.0)) for _, v in one.points]
        parts.extend(_line(one, index, xpos, ys, labelled=single))
        parts.extend(_legend_entry(one.name, index, width - right, top + 8 + index * 18))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every data text is escaped above


def _y_grid(left: float, top: float, plot_w: float, plot_h: float) -> list[str]:
    """Grid lines and tick labels of a share axis (0 to 1)."""
    parts = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        parts.append(_text(left - 6, y + 4, f"{tick:.2f}", anchor="end"))
    return parts


def _x_ticks(labels: Sequence[str], xpos: dict[str, float], bottom: float) -> list[str]:
    """A tick and label for about seven of the x labels (all when fewer)."""
    parts = []
    every = max(1, len(labels) // 7)
    for label in labels[::every]:
        x = xpos[label]
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="{AXIS}"/>'
        )
        parts.append(_text(x, bottom + 18, label, anchor="middle"))
    return parts


def _y_caption(text: str, middle: float) -> str:
    return _text(
        14, middle, text, anchor="middle", extra=f' transform="rotate(-90 14 {middle:.1f})"'
    )


def _legend_entry(name: str, index: int, x: float, y: float) -> list[str]:
    return [
        f'<rect x="{x + 12}" y="{y - 10}" width="11" height="11" '
        f'fill="{COLOURS[index % len(COLOURS)]}"/>',
        _text(x + 28, y, name[:20], hover=name),
    ]


def _axes(left: float, top: float, plot_w: float, plot_h: float) -> str:
    bottom = top + plot_h
    return (
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="{AXIS}"/>'
        f'<line x1="{left}" x2="{left + plot_w}" y1="{bottom}" y2="{bottom}" stroke="{AXIS}"/>'
    )


def _line(
    one: Series, index: int, xpos: dict[str, float], ys: list[float], *, labelled: bool
) -> list[str]:
    """One series: its polyline and a dot per point with the value on hover
    (and written beside it when ``labelled``)."""
    colour = COLOURS[index % len(COLOURS)]
    points = " ".join(f"{xpos[x]:.1f},{y:.1f}" for (x, _), y in zip(one.points, ys, strict=True))
    parts = []
    if len(one.points) > 1:
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
    radius = 5 if labelled else 3
    for (x, v), y in zip(one.points, ys, strict=True):
        parts.append(
            f'<circle cx="{xpos[x]:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}">'
            f"<title>{escape(one.name)} {escape(x)}: {v:.3f}</title></circle>"
        )
        if labelled:
            parts.append(
                _text(xpos[x] + 9, y + 4, f"{one.name[:16]}: {v:.2f}", fill=colour, hover=one.name)
            )
    return parts


def bar_chart(
    bars: Sequence[Bar | tuple[str, float]],
    *,
    title: str,
    x_label: str = "",
    width: int = 900,
    value_format: str = "{:.2f}",
    maximum: float | None = None,
    empty: str = EMPTY,
) -> SafeString:
    """Horizontal bars, one per label, longest scale at ``maximum``, with a
    value axis below them; a long label is cut and whole on hover."""
    shown = [bar if isinstance(bar, Bar) else Bar(*bar) for bar in bars]
    if not shown:
        return _empty(title, width, empty)
    row, right, top, axis = 24, 70, TITLE_HEIGHT + 6, 44 if x_label else 28
    longest = max(len(bar.label[:LABEL_CHARS]) for bar in shown)
    left = min(max(60, longest * 7 + 16), 230)
    height = top + row * len(shown) + axis
    largest = max((bar.value for bar in shown), default=1.0)
    scale = maximum if maximum is not None else (largest or 1.0)
    plot_w = width - left - right
    bottom = top + row * len(shown)
    parts = [_frame(title, width, height)]
    parts.extend(_value_axis(left, top, bottom, plot_w, scale, value_format))
    if x_label:
        parts.append(_text(left + plot_w / 2, height - 6, x_label, anchor="middle"))
    for i, bar in enumerate(shown):
        parts.extend(
            _bar(bar, left, top + i * row, row, plot_w * _share(bar.value, scale), value_format)
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every data text is escaped above


def _share(value: float, scale: float) -> float:
    return min(max(value, 0.0) / scale, 1.0)


def _value_axis(
    left: float, top: float, bottom: float, plot_w: float, scale: float, value_format: str
) -> list[str]:
    """The bars' value grid with its tick labels, and both axis lines."""
    parts = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = left + plot_w * tick
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom + 4}" stroke="{GRID}"/>'
        )
        parts.append(_text(x, bottom + 17, value_format.format(scale * tick), anchor="middle"))
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="{AXIS}"/>'
        f'<line x1="{left}" x2="{left + plot_w}" y1="{bottom}" y2="{bottom}" stroke="{AXIS}"/>'
    )
    return parts


def _bar(bar: Bar, left: float, y: float, row: int, length: float, value_format: str) -> list[str]:
    """One bar: its label (cut, whole on hover), the bar and its value."""
    label = bar.label if len(bar.label) <= LABEL_CHARS else bar.label[: LABEL_CHARS - 1] + "…"
    hover = bar.hover or bar.label
    tip = f"{escape(hover)}: {value_format.format(bar.value)}"
    return [
        _text(left - 8, y + 16, label, anchor="end", fill=INK, hover=hover),
        f'<rect x="{left}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
        f'fill="{COLOURS[0]}"><title>{tip}</title></rect>',
        _text(left + length + 5, y + 16, value_format.format(bar.value)),
    ]
