from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csas.strategy.models import Strategy
from csas.strategy.selectors import strategy_get_default


class Command(BaseCommand):
    help = (
        "Add demo engagement data: made-up responses to the Community Safety Survey and real "
        "comments from Austin, Texas as stand-ins, all labelled Demo. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--strategy", help="Strategy slug (default: the site's strategy, CSAS_STRATEGY_SLUG)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from csas.insight.demo import insight_demo_load

        if options["strategy"]:
            strategy = Strategy.objects.filter(slug=options["strategy"]).first()
            if strategy is None:
                raise CommandError(f"no strategy {options['strategy']!r}")
        else:
            strategy = strategy_get_default()
            if strategy is None:
                raise CommandError("no strategy has been loaded (csas load-strategy FILE)")
        self.stdout.write(insight_demo_load(strategy).line())
