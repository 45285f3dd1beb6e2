from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from csas.progress.services import reminders_send


class Command(BaseCommand):
    help = (
        "E-mail each action owner whose update for the current reporting period is missing "
        "or still a draft (run daily; the demo prints e-mails to the console)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List, do not send.")

    def handle(self, *args: Any, **options: Any) -> None:
        sent = reminders_send(dry_run=options["dry_run"])
        for line in sent:
            self.stdout.write(line)
        if options["verbosity"] >= 1:
            verb = "would be sent" if options["dry_run"] else "sent"
            self.stdout.write(f"{len(sent)} reminder(s) {verb}.")
