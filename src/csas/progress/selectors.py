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
    """Per goal: actions by their latest published status, stale ones, milestones on time.

    A constant number of queries however many actions and updates there are: the latest
    status and last publication of each action come from subqueries, milestones are counted
    in SQL."""
    from collections import Counter

    from django.db.models import Count, F, OuterRef, Q, Subquery

    from csas.progress.models import ActionMilestone

    today = today or timezone.localdate()
    published = ActionUpdate.objects.filter(
        action=OuterRef("pk"), state=UpdateState.PUBLISHED
    ).order_by()
    actions = list(
        Action.objects.filter(version=version)
        .annotate(
            latest_status=Subquery(published.order_by("-period__starts_on").values("status")[:1]),
            last_published=Subquery(
                published.values("action").annotate(last=Max("published_at")).values("last")
            ),
        )
        .order_by("goal__number", "order", "code")
    )
    milestones = {
        row["action__goal_id"]: row
        for row in ActionMilestone.objects.filter(action__version=version, planned_end__lte=today)
        .order_by()
        .values("action__goal_id")
        .annotate(
            due=Count("pk"),
            on_time=Count(
                "pk", filter=Q(actual_end__isnull=False, actual_end__lte=F("planned_end"))
            ),
        )
    }
    rows = []
    for goal in version.goals.order_by("number"):
        goal_actions = [a for a in actions if a.goal_id == goal.pk]
        statuses = Counter(a.latest_status or "no_update" for a in goal_actions)
        counted = milestones.get(goal.pk, {"due": 0, "on_time": 0})
        rows.append(
            {
                "goal": goal,
                "actions": len(goal_actions),
                "statuses": dict(statuses),
                "stale": [
                    a for a in goal_actions if _is_stale(a.last_published, today, STALE_AFTER_DAYS)
                ],
                "milestones_due": counted["due"],
                "milestones_on_time": counted["on_time"],
            }
        )
    return rows


def latest_published_statuses(actions: list[Action]) -> dict[int, str]:
    """Each action's status in its latest published update (by period), in one query; actions
    without a published update are absent."""
    from django.db.models import OuterRef, Subquery

    latest = (
        ActionUpdate.objects.filter(action=OuterRef("pk"), state=UpdateState.PUBLISHED)
        .order_by("-period__starts_on")
        .values("status")[:1]
    )
    rows = (
        Action.objects.filter(pk__in=[action.pk for action in actions])
        .annotate(latest_status=Subquery(latest))
        .filter(latest_status__isnull=False)
        .values_list("pk", "latest_status")
    )
    return {pk: str(status) for pk, status in rows}


def _is_stale(last_published: dt.datetime | None, today: dt.date, after_days: int) -> bool:
    """No published update, or the last one more than `after_days` days before `today`."""
    return last_published is None or (today - timezone.localdate(last_published)).days > after_days


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
    indicators' targets, newest first. Built from the edit history; drafts never appear.

    Each edit is compared with the record before it; those previous records are found for
    the whole page in one subquery and loaded in one more query (two queries per kind of
    content, however many edits are listed)."""
    from django.db.models import OuterRef, Subquery

    from csas.progress.models import Indicator
    from csas.strategy.models import Goal

    sources: list[tuple[str, Any, Any, str, Any]] = [
        (
            "Goal",
            Goal.history,
            Goal.history.filter(version_id=version.pk),
            "number",
            lambda r: f"Goal {r.number}",
        ),
        (
            "Action",
            Action.history,
            Action.history.filter(version_id=version.pk),
            "code",
            lambda r: f"Action {r.code}",
        ),
        (
            "Indicator",
            Indicator.history,
            Indicator.history.filter(strategy_id=version.strategy_id, is_public=True),
            "name",
            lambda r: r.name,
        ),
    ]
    changes: list[Change] = []
    for model, every_record, history, label_field, label in sources:
        fields = CHANGELOG_FIELDS[model]
        # Only what is labelled and compared is read (not descriptions of unchanged fields).
        shown = ("id", "history_id", "history_date", "history_type", label_field, *fields)
        # What simple_history's `prev_record` answers, for every listed record at once: the
        # same object's latest record strictly before this one (whatever its version or
        # visibility then).
        previous_id = Subquery(
            every_record.filter(id=OuterRef("id"), history_date__lt=OuterRef("history_date"))
            .order_by("-history_date")
            .values("history_id")[:1]
        )
        records = list(
            history.only(*shown)
            .annotate(previous_id=previous_id)
            .order_by("-history_date")[: limit * 2]
        )
        wanted = [r.previous_id for r in records if r.history_type == "~" and r.previous_id]
        previous = {
            r.history_id: r for r in every_record.only(*shown).filter(history_id__in=wanted)
        }
        for record in records:
            what = label(record)
            if record.history_type == "+":
                changes.append(Change(record.history_date, what, "created", "", "", ""))
            elif record.history_type == "-":
                changes.append(Change(record.history_date, what, "deleted", "", "", ""))
            else:
                before = previous.get(record.previous_id)
                if before is None:
                    continue
                delta = record.diff_against(before, included_fields=list(fields))
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
