"""Reads for implementation tracking; the public sees published updates only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, QuerySet
from django.utils import timezone

from csas.progress.models import ActionUpdate, UpdateState
from csas.strategy.models import Action, StrategyVersion

STALE_AFTER_DAYS = 90


def update_latest_published(action: Action) -> ActionUpdate | None:
    return (
        ActionUpdate.objects.filter(action=action, state=UpdateState.PUBLISHED)
        .select_related("period")
        .order_by("-period__starts_on")
        .first()
    )


def updates_for_owner(user: Any) -> QuerySet[ActionUpdate]:
    """The "My updates" queue: this person's drafts and updates waiting for them."""
    from django.db.models import Q

    from csas.accounts.models import Role

    mine = Q(author=user) | Q(action__owners__user=user)
    if getattr(user, "role", "") == Role.DEPARTMENT_EDITOR and user.department_id:
        mine |= Q(
            action__lead_department_id=user.department_id, state=UpdateState.DEPARTMENT_REVIEW
        )
    return (
        ActionUpdate.objects.filter(mine)
        .exclude(state=UpdateState.PUBLISHED)
        .select_related("action", "period")
        .distinct()
        .order_by("period__starts_on")
    )


@dataclass(frozen=True)
class StaleAction:
    action: Action
    last_published: dt.datetime | None
    days_since: int | None


def actions_stale(
    version: StrategyVersion, *, today: dt.date | None = None, after_days: int = STALE_AFTER_DAYS
) -> list[StaleAction]:
    """Actions with no published update in the last `after_days` days (or never)."""
    today = today or timezone.localdate()
    latest = dict(
        ActionUpdate.objects.filter(action__version=version, state=UpdateState.PUBLISHED)
        .values("action")
        .annotate(last=Max("published_at"))
        .values_list("action", "last")
    )
    stale = []
    for action in version.actions.select_related("goal").order_by("goal__number", "order"):
        last = latest.get(action.pk)
        days = (today - timezone.localdate(last)).days if last else None
        if days is None or days > after_days:
            stale.append(StaleAction(action, last, days))
    return stale


def action_implementation(action: Action) -> dict[str, Any]:
    """What the public action page shows about implementation (published data only)."""
    from csas.progress.models import ActionMilestone, CouncilAction, Evidence, FundingLine

    latest = update_latest_published(action)
    funding = list(FundingLine.objects.filter(action=action))
    return {
        "latest_update": latest,
        "milestones": list(ActionMilestone.objects.filter(action=action)),
        "funding": funding,
        "funding_total": sum((line.amount for line in funding), start=0),
        "council_actions": list(CouncilAction.objects.filter(action=action)),
        "evidence": list(
            Evidence.objects.filter(action=action).filter(update__isnull=True)
            | Evidence.objects.filter(action=action, update__state=UpdateState.PUBLISHED)
        ),
    }


def progress_overview(
    version: StrategyVersion, *, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """Per goal: actions by their latest published status, stale ones, milestones on time."""
    from collections import Counter

    from csas.progress.models import ActionMilestone

    today = today or timezone.localdate()
    stale = {item.action.pk for item in actions_stale(version, today=today)}
    latest_status: dict[int, str] = {}
    for update in ActionUpdate.objects.filter(
        action__version=version, state=UpdateState.PUBLISHED
    ).order_by("action", "period__starts_on"):
        latest_status[update.action_id] = update.status
    milestones = list(
        ActionMilestone.objects.filter(action__version=version).select_related("action")
    )
    rows = []
    for goal in version.goals.prefetch_related("actions").order_by("number"):
        actions = list(goal.actions.all())
        statuses = Counter(latest_status.get(a.pk, "no_update") for a in actions)
        goal_milestones = [m for m in milestones if m.action.goal_id == goal.pk]
        due = [m for m in goal_milestones if m.planned_end <= today]
        on_time = [m for m in due if m.actual_end is not None and m.actual_end <= m.planned_end]
        rows.append(
            {
                "goal": goal,
                "actions": len(actions),
                "statuses": dict(statuses),
                "stale": [a for a in actions if a.pk in stale],
                "milestones_due": len(due),
                "milestones_on_time": len(on_time),
            }
        )
    return rows


def actions_writable(user: Any) -> QuerySet[Action]:
    """Published-version actions this person may write updates for."""
    from django.db.models import Q

    from csas.accounts.models import Role
    from csas.strategy.rules import is_strategy_office

    actions = (
        Action.objects.filter(version__is_published=True)
        .select_related("goal", "lead_department")
        .order_by("goal__number", "order")
    )
    if is_strategy_office(user):
        return actions
    allowed = Q(owners__user=user)
    if getattr(user, "role", "") == Role.DEPARTMENT_EDITOR and user.department_id:
        allowed |= Q(lead_department_id=user.department_id)
    return actions.filter(allowed).distinct()


@dataclass(frozen=True)
class Change:
    when: dt.datetime
    what: str
    kind: str  # "created", "changed" or "deleted"
    field: str
    old: str
    new: str


CHANGELOG_FIELDS = {
    "Goal": ("title", "statement", "short_name"),
    "Action": ("title", "description", "status", "horizon", "code"),
    "Indicator": ("name", "target_value", "target_year", "baseline_value", "direction"),
}


def public_changelog(version: StrategyVersion, *, limit: int = 200) -> list[Change]:
    """Every recorded change to the published version's goals and actions and to public
    indicators' targets, newest first. Built from the edit history; drafts never appear."""
    from csas.progress.models import Indicator
    from csas.strategy.models import Goal

    sources: list[tuple[str, Any, Any]] = [
        ("Goal", Goal.history.filter(version_id=version.pk), lambda r: f"Goal {r.number}"),
        ("Action", Action.history.filter(version_id=version.pk), lambda r: f"Action {r.code}"),
        (
            "Indicator",
            Indicator.history.filter(strategy_id=version.strategy_id, is_public=True),
            lambda r: r.name,
        ),
    ]
    changes: list[Change] = []
    for model, history, label in sources:
        fields = CHANGELOG_FIELDS[model]
        for record in history.order_by("-history_date")[: limit * 2]:
            what = label(record)
            if record.history_type == "+":
                changes.append(Change(record.history_date, what, "created", "", "", ""))
            elif record.history_type == "-":
                changes.append(Change(record.history_date, what, "deleted", "", "", ""))
            else:
                previous = record.prev_record
                if previous is None:
                    continue
                delta = record.diff_against(previous, included_fields=list(fields))
                for change in delta.changes:
                    changes.append(
                        Change(
                            record.history_date,
                            what,
                            "changed",
                            change.field,
                            "" if change.old is None else str(change.old),
                            "" if change.new is None else str(change.new),
                        )
                    )
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes[:limit]
