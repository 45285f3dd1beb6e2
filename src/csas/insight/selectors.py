"""Survey results for staff and the public ("what we heard"), computed from stored answers
with the analysis library: safety by group with intervals and small-cell suppression, who has
and has not been heard against the block-group population, the share feeling safe weighted
(raked) to the population, and residents' priorities from ranking and "top N" questions.

Weighting (documented fallback). For each safety question the respondents who gave an
opinion and stated their council district, race and age are raked
(:func:`csas.analysis.insight.weighting.rake`) to the block-group population margins of
those three dimensions, and the weighted share with its linearised 95% interval is shown
beside the unweighted one. When a margin's category has no respondent, when too few
respondents can be weighted, or when raking does not converge, no weighted figure is shown:
the page says why and the unweighted figure stands alone.

Priorities. Ranking questions are aggregated with Borda and Copeland
(:func:`csas.analysis.insight.priorities.rank_priorities`, bootstrap intervals with a fixed
seed so the figures do not change between page loads); "top N" questions with the share of
respondents picking each option (:func:`~csas.analysis.insight.priorities.top_picks`).
Groups (race, council district) with fewer answers than the suppression threshold are not
computed at all.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext

from csas.analysis.insight.comparison import GroupComparison, compare_groups
from csas.analysis.insight.comparison import wilson_interval as wilson_counts
from csas.analysis.insight.priorities import (
    OptionPicks,
    OptionPriority,
    RankingPriorities,
    TopPicks,
    rank_priorities,
    top_picks,
)
from csas.analysis.insight.representation import (
    AGE_FIELDS,
    RACE_FIELDS,
    Representation,
    UnderHeard,
    block_group_shares,
    rank_under_heard,
    representation,
)
from csas.analysis.insight.weighting import Estimate, Margin, RakingResult, rake, weighted_mean
from csas.engagement.models import (
    Answer,
    Option,
    Question,
    QuestionKind,
    Response,
    ResponseStatus,
    Survey,
)
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
class MarginCheck:
    """One category of a raking margin: how the weighted respondents compare with the
    population before and after weighting (staff diagnostics)."""

    margin: str
    category: str
    respondents: int
    sample_share: float
    population_share: float
    weighted_share: float | None


@dataclass(frozen=True)
class WeightedSafety:
    """The share feeling safe on one safety question, unweighted and weighted.

    Fields:
        question: the question's text.
        n: respondents who gave an opinion (the unweighted base).
        unweighted, unweighted_ci: their share feeling safe, with a Wilson 95% interval.
        n_weighted: of those, respondents who stated every weighting dimension (raked).
        weighted: the raked estimate (None when weighting fell back, see ``fallback``).
        raking: the raking result with its convergence diagnostics (None when not raked).
        fallback: why no weighted figure is shown ("" when it is).
        margins: each margin category before and after weighting.
        suppressed: public page and fewer answers than the threshold: nothing is shown.
    """

    question: str
    n: int
    unweighted: float | None
    unweighted_ci: tuple[float, float] | None
    n_weighted: int
    weighted: Estimate | None
    raking: RakingResult | None
    fallback: str
    margins: tuple[MarginCheck, ...]
    suppressed: bool

    @property
    def weight_range(self) -> tuple[float, float] | None:
        """Smallest and largest weight as multiples of the mean weight."""
        if self.raking is None:
            return None
        weights = self.raking.weights
        mean = float(weights.mean())
        return (float(weights.min()) / mean, float(weights.max()) / mean)


@dataclass(frozen=True)
class PriorityRow:
    """One option of a priorities table: its label and its standing (ranking or picks)."""

    value: str
    option: Option | None
    ranking: OptionPriority | None = None
    picks: OptionPicks | None = None
    borda_place: int | None = None
    copeland_place: int | None = None
    # Public pages: a share resting on 1 to threshold - 1 people is hidden.
    first_hidden: bool = False
    top_hidden: bool = False
    picks_hidden: bool = False


@dataclass(frozen=True)
class PriorityGroup:
    """Priorities among one group of respondents (or all of them: ``group`` "").

    ``n`` is the group's non-empty answers; a group under the threshold is ``suppressed``
    and nothing is computed for it. ``error`` holds the library's message when the answers
    could not be aggregated."""

    dimension: str
    group: str
    n: int
    suppressed: bool
    ranking: RankingPriorities | None = None
    picks: TopPicks | None = None
    rows: tuple[PriorityRow, ...] = ()
    error: str = ""

    @property
    def copeland_order(self) -> tuple[PriorityRow, ...]:
        return tuple(sorted(self.rows, key=lambda row: row.copeland_place or 0))


@dataclass(frozen=True)
class GroupMatrixRow:
    """One option across the groups of a dimension: its standing in each group, or None
    where the group is suppressed or could not be computed."""

    value: str
    option: Option | None
    cells: tuple[PriorityRow | None, ...]


@dataclass(frozen=True)
class PriorityBreakdown:
    """Priorities of one question by one dimension (race, council district)."""

    dimension: str
    groups: tuple[PriorityGroup, ...]
    matrix: tuple[GroupMatrixRow, ...]


@dataclass(frozen=True)
class QuestionPriorities:
    question: Question
    overall: PriorityGroup
    breakdowns: tuple[PriorityBreakdown, ...] = ()

    @property
    def is_ranking(self) -> bool:
        return bool(self.question.kind == QuestionKind.RANKING)


@dataclass(frozen=True)
class SurveyResults:
    survey: Survey
    n: int
    threshold: int
    questions: list[QuestionSummary]
    safety: list[tuple[str, str, GroupComparison]]
    representation: list[tuple[str, Representation]]
    weighted: list[WeightedSafety] = field(default_factory=list)
    priorities: list[QuestionPriorities] = field(default_factory=list)


def _submitted(survey: Survey) -> list[Response]:
    return list(
        Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED)
        .select_related("council_district", "neighbourhood")
        # the districts' polygons are large and never used here
        .defer("council_district__geometry", "neighbourhood__geometry")
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


SafetyAnswers = dict[tuple[int, int], Any]


def _safety_questions(survey: Survey) -> list[Question]:
    """The first two questions on the safety scale (day and night, in the bundled survey)."""
    return [
        q
        for q in survey.questions.filter(kind="likert")
        if (q.config or {}).get("scale") == "safety5"
    ][:2]


def _safety_answers(responses: list[Response], questions: list[Question]) -> SafetyAnswers:
    if not questions or not responses:
        return {}
    return {
        (response_id, question_id): value
        for response_id, question_id, value in Answer.objects.filter(
            response__in=responses, question__in=questions
        ).values_list("response_id", "question_id", "value")
    }


def _feels_safe(
    question: Question, responses: list[Response], answers: SafetyAnswers
) -> list[float | None]:
    """1.0 feels safe, 0.0 does not, None for no answer or no opinion, per response."""
    values: list[float | None] = []
    for response in responses:
        choice = (answers.get((response.pk, question.pk)) or {}).get("choice")
        values.append(
            None if choice is None or choice in NOT_AN_OPINION else float(choice in FEELS_SAFE)
        )
    return values


def _district_group(response: Response) -> str | None:
    return response.council_district.name if response.council_district else None


# The dimensions results are broken down by, each respondent's category (None: not stated).
GROUPERS: dict[str, Callable[[Response], str | None]] = {
    "council_district": _district_group,
    "race_ethnicity": lambda r: _race_group(r.demographics.get("race_ethnicity")),
    "age": lambda r: _age_group(r.demographics.get("age")),
}


def _safety_comparisons(
    responses: list[Response], questions: list[Question], answers: SafetyAnswers, threshold: int
) -> list[tuple[str, str, GroupComparison]]:
    if not questions or not responses:
        return []
    dimensions = {name: [grouper(r) for r in responses] for name, grouper in GROUPERS.items()}
    results = []
    for question in questions:
        values = _feels_safe(question, responses, answers)
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
        if sum(participants.values()) == participants["prefer not to say"]:
            continue  # nobody stated a category: nothing to compare yet
        results.append(
            (
                dimension,
                representation(
                    participants, population[dimension], dimension=dimension, threshold=threshold
                ),
            )
        )
    return results


@dataclass(frozen=True)
class WhoIsMissing:
    """For the engagement dashboard: how closely each breakdown of the people who answered
    mirrors the population (`Representation.score`, 1 = a mirror), and the groups and places
    heard from least, least heard first."""

    scores: list[tuple[str, float, int]]  # breakdown, score, people who stated a category
    under_heard: list[UnderHeard]


def survey_who_is_missing(survey: Survey, *, limit: int = 5) -> WhoIsMissing:
    """Staff figures (small groups shown): never put these on a public page."""
    results = _representation(survey, _submitted(survey), 1)
    return WhoIsMissing(
        scores=[(dimension, result.score, result.n) for dimension, result in results],
        under_heard=list(rank_under_heard([result for _, result in results], limit=limit)),
    )


# --- weighting -------------------------------------------------------------------------------

#: The margins raked to, in this order (the population side comes from ``_population``).
WEIGHTING_DIMENSIONS = ("council_district", "race_ethnicity", "age")
RAKING_MAX_ITER = 100
RAKING_TOLERANCE = 1e-6


def weighting_margins(
    responses: Sequence[Response], population: dict[str, dict[str, float]]
) -> tuple[list[Margin], str]:
    """Raking margins for ``responses`` (every one must state every dimension), or [] and
    the reason they cannot be built. Population counts become shares of one common total
    (the race table's), because the block-group tables disagree slightly on the total."""
    missing = [d for d in WEIGHTING_DIMENSIONS if not population.get(d)]
    if missing:
        return [], gettext(
            "The population figures for %(dimensions)s are not loaded, so the answers cannot "
            "be weighted."
        ) % {"dimensions": ", ".join(missing)}
    total = sum(population["race_ethnicity"].values())
    margins = []
    for dimension in WEIGHTING_DIMENSIONS:
        counts = {c: v for c, v in population[dimension].items() if v > 0}
        labels = [GROUPERS[dimension](r) for r in responses]
        present = set(labels)
        unknown = sorted(str(label) for label in present - set(counts))
        if unknown:
            return [], gettext(
                "Some people answered %(categories)s for %(dimension)s, which has no "
                "population figure."
            ) % {"categories": ", ".join(unknown), "dimension": dimension}
        empty = sorted(set(counts) - present)
        if empty:
            return [], gettext(
                "Nobody who answered is in %(categories)s (%(dimension)s), so the answers "
                "cannot be weighted to the population of that group."
            ) % {"categories": ", ".join(empty), "dimension": dimension}
        dimension_total = sum(counts.values())
        margins.append(
            Margin.from_shares(
                dimension,
                np.array(labels, dtype=object),
                {c: v / dimension_total for c, v in counts.items()},
                total,
            )
        )
    return margins, ""


def _margin_checks(margins: list[Margin], raking: RakingResult | None) -> tuple[MarginCheck, ...]:
    checks = []
    for margin in margins:
        labels = np.asarray(margin.labels).astype(str)
        total_target = sum(margin.targets.values())
        total_weight = float(raking.weights.sum()) if raking is not None else 0.0
        for category in sorted(margin.targets):
            mask = labels == category
            checks.append(
                MarginCheck(
                    margin=margin.name,
                    category=category,
                    respondents=int(mask.sum()),
                    sample_share=float(mask.mean()),
                    population_share=margin.targets[category] / total_target,
                    weighted_share=(
                        float(raking.weights[mask].sum()) / total_weight
                        if raking is not None
                        else None
                    ),
                )
            )
    return tuple(checks)


def _weighted_safety(
    survey: Survey,
    responses: list[Response],
    questions: list[Question],
    answers: SafetyAnswers,
    threshold: int,
    public: bool,
) -> list[WeightedSafety]:
    if not questions or not responses:
        return []
    population = _population(survey.strategy.city_id)
    results = []
    for question in questions:
        values = _feels_safe(question, responses, answers)
        answered = [(r, v) for r, v in zip(responses, values, strict=True) if v is not None]
        if not answered:
            continue
        n = len(answered)
        if public and n < threshold:
            results.append(
                WeightedSafety(question.text, n, None, None, 0, None, None, "", (), True)
            )
            continue
        safe = int(sum(v for _, v in answered))
        interval = wilson_counts(safe, n)
        complete = [
            (r, v) for r, v in answered if all(GROUPERS[d](r) for d in WEIGHTING_DIMENSIONS)
        ]
        weighted: Estimate | None = None
        raking: RakingResult | None = None
        margins: list[Margin] = []
        if len(complete) < threshold and public:
            # the exact number would be a count under the threshold
            fallback = gettext(
                "Fewer than %(threshold)s of the people who answered stated their council "
                "district, race and age; that many are needed to weight the answers."
            ) % {"threshold": threshold}
        elif len(complete) < threshold:
            fallback = gettext(
                "Only %(n)s of the people who answered stated their council district, race and "
                "age; at least %(threshold)s are needed to weight the answers."
            ) % {"n": len(complete), "threshold": threshold}
        else:
            margins, fallback = weighting_margins([r for r, _ in complete], population)
        if margins:
            try:
                raking = rake(
                    np.ones(len(complete)),
                    margins,
                    max_iter=RAKING_MAX_ITER,
                    tolerance=RAKING_TOLERANCE,
                )
            except ValueError as error:
                fallback = gettext("The answers could not be weighted: %(reason)s") % {
                    "reason": str(error)
                }
            else:
                if raking.converged:
                    weighted = weighted_mean(np.array([v for _, v in complete]), raking)
                else:
                    fallback = gettext(
                        "Weighting did not settle after %(iterations)s passes (the largest "
                        "gap from a population figure is still %(error)s%%)."
                    ) % {
                        "iterations": raking.iterations,
                        "error": f"{raking.max_relative_error * 100:.2f}",
                    }
        results.append(
            WeightedSafety(
                question=question.text,
                n=n,
                unweighted=safe / n,
                unweighted_ci=(interval.low, interval.high),
                n_weighted=len(complete),
                weighted=weighted,
                raking=raking,
                fallback=fallback,
                margins=() if public else _margin_checks(margins, raking),
                suppressed=False,
            )
        )
    return results


# --- priorities ------------------------------------------------------------------------------

PRIORITY_KINDS = (QuestionKind.RANKING, QuestionKind.TOP_N)
PRIORITY_BREAKDOWNS = ("race_ethnicity", "council_district")
#: Fixed, so the bootstrap intervals are the same on every page load.
PRIORITY_SEED = 2024
PRIORITY_BOOTSTRAP = 2000
PRIORITY_CACHE_SECONDS = 60 * 60 * 24


def _places(scores: Sequence[float]) -> list[int]:
    """Competition places (1 = highest score; ties share the better place)."""
    return [1 + sum(1 for other in scores if other > score + 1e-12) for score in scores]


def _priority_group(
    question: Question,
    options: dict[str, Option],
    answers: list[list[str]],
    *,
    dimension: str,
    group: str,
    threshold: int,
    public: bool = False,
) -> PriorityGroup:
    def small(count: int) -> bool:
        return public and 0 < count < threshold

    non_empty = [answer for answer in answers if answer]
    n = len(non_empty)
    if n < threshold:
        return PriorityGroup(dimension, group, n, suppressed=True)
    if question.kind == QuestionKind.RANKING:
        top_n = min(3, len(options)) if len(options) >= 2 else 1
        # The bootstrap takes about a second for thousands of answers: keep results under a
        # digest of exactly what goes in, so unchanged answers are never recomputed.
        key = (
            "csas:priorities:"
            + hashlib.sha256(
                json.dumps(
                    [list(options), non_empty, top_n, PRIORITY_SEED, PRIORITY_BOOTSTRAP]
                ).encode()
            ).hexdigest()
        )
        ranking = cache.get(key)
        if ranking is None:
            try:
                ranking = rank_priorities(
                    non_empty,
                    options=list(options) or None,
                    top_n=top_n,
                    n_bootstrap=PRIORITY_BOOTSTRAP,
                    seed=PRIORITY_SEED,
                )
            except ValueError as error:
                return PriorityGroup(dimension, group, n, suppressed=False, error=str(error))
            cache.set(key, ranking, PRIORITY_CACHE_SECONDS)
        borda = _places([o.borda for o in ranking.options])
        copeland = _places([o.copeland for o in ranking.options])
        rows = tuple(
            PriorityRow(
                value=standing.option,
                option=options.get(standing.option),
                ranking=standing,
                borda_place=borda[i],
                copeland_place=copeland[i],
                first_hidden=small(round(standing.first_share * n)),
                top_hidden=small(round(standing.top_n_share * n)),
            )
            for i, standing in enumerate(ranking.options)
        )
        return PriorityGroup(dimension, group, n, False, ranking=ranking, rows=rows)
    try:
        picks = top_picks(non_empty, options=list(options) or None)
    except ValueError as error:
        return PriorityGroup(dimension, group, n, suppressed=False, error=str(error))
    rows = tuple(
        PriorityRow(
            value=p.option, option=options.get(p.option), picks=p, picks_hidden=small(p.n_picked)
        )
        for p in picks.options
    )
    return PriorityGroup(dimension, group, n, False, picks=picks, rows=rows)


def _matrix(
    options: dict[str, Option], groups: tuple[PriorityGroup, ...]
) -> tuple[GroupMatrixRow, ...]:
    lookup = [{row.value: row for row in group.rows} for group in groups]
    return tuple(
        GroupMatrixRow(value, option, tuple(rows.get(value) for rows in lookup))
        for value, option in options.items()
    )


def _priorities(
    survey: Survey, responses: list[Response], threshold: int, *, by_group: bool, public: bool
) -> list[QuestionPriorities]:
    questions = list(
        survey.questions.filter(kind__in=PRIORITY_KINDS)
        .prefetch_related("options")
        .order_by("order")
    )
    if not questions or not responses:
        return []
    key = {QuestionKind.RANKING: "ranking", QuestionKind.TOP_N: "choices"}
    stored: dict[tuple[int, int], list[str]] = {}
    kinds = {q.pk: key[QuestionKind(q.kind)] for q in questions}
    for response_id, question_id, value in Answer.objects.filter(
        response__in=responses, question__in=questions
    ).values_list("response_id", "question_id", "value"):
        stored[(response_id, question_id)] = list((value or {}).get(kinds[question_id]) or [])
    results = []
    for question in questions:
        options = {o.value: o for o in question.options.all() if not o.prefer_not_to_say}
        answers = [stored.get((r.pk, question.pk), []) for r in responses]
        if not any(answers):
            continue
        overall = _priority_group(
            question, options, answers, dimension="", group="", threshold=threshold, public=public
        )
        breakdowns = []
        if by_group:
            for dimension in PRIORITY_BREAKDOWNS:
                grouper = GROUPERS[dimension]
                labels = [grouper(r) for r in responses]
                groups = tuple(
                    _priority_group(
                        question,
                        options,
                        [a for a, g in zip(answers, labels, strict=True) if g == name],
                        dimension=dimension,
                        group=name,
                        threshold=threshold,
                    )
                    for name in sorted({g for g, a in zip(labels, answers, strict=True) if g and a})
                )
                if groups:
                    breakdowns.append(
                        PriorityBreakdown(dimension, groups, _matrix(options, groups))
                    )
        results.append(QuestionPriorities(question, overall, tuple(breakdowns)))
    return results


@dataclass(frozen=True)
class SurveyPriorities:
    survey: Survey
    n: int
    threshold: int
    questions: list[QuestionPriorities]


def survey_priorities(survey: Survey) -> SurveyPriorities:
    """Every ranking and "top N" question, overall and by race and council district (staff)."""
    threshold = suppression_threshold()
    responses = _submitted(survey)
    return SurveyPriorities(
        survey=survey,
        n=len(responses),
        threshold=threshold,
        questions=_priorities(survey, responses, threshold, by_group=True, public=False),
    )


# --- any question, any breakdown (staff) ------------------------------------------------------

COMPARABLE_KINDS = (
    QuestionKind.SINGLE_CHOICE,
    QuestionKind.LIKERT,
    QuestionKind.MULTIPLE_CHOICE,
    QuestionKind.RATING,
)


def _demographic_group(key: str) -> Callable[[Response], str | None]:
    def group(response: Response) -> str | None:
        value = response.demographics.get(key)
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else ("several" if value else None)
        if not isinstance(value, str) or value in NOT_AN_OPINION:
            return None
        return value

    return group


def comparison_breakdowns(survey: Survey) -> dict[str, Callable[[Response], str | None]]:
    """The breakdowns a question can be compared across: council district, neighbourhood,
    race and age as the results page groups them, and every other demographic question of the
    survey by its answer."""
    breakdowns: dict[str, Callable[[Response], str | None]] = dict(GROUPERS)
    breakdowns["neighbourhood"] = lambda r: r.neighbourhood.name if r.neighbourhood else None
    for key in (
        survey.questions.exclude(demographic="")
        .order_by("order")
        .values_list("demographic", flat=True)
    ):
        breakdowns.setdefault(key, _demographic_group(key))
    return breakdowns


@dataclass(frozen=True)
class QuestionComparison:
    """One question compared across one breakdown: the share choosing `chosen` (choice
    questions) or the mean (ratings) per group, with 95% intervals and Holm-adjusted
    differences from the largest group."""

    question: Question
    breakdown: str
    chosen: list[str]
    measure: str
    comparison: GroupComparison | None
    message: str


def survey_compare_question(
    survey: Survey, *, question: Question, breakdown: str, chosen: Sequence[str]
) -> QuestionComparison:
    """For staff: small groups are shown (threshold 1), as on the staff results page."""
    breakdowns = comparison_breakdowns(survey)
    if breakdown not in breakdowns:
        raise ValueError(f"unknown breakdown {breakdown!r}")
    responses = _submitted(survey)
    stored = dict(
        Answer.objects.filter(
            question=question, response__survey=survey, response__status=ResponseStatus.SUBMITTED
        ).values_list("response_id", "value")
    )
    measure = "mean" if question.kind == QuestionKind.RATING else "proportion"
    wanted = set(chosen)
    values: list[float | None] = []
    for response in responses:
        value = stored.get(response.pk) or {}
        if measure == "mean":
            number = value.get("number")
            values.append(float(number) if isinstance(number, int | float) else None)
            continue
        picked = value.get("choices", [value["choice"]] if "choice" in value else [])
        opinions = [p for p in picked if p not in NOT_AN_OPINION]
        values.append(None if not opinions else float(bool(wanted.intersection(opinions))))
    grouper = breakdowns[breakdown]
    groups = [grouper(r) for r in responses]
    present = Counter(g for g, v in zip(groups, values, strict=True) if g and v is not None)
    if measure == "proportion" and not wanted:
        message = gettext("Choose the answers to count.")
        return QuestionComparison(question, breakdown, list(chosen), measure, None, message)
    if len(present) < 2:
        message = gettext("Fewer than two groups answered this question: nothing to compare.")
        return QuestionComparison(question, breakdown, list(chosen), measure, None, message)
    comparison = compare_groups(
        values,
        groups,
        reference=present.most_common(1)[0][0],
        measure=measure,  # type: ignore[arg-type]
        adjust="holm",
        threshold=1,
    )
    return QuestionComparison(question, breakdown, list(chosen), measure, comparison, "")


def survey_results(survey: Survey, *, public: bool) -> SurveyResults:
    """Everything the results page shows, computed now from stored answers."""
    threshold = suppression_threshold()
    responses = _submitted(survey)
    safety_questions = _safety_questions(survey)
    answers = _safety_answers(responses, safety_questions)
    return SurveyResults(
        survey=survey,
        n=len(responses),
        threshold=threshold,
        questions=_question_summaries(survey, threshold, public),
        safety=_safety_comparisons(responses, safety_questions, answers, threshold),
        representation=_representation(survey, responses, threshold if public else 1),
        weighted=_weighted_safety(survey, responses, safety_questions, answers, threshold, public),
        priorities=_priorities(survey, responses, threshold, by_group=False, public=public),
    )
