"""GET /api/v1/actions/{slug}: one action of the published strategy and its published record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.test import Client

from csas.progress.models import (
    ActionMilestone,
    ActionUpdate,
    CouncilAction,
    Evidence,
    FundingLine,
    Indicator,
    ReportingPeriod,
    UpdateState,
)
from csas.strategy.models import Action, ActionPartner, StrategyVersion
from tests.factories import PartnerFactory, UserFactory


def _update(action: Action, label: str, state: str, narrative: str) -> ActionUpdate:
    start = dt.date(2031, 1, 1) if label == "published" else dt.date(2031, 4, 1)
    period = ReportingPeriod.objects.create(
        strategy=action.version.strategy,
        label=f"test {label}",
        starts_on=start,
        ends_on=start + dt.timedelta(days=80),
        due_on=start + dt.timedelta(days=90),
    )
    return ActionUpdate.objects.create(
        action=action,
        period=period,
        status="on_track",
        narrative=narrative,
        state=state,
        author=UserFactory(),
    )


def test_the_detail_carries_the_published_implementation_record(
    published_version: StrategyVersion, tpd_action: Action
) -> None:
    published = _update(tpd_action, "published", UpdateState.PUBLISHED, "Hired two responders.")
    draft = _update(tpd_action, "draft", UpdateState.DRAFT, "SECRET DRAFT NARRATIVE")
    ActionMilestone.objects.create(
        action=tpd_action, title="Pilot launched", planned_end=dt.date(2031, 6, 30)
    )
    FundingLine.objects.create(
        action=tpd_action, source="General Fund", amount=Decimal("250000.00"), status="funded"
    )
    CouncilAction.objects.create(
        action=tpd_action, title="Resolution 41234", url="https://example.org/r41234"
    )
    partner = PartnerFactory(
        slug="test-partner", contact_name="Pat Private", contact_email="pat@example.org"
    )
    ActionPartner.objects.create(action=tpd_action, partner=partner, role="Co-lead")
    Evidence.objects.create(action=tpd_action, title="Annual report", url="https://example.org/a")
    Evidence.objects.create(action=tpd_action, update=published, title="Published photo")
    Evidence.objects.create(action=tpd_action, update=draft, title="DRAFT EVIDENCE")
    for slug, public in [("test-public", True), ("test-internal", False)]:
        Indicator.objects.create(
            strategy=published_version.strategy,
            slug=slug,
            name=slug,
            kind="performance",
            unit="calls",
            direction="decrease",
            is_public=public,
        ).actions.add(tpd_action)

    response = Client().get("/api/v1/actions/3-6")

    assert response.status_code == 200
    data = response.json()
    assert (data["code"], data["slug"], data["goal"]) == ("3.6", "3-6", 3)
    assert data["lead_department"] == tpd_action.lead_department.name
    assert [m["title"] for m in data["milestones"]] == ["Pilot launched"]
    assert data["funding"][0]["source"] == "General Fund"
    assert Decimal(data["funding"][0]["amount"]) == Decimal("250000")
    assert data["council_actions"][0]["url"] == "https://example.org/r41234"
    assert data["partners"] == [
        {"organisation": partner.organisation, "role": "Co-lead", "website": ""}
    ]
    assert sorted(e["title"] for e in data["evidence"]) == ["Annual report", "Published photo"]
    assert all(set(e) == {"title", "url"} for e in data["evidence"])
    assert [u["narrative"] for u in data["updates"]] == ["Hired two responders."]
    assert data["indicators"] == ["test-public"]
    body = response.content.decode()
    for hidden in ["SECRET DRAFT", "DRAFT EVIDENCE", "test-internal", "Pat Private", "pat@"]:
        assert hidden not in body


def test_the_detail_serves_only_the_published_wording(
    draft_version: StrategyVersion, published_version: StrategyVersion
) -> None:
    published = Action.objects.get(version=published_version, slug="3-6")
    draft = Action.objects.filter(version=draft_version, slug="3-6")
    assert draft.update(title="DRAFT WORDING") == 1
    data = Client().get("/api/v1/actions/3-6").json()
    assert data["title"] == published.title
    assert "DRAFT WORDING" not in str(data)


def test_an_unknown_action_is_a_404(db: Any) -> None:
    assert Client().get("/api/v1/actions/no-such-action").status_code == 404


def test_an_action_of_a_draft_version_only_is_a_404(
    draft_version: StrategyVersion, published_version: StrategyVersion
) -> None:
    only_in_draft = (
        Action.objects.filter(version=draft_version)
        .exclude(slug__in=Action.objects.filter(version=published_version).values("slug"))
        .first()
    )
    if only_in_draft is None:
        only_in_draft = Action.objects.create(
            version=draft_version,
            goal=draft_version.goals.first(),
            code="9.9",
            slug="draft-only",
            title="Draft only",
        )
    assert Client().get(f"/api/v1/actions/{only_in_draft.slug}").status_code == 404
