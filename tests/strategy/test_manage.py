from __future__ import annotations

from typing import Any

from django.test import Client

from csas.strategy.models import Action, StrategyVersion
from csas.strategy.services import version_publish


def _form(action: Action, **changes: str) -> dict[str, str]:
    data = {
        "title": action.title,
        "description": action.description,
        "status": action.status,
        "horizon": action.horizon,
    }
    data.update(changes)
    return data


def test_department_editor_saves_their_own_departments_action_with_history(
    user_for: Any, tpd_action: Action
) -> None:
    editor = user_for("department_editor")
    client = Client()
    client.force_login(editor)
    response = client.post(
        f"/manage/actions/{tpd_action.pk}/edit/",
        _form(
            tpd_action, status="in_progress", description="Scoping an alternative response pilot."
        ),
    )
    assert response.status_code == 302
    tpd_action.refresh_from_db()
    assert tpd_action.status == "in_progress"
    assert tpd_action.description == "Scoping an alternative response pilot."
    latest = tpd_action.history.first()
    assert latest.history_user == editor
    assert latest.status == "in_progress"


def test_department_editor_cannot_save_another_departments_action(
    user_for: Any, tfd_action: Action
) -> None:
    client = Client()
    client.force_login(user_for("department_editor"))
    before = tfd_action.history.count()
    response = client.post(
        f"/manage/actions/{tfd_action.pk}/edit/", _form(tfd_action, status="complete")
    )
    assert response.status_code == 403
    tfd_action.refresh_from_db()
    assert tfd_action.status == "not_started"
    assert tfd_action.history.count() == before


def test_partner_cannot_save_any_action(user_for: Any, tpd_action: Action) -> None:
    client = Client()
    client.force_login(user_for("partner"))
    response = client.post(
        f"/manage/actions/{tpd_action.pk}/edit/", _form(tpd_action, status="complete")
    )
    assert response.status_code == 403
    tpd_action.refresh_from_db()
    assert tpd_action.status == "not_started"


def test_an_invalid_edit_is_shown_again_with_the_error(user_for: Any, tpd_action: Action) -> None:
    client = Client()
    client.force_login(user_for("department_editor"))
    response = client.post(
        f"/manage/actions/{tpd_action.pk}/edit/", _form(tpd_action, status="finished", title="")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required." in body
    assert "Select a valid choice." in body
    tpd_action.refresh_from_db()
    assert tpd_action.title


def test_editor_back_office_lists_only_their_departments_actions(
    user_for: Any, tpd_action: Action, tfd_action: Action
) -> None:
    client = Client()
    client.force_login(user_for("department_editor"))
    body = client.get("/manage/").content.decode()
    assert f"/manage/actions/{tpd_action.pk}/edit/" in body
    assert f"/manage/actions/{tfd_action.pk}/edit/" not in body


def test_publishing_a_version_unpublishes_the_other(
    draft_version: StrategyVersion, published_version: StrategyVersion
) -> None:
    version_publish(version=draft_version)
    published_version.refresh_from_db()
    draft_version.refresh_from_db()
    assert draft_version.is_published
    assert not published_version.is_published
    assert StrategyVersion.objects.filter(is_published=True).count() == 1


def test_with_no_published_version_the_public_gets_a_friendly_404(
    published_version: StrategyVersion,
) -> None:
    published_version.is_published = False
    published_version.save()
    response = Client().get("/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_staff_publish_a_version_from_the_admin(
    user_for: Any, draft_version: StrategyVersion, published_version: StrategyVersion
) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    response = client.post(
        "/admin/strategy/strategyversion/",
        {"action": "publish", "_selected_action": [draft_version.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "is now the version the public sees" in response.content.decode()
    draft_version.refresh_from_db()
    published_version.refresh_from_db()
    assert draft_version.is_published
    assert not published_version.is_published
    assert "Co-create Healthy PLACES" in Client().get("/").content.decode()


def test_the_admin_form_cannot_publish_a_second_version(
    user_for: Any, draft_version: StrategyVersion
) -> None:
    client = Client()
    client.force_login(user_for("admin"))
    page = client.get(f"/admin/strategy/strategyversion/{draft_version.pk}/change/")
    assert page.status_code == 200
    assert 'name="is_published"' not in page.content.decode()
