from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from csas.engagement.models import Activity, DraftComment, FeedbackItem
from csas.strategy.models import Strategy, StrategyVersion


def test_a_draft_is_not_found_until_staff_open_it_for_comment(
    draft_version: StrategyVersion,
) -> None:
    assert Client().get(f"/review/{draft_version.key}/").status_code == 404
    draft_version.open_for_comment = True
    draft_version.save()
    page = Client().get(f"/review/{draft_version.key}/").content.decode()
    assert "Co-create Healthy PLACES and Neighborhoods" in page
    assert "This is a draft for review, not the adopted strategy." in page


def test_residents_and_committee_members_comment_section_by_section(
    draft_version: StrategyVersion, user_for: Any
) -> None:
    draft_version.open_for_comment = True
    draft_version.save()
    url = f"/review/{draft_version.key}/"
    assert Client().post(url, {"section": "goal:1", "text": "Add lighting"}).status_code == 302
    committee = Client()
    committee.force_login(user_for("partner"))
    committee.post(url, {"section": "action:3-6", "text": "Fund alternatives"})
    comments = DraftComment.objects.order_by("pk")
    assert [(c.section, c.from_advisory_committee) for c in comments] == [
        ("goal:1", False),
        ("action:3-6", True),
    ]
    assert FeedbackItem.objects.filter(source="draft_comment").count() == 2
    staff = Client()
    staff.force_login(user_for("strategy_staff"))
    dashboard = staff.get("/manage/engagement/").content.decode()
    assert "action:3-6" in dashboard
    assert "goal:1" in dashboard


def test_comments_on_unknown_sections_or_empty_comments_are_refused(
    draft_version: StrategyVersion,
) -> None:
    draft_version.open_for_comment = True
    draft_version.save()
    url = f"/review/{draft_version.key}/"
    assert Client().post(url, {"section": "goal:99", "text": "x"}).status_code == 404
    assert Client().post(url, {"section": "goal:1", "text": "  "}).status_code == 400
    assert Client().post(url, {"section": "vision", "text": "x" * 3001}).status_code == 400
    assert not DraftComment.objects.exists()


def test_public_calendar_lists_upcoming_public_activities_only(db: Any) -> None:
    strategy = Strategy.objects.get()
    soon = timezone.now() + dt.timedelta(days=7)
    Activity.objects.create(
        strategy=strategy,
        kind="workshop",
        title="Eastside visioning",
        starts_at=soon,
        is_public=True,
        staff_notes="secret staff note",
    )
    Activity.objects.create(
        strategy=strategy,
        kind="interview_lived",
        title="Private interview",
        starts_at=soon,
        is_public=False,
    )
    Activity.objects.create(
        strategy=strategy,
        kind="workshop",
        title="Past workshop",
        starts_at=soon - dt.timedelta(days=30),
        ends_at=soon - dt.timedelta(days=29),
        is_public=True,
    )
    page = Client().get("/surveys/").content.decode()
    assert "Eastside visioning" in page
    assert "Private interview" not in page
    assert "Past workshop" not in page
    assert "secret staff note" not in page


def test_the_dashboard_counts_activities_by_quarter_and_those_without_a_date(
    db: Any, user_for: Any
) -> None:
    from csas.engagement.selectors import activities_by_quarter

    strategy = Strategy.objects.get()
    for title, starts, reach in [
        ("Road show", dt.datetime(2026, 2, 3, 18, tzinfo=dt.UTC), 120),
        ("Workshop", dt.datetime(2026, 3, 9, 18, tzinfo=dt.UTC), 30),
        ("Mailer", None, 5000),
    ]:
        Activity.objects.create(
            strategy=strategy, kind="workshop", title=title, starts_at=starts, reach_count=reach
        )
    rows = activities_by_quarter(strategy)
    assert [(r["quarter"], r["activities"], r["reach"]) for r in rows] == [
        ("Q1 2026", 2, 150),
        (None, 1, 5000),
    ]
    staff = Client()
    staff.force_login(user_for("strategy_staff"))
    page = staff.get("/manage/engagement/").content.decode()
    assert "No date recorded" in page
    assert "No activities recorded yet." not in page
