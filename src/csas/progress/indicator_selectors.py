"""Reads for the public indicator pages and the indicators shown on an action's page.

Only public indicators of the published strategy are shown. Suppressed observations never
show a value, n or margin of error, even when one was stored (an integration may send
both). Every selector runs a fixed number of queries, however many indicators or
observations there are.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from csas.engagement.models import Survey
from csas.progress.models import (
    Direction,
    Indicator,
    IndicatorFeed,
    Observation,
    publishable,
)
from csas.strategy.i18n import localized
from csas.strategy.models import Action, StrategyVersion

#: How the latest value compares with the target (see `indicator_course`).
Course = Literal["met", "on_course", "off_course", "unknown"]

#: Names of the breakdowns the feeds write (others are shown as written).
DIMENSION_LABELS = {
    "council_district": _("Council district"),
    "neighbourhood": _("Neighborhood"),
    "race_ethnicity": _("Race or ethnicity"),
    "age": _("Age"),
    "priority": _("Priority"),
    "category": _("Call category"),
    "tier": _("Who could respond (tier)"),
    "initiation": _("Who started the call"),
    "call_type": _("Call type"),
    "disposition": _("Disposition"),
}


def period_label(start: dt.date, end: dt.date) -> str:
    """A period in words that need no translation: a year, quarter, month or date range.

    >>> period_label(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    '2024'
    >>> period_label(dt.date(2024, 4, 1), dt.date(2024, 6, 30))
    '2024 Q2'
    >>> period_label(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    '2024-03'

    Any other period is "start \N{EN DASH} end" in ISO dates.
    """
    month_end = dt.date(end.year, end.month, calendar.monthrange(end.year, end.month)[1])
    if start.day == 1 and end == month_end:
        if start.month == 1 and end.month == 12 and start.year == end.year:
            return f"{start.year}"
        if start.year == end.year and start.month == end.month:
            return f"{start.year}-{start.month:02d}"
        if start.year == end.year and start.month % 3 == 1 and end.month == start.month + 2:
            return f"{start.year} Q{(start.month + 2) // 3}"
    if start == end:
        return start.isoformat()
    return f"{start.isoformat()} \N{EN DASH} {end.isoformat()}"


@dataclass(frozen=True)
class ObservationRow:
    """One observation as the public sees it.

    Fields:
        observation: the stored observation.
        period: its period in words (`period_label`).
        value, n, margin_of_error: as published; None when suppressed (or not given).
        suppressed: too few people or events to publish.
    """

    observation: Observation
    period: str
    value: float | None
    n: int | None
    margin_of_error: float | None
    suppressed: bool

    @classmethod
    def of(cls, observation: Observation) -> ObservationRow:
        hidden = observation.hidden
        return cls(
            observation=observation,
            period=period_label(observation.period_start, observation.period_end),
            value=None if hidden else observation.value,
            n=None if hidden else observation.n,
            margin_of_error=None if hidden else observation.margin_of_error,
            suppressed=hidden,
        )


def indicator_course(indicator: Indicator, latest: ObservationRow | None) -> Course:
    """Whether the latest published value is on course for the target.

    ``met``: the latest value already reaches the target (in the indicator's direction).
    ``on_course``: it is at least as good as the straight line from the baseline (taken at
    the middle of the baseline year) to the target (at the end of the target year), read at
    the middle of the latest period. ``off_course``: it is worse than that line.
    ``unknown``: no published value, no target, or no baseline year to draw the line from.
    Margins of error are not taken into account.
    """
    if latest is None or latest.value is None or indicator.target_value is None:
        return "unknown"
    value, target = latest.value, indicator.target_value
    increase = indicator.direction == Direction.INCREASE

    def at_least(a: float, b: float) -> bool:
        return a >= b if increase else a <= b

    if at_least(value, target):
        return "met"
    baseline, start_year = indicator.baseline_value, indicator.baseline_year
    end_year = indicator.target_year
    if baseline is None or start_year is None or end_year is None or end_year < start_year:
        return "unknown"
    start, end = dt.date(start_year, 7, 1), dt.date(end_year, 12, 31)
    observation = latest.observation
    when = observation.period_start + (observation.period_end - observation.period_start) / 2
    fraction = min(1.0, max(0.0, (when - start).days / max(1, (end - start).days)))
    expected = baseline + (target - baseline) * fraction
    return "on_course" if at_least(value, expected) else "off_course"


@dataclass(frozen=True)
class IndicatorSummary:
    """An indicator with its overall series, latest published value and course.

    Fields:
        indicator: the indicator.
        series: its overall observations (no breakdown), oldest first.
        latest: the latest overall observation with a published value, or None.
        course: `indicator_course` of `latest`.
    """

    indicator: Indicator
    series: tuple[ObservationRow, ...]
    latest: ObservationRow | None
    course: Course

    @property
    def target(self) -> tuple[int, float] | None:
        indicator = self.indicator
        if indicator.target_value is None or indicator.target_year is None:
            return None
        return (indicator.target_year, indicator.target_value)

    def chart(self, *, width: int = 640, height: int = 260) -> SafeString:
        """The overall series as an accessible line chart (`csas.progress.charts`)."""
        from csas.progress.charts import line_chart_svg

        language = (get_language() or "en").split("-")[0]
        return SafeString(
            line_chart_svg(
                [(row.observation.period_start, row.value) for row in self.series],
                title=localized(self.indicator, "name", language).text,
                unit=localized(self.indicator, "unit", language).text,
                target=self.target,
                baseline=self.indicator.baseline_value,
                width=width,
                height=height,
            )
        )

    @property
    def small_chart(self) -> SafeString:
        """A chart sized for an action page."""
        return self.chart(width=420, height=220)


def _summary(indicator: Indicator, overall: Sequence[Observation]) -> IndicatorSummary:
    series = tuple(ObservationRow.of(o) for o in overall)
    published = [row for row in series if row.value is not None]
    latest = published[-1] if published else None
    return IndicatorSummary(indicator, series, latest, indicator_course(indicator, latest))


def _with_overall(indicators: QuerySet[Indicator]) -> QuerySet[Indicator]:
    overall = Observation.objects.filter(dimension="").order_by("period_start", "period_end")
    return indicators.prefetch_related(
        Prefetch("observations", queryset=overall, to_attr="overall")
    ).order_by("name", "pk")


def _summaries(indicators: Iterable[Indicator]) -> list[IndicatorSummary]:
    return [_summary(i, getattr(i, "overall", [])) for i in indicators]


@dataclass(frozen=True)
class IndicatorStanding:
    """An indicator with only its latest published value and course: what the list shows.

    Fields:
        indicator: the indicator.
        latest: the latest overall observation with a published value, or None.
        course: `indicator_course` of `latest`.
    """

    indicator: Indicator
    latest: ObservationRow | None
    course: Course


def _latest_published_overall() -> Subquery:
    """The pk of the indicator's (``OuterRef("pk")``) latest overall observation that has a
    published value: the one `_summary` takes as ``latest`` from the whole series."""
    return Subquery(
        Observation.objects.filter(
            publishable(), indicator=OuterRef("pk"), dimension="", value__isnull=False
        )
        .order_by("-period_start", "-period_end", "-pk")
        .values("pk")[:1]
    )


def indicator_list_public(version: StrategyVersion) -> list[IndicatorStanding]:
    """The published strategy's public indicators by name with their latest published value:
    two queries (the indicators, then at most one observation each), however long the series
    are; one when no indicator has a published value yet."""
    indicators = list(
        Indicator.objects.filter(strategy_id=version.strategy_id, is_public=True)
        .annotate(latest_pk=_latest_published_overall())
        .order_by("name", "pk")
    )
    wanted = [i.latest_pk for i in indicators if i.latest_pk is not None]
    latest = Observation.objects.order_by().in_bulk(wanted)
    result = []
    for indicator in indicators:
        observation = latest.get(indicator.latest_pk)
        row = ObservationRow.of(observation) if observation is not None else None
        result.append(IndicatorStanding(indicator, row, indicator_course(indicator, row)))
    return result


def indicators_for_action(action: Action) -> list[IndicatorSummary]:
    """The public indicators linked to an action (two queries), for its public page."""
    linked = Indicator.objects.filter(
        actions=action, is_public=True, strategy__versions=action.version_id
    )
    return _summaries(_with_overall(linked))


@dataclass(frozen=True)
class Breakdown:
    """One breakdown of an indicator.

    Fields:
        dimension: what the groups are (``council_district``, ``priority``, ...).
        period: the latest period that has figures for it, in words.
        latest: the groups' observations for that period, in group order.
        earlier: the groups' observations for every earlier period, newest period first.
    """

    dimension: str
    period: str
    latest: tuple[ObservationRow, ...]
    earlier: tuple[ObservationRow, ...]

    @property
    def label(self) -> str:
        """The dimension in the reader's language where csas knows it."""
        known = DIMENSION_LABELS.get(self.dimension)
        return str(known) if known else self.dimension.replace("_", " ").capitalize()

    def chart(self, *, title: str, unit: str, width: int = 640) -> SafeString:
        from csas.progress.charts import bar_chart_svg

        return SafeString(
            bar_chart_svg(
                [(row.observation.group, row.value) for row in self.latest],
                title=title,
                unit=unit,
                width=width,
            )
        )


@dataclass(frozen=True)
class IndicatorDetail:
    """Everything an indicator's public page shows.

    Fields:
        summary: the indicator, its overall series, latest value and course.
        breakdowns: one per dimension, by dimension.
        actions: the published version's actions linked to it, by goal and order.
        surveys: for a survey-fed indicator, the surveys its figures come from.
    """

    summary: IndicatorSummary
    breakdowns: tuple[Breakdown, ...]
    actions: tuple[Action, ...]
    surveys: tuple[Survey, ...]

    @property
    def indicator(self) -> Indicator:
        return self.summary.indicator


def _survey_slugs(indicator: Indicator) -> list[str]:
    config = indicator.feed_config if isinstance(indicator.feed_config, dict) else {}
    entries = config.get("waves") if isinstance(config.get("waves"), list) else [config]
    return [
        entry["survey"]
        for entry in entries or []
        if isinstance(entry, dict) and isinstance(entry.get("survey"), str)
    ]


def _breakdowns(observations: Sequence[Observation]) -> tuple[Breakdown, ...]:
    by_dimension: dict[str, list[Observation]] = {}
    for observation in observations:
        if observation.dimension:
            by_dimension.setdefault(observation.dimension, []).append(observation)
    result = []
    for dimension in sorted(by_dimension):
        rows = by_dimension[dimension]
        last = max((o.period_start, o.period_end) for o in rows)
        latest = sorted(
            (o for o in rows if (o.period_start, o.period_end) == last), key=lambda o: o.group
        )
        earlier = sorted(
            (o for o in rows if (o.period_start, o.period_end) != last),
            key=lambda o: (-o.period_start.toordinal(), -o.period_end.toordinal(), o.group),
        )
        result.append(
            Breakdown(
                dimension=dimension,
                period=period_label(*last),
                latest=tuple(ObservationRow.of(o) for o in latest),
                earlier=tuple(ObservationRow.of(o) for o in earlier),
            )
        )
    return tuple(result)


def indicator_get_public(version: StrategyVersion, slug: str) -> IndicatorDetail:
    """A public indicator of the published strategy with its series, breakdowns, linked
    actions and source surveys; 404 alike for a missing and a non-public indicator.
    Three queries, four for a survey-fed indicator."""
    indicator = (
        Indicator.objects.filter(strategy_id=version.strategy_id, slug=slug, is_public=True)
        .select_related("strategy")
        .first()
    )
    if indicator is None:
        raise Http404("No such indicator.")
    observations = list(
        Observation.objects.filter(indicator=indicator).order_by(
            "period_start", "period_end", "dimension", "group"
        )
    )
    actions = tuple(
        indicator.actions.filter(version=version)
        .select_related("goal")
        .order_by("goal__number", "order", "code")
    )
    surveys: tuple[Survey, ...] = ()
    if indicator.feed == IndicatorFeed.SURVEY:
        slugs = _survey_slugs(indicator)
        found = {
            s.slug: s
            for s in Survey.objects.filter(strategy_id=indicator.strategy_id, slug__in=slugs)
        }
        surveys = tuple(found[s] for s in slugs if s in found)
    summary = _summary(indicator, [o for o in observations if not o.dimension])
    return IndicatorDetail(summary, _breakdowns(observations), actions, surveys)
