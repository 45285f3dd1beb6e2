"""Requests generated from the API's own OpenAPI schema never get a server error.

Schemathesis builds requests (valid ones, and ones that break the schema on purpose) for
every operation; they go to the app in-process, inside the test's database transaction,
through Django's test request handler. Hypothesis is derandomised, so a run is reproducible.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from django.test.client import ClientHandler
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from ninja.responses import NinjaJSONEncoder
from schemathesis.generation.modes import GenerationMode

from csas.accounts.models import Role
from csas.api.api import api
from csas.progress import apikeys
from csas.progress.models import Indicator, IndicatorFeed
from csas.strategy.models import StrategyVersion
from tests.conftest import make_user

SCHEMA = schemathesis.openapi.from_dict(
    json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
READS = [op for op in OPERATIONS if op.method.upper() == "GET"]
[WRITE] = [op for op in OPERATIONS if op.method.upper() == "POST"]

EXAMPLES = 25
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


class DjangoTestApp:
    """A WSGI app that hands each request to Django's test handler, so requests run inside
    the test's transaction (Django's own WSGI handler would close the connection)."""

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=True)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        response = self.handler(environ)
        headers = [*response.items()]
        headers += [("Set-Cookie", c.output(header="").strip()) for c in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]


@pytest.fixture
def app(settings: Any) -> DjangoTestApp:
    # Hundreds of requests from one address would soon be answered 429 and test nothing.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    return DjangoTestApp()


def _run(strategy: Any, app: DjangoTestApp, headers: dict[str, str] | None = None) -> None:
    @given(case=strategy)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(app=app, headers=headers)
        assert response.status_code < 500, (
            f"{response.status_code} for {case.as_curl_command(headers=headers)}"
        )

    check()


def _takes_input(operation: Any) -> bool:
    definition = SCHEMA.raw_schema["paths"][operation.path][operation.method.lower()]
    queried = [p for p in definition.get("parameters", []) if p["in"] != "path"]
    return bool(queried or definition.get("requestBody"))


# Negative cases break the schema's rules for inputs. A path's only parameter is a free-form
# string, so an operation without query or body has no rule to break.
READ_CASES = [
    pytest.param(op, mode, id=f"GET {op.path}-{mode}")
    for op in READS
    for mode in MODES
    if mode is GenerationMode.POSITIVE or _takes_input(op)
]


@pytest.mark.parametrize(("operation", "mode"), READ_CASES)
def test_reads_never_answer_with_a_server_error(
    operation: Any, mode: GenerationMode, app: DjangoTestApp, db: Any
) -> None:
    _run(operation.as_strategy(generation_mode=mode), app)


@pytest.fixture
def secret(published_version: StrategyVersion) -> str:
    indicator = Indicator.objects.create(
        strategy=published_version.strategy,
        slug="test-fuzzed",
        name="Fuzzed",
        kind="performance",
        unit="calls",
        direction="decrease",
        feed=IndicatorFeed.MANUAL,
    )
    _, raw = apikeys.apikey_create(
        name="fuzz", created_by=make_user(Role.STRATEGY_STAFF), indicators=[indicator]
    )
    return raw


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_the_write_without_a_key_never_answers_with_a_server_error(
    mode: GenerationMode, app: DjangoTestApp, db: Any
) -> None:
    _run(WRITE.as_strategy(generation_mode=mode), app)


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize("slug", ["test-fuzzed", None], ids=["scoped-indicator", "any-slug"])
def test_the_write_with_a_valid_key_never_answers_with_a_server_error(
    slug: str | None, mode: GenerationMode, secret: str, app: DjangoTestApp
) -> None:
    strategy = WRITE.as_strategy(
        generation_mode=mode, path_parameters={"slug": slug} if slug else None
    )
    _run(strategy, app, headers={"Authorization": f"Bearer {secret}"})
