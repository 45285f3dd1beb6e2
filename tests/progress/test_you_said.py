"""'You said, we did': published themes, the actions that answer them, counts of input."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin import AdminSite
from django.template.loader import render_to_string
from django.test import Client

from csas.engagement.models import FeedbackItem, FeedbackSource, ModerationStatus
from csas.progress.models import YouSaidWeDid
from csas.progress.you_said_selectors import you_said_for_action, you_said_list_public
from csas.strategy.models import Action, StrategyVersion


def _feedback(strategy: Any, source: str, status: str, text: str = "More lighting.") -> Any:
    return FeedbackItem.objects.create(strategy=strategy, source=source, status=status, text=text)


@pytest.fixture
def lighting(published_version: StrategyVersion, draft_version: StrategyVersion) -> YouSaidWeDid:
    """A published theme with input from two channels, plus input that must not count."""
    strategy = published_version.strategy
    theme = YouSaidWeDid.objects.create(
        strategy=strategy,
        slug="lighting",
        theme="Dark streets feel unsafe",
        what_we_heard="Residents asked for better street lighting near bus stops.",
        what_we_did="Lighting repairs are now part of action 3.6.",
        order=1,
        is_published=True,
        translations={"es": {"theme": "Las calles oscuras se sienten inseguras"}},
    )
    theme.actions.add(
        Action.objects.get(version=published_version, slug="3-6"),
        Action.objects.get(version=published_version, slug="3-2"),
        # the same action in the superseded draft: never listed
        Action.objects.filter(version=draft_version).first(),
    )
    theme.feedback_items.add(
        _feedback(strategy, FeedbackSource.SURVEY_ANSWER, ModerationStatus.PUBLISHED),
        _feedback(strategy, FeedbackSource.SURVEY_ANSWER, ModerationStatus.PUBLISHED),
        _feedback(strategy, FeedbackSource.MAP_COMMENT, ModerationStatus.PUBLISHED),
        _feedback(strategy, FeedbackSource.POLIS, ModerationStatus.PENDING),
        _feedback(strategy, FeedbackSource.STAFF_NOTE, ModerationStatus.REJECTED, "Abuse."),
    )
    return theme


@pytest.fixture
def unpublished(published_version: StrategyVersion) -> YouSaidWeDid:
    theme = YouSaidWeDid.objects.create(
        strategy=published_version.strategy,
        slug="parks",
        theme="Secret draft theme about parks",
        what_we_heard="Not yet reviewed.",
        what_we_did="Not yet decided.",
        is_published=False,
    )
    theme.actions.add(Action.objects.get(version=published_version, slug="3-6"))
    return theme


def test_only_published_themes_are_listed(
    published_version: StrategyVersion, lighting: YouSaidWeDid, unpublished: YouSaidWeDid
) -> None:
    assert [item.theme.slug for item in you_said_list_public(published_version)] == ["lighting"]


def test_counts_come_from_published_feedback_only(
    published_version: StrategyVersion, lighting: YouSaidWeDid
) -> None:
    (item,) = you_said_list_public(published_version)
    assert (item.comments, item.channels) == (3, 2)


def test_feedback_of_another_strategy_is_not_counted(
    published_version: StrategyVersion, lighting: YouSaidWeDid
) -> None:
    from csas.strategy.models import Strategy

    other = Strategy.objects.create(
        city=published_version.strategy.city, slug="other-strategy", name="Other"
    )
    lighting.feedback_items.add(_feedback(other, FeedbackSource.IMPORT, ModerationStatus.PUBLISHED))
    (item,) = you_said_list_public(published_version)
    assert (item.comments, item.channels) == (3, 2)


def test_only_actions_of_the_published_version_are_listed(
    published_version: StrategyVersion, lighting: YouSaidWeDid
) -> None:
    (item,) = you_said_list_public(published_version)
    assert [a.slug for a in item.actions] == ["3-2", "3-6"]
    assert {a.version_id for a in item.actions} == {published_version.pk}


def test_a_theme_with_no_input_counts_zero(published_version: StrategyVersion) -> None:
    YouSaidWeDid.objects.create(
        strategy=published_version.strategy,
        slug="quiet",
        theme="Quiet theme",
        what_we_heard="-",
        what_we_did="-",
        is_published=True,
    )
    (item,) = you_said_list_public(published_version)
    assert (item.comments, item.channels, item.actions) == (0, 0, ())


def test_nothing_is_listed_for_a_draft_version(
    draft_version: StrategyVersion, lighting: YouSaidWeDid
) -> None:
    assert you_said_list_public(draft_version) == []


def test_the_page_shows_themes_with_action_links_and_counts(
    lighting: YouSaidWeDid, unpublished: YouSaidWeDid, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(8):
        response = Client().get("/you-said-we-did/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Dark streets feel unsafe" in body
    assert "Residents asked for better street lighting near bus stops." in body
    assert "Lighting repairs are now part of action 3.6." in body
    assert 'href="/actions/3-6/"' in body
    assert 'href="/actions/3-2/"' in body
    assert "Based on 3 comments from 2 channels" in body
    assert "Secret draft theme" not in body
    assert "Abuse." not in body


def test_the_page_shows_the_translated_theme(lighting: YouSaidWeDid) -> None:
    body = Client().get("/es/you-said-we-did/").content.decode()
    assert "Las calles oscuras se sienten inseguras" in body
    assert 'href="/es/actions/3-6/"' in body


def test_the_page_says_so_when_nothing_is_published(
    published_version: StrategyVersion, unpublished: YouSaidWeDid
) -> None:
    body = Client().get("/you-said-we-did/").content.decode()
    assert "Nothing has been published here yet." in body
    assert "Secret draft theme" not in body


def test_the_page_is_not_found_when_no_version_is_published(
    published_version: StrategyVersion, lighting: YouSaidWeDid
) -> None:
    StrategyVersion.objects.update(is_published=False)
    assert Client().get("/you-said-we-did/").status_code == 404


def test_you_said_for_action_lists_published_themes_the_action_answers(
    published_version: StrategyVersion, lighting: YouSaidWeDid, unpublished: YouSaidWeDid
) -> None:
    action = Action.objects.get(version=published_version, slug="3-6")
    assert [item.theme.slug for item in you_said_for_action(action)] == ["lighting"]
    (item,) = you_said_for_action(action)
    assert (item.comments, item.channels) == (3, 2)
    assert [a.slug for a in item.actions] == ["3-2", "3-6"]
    unlinked = Action.objects.get(version=published_version, slug="1-1")
    assert you_said_for_action(unlinked) == []


def test_you_said_for_an_action_of_a_draft_version_is_empty(
    draft_version: StrategyVersion, lighting: YouSaidWeDid
) -> None:
    action = lighting.actions.get(version=draft_version)
    assert you_said_for_action(action) == []


def test_the_action_partial_links_to_the_theme(
    published_version: StrategyVersion, lighting: YouSaidWeDid
) -> None:
    action = Action.objects.get(version=published_version, slug="3-6")
    html = render_to_string(
        "progress/_action_you_said.html", {"you_said": you_said_for_action(action)}
    )
    assert 'href="/you-said-we-did/#lighting"' in html
    assert "Dark streets feel unsafe" in html
    assert "based on 3 comments from 2 channels" in html
    assert "Lighting repairs are now part of action 3.6." in html


def test_the_action_partial_is_empty_without_themes(published_version: StrategyVersion) -> None:
    action = Action.objects.get(version=published_version, slug="3-6")
    assert render_to_string("progress/_action_you_said.html", {"you_said": []}).strip() == ""
    assert "You said" not in render_to_string(
        "progress/_action_you_said.html", {"you_said": you_said_for_action(action)}
    )


def test_the_admin_passes_django_checks_and_links_items_by_id(db: Any) -> None:
    from csas.progress.admin_you_said import YouSaidWeDidAdmin

    model_admin = YouSaidWeDidAdmin(YouSaidWeDid, AdminSite())
    assert model_admin.check() == []
    assert model_admin.filter_horizontal == ["actions"]
    assert model_admin.raw_id_fields == ["feedback_items"]
