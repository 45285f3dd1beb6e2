"""Survey results for staff and the public ("what we heard"), computed from stored answers
with the analysis library: safety by group with intervals and small-cell suppression, and
who has and has not been heard against the block-group population."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings

from csas.analysis.insight.comparison import GroupComparison, compare_groups
from csas.analysis.insight.representation import (
    AGE_FIELDS,
    RACE_FIELDS,
    Representation,
    block_group_shares,
    representation,
)
from csas.engagement.models import Answer, Response, ResponseStatus, Survey
from csas.strategy.models import Geography, GeographyKind

# Answers that count as "feels safe" on the survey's safety scale.
FEELS_SAFE = frozenset({"very_safe", "somewhat_safe"})
NOT_AN_OPINION = frozenset(
    {"dont_know", "prefer_not", "prefer_not_to_say", "not_applicable", "dont_go"}
)

# Survey race/ethnicity and age answers mapped onto the Equity Index's population categories.
RACE_TO_POPULATION = {
    "american_indian_alaska_native": RACE_FIELDS["americanindianoralaskannative"],
    "asian": RACE_FIELDS["asian"],
    "black_african_american": RACE_FIELDS["blackorafricanamerican"],
    "native_hawaiian_pacific_islander": RACE_FIELDS["nativehawaiianorpacificislander"],
    "white": RACE_FIELDS["white"],
    "another_race": RACE_FIELDS["otherrace"],
}
AGE_TO_POPULATION = {
    "under_18": AGE_FIELDS["populationunder18"],
    "age_18_24": AGE_FIELDS["population18to64"],
    "age_25_34": AGE_FIELDS["population18to64"],
    "age_35_44": AGE_FIELDS["population18to64"],
    "age_45_54": AGE_FIELDS["population18to64"],
    "age_55_64": AGE_FIELDS["population18to64"],
    "age_65_74": AGE_FIELDS["population65andabove"],
    "age_75_plus": AGE_FIELDS["population65andabove"],
}


def suppression_threshold() -> int:
    return int(settings.SUPPRESSION_THRESHOLD)


def _race_group(value: Any) -> str | None:
    """One population category per respondent: several races chosen is "Two or more races"."""
    chosen = [v for v in (value or []) if v in RACE_TO_POPULATION]
    if not chosen:
        return None
    if len(chosen) > 1:
        return RACE_FIELDS["twoormoreraces"]
    return RACE_TO_POPULATION[chosen[0]]


def _age_group(value: Any) -> str | None:
    return AGE_TO_POPULATION.get(value) if isinstance(value, str) else None


@dataclass(frozen=True)
class QuestionSummary:
    key: str
    text: str
    n: int
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class SurveyResults:
    survey: Survey
    n: int
    threshold: int
    questions: list[QuestionSummary]
    safety: list[tuple[str, str, GroupComparison]]
    representation: list[tuple[str, Representation]]


def _submitted(survey: Survey) -> list[Response]:
    return list(
        Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED).select_related(
            "council_district", "neighbourhood"
        )
    )


def _question_summaries(survey: Survey, threshold: int, public: bool) -> list[QuestionSummary]:
    summaries = []
    questions = survey.questions.filter(
        kind__in=["single_choice", "likert", "multiple_choice"], demographic=""
    ).prefetch_related("options")
    answers = Answer.objects.filter(
        response__survey=survey, response__status=ResponseStatus.SUBMITTED
    )
    by_question: dict[int, list[Any]] = {}
    for question_id, value in answers.values_list("question_id", "value"):
        by_question.setdefault(question_id, []).append(value)
    for question in questions:
        values = by_question.get(question.pk, [])
        counts: Counter[str] = Counter()
        for value in values:
            counts.update(value.get("choices") or [value.get("choice")])
        n = len(values)
        rows = []
        for option in question.options.all():
            count = counts.get(option.value, 0)
            hidden = public and 0 < count < threshold
            rows.append(
                {
                    "option": option,
                    "count": None if hidden else count,
                    "share": None if hidden or not n else count / n,
                    "suppressed": hidden,
                }
            )
        summaries.append(QuestionSummary(question.key, question.text, n, rows))
    return summaries


def _safety_comparisons(
    survey: Survey, responses: list[Response], threshold: int
) -> list[tuple[str, str, GroupComparison]]:
    safety_questions = [
        q
        for q in survey.questions.filter(kind="likert")
        if (q.config or {}).get("scale") == "safety5"
    ]
    if not safety_questions or not responses:
        return []
    answers: dict[tuple[int, int], Any] = {
        (response_id, question_id): value
        for response_id, question_id, value in Answer.objects.filter(
            response__in=responses, question__in=safety_questions
        ).values_list("response_id", "question_id", "value")
    }
    dimensions = {
        "council_district": [
            r.council_district.name if r.council_district else None for r in responses
        ],
        "race_ethnicity": [_race_group(r.demographics.get("race_ethnicity")) for r in responses],
        "age": [_age_group(r.demographics.get("age")) for r in responses],
    }
    results = []
    for question in safety_questions[:2]:
        values: list[float | None] = []
        for response in responses:
            choice = (answers.get((response.pk, question.pk)) or {}).get("choice")
            values.append(
                None if choice is None or choice in NOT_AN_OPINION else float(choice in FEELS_SAFE)
            )
        if all(value is None for value in values):
            continue
        for dimension, groups in dimensions.items():
            present = Counter(g for g, v in zip(groups, values, strict=True) if g and v is not None)
            if len(present) < 2:
                continue
            reference = present.most_common(1)[0][0]
            results.append(
                (
                    question.text,
                    dimension,
                    compare_groups(
                        values,
                        groups,
                        reference=reference,
                        measure="proportion",
                        adjust="holm",
                        threshold=threshold,
                    ),
                )
            )
    return results


@lru_cache(maxsize=8)
def _population(city_id: int) -> dict[str, dict[str, float]]:
    """Population per council district (areal interpolation from block groups), race and age
    (population-weighted block-group shares). Cached per process: geography rarely changes."""
    from shapely.geometry import shape

    from csas.analysis.safety.geo import Area, areal_interpolate

    block_groups = list(Geography.objects.filter(city_id=city_id, kind=GeographyKind.BLOCK_GROUP))
    districts = list(Geography.objects.filter(city_id=city_id, kind=GeographyKind.COUNCIL_DISTRICT))
    result: dict[str, dict[str, float]] = {}
    if block_groups and districts:
        moved = areal_interpolate(
            [bg.population or 0 for bg in block_groups],
            [Area(bg.code, shape(bg.geometry)) for bg in block_groups],
            [Area(d.name, shape(d.geometry)) for d in districts],
        )
        result["council_district"] = moved.total_by_code()
    rows = [{"population": bg.population or 0, **bg.attributes} for bg in block_groups]
    if rows:
        result["race_ethnicity"] = dict(block_group_shares(rows, "race").counts)
        result["age"] = dict(block_group_shares(rows, "age").counts)
    return result


def _representation(
    survey: Survey, responses: list[Response], threshold: int
) -> list[tuple[str, Representation]]:
    population = _population(survey.strategy.city_id)
    observed = {
        "council_district": Counter(
            r.council_district.name if r.council_district else "prefer not to say"
            for r in responses
        ),
        "race_ethnicity": Counter(
            _race_group(r.demographics.get("race_ethnicity")) or "prefer not to say"
            for r in responses
        ),
        "age": Counter(
            _age_group(r.demographics.get("age")) or "prefer not to say" for r in responses
        ),
    }
    results = []
    for dimension, counts in observed.items():
        if dimension not in population or not responses:
            continue
        participants = {category: counts.get(category, 0) for category in population[dimension]}
        participants["prefer not to say"] = counts.get("prefer not to say", 0)
        results.append(
            (
                dimension,
                representation(
                    participants, population[dimension], dimension=dimension, threshold=threshold
                ),
            )
        )
    return results


def survey_results(survey: Survey, *, public: bool) -> SurveyResults:
    """Everything the results page shows, computed now from stored answers."""
    threshold = suppression_threshold()
    responses = _submitted(survey)
    return SurveyResults(
        survey=survey,
        n=len(responses),
        threshold=threshold,
        questions=_question_summaries(survey, threshold, public),
        safety=_safety_comparisons(survey, responses, threshold),
        representation=_representation(survey, responses, threshold if public else 1),
    )
