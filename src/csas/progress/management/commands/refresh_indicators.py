from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csas.progress.feeds import FeedError, FeedResult, refresh_all, refresh_indicator
from csas.progress.models import Indicator
from csas.strategy.models import Strategy
from csas.strategy.selectors import strategy_get_default


class Command(BaseCommand):
    help = (
        "Recompute every indicator fed by a csas survey or by safety data (manual indicators "
        "are left alone) and print what was written for each. Safe to run again: unchanged "
        "figures are not rewritten."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--strategy", help="Strategy slug (default: the site's strategy, CSAS_STRATEGY_SLUG)."
        )
        parser.add_argument("--indicator", help="Refresh only the indicator with this slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["strategy"]:
            strategy = Strategy.objects.filter(slug=options["strategy"]).first()
            if strategy is None:
                raise CommandError(f"no strategy {options['strategy']!r}")
        else:
            strategy = strategy_get_default()
            if strategy is None:
                raise CommandError("no strategy has been loaded (csas load-strategy FILE)")
        results: list[FeedResult]
        if options["indicator"]:
            indicator = Indicator.objects.filter(
                strategy=strategy, slug=options["indicator"]
            ).first()
            if indicator is None:
                raise CommandError(
                    f"strategy {strategy.slug!r} has no indicator {options['indicator']!r}"
                )
            try:
                results = [refresh_indicator(indicator)]
            except FeedError as exc:
                raise CommandError(str(exc)) from exc
        else:
            results = refresh_all(strategy)
        for result in results:
            self.stdout.write(result.summary())
            if options["verbosity"] >= 2 and result.method:
                self.stdout.write(f"  method: {result.method}")
            for note in result.notes:
                self.stdout.write(f"  note: {note}")
        failed = [result.indicator for result in results if result.error]
        if options["verbosity"] >= 1:
            self.stdout.write(f"{len(results)} fed indicator(s) refreshed, {len(failed)} failed.")
        if failed:
            raise CommandError(f"could not refresh: {', '.join(failed)}")
