"""Reads for "You said, we did": published engagement themes and the actions that answer them.

The input behind a theme is counted from its linked feedback items, and only from items
that moderation published; pending and rejected items never count.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet

from csas.engagement.models import ModerationStatus
from csas.progress.models import YouSaidWeDid
from csas.strategy.models import Action, StrategyVersion


@dataclass(frozen=True)
class YouSaidTheme:
    """One published theme.

    theme: the theme itself (carries the translations of its texts).
    actions: the actions of the published version that answer it, in strategy order.
    comments: published feedback items linked to the theme.
    channels: distinct channels (feedback item sources) among those items.
    """

    theme: YouSaidWeDid
    actions: tuple[Action, ...]
    comments: int
    channels: int


def _published_input() -> Q:
    return Q(
        feedback_items__status=ModerationStatus.PUBLISHED,
        # An item of another strategy linked by mistake is not this strategy's input.
        feedback_items__strategy_id=F("strategy_id"),
    )


def _themes(version: StrategyVersion) -> QuerySet[YouSaidWeDid]:
    published_actions = (
        Action.objects.filter(version=version)
        .select_related("goal")
        .order_by("goal__number", "order", "code", "slug")
    )
    return (
        YouSaidWeDid.objects.filter(strategy_id=version.strategy_id, is_published=True)
        .annotate(
            comment_count=Count("feedback_items", filter=_published_input(), distinct=True),
            channel_count=Count("feedback_items__source", filter=_published_input(), distinct=True),
        )
        .prefetch_related(
            Prefetch("actions", queryset=published_actions, to_attr="published_actions")
        )
        .order_by("order", "theme", "pk")
    )


def _result(themes: QuerySet[YouSaidWeDid]) -> list[YouSaidTheme]:
    return [
        YouSaidTheme(
            theme=theme,
            actions=tuple(getattr(theme, "published_actions", ())),
            comments=int(getattr(theme, "comment_count", 0)),
            channels=int(getattr(theme, "channel_count", 0)),
        )
        for theme in themes
    ]


def you_said_list_public(version: StrategyVersion) -> list[YouSaidTheme]:
    """Published themes of `version`'s strategy, with the published version's actions.

    `version` must be the published version (from `version_get_published`).
    """
    if not version.is_published:
        return []
    return _result(_themes(version))


def you_said_for_action(action: Action) -> list[YouSaidTheme]:
    """Published themes that this action answers; none for an action of an unpublished
    version."""
    version = action.version
    if not version.is_published:
        return []
    return _result(_themes(version).filter(actions=action))
