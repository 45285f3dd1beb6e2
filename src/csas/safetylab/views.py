"""Public pages of the safety data lab: the newest published analysis, nothing else.

With no published analysis (only drafts, or none at all) every page answers 404. All the
figures come from the stored aggregates; charts and maps sit beside tables of the same
figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from csas.progress.charts import bar_chart_svg, line_chart_svg
from csas.safetylab import selectors
from csas.safetylab.charts import MapArea, RatioRow, choropleth_svg, ratio_chart_svg
from csas.safetylab.models import SafetyAnalysis, SafetyResponseTime
from csas.strategy import selectors as strategy_selectors
from csas.strategy.models import GeographyKind, StrategyVersion

MAP_KINDS = (GeographyKind.COUNCIL_DISTRICT, GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT)
ALL_KINDS = (*MAP_KINDS, GeographyKind.POLICE_DISTRICT)
RATE_UNIT = "calls per 1,000 residents"


def _published() -> tuple[StrategyVersion, SafetyAnalysis]:
    version = strategy_selectors.version_get_published()
    analysis = selectors.analysis_get_published(version.strategy)
    if analysis is None:
        raise Http404("No safety analysis is published.")
    return version, analysis


def _kind_label(kind: str) -> str:
    return str(GeographyKind(kind).label)


def _interval_label(interval: str) -> str:
    return _("Minutes to dispatch") if interval == "dispatch" else _("Minutes to arrival")


def _eligibility(analysis: SafetyAnalysis) -> list[dict[str, Any]]:
    labels = {
        "public": _("Calls started by the public"),
        "all": _("All calls, whoever started them"),
    }
    return [
        {"label": labels[key], **found}
        for key, found in analysis.eligibility.items()
        if key in labels
    ]


@dataclass(frozen=True)
class EquityRow:
    """A council district's response-time row with the district's name."""

    row: SafetyResponseTime
    name: str


def _equity(rows: Sequence[SafetyResponseTime], names: dict[tuple[str, str], str]) -> list[Any]:
    """Per interval: the districts' rows and a ratio chart of them."""
    sections = []
    for interval in ("dispatch", "arrival"):
        district_rows = [
            EquityRow(
                r,
                names.get((GeographyKind.COUNCIL_DISTRICT, r.council_district), r.council_district),
            )
            for r in rows
            if r.interval == interval and r.council_district
        ]
        if not district_rows:
            continue
        chart = ratio_chart_svg(
            [
                RatioRow(
                    _("%(district)s, priority %(priority)s")
                    % {"district": d.name, "priority": d.row.priority},
                    d.row.ratio_to_city,
                    d.row.ratio_low,
                    d.row.ratio_high,
                )
                for d in district_rows
            ],
            title=_("%(interval)s: each council district's median against the city's")
            % {"interval": _interval_label(interval)},
            reference_label=_("Ratio to the citywide median (dashed line: the city, 1)"),
        )
        sections.append(
            {
                "interval": interval,
                "label": _interval_label(interval),
                "rows": district_rows,
                "chart": chart,
            }
        )
    return sections


@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    version, analysis = _published()
    strategy = version.strategy
    found = selectors.districts(strategy, ALL_KINDS)
    names = {(d.kind, d.code): d.name for kind in found.values() for d in kind}
    periods = selectors.area_periods(analysis, names, ALL_KINDS)
    shares = selectors.area_eligibility(analysis, ALL_KINDS)
    layers = []
    for kind in ALL_KINDS:
        rates = {p.code: p.rate for p in periods[kind]}
        layer: dict[str, Any] = {
            "kind": kind,
            "label": _kind_label(kind),
            "rows": periods[kind],
            "pairs": [(p, shares.get((kind, p.code))) for p in periods[kind]],
            "map": None,
        }
        if kind in MAP_KINDS and found[kind]:
            layer["map"] = choropleth_svg(
                [MapArea(d.name, d.geometry, rates.get(d.code)) for d in found[kind]],
                title=_("%(kind)s: calls per 1,000 residents") % {"kind": _kind_label(kind)},
                unit=_("calls per 1,000 residents"),
            )
        layers.append(layer)
    times = selectors.response_times(analysis)
    by_hour, by_weekday = selectors.time_profile_totals(analysis)
    hour_chart = bar_chart_svg(
        [
            (row.label, row.after_screening.calls if row.after_screening else None)
            for row in by_hour
        ],
        title=_("Eligible calls (after screening) by hour of the day, all days"),
        unit=_("calls"),
    )
    return render(
        request,
        "safetylab/overview.html",
        {
            "version": version,
            "strategy": strategy,
            "analysis": analysis,
            "summary": analysis.summary,
            "threshold": analysis.threshold,
            "layers": layers,
            "citywide": [r for r in times if not r.council_district],
            "equity": _equity(times, names),
            "eligibility": _eligibility(analysis),
            "by_hour": by_hour,
            "by_weekday": by_weekday,
            "hour_chart": hour_chart,
            "hotspots": selectors.hotspot_summaries(analysis),
            "hotspot_methods": list(
                dict.fromkeys(
                    str(found.get("method", ""))
                    for found in analysis.summary.get("hotspots", {}).values()
                )
            ),
            "council": analysis.summary.get("geography", {}).get("council_district", {}),
            "trends": _trends(analysis, names),
        },
    )


def _trends(analysis: SafetyAnalysis, names: dict[tuple[str, str], str]) -> dict[str, Any] | None:
    """The summary's period-over-period change, citywide then by council district, named;
    None for an analysis without one (fewer than six complete months, or an older one)."""
    found = analysis.summary.get("trends") or {}
    if not (found.get("current") and found.get("previous") and found.get("city")):
        return None
    council = GeographyKind.COUNCIL_DISTRICT
    rows = [(_("Citywide"), found["city"])] + [
        (names.get((council, row["area"]), row["area"]), row)
        for row in found.get("areas", {}).get("council_district", [])
    ]
    return {"current": found["current"], "previous": found["previous"], "rows": rows}


@require_safe
def area(request: HttpRequest, kind: str, code: str) -> HttpResponse:
    geography_kind = selectors.KIND_SLUGS.get(kind)
    if geography_kind is None:
        raise Http404("No such kind of district.")
    version, analysis = _published()
    months = selectors.area_months(analysis, geography_kind, code)
    if not months:
        raise Http404("No such district in the analysis.")
    strategy = version.strategy
    name = selectors.district_names(strategy, [geography_kind]).get((geography_kind, code), code)
    period = selectors.area_period(geography_kind, code, name, months)
    chart = line_chart_svg(
        [(dt.date(int(m.month[:4]), int(m.month[5:7]), 1), m.rate_per_1000) for m in months],
        title=_("%(name)s: calls per 1,000 residents by month") % {"name": name},
        unit=_("calls per 1,000 residents"),
    )
    comparisons = []
    if geography_kind == GeographyKind.COUNCIL_DISTRICT:
        rows = selectors.response_times(analysis, council_district=code)
        city = {(r.interval, r.priority): r for r in rows if not r.council_district}
        comparisons = [
            {
                "district": r,
                "city": city.get((r.interval, r.priority)),
                "label": _interval_label(r.interval),
            }
            for r in rows
            if r.council_district
        ]
    return render(
        request,
        "safetylab/area.html",
        {
            "version": version,
            "strategy": strategy,
            "analysis": analysis,
            "threshold": analysis.threshold,
            "kind_label": _kind_label(geography_kind),
            "is_council": geography_kind == GeographyKind.COUNCIL_DISTRICT,
            "name": name,
            "code": code,
            "months": months,
            "period": period,
            "chart": chart,
            "comparisons": comparisons,
            "eligibility": _eligibility(analysis),
            "area_eligibility": selectors.area_eligibility(analysis, [geography_kind]).get(
                (geography_kind, code)
            ),
        },
    )
