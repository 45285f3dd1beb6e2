"""The safety tables of the open data package: the published analysis, as the safety pages
show it.

Only the strategy's newest published analysis goes in (the one `/safety/` shows); with none
published the tables are there with their schemas and no rows. Everything is an aggregate
the loader already checked: suppressed rows carry no figure (emptied again here), nothing is
finer than a block group, and no call, free text or identifier leaves. `csas.progress.
datapackage` adds these tables to the package and the analysis to its fingerprint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, overload

from django.db.models import QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from csas.progress.datapackage import Cell, Column, Table
from csas.safetylab.models import (
    SafetyAnalysis,
    SafetyAreaEligibility,
    SafetyAreaRate,
    SafetyBlockGroupHotspot,
    SafetyCallsWithoutArea,
    SafetyResponseTime,
    SafetyTimeProfileCell,
)
from csas.safetylab.selectors import TrendRow, trend_rows
from csas.safetylab.services import RESPONSE_HEADER
from csas.strategy.models import GeographyKind, StrategyVersion

SUPPRESSED = Column("suppressed", "boolean", "Fewer than the threshold: no figure is published.")


def published_analysis(version: StrategyVersion) -> Subquery:
    """The pk of the strategy's newest published analysis (the one `/safety/` shows)."""
    return Subquery(
        SafetyAnalysis.objects.filter(SafetyAnalysis.public(), strategy_id=version.strategy_id)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )


def rows_of_published(model: Any, version: StrategyVersion) -> QuerySet[Any, Any]:
    """The rows of `model` (one of the analysis's tables) of the published analysis only."""
    manager = model._default_manager
    return manager.filter(analysis_id=published_analysis(version))  # type: ignore[no-any-return]


def _withheld(figures: int) -> Callable[[tuple[Any, ...]], tuple[Cell, ...]]:
    """A row function that empties the last `figures` cells before the suppressed flag when
    the row is suppressed (the flag is the last column)."""

    def row(record: tuple[Any, ...]) -> tuple[Cell, ...]:
        if record[-1]:
            return (*record[: -1 - figures], *([None] * figures), True)
        return tuple(record)

    return row


_KINDS = tuple(GeographyKind.values)


def _kind() -> Column:
    return Column("kind", "string", "Kind of area (geographies.kind).", required=True, enum=_KINDS)


def _analysis_table(version: StrategyVersion) -> Table:
    records = (
        SafetyAnalysis.objects.filter(pk=published_analysis(version))
        .order_by("pk")
        .values_list("title", "source", "is_synthetic", "received_from", "received_to")
    )
    return Table(
        name="safety-analysis",
        title=_("Safety data: the published analysis"),
        description=(
            "The calls-for-service analysis the safety pages show (at most one row): what it "
            "was made from. Synthetic data is labelled so."
        ),
        columns=(
            Column("title", "string", "Title of the analysis.", required=True),
            Column("source", "string", "Where the calls came from."),
            Column("synthetic", "boolean", "True when the calls are made up (a demonstration)."),
            Column(
                "received_from",
                "date",
                "Local date of the first call received (a date, not a time: one call's time "
                "could point to it).",
            ),
            Column("received_to", "date", "Local date of the last call received."),
        ),
        records=records,
        row=_analysis_row,
    )


def _local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(moment) if moment is not None else None


def _analysis_row(record: tuple[Any, ...]) -> tuple[Cell, ...]:
    title, source, synthetic, received_from, received_to = record
    return (title, source, synthetic, _local_date(received_from), _local_date(received_to))


def _rates_table(version: StrategyVersion) -> Table:
    records = (
        rows_of_published(SafetyAreaRate, version)
        .order_by("kind", "area_code", "month")
        .values_list(
            "kind",
            "area_code",
            "month",
            "calls",
            "rate_per_1000",
            "rate_low",
            "rate_high",
            "suppressed",
        )
    )
    return Table(
        name="safety-area-rates",
        title=_("Safety data: calls per area and month"),
        description=(
            "Calls for service (whoever started them) per area and local month, and the rate "
            "per 1,000 residents with its exact Poisson 95% interval. Kind and code name an "
            "area of the geographies table. Counts under the threshold are withheld, and so "
            "are others where the month's calls would give a withheld one away."
        ),
        columns=(
            _kind(),
            Column("area_code", "string", "The area's code (geographies.code).", required=True),
            Column("month", "string", "Local month, YYYY-MM.", required=True),
            Column("calls", "integer", "Calls; empty when suppressed.", minimum=0),
            Column("rate_per_1000", "number", "Calls per 1,000 residents."),
            Column("rate_low", "number", "Lower end of the 95% interval."),
            Column("rate_high", "number", "Upper end of the 95% interval."),
            SUPPRESSED,
        ),
        records=records,
        row=_withheld(4),
        primary_key=("kind", "area_code", "month"),
    )


def _without_area_table(version: StrategyVersion) -> Table:
    records = (
        rows_of_published(SafetyCallsWithoutArea, version)
        .order_by("kind", "month")
        .values_list("kind", "month", "calls", "suppressed")
    )
    return Table(
        name="safety-calls-without-area",
        title=_("Safety data: calls no area could be given"),
        description=(
            "Calls per local month that fell in no area of a kind (no location, or outside "
            "the city): counted, never dropped."
        ),
        columns=(
            _kind(),
            Column("month", "string", "Local month, YYYY-MM.", required=True),
            Column("calls", "integer", "Calls; empty when suppressed.", minimum=0),
            SUPPRESSED,
        ),
        records=records,
        row=_withheld(1),
        primary_key=("kind", "month"),
    )


def _response_times_table(version: StrategyVersion) -> Table:
    records = (
        rows_of_published(SafetyResponseTime, version)
        .order_by("priority", "council_district", "interval")
        # The stored fields are named as the analysis's response_times.csv columns.
        .values_list(*RESPONSE_HEADER)
    )
    return Table(
        name="safety-response-times",
        title=_("Safety data: response times"),
        description=(
            "Minutes from a call's receipt to dispatch or to arrival, by priority and council "
            "district (empty: the whole city): median and 90th percentile with bootstrap 95% "
            "intervals, and the median's ratio to the city's."
        ),
        columns=(
            Column("priority", "string", "Call priority as the source names it.", required=True),
            Column("council_district", "string", "Council district code; empty: the city."),
            Column("interval", "string", "dispatch or arrival.", required=True),
            Column("n", "integer", "Calls measured; empty when suppressed.", minimum=0),
            Column("median_min", "number", "Median, minutes."),
            Column("median_low", "number", "Median, lower end of the interval."),
            Column("median_high", "number", "Median, upper end of the interval."),
            Column("p90_min", "number", "90th percentile, minutes."),
            Column("p90_low", "number", "90th percentile, lower end of the interval."),
            Column("p90_high", "number", "90th percentile, upper end of the interval."),
            Column("ratio_to_city", "number", "Median against the city's median."),
            Column("ratio_low", "number", "Ratio, lower end of the interval."),
            Column("ratio_high", "number", "Ratio, upper end of the interval."),
            SUPPRESSED,
        ),
        records=records,
        row=_withheld(10),
        primary_key=("priority", "council_district", "interval"),
    )


def _eligibility_table(version: StrategyVersion) -> Table:
    records = (
        rows_of_published(SafetyAreaEligibility, version)
        .order_by("kind", "area_code")
        .values_list(
            "kind",
            "area_code",
            "calls",
            "eligible_by_type",
            "eligible_after_screening",
            "share_by_type",
            "share_after_screening",
            "suppressed",
        )
    )
    return Table(
        name="safety-alternative-response",
        title=_("Safety data: calls an alternative responder could take, by area"),
        description=(
            "Public-initiated calls per area and how many an alternative responder could take, "
            "as a range: by call type alone (the upper end) and after screening for weapons, "
            "violence, injury and calls in progress (the lower end)."
        ),
        columns=(
            _kind(),
            Column("area_code", "string", "The area's code (geographies.code).", required=True),
            Column("calls", "integer", "Calls; empty when suppressed.", minimum=0),
            Column("eligible_by_type", "integer", "Eligible by call type alone.", minimum=0),
            Column("eligible_after_screening", "integer", "Eligible after screening.", minimum=0),
            Column("share_by_type", "number", "Share eligible by type (0-1)."),
            Column("share_after_screening", "number", "Share eligible after screening (0-1)."),
            SUPPRESSED,
        ),
        records=records,
        row=_withheld(5),
        primary_key=("kind", "area_code"),
    )


def _time_profile_table(version: StrategyVersion) -> Table:
    records = (
        rows_of_published(SafetyTimeProfileCell, version)
        .order_by("definition", "weekday", "hour")
        .values_list("definition", "weekday", "hour", "calls", "share", "suppressed")
    )
    return Table(
        name="safety-eligible-by-time",
        title=_("Safety data: eligible calls by day and hour"),
        description=(
            "Calls an alternative responder could take by local weekday and hour (weekday "
            "'all' and an empty hour are totals), under each definition of the range."
        ),
        columns=(
            Column("definition", "string", "by_type or after_screening.", required=True),
            Column("weekday", "string", "Mon ... Sun, or all.", required=True),
            Column("hour", "integer", "Local hour, 0-23; empty: all.", minimum=0, maximum=23),
            Column("calls", "integer", "Eligible calls; empty when suppressed.", minimum=0),
            Column("share", "number", "Share of the definition's calls (0-1)."),
            SUPPRESSED,
        ),
        records=records,
        row=_withheld(2),
    )


def _hotspots_table(version: StrategyVersion) -> Table:
    records = (
        rows_of_published(SafetyBlockGroupHotspot, version)
        .order_by("measure", "geoid")
        .values_list("measure", "geoid", "classification", "calls", "z", "p", "q", "suppressed")
    )
    return Table(
        name="safety-hot-spots",
        title=_("Safety data: hot and cold spots by block group"),
        description=(
            "Getis-Ord Gi* on block-group counts with permutation p-values and false-discovery-"
            "rate q-values: hot, cold or neither. Block groups are the finest level published."
        ),
        columns=(
            Column("measure", "string", "What was counted.", required=True),
            Column("geoid", "string", "12-digit census block group GEOID.", required=True),
            Column("classification", "string", "hot, cold or not significant.", required=True),
            Column("calls", "integer", "Calls; empty when suppressed.", minimum=0),
            Column("z", "number", "Gi* z-score."),
            Column("p", "number", "Permutation p-value."),
            Column("q", "number", "False-discovery-rate q-value."),
            SUPPRESSED,
        ),
        records=records,
        row=_withheld(4),
        primary_key=("measure", "geoid"),
    )


class _TrendRecords(Sequence[TrendRow]):
    """The published analysis's trend rows, read (one query) when first asked for."""

    def __init__(self, version: StrategyVersion) -> None:
        self.version = version
        self._rows: list[TrendRow] | None = None

    def _all(self) -> list[TrendRow]:
        if self._rows is None:
            analysis = SafetyAnalysis.objects.filter(pk=published_analysis(self.version)).first()
            self._rows = trend_rows(analysis)
        return self._rows

    def __len__(self) -> int:
        return len(self._all())

    @overload
    def __getitem__(self, index: int) -> TrendRow: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[TrendRow]: ...

    def __getitem__(self, index: int | slice) -> TrendRow | Sequence[TrendRow]:
        return self._all()[index]


def _trend_row(row: TrendRow) -> tuple[Cell, ...]:
    return (
        row.geography,
        row.area_code,
        row.current_from,
        row.current_to,
        row.previous_from,
        row.previous_to,
        row.calls_current,
        row.calls_previous,
        row.ratio,
        row.ratio_low,
        row.ratio_high,
        row.suppressed,
    )


def _trends_table(version: StrategyVersion) -> Table:
    return Table(
        name="safety-trends",
        title=_("Safety data: calls now and three months before"),
        description=(
            "Calls in the last three complete local months against the three before, per "
            "day: the rate ratio with its exact 95% interval, citywide (geography city) and "
            "per district. A district's row is withheld when a count is under the threshold "
            "or one of its six months is withheld in safety-area-rates."
        ),
        columns=(
            Column("geography", "string", "city, or the kind of district.", required=True),
            Column("area_code", "string", "The district's code; empty for the city."),
            Column("current_from", "string", "First month of the recent period, YYYY-MM."),
            Column("current_to", "string", "Last month of the recent period, YYYY-MM."),
            Column("previous_from", "string", "First month of the earlier period, YYYY-MM."),
            Column("previous_to", "string", "Last month of the earlier period, YYYY-MM."),
            Column("calls_current", "integer", "Calls in the recent period.", minimum=0),
            Column("calls_previous", "integer", "Calls in the earlier period.", minimum=0),
            Column("ratio", "number", "Calls per day, recent period over the earlier."),
            Column("ratio_low", "number", "Lower end of the 95% interval."),
            Column("ratio_high", "number", "Upper end of the 95% interval."),
            SUPPRESSED,
        ),
        records=_TrendRecords(version),
        row=_trend_row,
        primary_key=("geography", "area_code"),
    )


def safety_tables(version: StrategyVersion) -> tuple[Table, ...]:
    """The package's safety tables, each read from one queryset like the other tables (the
    trends from the published analysis's summary)."""
    return (
        _analysis_table(version),
        _rates_table(version),
        _without_area_table(version),
        _response_times_table(version),
        _eligibility_table(version),
        _time_profile_table(version),
        _hotspots_table(version),
        _trends_table(version),
    )
