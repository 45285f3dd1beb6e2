from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from csas.engagement.models import FeedbackItem, Survey
from csas.engagement.services import feedback_item_create
from csas.strategy.models import Strategy


@pytest.fixture
def pending_item(strategy: Strategy) -> FeedbackItem:
    return feedback_item_create(
        strategy=strategy,
        created_by=None,
        language="en",
        text="My neighbour John Smith at 4502 N 26th St says the lights are out.",
    )


def _client(user_for: Any, role: str) -> Client:
    client = Client()
    user = user_for(role)
    if user is not None:
        client.force_login(user)
    return client


def test_staff_note_is_redacted_and_waits_for_moderation(pending_item: FeedbackItem) -> None:
    assert pending_item.status == "pending"
    assert "John Smith" not in pending_item.redacted_text
    assert "4502 N 26th St" not in pending_item.redacted_text
    assert pending_item.review_reasons


def test_staff_publish_the_moderated_wording(user_for: Any, pending_item: FeedbackItem) -> None:
    client = _client(user_for, "strategy_staff")
    queue = client.get("/manage/engagement/moderation/").content.decode()
    assert "John Smith" in queue  # staff see the original to decide
    response = client.post(
        f"/manage/engagement/moderation/{pending_item.pk}/",
        {"decision": "publish", "redacted_text": "The lights are out."},
    )
    assert response.status_code == 302
    pending_item.refresh_from_db()
    assert pending_item.status == "published"
    assert pending_item.redacted_text == "The lights are out."


@pytest.mark.parametrize(
    ("role", "status"), [("public", 302), ("partner", 403), ("department_editor", 403)]
)
def test_only_the_strategy_office_can_moderate(
    user_for: Any, pending_item: FeedbackItem, role: str, status: int
) -> None:
    client = _client(user_for, role)
    response = client.post(
        f"/manage/engagement/moderation/{pending_item.pk}/", {"decision": "publish"}
    )
    assert response.status_code == status
    pending_item.refresh_from_db()
    assert pending_item.status == "pending"


def test_staff_record_a_note_from_an_activity(user_for: Any, strategy: Strategy) -> None:
    client = _client(user_for, "strategy_staff")
    response = client.post(
        "/manage/engagement/feedback/new/",
        {"text": "Youth want later library hours.", "language": "es"},
    )
    assert response.status_code == 302
    item = FeedbackItem.objects.get()
    assert item.source == "staff_note"
    assert item.language == "es"
    assert item.created_by == user_for("strategy_staff")


def test_dashboard_counts_responses_and_compares_reach_with_population(
    user_for: Any, small_survey: Survey
) -> None:
    from tests.engagement.test_answering import _complete

    _complete(Client(), small_survey)
    body = _client(user_for, "strategy_staff").get("/manage/engagement/").content.decode()
    assert "1 submitted, 0 started but not finished." in body
    assert "Central" in body
    assert "Reach by neighborhood against population" in body


@pytest.mark.parametrize("role", ["public", "partner", "department_editor"])
def test_survey_status_cannot_be_changed_outside_the_office(
    user_for: Any, small_survey: Survey, role: str
) -> None:
    client = _client(user_for, role)
    client.post(f"/manage/engagement/surveys/{small_survey.pk}/status/", {"status": "closed"})
    small_survey.refresh_from_db()
    assert small_survey.status == "open"


def test_staff_close_a_survey(user_for: Any, small_survey: Survey) -> None:
    client = _client(user_for, "admin")
    client.post(f"/manage/engagement/surveys/{small_survey.pk}/status/", {"status": "closed"})
    small_survey.refresh_from_db()
    assert small_survey.status == "closed"
