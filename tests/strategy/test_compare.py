"""What changed between two versions: Tacoma's April 2024 draft and the adopted strategy."""

from __future__ import annotations

from typing import Any

from django.test import Client

from csas.strategy.compare import version_differences
from csas.strategy.models import Action, StrategyVersion


def test_the_adopted_strategy_differs_from_the_draft_in_vision_and_goal_names(
    draft_version: StrategyVersion, published_version: StrategyVersion
) -> None:
    changes = version_differences(draft_version, published_version)
    strategy = next(c for c in changes if c.kind == "Strategy")
    assert strategy.status == "changed"
    vision = next(f for f in strategy.changes if f.field == "Vision")
    assert vision.after == published_version.vision.strip()
    assert vision.before == draft_version.vision.strip()
    goals = [c for c in changes if c.kind == "Goal"]
    assert goals  # the adopted goal titles differ from the draft's
    for change in goals:
        assert change.status == "changed"
        assert all(f.before != f.after for f in change.changes)
    # the actions were carried over unchanged from the draft
    assert not [c for c in changes if c.kind == "Action"]


def test_an_added_removed_and_edited_action_are_each_reported(
    draft_version: StrategyVersion, published_version: StrategyVersion
) -> None:
    edited = Action.objects.get(version=published_version, slug="3-6")
    edited.title = "Grow alternatives to police response"
    edited.save()
    removed = Action.objects.get(version=published_version, slug="3-2")
    removed.delete()
    added = Action.objects.get(version=draft_version, slug="1-1")
    added.pk = None
    added.slug = "1-9"
    added.code = "1.9"
    added.version = published_version
    added.goal = published_version.goals.get(number=1)
    added.objective = None
    added.save()
    actions = {
        c.label.split(":")[0]: c
        for c in version_differences(draft_version, published_version)
        if c.kind == "Action"
    }
    assert actions["1.9"].status == "added"
    assert actions["3.2"].status == "removed"
    assert actions["3.6"].status == "changed"
    [title] = [f for f in actions["3.6"].changes if f.field == "Title"]
    assert title.after == "Grow alternatives to police response"
    assert len(actions) == 3


def test_the_compare_page_lists_the_differences(
    user_for: Any, draft_version: StrategyVersion, published_version: StrategyVersion
) -> None:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    page = client.get(
        f"/manage/versions/{published_version.pk}/compare/?from={draft_version.pk}"
    ).content.decode()
    assert "Every difference, item by item" in page
    assert "Vision" in page
    default = client.get(f"/manage/versions/{draft_version.pk}/compare/").content.decode()
    assert published_version.label in default  # compared with the published version
    for bad in ("x", "²", "-"):
        url = f"/manage/versions/{published_version.pk}/compare/?from={bad}"
        assert client.get(url).status_code == 404
    same = f"/manage/versions/{published_version.pk}/compare/?from={published_version.pk}"
    assert client.get(same).status_code == 404
