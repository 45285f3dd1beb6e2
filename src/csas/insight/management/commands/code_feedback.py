"""Code a strategy's feedback items from the command line (what the "Run coding" button does)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from csas.insight.coding_services import codebook_sync_from_strategy, coding_run_start
from csas.insight.models import Code
from csas.strategy.models import Strategy
from csas.strategy.selectors import strategy_get_default


class Command(BaseCommand):
    help = (
        "Code every published or pending feedback item of a strategy with the offline coder, "
        "replacing the previous machine codes (reviews are kept). With --sync-codebook, first "
        "bring the codebook in step with the published strategy; an empty codebook is synced "
        "anyway. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--strategy", help="Strategy slug (default: the site's strategy, CSAS_STRATEGY_SLUG)."
        )
        parser.add_argument(
            "--sync-codebook",
            action="store_true",
            help="Create or update the goal, action and focus population codes first.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["strategy"]:
            strategy = Strategy.objects.filter(slug=options["strategy"]).first()
            if strategy is None:
                raise CommandError(f"no strategy {options['strategy']!r}")
        else:
            strategy = strategy_get_default()
            if strategy is None:
                raise CommandError("no strategy has been loaded (csas load-strategy FILE)")
        try:
            if options["sync_codebook"] or not Code.objects.filter(strategy=strategy).exists():
                synced = codebook_sync_from_strategy(strategy=strategy)
                self.stdout.write(
                    f"Codebook of {strategy.slug}: {synced.created} codes added, "
                    f"{synced.updated} updated, {synced.deactivated} deactivated, "
                    f"{synced.unchanged} unchanged."
                )
            result = coding_run_start(strategy=strategy)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        run = result.run
        skipped = run.metrics.get("n_skipped_without_words", 0)
        self.stdout.write(
            f"Coded {run.n_items} feedback items of {strategy.slug} ({skipped} without words "
            f"skipped) in {run.seconds or 0:.1f} s, {run.method}, "
            f"{run.n_training_examples} training examples "
            f"({run.metrics.get('n_reviewed_examples', 0)} reviewed items)."
        )
        if result.counts:
            counts = ", ".join(f"{key} {n}" for key, n in sorted(result.counts.items()))
            self.stdout.write(f"Items per code: {counts}")
        else:
            self.stdout.write("No code was given to any item.")
