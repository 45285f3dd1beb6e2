"""Every list endpoint and the action detail answer in a fixed number of queries, however many
rows there are."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from csas.progress.models import (
    ActionMilestone,
    ActionUpdate,
    CouncilAction,
    Evidence,
    FundingLine,
    Indicator,
    Observation,
    ReportingPeriod,
    UpdateState,
)
from csas.strategy.models import Action, ActionPartner, Geography, StrategyVersion
from tests.factories import PartnerFactory, UserFactory

# strategy + published version, then: the page's own queries (count + items for lists).
EXPECTED = {
    "/api/v1/strategy": 3,  # + goals
    "/api/v1/actions": 4,
    "/api/v1/updates": 4,
    "/api/v1/indicators": 4,
    "/api/v1/indicators/test-queries/observations": 5,  # + the indicator
    "/api/v1/geographies": 4,
    "/api/v1/geographies?kind=block_group": 4,
    # + the action, then one query each: supporting departments, milestones, funding,
    # council actions, partners, evidence, published updates, public indicators.
    "/api/v1/actions/3-6": 11,
}


def _grow(version: StrategyVersion, action: Action, start: int, n: int) -> None:
    """Add `n` more rows of every kind the endpoints list (numbered from `start`)."""
    author = UserFactory()
    indicator, _ = Indicator.objects.get_or_create(
        strategy=version.strategy,
        slug="test-queries",
        defaults={"name": "Q", "kind": "performance", "unit": "calls", "direction": "decrease"},
    )
    for i in range(start, start + n):
        day = dt.date(2030, 1, 1) + dt.timedelta(days=100 * i)
        period = ReportingPeriod.objects.create(
            strategy=version.strategy,
            label=f"test period {i}",
            starts_on=day,
            ends_on=day + dt.timedelta(days=90),
            due_on=day + dt.timedelta(days=100),
        )
        update = ActionUpdate.objects.create(
            action=action,
            period=period,
            status="on_track",
            narrative=f"update {i}",
            state=UpdateState.PUBLISHED,
            author=author,
        )
        ActionMilestone.objects.create(action=action, title=f"m{i}", planned_end=day)
        FundingLine.objects.create(
            action=action, source=f"f{i}", amount=Decimal(1000 + i), status="funded"
        )
        CouncilAction.objects.create(action=action, title=f"c{i}", url="https://example.org/")
        ActionPartner.objects.create(action=action, partner=PartnerFactory(), role=f"r{i}")
        Evidence.objects.create(action=action, title=f"e{i}", url="https://example.org/e")
        Evidence.objects.create(action=action, update=update, title=f"u{i}")
        Indicator.objects.create(
            strategy=version.strategy,
            slug=f"test-queries-{i}",
            name=f"Q{i}",
            kind="performance",
            unit="calls",
            direction="decrease",
        ).actions.add(action)
        Observation.objects.create(
            indicator=indicator, period_start=day, period_end=day, value=float(i)
        )
        Observation.objects.create(
            indicator=indicator,
            period_start=day,
            period_end=day,
            value=1.0,
            dimension="council_district",
            group=str(i),
            suppressed=True,
        )
        Action.objects.create(
            version=version,
            goal=action.goal,
            code=f"9.{i}",
            slug=f"test-queries-{i}",
            title=f"a{i}",
            lead_department=action.lead_department,
        )
        Geography.objects.create(
            city=version.strategy.city, kind="block_group", code=f"test-{i}", name=f"bg {i}"
        )


@pytest.mark.parametrize(("url", "queries"), EXPECTED.items(), ids=list(EXPECTED))
def test_each_endpoint_answers_in_a_fixed_number_of_queries(
    url: str,
    queries: int,
    published_version: StrategyVersion,
    tpd_action: Action,
    django_assert_num_queries: Any,
) -> None:
    _grow(published_version, tpd_action, start=0, n=1)
    with django_assert_num_queries(queries):
        few = Client().get(url)
    assert few.status_code == 200
    _grow(published_version, tpd_action, start=1, n=6)
    with django_assert_num_queries(queries):
        many = Client().get(url)
    assert many.status_code == 200
    if "items" in many.json():
        assert many.json()["count"] > few.json()["count"]
    elif url.startswith("/api/v1/actions/"):
        assert len(many.json()["updates"]) == 7
        assert len(many.json()["partners"]) == 7
