"""Writes for implementation tracking: quarterly updates through review to publication.

The workflow: an owner (or an editor of the lead department) drafts an update and submits it;
a department editor other than the author reviews it; the strategy office approves it, which
publishes it. Anyone reviewing may return it to draft with a comment. Nobody approves their
own update, at any step. Every move is recorded as an `UpdateEvent`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from csas.accounts.models import Role
from csas.progress.models import (
    ActionMilestone,
    ActionOwner,
    ActionUpdate,
    ReportingPeriod,
    UpdateEvent,
    UpdateState,
    UpdateStatus,
)
from csas.strategy.models import Action, ActionStatus
from csas.strategy.rules import is_strategy_office


def can_write_update(user: Any, action: Action) -> bool:
    """Owners of the action, editors of its lead department, and the strategy office."""
    if not (user.is_authenticated and user.is_active):
        return False
    if is_strategy_office(user):
        return True
    if ActionOwner.objects.filter(action=action, user=user).exists():
        return True
    return bool(
        user.role == Role.DEPARTMENT_EDITOR
        and action.lead_department_id is not None
        and action.lead_department_id == user.department_id
    )


def _move(update: ActionUpdate, *, to: str, by: Any, comment: str = "") -> ActionUpdate:
    UpdateEvent.objects.create(
        update=update, from_state=update.state, to_state=to, by=by, comment=comment
    )
    update.state = to
    update._history_user = by  # type: ignore[attr-defined]
    update.full_clean()
    update.save()
    return update


@transaction.atomic
def update_save_draft(
    *,
    action: Action,
    period: ReportingPeriod,
    author: Any,
    status: str,
    narrative: str,
    milestone_progress: dict[str, int] | None = None,
) -> ActionUpdate:
    """Create or edit the draft update of `action` for `period`."""
    if not can_write_update(author, action):
        raise PermissionDenied
    progress = {str(key): int(value) for key, value in (milestone_progress or {}).items()}
    milestone_ids = {
        str(pk) for pk in ActionMilestone.objects.filter(action=action).values_list("pk", flat=True)
    }
    for key, value in progress.items():
        if key not in milestone_ids:
            raise ValidationError({"milestone_progress": f"milestone {key} is not this action's"})
        if not 0 <= value <= 100:
            raise ValidationError({"milestone_progress": "percent complete must be 0 to 100"})
    update = ActionUpdate.objects.filter(action=action, period=period).first()
    if update is not None and update.state != UpdateState.DRAFT:
        raise ValidationError("This update is in review or published; it can no longer be edited.")
    if update is None:
        update = ActionUpdate(action=action, period=period, author=author)
    update.status = status
    update.narrative = narrative
    update.milestone_progress = progress
    update._history_user = author  # type: ignore[attr-defined]
    update.full_clean()
    update.save()
    return update


@transaction.atomic
def update_submit(*, update: ActionUpdate, by: Any) -> ActionUpdate:
    if update.state != UpdateState.DRAFT:
        raise ValidationError("Only a draft can be submitted.")
    if not can_write_update(by, update.action):
        raise PermissionDenied
    update.submitted_at = timezone.now()
    return _move(update, to=UpdateState.DEPARTMENT_REVIEW, by=by)


@transaction.atomic
def update_review(*, update: ActionUpdate, by: Any) -> ActionUpdate:
    """Department review passed: the update goes to the strategy office."""
    if update.state != UpdateState.DEPARTMENT_REVIEW:
        raise ValidationError("This update is not waiting for department review.")
    if by.pk == update.author_id:
        raise PermissionDenied("Nobody reviews their own update.")
    department_editor = (
        by.role == Role.DEPARTMENT_EDITOR and by.department_id == update.action.lead_department_id
    )
    if not (department_editor or is_strategy_office(by)):
        raise PermissionDenied
    update.reviewed_by = by
    return _move(update, to=UpdateState.OFFICE_APPROVAL, by=by)


@transaction.atomic
def update_approve(*, update: ActionUpdate, by: Any) -> ActionUpdate:
    """The strategy office approves, which publishes the update."""
    if update.state != UpdateState.OFFICE_APPROVAL:
        raise ValidationError("This update is not waiting for the strategy office.")
    if by.pk == update.author_id:
        raise PermissionDenied("Nobody approves their own update.")
    if not is_strategy_office(by):
        raise PermissionDenied
    update.approved_by = by
    update.published_at = timezone.now()
    for key, percent in update.milestone_progress.items():
        ActionMilestone.objects.filter(pk=int(key), action=update.action).update(
            percent_complete=percent
        )
    published = _move(update, to=UpdateState.PUBLISHED, by=by)
    _action_status_follows(published, by=by)
    return published


# What a published update says of the work -> the action's stage it implies. An update that
# says the work is under way moves a not-started (or deferred) action to "in progress"; an
# ongoing action stays ongoing. "Not started" changes nothing.
_UNDER_WAY = {UpdateStatus.ON_TRACK, UpdateStatus.AT_RISK, UpdateStatus.OFF_TRACK}


def _action_status_follows(update: ActionUpdate, *, by: Any) -> None:
    """Keep the action's public stage in step with its latest published update, so the page
    never says "Not started" above an update that says "At risk". An update for an earlier
    period than one already published changes nothing."""
    later = (
        ActionUpdate.objects.filter(
            action_id=update.action_id,
            state=UpdateState.PUBLISHED,
            period__ends_on__gt=update.period.ends_on,
        )
        .exclude(pk=update.pk)
        .exists()
    )
    if later:
        return
    action = update.action
    stage = action.status
    if update.status == UpdateStatus.COMPLETE:
        stage = ActionStatus.COMPLETE
    elif update.status == UpdateStatus.DEFERRED:
        stage = ActionStatus.DEFERRED
    elif update.status in _UNDER_WAY and action.status != ActionStatus.ONGOING:
        stage = ActionStatus.IN_PROGRESS
    if stage != action.status:
        action.status = stage
        action._history_user = by  # type: ignore[attr-defined]
        action.save(update_fields=["status"])


@transaction.atomic
def update_return(*, update: ActionUpdate, by: Any, comment: str) -> ActionUpdate:
    """Send an update in review back to its author, saying why."""
    if update.state not in {UpdateState.DEPARTMENT_REVIEW, UpdateState.OFFICE_APPROVAL}:
        raise ValidationError("Only an update in review can be returned.")
    if not comment.strip():
        raise ValidationError("Say what needs to change.")
    allowed = is_strategy_office(by) or (
        by.role == Role.DEPARTMENT_EDITOR and by.department_id == update.action.lead_department_id
    )
    if not allowed:
        raise PermissionDenied
    return _move(update, to=UpdateState.DRAFT, by=by, comment=comment)


def reminders_send(*, today: Any = None, dry_run: bool = False) -> list[str]:
    """Remind owners of actions whose update for the open period is missing or a draft.

    The open period is the one whose dates contain `today`. One e-mail per person, listing
    their actions. Returns one line per reminder (address and actions) for the log.
    """
    from django.conf import settings
    from django.core.mail import send_mail

    from csas.progress.models import ReportingPeriod

    today = today or timezone.localdate()
    lines: list[str] = []
    for period in ReportingPeriod.objects.filter(starts_on__lte=today, due_on__gte=today):
        done = set(
            ActionUpdate.objects.filter(period=period)
            .exclude(state=UpdateState.DRAFT)
            .values_list("action_id", flat=True)
        )
        pending: dict[Any, list[str]] = {}
        for owner in ActionOwner.objects.filter(
            action__version__strategy=period.strategy, action__version__is_published=True
        ).select_related("user", "action"):
            if owner.action_id in done or not owner.user.email:
                continue
            pending.setdefault(owner.user, []).append(f"{owner.action.code} {owner.action.title}")
        for user, actions in pending.items():
            lines.append(f"{user.email}: {period.label}: {', '.join(actions)}")
            if dry_run:
                continue
            send_mail(
                subject=f"Quarterly update due {period.due_on:%Y-%m-%d}: {period.label}",
                message=(
                    "Your update for these actions is not yet sent for review:\n\n"
                    + "\n".join(f"- {a}" for a in actions)
                    + "\n\nWrite it in the back office under My quarterly updates."
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[user.email],
            )
    return lines
