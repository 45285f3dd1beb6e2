from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from csas.safetylab.management.commands._strategy import strategy_from_option
from csas.safetylab.services import DEMO_CALLS, safety_demo_load


class Command(BaseCommand):
    help = (
        "Make a year of SYNTHETIC Tacoma calls for service, analyse them, and publish the "
        "result on the safety pages labelled as synthetic (replaces the earlier demo load)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--calls", type=int, default=DEMO_CALLS, help=f"Calls to make (default {DEMO_CALLS:,})."
        )
        parser.add_argument(
            "--strategy", default="", help="Strategy slug (default: the site's strategy)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        strategy = strategy_from_option(options["strategy"])
        started = time.perf_counter()
        analysis = safety_demo_load(
            strategy,
            calls=options["calls"],
            progress=lambda step: (
                self.stdout.write(f"Safety demo: {step} ...") if options["verbosity"] > 1 else None
            ),
        )
        self.stdout.write(
            f"Safety demo: {options['calls']:,} synthetic calls analysed and published as "
            f"“{analysis.title}” in {time.perf_counter() - started:.1f} s."
        )
