"""The public API serves the published safety analysis's aggregates, and nothing else."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.utils import timezone

from csas.safetylab.models import (
    SafetyAnalysis,
    SafetyAreaEligibility,
    SafetyAreaRate,
    SafetyBlockGroupHotspot,
    SafetyResponseTime,
)
from csas.safetylab.services import safety_analysis_set_published


def _all(path: str) -> list[dict[str, Any]]:
    response = Client().get(f"{path}{'&' if '?' in path else '?'}limit=1000")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["items"])
    return list(body["items"])


def test_nothing_is_served_while_no_analysis_is_published(draft: SafetyAnalysis) -> None:
    assert Client().get("/api/v1/safety").status_code == 404
    for path in ("rates", "response-times", "alternative-response", "hot-spots"):
        assert _all(f"/api/v1/safety/{path}") == []


def test_the_published_analysis_is_served_row_for_row(published: SafetyAnalysis) -> None:
    about = Client().get("/api/v1/safety").json()
    assert (about["title"], about["synthetic"]) == ("Test analysis", True)
    # Dates only, in the city's time zone: one call's time is never published.
    assert published.received_from is not None
    assert published.received_to is not None
    assert about["received_from"] == timezone.localdate(published.received_from).isoformat()
    assert about["received_to"] == timezone.localdate(published.received_to).isoformat()
    rates = _all("/api/v1/safety/rates")
    assert len(rates) == SafetyAreaRate.objects.filter(analysis=published).count()
    districts = _all("/api/v1/safety/rates?kind=council_district")
    assert districts
    assert {r["kind"] for r in districts} == {"council_district"}
    stored = SafetyAreaRate.objects.filter(
        analysis=published, kind="council_district", suppressed=False
    ).first()
    assert stored is not None
    [row] = [
        r for r in districts if (r["area_code"], r["month"]) == (stored.area_code, stored.month)
    ]
    assert (row["calls"], row["rate_per_1000"]) == (stored.calls, stored.rate_per_1000)
    times = _all("/api/v1/safety/response-times")
    assert len(times) == SafetyResponseTime.objects.filter(analysis=published).count()
    assert len(_all("/api/v1/safety/alternative-response")) == (
        SafetyAreaEligibility.objects.filter(analysis=published).count()
    )
    assert len(_all("/api/v1/safety/hot-spots")) == (
        SafetyBlockGroupHotspot.objects.filter(analysis=published).count()
    )


def test_suppressed_cells_carry_no_figure(published: SafetyAnalysis) -> None:
    withheld = [r for r in _all("/api/v1/safety/rates") if r["suppressed"]]
    assert withheld
    assert all(r["calls"] is None and r["rate_per_1000"] is None for r in withheld)
    shown = [r for r in _all("/api/v1/safety/rates") if not r["suppressed"]]
    assert all(r["calls"] >= 10 for r in shown)


def test_a_taken_back_analysis_is_no_longer_served(published: SafetyAnalysis) -> None:
    assert _all("/api/v1/safety/hot-spots")
    safety_analysis_set_published(analysis=published, published=False)
    assert Client().get("/api/v1/safety").status_code == 404
    assert _all("/api/v1/safety/hot-spots") == []


def test_an_unknown_kind_is_a_clear_400(published: SafetyAnalysis) -> None:
    response = Client().get("/api/v1/safety/rates?kind=parcel")
    assert response.status_code == 400
    assert "kind must be one of" in response.json()["detail"]


def test_the_trend_is_served_as_stored(published: SafetyAnalysis) -> None:
    rows = _all("/api/v1/safety/trends")
    trends = published.summary["trends"]
    city = rows[0]
    assert (city["geography"], city["area_code"]) == ("city", "")
    assert (city["calls_current"], city["calls_previous"]) == (
        trends["city"]["current"],
        trends["city"]["previous"],
    )
    assert city["current_from"] == trends["current"]["from"]
    council = [r for r in rows if r["geography"] == "council_district"]
    assert [r["area_code"] for r in council] == [
        row["area"] for row in trends["areas"]["council_district"]
    ]
    for row in rows:
        if row["suppressed"]:
            assert row["calls_current"] is None
            assert row["ratio"] is None
    assert len(rows) == 1 + sum(len(v) for v in trends["areas"].values())


def test_no_trend_is_served_without_a_published_analysis(draft: SafetyAnalysis) -> None:
    assert _all("/api/v1/safety/trends") == []
