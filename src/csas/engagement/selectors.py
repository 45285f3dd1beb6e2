"""Reads for engagement. Raw responses and personal data load only through `*_for_user`."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import TruncWeek
from django.http import Http404

from csas.engagement.models import (
    MapComment,
    ModerationStatus,
    Option,
    Question,
    Response,
    ResponseStatus,
    Section,
    Survey,
    SurveyStatus,
)
from csas.strategy.models import Strategy


def survey_list_public(strategy: Strategy) -> QuerySet[Survey]:
    return Survey.objects.filter(strategy=strategy, status=SurveyStatus.OPEN).order_by("title")


def survey_list_with_results(strategy: Strategy) -> QuerySet[Survey]:
    """Open or closed surveys whose aggregate results staff have published."""
    return (
        Survey.objects.filter(strategy=strategy, results_public=True)
        .exclude(status=SurveyStatus.DRAFT)
        .order_by("title")
    )


def survey_get_public(strategy: Strategy, slug: str) -> Survey:
    """An open or closed survey (closed ones say so); drafts are "not found" to the public."""
    survey = (
        Survey.objects.filter(strategy=strategy, slug=slug)
        .exclude(status=SurveyStatus.DRAFT)
        .first()
    )
    if survey is None:
        raise Http404("No such survey.")
    return survey


def sections_with_questions(survey: Survey) -> list[Section]:
    questions = Question.objects.order_by("order").prefetch_related(
        Prefetch("options", queryset=Option.objects.order_by("order"))
    )
    return list(
        survey.sections.order_by("order").prefetch_related(
            Prefetch("questions", queryset=questions)
        )
    )


def response_get_by_token(survey: Survey, token: str) -> Response:
    """The response a resume link points to; "not found" for any bad or foreign token."""
    try:
        public_id = uuid.UUID(token)
    except ValueError:
        raise Http404("No such response.") from None
    response = Response.objects.filter(survey=survey, public_id=public_id).first()
    if response is None:
        raise Http404("No such response.")
    return response


def response_get_for_submit(slug: str, token: str) -> Response:
    """`response_get_by_token` for the submit POST, in one query: the response (with its
    survey, strategy and city) of a public survey `slug` of the site's strategy, while that
    strategy has a published version; "not found" alike for anything else."""
    try:
        public_id = uuid.UUID(token)
    except ValueError:
        raise Http404("No such response.") from None
    responses = (
        Response.objects.select_related("survey__strategy__city")
        .filter(
            public_id=public_id,
            survey__slug=slug,
            survey__strategy__versions__is_published=True,
        )
        .exclude(survey__status=SurveyStatus.DRAFT)
    )
    if settings.CSAS_STRATEGY_SLUG:
        responses = responses.filter(survey__strategy__slug=settings.CSAS_STRATEGY_SLUG)
    else:  # the only strategy loaded (see strategy_get_default)
        first = Strategy.objects.order_by("pk").values("pk")[:1]
        responses = responses.filter(survey__strategy_id=Subquery(first))
    response = responses.first()
    if response is None:
        raise Http404("No such response.")
    return response


def answers_by_key(response: Response) -> dict[str, Any]:
    return {
        answer.question.key: answer.value for answer in response.answers.select_related("question")
    }


def map_comments_public(strategy: Strategy) -> QuerySet[MapComment]:
    """Published comments only, with moderated text; never the raw text or the author key."""
    return (
        MapComment.objects.filter(strategy=strategy, status=ModerationStatus.PUBLISHED)
        .only(
            "id",
            "category",
            "redacted_text",
            "lon",
            "lat",
            "redacted_address",
            "submitted_at",
            "neighbourhood__name",
        )
        .select_related("neighbourhood")
    )


def response_counts(survey: Survey) -> dict[str, Any]:
    submitted = Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED)
    return {
        "submitted": submitted.count(),
        "in_progress": Response.objects.filter(
            survey=survey, status=ResponseStatus.IN_PROGRESS
        ).count(),
        "by_week": [
            {"week": row["week"], "n": row["n"]}
            for row in submitted.annotate(week=TruncWeek("submitted_at"))
            .values("week")
            .annotate(n=Count("id"))
            .order_by("week")
        ],
        "by_language": list(submitted.values("language").annotate(n=Count("id")).order_by("-n")),
        "by_channel": list(submitted.values("channel").annotate(n=Count("id")).order_by("-n")),
        "by_neighbourhood": list(
            submitted.values("neighbourhood__name")
            .annotate(n=Count("id"))
            .order_by("neighbourhood__name")
        ),
        "by_council_district": list(
            submitted.values("council_district__name")
            .annotate(n=Count("id"))
            .order_by("council_district__name")
        ),
    }


def survey_missing_translations(survey: Survey) -> dict[str, list[str]]:
    """Per language of the survey, the translation keys still missing (to list before opening).

    Options built from the strategy or the city's geography are translated with that content
    and are not listed here.
    """
    from csas.engagement.survey_file import expected_translation_keys

    if not survey.definition:
        return {}
    expected = expected_translation_keys(survey.definition)
    given = survey.definition.get("translations", {})
    return {
        language: [key for key in expected if not given.get(language, {}).get(key)]
        for language in survey.languages
        if language != "en"
    }


SUPPRESSION_DEFAULT = 10


def _neighbourhood_population(city_id: int) -> tuple[list[Any], dict[int, int]]:
    """The city's neighbourhood council districts by name, and each one's population: the
    block groups whose centre lies in it (an approximation; the pages say so)."""
    from shapely.geometry import shape

    from csas.strategy.models import Geography, GeographyKind

    neighbourhoods = list(
        Geography.objects.filter(
            city_id=city_id, kind=GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT
        ).order_by("name")
    )
    shapes = [(n, shape(n.geometry)) for n in neighbourhoods if n.geometry]
    population = {n.pk: 0 for n in neighbourhoods}
    for block_group in Geography.objects.filter(city_id=city_id, kind=GeographyKind.BLOCK_GROUP):
        if not block_group.geometry or not block_group.population:
            continue
        centre = shape(block_group.geometry).representative_point()
        for neighbourhood, outline in shapes:
            if outline.covers(centre):
                population[neighbourhood.pk] += block_group.population
                break
    for neighbourhood in neighbourhoods:
        if not population[neighbourhood.pk] and neighbourhood.population:
            population[neighbourhood.pk] = neighbourhood.population  # the layer's own figure
    return neighbourhoods, population


def reach_against_population(survey: Survey) -> list[dict[str, Any]]:
    """Submitted responses per neighbourhood against its population: a first view of who is
    missing. Population comes from the block groups whose centre lies in each neighbourhood
    (an approximation until areal interpolation lands; said on the page)."""
    neighbourhoods, population = _neighbourhood_population(survey.strategy.city_id)
    counts = dict(
        Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED)
        .values_list("neighbourhood")
        .annotate(n=Count("id"))
        .values_list("neighbourhood", "n")
    )
    total_population = sum(population.values()) or 1
    total_responses = sum(counts.get(n.pk, 0) for n in neighbourhoods) or 0
    rows = []
    for neighbourhood in neighbourhoods:
        responses = counts.get(neighbourhood.pk, 0)
        share_population = population[neighbourhood.pk] / total_population
        share_responses = responses / total_responses if total_responses else 0.0
        rows.append(
            {
                "name": neighbourhood.name,
                "population": population[neighbourhood.pk],
                "responses": responses,
                "share_population": share_population,
                "share_responses": share_responses,
                "per_1000": 1000 * responses / population[neighbourhood.pk]
                if population[neighbourhood.pk]
                else None,
            }
        )
    return rows


#: The channels `heard_by_channel` counts, in the order the dashboard shows them.
HEARD_CHANNELS = ("survey", "activities", "map", "notes")


def heard_by_channel(strategy: Strategy) -> dict[str, Any]:
    """Who has been heard, by neighbourhood, across every channel, for the staff dashboard.

    Per neighbourhood council district: submitted survey responses (every survey of the
    strategy), people at activities held there (their attendance), map comments placed there
    and other feedback recorded for it (staff notes, imports, Polis, comments on drafts),
    against its population (`_neighbourhood_population`). Rejected comments are left out; each
    piece of input is counted once, in its own channel (a map comment is not counted again as
    feedback, nor a survey answer). One person may be counted in several channels, so totals are
    inputs, not people. ``unplaced`` holds what no neighbourhood could be given, per channel.
    Staff figures (small counts shown): never put them on a public page.
    """
    from csas.engagement.models import Activity, FeedbackItem, FeedbackSource

    neighbourhoods, population = _neighbourhood_population(strategy.city_id)
    by_channel: dict[str, dict[int | None, int]] = {
        "survey": dict(
            Response.objects.filter(survey__strategy=strategy, status=ResponseStatus.SUBMITTED)
            .values_list("neighbourhood")
            .annotate(n=Count("id"))
            .values_list("neighbourhood", "n")
        ),
        "activities": {},
        "map": dict(
            MapComment.objects.filter(strategy=strategy)
            .exclude(status=ModerationStatus.REJECTED)
            .values_list("neighbourhood")
            .annotate(n=Count("id"))
            .values_list("neighbourhood", "n")
        ),
        "notes": dict(
            # Survey answers (typed or imported) are counted with their response.
            FeedbackItem.objects.filter(
                strategy=strategy, map_comment__isnull=True, answer__isnull=True
            )
            .exclude(source__in=[FeedbackSource.SURVEY_ANSWER, FeedbackSource.MAP_COMMENT])
            .exclude(status=ModerationStatus.REJECTED)
            .values_list("geography")
            .annotate(n=Count("id"))
            .values_list("geography", "n")
        ),
    }
    ids = {n.pk for n in neighbourhoods}
    for geography_id, attendance in Activity.objects.filter(strategy=strategy).values_list(
        "geography", "attendance_count"
    ):
        place = geography_id if geography_id in ids else None
        counted = by_channel["activities"]
        counted[place] = counted.get(place, 0) + (attendance or 0)
    total_population = sum(population.values())
    rows = []
    for neighbourhood in neighbourhoods:
        counts = {
            channel: by_channel[channel].get(neighbourhood.pk, 0) for channel in HEARD_CHANNELS
        }
        heard = sum(counts.values())
        people = population[neighbourhood.pk]
        rows.append(
            {
                "name": neighbourhood.name,
                "population": people,
                "share_population": people / total_population if total_population else None,
                "counts": [counts[channel] for channel in HEARD_CHANNELS],
                "heard": heard,
                "per_1000": 1000 * heard / people if people else None,
            }
        )
    placed_total = sum(row["heard"] for row in rows)
    for row in rows:
        row["share_heard"] = row["heard"] / placed_total if placed_total else None
    unplaced = [
        sum(n for place, n in by_channel[channel].items() if place not in ids)
        for channel in HEARD_CHANNELS
    ]
    ranked = [row for row in rows if row["per_1000"] is not None]
    least = (
        sorted(ranked, key=lambda row: (row["per_1000"], row["name"]))[:3] if placed_total else []
    )
    return {
        "channels": HEARD_CHANNELS,
        "rows": rows,
        "unplaced": unplaced,
        "totals": [
            sum(row["counts"][i] for row in rows) + unplaced[i] for i in range(len(HEARD_CHANNELS))
        ],
        "least_heard": least,
    }


def activity_list_upcoming(strategy: Strategy) -> QuerySet[Any]:
    """Public activities that have not ended: the public calendar. Staff notes never leave."""
    from django.db.models import Q
    from django.utils import timezone

    from csas.engagement.models import Activity

    now = timezone.now()
    return (
        Activity.objects.filter(strategy=strategy, is_public=True)
        .filter(Q(ends_at__gte=now) | Q(ends_at__isnull=True, starts_at__gte=now))
        .select_related("geography", "partner")
        .only(
            "id",
            "kind",
            "title",
            "description",
            "starts_at",
            "ends_at",
            "place",
            "languages",
            "geography__name",
            "partner__organisation",
        )
        .order_by("starts_at")
    )


def activities_by_quarter(strategy: Strategy) -> list[dict[str, Any]]:
    """Staff view of the engagement plan: activities per quarter with reach and attendance.

    Activities without a date come last, in one row whose ``quarter`` is None.
    """
    from django.utils import timezone

    from csas.engagement.models import Activity
    from csas.strategy.selectors import Quarter

    rows: dict[Any, dict[str, Any]] = {}
    for activity in Activity.objects.filter(strategy=strategy):
        quarter = Quarter.of(timezone.localdate(activity.starts_at)) if activity.starts_at else None
        row = rows.setdefault(
            quarter,
            {
                "quarter": quarter.label if quarter else None,
                "activities": 0,
                "reach": 0,
                "attendance": 0,
                "kinds": set(),
            },
        )
        row["activities"] += 1
        row["reach"] += activity.reach_count or 0
        row["attendance"] += activity.attendance_count or 0
        row["kinds"].add(activity.get_kind_display())
    return [
        rows[q] | {"kinds": sorted(rows[q]["kinds"])}
        for q in sorted(rows, key=lambda q: (q is None, (q.year, q.number) if q else (0, 0)))
    ]


def version_get_for_review(strategy: Strategy, key: str) -> Any:
    """A version staff opened for comment; any other version is "not found"."""
    from csas.strategy.models import StrategyVersion

    version = StrategyVersion.objects.filter(
        strategy=strategy, key=key, open_for_comment=True
    ).first()
    if version is None:
        raise Http404("No such draft.")
    return version


def review_sections(version: Any) -> list[dict[str, Any]]:
    """The parts of a version residents comment on: vision, each goal, each action."""
    sections: list[dict[str, Any]] = [
        {"key": "vision", "object": version, "field": "vision", "kind": "vision"}
    ]
    for goal in version.goals.prefetch_related("actions").order_by("number"):
        sections.append(
            {"key": f"goal:{goal.number}", "object": goal, "field": "title", "kind": "goal"}
        )
        for action in goal.actions.all():
            sections.append(
                {
                    "key": f"action:{action.slug}",
                    "object": action,
                    "field": "title",
                    "kind": "action",
                }
            )
    return sections


def draft_comment_counts(strategy: Strategy) -> list[dict[str, Any]]:
    """Per version open for review: comments per section, residents and committee apart."""
    from csas.engagement.models import DraftComment
    from csas.strategy.models import StrategyVersion

    result = []
    for version in StrategyVersion.objects.filter(strategy=strategy, open_for_comment=True):
        rows = (
            DraftComment.objects.filter(version=version)
            .values("section")
            .annotate(
                total=Count("id"), committee=Count("id", filter=Q(from_advisory_committee=True))
            )
            .order_by("section")
        )
        result.append({"version": version, "sections": list(rows)})
    return result
