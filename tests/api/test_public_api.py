from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from csas.progress.models import Indicator, Observation
from csas.strategy.models import StrategyVersion


def test_the_openapi_schema_is_served_and_lists_the_read_endpoints(db: Any) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["info"]["version"] == "1"
    assert {
        "/api/v1/strategy",
        "/api/v1/actions",
        "/api/v1/updates",
        "/api/v1/indicators",
        "/api/v1/geographies",
    } <= set(schema["paths"])
    # The one write is the API-key observation write (tests/api/test_write_api.py).
    writes = {path: set(methods) - {"get"} for path, methods in schema["paths"].items()}
    assert {path: extra for path, extra in writes.items() if extra} == {
        "/api/v1/indicators/{slug}/observations": {"post"}
    }


def test_the_strategy_endpoint_serves_only_the_published_version(db: Any) -> None:
    data = Client().get("/api/v1/strategy").json()
    assert data["version"] == "Adopted December 2025"
    assert [g["short_name"] for g in data["goals"]] == ["PLACES", "PEOPLE", "RESPONSE", "REPAIR"]
    assert "Co-create" not in str(data)


def test_actions_are_paginated_and_carry_the_duplicate_code_flag(db: Any) -> None:
    first = Client().get("/api/v1/actions?limit=5").json()
    assert first["count"] == 22
    assert len(first["items"]) == 5
    everything = Client().get("/api/v1/actions?limit=100").json()["items"]
    assert sum(1 for a in everything if a["code"] == "3.1" and a["data_note"]) == 2


def test_suppressed_observations_carry_no_value(published_version: StrategyVersion) -> None:
    indicator = Indicator.objects.create(
        strategy=published_version.strategy,
        slug="feel-safe",
        name="Residents who feel safe",
        kind="population",
        unit="percent",
        direction="increase",
    )
    Observation.objects.create(
        indicator=indicator,
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 12, 31),
        value=61.0,
        n=905,
    )
    Observation.objects.create(
        indicator=indicator,
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 12, 31),
        value=12.0,
        n=6,
        dimension="council_district",
        group="5",
        suppressed=True,
    )
    rows = Client().get("/api/v1/indicators/feel-safe/observations").json()["items"]
    assert rows[0]["value"] == 61.0
    hidden = next(r for r in rows if r["suppressed"])
    assert hidden["value"] is None
    assert hidden["n"] is None
    assert Client().get("/api/v1/indicators/nope/observations").status_code == 404


def test_reads_are_open_to_any_origin_and_writes_are_refused(db: Any) -> None:
    response = Client().get("/api/v1/strategy")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert Client().post("/api/v1/strategy").status_code == 405


def test_an_unknown_geography_kind_is_a_clear_400(db: Any) -> None:
    response = Client().get("/api/v1/geographies?kind=parcel")
    assert response.status_code == 400
    assert "kind must be one of" in response.json()["detail"]
    districts = Client().get("/api/v1/geographies?kind=council_district").json()
    assert districts["count"] == 5
