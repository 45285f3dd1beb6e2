"""Reads for the safety data lab. Every figure comes from the stored aggregates.

Only `analysis_get_published` answers public pages; staff pages read any analysis of the
strategy through `analysis_get_for_staff`. Figures over the whole period (a district's calls
per 1,000 residents for the year) are sums of the stored monthly figures: the sum of the
monthly rates is the period's rate, since every month has the same residents; its interval
is the same exact (Garwood) Poisson interval the library puts on each month, on the total.
A district with a withheld month has no period figure.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q
from scipy import stats

from csas.progress.models import Observation, publishable
from csas.safetylab.models import (
    DISTRICT_KINDS,
    SafetyAnalysis,
    SafetyAreaEligibility,
    SafetyAreaRate,
    SafetyBlockGroupHotspot,
    SafetyDistrictHourCell,
    SafetyResponseTime,
    SafetyTimeProfileCell,
)
from csas.strategy.models import Geography, GeographyKind, Strategy

#: URL slugs of the district kinds, in the order pages list them.
KIND_SLUGS: dict[str, str] = {
    "council-district": GeographyKind.COUNCIL_DISTRICT,
    "neighborhood-council-district": GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT,
    "police-district": GeographyKind.POLICE_DISTRICT,
}
SLUG_OF_KIND: dict[str, str] = {kind: slug for slug, kind in KIND_SLUGS.items()}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def analysis_get_published(strategy: Strategy | None) -> SafetyAnalysis | None:
    """The newest published analysis of the strategy; None when none is published."""
    if strategy is None:
        return None
    return (
        SafetyAnalysis.objects.filter(SafetyAnalysis.public(), strategy=strategy)
        .order_by("-created_at", "-pk")
        .first()
    )


def analysis_published_exists(strategy: Strategy) -> bool:
    """Whether the public safety pages have an analysis to show."""
    return SafetyAnalysis.objects.filter(SafetyAnalysis.public(), strategy=strategy).exists()


def analysis_list(strategy: Strategy) -> list[SafetyAnalysis]:
    """Every analysis of the strategy, newest first (for the strategy office)."""
    return list(
        SafetyAnalysis.objects.filter(strategy=strategy)
        .defer("summary", "eligibility")
        .order_by("-created_at", "-pk")
    )


def analysis_get_for_staff(strategy: Strategy, pk: int | None) -> SafetyAnalysis | None:
    """An analysis of the strategy, published or not, or the newest when `pk` is None."""
    queryset = SafetyAnalysis.objects.filter(strategy=strategy).order_by("-created_at", "-pk")
    if pk is not None:
        queryset = queryset.filter(pk=pk)
    return queryset.first()


@dataclass(frozen=True)
class District:
    """A district's outline and name (geometry only where a map needs it)."""

    kind: str
    code: str
    name: str
    geometry: dict[str, Any] | None


def districts(strategy: Strategy, kinds: Sequence[str]) -> dict[str, list[District]]:
    """The districts of each kind, with their outlines, in one query."""
    found: dict[str, list[District]] = {kind: [] for kind in kinds}
    rows = Geography.objects.filter(city_id=strategy.city_id, kind__in=list(kinds)).only(
        "kind", "code", "name", "geometry"
    )
    for geography in rows.order_by("kind", "code"):
        found[geography.kind].append(
            District(geography.kind, geography.code, geography.name, geography.geometry)
        )
    return found


@dataclass(frozen=True)
class AreaPeriod:
    """A district's calls over the whole period of the analysis.

    Fields:
        kind, code, name: the district.
        calls: calls over the period; None when a month is withheld.
        rate, rate_low, rate_high: calls per 1,000 residents over the period with its exact
            95% Poisson interval; None when a month is withheld.
        months: months in the period.
        months_withheld: months with fewer calls than the threshold.
    """

    kind: str
    code: str
    name: str
    calls: int | None
    rate: float | None
    rate_low: float | None
    rate_high: float | None
    months: int
    months_withheld: int

    @property
    def slug(self) -> str:
        return SLUG_OF_KIND[self.kind]


def poisson_interval(count: int, scale: float) -> tuple[float, float]:
    """Exact (Garwood) 95% interval on a Poisson count, times `scale` (the rate per call).

    >>> [round(v, 3) for v in poisson_interval(10, 1.0)]
    [4.795, 18.39]
    """
    low = float(stats.chi2.ppf(0.025, 2 * count) / 2) if count > 0 else 0.0
    high = float(stats.chi2.ppf(0.975, 2 * count + 2) / 2)
    return low * scale, high * scale


def area_period(kind: str, code: str, name: str, cells: Sequence[SafetyAreaRate]) -> AreaPeriod:
    """A district's figures over the period from its monthly rows (no query)."""
    withheld = sum(1 for c in cells if c.suppressed)
    calls = rate = low = high = None
    if cells and not withheld:
        calls = sum(c.calls or 0 for c in cells)
        rate = sum(c.rate_per_1000 or 0.0 for c in cells)
        if calls > 0 and math.isfinite(rate):
            low, high = poisson_interval(calls, rate / calls)
    return AreaPeriod(kind, code, name, calls, rate, low, high, len(cells), withheld)


def area_periods(
    analysis: SafetyAnalysis, names: dict[tuple[str, str], str], kinds: Iterable[str]
) -> dict[str, list[AreaPeriod]]:
    """Each district's calls and rate over the period, by kind, in code order (one query)."""
    by_area: dict[tuple[str, str], list[SafetyAreaRate]] = defaultdict(list)
    kinds = list(kinds)
    for cell in SafetyAreaRate.objects.filter(analysis=analysis, kind__in=kinds).order_by(
        "kind", "area_code", "month"
    ):
        by_area[(cell.kind, cell.area_code)].append(cell)
    result: dict[str, list[AreaPeriod]] = {kind: [] for kind in kinds}
    for (kind, code), cells in sorted(by_area.items(), key=lambda item: _code_key(*item[0])):
        result[kind].append(area_period(kind, code, names.get((kind, code), code), cells))
    return result


def _code_key(kind: str, code: str) -> tuple[str, int, str]:
    # Council districts are numbered: 2 before 10.
    return (kind, int(code) if code.isdigit() else 0, code)


def area_months(analysis: SafetyAnalysis, kind: str, code: str) -> list[SafetyAreaRate]:
    """One district's months, in order; empty when the analysis has no such district."""
    return list(
        SafetyAreaRate.objects.filter(analysis=analysis, kind=kind, area_code=code).order_by(
            "month"
        )
    )


def response_times(
    analysis: SafetyAnalysis, council_district: str | None = None
) -> list[SafetyResponseTime]:
    """Response-time rows, citywide and (all or one) council district, in one query.

    Rows come in interval (dispatch, then arrival), priority, district order; citywide
    rows have an empty district.
    """
    queryset = SafetyResponseTime.objects.filter(analysis=analysis)
    if council_district is not None:
        queryset = queryset.filter(council_district__in=["", council_district])
    rows = list(queryset)
    order = {"dispatch": 0, "arrival": 1}
    rows.sort(
        key=lambda r: (order.get(r.interval, 2), r.priority, *_code_key("", r.council_district))
    )
    return rows


@dataclass(frozen=True)
class HourRow:
    """Eligible calls in one hour of the day (or one weekday), both definitions."""

    label: str
    by_type: SafetyTimeProfileCell | None
    after_screening: SafetyTimeProfileCell | None


def time_profile_totals(analysis: SafetyAnalysis) -> tuple[list[HourRow], list[HourRow]]:
    """Eligible calls by hour of day (all days) and by weekday (all hours), one query."""
    hours: dict[int, dict[str, SafetyTimeProfileCell]] = defaultdict(dict)
    days: dict[str, dict[str, SafetyTimeProfileCell]] = defaultdict(dict)
    cells = SafetyTimeProfileCell.objects.filter(
        Q(weekday="all") | Q(hour__isnull=True), analysis=analysis
    )
    for cell in cells:
        if cell.weekday == "all" and cell.hour is not None:
            hours[cell.hour][cell.definition] = cell
        elif cell.hour is None and cell.weekday != "all":
            days[cell.weekday][cell.definition] = cell
    by_hour = [
        HourRow(
            f"{hour:02d}:00-{hour:02d}:59",
            hours[hour].get("by_type"),
            hours[hour].get("after_screening"),
        )
        for hour in sorted(hours)
    ]
    by_weekday = [
        HourRow(day, days[day].get("by_type"), days[day].get("after_screening"))
        for day in WEEKDAYS
        if day in days
    ]
    return by_hour, by_weekday


def time_profile_week(analysis: SafetyAnalysis, definition: str) -> tuple[list[float], int]:
    """Eligible calls in each of the 168 hours of the week (Monday 00:00 first), with
    withheld cells counted as 0, and how many cells were withheld."""
    counts = [0.0] * 168
    withheld = 0
    for cell in SafetyTimeProfileCell.objects.filter(
        analysis=analysis, definition=definition, weekday__in=WEEKDAYS, hour__isnull=False
    ):
        assert cell.hour is not None  # noqa: S101 (filtered above)
        index = WEEKDAYS.index(cell.weekday) * 24 + cell.hour
        if cell.suppressed or cell.calls is None:
            withheld += 1
        else:
            counts[index] = float(cell.calls)
    return counts, withheld


@dataclass(frozen=True)
class HotspotSummary:
    """Hot and cold block groups of one measure."""

    measure: str
    hot: tuple[str, ...]
    cold: tuple[str, ...]
    block_groups: int
    withheld: int


def hotspot_summaries(analysis: SafetyAnalysis) -> list[HotspotSummary]:
    """Counts of hot and cold block groups per measure (block groups are the finest level)."""
    rows: dict[str, list[tuple[str, str, bool, float | None]]] = defaultdict(list)
    for measure, geoid, classification, suppressed, z in SafetyBlockGroupHotspot.objects.filter(
        analysis=analysis
    ).values_list("measure", "geoid", "classification", "suppressed", "z"):
        rows[measure].append((geoid, classification, suppressed, z))
    result = []
    for measure in sorted(rows, key=lambda m: (m != "all_calls", m)):
        found = rows[measure]
        hot = sorted((r for r in found if r[1] == "hot"), key=lambda r: -(r[3] or 0.0))
        cold = sorted((r for r in found if r[1] == "cold"), key=lambda r: r[3] or 0.0)
        result.append(
            HotspotSummary(
                measure=measure,
                hot=tuple(r[0] for r in hot),
                cold=tuple(r[0] for r in cold),
                block_groups=len(found),
                withheld=sum(1 for r in found if r[2]),
            )
        )
    return result


def district_names(strategy: Strategy, kinds: Sequence[str]) -> dict[tuple[str, str], str]:
    """(kind, code) -> the district's name, in one query."""
    return {
        (kind, code): name
        for kind, code, name in Geography.objects.filter(
            city_id=strategy.city_id, kind__in=list(kinds)
        ).values_list("kind", "code", "name")
    }


@dataclass(frozen=True)
class TrendRow:
    """One row of an analysis's period-over-period change (``summary.trends``), flat."""

    geography: str  # "city", or a district kind (GeographyKind)
    area_code: str
    current_from: str
    current_to: str
    previous_from: str
    previous_to: str
    calls_current: int | None
    calls_previous: int | None
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    suppressed: bool


def trend_rows(analysis: SafetyAnalysis | None) -> list[TrendRow]:
    """The analysis's trend rows, citywide first, then each district kind's in its order;
    empty for no analysis or one without a trend (fewer than six complete months)."""
    found = (analysis.summary.get("trends") or {}) if analysis is not None else {}
    now, before = found.get("current"), found.get("previous")
    if not (now and before and found.get("city")):
        return []
    pieces = [("city", found["city"])] + [
        (DISTRICT_KINDS[key], row)
        for key, rows in found.get("areas", {}).items()
        if key in DISTRICT_KINDS
        for row in rows
    ]
    return [
        TrendRow(
            geography=str(geography),
            area_code="" if geography == "city" else str(row["area"]),
            current_from=now["from"],
            current_to=now["to"],
            previous_from=before["from"],
            previous_to=before["to"],
            calls_current=row["current"],
            calls_previous=row["previous"],
            ratio=row["ratio"],
            ratio_low=row["ratio_low"],
            ratio_high=row["ratio_high"],
            suppressed=row["current"] is None,
        )
        for geography, row in pieces
    ]


@dataclass(frozen=True)
class DistrictIndicator:
    """One indicator of the strategy (the progress pages') broken down by council district:
    its figures for the latest period that has any, by district code."""

    pk: int
    name: str
    kind: str  # IndicatorKind: population (a survey) or performance
    direction: str  # Direction: increase (higher is better) or decrease
    period_start: dt.date
    period_end: dt.date
    wave: str
    values: dict[str, float]  # district code -> value; withheld and missing ones left out


def district_indicators(strategy: Strategy, names: dict[str, str]) -> list[DistrictIndicator]:
    """The strategy's indicators with figures by council district (``dimension`` is
    ``council_district``), each at its latest such period, in name order; in one query.

    `names` maps council district codes to names: a group is matched by the district's name
    (as the survey feed writes it) or its code (as staff may type it). A figure too small to
    publish (`csas.progress.models.publishable`) counts as withheld.
    """
    codes = {name: code for code, name in names.items()}
    codes.update({code: code for code in names})
    rows = (
        Observation.objects.filter(
            indicator__strategy=strategy, dimension=GeographyKind.COUNCIL_DISTRICT
        )
        .annotate(shown=ExpressionWrapper(publishable(), output_field=BooleanField()))
        .select_related("indicator")
        .order_by("indicator__name", "indicator_id", "-period_end", "-period_start", "group")
    )
    found: dict[int, DistrictIndicator] = {}
    for row in rows:
        latest = found.get(row.indicator_id)
        if latest is None:
            indicator = row.indicator
            latest = found[row.indicator_id] = DistrictIndicator(
                pk=indicator.pk,
                name=indicator.name,
                kind=indicator.kind,
                direction=indicator.direction,
                period_start=row.period_start,
                period_end=row.period_end,
                wave=row.wave,
                values={},
            )
        if (row.period_start, row.period_end) != (latest.period_start, latest.period_end):
            continue  # an earlier period
        code = codes.get(row.group)
        if code is not None and row.shown and row.value is not None and math.isfinite(row.value):
            latest.values[code] = float(row.value)
    return list(found.values())


@dataclass(frozen=True)
class BlockGroupEquity:
    """A district's population-weighted Equity Index score and how it was made."""

    score: float
    block_groups: int
    population: int


EQUITY_FIELD = "equityindexvalue"


def district_equity_index(strategy: Strategy, kind: str) -> dict[str, BlockGroupEquity]:
    """Each district's Equity Index score: the mean of the 2024 Equity Index scores of the
    block groups whose representative point lies in it, weighted by their residents.

    Empty when the block groups carry no Equity Index score (the strategy file did not keep
    it). Block groups and districts do not nest; each block group counts in the one district
    that holds its representative point (a point inside the polygon).
    """
    from shapely.geometry import shape
    from shapely.strtree import STRtree

    block_groups = [
        g
        for g in Geography.objects.filter(city_id=strategy.city_id, kind=GeographyKind.BLOCK_GROUP)
        if isinstance(g.attributes.get(EQUITY_FIELD), int | float) and g.geometry and g.population
    ]
    if not block_groups:
        return {}
    areas = [
        g
        for g in Geography.objects.filter(city_id=strategy.city_id, kind=kind).only(
            "code", "geometry"
        )
        if g.geometry
    ]
    shapes = [shape(a.geometry) for a in areas]
    tree = STRtree(shapes)
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for block_group in block_groups:
        point = shape(block_group.geometry).representative_point()
        for index in tree.query(point, predicate="intersects"):
            code = areas[int(index)].code
            population = float(block_group.population or 0)
            sums[code][0] += float(block_group.attributes[EQUITY_FIELD]) * population
            sums[code][1] += population
            sums[code][2] += 1
            break
    return {
        code: BlockGroupEquity(total / population, int(count), round(population))
        for code, (total, population, count) in sums.items()
        if population > 0
    }


def area_eligibility(
    analysis: SafetyAnalysis, kinds: Iterable[str]
) -> dict[tuple[str, str], SafetyAreaEligibility]:
    """(kind, code) -> the district's eligible share (eligibility_by_area.csv), one query."""
    return {
        (row.kind, row.area_code): row
        for row in SafetyAreaEligibility.objects.filter(analysis=analysis, kind__in=list(kinds))
    }


def district_week(
    analysis: SafetyAnalysis, definition: str
) -> tuple[list[str], list[list[float]], int]:
    """Eligible calls by council district (rows, in number order) and hour of the week
    (168 columns, Monday 00:00 first), withheld cells counted as 0, and how many cells were
    withheld; one query."""
    rows: dict[str, list[float]] = {}
    withheld = 0
    for code, hour, calls, suppressed in SafetyDistrictHourCell.objects.filter(
        analysis=analysis, definition=definition
    ).values_list("council_district", "hour_of_week", "calls", "suppressed"):
        week = rows.setdefault(code, [0.0] * 168)
        if suppressed or calls is None:
            withheld += 1
        else:
            week[hour] = float(calls)
    codes = sorted(rows, key=lambda code: _code_key("", code))
    return codes, [rows[code] for code in codes], withheld
