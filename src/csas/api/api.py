"""Public API, version 1: the published strategy, its actions and their published progress,
indicators and observations (suppressed cells carry no value), geographies, and the published
safety analysis's aggregates (`/safety...`); and one
write, for staff integrations holding an API key, that records observations.

OpenAPI schema at /api/v1/openapi.json. Lists are paginated (`limit` up to 1000, `offset`).
Only published content is served; drafts and personal data never are.

Reads need no credentials and are rate-limited per client address. The write takes
`Authorization: Bearer <key>` and nothing else (no session cookie, so no CSRF token), has
its own, stricter rate limit per key, and repeated failed keys from one address are refused.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Body, Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import HttpBearer
from ninja.throttling import AnonRateThrottle, SimpleRateThrottle
from pydantic import ConfigDict

from csas.api import selectors as api_selectors
from csas.progress import apikeys
from csas.progress.models import ActionUpdate, ApiKey, Indicator, Observation
from csas.strategy import selectors
from csas.strategy.models import Action, Geography, GeographyKind

# Rates are per minute. The write limit is per key; a request may carry up to
# apikeys.MAX_ROWS_PER_WRITE observations, so a low number is plenty for an integration.
API_WRITE_RATE_PER_MINUTE: int = getattr(settings, "API_WRITE_RATE_PER_MINUTE", 30)
API_AUTH_FAILURES_PER_MINUTE: int = getattr(settings, "API_AUTH_FAILURES_PER_MINUTE", 10)
PAGE_MAX = 1000
# Larger offsets would overflow the database's integer; no list is this long.
OFFSET_MAX = 2**31 - 1

api = NinjaAPI(
    title="csas public API",
    version="1",
    urls_namespace="api-v1",
    # The interactive docs page loads scripts from a CDN: off (offline, strict CSP). The
    # OpenAPI schema itself is served at /api/v1/openapi.json.
    docs_url=None,
    throttle=[AnonRateThrottle(f"{settings.API_ANON_RATE_PER_MINUTE}/m")],
)


class Pagination(LimitOffsetPagination):
    """`limit`/`offset` with bounds, so a huge number is a clear 422 and not a server error."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=PAGE_MAX)
        offset: int = Field(0, ge=0, le=OFFSET_MAX)


class ApiKeyWriteThrottle(SimpleRateThrottle):
    """Writes per API key (the key's id, never its secret, names the bucket)."""

    scope = "api-key-write"

    def get_cache_key(self, request: HttpRequest) -> str:
        key = getattr(request, "auth", None)
        ident = f"key-{key.pk}" if isinstance(key, ApiKey) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class FailedKeyThrottle(SimpleRateThrottle):
    """Missing, unknown or revoked keys per client address."""

    scope = "api-key-failed"

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer csas_<prefix>_<secret>`, a key made in the admin."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = FailedKeyThrottle(f"{API_AUTH_FAILURES_PER_MINUTE}/m")

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        key = super().__call__(request)
        # Ninja authenticates before it throttles, so failed keys are counted here: an
        # address that keeps failing is answered 429 instead of 401 (a valid key still works).
        if key is None and not self.failures.allow_request(request):
            raise Throttled(wait=None)
        return key

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return apikeys.apikey_authenticate(token)


WRITE_AUTH = ApiKeyAuth()
WRITE_THROTTLE = ApiKeyWriteThrottle(f"{API_WRITE_RATE_PER_MINUTE}/m")


def _unauthorized(request: HttpRequest, exc: Any) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": "A valid API key is required: Authorization: Bearer <key>."},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="csas"'
    return response


api.add_exception_handler(AuthenticationError, _unauthorized)


# --- output ---------------------------------------------------------------------------------


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


class _ActionFields(Schema):
    code: str
    slug: str
    goal: int
    title: str
    description: str
    horizon: str
    status: str
    lead_department: str | None
    data_note: str


class ActionOut(_ActionFields):
    @staticmethod
    def resolve_goal(obj: Action) -> int:
        return obj.goal.number

    @staticmethod
    def resolve_lead_department(obj: Action) -> str | None:
        return obj.lead_department.name if obj.lead_department else None


class MilestoneOut(Schema):
    title: str
    planned_start: dt.date | None
    planned_end: dt.date
    actual_end: dt.date | None
    percent_complete: int


class FundingLineOut(Schema):
    source: str
    amount: Decimal
    status: str
    fiscal_year: str


class PartnerRoleOut(Schema):
    organisation: str
    role: str
    website: str


class CouncilActionOut(Schema):
    title: str
    url: str
    dated: dt.date | None


class EvidenceOut(Schema):
    title: str
    url: str = Field(description="Empty when the evidence is a document kept by the City.")


class ActionUpdateOut(Schema):
    period: str
    status: str
    narrative: str
    published_at: dt.datetime | None


class ActionDetailOut(_ActionFields):
    supporting_departments: list[str]
    milestones: list[MilestoneOut]
    funding: list[FundingLineOut]
    partners: list[PartnerRoleOut]
    council_actions: list[CouncilActionOut]
    evidence: list[EvidenceOut]
    updates: list[ActionUpdateOut]
    indicators: list[str] = Field(description="Slugs of the action's public indicators.")


class UpdateOut(Schema):
    action: str
    period: str
    status: str
    narrative: str
    published_at: dt.datetime | None

    @staticmethod
    def resolve_action(obj: ActionUpdate) -> str:
        return obj.action.code

    @staticmethod
    def resolve_period(obj: ActionUpdate) -> str:
        return obj.period.label


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

    @staticmethod
    def resolve_suppressed(obj: Observation) -> bool:
        return obj.hidden

    @staticmethod
    def resolve_value(obj: Observation) -> float | None:
        return None if obj.hidden else obj.value

    @staticmethod
    def resolve_n(obj: Observation) -> int | None:
        return None if obj.hidden else obj.n

    @staticmethod
    def resolve_margin_of_error(obj: Observation) -> float | None:
        return None if obj.hidden else obj.margin_of_error


class GeographyOut(Schema):
    kind: str
    code: str
    name: str
    population: int | None


class SafetyAnalysisOut(Schema):
    title: str
    source: str
    synthetic: bool = Field(alias="is_synthetic")
    received_from: dt.date | None = Field(
        description="Local date of the first call (a date, not a time: one call's time could "
        "point to it)."
    )
    received_to: dt.date | None = Field(description="Local date of the last call.")

    @staticmethod
    def resolve_received_from(obj: Any) -> dt.date | None:
        return timezone.localdate(obj.received_from) if obj.received_from else None

    @staticmethod
    def resolve_received_to(obj: Any) -> dt.date | None:
        return timezone.localdate(obj.received_to) if obj.received_to else None


class SafetyRateOut(Schema):
    kind: str
    area_code: str
    month: str = Field(description="Local month, YYYY-MM.")
    calls: int | None
    rate_per_1000: float | None
    rate_low: float | None
    rate_high: float | None
    suppressed: bool


class SafetyResponseTimeOut(Schema):
    priority: str
    council_district: str = Field(description="Council district code; empty: the whole city.")
    interval: str = Field(description="dispatch or arrival")
    n: int | None
    median_min: float | None
    median_low: float | None
    median_high: float | None
    p90_min: float | None
    p90_low: float | None
    p90_high: float | None
    ratio_to_city: float | None
    ratio_low: float | None
    ratio_high: float | None
    suppressed: bool


class SafetyAlternativeOut(Schema):
    kind: str
    area_code: str
    calls: int | None
    eligible_by_type: int | None
    eligible_after_screening: int | None
    share_by_type: float | None
    share_after_screening: float | None
    suppressed: bool


class SafetyHotSpotOut(Schema):
    measure: str
    geoid: str
    classification: str
    calls: int | None
    z: float | None
    p: float | None
    q: float | None
    suppressed: bool


class SafetyTrendOut(Schema):
    geography: str = Field(description="city, or the kind of district")
    area_code: str = Field(description="Empty for the city.")
    current_from: str = Field(description="First local month of the recent period, YYYY-MM.")
    current_to: str
    previous_from: str
    previous_to: str
    calls_current: int | None
    calls_previous: int | None
    ratio: float | None = Field(description="Calls per day, recent period over the earlier.")
    ratio_low: float | None
    ratio_high: float | None
    suppressed: bool


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]


# --- input ----------------------------------------------------------------------------------

# PostgreSQL cannot store NUL characters in text; refuse them as bad input.
_NO_NUL = r"^[^\x00]*$"


class ObservationIn(Schema):
    """One observation. It replaces any observation of the same indicator, period, dimension
    and group; otherwise it is added."""

    model_config = ConfigDict(extra="forbid")

    period_start: dt.date
    period_end: dt.date = Field(description="On or after period_start.")
    value: float | None = Field(
        None, allow_inf_nan=False, description="Required unless suppressed is true."
    )
    n: int | None = Field(None, ge=0, le=2_147_483_647, description="Respondents or events.")
    margin_of_error: float | None = Field(None, ge=0, allow_inf_nan=False)
    wave: str = Field("", max_length=32, pattern=_NO_NUL, description="Survey wave.")
    dimension: str = Field(
        "",
        max_length=64,
        pattern=_NO_NUL,
        description="Breakdown, e.g. council_district; empty for the overall figure.",
    )
    group: str = Field(
        "", max_length=120, pattern=_NO_NUL, description="Group within the dimension, e.g. 5."
    )
    suppressed: bool = Field(
        False,
        description=(
            "Too few people or events to publish. Set automatically when n is under the site's "
            "suppression threshold (CSAS_SUPPRESSION_THRESHOLD, 10 by default)."
        ),
    )
    note: str = Field("", max_length=5000, pattern=_NO_NUL)

    def as_row(self) -> apikeys.ObservationRow:
        return apikeys.ObservationRow(**self.model_dump())


class ObservationWriteOut(Schema):
    indicator: str
    created: int
    updated: int


ObservationPayload = Annotated[
    ObservationIn
    | Annotated[list[ObservationIn], Field(min_length=1, max_length=apikeys.MAX_ROWS_PER_WRITE)],
    Body(),
]


# --- reads ----------------------------------------------------------------------------------


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
@paginate(Pagination)
def actions(request: HttpRequest) -> Any:
    return api_selectors.action_list_public(selectors.version_get_published())


@api.get(
    "/actions/{slug}",
    response=ActionDetailOut,
    summary="One action with its milestones, funding, partners and published progress",
    description=(
        "`slug` is the action's `slug` from /actions (codes are not unique: the adopted "
        "strategy numbers two actions 3.1)."
    ),
)
def action(request: HttpRequest, slug: str) -> dict[str, Any]:
    item = api_selectors.action_get_public_detail(selectors.version_get_published(), slug)
    return {
        "code": item.code,
        "slug": item.slug,
        "goal": item.goal.number,
        "title": item.title,
        "description": item.description,
        "horizon": item.horizon,
        "status": item.status,
        "lead_department": item.lead_department.name if item.lead_department else None,
        "data_note": item.data_note,
        "supporting_departments": [d.name for d in item.supporting_departments.all()],
        "milestones": list(item.implementation_milestones.all()),
        "funding": list(item.funding_lines.all()),
        "partners": [
            {
                "organisation": p.partner.organisation,
                "role": p.role,
                "website": p.partner.website,
            }
            for p in item.partner_roles.all()
        ],
        "council_actions": list(item.council_actions.all()),
        "evidence": [{"title": e.title, "url": e.url} for e in item.public_evidence],  # type: ignore[attr-defined]
        "updates": [
            {
                "period": u.period.label,
                "status": u.status,
                "narrative": u.narrative,
                "published_at": u.published_at,
            }
            for u in item.published_updates  # type: ignore[attr-defined]
        ],
        "indicators": [i.slug for i in item.public_indicators],  # type: ignore[attr-defined]
    }


@api.get("/updates", response=list[UpdateOut], summary="Published progress updates")
@paginate(Pagination)
def updates(request: HttpRequest) -> Any:
    return api_selectors.update_list_public(selectors.version_get_published())


@api.get("/indicators", response=list[IndicatorOut], summary="Public indicators")
@paginate(Pagination)
def indicators(request: HttpRequest) -> Any:
    version = selectors.version_get_published()
    return Indicator.objects.filter(strategy=version.strategy, is_public=True).order_by(
        "name", "pk"
    )


@api.get(
    "/indicators/{slug}/observations",
    response=list[ObservationOut],
    summary="Observations of one indicator; suppressed cells carry no value",
)
@paginate(Pagination)
def observations(request: HttpRequest, slug: str) -> Any:
    indicator = api_selectors.indicator_get_public(selectors.version_get_published(), slug)
    return api_selectors.observation_list_public(indicator)


@api.get(
    "/geographies",
    response=list[GeographyOut],
    summary="Districts and block groups (no geometry; see the GeoJSON pages)",
)
@paginate(Pagination)
def geographies(request: HttpRequest, kind: str | None = None) -> Any:
    version = selectors.version_get_published()
    queryset = Geography.objects.filter(city_id=version.strategy.city_id).order_by("kind", "code")
    if kind is not None:
        if kind not in GeographyKind.values:
            raise HttpError(400, f"kind must be one of {', '.join(GeographyKind.values)}")
        queryset = queryset.filter(kind=kind)
    return queryset.only("kind", "code", "name", "population")


# --- safety data: the published analysis, aggregates only ----------------------------------


def _safety_rows(model: Any, *order: str) -> Any:
    from csas.safetylab.datapackage import rows_of_published

    return rows_of_published(model, selectors.version_get_published()).order_by(*order)


def _safety_kind(queryset: Any, kind: str | None) -> Any:
    if kind is None:
        return queryset
    if kind not in GeographyKind.values:
        raise HttpError(400, f"kind must be one of {', '.join(GeographyKind.values)}")
    return queryset.filter(kind=kind)


@api.get(
    "/safety",
    response={200: SafetyAnalysisOut, 404: ErrorOut},
    summary="The published calls-for-service analysis: what it was made from",
)
def safety(request: HttpRequest) -> Any:
    from csas.safetylab.selectors import analysis_get_published

    analysis = analysis_get_published(selectors.version_get_published().strategy)
    if analysis is None:
        raise HttpError(404, "No safety analysis is published.")
    return analysis


@api.get(
    "/safety/rates",
    response=list[SafetyRateOut],
    summary="Calls per area and local month, rate per 1,000 residents; suppressed cells empty",
)
@paginate(Pagination)
def safety_rates(request: HttpRequest, kind: str | None = None) -> Any:
    from csas.safetylab.models import SafetyAreaRate

    return _safety_kind(_safety_rows(SafetyAreaRate, "kind", "area_code", "month"), kind)


@api.get(
    "/safety/response-times",
    response=list[SafetyResponseTimeOut],
    summary="Minutes to dispatch and arrival by priority and council district",
)
@paginate(Pagination)
def safety_response_times(request: HttpRequest) -> Any:
    from csas.safetylab.models import SafetyResponseTime

    return _safety_rows(SafetyResponseTime, "priority", "council_district", "interval")


@api.get(
    "/safety/alternative-response",
    response=list[SafetyAlternativeOut],
    summary="Calls an alternative responder could take, per area, as a range",
)
@paginate(Pagination)
def safety_alternative_response(request: HttpRequest, kind: str | None = None) -> Any:
    from csas.safetylab.models import SafetyAreaEligibility

    return _safety_kind(_safety_rows(SafetyAreaEligibility, "kind", "area_code"), kind)


@api.get(
    "/safety/hot-spots",
    response=list[SafetyHotSpotOut],
    summary="Getis-Ord Gi* hot and cold spots by census block group",
)
@paginate(Pagination)
def safety_hot_spots(request: HttpRequest) -> Any:
    from csas.safetylab.models import SafetyBlockGroupHotspot

    return _safety_rows(SafetyBlockGroupHotspot, "measure", "geoid")


@api.get(
    "/safety/trends",
    response=list[SafetyTrendOut],
    summary="Calls in the last three complete months against the three before, per day",
)
@paginate(Pagination)
def safety_trends(request: HttpRequest) -> Any:
    from csas.safetylab.selectors import analysis_get_published, trend_rows

    return trend_rows(analysis_get_published(selectors.version_get_published().strategy))


# --- write ----------------------------------------------------------------------------------


@api.post(
    "/indicators/{slug}/observations",
    # Same URL as the read, so the same name: one URL, two methods.
    url_name="observations",
    auth=WRITE_AUTH,
    throttle=[WRITE_THROTTLE],
    response={
        200: ObservationWriteOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ValidationErrorOut,
        429: ErrorOut,
    },
    summary="Record observations of a manual indicator (API key required)",
    description=(
        "Send one observation or a list of them. Each replaces the observation of the same "
        "period, dimension and group, or is added. All or nothing: if any observation is "
        "invalid, none is written and every problem is listed (`loc` names the list index "
        "and the field). The key must be allowed to write this indicator (403 otherwise); "
        "indicators computed by csas from a survey or safety data refuse writes (409)."
    ),
)
def observations_write(
    request: HttpRequest, slug: str, payload: ObservationPayload
) -> dict[str, Any]:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    many = isinstance(payload, list)
    rows = [item.as_row() for item in (payload if isinstance(payload, list) else [payload])]
    try:
        indicator = apikeys.indicator_get_for_key(key=key, slug=slug)
        result = apikeys.apikey_write_observations(key=key, indicator=indicator, rows=rows)
    except apikeys.ApiKeyForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    except (apikeys.IndicatorNotWritable, apikeys.ObservationWriteConflict) as exc:
        raise HttpError(409, str(exc)) from exc
    except apikeys.ObservationRowsInvalid as exc:
        raise ValidationError(
            [
                {
                    "loc": ["body", "payload", *([e.index] if many else []), e.field],
                    "msg": e.message,
                    "type": "value_error",
                }
                for e in exc.errors
            ]
        ) from exc
    return {"indicator": result.indicator, "created": result.created, "updated": result.updated}


class ReadOnlyCors:
    """Let any web page read the public API (GET only; no credentials are ever accepted).

    Writes get no CORS allowance: a browser page elsewhere can neither send one nor read the
    answer, and a preflight that asks for any other method is answered without it.
    """

    READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        if not request.path.startswith("/api/v1/") or request.method not in self.READ_METHODS:
            return response
        asked = request.headers.get("Access-Control-Request-Method")
        if request.method == "OPTIONS" and asked and asked.upper() not in {"GET", "HEAD"}:
            return response
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        return response
