"""Survey results pages: safety by group with suppression, and who has not been heard."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from csas.engagement.models import Answer, Response, Survey
from csas.engagement.services import survey_load_file, survey_set_status
from csas.engagement.survey_file import bundled_survey_path
from csas.insight.selectors import survey_results
from csas.strategy.models import Geography, Strategy


@pytest.fixture
def survey(db: Any) -> Survey:
    strategy = Strategy.objects.get()
    survey = survey_load_file(path=bundled_survey_path(), strategy=strategy)
    return survey_set_status(survey=survey, status="open")


def _respond(
    survey: Survey, *, district: Geography, safe: str, race: list[str], age: str
) -> Response:
    response = Response.objects.create(
        survey=survey,
        language="en",
        status="submitted",
        submitted_at=timezone.now(),
        council_district=district,
        demographics={"race_ethnicity": race, "age": age},
    )
    question = survey.questions.get(key="safety_neighbourhood_day")
    Answer.objects.create(response=response, question=question, value={"choice": safe})
    return response


@pytest.fixture
def answered(survey: Survey) -> Survey:
    rng = random.Random(3)
    districts = list(Geography.objects.filter(kind="council_district").order_by("code"))
    for index in range(60):
        district = districts[0] if index < 30 else districts[1] if index < 55 else districts[2]
        feels = "very_safe" if rng.random() < (0.8 if index < 30 else 0.4) else "very_unsafe"
        _respond(
            survey,
            district=district,
            safe=feels,
            race=["white"] if index % 3 else ["black_african_american"],
            age="age_25_34" if index % 2 else "age_65_74",
        )
    return survey


def test_safety_by_council_district_has_intervals_and_suppresses_small_groups(
    answered: Survey,
) -> None:
    results = survey_results(answered, public=True)
    assert results.n == 60
    _question, _dimension, comparison = next(
        item for item in results.safety if item[1] == "council_district"
    )
    by_group = {g.group: g for g in comparison.groups}
    assert by_group["Council District 1"].n == 30
    assert by_group["Council District 1"].is_reference
    low, high = by_group["Council District 1"].ci_low, by_group["Council District 1"].ci_high
    assert low < by_group["Council District 1"].estimate < high
    assert by_group["Council District 3"].suppressed  # 5 answers, under the threshold of 10
    assert by_group["Council District 3"].estimate is None


def test_representation_compares_answers_with_the_population(answered: Survey) -> None:
    results = survey_results(answered, public=True)
    dims = dict(results.representation)
    districts = {row.category: row for row in dims["council_district"].categories}
    assert set(districts) == {f"Council District {n}" for n in range(1, 6)}
    assert districts["Council District 4"].participants in (0, None)
    assert districts["Council District 4"].population_share > 0.1
    race = {row.category: row for row in dims["race_ethnicity"].categories}
    assert race["Black or African American"].participants == 20
    shares = sum(row.population_share for row in dims["age"].categories)
    assert shares == pytest.approx(1.0)


def test_results_are_public_only_when_staff_publish_them(answered: Survey, user_for: Any) -> None:
    url = f"/surveys/{answered.slug}/results/"
    assert Client().get(url).status_code == 404
    answered.results_public = True
    answered.save()
    page = Client().get(url).content.decode()
    assert "Feeling safe, by group" in page
    assert "Too few answers to show" in page
    assert "Who we have and have not heard from" in page
    assert (
        f'href="{url}"' in Client().get("/surveys/").content.decode()
    )  # found from "Have your say"


def test_have_your_say_lists_only_published_results(answered: Survey) -> None:
    page = Client().get("/surveys/").content.decode()
    assert "Survey results" not in page
    assert f"/surveys/{answered.slug}/results/" not in page


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("public", 302),
        ("partner", 403),
        ("department_editor", 403),
        ("strategy_staff", 200),
        ("admin", 200),
    ],
)
def test_staff_results_are_for_the_strategy_office(
    answered: Survey, user_for: Any, role: str, status: int
) -> None:
    client = Client()
    if user_for(role):
        client.force_login(user_for(role))
    assert client.get(f"/manage/insight/surveys/{answered.pk}/results/").status_code == status


def test_results_of_a_draft_survey_are_never_public(answered: Survey) -> None:
    answered.results_public = True
    answered.status = "draft"
    answered.save()
    assert Client().get(f"/surveys/{answered.slug}/results/").status_code == 404


def test_the_staff_results_page_runs_a_fixed_number_of_queries(
    answered: Survey, user_for: Any, django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    url = f"/manage/insight/surveys/{answered.pk}/results/"
    client.get(url)  # the population margins are cached per process after the first page
    # session, user, strategy, survey (with its strategy), responses, safety questions and
    # their answers, choice questions with options and their answers, priority questions
    # with options and their answers
    with django_assert_num_queries(13):
        assert client.get(url).status_code == 200


def test_the_public_results_page_runs_a_fixed_number_of_queries(
    answered: Survey, django_assert_num_queries: Any
) -> None:
    answered.results_public = True
    answered.save()
    client = Client()
    url = f"/surveys/{answered.slug}/results/"
    client.get(url)
    # the published version, then as the staff page from the survey on
    with django_assert_num_queries(12):
        assert client.get(url).status_code == 200


def test_who_is_missing_ranks_the_groups_heard_from_least(answered: Survey) -> None:
    from csas.insight.selectors import survey_who_is_missing

    who = survey_who_is_missing(answered)
    dims = dict(survey_results(answered, public=False).representation)
    assert [(d, s) for d, s, _n in who.scores] == [(d, r.score) for d, r in dims.items()]
    assert all(0 <= score <= 1 for _d, score, _n in who.scores)
    ratios = [gap.category.ratio for gap in who.under_heard]
    assert ratios == sorted(ratios)  # least heard first
    assert all(gap.category.under_represented for gap in who.under_heard)
    # council district 4 has no answers at all: it is among the least heard
    assert ("council_district", "Council District 4") in {
        (gap.dimension, gap.category.category) for gap in who.under_heard
    }


def test_the_engagement_dashboard_says_who_we_have_not_heard_from(
    answered: Survey, user_for: Any
) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    page = client.get("/manage/engagement/").content.decode()
    assert "Who we have not heard from" in page
    assert "Council district: Council District 4" in page
    assert "Race and ethnicity" in page  # breakdowns named for people, not as field names
    assert "race_ethnicity" not in page


def test_results_name_breakdowns_for_people_and_give_a_representativeness_score(
    answered: Survey, user_for: Any
) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    page = client.get(f"/manage/insight/surveys/{answered.pk}/results/").content.decode()
    assert "— council_district" not in page
    assert "Council district" in page
    assert "representativeness" in page


def test_a_breakdown_nobody_answered_is_left_out_not_an_error(
    survey: Survey, user_for: Any
) -> None:
    from csas.insight.selectors import survey_who_is_missing

    response = Response.objects.create(
        survey=survey, language="en", status="submitted", submitted_at=timezone.now()
    )
    assert response.demographics == {}
    assert survey_who_is_missing(survey).scores == []
    client = Client()
    client.force_login(user_for("strategy_staff"))
    assert client.get(f"/manage/insight/surveys/{survey.pk}/results/").status_code == 200
    assert client.get("/manage/engagement/").status_code == 200


def _staff(user_for: Any) -> Client:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    return client


def test_compare_defaults_to_feeling_safe_by_council_district_with_the_library_figures(
    answered: Survey, user_for: Any
) -> None:
    from csas.analysis.insight.comparison import compare_groups

    url = f"/manage/insight/surveys/{answered.pk}/compare/"
    page = _staff(user_for).get(url, {"question": "safety_neighbourhood_day"})
    assert page.status_code == 200
    result = page.context["result"]
    assert result.chosen == ["very_safe", "somewhat_safe"]
    # the same figures computed independently from the stored answers
    responses = list(Response.objects.filter(survey=answered).order_by("-started_at"))
    answers = {
        a.response_id: a.value["choice"]
        for a in Answer.objects.filter(question__key="safety_neighbourhood_day")
    }
    expected = compare_groups(
        [float(answers[r.pk] in {"very_safe", "somewhat_safe"}) for r in responses],
        [r.council_district.name for r in responses],
        reference="Council District 1",
        threshold=1,
    )
    got = {g.group: g.estimate for g in result.comparison.groups}
    assert got == pytest.approx({g.group: g.estimate for g in expected.groups})
    assert "Council District 1 (reference)" in page.content.decode()


def test_compare_counts_the_answers_ticked_and_any_breakdown(
    answered: Survey, user_for: Any
) -> None:
    url = f"/manage/insight/surveys/{answered.pk}/compare/"
    page = _staff(user_for).get(
        url, {"question": "safety_neighbourhood_day", "by": "age", "answer": ["very_unsafe"]}
    )
    result = page.context["result"]
    assert result.chosen == ["very_unsafe"]
    shares = {g.group: g.estimate for g in result.comparison.groups}
    unsafe = Answer.objects.filter(value__choice="very_unsafe").count()
    assert sum(g.estimate * g.n for g in result.comparison.groups) == pytest.approx(unsafe)
    assert len(shares) == 2  # the two age groups of the fixture


def test_compare_refuses_an_unknown_question_or_breakdown_with_a_message(
    answered: Survey, user_for: Any
) -> None:
    url = f"/manage/insight/surveys/{answered.pk}/compare/"
    client = _staff(user_for)
    for params in ({"question": "no_such_question"}, {"by": "shoe_size"}):
        page = client.get(url, params)
        assert page.status_code == 400
        assert "Choose a question and a breakdown" in page.content.decode()


def test_compare_says_so_when_fewer_than_two_groups_answered(
    answered: Survey, user_for: Any
) -> None:
    url = f"/manage/insight/surveys/{answered.pk}/compare/"
    page = _staff(user_for).get(url, {"question": "safety_downtown"})
    assert page.status_code == 200
    assert "Fewer than two groups answered" in page.content.decode()


def test_compare_is_for_the_strategy_office_only(answered: Survey, user_for: Any) -> None:
    url = f"/manage/insight/surveys/{answered.pk}/compare/"
    assert Client().get(url).status_code == 302
    partner = Client()
    partner.force_login(user_for("partner"))
    assert partner.get(url).status_code == 403
