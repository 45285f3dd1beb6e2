from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from csas.accounts.models import Role, User
from csas.accounts.services import user_create


class Command(BaseCommand):
    help = "Create an administrator account (password from CSAS_ADMIN_PASSWORD or a prompt)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"An account named {username!r} already exists.")
        password = os.environ.get("CSAS_ADMIN_PASSWORD") or getpass.getpass("Password: ")
        try:
            user_create(
                username=username, password=password, role=Role.ADMIN, email=options["email"]
            )
        except ValidationError as exc:
            raise CommandError(f"Account not created: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Administrator {username!r} created."))
