from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.test import Client

from csas.progress.models import ActionMilestone, FundingLine, ReportingPeriod
from csas.progress.services import update_approve, update_review, update_save_draft, update_submit
from csas.strategy.models import Action, StrategyVersion
from tests.conftest import make_user


def _publish(action: Action, user_for: Any, narrative: str, status: str = "on_track") -> None:
    period, _created = ReportingPeriod.objects.get_or_create(
        strategy=action.version.strategy,
        label="2026 Q1",
        defaults={
            "starts_on": dt.date(2026, 1, 1),
            "ends_on": dt.date(2026, 3, 31),
            "due_on": dt.date(2026, 4, 15),
        },
    )
    author = user_for("department_editor")
    update = update_save_draft(
        action=action, period=period, author=author, status=status, narrative=narrative
    )
    update_submit(update=update, by=author)
    update_review(update=update, by=user_for("strategy_staff"))
    update_approve(update=update, by=make_user("admin", username="approver"))


def test_the_action_page_shows_the_latest_published_update_and_funding(
    tpd_action: Action, user_for: Any
) -> None:
    ActionMilestone.objects.create(
        action=tpd_action,
        title="Pilot launched",
        planned_end=dt.date(2026, 9, 30),
        percent_complete=25,
    )
    FundingLine.objects.create(
        action=tpd_action,
        source="BJA grant",
        amount=Decimal("963000"),
        status="funded",
        fiscal_year="2025",
    )
    body = Client().get("/actions/3-6/").content.decode()
    assert "No progress update has been published for this action yet." in body
    _publish(tpd_action, user_for, "Community service officers answered 770 calls.")
    body = Client().get("/actions/3-6/").content.decode()
    assert "Community service officers answered 770 calls." in body
    assert "On track" in body
    assert "Pilot launched" in body
    assert "$963,000" in body


def test_a_draft_update_never_reaches_the_public(tpd_action: Action, user_for: Any) -> None:
    period = ReportingPeriod.objects.create(
        strategy=tpd_action.version.strategy,
        label="2026 Q2",
        starts_on=dt.date(2026, 4, 1),
        ends_on=dt.date(2026, 6, 30),
        due_on=dt.date(2026, 7, 15),
    )
    update_save_draft(
        action=tpd_action,
        period=period,
        author=user_for("department_editor"),
        status="at_risk",
        narrative="Secret draft wording",
    )
    assert "Secret draft wording" not in Client().get("/actions/3-6/").content.decode()


def test_the_progress_overview_counts_statuses_and_stale_actions_per_goal(
    tpd_action: Action, user_for: Any, published_version: StrategyVersion
) -> None:
    _publish(tpd_action, user_for, "Going well.")
    body = Client().get("/progress/").content.decode()
    assert "Actions by status, per goal" in body
    goal3 = body[body.index("Effective RESPONSE with Respect and Care") :]
    row = goal3[: goal3.index("</tr>")]
    # 7 actions in goal 3: one on track, six with no update yet and so not updated recently
    assert "<td>7</td><td>1</td><td>0</td><td>0</td><td>0</td><td>6</td><td>6</td>" in row
    assert "none due yet" in row  # no milestone is due: no "0 / 0"


def test_a_goal_without_actions_says_so_instead_of_a_row_of_zeros(
    client: Client, published_version: StrategyVersion
) -> None:
    body = client.get("/progress/").content.decode()
    empty = [goal for goal in published_version.goals.all() if not goal.actions.exists()]
    assert empty  # Tacoma's deck lists no actions under goal 2
    start = body.index(f"/goals/{empty[0].number}/")
    row = body[start : body.index("</tr>", start)]
    assert "No actions under this goal yet" in row
    assert "<td>0</td><td>0</td>" not in row


def test_the_progress_page_lists_the_actions_not_updated_recently(
    client: Client, published_version: StrategyVersion
) -> None:
    body = client.get("/progress/").content.decode()
    # Nothing is published in this fixture: every action is listed, each without an update.
    listed = body.split('id="stale-heading"')[1]
    for action in published_version.actions.all():
        assert f"/actions/{action.slug}/" in listed
    assert listed.count("no published update yet") == published_version.actions.count()
    assert "Every action has a recent published update." not in body


def test_a_goal_page_groups_actions_by_objective_and_shows_their_latest_status(
    client: Client, tpd_action: Action, user_for: Any
) -> None:
    from csas.strategy.models import Objective

    objective = Objective.objects.create(goal=tpd_action.goal, code="3.A", title="Respond well")
    tpd_action.objective = objective
    tpd_action.save()
    _publish(tpd_action, user_for, "Pilot started.", status="at_risk")
    body = client.get(f"/goals/{tpd_action.goal.number}/").content.decode()
    heading = body.index("Objective 3.A: Respond well")
    link = body.index(f"/actions/{tpd_action.slug}/")
    assert heading < link
    item = body[link : body.index("</li>", link)]
    assert "Progress: At risk" in item
    others = tpd_action.goal.actions.exclude(pk=tpd_action.pk)
    assert body.count("No update yet") >= others.count()
