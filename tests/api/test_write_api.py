"""Staff integrations write observations with a scoped, revocable API key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from csas.accounts.models import Role, User
from csas.api import api as api_module
from csas.progress import apikeys
from csas.progress.models import ApiKey, Indicator, IndicatorFeed, Observation
from csas.strategy.models import StrategyVersion
from tests.conftest import make_user

URL = "/api/v1/indicators/{slug}/observations"


@pytest.fixture
def staff(db: Any) -> User:
    return make_user(Role.STRATEGY_STAFF)


def _indicator(version: StrategyVersion, slug: str, **fields: Any) -> Indicator:
    return Indicator.objects.create(
        strategy=version.strategy,
        slug=slug,
        name=slug.replace("-", " ").title(),
        kind=fields.pop("kind", "performance"),
        unit="calls",
        direction="decrease",
        **fields,
    )


@pytest.fixture
def calls(published_version: StrategyVersion) -> Indicator:
    return _indicator(published_version, "test-calls-diverted")


@pytest.fixture
def other(published_version: StrategyVersion) -> Indicator:
    return _indicator(published_version, "test-other-measure")


@pytest.fixture
def fed(published_version: StrategyVersion) -> Indicator:
    return _indicator(
        published_version, "test-feel-safe", kind="population", feed=IndicatorFeed.SURVEY
    )


@pytest.fixture
def key_and_secret(staff: User, calls: Indicator) -> tuple[ApiKey, str]:
    return apikeys.apikey_create(name="CAD export", created_by=staff, indicators=[calls])


@pytest.fixture
def secret(key_and_secret: tuple[ApiKey, str]) -> str:
    return key_and_secret[1]


def _post(body: Any, secret: str | None, slug: str = "test-calls-diverted", **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
    client = kw.pop("client", None) or Client()
    return client.post(
        URL.format(slug=slug),
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
        **kw,
    )


ROW = {"period_start": "2025-01-01", "period_end": "2025-03-31", "value": 412}


# --- writing ----------------------------------------------------------------------------------


def test_a_key_writes_one_observation_and_says_it_was_created(
    secret: str, calls: Indicator
) -> None:
    response = _post(ROW, secret)
    assert response.status_code == 200, response.content
    assert response.json() == {"indicator": "test-calls-diverted", "created": 1, "updated": 0}
    observation = Observation.objects.get(indicator=calls)
    assert observation.value == 412
    assert observation.created_by == "api-key:CAD export"


def test_sending_the_same_period_again_updates_it_in_place(secret: str, calls: Indicator) -> None:
    _post(ROW, secret)
    response = _post({**ROW, "value": 420, "note": "revised"}, secret)
    assert response.json() == {"indicator": "test-calls-diverted", "created": 0, "updated": 1}
    observation = Observation.objects.get(indicator=calls)
    assert (observation.value, observation.note) == (420, "revised")


def test_a_list_counts_created_and_updated_rows(secret: str, calls: Indicator) -> None:
    _post(ROW, secret)
    rows = [
        {**ROW, "value": 415},
        {**ROW, "dimension": "council_district", "group": "1", "value": 80},
        {**ROW, "dimension": "council_district", "group": "2", "suppressed": True},
    ]
    response = _post(rows, secret)
    assert response.json() == {"indicator": "test-calls-diverted", "created": 2, "updated": 1}
    assert Observation.objects.filter(indicator=calls).count() == 3


def test_a_list_with_one_bad_row_writes_nothing_and_names_the_row(
    secret: str, calls: Indicator
) -> None:
    rows = [
        ROW,
        {**ROW, "dimension": "council_district", "group": "1", "value": None},
        {**ROW, "dimension": "council_district", "group": "2", "value": 3},
    ]
    response = _post(rows, secret)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "payload", 1, "value"]
    assert "required unless suppressed" in error["msg"]
    assert not Observation.objects.filter(indicator=calls).exists()


def test_the_same_observation_twice_in_one_list_is_refused(secret: str, calls: Indicator) -> None:
    response = _post([ROW, {**ROW, "value": 1}], secret)
    assert response.status_code == 422
    assert "row 0" in response.json()["detail"][0]["msg"]
    assert not Observation.objects.filter(indicator=calls).exists()


def test_an_empty_list_is_refused(secret: str) -> None:
    assert _post([], secret).status_code == 422


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"period_end": "2024-12-31"}, "period_end"),
        ({"value": None}, "value"),
        ({"dimension": "council_district"}, "group"),
        ({"group": "3"}, "dimension"),
    ],
)
def test_an_invalid_observation_is_a_422_naming_the_field(
    change: dict[str, Any], field: str, secret: str, calls: Indicator
) -> None:
    response = _post({**ROW, **change}, secret)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "payload", field]]
    assert not Observation.objects.filter(indicator=calls).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"n": -1},
        {"margin_of_error": -0.5},
        {"value": "many"},
        {"period_start": "2025-02-30"},
        {"wave": "x" * 33},
        {"group": "a\x00b", "dimension": "d"},
        {"valeu": 3},  # a misspelt field is refused, not ignored
    ],
)
def test_malformed_input_is_a_422(change: dict[str, Any], secret: str, calls: Indicator) -> None:
    assert _post({**ROW, **change}, secret).status_code == 422
    assert not Observation.objects.filter(indicator=calls).exists()


def test_a_suppressed_observation_needs_no_value(secret: str, calls: Indicator) -> None:
    response = _post({**ROW, "value": None, "suppressed": True}, secret)
    assert response.status_code == 200
    assert Observation.objects.get(indicator=calls).suppressed


# --- who may write --------------------------------------------------------------------------


def test_no_key_is_a_401_that_says_how_to_authenticate(calls: Indicator) -> None:
    response = _post(ROW, None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda s: "csas_00000000_" + s.split("_", 2)[2],  # unknown prefix
        lambda s: "not-a-key",
        lambda s: s + "x" * 200,
    ],
)
def test_a_wrong_key_is_a_401(make_bad: Any, secret: str, calls: Indicator) -> None:
    assert _post(ROW, make_bad(secret)).status_code == 401
    assert not Observation.objects.filter(indicator=calls).exists()


def test_a_revoked_key_is_a_401(
    key_and_secret: tuple[ApiKey, str], staff: User, calls: Indicator
) -> None:
    key, secret = key_and_secret
    assert _post(ROW, secret).status_code == 200
    apikeys.apikey_revoke(key=key, by=staff)
    assert _post({**ROW, "value": 1}, secret).status_code == 401
    assert Observation.objects.get(indicator=calls).value == 412


def test_a_key_that_may_not_write_is_a_403(
    key_and_secret: tuple[ApiKey, str], calls: Indicator
) -> None:
    key, secret = key_and_secret
    ApiKey.objects.filter(pk=key.pk).update(can_write_observations=False)
    response = _post(ROW, secret)
    assert response.status_code == 403
    assert "may not write observations" in response.json()["detail"]


def test_an_indicator_outside_the_keys_scope_is_a_403(secret: str, other: Indicator) -> None:
    response = _post(ROW, secret, slug=other.slug)
    assert response.status_code == 403
    assert other.slug in response.json()["detail"]
    assert not Observation.objects.filter(indicator=other).exists()


def test_an_unknown_indicator_is_a_404(secret: str) -> None:
    assert _post(ROW, secret, slug="no-such-indicator").status_code == 404


def test_an_indicator_csas_computes_refuses_writes_with_a_409(
    key_and_secret: tuple[ApiKey, str], fed: Indicator
) -> None:
    key, secret = key_and_secret
    # Put it in scope behind the service's back, as if its feed changed after the key was made.
    key.indicators.add(fed)
    response = _post(ROW, secret, slug=fed.slug)
    assert response.status_code == 409
    assert "computed by csas from its survey feed" in response.json()["detail"]
    assert not Observation.objects.filter(indicator=fed).exists()


def test_a_signed_in_staff_member_without_a_key_cannot_write(staff: User, calls: Indicator) -> None:
    client = Client()
    client.force_login(staff)
    assert _post(ROW, None, client=client).status_code == 401


def test_a_key_needs_no_csrf_token(secret: str) -> None:
    assert _post(ROW, secret, client=Client(enforce_csrf_checks=True)).status_code == 200


def test_session_forms_still_need_a_csrf_token(staff: User, calls: Indicator) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(
        "/admin/progress/apikey/add/", {"name": "sneaky", "indicators": [calls.pk]}
    )
    assert response.status_code == 403
    assert not ApiKey.objects.filter(name="sneaky").exists()


# --- rate limits and CORS -----------------------------------------------------------------------


def test_writes_are_limited_per_key(secret: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(api_module.WRITE_THROTTLE, "num_requests", 2)
    assert [_post(ROW, secret).status_code for _ in range(3)] == [200, 200, 429]


def test_repeated_bad_keys_from_one_address_are_refused(secret: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(api_module.WRITE_AUTH.failures, "num_requests", 3)
    assert [_post(ROW, "csas_bad_key").status_code for _ in range(4)] == [401, 401, 401, 429]


def test_reads_keep_their_own_limit(db: Any, monkeypatch: Any) -> None:
    [anon] = api_module.api.throttle  # type: ignore[misc]
    monkeypatch.setattr(anon, "num_requests", 2)
    assert [Client().get("/api/v1/strategy").status_code for _ in range(3)] == [200, 200, 429]


def test_writes_get_no_cors_allowance(secret: str) -> None:
    response = _post(ROW, secret)
    assert "Access-Control-Allow-Origin" not in response
    preflight = Client().options(
        URL.format(slug="test-calls-diverted"),
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight
    read = Client().get(URL.format(slug="test-calls-diverted"))
    assert read["Access-Control-Allow-Origin"] == "*"


def test_the_schema_documents_the_write_and_its_bearer_security(db: Any) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    post = schema["paths"]["/api/v1/indicators/{slug}/observations"]["post"]
    [requirement] = post["security"]
    [scheme] = requirement
    assert schema["components"]["securitySchemes"][scheme] == {"type": "http", "scheme": "bearer"}
    assert {"200", "401", "403", "404", "409", "422", "429"} <= set(post["responses"])
    assert "security" not in schema["paths"]["/api/v1/strategy"]["get"]


# --- the key itself ---------------------------------------------------------------------------


def test_the_plaintext_key_is_never_stored(key_and_secret: tuple[ApiKey, str]) -> None:
    key, secret = key_and_secret
    assert secret.startswith(f"csas_{key.prefix}_")
    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    secret_part = secret.split("_", 2)[2]
    assert not any(secret_part in str(value) for value in stored.values())
    assert key.key_hash.startswith("sha256$")


def test_authenticating_records_when_a_key_was_last_used(
    key_and_secret: tuple[ApiKey, str],
) -> None:
    key, secret = key_and_secret
    assert key.last_used_at is None
    assert apikeys.apikey_authenticate(secret) == key
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_two_keys_differ(staff: User, calls: Indicator) -> None:
    _, first = apikeys.apikey_create(name="a", created_by=staff, indicators=[calls])
    _, second = apikeys.apikey_create(name="b", created_by=staff, indicators=[calls])
    assert first != second


@pytest.mark.parametrize("role", [Role.PUBLIC, Role.PARTNER, Role.DEPARTMENT_EDITOR])
def test_only_the_strategy_office_makes_or_revokes_keys(
    role: str, key_and_secret: tuple[ApiKey, str], calls: Indicator
) -> None:
    outsider = make_user(role)
    with pytest.raises(PermissionDenied):
        apikeys.apikey_create(name="x", created_by=outsider, indicators=[calls])
    with pytest.raises(PermissionDenied):
        apikeys.apikey_revoke(key=key_and_secret[0], by=outsider)


def test_a_key_cannot_be_scoped_to_an_indicator_csas_computes(staff: User, fed: Indicator) -> None:
    with pytest.raises(ValidationError, match="test-feel-safe"):
        apikeys.apikey_create(name="x", created_by=staff, indicators=[fed])
    assert not ApiKey.objects.filter(name="x").exists()


# --- the admin ----------------------------------------------------------------------------------


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_the_admin_shows_a_new_key_once(
    staff_client: Client, staff: User, calls: Indicator
) -> None:
    response = staff_client.post(
        "/admin/progress/apikey/add/",
        {"name": "Budget office", "indicators": [calls.pk]},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="Budget office")
    [message] = [str(m) for m in response.context["messages"] if "Copy it now" in str(m)]
    secret = message.rsplit(" ", 1)[1]
    assert secret.startswith(f"csas_{key.prefix}_")
    assert apikeys.apikey_authenticate(secret) == key
    assert list(key.indicators.all()) == [calls]
    assert key.created_by == staff
    again = staff_client.get(f"/admin/progress/apikey/{key.pk}/change/").content.decode()
    assert key.prefix in again
    assert secret not in again
    assert secret not in staff_client.get("/admin/progress/apikey/").content.decode()


def test_the_admin_offers_only_indicators_an_integration_may_write(
    staff_client: Client, calls: Indicator, fed: Indicator
) -> None:
    page = staff_client.get("/admin/progress/apikey/add/").content.decode()
    assert f'value="{calls.pk}"' in page
    assert f'value="{fed.pk}"' not in page
    response = staff_client.post(
        "/admin/progress/apikey/add/", {"name": "x", "indicators": [fed.pk]}
    )
    assert response.status_code == 200  # the form again, with the error
    assert not ApiKey.objects.filter(name="x").exists()


def test_the_prefix_and_hash_cannot_be_edited(
    staff_client: Client, key_and_secret: tuple[ApiKey, str], calls: Indicator
) -> None:
    key, secret = key_and_secret
    response = staff_client.post(
        f"/admin/progress/apikey/{key.pk}/change/",
        {
            "name": "CAD export (renamed)",
            "can_write_observations": "on",
            "indicators": [calls.pk],
            "prefix": "hijacked",
            "key_hash": "sha256$0",
        },
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.name == "CAD export (renamed)"
    assert key.prefix != "hijacked"
    assert apikeys.apikey_authenticate(secret) == key


def test_the_revoke_action_revokes_the_selected_keys(
    staff_client: Client, key_and_secret: tuple[ApiKey, str]
) -> None:
    key, secret = key_and_secret
    response = staff_client.post(
        "/admin/progress/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )
    assert "Revoked 1 key(s)" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert apikeys.apikey_authenticate(secret) is None
    assert _post(ROW, secret).status_code == 401
    history = staff_client.get(f"/admin/progress/apikey/{key.pk}/history/")
    assert history.status_code == 200
    assert "Revoked" in history.content.decode()


def test_keys_are_revoked_not_deleted(
    staff_client: Client, key_and_secret: tuple[ApiKey, str]
) -> None:
    key, _ = key_and_secret
    assert staff_client.get(f"/admin/progress/apikey/{key.pk}/delete/").status_code == 403
    assert ApiKey.objects.filter(pk=key.pk).exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.PUBLIC, 302),
        (Role.PARTNER, 302),
        (Role.DEPARTMENT_EDITOR, 302),
        (Role.STRATEGY_STAFF, 200),
        (Role.ADMIN, 200),
    ],
)
def test_only_the_strategy_office_reaches_api_keys_in_the_admin(
    role: str, expected: int, db: Any
) -> None:
    client = Client()
    if role != Role.PUBLIC:
        client.force_login(make_user(role))
    assert client.get("/admin/progress/apikey/").status_code == expected
    assert client.get("/admin/progress/apikey/add/").status_code == expected


@pytest.mark.parametrize(
    "model", ["apikey", "reportingperiod", "actionowner", "councilaction", "evidence"]
)
def test_history_pages_of_models_without_simple_history_work(
    model: str, staff_client: Client, tpd_action: Any, key_and_secret: Any, staff: User
) -> None:
    from csas.progress.models import ActionOwner, CouncilAction, Evidence, ReportingPeriod

    strategy = tpd_action.version.strategy
    objects = {
        "apikey": lambda: key_and_secret[0],
        "reportingperiod": lambda: ReportingPeriod.objects.create(
            strategy=strategy,
            label="test history",
            starts_on="2031-01-01",
            ends_on="2031-03-31",
            due_on="2031-04-15",
        ),
        "actionowner": lambda: ActionOwner.objects.create(action=tpd_action, user=staff),
        "councilaction": lambda: CouncilAction.objects.create(
            action=tpd_action, title="t", url="https://example.org/"
        ),
        "evidence": lambda: Evidence.objects.create(action=tpd_action, title="t"),
    }
    obj = objects[model]()
    assert staff_client.get(f"/admin/progress/{model}/{obj.pk}/history/").status_code == 200
