from __future__ import annotations

from typing import Any

from django.test import Client

from csas.strategy.models import Action, StrategyVersion


def test_a_change_to_a_published_action_appears_in_the_public_changelog(
    published_version: StrategyVersion, user_for: Any
) -> None:
    action = Action.objects.get(version=published_version, slug="3-6")
    action.title = "Promote alternatives to commissioned public safety responses"
    action.save()
    body = Client().get("/changes/").content.decode()
    assert "Action 3.6" in body
    assert "Promote alternatives to (traditional) commissioned public safety responses" in body
    assert "Promote alternatives to commissioned public safety responses" in body


def test_changes_to_a_draft_version_never_appear(draft_version: StrategyVersion) -> None:
    action = Action.objects.get(version=draft_version, slug="1-1")
    action.title = "A secret draft rewording"
    action.save()
    assert "A secret draft rewording" not in Client().get("/changes/").content.decode()
