"""Who has been heard, by neighbourhood, across every channel (the staff dashboard)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from csas.engagement.models import (
    Activity,
    FeedbackItem,
    MapComment,
    Response,
    Survey,
)
from csas.engagement.selectors import HEARD_CHANNELS, heard_by_channel
from csas.engagement.services import feedback_item_create, map_comment_submit
from csas.strategy.models import Geography, GeographyKind, Strategy

CENTRAL_POINT = (-122.4668, 47.2457)


def _neighbourhood(strategy: Strategy, name: str) -> Geography:
    return Geography.objects.get(
        city_id=strategy.city_id, kind=GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT, name=name
    )


def test_every_channel_is_counted_once_in_its_neighbourhood(
    strategy: Strategy, small_survey: Survey
) -> None:
    central = _neighbourhood(strategy, "Central")
    for status in ("submitted", "submitted", "in_progress"):
        Response.objects.create(
            survey=small_survey, language="en", status=status, neighbourhood=central
        )
    Response.objects.create(survey=small_survey, language="en", status="submitted")
    Activity.objects.create(
        strategy=strategy, kind="workshop", title="Hilltop", geography=central, attendance_count=25
    )
    Activity.objects.create(
        strategy=strategy, kind="roadshow_org", title="Citywide", attendance_count=10
    )
    kept = map_comment_submit(
        strategy=strategy,
        category="lighting",
        text="Dark",
        language="en",
        respondent="a",
        lon=CENTRAL_POINT[0],
        lat=CENTRAL_POINT[1],
    )
    rejected = map_comment_submit(
        strategy=strategy,
        category="other",
        text="spam",
        language="en",
        respondent="b",
        lon=CENTRAL_POINT[0],
        lat=CENTRAL_POINT[1],
    )
    MapComment.objects.filter(pk=rejected.pk).update(status="rejected")
    assert kept.neighbourhood == central
    feedback_item_create(
        strategy=strategy, created_by=None, language="en", text="Notes", geography=central
    )
    feedback_item_create(strategy=strategy, created_by=None, language="en", text="Unplaced")

    heard = heard_by_channel(strategy)
    assert heard["channels"] == HEARD_CHANNELS == ("survey", "activities", "map", "notes")
    row = next(r for r in heard["rows"] if r["name"] == "Central")
    # 2 submitted responses, 25 at the workshop, 1 map comment (the rejected one left out and
    # its feedback item not counted again), 1 staff note
    assert row["counts"] == [2, 25, 1, 1]
    assert row["heard"] == 29
    assert row["population"] > 0
    assert row["per_1000"] == 1000 * 29 / row["population"]
    assert heard["unplaced"] == [1, 10, 0, 1]
    assert heard["totals"] == [3, 35, 1, 2]
    assert FeedbackItem.objects.count() == 4  # 2 map comments' items + 2 notes
    others = [r for r in heard["rows"] if r["name"] != "Central"]
    assert all(r["heard"] == 0 for r in others)
    assert row["share_heard"] == 1.0
    assert heard["least_heard"]
    assert all(r["heard"] == 0 for r in heard["least_heard"])  # the unheard places come first


def test_the_dashboard_shows_the_channels_table(strategy: Strategy, user_for: Any) -> None:
    Activity.objects.create(
        strategy=strategy,
        kind="workshop",
        title="Eastside",
        geography=_neighbourhood(strategy, "Eastside"),
        attendance_count=12,
    )
    client = Client()
    client.force_login(user_for("strategy_staff"))
    page = client.get("/manage/engagement/").content.decode()
    assert "Heard across every channel, by neighborhood" in page
    eastside = page[page.index('<th scope="row">Eastside</th>') :]
    assert "<td>12</td>" in eastside[: eastside.index("</tr>")]
    assert "No neighborhood given" in page


def test_survey_answers_are_not_counted_again_as_feedback(
    strategy: Strategy, small_survey: Survey
) -> None:
    response = Response.objects.create(survey=small_survey, language="en", status="submitted")
    FeedbackItem.objects.create(
        strategy=strategy,
        source="import",
        text="An imported open answer",
        language="en",
        answer=_an_answer(response),
    )
    heard = heard_by_channel(strategy)
    assert heard["totals"] == [1, 0, 0, 0]


def _an_answer(response: Response) -> Any:
    from csas.engagement.models import Answer

    question = response.survey.questions.filter(kind="text").first() or (
        response.survey.questions.first()
    )
    return Answer.objects.create(response=response, question=question, value="An answer")
