"""Public pages. Each reads through strategy selectors; none sees an unpublished version."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from csas.strategy import selectors
from csas.strategy.i18n import localized
from csas.strategy.models import GeographyKind, StrategyVersion

CONTENT_FIELDS = (
    "title",
    "statement",
    "name",
    "text",
    "vision",
    "safety_definition",
    "summary",
    "description",
)


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def _any_fallback(objects: Iterable[Any]) -> bool:
    """True when some shown content is not translated into the page's language."""
    language = _language()
    if language == "en":
        return False
    for obj in objects:
        for field in CONTENT_FIELDS:
            if hasattr(obj, field) and localized(obj, field, language).is_fallback:
                return True
    return False


def _page(
    request: HttpRequest,
    template: str,
    version: StrategyVersion,
    shown: Iterable[Any],
    **context: Any,
) -> HttpResponse:
    context.update(
        version=version, strategy=version.strategy, content_fallback=_any_fallback(shown)
    )
    return render(request, template, context)


def _home(request: HttpRequest, version: StrategyVersion, preview: bool = False) -> HttpResponse:
    # The cards show how many actions and focus populations each goal has, nothing more.
    goals = list(selectors.goal_list_counted(version))
    return _page(
        request, "portal/home.html", version, [version, *goals], goals=goals, preview=preview
    )


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return _home(request, selectors.version_get_published())


@require_safe
def goal_detail(request: HttpRequest, number: int) -> HttpResponse:
    version = selectors.version_get_published()
    goal = selectors.goal_get(version, number)
    from csas.progress.models import UpdateStatus
    from csas.progress.selectors import latest_published_statuses

    actions = list(goal.actions.all())
    statuses = latest_published_statuses(actions)
    labels = dict(UpdateStatus.choices)
    for action in actions:
        status = statuses.get(action.pk)
        action.progress_status = status  # type: ignore[attr-defined]
        action.progress_label = labels[status] if status else None  # type: ignore[attr-defined]
    # Actions under their objectives, in the strategy's order (one group without a heading when
    # the strategy has no objectives, as Tacoma's published file does not).
    objectives = {action.objective_id: action.objective for action in actions}
    sections = [
        (objectives[objective_id], [a for a in actions if a.objective_id == objective_id])
        for objective_id in dict.fromkeys(a.objective_id for a in actions)
    ]
    populations = list(goal.focus_populations.all())
    goals = list(selectors.goal_list_brief(version))  # the "other goals" links
    return _page(
        request,
        "portal/goal_detail.html",
        version,
        [goal, *actions, *populations, *(o for o in objectives.values() if o)],
        goal=goal,
        actions=actions,
        sections=sections,
        focus_populations=populations,
        goals=goals,
    )


@require_safe
def action_detail(request: HttpRequest, slug: str) -> HttpResponse:
    version = selectors.version_get_published()
    action = selectors.action_get_public(version, slug)
    from csas.progress.indicator_selectors import indicators_for_action
    from csas.progress.selectors import action_implementation
    from csas.progress.you_said_selectors import you_said_for_action

    return _page(
        request,
        "portal/action_detail.html",
        version,
        [action, action.goal],
        action=action,
        goal=action.goal,
        supporting=list(action.supporting_departments.all()),
        partner_roles=list(action.partner_roles.all()),
        implementation=action_implementation(action),
        linked_indicators=indicators_for_action(action),
        you_said=you_said_for_action(action),
    )


@require_safe
def partners(request: HttpRequest) -> HttpResponse:
    version = selectors.version_get_published()
    partner_list = selectors.partner_list_public(version)
    actions = [
        role.action
        for partner in partner_list
        for role in partner.public_roles  # type: ignore[attr-defined]
    ]
    return _page(request, "portal/partners.html", version, actions, partners=partner_list)


@require_safe
def plan(request: HttpRequest) -> HttpResponse:
    version = selectors.version_get_published()
    timeline = selectors.milestone_timeline(version)
    shown = [row.workstream for row in timeline.rows] + [
        bar.milestone for row in timeline.rows for bar in row.bars
    ]
    chart = _gantt_geometry(timeline)
    questions = list(version.discussion_questions.all())
    return _page(
        request,
        "portal/plan.html",
        version,
        [*shown, *questions],
        timeline=timeline,
        chart=chart,
        questions=questions,
    )


def _gantt_geometry(timeline: selectors.Timeline) -> dict[str, Any]:
    """Coordinates for the server-drawn SVG chart (no scripts, no inline styles)."""
    label_w, col_w, lane_h, head_h, pad = 180, 150, 34, 34, 6
    language = _language()
    columns = [
        {"x": label_w + i * col_w, "label": q.label} for i, q in enumerate(timeline.quarters)
    ]
    rows, y = [], head_h
    for row in timeline.rows:
        height = row.lanes * lane_h + pad
        bars = [
            {
                "x": label_w + bar.first * col_w + 3,
                "y": y + pad + bar.lane * lane_h,
                "width": bar.span * col_w - 6,
                "height": lane_h - pad,
                "milestone": bar.milestone,
                "label": _fit(
                    localized(bar.milestone, "title", language).text, bar.span * col_w - 16
                ),
                "from": timeline.quarters[bar.first].label,
                "to": timeline.quarters[bar.first + bar.span - 1].label,
                "text_x": label_w + bar.first * col_w + 8,
                "text_y": y + pad + bar.lane * lane_h + (lane_h - pad) / 2 + 4,
            }
            for bar in row.bars
        ]
        rows.append(
            {
                "workstream": row.workstream,
                "y": y,
                "height": height,
                "label_y": y + height / 2 + 5,
                "bars": bars,
            }
        )
        y += height
    return {
        "width": label_w + col_w * len(columns),
        "height": y,
        "columns": columns,
        "rows": rows,
        "col_w": col_w,
        "head_h": head_h,
        "first": columns[0]["label"] if columns else "",
        "last": columns[-1]["label"] if columns else "",
    }


def _fit(text: str, width_px: float, char_px: float = 6.6) -> str:
    """Shorten a bar label to its bar; the full title is in the tooltip and the table."""
    room = max(3, int(width_px / char_px))
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


NEIGHBORHOOD_LAYERS = (
    (GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT, "neighborhood-council-districts"),
    (GeographyKind.COUNCIL_DISTRICT, "council-districts"),
)


@require_safe
def neighborhoods(request: HttpRequest) -> HttpResponse:
    version = selectors.version_get_published()
    layers = [
        {
            "kind": kind,
            "slug": slug,
            "label": GeographyKind(kind).label,
            "places": list(selectors.geography_list_public(version.strategy, kind)),
        }
        for kind, slug in NEIGHBORHOOD_LAYERS
    ]
    city = selectors.city_population(version.strategy)
    return _page(request, "portal/neighborhoods.html", version, [], layers=layers, city=city)


@require_safe
def districts_geojson(request: HttpRequest, layer: str) -> JsonResponse:
    version = selectors.version_get_published()
    kinds = {slug: kind for kind, slug in NEIGHBORHOOD_LAYERS}
    if layer not in kinds:
        raise Http404("No such layer.")
    return JsonResponse(selectors.geography_feature_collection(version.strategy, kinds[layer]))


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


@require_safe
def progress(request: HttpRequest) -> HttpResponse:
    """Progress overview per goal: latest published status of each action, stale actions,
    milestones on time."""
    from csas.progress.selectors import STALE_AFTER_DAYS, StaleAction, progress_overview

    version = selectors.version_get_published()
    rows = progress_overview(version)
    today = timezone.localdate()
    stale = [
        StaleAction(
            action,
            action.last_published,
            (today - timezone.localdate(action.last_published)).days
            if action.last_published
            else None,
        )
        for row in rows
        for action in row["stale"]
    ]
    return _page(
        request,
        "portal/progress.html",
        version,
        [row["goal"] for row in rows] + [item.action for item in stale],
        rows=rows,
        stale=stale,
        stale_days=STALE_AFTER_DAYS,
    )


@require_safe
def changes(request: HttpRequest) -> HttpResponse:
    """Public changelog: every change to goals, actions and indicator targets, newest first."""
    from csas.progress.selectors import public_changelog

    version = selectors.version_get_published()
    return _page(request, "portal/changes.html", version, [], changes=public_changelog(version))
