"""Reads behind the public API: published content only, in a fixed number of queries."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from csas.progress.models import (
    ActionUpdate,
    Evidence,
    Indicator,
    Observation,
    UpdateState,
)
from csas.strategy.models import Action, ActionPartner, StrategyVersion


def action_list_public(version: StrategyVersion) -> QuerySet[Action]:
    return (
        Action.objects.filter(version=version)
        .select_related("goal", "lead_department")
        .order_by("goal__number", "order", "pk")
    )


def action_get_public_detail(version: StrategyVersion, slug: str) -> Action:
    """One action of the published version with its published implementation record.

    Evidence attached to an update shows only once that update is published; updates show
    only when published. Everything is prefetched: the query count does not grow with rows.
    """
    action = (
        action_list_public(version)
        .prefetch_related(
            "supporting_departments",
            "implementation_milestones",
            "funding_lines",
            "council_actions",
            Prefetch(
                "partner_roles",
                queryset=ActionPartner.objects.select_related("partner"),
            ),
            Prefetch(
                "evidence",
                queryset=Evidence.objects.filter(
                    Q(update__isnull=True) | Q(update__state=UpdateState.PUBLISHED)
                ).only("action_id", "title", "url", "added_at"),
                to_attr="public_evidence",
            ),
            Prefetch(
                "updates",
                queryset=ActionUpdate.objects.filter(state=UpdateState.PUBLISHED)
                .select_related("period")
                .order_by("-period__starts_on"),
                to_attr="published_updates",
            ),
            Prefetch(
                "indicators",
                queryset=Indicator.objects.filter(is_public=True).order_by("name"),
                to_attr="public_indicators",
            ),
        )
        .filter(slug=slug)
        .first()
    )
    if action is None:
        raise Http404("No such action.")
    return action


def update_list_public(version: StrategyVersion) -> QuerySet[ActionUpdate]:
    return (
        ActionUpdate.objects.filter(action__version=version, state=UpdateState.PUBLISHED)
        .select_related("action", "period")
        .order_by("-period__starts_on", "action__code", "pk")
    )


def indicator_get_public(version: StrategyVersion, slug: str) -> Indicator:
    indicator = Indicator.objects.filter(
        strategy_id=version.strategy_id, slug=slug, is_public=True
    ).first()
    if indicator is None:
        raise Http404("No such indicator.")
    return indicator


def observation_list_public(indicator: Indicator) -> QuerySet[Observation]:
    return Observation.objects.filter(indicator=indicator).order_by(
        "period_start", "period_end", "dimension", "group", "pk"
    )
