from __future__ import annotations

import secrets
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from csas.accounts.models import Role, User
from csas.accounts.services import user_create
from csas.strategy.models import Department, Partner, Strategy

# One account per role, so a visitor to the demo can try each, and a second editor of the
# police department: nobody reviews their own quarterly update. Passwords are random per run.
DEMO_ACCOUNTS = [
    ("demo-admin", Role.ADMIN, None, None),
    ("demo-staff", Role.STRATEGY_STAFF, None, None),
    ("demo-tpd-editor", Role.DEPARTMENT_EDITOR, "tpd", None),
    ("demo-tpd-reviewer", Role.DEPARTMENT_EDITOR, "tpd", None),
    ("demo-partner", Role.PARTNER, None, "tacoma-safety-collaborative"),
]
DEMO_STRATEGY = "tacoma-csas"


class Command(BaseCommand):
    help = (
        "Load the bundled Tacoma strategy, create one demo account per role, and add made-up "
        "implementation data (owners, milestones, funding, quarterly updates, indicators)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        from csas.progress.demo import DemoUsers, demo_implementation_load

        call_command("load_strategy", stdout=self.stdout)
        from csas.engagement.models import Survey

        if not Survey.objects.filter(slug="community-safety-survey").exists():
            call_command("load_survey", open=True, stdout=self.stdout)
        lines = []
        accounts: dict[str, User] = {}
        with transaction.atomic():
            for username, role, department_slug, partner_slug in DEMO_ACCOUNTS:
                password = secrets.token_urlsafe(12)
                user = User.objects.filter(username=username).first()
                if user is None:
                    user = user_create(
                        username=username,
                        password=password,
                        role=role,
                        department=Department.objects.filter(slug=department_slug).first()
                        if department_slug
                        else None,
                        partner=Partner.objects.filter(slug=partner_slug).first()
                        if partner_slug
                        else None,
                    )
                else:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                accounts[username] = user
                lines.append(f"  {role.label:<18} {username:<18} {password}")
            summary = demo_implementation_load(
                Strategy.objects.get(slug=DEMO_STRATEGY),
                users=DemoUsers(
                    editor=accounts["demo-tpd-editor"],
                    reviewer=accounts["demo-tpd-reviewer"],
                    office=accounts["demo-staff"],
                ),
            )
        self.stdout.write("Demo accounts (role, username, password; new passwords each run):")
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(summary.line())
        # Made-up survey responses and real Austin comments (labelled as stand-ins), coded
        # once by the offline coder so the review queue has work in it.
        call_command("insight_demo_load", stdout=self.stdout)
        # The survey-fed indicator (feeling safe after dark, by council district) from them.
        call_command("refresh_indicators", stdout=self.stdout)
        call_command("code_feedback", sync_codebook=True, stdout=self.stdout)
        # A year of synthetic calls for service, analysed and published as such.
        call_command("safety_demo_load", stdout=self.stdout)
