"""Reads for the "What we heard" report: its figures, computed from stored data, and the
reports staff and the public may see.

`heard_report_figures` computes everything the report shows, as plain JSON-ready data, so
that publishing can store it unchanged (`HeardReport.snapshot`) and the public page shows
exactly what staff reviewed:

* every approved feedback item of the strategy, and per goal and per action code of the
  codebook the items whose *settled* codes include it (an item's settled codes are the
  human codes of its latest review, or the coder's when nobody has reviewed it). A comment
  counts under a goal when it is coded to the goal or to one of the goal's actions;
* per code, the items by source (survey answer, staff note, import...) and who spoke
  (the speaker's council district, race and age as given at the time; "not recorded" for
  channels that do not ask);
* the theme codes with their counts;
* from each survey of the strategy that is not a draft, the group comparison of its
  safety questions and who has and has not answered, as the survey results page computes
  them (`csas.insight.selectors.survey_results`, with public suppression);
* the report's chosen quotes, with the source of each.

Small cells. A count from 1 to ``SUPPRESSION_THRESHOLD - 1`` is never stored in the figures
(None, shown as "fewer than N"). Within a code's breakdowns, whose total is the code's
published count, further cells are hidden when the total would give a hidden one away
(`protect_partition`). When a code's own count is hidden, so is everything about it.
Zeros are shown (an empty cell singles out nobody).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.text import slugify

from csas.analysis.insight.suppression import TOTAL, protect_partition
from csas.engagement.models import FeedbackItem, FeedbackSource, ModerationStatus, Survey
from csas.insight.coding_selectors import item_codes_settled
from csas.insight.models import (
    Code,
    CodeKind,
    HeardQuote,
    HeardReport,
    HeardReportStatus,
)
from csas.strategy.i18n import localized
from csas.strategy.models import Geography, GeographyKind, Strategy

SCHEMA = 1
TOP_THEMES = 10
# Categories of "who spoke" that are not population categories; labelled by the views.
NOT_RECORDED = "_not_recorded"  # the channel does not ask (staff notes, imports)
NOT_STATED = "_not_stated"  # asked, and the speaker did not say
OUTSIDE_CITY = "_outside_city"
SPEAKER_DIMENSIONS = ("council_district", "race_ethnicity", "age")


def suppression_threshold() -> int:
    return int(settings.SUPPRESSION_THRESHOLD)


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


# --- settled codes --------------------------------------------------------------------------


def _settled_codes(strategy: Strategy) -> dict[int, set[int]]:
    """Approved item id -> the ids of its settled active codes (see
    `coding_selectors.item_codes_settled`); items without any are left out."""
    approved = FeedbackItem.objects.filter(
        strategy=strategy, status=ModerationStatus.PUBLISHED
    ).values_list("pk", flat=True)
    settled = item_codes_settled(list(approved))
    return {
        item_id: {code.pk for code in codes if code.is_active}
        for item_id, codes in settled.items()
        if any(code.is_active for code in codes)
    }


def heard_items_coded_to(strategy: Strategy, code: Code) -> QuerySet[FeedbackItem]:
    """The approved items whose settled codes include `code`, newest first (for the quote
    picker)."""
    ids = [item_id for item_id, codes in _settled_codes(strategy).items() if code.pk in codes]
    return (
        FeedbackItem.objects.filter(
            pk__in=ids, strategy=strategy, status=ModerationStatus.PUBLISHED
        )
        .select_related("activity")
        .order_by("-created_at", "-pk")
    )


def heard_item_has_code(item: FeedbackItem, code: Code) -> bool:
    """Whether `code` is among the item's settled codes."""
    return code.pk in _settled_codes_of_item(item)


def _settled_codes_of_item(item: FeedbackItem) -> set[int]:
    return {code.pk for code in item_codes_settled([item])[item.pk] if code.is_active}


# --- small cells ----------------------------------------------------------------------------


def _count_cell(count: int, threshold: int) -> dict[str, Any]:
    hidden = 0 < count < threshold
    return {"count": None if hidden else count, "suppressed": hidden}


def _partition(
    counts: Mapping[str, int], threshold: int, *, total_hidden: bool
) -> list[dict[str, Any]]:
    """One breakdown of a published total, each cell shown or hidden so no hidden count can
    be worked out from the total and the others."""
    if total_hidden or not counts:
        return [{"key": key, "count": None, "suppressed": True} for key in counts]
    result = protect_partition(dict(counts), threshold=threshold, name="breakdown")
    shown = {cell.cell: cell for cell in result.cells if cell.cell != TOTAL}
    return [
        {
            "key": key,
            "count": shown[key].published_count,
            "suppressed": not shown[key].published,
        }
        for key in counts
    ]


# --- labels in every language ------------------------------------------------------------------


def _labels(obj: Any, field: str, *, prefix: str = "") -> dict[str, str]:
    """{language: text} for the languages the content is translated into, English always."""
    labels = {"en": f"{prefix}{getattr(obj, field)}"}
    for language in _languages():
        text = localized(obj, field, language)
        if language != "en" and not text.is_fallback:
            labels[language] = f"{prefix}{text.text}"
    return labels


def _code_labels(code: Code) -> dict[str, str]:
    if code.kind == CodeKind.GOAL and code.goal is not None:
        return _labels(code.goal, "title")
    if code.kind == CodeKind.ACTION and code.action is not None:
        return _labels(code.action, "title", prefix=f"{code.action.code} ")
    return {"en": code.label}


# --- who spoke --------------------------------------------------------------------------------


class _Speakers:
    """Each item's speaker category per dimension, in the population's categories."""

    def __init__(self, strategy: Strategy) -> None:
        from csas.analysis.insight.representation import AGE_FIELDS, RACE_FIELDS
        from csas.insight.selectors import AGE_TO_POPULATION, RACE_TO_POPULATION

        self.race_to_population: Mapping[str, str] = RACE_TO_POPULATION
        self.age_to_population: Mapping[str, str] = AGE_TO_POPULATION
        self.two_or_more = RACE_FIELDS["twoormoreraces"]
        districts = list(
            Geography.objects.filter(
                city_id=strategy.city_id, kind=GeographyKind.COUNCIL_DISTRICT
            ).order_by("name")
        )
        # the survey's option values for the districts (as `_geography_options` makes them)
        self.district_names = {
            slugify(g.code).replace("-", "_") or f"area_{g.pk}": g.name for g in districts
        }
        self.categories: dict[str, list[str]] = {
            "council_district": [g.name for g in districts] + [OUTSIDE_CITY],
            "race_ethnicity": list(RACE_FIELDS.values()),
            "age": list(AGE_FIELDS.values()),
        }
        for dimension in SPEAKER_DIMENSIONS:
            self.categories[dimension] += [NOT_STATED, NOT_RECORDED]

    def of(self, demographics: Mapping[str, Any], dimension: str) -> str:
        if not demographics:
            return NOT_RECORDED
        value = demographics.get(dimension)
        if dimension == "council_district":
            if value == "outside_city":
                return OUTSIDE_CITY
            return (
                self.district_names.get(value, NOT_STATED) if isinstance(value, str) else NOT_STATED
            )
        if dimension == "race_ethnicity":
            chosen = [v for v in (value or []) if v in self.race_to_population]
            if not chosen:
                return NOT_STATED
            return self.two_or_more if len(chosen) > 1 else self.race_to_population[chosen[0]]
        if isinstance(value, str) and value in self.age_to_population:
            return self.age_to_population[value]
        return NOT_STATED


# --- the figures ------------------------------------------------------------------------------


def _code_entry(
    code: Code,
    item_ids: Iterable[int],
    items: Mapping[int, tuple[str, dict[str, Any]]],
    sources: Sequence[str],
    speakers: _Speakers,
    threshold: int,
    quotes: Mapping[int, list[dict[str, Any]]],
) -> dict[str, Any]:
    ids = sorted(set(item_ids))
    total = _count_cell(len(ids), threshold)
    hidden = total["suppressed"]
    by_source = Counter(items[i][0] for i in ids)
    entry: dict[str, Any] = {
        "id": code.pk,
        "kind": code.kind,
        "key": code.key,
        "labels": _code_labels(code),
        "number": code.goal.number if code.kind == CodeKind.GOAL and code.goal else None,
        "action_code": code.action.code if code.kind == CodeKind.ACTION and code.action else "",
        **total,
        "by_source": [
            {"source": cell.pop("key"), **cell}
            for cell in _partition(
                {source: by_source.get(source, 0) for source in sources},
                threshold,
                total_hidden=hidden,
            )
        ],
        "speakers": [],
        "quotes": quotes.get(code.pk, []),
    }
    for dimension in SPEAKER_DIMENSIONS:
        counts = Counter(speakers.of(items[i][1], dimension) for i in ids)
        entry["speakers"].append(
            {
                "dimension": dimension,
                "rows": [
                    {"category": cell.pop("key"), **cell}
                    for cell in _partition(
                        {c: counts.get(c, 0) for c in speakers.categories[dimension]},
                        threshold,
                        total_hidden=hidden,
                    )
                ],
            }
        )
    return entry


def _quotes(report: HeardReport | None) -> dict[int, list[dict[str, Any]]]:
    by_code: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if report is None or report.pk is None:
        return by_code
    for quote in (
        HeardQuote.objects.filter(report=report)
        .select_related("item")
        .order_by("code_id", "order", "pk")
    ):
        by_code[quote.code_id].append(
            {"id": quote.pk, "excerpt": quote.excerpt, "source": quote.item.source}
        )
    return by_code


def _survey_figures(strategy: Strategy) -> list[dict[str, Any]]:
    """Group differences in feeling safe and who has answered, per survey, as the survey
    results page computes them for the public."""
    from csas.insight.selectors import survey_results

    figures = []
    surveys = Survey.objects.filter(strategy=strategy).exclude(status="draft").order_by("pk")
    for survey in surveys:
        results = survey_results(survey, public=True)
        if not results.n:
            continue
        questions = {q.text: q for q in survey.questions.all()}
        safety = []
        for text, dimension, comparison in results.safety:
            question = questions.get(text)
            safety.append(
                {
                    "question": _labels(question, "text") if question else {"en": text},
                    "dimension": dimension,
                    "groups": [
                        {
                            "group": group.group,
                            "is_reference": group.is_reference,
                            "n": group.n,
                            "estimate": group.estimate,
                            "ci_low": group.ci_low,
                            "ci_high": group.ci_high,
                            "difference": group.difference,
                            "p_adjusted": group.p_adjusted,
                            "significant": group.significant,
                            "suppressed": group.suppressed,
                        }
                        for group in comparison.groups
                    ],
                }
            )
        representation = [
            {
                "dimension": dimension,
                "n": rep.n,
                "n_not_stated": rep.n_not_stated,
                "score": rep.score,
                "categories": [
                    {
                        "category": row.category,
                        "participants": row.participants,
                        "participant_share": row.participant_share,
                        "population_share": row.population_share,
                        "ratio": row.ratio,
                        "under_represented": row.under_represented,
                        "suppressed": row.suppressed,
                    }
                    for row in rep.categories
                ],
            }
            for dimension, rep in results.representation
        ]
        figures.append(
            {
                "survey": _labels(survey, "title"),
                "n": results.n,
                "safety": safety,
                "representation": representation,
            }
        )
    return figures


def heard_report_figures(
    strategy: Strategy, *, report: HeardReport | None = None
) -> dict[str, Any]:
    """Everything the "What we heard" report shows, computed now from stored data, as
    JSON-ready data (see the module docstring). `report` supplies the chosen quotes."""
    threshold = suppression_threshold()
    items: dict[int, tuple[str, dict[str, Any]]] = {
        pk: (source, demographics or {})
        for pk, source, demographics in FeedbackItem.objects.filter(
            strategy=strategy, status=ModerationStatus.PUBLISHED
        ).values_list("pk", "source", "speaker_demographics")
    }
    settled = {pk: codes for pk, codes in _settled_codes(strategy).items() if pk in items}
    codes = list(
        Code.objects.filter(
            strategy=strategy,
            is_active=True,
            kind__in=[CodeKind.GOAL, CodeKind.ACTION, CodeKind.THEME],
        ).select_related("goal", "action")
    )
    items_of: dict[int, set[int]] = defaultdict(set)
    for item_id, code_ids in settled.items():
        for code_id in code_ids:
            items_of[code_id].add(item_id)
    present = Counter(source for source, _ in items.values())
    sources = [source for source in FeedbackSource.values if present.get(source)]
    speakers = _Speakers(strategy)
    quotes = _quotes(report)

    goals = sorted(
        (code for code in codes if code.kind == CodeKind.GOAL),
        key=lambda c: (c.goal.number if c.goal else 99, c.order, c.key),
    )
    goal_of_action = _goal_of_actions(goals, [c for c in codes if c.kind == CodeKind.ACTION])
    goal_entries = []
    for goal in goals:
        actions = sorted(
            (code for code, parent in goal_of_action.items() if parent == goal.pk),
            key=lambda c: (c.action.order if c.action else 0, c.order, c.key),
        )
        under_goal = set(items_of[goal.pk]).union(*(items_of[a.pk] for a in actions))
        entry = _code_entry(goal, under_goal, items, sources, speakers, threshold, quotes)
        entry["actions"] = [
            _code_entry(a, items_of[a.pk], items, sources, speakers, threshold, quotes)
            for a in actions
        ]
        goal_entries.append(entry)
    themes = [
        {
            "id": code.pk,
            "key": code.key,
            "labels": _code_labels(code),
            **_count_cell(len(items_of[code.pk]), threshold),
            "quotes": quotes.get(code.pk, []),
            "true_count": len(items_of[code.pk]),
        }
        for code in codes
        if code.kind == CodeKind.THEME
    ]
    # Largest first; hidden counts after the shown ones, by name, so no hidden count
    # decides a place.
    themes.sort(key=lambda t: (t["suppressed"], -(t["count"] or 0), t["labels"]["en"].casefold()))
    for theme in themes:
        del theme["true_count"]
    source_cells = _partition(
        {source: present.get(source, 0) for source in sources},
        threshold,
        total_hidden=False,
    )
    return {
        "schema": SCHEMA,
        "computed_at": timezone.now().isoformat(),
        "threshold": threshold,
        "items": {
            **_count_cell(len(items), threshold),
            "coded": _count_cell(len(settled), threshold)["count"],
            "by_source": [{"source": cell.pop("key"), **cell} for cell in source_cells],
        },
        "goals": goal_entries,
        "themes": [t for t in themes if t["count"] != 0][:TOP_THEMES],
        "surveys": _survey_figures(strategy),
    }


def _goal_of_actions(goals: Sequence[Code], actions: Sequence[Code]) -> dict[Code, int]:
    """Action code -> its goal code's id: its parent when that is one of the goals, else the
    goal code of the action's goal."""
    goal_ids = {goal.pk for goal in goals}
    by_goal = {goal.goal_id: goal.pk for goal in goals if goal.goal_id is not None}
    found: dict[Code, int] = {}
    for action in actions:
        if action.parent_id in goal_ids:
            found[action] = action.parent_id
        elif action.action is not None and action.action.goal_id in by_goal:
            found[action] = by_goal[action.action.goal_id]
    return found


# --- reports --------------------------------------------------------------------------------


def heard_report_list(strategy: Strategy) -> QuerySet[HeardReport]:
    return HeardReport.objects.filter(strategy=strategy).order_by("-updated_at", "-pk")


def heard_report_get_for_staff(strategy: Strategy, pk: int) -> HeardReport:
    report = HeardReport.objects.filter(strategy=strategy, pk=pk).first()
    if report is None:
        raise Http404("No such report.")
    return report


def heard_report_get_public(strategy: Strategy, slug: str | None = None) -> HeardReport:
    """A published report (the latest when no slug is given); drafts and missing reports
    are "not found" alike."""
    reports = HeardReport.objects.filter(strategy=strategy, status=HeardReportStatus.PUBLISHED)
    if slug is not None:
        reports = reports.filter(slug=slug)
    report = reports.order_by("-published_at", "-pk").first()
    if report is None:
        raise Http404("No published report.")
    return report
