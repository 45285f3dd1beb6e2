"""Demo engagement data: made-up survey responses and the Austin comments as stand-ins."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from csas.analysis.insight.redaction import moderation_check
from csas.engagement.models import (
    Activity,
    Answer,
    FeedbackItem,
    FeedbackSource,
    ImportBatch,
    ModerationStatus,
    Response,
    Survey,
)
from csas.engagement.services import response_submit
from csas.insight import demo
from csas.insight.models import Code, ItemCode
from csas.insight.selectors import survey_results
from csas.strategy.models import Strategy


@pytest.fixture
def strategy(db: Any) -> Strategy:
    return Strategy.objects.get()


def _state(strategy: Strategy) -> dict[str, Any]:
    return {
        "responses": sorted(
            Response.objects.filter(survey__strategy=strategy).values_list(
                "pk", "external_id", "demographics", "council_district_id", "neighbourhood_id"
            )
        ),
        "answers": Answer.objects.filter(response__survey__strategy=strategy).count(),
        "items": sorted(
            FeedbackItem.objects.filter(strategy=strategy).values_list(
                "pk", "external_id", "status", "redacted_text"
            )
        ),
        "activities": Activity.objects.filter(strategy=strategy).count(),
        "batches": ImportBatch.objects.filter(strategy=strategy).count(),
    }


def test_the_demo_loads_quickly_and_says_what_it_holds(strategy: Strategy) -> None:
    started = time.perf_counter()
    summary = demo.insight_demo_load(strategy)
    assert time.perf_counter() - started < 10
    comments = demo.austin_comments()
    assert len(comments) == 390
    assert summary.responses == demo.DEMO_RESPONSES == 600
    assert summary.survey_comments + summary.austin_comments == 390
    assert summary.survey_comments == len(comments[:: demo.AUSTIN_IN_SURVEY_EVERY])
    assert summary.approved + summary.pending == 390
    assert "600 made-up survey responses" in summary.line()


def test_loading_the_demo_again_changes_nothing(strategy: Strategy) -> None:
    demo.insight_demo_load(strategy, responses=80)
    before = _state(strategy)
    demo.insight_demo_load(strategy, responses=80)
    assert _state(strategy) == before


def test_a_partly_loaded_demo_is_completed_as_a_full_load_would_make_it(
    strategy: Strategy,
) -> None:
    demo.insight_demo_load(strategy, responses=60)
    full = dict(Response.objects.values_list("external_id", "demographics"))
    Response.objects.filter(external_id__in=["demo-response-0007", "demo-response-0042"]).delete()
    demo.insight_demo_load(strategy, responses=60)
    again = dict(Response.objects.values_list("external_id", "demographics"))
    assert again == full


def test_everything_the_demo_makes_is_labelled_demo(strategy: Strategy) -> None:
    demo.insight_demo_load(strategy, responses=40)
    batches = ImportBatch.objects.filter(strategy=strategy)
    assert batches.count() == 2
    assert all(batch.original_name.startswith("Demo:") for batch in batches)
    assert all(
        response.import_batch is not None
        and response.import_batch.original_name.startswith("Demo:")
        for response in Response.objects.select_related("import_batch")
    )
    activity = Activity.objects.get(strategy=strategy)
    assert activity.title == (
        "Demo: public comments from Austin, Texas (real comments, used as stand-ins)"
    )
    assert not activity.is_public
    assert "City of Austin" in activity.description
    items = FeedbackItem.objects.filter(strategy=strategy, source=FeedbackSource.IMPORT)
    assert set(items.values_list("activity_id", flat=True)) == {activity.pk}
    assert all(item.external_id.startswith("austin-row-") for item in items)


def test_every_comment_passes_through_redaction_and_flagged_ones_wait(
    strategy: Strategy,
) -> None:
    demo.insight_demo_load(strategy)
    items = list(FeedbackItem.objects.filter(strategy=strategy))
    assert len(items) == 390
    for item in items:
        check = moderation_check(item.text)
        assert item.redacted_text == check.text
        assert item.review_reasons == list(check.reasons)
        expected = ModerationStatus.PENDING if check.reasons else ModerationStatus.PUBLISHED
        assert item.status == expected
    assert any(item.status == ModerationStatus.PENDING for item in items)


def test_the_demo_writes_no_codes(strategy: Strategy) -> None:
    demo.insight_demo_load(strategy, responses=30)
    assert not Code.objects.exists()
    assert not ItemCode.objects.exists()


def test_demo_responses_are_stored_as_response_submit_stores_them(strategy: Strategy) -> None:
    demo.insight_demo_load(strategy, responses=120)
    survey = Survey.objects.get(strategy=strategy, slug=demo.SURVEY_SLUG)
    survey.status = "open"
    survey.save()
    generator = demo._ResponseGenerator(strategy, survey)
    texts = {
        item.answer.response.external_id: item
        for item in FeedbackItem.objects.filter(source=FeedbackSource.SURVEY_ANSWER).select_related(
            "answer__response"
        )
    }
    assert texts  # some demo responses carry an Austin comment
    checked = 0
    for stored in Response.objects.filter(external_id__in=[*texts, "demo-response-0001"]):
        index = int(stored.external_id.rsplit("-", 1)[1]) - 1
        comment = texts.get(stored.external_id)
        answers = generator.answers(index, comment.text if comment else None)
        assert answers == {
            answer.question.key: answer.value
            for answer in stored.answers.select_related("question")
        }
        fresh = Response.objects.create(survey=survey, language=stored.language)
        for key, value in answers.items():
            Answer.objects.create(response=fresh, question=generator.questions[key], value=value)
        fresh = response_submit(response=fresh)
        assert fresh.demographics == stored.demographics
        assert fresh.council_district_id == stored.council_district_id
        assert fresh.neighbourhood_id == stored.neighbourhood_id
        if comment is not None:
            made = FeedbackItem.objects.get(answer__response=fresh)
            for name in (
                "source",
                "text",
                "redacted_text",
                "review_reasons",
                "language",
                "geography_id",
                "speaker_demographics",
                "activity_id",
            ):
                assert getattr(made, name) == getattr(comment, name), name
        checked += 1
    assert checked == len(texts) + 1


def test_the_demo_leaves_some_groups_and_districts_under_heard(strategy: Strategy) -> None:
    demo.insight_demo_load(strategy)
    results = survey_results(Survey.objects.get(slug=demo.SURVEY_SLUG), public=True)
    assert results.n == 600
    under = {
        (dimension, row.category)
        for dimension, rep in results.representation
        for row in rep.categories
        if row.under_represented
    }
    assert ("council_district", "Council District 5") in under
    assert ("race_ethnicity", "Black or African American") in under
    assert ("age", "Under 18") in under
    districts = next(c for q, d, c in results.safety if d == "council_district")
    assert any(group.significant for group in districts.groups)


def test_the_command_loads_the_demo_and_prints_a_summary(strategy: Strategy) -> None:
    out = StringIO()
    call_command("insight_demo_load", stdout=out)
    assert "Demo engagement data: 600 made-up survey responses" in out.getvalue()


def test_the_command_refuses_an_unknown_strategy(strategy: Strategy) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no strategy 'nowhere'"):
        call_command("insight_demo_load", strategy="nowhere")
