from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from csas.engagement.contacts import contacts_purge


class Command(BaseCommand):
    help = "Delete follow-up contact details past their retention period (run daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = contacts_purge()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Deleted {deleted} contact detail(s) past their retention date.")
