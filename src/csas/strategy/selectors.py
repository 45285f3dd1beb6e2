"""Reads of strategy content. Public pages read only the published version, through here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404

from csas.strategy.models import (
    Action,
    ActionPartner,
    FocusPopulation,
    Geography,
    GeographyKind,
    Goal,
    Milestone,
    Partner,
    Strategy,
    StrategyVersion,
    Workstream,
)


def strategy_get_default() -> Strategy | None:
    """The strategy this site publishes: `CSAS_STRATEGY_SLUG`, or the only one loaded."""
    slug = settings.CSAS_STRATEGY_SLUG
    if slug:
        return Strategy.objects.select_related("city").filter(slug=slug).first()
    return Strategy.objects.select_related("city").order_by("pk").first()


def version_get_published(strategy: Strategy | None = None) -> StrategyVersion:
    """The version the public sees; 404 when no version is published (drafts never show)."""
    strategy = strategy or strategy_get_default()
    if strategy is None:
        raise Http404("No strategy has been loaded.")
    from django.apps import apps

    # Whether the safety pages have an analysis to show, for the link in every page's footer:
    # asked in the same query (the model is looked up by name: the safety app builds on this one).
    analysis_model: Any = apps.get_model("safetylab", "SafetyAnalysis")
    analyses = analysis_model._default_manager
    version = (
        StrategyVersion.objects.select_related("strategy__city")
        .filter(strategy=strategy, is_published=True)
        .annotate(
            safety_published=Exists(
                analyses.filter(analysis_model.public(), strategy_id=OuterRef("strategy_id"))
            )
        )
        .first()
    )
    if version is None:
        raise Http404("No strategy version is published.")
    return version


def version_get_for_user(user: Any, pk: int) -> StrategyVersion:
    """Any version, for users allowed to preview; "not found" alike for missing and forbidden."""
    version = StrategyVersion.objects.select_related("strategy__city").filter(pk=pk).first()
    if version is None:
        raise Http404("No such version.")
    if not version.is_published and not user.has_perm("strategy.preview_version", version):
        raise Http404("No such version.")
    return version


def version_list_for_user(user: Any) -> QuerySet[StrategyVersion]:
    versions = StrategyVersion.objects.select_related("strategy").order_by("strategy", "-dated")
    if user.has_perm("strategy.preview_version"):
        return versions
    return versions.filter(is_published=True)


def goal_list(version: StrategyVersion) -> QuerySet[Goal]:
    return Goal.objects.filter(version=version).prefetch_related(
        "focus_populations",
        Prefetch("actions", queryset=Action.objects.select_related("lead_department", "objective")),
    )


def goal_list_counted(version: StrategyVersion) -> QuerySet[Goal]:
    """Goals with their actions and focus populations loaded as bare ids: enough to count them
    (``goal.actions.all|length``) without reading every action's text and department."""
    return Goal.objects.filter(version=version).prefetch_related(
        Prefetch("focus_populations", queryset=FocusPopulation.objects.only("id", "goal_id")),
        Prefetch("actions", queryset=Action.objects.only("id", "goal_id").order_by()),
    )


def goal_list_brief(version: StrategyVersion) -> QuerySet[Goal]:
    """Goals alone, for links between goal pages (nothing related is loaded)."""
    return Goal.objects.filter(version=version)


def goal_get(version: StrategyVersion, number: int) -> Goal:
    goal = goal_list(version).filter(number=number).first()
    if goal is None:
        raise Http404("No such goal.")
    return goal


def action_get_public(version: StrategyVersion, slug: str) -> Action:
    action = (
        Action.objects.select_related("goal", "objective", "lead_department", "version")
        .prefetch_related(
            "supporting_departments",
            Prefetch("partner_roles", queryset=ActionPartner.objects.select_related("partner")),
        )
        .filter(version=version, slug=slug)
        .first()
    )
    if action is None:
        raise Http404("No such action.")
    return action


def partner_list_public(version: StrategyVersion) -> list[Partner]:
    """The city's partner organisations, each with ``public_roles``: its roles on the actions
    of `version` (the published one, for public pages), in the strategy's order, and
    ``public_website``: its website when that is an http(s) address, else "". Contact
    details are loaded but never shown publicly (the templates do not use them)."""
    roles = (
        ActionPartner.objects.filter(action__version=version)
        .select_related("action", "action__goal")
        .order_by("action__goal__number", "action__order", "action__pk")
    )
    partners: list[Partner] = list(
        Partner.objects.filter(city=version.strategy.city).prefetch_related(
            Prefetch("action_roles", queryset=roles, to_attr="public_roles")
        )
    )
    for partner in partners:
        # Only a web address is linked (a strategy file is not checked like a form is).
        web = partner.website.lower().startswith(("https://", "http://"))
        partner.public_website = partner.website if web else ""  # type: ignore[attr-defined]
    return partners


def action_list_editable(user: Any) -> QuerySet[Action]:
    """Actions of published and draft versions that this user may edit."""
    actions = Action.objects.select_related("goal", "version", "lead_department").order_by(
        "version__strategy", "-version__dated", "goal__number", "order"
    )
    if user.has_perm("strategy.preview_version"):
        return actions
    if getattr(user, "department_id", None) and user.has_perm("strategy.use_back_office"):
        return actions.filter(lead_department_id=user.department_id)
    return actions.none()


def action_get_for_edit(user: Any, pk: int) -> Action:
    """The action to edit; 404 when missing. Callers answer 403 when edit is not permitted."""
    action = (
        Action.objects.select_related("goal", "version", "lead_department").filter(pk=pk).first()
    )
    if action is None:
        raise Http404("No such action.")
    return action


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}"

    @property
    def starts_on(self) -> dt.date:
        return dt.date(self.year, 3 * (self.number - 1) + 1, 1)

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)


@dataclass(frozen=True)
class TimelineBar:
    milestone: Milestone
    first: int  # index of the first quarter column
    span: int  # number of quarter columns
    lane: int  # row within the workstream, so bars in the same quarter do not overlap


@dataclass(frozen=True)
class TimelineRow:
    workstream: Workstream
    bars: list[TimelineBar]
    lanes: int


@dataclass(frozen=True)
class Timeline:
    quarters: list[Quarter]
    rows: list[TimelineRow]


def milestone_timeline(version: StrategyVersion) -> Timeline:
    """The plan as quarters x workstreams, laid out for a Gantt-style chart."""
    workstreams = list(Workstream.objects.filter(version=version).prefetch_related("milestones"))
    milestones = [m for w in workstreams for m in w.milestones.all()]
    if not milestones:
        return Timeline(quarters=[], rows=[])
    first = Quarter.of(min(m.starts_on for m in milestones))
    last = Quarter.of(max(m.ends_on for m in milestones))
    quarters = [first]
    while quarters[-1] != last:
        quarters.append(quarters[-1].next())
    index = {q: i for i, q in enumerate(quarters)}
    rows = []
    for workstream in workstreams:
        bars: list[TimelineBar] = []
        lane_ends: list[int] = []
        for milestone in sorted(workstream.milestones.all(), key=lambda m: (m.starts_on, m.order)):
            start = index[Quarter.of(milestone.starts_on)]
            end = index[Quarter.of(milestone.ends_on)]
            lane = next((i for i, e in enumerate(lane_ends) if e < start), len(lane_ends))
            if lane == len(lane_ends):
                lane_ends.append(end)
            else:
                lane_ends[lane] = end
            bars.append(TimelineBar(milestone, start, end - start + 1, lane))
        rows.append(TimelineRow(workstream, bars, max(1, len(lane_ends))))
    return Timeline(quarters=quarters, rows=rows)


PUBLIC_MAP_KINDS = (GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT, GeographyKind.COUNCIL_DISTRICT)


def geography_list_public(strategy: Strategy, kind: str) -> QuerySet[Geography]:
    """District outlines for public maps. Block-group attributes stay out of public lists."""
    return Geography.objects.filter(city_id=strategy.city_id, kind=kind).defer("attributes")


def geography_feature_collection(strategy: Strategy, kind: str) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": g.geometry,
                "properties": {"code": g.code, "name": g.name, "kind": g.kind},
            }
            for g in geography_list_public(strategy, kind)
        ],
    }


def city_population(strategy: Strategy) -> Geography | None:
    return Geography.objects.filter(city_id=strategy.city_id, kind=GeographyKind.CITY).first()


def geography_containing(strategy: Strategy, kind: str, lon: float, lat: float) -> Geography | None:
    """The area of `kind` that contains the point, or None (outside every one)."""
    from shapely.geometry import Point, shape

    point = Point(lon, lat)
    for geography in Geography.objects.filter(city_id=strategy.city_id, kind=kind):
        if geography.geometry and shape(geography.geometry).covers(point):
            return geography
    return None
