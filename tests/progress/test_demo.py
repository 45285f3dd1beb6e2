"""The made-up implementation data of `csas demo`: real workflow, clearly marked, idempotent."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from csas.accounts.models import Role, User
from csas.progress.demo import DemoUsers, Quarter, demo_implementation_load
from csas.progress.models import (
    ActionMilestone,
    ActionOwner,
    ActionUpdate,
    CouncilAction,
    FundingLine,
    Indicator,
    IndicatorFeed,
    Observation,
    ReportingPeriod,
    UpdateEvent,
    UpdateState,
)
from csas.strategy.models import Action, ActionPartner, Strategy
from tests.conftest import make_user

TODAY = dt.date(2026, 11, 27)


def _counts() -> dict[str, Any]:
    return {
        "users": User.objects.count(),
        "periods": ReportingPeriod.objects.count(),
        "owners": ActionOwner.objects.count(),
        "milestones": ActionMilestone.objects.count(),
        "funding": FundingLine.objects.count(),
        "council": CouncilAction.objects.count(),
        "indicators": Indicator.objects.count(),
        "indicator_links": Indicator.actions.through.objects.count(),
        "observations": Observation.objects.count(),
        "events": UpdateEvent.objects.count(),
        "updates": sorted(
            ActionUpdate.objects.values_list("action__slug", "period__label", "state")
        ),
        "led": sorted(Action.objects.filter(lead_department__isnull=False).values_list("slug")),
        "partner_roles": sorted(
            ActionPartner.objects.values_list("action__slug", "partner__slug", "role")
        ),
    }


@pytest.fixture
def demo_users(db: Any) -> DemoUsers:
    return DemoUsers(
        editor=make_user(Role.DEPARTMENT_EDITOR, username="demo-editor"),
        reviewer=make_user(Role.DEPARTMENT_EDITOR, username="demo-reviewer"),
        office=make_user(Role.STRATEGY_STAFF, username="demo-office"),
    )


@pytest.fixture
def tacoma(db: Any) -> Strategy:
    return Strategy.objects.get(slug="tacoma-csas")


def test_demo_setup_run_twice_leaves_the_same_rows(db: Any) -> None:
    first_output = StringIO()
    call_command("demo_setup", stdout=first_output)
    first = _counts()
    second_output = StringIO()
    call_command("demo_setup", stdout=second_output)
    assert _counts() == first
    assert first["updates"], "the demo wrote no updates"
    # The strategy file gives partners no roles; the demo's are labelled as made up.
    assert [(action, partner) for action, partner, _ in first["partner_roles"]] == [
        ("3-3", "tacoma-safety-collaborative"),
        ("3-6", "tacoma-ceasefire"),
    ]
    assert all(role.startswith("Demo: ") for _, _, role in first["partner_roles"])
    summary = [line for line in first_output.getvalue().splitlines() if "reporting periods" in line]
    assert summary == [
        line for line in second_output.getvalue().splitlines() if "reporting periods" in line
    ]
    assert "published" in summary[0]
    # The survey-fed indicator is computed from the demo's responses, by council district too
    # (the safety lab's gap index takes it as perceived safety).
    groups = set(
        Observation.objects.filter(
            indicator__feed=IndicatorFeed.SURVEY, dimension="council_district"
        ).values_list("group", flat=True)
    )
    assert {f"Council District {n}" for n in range(1, 6)} <= groups
    assert "feel-safe-neighbourhood-after-dark (survey): 0 created" in second_output.getvalue()


def test_demo_setup_creates_a_second_editor_of_the_department(db: Any) -> None:
    call_command("demo_setup", stdout=StringIO())
    editors = User.objects.filter(role=Role.DEPARTMENT_EDITOR, department__slug="tpd")
    assert set(editors.values_list("username", flat=True)) >= {
        "demo-tpd-editor",
        "demo-tpd-reviewer",
    }
    assert ActionOwner.objects.filter(user__username="demo-tpd-editor").count() >= 3


def test_demo_load_covers_the_quarters_from_adoption_to_today(
    tacoma: Strategy, demo_users: DemoUsers
) -> None:
    summary = demo_implementation_load(tacoma, users=demo_users, today=TODAY)
    periods = list(ReportingPeriod.objects.filter(strategy=tacoma))
    assert [p.label for p in periods] == ["2026 Q1", "2026 Q2", "2026 Q3", "2026 Q4"]
    assert periods[-1].due_on == dt.date(2027, 1, 15)
    assert all(p.due_on == p.ends_on + dt.timedelta(days=15) for p in periods)
    assert (summary.periods, summary.published, summary.in_review, summary.drafts) == (4, 15, 3, 1)
    assert summary.missing_actions == ()


def test_demo_load_leaves_the_current_quarter_in_progress(
    tacoma: Strategy, demo_users: DemoUsers
) -> None:
    demo_implementation_load(tacoma, users=demo_users, today=TODAY)
    current = ActionUpdate.objects.filter(period__label=Quarter.of(TODAY).label)
    states = set(current.values_list("state", flat=True))
    assert UpdateState.PUBLISHED not in states
    assert {UpdateState.DRAFT, UpdateState.DEPARTMENT_REVIEW} <= states
    earlier = ActionUpdate.objects.exclude(period__label=Quarter.of(TODAY).label)
    assert set(earlier.values_list("state", flat=True)) == {UpdateState.PUBLISHED}


def test_demo_updates_went_through_the_real_workflow(
    tacoma: Strategy, demo_users: DemoUsers
) -> None:
    demo_implementation_load(tacoma, users=demo_users, today=TODAY)
    for update in ActionUpdate.objects.filter(state=UpdateState.PUBLISHED):
        events = list(update.events.select_related("by"))
        assert events[-1].to_state == UpdateState.PUBLISHED
        assert events[-1].by == demo_users.office
        assert update.reviewed_by is not None
        assert update.reviewed_by != update.author
        assert update.approved_by == demo_users.office
    returned = UpdateEvent.objects.filter(to_state=UpdateState.DRAFT)
    assert returned.count() == 1
    assert returned.get().comment.startswith("Demo:")


def test_every_made_up_text_says_it_is_demo(tacoma: Strategy, demo_users: DemoUsers) -> None:
    demo_implementation_load(tacoma, users=demo_users, today=TODAY)
    assert all(u.narrative.startswith("Demo:") for u in ActionUpdate.objects.all())
    assert all(m.title.startswith("Demo:") for m in ActionMilestone.objects.all())
    assert all(f.source.startswith("Demo:") for f in FundingLine.objects.all())
    assert all("(demo)" in c.title for c in CouncilAction.objects.all())
    assert all("demo data" in o.note for o in Observation.objects.all())
    assert all("Demo:" in i.description for i in Indicator.objects.all())


def test_the_survey_indicator_is_configuration_only(
    tacoma: Strategy, demo_users: DemoUsers
) -> None:
    demo_implementation_load(tacoma, users=demo_users, today=TODAY)
    indicator = Indicator.objects.get(feed=IndicatorFeed.SURVEY)
    assert indicator.feed_config["question"] == "safety_neighbourhood_dark"
    assert indicator.feed_config["values"] == ["very_safe", "somewhat_safe"]
    assert not indicator.observations.exists()
    assert indicator.actions.exists()
    measure = Indicator.objects.get(feed=IndicatorFeed.MANUAL)
    # monthly, January to October 2026: every month that ended before TODAY
    assert measure.observations.count() == 10


def test_demo_load_again_in_a_later_quarter_moves_last_quarter_on(
    tacoma: Strategy, demo_users: DemoUsers
) -> None:
    demo_implementation_load(tacoma, users=demo_users, today=TODAY)
    summary = demo_implementation_load(tacoma, users=demo_users, today=dt.date(2027, 2, 3))
    assert summary.periods == 5
    assert not ActionUpdate.objects.filter(period__label="2026 Q4").exclude(
        state=UpdateState.PUBLISHED
    )
    assert ActionUpdate.objects.filter(period__label="2027 Q1").exists()


def test_demo_load_leaves_alone_an_update_someone_else_wrote(
    tacoma: Strategy, demo_users: DemoUsers
) -> None:
    from csas.progress.services import update_save_draft

    demo_implementation_load(tacoma, users=demo_users, today=TODAY)
    action = Action.objects.get(version__is_published=True, slug="3-5")
    visitor = make_user(Role.STRATEGY_STAFF, username="visitor")
    period = ReportingPeriod.objects.get(label="2026 Q4")
    update = update_save_draft(
        action=action, period=period, author=visitor, status="on_track", narrative="Mine."
    )
    demo_implementation_load(tacoma, users=demo_users, today=dt.date(2027, 2, 3))
    update.refresh_from_db()
    assert (update.state, update.narrative) == (UpdateState.DRAFT, "Mine.")
