"""Inline SVG for the safety pages: a choropleth map and a ratio (dot and interval) chart.

Same rules as `csas.progress.charts` (whose line and bar charts the pages also use): plain
data in, escaped SVG out, ``role="img"`` with a title and a description in words, colours as
presentation attributes (no inline style, for the Content Security Policy), and a table with
the same figures beside every chart on the page.

Colours: the map's five classes run from light to dark blue; every district has a dark
outline (#1b1f24, 16:1 on white) so shapes stay distinct whatever their fill; a district
whose figure is withheld is white with grey hatching.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from csas.progress.charts import (
    FONT,
    GRID,
    INK,
    MUTED,
    SERIES,
    TARGET,
    decimal_sign,
    format_number,
)

PALETTE = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
WITHHELD_FILL = "#ffffff"


def _e(text: object) -> str:
    return html.escape(str(text))


def _chart_id(*parts: object) -> str:
    return "chart-" + hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:12]


def _open(chart_id: str, width: int, height: float, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart" '
        f'font-family="{_e(FONT)}" font-size="12">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height:.0f}" fill="#ffffff"/>',
    ]


@dataclass(frozen=True)
class MapArea:
    """One area of a choropleth: its name, GeoJSON geometry (WGS84) and value (None: withheld)."""

    name: str
    geometry: dict[str, Any] | None
    value: float | None


def _polygons(geometry: dict[str, Any] | None) -> Iterator[list[list[list[float]]]]:
    if not geometry:
        return
    if geometry.get("type") == "Polygon":
        yield geometry["coordinates"]
    elif geometry.get("type") == "MultiPolygon":
        yield from geometry["coordinates"]


def class_breaks(values: Sequence[float], classes: int = len(PALETTE)) -> list[float]:
    """Upper bounds of equal-width classes from the lowest to the highest value.

    >>> class_breaks([10.0, 20.0, 60.0], classes=5)
    [20.0, 30.0, 40.0, 50.0, 60.0]
    >>> class_breaks([7.0, 7.0])
    [7.0]
    """
    low, high = min(values), max(values)
    if high == low:
        return [high]
    step = (high - low) / classes
    return [low + step * (i + 1) for i in range(classes - 1)] + [high]


def _class_of(value: float, breaks: Sequence[float]) -> int:
    for index, upper in enumerate(breaks):
        if value <= upper + 1e-9:
            return index
    return len(breaks) - 1


def choropleth_svg(areas: Sequence[MapArea], *, title: str, unit: str, width: int = 640) -> str:
    """A map of `areas` coloured by value in equal-width classes, with a legend.

    >>> import xml.etree.ElementTree as ET
    >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    >>> svg = choropleth_svg([MapArea("A", square, 5.0), MapArea("B", square, None)],
    ...                      title="Calls", unit="per 1,000")
    >>> len(ET.fromstring(svg).findall(".//{http://www.w3.org/2000/svg}path[@class='area']"))
    2
    """
    points = [
        (lon, lat)
        for area in areas
        for polygon in _polygons(area.geometry)
        for ring in polygon
        for lon, lat, *_ in ring
    ]
    values = [a.value for a in areas if a.value is not None]
    breaks = class_breaks(values) if values else []
    palette = PALETTE if len(breaks) == len(PALETTE) else PALETTE[-len(breaks) :]
    chart_id = _chart_id("map", [(a.name, a.value) for a in areas], title, unit, width)
    legend_rows = len(breaks) + (1 if any(a.value is None for a in areas) else 0)
    pad, legend_h = 8, 22 + 20 * legend_rows
    if points:
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        west, east, south, north = min(lons), max(lons), min(lats), max(lats)
        squeeze = math.cos(math.radians((south + north) / 2))
        span_x = max((east - west) * squeeze, 1e-9)
        span_y = max(north - south, 1e-9)
        scale = (width - 2 * pad) / span_x
        map_h = min(span_y * scale, 520.0)
        scale = min(scale, map_h / span_y)
    else:
        west = north = squeeze = scale = 0.0
        map_h = 40.0
    height = pad + map_h + pad + legend_h

    def xy(lon: float, lat: float) -> str:
        return f"{pad + (lon - west) * squeeze * scale:.1f},{pad + (north - lat) * scale:.1f}"

    described = "; ".join(
        f"{a.name}: "
        + (f"{format_number(a.value)} {unit}" if a.value is not None else gettext("withheld"))
        for a in areas
    )
    desc = " ".join(
        [
            gettext("Map of %(count)s areas shaded by %(unit)s; darker is higher.")
            % {"count": len(areas), "unit": unit},
            described + ".",
            gettext("The same figures are in the table that goes with this map."),
        ]
    )
    out = _open(chart_id, width, height, title, desc)
    out.append(
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{MUTED}" stroke-width="1.5"/>'
        "</pattern></defs>"
    )
    out.append('<g aria-hidden="true">')
    for area in areas:
        rings = [
            "M" + " L".join(xy(lon, lat) for lon, lat, *_ in ring) + " Z"
            for polygon in _polygons(area.geometry)
            for ring in polygon
        ]
        if not rings:
            continue
        if area.value is None:
            fill = f"url(#{chart_id}-hatch)"
            label = gettext("withheld")
        else:
            fill = palette[_class_of(area.value, breaks)]
            label = f"{format_number(area.value)} {unit}"
        out.append(
            f'<path class="area" d="{" ".join(rings)}" fill="{fill}" fill-rule="evenodd" '
            f'stroke="{INK}" stroke-width="1"><title>{_e(area.name)}: {_e(label)}</title></path>'
        )
    y = pad + map_h + pad + 14
    out.append(f'<text x="{pad}" y="{y:.0f}" fill="{INK}">{_e(unit)}</text>')
    lower = min(values) if values else 0.0
    for index, upper in enumerate(breaks):
        y += 20
        out.append(
            f'<rect x="{pad}" y="{y - 12:.0f}" width="24" height="14" fill="{palette[index]}" '
            f'stroke="{INK}" stroke-width="1"/>'
        )
        text = (
            format_number(upper)
            if len(breaks) == 1
            else f"{format_number(lower)}\N{EN DASH}{format_number(upper)}"
        )
        out.append(f'<text x="{pad + 32}" y="{y:.0f}" fill="{INK}">{_e(text)}</text>')
        lower = upper
    if any(a.value is None for a in areas):
        y += 20
        out.append(
            f'<rect x="{pad}" y="{y - 12:.0f}" width="24" height="14" '
            f'fill="url(#{chart_id}-hatch)" stroke="{INK}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{pad + 32}" y="{y:.0f}" fill="{INK}">'
            f"{_e(gettext('withheld (too few calls to publish)'))}</text>"
        )
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


@dataclass(frozen=True)
class RatioRow:
    """One row of a ratio chart: a label, the ratio and its interval (None: withheld)."""

    label: str
    ratio: float | None
    low: float | None
    high: float | None


def _ratio(value: float) -> str:
    return decimal_sign(f"{value:.2f}")


def ratio_chart_svg(
    rows: Sequence[RatioRow], *, title: str, reference_label: str, width: int = 640
) -> str:
    """Dots with interval whiskers on a ratio scale, a dashed line at 1 (the city).

    >>> import xml.etree.ElementTree as ET
    >>> svg = ratio_chart_svg([RatioRow("D1", 1.2, 1.1, 1.3), RatioRow("D2", None, None, None)],
    ...                       title="Ratio", reference_label="City = 1")
    >>> len(ET.fromstring(svg).findall(".//{http://www.w3.org/2000/svg}circle"))
    1
    """
    row_h, top, bottom = 26, 12, 48
    height = top + max(1, len(rows)) * row_h + bottom
    shown = [r for r in rows if r.ratio is not None]
    ends = [1.0] + [v for r in shown for v in (r.ratio, r.low, r.high) if v is not None]
    low = math.floor(min(ends) * 10) / 10
    high = math.ceil(max(ends) * 10) / 10
    if high - low < 0.2:
        low, high = low - 0.1, high + 0.1
    low = max(0.0, low)
    step = 0.1 if high - low <= 1 else 0.25 if high - low <= 2.5 else 0.5
    ticks = [low + step * i for i in range(round((high - low) / step) + 1)]
    label_w = min(int(width * 0.4), max(60, max([len(r.label) for r in rows] + [4]) * 7 + 12))
    value_w = 120
    left = label_w + 8
    plot_w = max(10, width - left - value_w)

    def x_of(value: float) -> float:
        return left + (value - low) / (high - low) * plot_w

    described = "; ".join(
        f"{r.label}: "
        + (
            f"{_ratio(r.ratio)}"
            + (f" ({_ratio(r.low)}\N{EN DASH}{_ratio(r.high)})" if r.low and r.high else "")
            if r.ratio is not None
            else gettext("withheld")
        )
        for r in rows
    )
    desc = " ".join(
        [
            gettext(
                "Dot chart of %(count)s ratios to the citywide figure, with 95%% intervals; "
                "1 means the same as the city, above 1 slower."
            )
            % {"count": len(rows)},
            described + ".",
            gettext("The same figures are in the table that goes with this chart."),
        ]
    )
    chart_id = _chart_id("ratio", rows, title, width)
    out = _open(chart_id, width, height, title, desc)
    out.append('<g aria-hidden="true">')
    axis_bottom = top + len(rows) * row_h
    for tick in ticks:
        x = x_of(tick)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{axis_bottom}" stroke="{GRID}"/>'
        )
        label = decimal_sign(f"{tick:.2f}" if step == 0.25 else f"{tick:.1f}")
        out.append(
            f'<text x="{x:.1f}" y="{axis_bottom + 16}" text-anchor="middle" fill="{MUTED}">'
            f"{label}</text>"
        )
    one = x_of(1.0)
    out.append(
        f'<line x1="{one:.1f}" x2="{one:.1f}" y1="{top}" y2="{axis_bottom}" stroke="{TARGET}" '
        'stroke-width="2" stroke-dasharray="6 4"/>'
    )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{axis_bottom + 34}" text-anchor="middle" '
        f'fill="{INK}">{_e(reference_label)}</text>'
    )
    for index, row in enumerate(rows):
        y = top + index * row_h + row_h / 2
        out.append(
            f'<text x="{label_w}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">'
            f"{_e(row.label)}</text>"
        )
        if row.ratio is None:
            out.append(
                f'<text x="{left + 4}" y="{y + 4:.1f}" fill="{MUTED}" font-style="italic">'
                f"{_e(gettext('withheld'))}</text>"
            )
            continue
        if row.low is not None and row.high is not None:
            out.append(
                f'<line x1="{x_of(row.low):.1f}" x2="{x_of(row.high):.1f}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="{SERIES}" stroke-width="2"/>'
            )
        out.append(
            f'<circle cx="{x_of(row.ratio):.1f}" cy="{y:.1f}" r="4.5" fill="{SERIES}">'
            f"<title>{_e(row.label)}: {_ratio(row.ratio)}</title></circle>"
        )
        out.append(
            f'<text x="{left + plot_w + 8}" y="{y + 4:.1f}" fill="{INK}">'
            f"{_e(_ratio(row.ratio))}</text>"
        )
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped
