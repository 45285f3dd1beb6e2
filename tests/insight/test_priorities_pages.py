"""Priorities from ranking and "top N" questions: the staff page by group, and the public
results page's overall priorities."""

from __future__ import annotations

import html
import random
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from csas.analysis.insight.priorities import rank_priorities, top_picks
from csas.engagement.models import Answer, Response, Survey
from csas.engagement.services import survey_load_file, survey_set_status
from csas.engagement.survey_file import bundled_survey_path
from csas.insight import selectors
from csas.insight.selectors import (
    PRIORITY_BOOTSTRAP,
    PRIORITY_SEED,
    survey_priorities,
    survey_results,
)
from csas.strategy.models import Geography, Strategy

GOALS = ["goal_1", "goal_2", "goal_3", "goal_4"]


@pytest.fixture
def survey(db: Any) -> Survey:
    strategy = Strategy.objects.get()
    survey = survey_load_file(path=bundled_survey_path(), strategy=strategy)
    return survey_set_status(survey=survey, status="open")


def _respond(
    survey: Survey,
    *,
    district: Geography,
    race: list[str],
    ranking: list[str] | None = None,
    picks: list[str] | None = None,
) -> Response:
    response = Response.objects.create(
        survey=survey,
        language="en",
        status="submitted",
        submitted_at=timezone.now(),
        council_district=district,
        demographics={"race_ethnicity": race, "age": "age_25_34"},
    )
    if ranking is not None:
        question = survey.questions.get(key="rank_goals")
        Answer.objects.create(response=response, question=question, value={"ranking": ranking})
    if picks is not None:
        question = survey.questions.get(key="top_actions_places")
        Answer.objects.create(response=response, question=question, value={"choices": picks})
    return response


@pytest.fixture
def ranked(survey: Survey) -> Survey:
    """40 rankings: 30 from district 1 (goal 1 first, mostly), 10 from district 2 (goal 3
    first), 4 from district 3 (a group too small to show); every tenth ranks only two goals.
    40 pick answers: action 1.1 by most, action 1.8 by three people only."""
    rng = random.Random(5)
    districts = list(Geography.objects.filter(kind="council_district").order_by("code"))
    for index in range(44):
        district = districts[0] if index < 30 else districts[1] if index < 40 else districts[2]
        order = GOALS[:] if index < 30 else ["goal_3", "goal_1", "goal_4", "goal_2"]
        if rng.random() < 0.3:
            order[1], order[2] = order[2], order[1]
        if index % 10 == 9:
            order = order[:2]
        picks = ["action_1_1", "action_1_2"] if index % 3 else ["action_1_1", "action_1_6"]
        if index in (1, 2, 3):
            picks = ["action_1_8"]
        _respond(
            survey,
            district=district,
            race=["white"] if index % 2 else ["black_african_american"],
            ranking=order,
            picks=picks,
        )
    return survey


def _answers(survey: Survey, key: str, field: str) -> list[list[str]]:
    responses = list(
        Response.objects.filter(survey=survey, status="submitted").order_by("-started_at")
    )
    question = survey.questions.get(key=key)
    stored = {a.response_id: a.value[field] for a in Answer.objects.filter(question=question)}
    return [stored[r.pk] for r in responses if r.pk in stored]


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
def test_the_priorities_page_is_for_the_strategy_office(
    ranked: Survey, user_for: Any, role: str, status: int
) -> None:
    client = Client()
    if user_for(role):
        client.force_login(user_for(role))
    assert client.get(f"/manage/insight/surveys/{ranked.pk}/priorities/").status_code == status


def test_the_priorities_page_answers_not_found_for_an_unknown_survey(user_for: Any) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    assert client.get("/manage/insight/surveys/999999/priorities/").status_code == 404


def test_the_priorities_page_refuses_post(ranked: Survey, user_for: Any) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    assert client.post(f"/manage/insight/surveys/{ranked.pk}/priorities/").status_code == 405


def test_overall_priorities_equal_the_library_on_the_stored_rankings(ranked: Survey) -> None:
    result = survey_priorities(ranked)
    ranking_question = next(q for q in result.questions if q.is_ranking)
    expected = rank_priorities(
        _answers(ranked, "rank_goals", "ranking"),
        options=GOALS,
        top_n=3,
        n_bootstrap=PRIORITY_BOOTSTRAP,
        seed=PRIORITY_SEED,
    )
    got = ranking_question.overall.ranking
    assert got is not None
    assert [o.option for o in got.options] == [o.option for o in expected.options]
    for mine, theirs in zip(got.options, expected.options, strict=True):
        assert mine.borda_mean == pytest.approx(theirs.borda_mean)
        assert mine.borda_mean_ci == pytest.approx(theirs.borda_mean_ci)
        assert mine.copeland == theirs.copeland
    assert got.condorcet_winner == expected.condorcet_winner == "goal_1"


def test_the_page_shows_the_library_figures_and_both_orders(ranked: Survey, user_for: Any) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    page = client.get(f"/manage/insight/surveys/{ranked.pk}/priorities/").content.decode()
    expected = rank_priorities(
        _answers(ranked, "rank_goals", "ranking"),
        options=GOALS,
        n_bootstrap=PRIORITY_BOOTSTRAP,
        seed=PRIORITY_SEED,
    )
    first = expected.options[0]
    low, high = first.borda_mean_ci
    assert f"<td>{first.borda_mean:.2f}</td><td>{low:.2f}–{high:.2f}</td>" in page
    assert "Place (Borda)" in page
    assert "Place (Copeland)" in page
    assert "Condorcet winner" in page
    picks = top_picks(_answers(ranked, "top_actions_places", "choices"))
    assert f"<td>{round(picks.option('action_1_1').share * 100)}%</td>" in page


def test_groups_under_the_threshold_are_not_computed(ranked: Survey) -> None:
    result = survey_priorities(ranked)
    ranking_question = next(q for q in result.questions if q.is_ranking)
    districts = next(b for b in ranking_question.breakdowns if b.dimension == "council_district")
    by_name = {g.group: g for g in districts.groups}
    assert by_name["Council District 3"].suppressed
    assert by_name["Council District 3"].ranking is None
    assert by_name["Council District 3"].rows == ()
    assert not by_name["Council District 2"].suppressed
    assert by_name["Council District 2"].n == 10
    assert by_name["Council District 2"].rows[0].value == "goal_3"


def test_group_figures_equal_the_library_on_that_group(ranked: Survey) -> None:
    result = survey_priorities(ranked)
    ranking_question = next(q for q in result.questions if q.is_ranking)
    districts = next(b for b in ranking_question.breakdowns if b.dimension == "council_district")
    group = next(g for g in districts.groups if g.group == "Council District 1")
    district = Geography.objects.get(kind="council_district", name="Council District 1")
    rankings = [
        a.value["ranking"]
        for a in Answer.objects.filter(
            question__key="rank_goals", response__council_district=district
        ).order_by("-response__started_at")
    ]
    expected = rank_priorities(
        rankings, options=GOALS, n_bootstrap=PRIORITY_BOOTSTRAP, seed=PRIORITY_SEED
    )
    assert group.ranking is not None
    assert group.ranking.option("goal_1").borda_mean == pytest.approx(
        expected.option("goal_1").borda_mean
    )
    assert group.ranking.option("goal_1").borda_mean_ci == pytest.approx(
        expected.option("goal_1").borda_mean_ci
    )


def test_the_page_says_fewer_than_n_for_small_groups(ranked: Survey, user_for: Any) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    page = client.get(f"/manage/insight/surveys/{ranked.pk}/priorities/").content.decode()
    assert "fewer than 10 answers" in page
    assert "By race" in page
    assert "By council district" in page


def test_public_results_show_overall_priorities_but_no_groups(ranked: Survey) -> None:
    ranked.results_public = True
    ranked.save()
    page = html.unescape(Client().get(f"/surveys/{ranked.slug}/results/").content.decode())
    assert "What people put first" in page
    assert "Safe PLACES and Neighborhoods" in page
    assert "Priorities by race and council district" not in page
    assert "By council district" not in page


def test_public_picks_hide_options_picked_by_a_few_people(ranked: Survey) -> None:
    results = survey_results(ranked, public=True)
    picks = next(q for q in results.priorities if not q.is_ranking)
    rare = next(row for row in picks.overall.rows if row.value == "action_1_8")
    assert rare.picks is not None
    assert rare.picks.n_picked == 3
    assert rare.picks_hidden
    common = next(row for row in picks.overall.rows if row.value == "action_1_1")
    assert not common.picks_hidden
    staff = survey_results(ranked, public=False)
    staff_picks = next(q for q in staff.priorities if not q.is_ranking)
    assert not any(row.picks_hidden for row in staff_picks.overall.rows)


def test_public_priorities_are_withheld_when_few_answered(survey: Survey) -> None:
    district = Geography.objects.filter(kind="council_district").order_by("code").first()
    assert district is not None
    for _index in range(5):
        _respond(survey, district=district, race=["white"], ranking=GOALS)
    (question,) = survey_results(survey, public=True).priorities
    assert question.overall.suppressed
    assert question.overall.ranking is None


def test_a_survey_without_ranking_answers_says_so(survey: Survey, user_for: Any) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    page = client.get(f"/manage/insight/surveys/{survey.pk}/priorities/").content.decode()
    assert "has no ranking or “pick your top few” question with answers yet" in page


def test_an_answer_the_library_refuses_is_reported_not_raised(
    ranked: Survey, user_for: Any
) -> None:
    response = Response.objects.filter(survey=ranked).first()
    assert response is not None
    Answer.objects.filter(response=response, question__key="rank_goals").update(
        value={"ranking": ["goal_1", "no_such_goal"]}
    )
    (ranking_question,) = [q for q in survey_priorities(ranked).questions if q.is_ranking]
    assert "not an option" in ranking_question.overall.error
    client = Client()
    client.force_login(user_for("strategy_staff"))
    page = client.get(f"/manage/insight/surveys/{ranked.pk}/priorities/")
    assert page.status_code == 200
    assert "These answers could not be summarised" in page.content.decode()


def test_the_priorities_page_runs_a_fixed_number_of_queries(
    ranked: Survey, user_for: Any, django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    url = f"/manage/insight/surveys/{ranked.pk}/priorities/"
    client.get(url)
    # session, user, strategy, survey, responses, questions, options, answers
    with django_assert_num_queries(8):
        assert client.get(url).status_code == 200


def test_unchanged_rankings_come_from_the_cache(
    ranked: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = survey_priorities(ranked)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("recomputed although the answers did not change")

    monkeypatch.setattr(selectors, "rank_priorities", refuse)
    after = survey_priorities(ranked)
    first = next(q for q in before.questions if q.is_ranking).overall.ranking
    again = next(q for q in after.questions if q.is_ranking).overall.ranking
    assert first is not None
    assert again is not None
    assert again.option("goal_1").borda_mean_ci == first.option("goal_1").borda_mean_ci


def test_a_new_ranking_is_not_answered_from_the_cache(
    ranked: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    survey_priorities(ranked)
    district = Geography.objects.filter(kind="council_district").order_by("code").first()
    assert district is not None
    _respond(ranked, district=district, race=["white"], ranking=["goal_4"])
    calls: list[int] = []
    original = selectors.rank_priorities

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(selectors, "rank_priorities", counting)
    result = survey_priorities(ranked)
    assert calls  # the overall ranking and the groups the new answer joined
    overall = next(q for q in result.questions if q.is_ranking).overall
    assert overall.n == 45
