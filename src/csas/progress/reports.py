"""Quarterly and annual implementation reports, built from published data only.

Every figure here comes from updates in the ``published`` state, from milestones and funding
lines (which the public action pages already show) and from public indicators' overall
observations (breakdowns are left to the indicator pages). Drafts and updates still in review
never enter a report. A report covers the actions of the published strategy version.

An action is *not updated recently* in a report when no published update covers the report's
period nor any of the ``STALE_AFTER_DAYS`` days before that period began: with quarterly
periods, an action that missed this quarter and the last one. The rule uses reporting periods,
not publication timestamps, so a report reads the same whenever it is generated.

Reports are read in the page's language: status and funding labels are lazy translations, and
goal, action and indicator wording is localised by the templates.

A report reads its data in a small fixed number of queries, whatever the number of actions,
updates or observations: only the columns it shows, with each action's latest covered period
aggregated by the database. `report_data_version` fingerprints that data cheaply, so that
views can keep rendered reports and know when one is out of date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Max,
    Model,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.http import Http404
from django.utils.translation import gettext

from csas.progress.models import (
    ActionMilestone,
    ActionUpdate,
    FundingLine,
    FundingStatus,
    Indicator,
    Observation,
    ReportingPeriod,
    UpdateState,
    UpdateStatus,
    too_few,
)
from csas.progress.selectors import STALE_AFTER_DAYS
from csas.strategy.models import Action, Goal, Strategy, StrategyVersion

NO_UPDATE = "no_update"
# Every status a report counts, in the order tables and charts show them.
STATUS_ORDER: tuple[str, ...] = (*UpdateStatus.values, NO_UPDATE)
FUNDING_ORDER: tuple[str, ...] = tuple(FundingStatus.values)

MilestoneOutcome = Literal["on_time", "late", "open"]


def status_label(status: str) -> str:
    """The status in the active language; ``no_update`` for an action with no published
    update in the period."""
    if status == NO_UPDATE:
        return gettext("No update yet")
    return str(UpdateStatus(status).label)


@dataclass(frozen=True)
class StatusCount:
    """How many actions had `status` (an `UpdateStatus` value or ``no_update``)."""

    status: str
    count: int

    @property
    def label(self) -> str:
        return status_label(self.status)


@dataclass(frozen=True)
class FundingTotal:
    """The sum of an action group's funding lines of one `FundingStatus`."""

    status: str
    amount: Decimal
    lines: int

    @property
    def label(self) -> str:
        return str(FundingStatus(self.status).label)


@dataclass(frozen=True)
class ActionLine:
    """One action in a report: its published status and narrative for the period (``status``
    is ``no_update`` and ``narrative`` empty when none was published)."""

    action: Action
    status: str
    narrative: str
    period_label: str
    is_stale: bool

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass(frozen=True)
class MilestoneLine:
    """A milestone; met on time when it was done (``actual_end``) by its planned end."""

    milestone: ActionMilestone
    action: Action

    @property
    def outcome(self) -> MilestoneOutcome:
        actual = self.milestone.actual_end
        if actual is None:
            return "open"
        return "on_time" if actual <= self.milestone.planned_end else "late"

    @property
    def met_on_time(self) -> bool:
        return self.outcome == "on_time"


@dataclass(frozen=True)
class IndicatorPoint:
    """One overall observation. A suppressed one carries no value, n or margin of error."""

    period_start: dt.date
    period_end: dt.date
    value: float | None
    n: int | None
    margin_of_error: float | None
    suppressed: bool


@dataclass(frozen=True)
class IndicatorLine:
    """A public indicator linked to a goal's actions.

    ``series`` holds its overall observations that ended by the report's end; ``end`` is the
    latest of them. Annual reports also give ``start``: the latest observation that ended
    before the year began or, when there is none, the first that ended within the year.
    """

    indicator: Indicator
    series: tuple[IndicatorPoint, ...]
    end: IndicatorPoint | None
    start: IndicatorPoint | None = None


@dataclass(frozen=True)
class StatusChange:
    """An action's earliest and latest published status within a year."""

    action: Action
    first_status: str
    first_period: ReportingPeriod | None
    last_status: str
    last_period: ReportingPeriod | None

    @property
    def changed(self) -> bool:
        return self.first_status != self.last_status

    @property
    def first_label(self) -> str:
        return status_label(self.first_status)

    @property
    def last_label(self) -> str:
        return status_label(self.last_status)


@dataclass(frozen=True)
class PeriodStatusCounts:
    period: ReportingPeriod
    counts: tuple[StatusCount, ...]


@dataclass(frozen=True)
class GoalSection:
    """One goal of a report.

    Quarterly: ``actions`` carry the period's published status and narrative,
    ``milestones_due`` are the milestones planned to end within the period. Annual: each
    action's latest published status in the year, with ``by_period``, ``changes`` and
    ``milestones_completed`` filled in as well.
    """

    goal: Goal
    actions: tuple[ActionLine, ...]
    status_counts: tuple[StatusCount, ...]
    milestones_due: tuple[MilestoneLine, ...]
    funding: tuple[FundingTotal, ...]
    indicators: tuple[IndicatorLine, ...]
    by_period: tuple[PeriodStatusCounts, ...] = ()
    changes: tuple[StatusChange, ...] = ()
    milestones_completed: tuple[MilestoneLine, ...] = ()

    @property
    def stale(self) -> tuple[Action, ...]:
        return tuple(line.action for line in self.actions if line.is_stale)

    @property
    def milestones_on_time(self) -> int:
        return sum(1 for line in self.milestones_due if line.met_on_time)

    @property
    def funding_total(self) -> Decimal:
        return sum((item.amount for item in self.funding), start=Decimal(0))


@dataclass(frozen=True)
class QuarterlyReport:
    strategy: Strategy
    version: StrategyVersion
    period: ReportingPeriod
    goals: tuple[GoalSection, ...]
    status_counts: tuple[StatusCount, ...]
    stale_after_days: int
    # every public indicator linked to the version's actions, once (goals share these lines)
    indicators: tuple[IndicatorLine, ...] = ()


@dataclass(frozen=True)
class AnnualReport:
    strategy: Strategy
    version: StrategyVersion
    year: int
    periods: tuple[ReportingPeriod, ...]
    goals: tuple[GoalSection, ...]
    status_counts: tuple[StatusCount, ...]
    stale_after_days: int
    # every public indicator linked to the version's actions, once (goals share these lines)
    indicators: tuple[IndicatorLine, ...] = ()


# --- which reports exist ------------------------------------------------------------------


def _reported_periods(version: StrategyVersion) -> list[ReportingPeriod]:
    return list(
        ReportingPeriod.objects.filter(
            strategy_id=version.strategy_id,
            updates__state=UpdateState.PUBLISHED,
            updates__action__version=version,
        )
        .distinct()
        .order_by("starts_on")
    )


def report_periods(version: StrategyVersion) -> list[ReportingPeriod]:
    """Periods with at least one published update of the version's actions, newest first."""
    return list(reversed(_reported_periods(version)))


def report_years(periods: Iterable[ReportingPeriod]) -> list[int]:
    """The calendar years those periods start in, newest first."""
    return sorted({period.starts_on.year for period in periods}, reverse=True)


def report_period_get(version: StrategyVersion, pk: int) -> ReportingPeriod:
    """A period with a published report; "not found" alike for missing, another strategy's,
    and one with nothing published yet."""
    for period in _reported_periods(version):
        if period.pk == pk:
            return period
    raise Http404("No report for this period.")


def report_year_periods(version: StrategyVersion, year: int) -> list[ReportingPeriod]:
    """The reporting periods starting in `year` that have a published update, oldest first;
    404 when there is none (no annual report for that year)."""
    periods = [p for p in _reported_periods(version) if p.starts_on.year == year]
    if not periods:
        raise Http404("No report for this year.")
    return periods


# --- a fingerprint of what reports are built from ---------------------------------------


def _whole(queryset: QuerySet[Any], aggregate: Any) -> Subquery:
    """`aggregate` over every row of `queryset`, as a scalar subquery (grouped by a
    constant, so there is no GROUP BY)."""
    return Subquery(
        queryset.order_by()
        .annotate(whole=Value(1))
        .values("whole")
        .annotate(total=aggregate)
        .values("total")
    )


def report_data_version(version: StrategyVersion) -> str:
    """A fingerprint of the data every report of `version` is built from, read in two
    queries; rendered reports are kept under it, so it changes whenever something a report
    shows may have. Largest ids and counts catch rows added or deleted, including each
    publication (every move of an update between states is an `UpdateEvent`; a published
    update is never edited). The largest simple_history and admin log ids catch edits made
    through services and the admin: the strategy's content, milestones, funding, indicators,
    periods, the city's name. Sums weighted by id catch overall observations that feeds and
    the API rewrite in place, which leaves no other trace (reports show no breakdowns).

    Every figure but the observations' reads an index, not a table."""
    from django.contrib.admin.models import LogEntry

    from csas.progress.models import UpdateEvent

    latest: dict[str, Subquery] = {}
    tables: tuple[type[Model], ...] = (
        ActionUpdate,
        UpdateEvent,
        ReportingPeriod,
        Indicator.actions.through,
        LogEntry,
    )
    for table in tables:
        rows = table._default_manager.all()
        latest[f"{table.__name__}_count"] = _whole(rows, Count("pk"))
        latest[f"{table.__name__}_id"] = _whole(rows, Max("pk"))
    histories: tuple[type[Model], ...] = (
        Strategy,
        StrategyVersion,
        Goal,
        Action,
        ActionMilestone,
        FundingLine,
        Indicator,
    )
    for model in histories:
        history: type[Model] = model.history.model  # type: ignore[attr-defined]
        latest[f"{model.__name__}_history"] = _whole(
            history._default_manager.all(), Max("history_id")
        )
    one = StrategyVersion.objects.filter(pk=version.pk).order_by()
    row = one.annotate(**latest).values(*latest)
    observations = Observation.objects.filter(dimension="").aggregate(
        count=Count("pk"),
        id=Max("pk"),
        values=Sum(F("pk") * F("value")),
        n=Sum(F("pk") * Cast("n", FloatField())),
        margins=Sum(F("pk") * F("margin_of_error")),
        suppressed=Sum(Case(When(suppressed=True, then=F("pk")), default=Value(0))),
    )
    figures = (
        version.pk,
        settings.SUPPRESSION_THRESHOLD,  # what is suppressed depends on it, not only on the data
        sorted(row[0].items()),
        sorted(observations.items()),
    )
    return hashlib.sha256(repr(figures).encode()).hexdigest()


# --- building blocks ----------------------------------------------------------------------


def _ordered_counts(counter: Counter[str]) -> tuple[StatusCount, ...]:
    return tuple(StatusCount(status, counter.get(status, 0)) for status in STATUS_ORDER)


def _actions_by_goal(version: StrategyVersion) -> list[tuple[Goal, list[Action]]]:
    goals = list(Goal.objects.filter(version=version).order_by("number"))
    actions: dict[int, list[Action]] = defaultdict(list)
    for action in Action.objects.filter(version=version).order_by("goal__number", "order", "code"):
        actions[action.goal_id].append(action)
    for goal in goals:
        for action in actions[goal.pk]:
            action.goal = goal  # spare a query per action when templates read action.goal
    return [(goal, actions[goal.pk]) for goal in goals]


@dataclass(frozen=True)
class _Published:
    """The columns of a published update that reports show."""

    action_id: int
    period_id: int
    status: str
    narrative: str


def _published_in(version: StrategyVersion, periods: Sequence[ReportingPeriod]) -> list[_Published]:
    """Published updates of the version's actions for `periods`, in the order of `periods`
    (oldest first), then by action."""
    order = {period.pk: index for index, period in enumerate(periods)}
    rows = (
        ActionUpdate.objects.filter(
            action__version=version, state=UpdateState.PUBLISHED, period_id__in=list(order)
        )
        .order_by()
        .values_list("action_id", "period_id", "status", "narrative")
    )
    return sorted(
        (_Published(*row) for row in rows), key=lambda u: (order[u.period_id], u.action_id)
    )


def _is_stale(last_covered: dt.date | None, period: ReportingPeriod) -> bool:
    """Neither `period` nor the STALE_AFTER_DAYS days before it are covered by an update."""
    if last_covered is None:
        return True
    if last_covered >= period.starts_on:
        return False
    return (period.starts_on - last_covered).days > STALE_AFTER_DAYS


def _last_covered(version: StrategyVersion, *, ends_by: dt.date) -> dict[int, dt.date]:
    """Per action, the end of the latest period (ending by `ends_by`) a published update
    covers: one row per action, aggregated by the database."""
    rows = (
        ActionUpdate.objects.filter(
            action__version=version,
            state=UpdateState.PUBLISHED,
            period__strategy_id=version.strategy_id,
            period__ends_on__lte=ends_by,
        )
        .order_by()
        .values("action_id")
        .annotate(last=Max("period__ends_on"))
        .values_list("action_id", "last")
    )
    return dict(rows)


def _milestones(version: StrategyVersion, start: dt.date, end: dt.date) -> list[ActionMilestone]:
    """Milestones planned to end, or done, between `start` and `end` (inclusive)."""
    return list(
        ActionMilestone.objects.filter(action__version=version)
        .filter(Q(planned_end__range=(start, end)) | Q(actual_end__range=(start, end)))
        .order_by("planned_end", "action__order", "order", "pk")
    )


def _funding_by_goal(version: StrategyVersion) -> dict[int, tuple[FundingTotal, ...]]:
    """Per goal, the funding recorded for its actions, summed by funding status."""
    sums: dict[int, dict[str, tuple[Decimal, int]]] = defaultdict(dict)
    rows = (
        FundingLine.objects.filter(action__version=version)
        .values("action__goal_id", "status")
        .annotate(total=Sum("amount"), lines=Count("pk"))
        .order_by()
    )
    for row in rows:
        sums[row["action__goal_id"]][row["status"]] = (row["total"], row["lines"])
    return {
        goal_id: tuple(
            FundingTotal(status, *by_status.get(status, (Decimal(0), 0)))
            for status in FUNDING_ORDER
        )
        for goal_id, by_status in sums.items()
    }


# The indicator fields reports show, and `description`, which the page's notice of
# untranslated content also looks at.
_INDICATOR_FIELDS = (
    "slug",
    "name",
    "description",
    "unit",
    "baseline_value",
    "baseline_year",
    "target_value",
    "target_year",
    "translations",
)


def _indicators(
    version: StrategyVersion,
    goals: list[tuple[Goal, list[Action]]],
    *,
    ends_by: dt.date,
    year_start: dt.date | None = None,
) -> tuple[tuple[IndicatorLine, ...], dict[int, tuple[IndicatorLine, ...]]]:
    """The public indicators linked to the version's actions, by name, with their overall
    series up to `ends_by` (and, for annual reports, the value going into the year that
    starts on `year_start`); and per goal, those linked to its actions (the same lines)."""
    links = (
        Indicator.actions.through.objects.filter(
            action__version=version,
            indicator__strategy_id=version.strategy_id,
            indicator__is_public=True,
        )
        .select_related("indicator")
        .only("action_id", "indicator_id", *(f"indicator__{f}" for f in _INDICATOR_FIELDS))
        .order_by("indicator__name", "indicator_id")
    )
    indicators: dict[int, Indicator] = {}
    goals_of: dict[int, set[int]] = defaultdict(set)
    goal_of_action = {action.pk: goal.pk for goal, actions in goals for action in actions}
    for link in links:
        indicators[link.indicator_id] = link.indicator
        goals_of[link.indicator_id].add(goal_of_action[link.action_id])
    series: dict[int, list[IndicatorPoint]] = defaultdict(list)
    rows = (
        Observation.objects.filter(
            indicator_id__in=list(indicators), dimension="", period_end__lte=ends_by
        )
        .order_by("indicator_id", "period_end", "period_start")
        .values_list(
            "indicator_id",
            "period_start",
            "period_end",
            "value",
            "n",
            "margin_of_error",
            "suppressed",
        )
    )
    for indicator_id, start, end, value, n, margin, suppressed in rows:
        # a suppressed observation carries no value, n or margin of error
        series[indicator_id].append(
            IndicatorPoint(start, end, None, None, None, True)
            if suppressed or too_few(n)
            else IndicatorPoint(start, end, value, n, margin, False)
        )
    lines: list[IndicatorLine] = []
    by_goal: dict[int, list[IndicatorLine]] = defaultdict(list)
    for indicator_id, indicator in indicators.items():
        points = tuple(series[indicator_id])
        start_point = None
        if year_start is not None:
            before = [p for p in points if p.period_end < year_start]
            start_point = before[-1] if before else next(iter(points), None)
        line = IndicatorLine(
            indicator=indicator,
            series=points,
            end=points[-1] if points else None,
            start=start_point,
        )
        lines.append(line)
        for goal_id in sorted(goals_of[indicator_id]):
            by_goal[goal_id].append(line)
    return tuple(lines), {goal_id: tuple(items) for goal_id, items in by_goal.items()}


# --- the reports --------------------------------------------------------------------------


def report_quarterly(version: StrategyVersion, period: ReportingPeriod) -> QuarterlyReport:
    """The implementation report for one reporting period, per goal."""
    this_period = {u.action_id: u for u in _published_in(version, [period])}
    covered = _last_covered(version, ends_by=period.ends_on)
    milestones = _milestones(version, period.starts_on, period.ends_on)
    funding = _funding_by_goal(version)
    goal_actions = _actions_by_goal(version)
    indicators, indicators_by_goal = _indicators(version, goal_actions, ends_by=period.ends_on)
    goals = []
    overall: Counter[str] = Counter()
    for goal, actions in goal_actions:
        by_pk = {action.pk: action for action in actions}
        lines = []
        for action in actions:
            update = this_period.get(action.pk)
            lines.append(
                ActionLine(
                    action=action,
                    status=update.status if update else NO_UPDATE,
                    narrative=update.narrative if update else "",
                    period_label=period.label,
                    is_stale=_is_stale(covered.get(action.pk), period),
                )
            )
        counts = Counter(line.status for line in lines)
        overall.update(counts)
        due = [
            MilestoneLine(m, by_pk[m.action_id])
            for m in milestones
            if m.action_id in by_pk and period.starts_on <= m.planned_end <= period.ends_on
        ]
        goals.append(
            GoalSection(
                goal=goal,
                actions=tuple(lines),
                status_counts=_ordered_counts(counts),
                milestones_due=tuple(due),
                funding=funding.get(goal.pk, ()),
                indicators=indicators_by_goal.get(goal.pk, ()),
            )
        )
    return QuarterlyReport(
        strategy=version.strategy,
        version=version,
        period=period,
        goals=tuple(goals),
        status_counts=_ordered_counts(overall),
        stale_after_days=STALE_AFTER_DAYS,
        indicators=indicators,
    )


def report_annual(
    version: StrategyVersion, year: int, periods: Sequence[ReportingPeriod] | None = None
) -> AnnualReport:
    """The implementation report for a calendar year: the year's reporting periods (those
    starting in it) taken together. 404 when none of them has a published update.
    `periods`, when given, are `report_year_periods(version, year)` already read."""
    if periods is None:
        periods = report_year_periods(version, year)
    year_start, year_end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    last_period = periods[-1]
    period_of = {period.pk: period for period in periods}
    in_year: dict[int, list[_Published]] = defaultdict(list)
    status_in: dict[tuple[int, int], str] = {}
    for update in _published_in(version, periods):
        in_year[update.action_id].append(update)  # oldest period first
        status_in[update.action_id, update.period_id] = update.status
    covered = _last_covered(version, ends_by=last_period.ends_on)
    milestones = _milestones(version, year_start, year_end)
    funding = _funding_by_goal(version)
    goal_actions = _actions_by_goal(version)
    indicators, indicators_by_goal = _indicators(
        version, goal_actions, ends_by=year_end, year_start=year_start
    )
    goals = []
    overall: Counter[str] = Counter()
    for goal, actions in goal_actions:
        by_pk = {action.pk: action for action in actions}
        lines, changes = [], []
        for action in actions:
            history = in_year.get(action.pk, [])
            first, last = (history[0], history[-1]) if history else (None, None)
            first_period = period_of[first.period_id] if first else None
            last_period_of_action = period_of[last.period_id] if last else None
            lines.append(
                ActionLine(
                    action=action,
                    status=last.status if last else NO_UPDATE,
                    narrative=last.narrative if last else "",
                    period_label=last_period_of_action.label if last_period_of_action else "",
                    is_stale=_is_stale(covered.get(action.pk), last_period),
                )
            )
            changes.append(
                StatusChange(
                    action=action,
                    first_status=first.status if first else NO_UPDATE,
                    first_period=first_period,
                    last_status=last.status if last else NO_UPDATE,
                    last_period=last_period_of_action,
                )
            )
        counts = Counter(line.status for line in lines)
        overall.update(counts)
        by_period = tuple(
            PeriodStatusCounts(
                period,
                _ordered_counts(
                    Counter(status_in.get((a.pk, period.pk), NO_UPDATE) for a in actions)
                ),
            )
            for period in periods
        )
        goal_milestones = [
            MilestoneLine(m, by_pk[m.action_id]) for m in milestones if m.action_id in by_pk
        ]
        goals.append(
            GoalSection(
                goal=goal,
                actions=tuple(lines),
                status_counts=_ordered_counts(counts),
                milestones_due=tuple(
                    line
                    for line in goal_milestones
                    if year_start <= line.milestone.planned_end <= year_end
                ),
                funding=funding.get(goal.pk, ()),
                indicators=indicators_by_goal.get(goal.pk, ()),
                by_period=by_period,
                changes=tuple(changes),
                milestones_completed=tuple(
                    line
                    for line in goal_milestones
                    if line.milestone.actual_end is not None
                    and year_start <= line.milestone.actual_end <= year_end
                ),
            )
        )
    return AnnualReport(
        strategy=version.strategy,
        version=version,
        year=year,
        periods=tuple(periods),
        goals=tuple(goals),
        status_counts=_ordered_counts(overall),
        stale_after_days=STALE_AFTER_DAYS,
        indicators=indicators,
    )
