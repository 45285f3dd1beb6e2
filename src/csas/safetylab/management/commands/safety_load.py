from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csas.safetylab.management.commands._strategy import strategy_from_option
from csas.safetylab.services import SafetyLoadError, safety_analysis_load


class Command(BaseCommand):
    help = (
        "Load the output folder of `csas safety analyze` (aggregates only) as a safety "
        "analysis; with --publish the public safety pages show it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out-dir", required=True, type=Path, help="The folder `csas safety analyze` wrote."
        )
        parser.add_argument("--title", required=True, help="The analysis's title on the pages.")
        parser.add_argument(
            "--publish", action="store_true", help="Publish it (default: a draft for staff)."
        )
        parser.add_argument("--source", default="", help="Where the calls came from, in words.")
        parser.add_argument(
            "--strategy", default="", help="Strategy slug (default: the site's strategy)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        strategy = strategy_from_option(options["strategy"])
        try:
            analysis = safety_analysis_load(
                strategy=strategy,
                out_dir=options["out_dir"],
                title=options["title"],
                publish=options["publish"],
                source=options["source"],
            )
        except SafetyLoadError as error:
            raise CommandError(str(error)) from None
        state = "published" if analysis.is_published else "draft, not public"
        label = " (SYNTHETIC data)" if analysis.is_synthetic else ""
        self.stdout.write(
            f"Loaded safety analysis {analysis.pk} “{analysis.title}”{label}: {state}."
        )
