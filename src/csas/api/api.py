"""Read-only public API, version 1: the published strategy, its actions and their published
progress, indicators and observations (suppressed cells carry no value), and geographies.

OpenAPI schema at /api/v1/openapi.json. Lists are paginated
(`limit`, `offset`). Only published content is served; drafts and personal data never are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import NinjaAPI, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.throttling import AnonRateThrottle

from csas.progress.models import ActionUpdate, Indicator, Observation, UpdateState
from csas.strategy import selectors
from csas.strategy.models import Action, Geography, GeographyKind

api = NinjaAPI(
    title="csas public API",
    version="1",
    urls_namespace="api-v1",
    # The interactive docs page loads scripts from a CDN: off (offline, strict CSP). The
    # OpenAPI schema itself is served at /api/v1/openapi.json.
    docs_url=None,
    throttle=[AnonRateThrottle(f"{settings.API_ANON_RATE_PER_MINUTE}/m")],
)


class GoalOut(Schema):
    number: int
    short_name: str
    title: str
    statement: str


class StrategyOut(Schema):
    city: str
    strategy: str
    version: str
    status: str
    dated: dt.date
    vision: str
    safety_definition: str
    goals: list[GoalOut]


class ActionOut(Schema):
    code: str
    slug: str
    goal: int
    title: str
    description: str
    horizon: str
    status: str
    lead_department: str | None
    data_note: str


class UpdateOut(Schema):
    action: str
    period: str
    status: str
    narrative: str
    published_at: dt.datetime | None


class IndicatorOut(Schema):
    slug: str
    name: str
    kind: str
    unit: str
    direction: str
    baseline_value: float | None
    baseline_year: int | None
    target_value: float | None
    target_year: int | None
    source: str


class ObservationOut(Schema):
    period_start: dt.date
    period_end: dt.date
    value: float | None
    n: int | None
    margin_of_error: float | None
    wave: str
    dimension: str
    group: str
    suppressed: bool


class GeographyOut(Schema):
    kind: str
    code: str
    name: str
    population: int | None


@api.get("/strategy", response=StrategyOut, summary="The published strategy and its goals")
def strategy(request: HttpRequest) -> dict[str, Any]:
    version = selectors.version_get_published()
    return {
        "city": version.strategy.city.name,
        "strategy": version.strategy.name,
        "version": version.label,
        "status": version.status,
        "dated": version.dated,
        "vision": version.vision,
        "safety_definition": version.safety_definition,
        "goals": [
            {
                "number": g.number,
                "short_name": g.short_name,
                "title": g.title,
                "statement": g.statement,
            }
            for g in version.goals.order_by("number")
        ],
    }


@api.get("/actions", response=list[ActionOut], summary="Actions of the published strategy")
@paginate(LimitOffsetPagination)
def actions(request: HttpRequest) -> list[dict[str, Any]]:
    version = selectors.version_get_published()
    return [
        {
            "code": a.code,
            "slug": a.slug,
            "goal": a.goal.number,
            "title": a.title,
            "description": a.description,
            "horizon": a.horizon,
            "status": a.status,
            "lead_department": a.lead_department.name if a.lead_department else None,
            "data_note": a.data_note,
        }
        for a in Action.objects.filter(version=version)
        .select_related("goal", "lead_department")
        .order_by("goal__number", "order")
    ]


@api.get("/updates", response=list[UpdateOut], summary="Published progress updates")
@paginate(LimitOffsetPagination)
def updates(request: HttpRequest) -> list[dict[str, Any]]:
    version = selectors.version_get_published()
    return [
        {
            "action": u.action.code,
            "period": u.period.label,
            "status": u.status,
            "narrative": u.narrative,
            "published_at": u.published_at,
        }
        for u in ActionUpdate.objects.filter(action__version=version, state=UpdateState.PUBLISHED)
        .select_related("action", "period")
        .order_by("-period__starts_on", "action__code")
    ]


@api.get("/indicators", response=list[IndicatorOut], summary="Public indicators")
@paginate(LimitOffsetPagination)
def indicators(request: HttpRequest) -> Any:
    version = selectors.version_get_published()
    return Indicator.objects.filter(strategy=version.strategy, is_public=True).order_by("name")


@api.get(
    "/indicators/{slug}/observations",
    response=list[ObservationOut],
    summary="Observations of one indicator; suppressed cells carry no value",
)
@paginate(LimitOffsetPagination)
def observations(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    from django.http import Http404

    version = selectors.version_get_published()
    indicator = Indicator.objects.filter(
        strategy=version.strategy, slug=slug, is_public=True
    ).first()
    if indicator is None:
        raise Http404("No such indicator.")
    rows = []
    for obs in Observation.objects.filter(indicator=indicator).order_by(
        "period_start", "dimension", "group"
    ):
        hidden = obs.suppressed
        rows.append(
            {
                "period_start": obs.period_start,
                "period_end": obs.period_end,
                "value": None if hidden else obs.value,
                "n": None if hidden else obs.n,
                "margin_of_error": None if hidden else obs.margin_of_error,
                "wave": obs.wave,
                "dimension": obs.dimension,
                "group": obs.group,
                "suppressed": hidden,
            }
        )
    return rows


@api.get(
    "/geographies",
    response=list[GeographyOut],
    summary="Districts and block groups (no geometry; see the GeoJSON pages)",
)
@paginate(LimitOffsetPagination)
def geographies(request: HttpRequest, kind: str | None = None) -> Any:
    version = selectors.version_get_published()
    queryset = Geography.objects.filter(city_id=version.strategy.city_id).order_by("kind", "code")
    if kind is not None:
        if kind not in GeographyKind.values:
            from ninja.errors import HttpError

            raise HttpError(400, f"kind must be one of {', '.join(GeographyKind.values)}")
        queryset = queryset.filter(kind=kind)
    return queryset.only("kind", "code", "name", "population")


class ReadOnlyCors:
    """Let any web page read the public API (GET only; no credentials are ever accepted)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        if request.path.startswith("/api/v1/") and request.method in {"GET", "HEAD", "OPTIONS"}:
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        return response
