from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from csas.progress.models import ActionMilestone, ActionUpdate, ReportingPeriod, UpdateEvent
from csas.progress.selectors import actions_stale, update_latest_published, updates_for_owner
from csas.progress.services import (
    update_approve,
    update_return,
    update_review,
    update_save_draft,
    update_submit,
)
from csas.strategy.models import Action, StrategyVersion
from tests.conftest import make_user


@pytest.fixture
def period(published_version: StrategyVersion) -> ReportingPeriod:
    return ReportingPeriod.objects.create(
        strategy=published_version.strategy,
        label="2026 Q1",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 3, 31),
        due_on=dt.date(2026, 4, 15),
    )


def _draft(action: Action, period: ReportingPeriod, author: Any) -> ActionUpdate:
    return update_save_draft(
        action=action,
        period=period,
        author=author,
        status="on_track",
        narrative="Pilot scoped with partners.",
    )


def test_an_update_moves_from_draft_to_published_with_every_step_recorded(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    author = user_for("department_editor")
    colleague = make_user("department_editor", username="tpd-colleague")
    office = user_for("strategy_staff")
    milestone = ActionMilestone.objects.create(
        action=tpd_action, title="Pilot design", planned_end=dt.date(2026, 6, 30)
    )
    update = update_save_draft(
        action=tpd_action,
        period=period,
        author=author,
        status="on_track",
        narrative="Design under way.",
        milestone_progress={str(milestone.pk): 40},
    )
    assert update_latest_published(tpd_action) is None
    update_submit(update=update, by=author)
    update_review(update=update, by=colleague)
    update_approve(update=update, by=office)
    update.refresh_from_db()
    assert update.state == "published"
    assert update.published_at is not None
    assert update_latest_published(tpd_action) == update
    milestone.refresh_from_db()
    assert milestone.percent_complete == 40
    assert [(e.from_state, e.to_state) for e in UpdateEvent.objects.filter(update=update)] == [
        ("draft", "department_review"),
        ("department_review", "office_approval"),
        ("office_approval", "published"),
    ]


def test_a_department_editor_cannot_approve_their_own_update(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    author = user_for("department_editor")
    update = _draft(tpd_action, period, author)
    update_submit(update=update, by=author)
    with pytest.raises(PermissionDenied, match="Nobody reviews their own update"):
        update_review(update=update, by=author)


def test_staff_cannot_approve_an_update_they_wrote(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    office = user_for("strategy_staff")
    update = _draft(tpd_action, period, office)
    update_submit(update=update, by=office)
    update_review(update=update, by=user_for("department_editor"))
    with pytest.raises(PermissionDenied, match="Nobody approves their own update"):
        update_approve(update=update, by=office)
    assert ActionUpdate.objects.get(pk=update.pk).state == "office_approval"


def test_another_departments_editor_cannot_write_or_review(
    tpd_action: Action, tfd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    editor = user_for("department_editor")  # Tacoma Police Department
    with pytest.raises(PermissionDenied):
        _draft(tfd_action, period, editor)
    office_author = user_for("strategy_staff")
    update = _draft(tfd_action, period, office_author)
    update_submit(update=update, by=office_author)
    with pytest.raises(PermissionDenied):
        update_review(update=update, by=editor)


def test_a_partner_cannot_write_updates(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    with pytest.raises(PermissionDenied):
        _draft(tpd_action, period, user_for("partner"))


def test_a_returned_update_goes_back_to_draft_with_the_reason(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    author = user_for("department_editor")
    update = _draft(tpd_action, period, author)
    update_submit(update=update, by=author)
    with pytest.raises(ValidationError):
        update_return(update=update, by=user_for("strategy_staff"), comment="  ")
    update_return(update=update, by=user_for("strategy_staff"), comment="Add the budget figure.")
    update.refresh_from_db()
    assert update.state == "draft"
    assert update.events.last().comment == "Add the budget figure."
    assert updates_for_owner(author).filter(pk=update.pk).exists()


def test_updates_in_review_cannot_be_edited_and_states_cannot_be_skipped(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    author = user_for("department_editor")
    update = _draft(tpd_action, period, author)
    with pytest.raises(ValidationError):
        update_approve(update=update, by=user_for("strategy_staff"))
    update_submit(update=update, by=author)
    with pytest.raises(ValidationError, match="can no longer be edited"):
        _draft(tpd_action, period, author)


def test_milestone_progress_must_name_this_actions_milestones(
    tpd_action: Action, tfd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    other = ActionMilestone.objects.create(
        action=tfd_action, title="x", planned_end=dt.date(2026, 1, 1)
    )
    with pytest.raises(ValidationError, match="is not this action's"):
        update_save_draft(
            action=tpd_action,
            period=period,
            author=user_for("strategy_staff"),
            status="on_track",
            narrative="x",
            milestone_progress={str(other.pk): 10},
        )


def test_actions_without_a_published_update_in_90_days_are_stale(
    tpd_action: Action, period: ReportingPeriod, user_for: Any, published_version: StrategyVersion
) -> None:
    assert len(actions_stale(published_version)) == published_version.actions.count()
    author = user_for("department_editor")
    update = _draft(tpd_action, period, author)
    update_submit(update=update, by=author)
    update_review(update=update, by=user_for("strategy_staff"))
    update_approve(update=update, by=make_user("admin", username="boss"))
    stale = actions_stale(published_version)
    assert tpd_action not in [s.action for s in stale]
    later = timezone.localdate() + dt.timedelta(days=91)
    assert tpd_action in [s.action for s in actions_stale(published_version, today=later)]


def test_owners_with_missing_or_draft_updates_get_one_reminder_each(
    tpd_action: Action, tfd_action: Action, period: ReportingPeriod, user_for: Any, mailoutbox: Any
) -> None:
    from csas.progress.models import ActionOwner
    from csas.progress.services import reminders_send

    owner = make_user("department_editor", username="owner")
    owner.email = "owner@example.org"
    owner.save()
    ActionOwner.objects.create(action=tpd_action, user=owner)
    ActionOwner.objects.create(action=tfd_action, user=owner)
    lines = reminders_send(today=dt.date(2026, 2, 1))
    assert len(lines) == 1
    assert len(mailoutbox) == 1
    assert "3.6" in mailoutbox[0].body
    assert "3.2" in mailoutbox[0].body
    update = _draft(tpd_action, period, owner)
    update_submit(update=update, by=owner)
    mailoutbox.clear()
    reminders_send(today=dt.date(2026, 2, 1))
    assert "3.6" not in mailoutbox[0].body
    assert reminders_send(today=dt.date(2026, 6, 1)) == []  # no open period


def _publish(action: Action, period: ReportingPeriod, status: str, author: Any) -> ActionUpdate:
    update = update_save_draft(
        action=action, period=period, author=author, status=status, narrative=f"{status}."
    )
    update_submit(update=update, by=author)
    update_review(update=update, by=make_user("department_editor", username=f"rev-{period.pk}"))
    update_approve(update=update, by=make_user("strategy_staff", username=f"app-{period.pk}"))
    return update


@pytest.mark.parametrize(
    ("before", "said", "after"),
    [
        ("not_started", "at_risk", "in_progress"),
        ("not_started", "on_track", "in_progress"),
        ("deferred", "off_track", "in_progress"),
        ("ongoing", "on_track", "ongoing"),
        ("in_progress", "complete", "complete"),
        ("in_progress", "deferred", "deferred"),
        ("in_progress", "not_started", "in_progress"),
    ],
)
def test_a_published_update_moves_the_actions_stage(
    tpd_action: Action,
    period: ReportingPeriod,
    user_for: Any,
    before: str,
    said: str,
    after: str,
) -> None:
    Action.objects.filter(pk=tpd_action.pk).update(status=before)
    tpd_action.refresh_from_db()
    _publish(tpd_action, period, said, user_for("department_editor"))
    tpd_action.refresh_from_db()
    assert tpd_action.status == after
    if before != after:
        assert tpd_action.history.first().history_user.username == f"app-{period.pk}"


def test_an_update_for_an_earlier_period_approved_late_leaves_the_stage(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    later = ReportingPeriod.objects.create(
        strategy=period.strategy,
        label="2026 Q2",
        starts_on=dt.date(2026, 4, 1),
        ends_on=dt.date(2026, 6, 30),
        due_on=dt.date(2026, 7, 15),
    )
    author = user_for("department_editor")
    _publish(tpd_action, later, "complete", author)
    _publish(tpd_action, period, "at_risk", author)
    tpd_action.refresh_from_db()
    assert tpd_action.status == "complete"


def test_loading_the_strategy_file_again_keeps_the_stage_updates_set(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    from pathlib import Path

    from csas.strategy.services import strategy_load_file

    tacoma = Path(__file__).resolve().parents[2] / "src/csas/data/strategies/tacoma.yaml"
    _publish(tpd_action, period, "at_risk", user_for("department_editor"))
    strategy_load_file(path=tacoma)
    tpd_action.refresh_from_db()
    assert tpd_action.status == "in_progress"
