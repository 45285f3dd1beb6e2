from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csas.strategy.loader import StrategyFileError, bundled_strategy_path
from csas.strategy.services import strategy_load_file


class Command(BaseCommand):
    help = "Load a strategy file (YAML or JSON); all or nothing. Default: the bundled Tacoma file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="Path to the strategy file.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"]) if options["file"] else bundled_strategy_path()
        try:
            report = strategy_load_file(path=path)
        except StrategyFileError as exc:
            raise CommandError(
                f"Nothing was loaded. {len(exc.problems)} problem(s):\n{exc}"
            ) from exc
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded {path.name} into strategy {report.strategy_slug!r}: "
                    f"{report.summary()}."
                )
            )
