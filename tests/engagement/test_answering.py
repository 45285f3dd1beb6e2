"""Residents answering a survey through the public pages (no account, no JavaScript)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from csas.engagement.models import (
    Answer,
    FeedbackItem,
    Invitation,
    Response,
    Survey,
)
from csas.engagement.services import invitations_create, survey_set_status


def _start(client: Client, survey: Survey, code: str = "", prefix: str = "") -> str:
    response = client.post(f"{prefix}/surveys/{survey.slug}/", {"code": code})
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


PAGE_1 = {"feel_day": "unsafe", "experienced": ["theft"], "reported": "no"}
PAGE_2 = {
    "goal_rank__rank__goal_3": "1",
    "goal_rank__rank__goal_1": "2",
    "top_actions": ["action_1_2", "action_1_3"],
    "score": "4",
    "comments": "Call me at 253-555-0142 about the broken lights.",
    "place": "-122.44,47.25",
}
PAGE_3 = {"age": "under_35", "home": "central"}


def _complete(client: Client, survey: Survey, prefix: str = "") -> Response:
    page = _start(client, survey, prefix=prefix)
    for data in (PAGE_1, PAGE_2, PAGE_3):
        result = client.post(page, data)
        assert result.status_code == 302, result.content.decode()[:2000]
        page = result["Location"]
    assert page.endswith("/review/")
    assert client.post(page).status_code == 302
    return Response.objects.get(survey=survey)


def test_a_resident_completes_the_survey_and_it_is_stored(small_survey: Survey) -> None:
    response = _complete(Client(), small_survey)
    assert response.status == "submitted"
    answers = {a.question.key: a.value for a in response.answers.select_related("question")}
    assert answers["feel_day"] == {"choice": "unsafe"}
    assert answers["goal_rank"] == {"ranking": ["goal_3", "goal_1"]}
    assert answers["top_actions"] == {"choices": ["action_1_2", "action_1_3"]}
    assert answers["score"] == {"number": 4}
    assert answers["place"] == {"point": [-122.44, 47.25]}
    assert response.demographics == {"age": "under_35", "neighbourhood": "central"}
    assert response.neighbourhood is not None
    assert response.neighbourhood.name == "Central"


def test_open_answers_become_feedback_items_with_personal_data_redacted(
    small_survey: Survey,
) -> None:
    response = _complete(Client(), small_survey)
    item = FeedbackItem.objects.get(answer__response=response)
    assert item.source == "survey_answer"
    assert item.status == "pending"
    assert "253-555-0142" not in item.redacted_text
    assert item.review_reasons
    assert item.speaker_demographics == response.demographics


def test_a_spanish_reader_sees_translated_questions_and_english_fallbacks(
    small_survey: Survey,
) -> None:
    client = Client()
    page = _start(client, small_survey, prefix="/es")
    assert page.startswith("/es/surveys/")
    body = client.get(page).content.decode()
    assert "¿Qué tan seguro se siente de día?" in body
    assert "Seguro" in body
    assert '<span lang="en">Unsafe</span>' in body
    assert Response.objects.get().language == "es"


def test_a_missing_required_answer_is_shown_and_nothing_of_the_page_is_saved(
    small_survey: Survey,
) -> None:
    client = Client()
    page = _start(client, small_survey)
    result = client.post(page, {"experienced": ["harassment"]})
    assert result.status_code == 400
    assert "This question needs an answer." in result.content.decode()
    assert 'value="harassment" checked' in result.content.decode()
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"feel_day": "terrified"}, "Choose one of the answers listed."),
        (
            {"feel_day": "safe", "experienced": ["theft", "none"]},
            "That answer cannot be combined with others.",
        ),
    ],
)
def test_invalid_choices_are_refused_with_a_message(
    small_survey: Survey, data: dict[str, Any], message: str
) -> None:
    client = Client()
    result = client.post(_start(client, small_survey), data)
    assert result.status_code == 400
    assert message in result.content.decode()


def test_too_long_text_duplicate_ranks_and_out_of_range_ratings_are_refused(
    small_survey: Survey,
) -> None:
    client = Client()
    page = _start(client, small_survey)
    page2 = client.post(page, {"feel_day": "safe"})["Location"]
    result = client.post(
        page2,
        {
            "comments": "x" * 201,
            "score": "11",
            "goal_rank__rank__goal_1": "1",
            "goal_rank__rank__goal_2": "1",
        },
    )
    body = result.content.decode()
    assert result.status_code == 400
    assert "Please shorten your answer to 200 characters (it has 201)." in body
    assert "Give a number from 0 to 10." in body
    assert "Give each rank to only one item." in body


def test_a_conditional_answer_is_dropped_when_it_no_longer_applies(small_survey: Survey) -> None:
    client = Client()
    page = _start(client, small_survey)
    client.post(page, {"feel_day": "safe", "experienced": ["none"], "reported": "yes"})
    keys = set(Answer.objects.values_list("question__key", flat=True))
    assert keys == {"feel_day", "experienced"}


def test_one_response_per_person_by_default(small_survey: Survey) -> None:
    client = Client()
    _complete(client, small_survey)
    again = client.post(f"/surveys/{small_survey.slug}/", {"code": ""})
    assert again.status_code == 200
    assert "You have already answered this survey" in again.content.decode()
    assert Response.objects.count() == 1


def test_an_unfinished_response_is_resumed_not_duplicated(small_survey: Survey) -> None:
    client = Client()
    first = _start(client, small_survey)
    client.post(first, {"feel_day": "safe"})
    second = _start(client, small_survey)
    assert first == second
    assert 'value="safe" checked' in client.get(second).content.decode()


def test_a_retried_submit_does_not_create_a_second_response(small_survey: Survey) -> None:
    client = Client()
    response = _complete(client, small_survey)
    review = f"/surveys/{small_survey.slug}/r/{response.public_id}/review/"
    assert client.post(review).status_code == 302
    assert Response.objects.count() == 1
    assert FeedbackItem.objects.count() == 1


def test_an_invitation_code_is_single_use(small_survey: Survey) -> None:
    code = invitations_create(survey=small_survey, count=1, batch="Mailer")[0].code
    assert len(code) == 8
    _complete_with_code(Client(), small_survey, code)
    assert Invitation.objects.get(code=code).used_at is not None
    reuse = Client().post(f"/surveys/{small_survey.slug}/", {"code": code})
    assert reuse.status_code == 400
    assert "That code is not valid or has already been used." in reuse.content.decode()


def _complete_with_code(client: Client, survey: Survey, code: str) -> None:
    page = _start(client, survey, code=code.lower())
    for data in (PAGE_1, PAGE_2, PAGE_3):
        page = client.post(page, data)["Location"]
    client.post(page)
    assert Response.objects.get(invitation__code=code).channel == "invitation"


def test_a_survey_that_requires_invitations_refuses_people_without_one(
    small_survey: Survey,
) -> None:
    small_survey.invitation_required = True
    small_survey.save()
    result = Client().post(f"/surveys/{small_survey.slug}/", {"code": ""})
    assert result.status_code == 400
    assert not Response.objects.exists()


def test_the_honeypot_field_stores_nothing(small_survey: Survey) -> None:
    result = Client().post(f"/surveys/{small_survey.slug}/", {"website": "http://spam"})
    assert result.status_code == 302
    assert result["Location"].endswith("/thanks/")
    assert not Response.objects.exists()


def test_starting_too_many_responses_from_one_address_is_throttled(
    small_survey: Survey, settings: Any
) -> None:
    settings.SURVEY_STARTS_PER_HOUR = 3
    for _ in range(3):
        assert Client().post(f"/surveys/{small_survey.slug}/").status_code == 302
    blocked = Client().post(f"/surveys/{small_survey.slug}/")
    assert blocked.status_code == 429
    assert Response.objects.count() == 3


def test_draft_surveys_are_not_found_and_closed_ones_say_so(small_survey: Survey) -> None:
    survey_set_status(survey=small_survey, status="draft")
    assert Client().get(f"/surveys/{small_survey.slug}/").status_code == 404
    survey_set_status(survey=small_survey, status="closed")
    closed = Client().get(f"/surveys/{small_survey.slug}/")
    assert closed.status_code == 410
    assert "This survey is closed" in closed.content.decode()


def test_a_made_up_resume_token_is_not_found(small_survey: Survey) -> None:
    for token in ["nonsense", "00000000-0000-0000-0000-000000000000"]:
        assert Client().get(f"/surveys/{small_survey.slug}/r/{token}/1/").status_code == 404


def test_a_place_described_in_words_with_a_comma_is_a_place_not_a_position() -> None:
    from csas.engagement.answers import QuestionSpec, clean_answer

    spec = QuestionSpec(key="place", kind="map_pin")
    assert clean_answer(spec, ["Wright Park, near the conservatory"]) == {
        "place": "Wright Park, near the conservatory"
    }
    assert clean_answer(spec, ["-122.44, 47.25"]) == {"point": [-122.44, 47.25]}


def test_an_untouched_ranking_is_not_stored_as_an_answer() -> None:
    from csas.engagement.answers import QuestionSpec, clean_answer

    spec = QuestionSpec(key="rank", kind="ranking", options=("a", "b"))
    assert clean_answer(spec, ["a=", "b="]) is None


def test_outside_the_city_and_prefer_not_to_say_are_translated(small_survey: Survey) -> None:
    options = small_survey.questions.get(key="home").options
    assert (
        options.get(value="outside_city").translations["es"]["label"] != "I live outside the city"
    )
    assert options.get(value="prefer_not_to_say").translations["es"]["label"]


def test_the_submit_post_is_two_statements(
    small_survey: Survey, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    page = _start(client, small_survey)
    for data in (PAGE_1, PAGE_2, PAGE_3):
        page = client.post(page, data)["Location"]
    # Pinned so the survey-submit path (benchmarked under load) does not grow unnoticed: the
    # conditional update and the feedback items' insert, plus the transaction's savepoint
    # pair (the test runs inside a transaction).
    with django_assert_max_num_queries(4):
        reply = client.post(page, {})
    assert reply.status_code == 302
    assert Response.objects.get().status == "submitted"


def test_submitting_a_response_of_another_strategys_survey_is_not_found(
    small_survey: Survey,
) -> None:
    client = Client()
    page = _start(client, small_survey)
    for data in (PAGE_1, PAGE_2, PAGE_3):
        page = client.post(page, data)["Location"]
    other = page.replace(f"/surveys/{small_survey.slug}/", "/surveys/no-such-survey/")
    assert client.post(other, {}).status_code == 404
    assert Response.objects.get().status == "in_progress"


def test_submitting_with_a_malformed_token_is_not_found(small_survey: Survey) -> None:
    reply = Client().post(f"/surveys/{small_survey.slug}/r/not-a-uuid/review/", {})
    assert reply.status_code == 404
