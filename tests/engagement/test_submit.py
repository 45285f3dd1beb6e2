"""Submitting a response: the snapshot kept up to date as pages are saved, and the one
conditional update (plus the feedback items) that submits."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.http import Http404
from django.test import Client

from csas.engagement.answers import AnswerError
from csas.engagement.models import (
    Answer,
    FeedbackItem,
    Invitation,
    Question,
    Response,
    Survey,
)
from csas.engagement.services import (
    AlreadyResponded,
    SurveyClosed,
    invitations_create,
    response_start,
    response_submit,
    response_submit_by_token,
    survey_set_status,
)

from .test_answering import PAGE_1, PAGE_2, PAGE_3, _start


def _filled(client: Client, survey: Survey, pages: tuple[dict, ...] = (PAGE_1, PAGE_2, PAGE_3)):
    page = _start(client, survey)
    for data in pages:
        reply = client.post(page, data)
        assert reply.status_code == 302, reply.content.decode()[:2000]
        page = reply["Location"]
    return Response.objects.get(survey=survey), page


def test_saving_pages_keeps_the_submit_snapshot_up_to_date(small_survey: Survey) -> None:
    client = Client()
    page = _start(client, small_survey)
    response = Response.objects.get()
    assert not response.ready
    page = client.post(page, PAGE_1)["Location"]
    response.refresh_from_db()
    # feel_day, the only required question, is answered on page 1.
    assert response.ready
    assert response.demographics == {}
    page = client.post(page, PAGE_2)["Location"]
    client.post(page, PAGE_3)
    response.refresh_from_db()
    assert response.demographics == {"age": "under_35", "neighbourhood": "central"}
    assert response.neighbourhood is not None
    assert response.neighbourhood.name == "Central"
    comment = Answer.objects.get(response=response, question__key="comments")
    assert "253-555-0142" not in comment.redacted_text
    assert comment.redacted_text
    assert comment.review_reasons
    assert response.status == "in_progress"


def test_submitting_by_token_makes_the_feedback_item_from_the_snapshot(
    small_survey: Survey,
) -> None:
    response, _page = _filled(Client(), small_survey)
    submitted = response_submit_by_token(slug=small_survey.slug, token=str(response.public_id))
    assert submitted.response_id == response.pk
    assert not submitted.opted_in
    response.refresh_from_db()
    assert response.status == "submitted"
    assert response.submitted_at is not None
    item = FeedbackItem.objects.get()
    comment = Answer.objects.get(response=response, question__key="comments")
    assert item.answer == comment
    assert item.text == PAGE_2["comments"]
    assert item.redacted_text == comment.redacted_text
    assert item.review_reasons == comment.review_reasons
    assert item.strategy_id == small_survey.strategy_id
    assert item.activity_id == small_survey.activity_id
    assert item.source == "survey_answer"
    assert item.status == "pending"
    assert item.language == response.language
    assert item.geography_id == response.neighbourhood_id
    assert item.speaker_demographics == {"age": "under_35", "neighbourhood": "central"}
    assert item.created_at is not None


def test_a_second_submit_changes_nothing_and_says_submitted(small_survey: Survey) -> None:
    response, _page = _filled(Client(), small_survey)
    token = str(response.public_id)
    first = response_submit_by_token(slug=small_survey.slug, token=token)
    submitted_at = Response.objects.get().submitted_at
    again = response_submit_by_token(slug=small_survey.slug, token=token)
    assert again == first
    assert Response.objects.get().submitted_at == submitted_at
    assert FeedbackItem.objects.count() == 1


def test_a_missing_required_answer_is_named_and_nothing_is_submitted(
    small_survey: Survey,
) -> None:
    client = Client()
    _start(client, small_survey)
    response = Response.objects.get()
    with pytest.raises(AnswerError) as caught:
        response_submit_by_token(slug=small_survey.slug, token=str(response.public_id))
    assert caught.value.key == "feel_day"
    assert Response.objects.get().status == "in_progress"
    assert not FeedbackItem.objects.exists()


def test_answers_stored_without_the_pages_are_snapshotted_when_submitting(
    small_survey: Survey,
) -> None:
    # Answers written directly (an import, demo data, a response begun before the snapshot
    # existed): the update matches nothing, the snapshot is made, and the retry submits.
    response = response_start(survey=small_survey, language="en", respondent="r1")
    questions = {q.key: q for q in Question.objects.filter(survey=small_survey)}
    Answer.objects.create(
        response=response, question=questions["feel_day"], value={"choice": "safe"}
    )
    Answer.objects.create(
        response=response,
        question=questions["comments"],
        value={"text": "Email me at someone@example.org"},
    )
    Answer.objects.create(
        response=response, question=questions["home"], value={"choice": "central"}
    )
    assert not Response.objects.get().ready
    response_submit_by_token(slug=small_survey.slug, token=str(response.public_id))
    response.refresh_from_db()
    assert response.status == "submitted"
    assert response.demographics == {"neighbourhood": "central"}
    assert response.neighbourhood is not None
    item = FeedbackItem.objects.get()
    assert "someone@example.org" not in item.redacted_text
    assert item.review_reasons


def test_response_submit_submits_like_the_public_path(small_survey: Survey) -> None:
    response, _page = _filled(Client(), small_survey)
    submitted = response_submit(response=response)
    assert submitted.status == "submitted"
    assert submitted.demographics == {"age": "under_35", "neighbourhood": "central"}
    assert FeedbackItem.objects.filter(answer__response=response).count() == 1
    assert response_submit(response=response).submitted_at == submitted.submitted_at


def test_a_closed_survey_refuses_the_submit(small_survey: Survey) -> None:
    response, _page = _filled(Client(), small_survey)
    survey_set_status(survey=small_survey, status="closed")
    with pytest.raises(SurveyClosed):
        response_submit_by_token(slug=small_survey.slug, token=str(response.public_id))
    assert Response.objects.get().status == "in_progress"


def test_unknown_foreign_and_malformed_tokens_are_not_found(small_survey: Survey) -> None:
    response, _page = _filled(Client(), small_survey)
    for slug, token in (
        (small_survey.slug, "3f1c1d1e-0000-4000-8000-000000000000"),
        ("another-survey", str(response.public_id)),
        (small_survey.slug, "not-a-uuid"),
    ):
        with pytest.raises(Http404):
            response_submit_by_token(slug=slug, token=token)
    assert Response.objects.get().status == "in_progress"


def test_an_invitation_is_marked_used_when_its_response_is_submitted(
    small_survey: Survey,
) -> None:
    (invitation,) = invitations_create(survey=small_survey, count=1, batch="Mailer")
    client = Client()
    page = _start(client, small_survey, code=invitation.code)
    for data in (PAGE_1, PAGE_2, PAGE_3):
        page = client.post(page, data)["Location"]
    assert Invitation.objects.get().used_at is None
    assert client.post(page).status_code == 302
    assert Invitation.objects.get().used_at == Response.objects.get().submitted_at


def test_a_second_submitted_response_of_the_same_person_is_refused_whole(
    small_survey: Survey,
) -> None:
    first, _page = _filled(Client(), small_survey)
    response_submit(response=first)
    # Another response of the same respondent (made before the first was submitted).
    second = Response.objects.create(
        survey=small_survey, language="en", respondent_key=first.respondent_key
    )
    for answer in first.answers.all():
        Answer.objects.create(
            response=second,
            question=answer.question,
            value=answer.value,
            redacted_text=answer.redacted_text,
            review_reasons=answer.review_reasons,
        )
    with pytest.raises(AlreadyResponded), transaction.atomic():
        response_submit_by_token(slug=small_survey.slug, token=str(second.public_id))
    assert Response.objects.get(pk=second.pk).status == "in_progress"
    assert FeedbackItem.objects.count() == 1


def test_an_opted_in_respondent_is_sent_to_the_contact_page(small_survey: Survey) -> None:
    response, page = _filled(Client(), small_survey)
    Response.objects.filter(pk=response.pk).update(opted_in=True)
    client = Client()
    reply = client.post(page)
    assert reply.status_code == 302
    assert reply["Location"].endswith(f"/r/{response.public_id}/contact/")


def test_a_question_added_to_the_survey_is_checked_before_submitting(
    small_survey: Survey,
) -> None:
    response, _page = _filled(Client(), small_survey)
    assert response.ready
    feel_day = Question.objects.get(survey=small_survey, key="feel_day")
    Question.objects.create(
        survey=small_survey,
        section=feel_day.section,
        key="feel_night",
        kind=feel_day.kind,
        text="How safe do you feel after dark?",
        required=True,
        order=feel_day.order + 1,
    )
    response.refresh_from_db()
    assert not response.ready
    with pytest.raises(AnswerError) as caught:
        response_submit_by_token(slug=small_survey.slug, token=str(response.public_id))
    assert caught.value.key == "feel_night"
    assert Response.objects.get().status == "in_progress"
