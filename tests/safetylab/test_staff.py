"""The strategy office's safety page: roles, publishing, the gap index and the what-if."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from csas.accounts.models import User
from csas.safetylab.models import SafetyAnalysis, SafetyResponseTime
from csas.strategy.models import Geography, GeographyKind

MANAGE = "/manage/safety/"
ROLES = ["public", "partner", "department_editor", "strategy_staff", "admin"]


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _text(response: Any) -> str:
    content = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(content))


# --- who may do what --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), list(zip(ROLES, [302, 403, 403, 200, 200], strict=True))
)
def test_manage_page_is_for_the_strategy_office_only(
    user_for: Callable[[str], User | None], published: SafetyAnalysis, role: str, status: int
) -> None:
    response = _client(user_for(role)).get(MANAGE)
    assert response.status_code == status
    if status == 302:
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("role", "status"), list(zip(ROLES, [302, 403, 403, 302, 302], strict=True))
)
def test_only_the_strategy_office_publishes(
    user_for: Callable[[str], User | None], draft: SafetyAnalysis, role: str, status: int
) -> None:
    response = _client(user_for(role)).post(
        f"/manage/safety/{draft.pk}/publish/", {"published": "1"}
    )
    assert response.status_code == status
    draft.refresh_from_db()
    assert draft.is_published is (role in ("strategy_staff", "admin"))
    if role in ("strategy_staff", "admin"):
        assert response["Location"] == MANAGE


def test_publish_is_post_only(staff: Client, draft: SafetyAnalysis) -> None:
    assert staff.get(f"/manage/safety/{draft.pk}/publish/").status_code == 405
    assert Client().get(f"/manage/safety/{draft.pk}/publish/").status_code == 405


def test_publish_needs_the_csrf_token(
    user_for: Callable[[str], User | None], draft: SafetyAnalysis
) -> None:
    client = Client(enforce_csrf_checks=True)
    user = user_for("strategy_staff")
    assert user is not None
    client.force_login(user)
    response = client.post(f"/manage/safety/{draft.pk}/publish/", {"published": "1"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert not draft.is_published


def test_taking_back_makes_the_public_pages_404(staff: Client, published: SafetyAnalysis) -> None:
    staff.post(f"/manage/safety/{published.pk}/publish/", {"published": "0"})
    published.refresh_from_db()
    assert not published.is_published
    assert Client().get("/safety/").status_code == 404


def test_publishing_an_unknown_analysis_is_not_found(staff: Client, db: Any) -> None:
    assert staff.post("/manage/safety/999999/publish/", {"published": "1"}).status_code == 404


@pytest.mark.parametrize("value", ["999999", "abc", "-1"])
def test_an_unknown_analysis_in_the_tools_is_not_found(
    staff: Client, published: SafetyAnalysis, value: str
) -> None:
    assert staff.get(MANAGE, {"analysis": value}).status_code == 404


def test_manage_page_lists_drafts_and_published_analyses(
    staff: Client, published: SafetyAnalysis, draft: SafetyAnalysis
) -> None:
    text = _text(staff.get(MANAGE))
    assert "Test analysis" in text
    assert "Draft analysis" in text
    assert "Publish" in text
    assert "Take back" in text


def test_manage_page_without_analyses_says_so(staff: Client, db: Any) -> None:
    response = staff.get(MANAGE)
    assert response.status_code == 200
    assert "No analysis loaded yet." in _text(response)


# --- the service-gap index --------------------------------------------------------------------


def test_gap_index_ranks_every_council_district_with_default_weights(
    staff: Client, published: SafetyAnalysis
) -> None:
    response = staff.get(MANAGE, {"analysis": published.pk})
    gap = response.context["gap"]
    assert gap["error"] == ""
    assert [row["rank"] for row in gap["rows"]] == [1, 2, 3, 4, 5]
    assert {row["code"] for row in gap["rows"]} == {"1", "2", "3", "4", "5"}
    keys = [i.key for i in gap["inputs"].indicators]
    assert keys[:2] == ["calls_per_1000", "equity_index"]
    assert len(gap["sensitivity"]) == 2 * len(keys)
    assert "Service-gap index over 5 areas" in _text(response)


def test_gap_index_uses_the_stored_response_time_ratios(
    staff: Client, published: SafetyAnalysis
) -> None:
    response = staff.get(MANAGE, {"analysis": published.pk, "interval": "dispatch"})
    inputs = response.context["gap"]["inputs"]
    service = [i for i in inputs.indicators if i.group == "service"]
    assert service
    for indicator in service:
        priority = indicator.key.rsplit("_p", 1)[1]
        stored = dict(
            SafetyResponseTime.objects.filter(
                analysis=published, interval="dispatch", priority=priority
            )
            .exclude(council_district="")
            .values_list("council_district", "ratio_to_city")
        )
        assert indicator.values == stored


def test_gap_index_weights_change_the_normalised_weights(
    staff: Client, published: SafetyAnalysis
) -> None:
    response = staff.get(
        MANAGE,
        {
            "analysis": published.pk,
            "interval": "arrival",
            "weight_calls_per_1000": "3",
            "weight_equity_index": "1",
        },
    )
    index = response.context["gap"]["index"]
    assert index.weights["calls_per_1000"] == pytest.approx(0.75)
    assert index.weights["equity_index"] == pytest.approx(0.25)


def test_a_negative_weight_is_a_form_error_not_a_crash(
    staff: Client, published: SafetyAnalysis
) -> None:
    response = staff.get(
        MANAGE, {"analysis": published.pk, "interval": "arrival", "weight_calls_per_1000": "-1"}
    )
    assert response.status_code == 200
    assert response.context["gap"]["index"] is None
    assert response.context["gap"]["form"].errors


def test_all_need_weights_zero_shows_the_library_message(
    staff: Client, published: SafetyAnalysis
) -> None:
    response = staff.get(
        MANAGE,
        {
            "analysis": published.pk,
            "interval": "arrival",
            "weight_calls_per_1000": "0",
            "weight_equity_index": "0",
        },
    )
    assert response.status_code == 200
    assert "need indicators' weights sum to 0" in response.context["gap"]["error"]


def test_equity_index_is_left_out_when_block_groups_carry_none(
    staff: Client, published: SafetyAnalysis
) -> None:
    for block_group in Geography.objects.filter(kind=GeographyKind.BLOCK_GROUP):
        block_group.attributes = {}
        block_group.save()
    response = staff.get(MANAGE, {"analysis": published.pk})
    gap = response.context["gap"]
    assert "equity_index" not in [i.key for i in gap["inputs"].indicators]
    assert any("Equity Index" in text for text in gap["inputs"].left_out)
    assert gap["index"] is not None


# --- the what-if allocation -------------------------------------------------------------------


def test_allocation_places_the_shifts_asked_for(staff: Client, published: SafetyAnalysis) -> None:
    response = staff.get(
        MANAGE,
        {
            "analysis": published.pk,
            "definition": "by_type",
            "shifts": "3",
            "shift_length": "6",
        },
    )
    found = response.context["allocation"]
    assert found["error"] == ""
    plan = found["plan"]
    assert len(plan.allocation.shifts) == 3
    assert all(shift["length"] == 6 for shift in found["shifts"])
    assert plan.allocation.calls_covered <= plan.total_published
    assert "The best placement covers" in _text(response)


@pytest.mark.parametrize(
    "query",
    [
        {"shifts": "500", "shift_length": "8", "definition": "after_screening"},
        {"shifts": "2", "shift_length": "0", "definition": "after_screening"},
        {"shifts": "2", "shift_length": "8", "definition": "everything"},
        {"shifts": "two", "shift_length": "8", "definition": "after_screening"},
    ],
)
def test_allocation_refuses_impossible_requests(
    staff: Client, published: SafetyAnalysis, query: dict[str, str]
) -> None:
    response = staff.get(MANAGE, {"analysis": published.pk, **query})
    assert response.status_code == 200
    assert response.context["allocation"]["plan"] is None
    assert response.context["allocation"]["form"].errors


def test_manage_page_query_count_is_fixed(
    staff: Client, published: SafetyAnalysis, django_assert_num_queries: Any
) -> None:
    staff.get(MANAGE)  # the session and the user are loaded once here and cached per request
    # session, user, strategy, analyses, analysis, names, rates, block groups, districts,
    # response times, the strategy's indicators by district, district x hour cells, district
    # names for the shifts
    with django_assert_num_queries(13):
        assert staff.get(MANAGE).status_code == 200


@pytest.mark.parametrize("scope", ["district", "city"])
def test_allocation_places_shifts_over_districts_or_citywide(
    staff: Client, published: SafetyAnalysis, scope: str
) -> None:
    from csas.safetylab.models import SafetyDistrictHourCell

    query = {"analysis": published.pk, "definition": "by_type", "shifts": "2",
             "shift_length": "4", "scope": scope}  # fmt: skip
    found = staff.get(MANAGE, query).context["allocation"]
    assert found["error"] == ""
    plan = found["plan"]
    assert plan.scope == scope
    cells = SafetyDistrictHourCell.objects.filter(analysis=published, definition="by_type")
    if scope == "district":
        assert set(plan.allocation.areas) == set(cells.values_list("council_district", flat=True))
        assert plan.withheld_cells == cells.filter(suppressed=True).count()
        published_total = sum(c.calls or 0 for c in cells)
        assert plan.total_published == published_total
        assert sum(r["covered"] for r in found["by_district"]) == plan.allocation.calls_covered
    else:
        assert plan.allocation.areas == ("city",)
