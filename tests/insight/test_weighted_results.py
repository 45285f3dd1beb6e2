"""Weighted (raked) estimates on the survey results page, with the documented fallback."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone

from csas.analysis.insight.comparison import wilson_interval
from csas.analysis.insight.weighting import Margin, rake, weighted_mean
from csas.engagement.models import Answer, Response, Survey
from csas.engagement.services import survey_load_file, survey_set_status
from csas.engagement.survey_file import bundled_survey_path
from csas.insight import selectors
from csas.insight.selectors import (
    RAKING_MAX_ITER,
    RAKING_TOLERANCE,
    _population,
    survey_results,
)
from csas.strategy.models import Geography, Strategy

RACES = [
    ["american_indian_alaska_native"],
    ["asian"],
    ["black_african_american"],
    ["native_hawaiian_pacific_islander"],
    ["white"],
    ["another_race"],
    ["white", "asian"],
]
AGES = ["under_18", "age_25_34", "age_65_74"]


@pytest.fixture
def survey(db: Any) -> Survey:
    strategy = Strategy.objects.get()
    survey = survey_load_file(path=bundled_survey_path(), strategy=strategy)
    return survey_set_status(survey=survey, status="open")


def _respond(survey: Survey, *, district: Geography | None, safe: str, demographics: Any) -> None:
    response = Response.objects.create(
        survey=survey,
        language="en",
        status="submitted",
        submitted_at=timezone.now(),
        council_district=district,
        demographics=demographics,
    )
    question = survey.questions.get(key="safety_neighbourhood_day")
    Answer.objects.create(response=response, question=question, value={"choice": safe})


@pytest.fixture
def everyone(survey: Survey) -> Survey:
    """105 answers covering every district x race x age combination once, 20 more from older
    White residents of district 1 (so the sample is unbalanced), and five more that leave out
    their age (they count unweighted only)."""
    rng = random.Random(11)
    districts = list(Geography.objects.filter(kind="council_district").order_by("code"))
    for index in range(130):
        feels = "very_safe" if rng.random() < (0.3 + 0.1 * (index % 5)) else "somewhat_unsafe"
        demographics: dict[str, Any] = {"race_ethnicity": RACES[index % 7]}
        district = districts[index % 5]
        if index < 105:
            demographics["age"] = AGES[index % 3]
        elif index < 125:
            demographics = {"race_ethnicity": ["white"], "age": "age_65_74"}
            district = districts[0]
        _respond(survey, district=district, safe=feels, demographics=demographics)
    return survey


def _expected(survey: Survey) -> tuple[float, Any]:
    """The weighted share computed here straight from the library and the stored rows."""
    responses = list(
        Response.objects.filter(survey=survey, status="submitted").order_by("-started_at")
    )
    population = _population(survey.strategy.city_id)
    rows = []
    for response in responses:
        answer = response.answers.get().value["choice"]
        race = selectors._race_group(response.demographics.get("race_ethnicity"))
        age = selectors._age_group(response.demographics.get("age"))
        district = response.council_district.name if response.council_district else None
        if district and race and age:
            rows.append((district, race, age, float(answer in selectors.FEELS_SAFE)))
    total = sum(population["race_ethnicity"].values())
    margins = []
    for position, name in enumerate(("council_district", "race_ethnicity", "age")):
        counts = population[name]
        margins.append(
            Margin.from_shares(
                name,
                np.array([row[position] for row in rows], dtype=object),
                {key: value / sum(counts.values()) for key, value in counts.items()},
                total,
            )
        )
    raking = rake(np.ones(len(rows)), margins, max_iter=RAKING_MAX_ITER, tolerance=RAKING_TOLERANCE)
    estimate = weighted_mean(np.array([row[3] for row in rows]), raking)
    return estimate.estimate, raking


def test_weighted_share_equals_raking_the_stored_answers_with_the_library(
    everyone: Survey,
) -> None:
    results = survey_results(everyone, public=False)
    (row,) = results.weighted
    expected, raking = _expected(everyone)
    assert row.weighted is not None
    assert row.fallback == ""
    assert row.weighted.estimate == pytest.approx(expected, abs=1e-9)
    assert row.raking is not None
    assert row.raking.design_effect == pytest.approx(raking.design_effect)
    assert row.raking.effective_sample_size == pytest.approx(raking.effective_sample_size)
    assert row.n == 130
    assert row.n_weighted == 125
    assert row.raking.iterations > 1


def test_unweighted_share_is_kept_beside_the_weighted_one(everyone: Survey) -> None:
    (row,) = survey_results(everyone, public=True).weighted
    safe = Answer.objects.filter(response__survey=everyone, value__choice="very_safe").count()
    assert row.unweighted == pytest.approx(safe / 130)
    interval = wilson_interval(safe, 130)
    assert row.unweighted_ci == pytest.approx((interval.low, interval.high))


def test_the_page_shows_both_columns_and_the_design_effect(everyone: Survey, user_for: Any) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    page = client.get(f"/manage/insight/surveys/{everyone.pk}/results/").content.decode()
    expected, raking = _expected(everyone)
    assert "Unweighted: people who answered" in page
    assert "Weighted to the population" in page
    assert f"<td>{round(expected * 100)}%</td>" in page
    assert f"<td>{raking.design_effect:.2f}</td>" in page
    assert f"<td>{round(raking.effective_sample_size)}</td>" in page
    assert "Which figure to use" in page


def test_staff_see_convergence_diagnostics_and_the_public_does_not(
    everyone: Survey, user_for: Any
) -> None:
    everyone.results_public = True
    everyone.save()
    client = Client()
    client.force_login(user_for("strategy_staff"))
    staff_page = client.get(f"/manage/insight/surveys/{everyone.pk}/results/").content.decode()
    public_page = Client().get(f"/surveys/{everyone.slug}/results/")
    assert "Weighting diagnostics (staff only)" in staff_page
    assert "Passes over the margins" in staff_page
    assert public_page.status_code == 200
    public = public_page.content.decode()
    assert "Weighted to the population" in public
    assert "Weighting diagnostics" not in public
    assert "Passes over the margins" not in public


def test_an_empty_population_category_falls_back_to_unweighted_with_a_note(
    survey: Survey,
) -> None:
    districts = list(Geography.objects.filter(kind="council_district").order_by("code"))
    for index in range(30):  # nobody Asian, nobody under 18 ...
        _respond(
            survey,
            district=districts[index % 5],
            safe="very_safe" if index % 2 else "very_unsafe",
            demographics={"race_ethnicity": ["white"], "age": "age_25_34"},
        )
    (row,) = survey_results(survey, public=False).weighted
    assert row.weighted is None
    assert row.raking is None
    assert "Nobody who answered is in" in row.fallback
    assert row.unweighted == pytest.approx(0.5)


def test_raking_that_does_not_converge_falls_back_with_a_note(
    everyone: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "RAKING_MAX_ITER", 1)
    monkeypatch.setattr(selectors, "RAKING_TOLERANCE", 1e-15)
    (row,) = survey_results(everyone, public=False).weighted
    assert row.weighted is None
    assert row.raking is not None
    assert not row.raking.converged
    assert "did not settle after 1 passes" in row.fallback


def test_too_few_people_stating_every_dimension_falls_back(survey: Survey) -> None:
    districts = list(Geography.objects.filter(kind="council_district").order_by("code"))
    for index in range(20):
        _respond(
            survey,
            district=districts[index % 5],
            safe="very_safe",
            demographics={"race_ethnicity": ["white"]} if index > 3 else {"age": "age_25_34"},
        )
    (row,) = survey_results(survey, public=False).weighted
    assert row.weighted is None
    assert row.n_weighted == 0
    assert "Only 0 of the people who answered" in row.fallback


def test_the_fallback_note_is_on_the_page(survey: Survey, user_for: Any) -> None:
    districts = list(Geography.objects.filter(kind="council_district").order_by("code"))
    for _index in range(12):
        _respond(
            survey,
            district=districts[0],
            safe="very_safe",
            demographics={"race_ethnicity": ["white"], "age": "age_25_34"},
        )
    client = Client()
    client.force_login(user_for("strategy_staff"))
    page = client.get(f"/manage/insight/surveys/{survey.pk}/results/").content.decode()
    assert "Not weighted:" in page
    assert "Nobody who answered is in" in page


def test_public_weighted_figures_are_hidden_under_the_threshold(survey: Survey) -> None:
    districts = list(Geography.objects.filter(kind="council_district").order_by("code"))
    for _index in range(4):
        _respond(
            survey,
            district=districts[0],
            safe="very_safe",
            demographics={"race_ethnicity": ["white"], "age": "age_25_34"},
        )
    (row,) = survey_results(survey, public=True).weighted
    assert row.suppressed
    assert row.unweighted is None
    assert row.weighted is None


def test_missing_population_figures_fall_back(db: Any) -> None:
    margins, reason = selectors.weighting_margins([], {"council_district": {"A": 1.0}})
    assert margins == []
    assert "race_ethnicity" in reason
    assert "age" in reason


def test_a_survey_without_safety_answers_has_no_weighted_rows(survey: Survey) -> None:
    assert survey_results(survey, public=False).weighted == []


def test_the_public_fallback_note_gives_no_count_under_the_threshold(survey: Survey) -> None:
    districts = list(Geography.objects.filter(kind="council_district").order_by("code"))
    for index in range(20):
        _respond(
            survey,
            district=districts[index % 5],
            safe="very_safe",
            demographics={"race_ethnicity": ["white"], "age": "age_25_34"}
            if index < 3
            else {"race_ethnicity": ["white"]},
        )
    (row,) = survey_results(survey, public=True).weighted
    assert row.weighted is None
    assert "Fewer than 10 of the people who answered" in row.fallback
    assert "3" not in row.fallback
