from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from csas.progress.models import ActionUpdate, ReportingPeriod
from csas.strategy.models import Action
from tests.conftest import make_user


@pytest.fixture
def period(tpd_action: Action) -> ReportingPeriod:
    return ReportingPeriod.objects.create(
        strategy=tpd_action.version.strategy,
        label="2026 Q1",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 3, 31),
        due_on=dt.date(2026, 4, 15),
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_owner_writes_sends_and_staff_publish_through_the_screens(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    editor = _client(user_for("department_editor"))
    queue = editor.get("/manage/updates/").content.decode()
    assert f"/manage/updates/actions/{tpd_action.pk}/periods/{period.pk}/" in queue
    url = f"/manage/updates/actions/{tpd_action.pk}/periods/{period.pk}/"
    assert (
        editor.post(
            url, {"status": "at_risk", "narrative": "Hiring delayed.", "submit": "1"}
        ).status_code
        == 302
    )
    update = ActionUpdate.objects.get()
    assert update.state == "department_review"
    colleague = _client(make_user("department_editor", username="tpd-2"))
    colleague.post(f"/manage/updates/updates/{update.pk}/decide/", {"decision": "review"})
    office = _client(user_for("strategy_staff"))
    office.post(f"/manage/updates/updates/{update.pk}/decide/", {"decision": "approve"})
    update.refresh_from_db()
    assert update.state == "published"
    assert "Hiring delayed." in Client().get("/actions/3-6/").content.decode()


def test_the_author_cannot_review_their_own_update_through_the_screen(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    editor = _client(user_for("department_editor"))
    url = f"/manage/updates/actions/{tpd_action.pk}/periods/{period.pk}/"
    editor.post(url, {"status": "on_track", "narrative": "Fine.", "submit": "1"})
    update = ActionUpdate.objects.get()
    response = editor.post(f"/manage/updates/updates/{update.pk}/decide/", {"decision": "review"})
    assert response.status_code == 403
    update.refresh_from_db()
    assert update.state == "department_review"


@pytest.mark.parametrize("role", ["partner"])
def test_people_who_do_not_own_an_action_cannot_write_its_update(
    tpd_action: Action, period: ReportingPeriod, user_for: Any, role: str
) -> None:
    url = f"/manage/updates/actions/{tpd_action.pk}/periods/{period.pk}/"
    response = _client(user_for(role)).post(url, {"status": "on_track", "narrative": "x"})
    assert response.status_code == 403
    assert not ActionUpdate.objects.exists()


def test_an_editor_of_another_department_gets_403(
    tfd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    url = f"/manage/updates/actions/{tfd_action.pk}/periods/{period.pk}/"
    assert _client(user_for("department_editor")).get(url).status_code == 403
