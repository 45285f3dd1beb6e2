"""The strategy a safety command works on: --strategy SLUG, or the site's strategy."""

from __future__ import annotations

from django.core.management.base import CommandError

from csas.strategy.models import Strategy
from csas.strategy.selectors import strategy_get_default


def strategy_from_option(slug: str) -> Strategy:
    if slug:
        found = Strategy.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"--strategy {slug!r}: no such strategy; load it first")
        return found
    default = strategy_get_default()
    if default is None:
        raise CommandError("no strategy is loaded; run `csas load-strategy` first")
    return default
