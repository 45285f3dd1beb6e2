"""Accessible inline SVG charts for indicator pages and printed reports.

Pure functions: plain data in, an SVG string out (marked safe for templates, every piece of
text escaped first). No request, no JavaScript, no external asset (no web fonts, no CSS
file): colours are SVG presentation attributes, so a chart looks the same on the site and
in a PDF, and no inline ``style`` attribute trips the site's Content Security Policy.

Accessibility: each chart is ``<svg role="img">`` labelled by its ``<title>`` and a
``<desc>`` that states what the chart shows in words (range, latest value, lowest and
highest, target, baseline, how many periods are suppressed). A chart never stands alone:
pages put the same figures in a data table beside it. Colours meet WCAG AA on white (text
4.5:1 or more, lines and bars 3:1 or more): ink #1b1f24 (16:1), axis text #4a525c (7.9:1),
series #1d4f91 (8.6:1), target #a4343a (6.7:1); grid lines #c9d0d8 are decoration only.

Labels (``Target``, ``Baseline``, ...) go through gettext, so the active language applies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import math
from collections.abc import Sequence
from typing import Literal

from django.utils.formats import get_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

INK = "#1b1f24"
MUTED = "#4a525c"
GRID = "#c9d0d8"
SERIES = "#1d4f91"
TARGET = "#a4343a"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
CHAR_WIDTH = 7.0  # average width of a 12-13px character, for laying out labels


def _e(text: object) -> str:
    # The standard library's escape, which Django's wraps: a chart has hundreds of labels,
    # and the wrapper's support for lazy strings costs more than the escaping.
    return html.escape(str(text))


def decimal_sign(text: str) -> str:
    """`text` (a number Python wrote, with a point) with the active language's decimal sign:
    "62.5" reads "62,5" on the Spanish, Russian and Ukrainian pages."""
    sign = str(get_format("DECIMAL_SEPARATOR"))
    return text if sign == "." else text.replace(".", sign)


def format_number(value: float) -> str:
    """A figure for a label: at most one decimal, no trailing ".0", no exponent, in the active
    language's decimal sign (`decimal_sign`).

    >>> format_number(62.54), format_number(40.0), format_number(1234567.0), format_number(-0.04)
    ('62.5', '40', '1234567', '0')
    """
    rounded = round(value, 1)
    if rounded == 0:
        return "0"
    if rounded == int(rounded):
        return f"{int(rounded)}"
    return decimal_sign(f"{rounded:.1f}")


def _with_unit(value: float, unit: str) -> str:
    return f"{format_number(value)} {unit}".strip()


def _nice_step(span: float, ticks: int) -> float:
    raw = span / max(1, ticks)
    magnitude = float(10.0 ** math.floor(math.log10(raw)))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _is_percent(unit: str) -> bool:
    return unit.strip().casefold() in {
        "%",
        "percent",
        "per cent",
        "percentage",
        "percentage points",
    }


def _scale(values: Sequence[float], unit: str, ticks: int = 5) -> tuple[float, float, list[float]]:
    """A zero-based (or negative-including) axis with round tick values covering `values`."""
    low = min([0.0, *values])
    high = max([0.0, *values])
    if _is_percent(unit) and high <= 100 and low >= 0:
        high = max(high, 1.0)
    if high == low:
        high = low + 1.0
    step = _nice_step(high - low, ticks)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    count = round((high - low) / step)
    return low, high, [low + i * step for i in range(count + 1)]


def _chart_id(*parts: object) -> str:
    digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()
    return f"chart-{digest[:12]}"


def _month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


DateGrain = Literal["year", "month", "day"]


def _date_grain(days: Sequence[dt.date]) -> DateGrain:
    """How a chart labels its dates, decided once for the whole series: by year where every
    point is a year's first or last day, by month where every point is a month's first or
    last day, else by day.

    >>> _date_grain([dt.date(2023, 12, 31), dt.date(2024, 12, 31)])
    'year'
    >>> _date_grain([dt.date(2024, 1, 31), dt.date(2024, 2, 29)])
    'month'
    >>> _date_grain([dt.date(2024, 1, 1), dt.date(2024, 2, 29)])
    'day'
    """
    if all((d.month, d.day) == (1, 1) for d in days) or all(
        (d.month, d.day) == (12, 31) for d in days
    ):
        return "year"
    if all(d.day == 1 for d in days) or all(_month_end(d) for d in days):
        return "month"
    return "day"


def _date_label(day: dt.date, grain: DateGrain) -> str:
    if grain == "year":
        return f"{day.year}"
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    return day.isoformat()


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart" '
        f'font-family="{_e(FONT)}" font-size="12">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _line_desc(
    points: Sequence[tuple[dt.date, float | None]],
    unit: str,
    target: tuple[int, float] | None,
    baseline: float | None,
    grain: DateGrain,
) -> str:
    shown = [(day, value) for day, value in points if value is not None]
    hidden = len(points) - len(shown)
    days = [day for day, _ in points]
    parts: list[str] = []
    if not shown:
        parts.append(gettext("Line chart with no published values."))
    else:
        first, last = min(days), max(days)
        parts.append(
            gettext("Line chart of %(count)s values from %(first)s to %(last)s, in %(unit)s.")
            % {
                "count": len(shown),
                "first": _date_label(first, grain),
                "last": _date_label(last, grain),
                "unit": unit,
            }
        )
        latest_day, latest_value = max(shown, key=lambda item: item[0])
        low_day, low_value = min(shown, key=lambda item: (item[1], item[0]))
        high_day, high_value = max(shown, key=lambda item: (item[1], item[0]))
        parts.append(
            gettext("Latest: %(value)s (%(date)s).")
            % {"value": _with_unit(latest_value, unit), "date": _date_label(latest_day, grain)}
        )
        if len(shown) > 1:
            parts.append(
                gettext("Lowest: %(low)s (%(low_date)s); highest: %(high)s (%(high_date)s).")
                % {
                    "low": _with_unit(low_value, unit),
                    "low_date": _date_label(low_day, grain),
                    "high": _with_unit(high_value, unit),
                    "high_date": _date_label(high_day, grain),
                }
            )
    if hidden:
        parts.append(
            gettext("%(count)s periods are suppressed (too few to publish) and left as gaps.")
            % {"count": hidden}
        )
    if target is not None:
        parts.append(
            gettext("Target: %(value)s by %(year)s (dashed line).")
            % {"value": _with_unit(target[1], unit), "year": target[0]}
        )
    if baseline is not None:
        parts.append(
            gettext("Baseline: %(value)s (dotted line).") % {"value": _with_unit(baseline, unit)}
        )
    parts.append(gettext("The same figures are in the table that goes with this chart."))
    return " ".join(parts)


def _line_legend(
    points: Sequence[tuple[dt.date, float | None]],
    unit: str,
    target: tuple[int, float] | None,
    baseline: float | None,
) -> list[tuple[str, str]]:
    """(stroke attributes of the key's line sample or "", label) for each legend entry."""
    legend: list[tuple[str, str]] = []
    if target is not None:
        legend.append(
            (
                f'stroke="{TARGET}" stroke-dasharray="8 5"',
                gettext("Target %(value)s by %(year)s")
                % {"value": _with_unit(target[1], unit), "year": target[0]},
            )
        )
    if baseline is not None:
        legend.append(
            (
                f'stroke="{MUTED}" stroke-dasharray="2 4"',
                gettext("Baseline %(value)s") % {"value": _with_unit(baseline, unit)},
            )
        )
    if any(value is None for _, value in points):
        legend.append(("", "\N{MULTIPLICATION SIGN} " + gettext("suppressed (too few to publish)")))
    return legend


def _legend_rows(
    legend: list[tuple[str, str]], *, start: float, width: float
) -> list[list[tuple[float, tuple[str, str]]]]:
    """Legend entries placed left to right, wrapping onto a new row where one would not fit."""
    rows: list[list[tuple[float, tuple[str, str]]]] = []
    x = start
    for entry in legend:
        size = (30 if entry[0] else 0) + len(entry[1]) * CHAR_WIDTH
        if not rows or (rows[-1] and x + size > width):
            rows.append([])
            x = start
        rows[-1].append((x, entry))
        x += size + 18
    return rows


def line_chart_svg(
    points: list[tuple[dt.date, float | None]],
    *,
    title: str,
    unit: str,
    target: tuple[int, float] | None = None,
    baseline: float | None = None,
    width: int = 640,
    height: int = 260,
) -> str:
    """A line chart of a series over time, as inline SVG.

    `points` are (date, value) pairs, value None for a suppressed period (drawn as a gap in
    the line and a small cross on the axis). `target` is (year, value), drawn as a dashed
    horizontal line; `baseline` a dotted one. The y axis starts at zero (or below, for
    negative values); for a percent unit it stops at a round value no higher than needed.

    >>> import xml.etree.ElementTree as ET
    >>> svg = line_chart_svg(
    ...     [(dt.date(2024, 1, 1), 40.0), (dt.date(2024, 2, 1), None), (dt.date(2024, 3, 1), 55.0)],
    ...     title="Feel safe", unit="percent", target=(2030, 75.0),
    ... )
    >>> root = ET.fromstring(svg)
    >>> root.get("role"), root.find("{http://www.w3.org/2000/svg}title").text
    ('img', 'Feel safe')
    """
    points = sorted(points, key=lambda item: item[0])
    chart_id = _chart_id("line", points, title, unit, target, baseline, width, height)
    values = [value for _, value in points if value is not None]
    references = [target[1]] if target is not None else []
    if baseline is not None:
        references.append(baseline)
    low, high, ticks = _scale(values + references, unit)
    tick_labels = [format_number(tick) for tick in ticks]
    left = max(44, int(max(len(label) for label in tick_labels) * CHAR_WIDTH) + 16)
    legend = _line_legend(points, unit, target, baseline)
    legend_rows = _legend_rows(legend, start=8, width=width - 8)
    right, top, bottom = 16, 30, 32 + 18 * len(legend_rows)
    plot_w, plot_h = max(10, width - left - right), max(10, height - top - bottom)

    days = [day for day, _ in points]
    grain = _date_grain(days)  # once per chart: checking the series per label is quadratic
    first = days[0].toordinal() if days else 0
    last = days[-1].toordinal() if days else 1

    def x_of(day: dt.date) -> float:
        if last == first:
            return left + plot_w / 2
        return left + (day.toordinal() - first) / (last - first) * plot_w

    def y_of(value: float) -> float:
        return top + plot_h - (value - low) / (high - low) * plot_h

    out = _open(chart_id, width, height, title, _line_desc(points, unit, target, baseline, grain))
    # Unit above the y axis (horizontal, easier to read than rotated text).
    out.append(f'<text x="8" y="{top - 14}" fill="{INK}" font-size="12">{_e(unit)}</text>')
    out.append('<g aria-hidden="true">')
    for tick, label in zip(ticks, tick_labels, strict=True):
        y = y_of(tick)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{_e(label)}</text>"
        )
    axis_y = y_of(max(low, 0.0)) if low < 0 else top + plot_h
    out.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{axis_y:.1f}" y2="{axis_y:.1f}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    )
    out.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    )
    # x labels: at most one per 80px, always the first and the last.
    if days:
        unique = sorted(set(days))
        room = max(2, plot_w // 80)
        every = max(1, math.ceil(len(unique) / room))
        chosen = unique[::every]
        if unique[-1] not in chosen:
            if len(chosen) > 1 and x_of(unique[-1]) - x_of(chosen[-1]) < 70:
                chosen[-1] = unique[-1]
            else:
                chosen.append(unique[-1])
        for day in chosen:
            x = x_of(day)
            anchor = "middle"
            if len(unique) > 1 and day == unique[0]:
                anchor = "start"
            elif len(unique) > 1 and day == unique[-1]:
                anchor = "end"
            out.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" '
                f'stroke="{MUTED}"/>'
            )
            out.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 17}" text-anchor="{anchor}" '
                f'fill="{MUTED}">{_e(_date_label(day, grain))}</text>'
            )
    if baseline is not None:
        y = y_of(baseline)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{MUTED}" stroke-width="2" stroke-dasharray="2 4" class="baseline"/>'
        )
    if target is not None:
        y = y_of(target[1])
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{TARGET}" stroke-width="2" stroke-dasharray="8 5" class="target"/>'
        )
    # The series: one path per run of published values, so suppressed periods leave gaps.
    runs: list[list[tuple[float, float]]] = [[]]
    for day, value in points:
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((x_of(day), y_of(value)))
    for run in runs:
        if len(run) > 1:
            path = " ".join(
                f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(run)
            )
            out.append(
                f'<path d="{path}" fill="none" stroke="{SERIES}" stroke-width="2.5" '
                'stroke-linejoin="round" class="series"/>'
            )
    for day, value in points:
        x = x_of(day)
        if value is None:
            y = top + plot_h - 8
            out.append(
                f'<path d="M{x - 4:.1f},{y - 4:.1f} L{x + 4:.1f},{y + 4:.1f} '
                f'M{x - 4:.1f},{y + 4:.1f} L{x + 4:.1f},{y - 4:.1f}" '
                f'stroke="{MUTED}" stroke-width="1.5" class="suppressed"/>'
            )
            continue
        out.append(
            f'<circle cx="{x:.1f}" cy="{y_of(value):.1f}" r="3.5" fill="{SERIES}" '
            f'class="point"><title>{_e(_date_label(day, grain))}: '
            f"{_e(_with_unit(value, unit))}</title></circle>"
        )
    if not values:
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
            f'fill="{INK}" font-size="13">{_e(gettext("No published values yet"))}</text>'
        )
    legend_y = top + plot_h + 40
    for row in legend_rows:
        for x, (stroke, label) in row:
            if stroke:
                out.append(
                    f'<line x1="{x:.1f}" x2="{x + 24:.1f}" y1="{legend_y - 4}" '
                    f'y2="{legend_y - 4}" {stroke} stroke-width="2"/>'
                )
                x += 30
            out.append(f'<text x="{x:.1f}" y="{legend_y}" fill="{INK}">{_e(label)}</text>')
        legend_y += 18
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


def _fit(text: str, room_px: float) -> str:
    room = max(4, int(room_px / CHAR_WIDTH))
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def bar_chart_svg(
    bars: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str,
    width: int = 640,
) -> str:
    """Horizontal bars, one per (label, value), in the order given, as inline SVG.

    For breakdowns of an indicator and counts of actions by status. A value of None (a
    suppressed group) gets no bar and the words "suppressed (too few)". Long labels are
    shortened on screen; the full label is in the bar's tooltip, the description and the
    table that goes with the chart.

    >>> import xml.etree.ElementTree as ET
    >>> svg = bar_chart_svg([("On track", 12), ("At risk", 3)], title="Actions", unit="actions")
    >>> len(ET.fromstring(svg).findall(".//{http://www.w3.org/2000/svg}rect[@class='bar']"))
    2
    """
    bars = list(bars)
    row_h, top, bottom = 30, 12, 40
    height = top + max(1, len(bars)) * row_h + bottom
    chart_id = _chart_id("bar", bars, title, unit, width)
    values = [value for _, value in bars if value is not None]
    low, high, ticks = _scale(values, unit, ticks=4)
    label_w = min(int(width * 0.4), max(60, int(max([len(lb) for lb, _ in bars] + [4]) * 7) + 12))
    value_w = 92
    plot_left = label_w + 8
    plot_w = max(10, width - plot_left - value_w)

    def x_of(value: float) -> float:
        return plot_left + (value - low) / (high - low) * plot_w

    described = "; ".join(
        f"{label}: "
        + (_with_unit(value, unit) if value is not None else gettext("suppressed (too few)"))
        for label, value in bars
    )
    desc = (
        gettext("Bar chart, %(count)s bars, in %(unit)s.") % {"count": len(bars), "unit": unit}
        + " "
        + (described + "." if bars else gettext("No published values yet."))
        + " "
        + gettext("The same figures are in the table that goes with this chart.")
    )
    out = _open(chart_id, width, height, title, desc)
    out.append('<g aria-hidden="true">')
    axis_bottom = top + len(bars) * row_h
    zero = x_of(0.0)
    for tick in ticks:
        x = x_of(tick)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{axis_bottom}" stroke="{GRID}"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{axis_bottom + 16}" text-anchor="middle" fill="{MUTED}">'
            f"{_e(format_number(tick))}</text>"
        )
    out.append(
        f'<text x="{plot_left + plot_w / 2:.1f}" y="{axis_bottom + 32}" text-anchor="middle" '
        f'fill="{INK}">{_e(unit)}</text>'
    )
    for index, (label, value) in enumerate(bars):
        y = top + index * row_h
        middle = y + row_h / 2 + 4
        out.append(
            f'<text x="{label_w}" y="{middle:.1f}" text-anchor="end" fill="{INK}">'
            f"{_e(_fit(label, label_w - 4))}</text>"
        )
        if value is None:
            out.append(
                f'<text x="{zero + 4:.1f}" y="{middle:.1f}" fill="{MUTED}" font-style="italic">'
                f"{_e(gettext('suppressed (too few)'))}</text>"
            )
            continue
        start, end = sorted((zero, x_of(value)))
        out.append(
            f'<rect x="{start:.1f}" y="{y + 5}" width="{max(1.0, end - start):.1f}" '
            f'height="{row_h - 10}" fill="{SERIES}" class="bar">'
            f"<title>{_e(label)}: {_e(_with_unit(value, unit))}</title></rect>"
        )
        out.append(
            f'<text x="{end + 6:.1f}" y="{middle:.1f}" fill="{INK}">'
            f"{_e(_with_unit(value, unit))}</text>"
        )
    out.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{axis_bottom}" stroke="{MUTED}"/>'
    )
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped
