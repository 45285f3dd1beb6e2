from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csas.engagement.services import survey_load_file, survey_set_status
from csas.engagement.survey_file import SurveyFileError, bundled_survey_path
from csas.strategy.models import Strategy
from csas.strategy.selectors import strategy_get_default


class Command(BaseCommand):
    help = "Load a survey file as a draft (default: the bundled Community Safety Survey)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="Path to the survey file.")
        parser.add_argument("--strategy", help="Strategy slug (default: the site's strategy).")
        parser.add_argument("--open", action="store_true", help="Open it for responses.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"]) if options["file"] else bundled_survey_path()
        strategy = (
            Strategy.objects.filter(slug=options["strategy"]).first()
            if options["strategy"]
            else strategy_get_default()
        )
        if strategy is None:
            raise CommandError("Load a strategy first (csas load-strategy FILE).")
        try:
            survey = survey_load_file(path=path, strategy=strategy)
        except SurveyFileError as exc:
            raise CommandError(
                f"Nothing was loaded. {len(exc.problems)} problem(s):\n{exc}"
            ) from exc
        if options["open"]:
            survey_set_status(survey=survey, status="open")
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded survey {survey.slug!r} ({survey.questions.count()} questions, "
                    f"status {survey.status})."
                )
            )
