from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PUBLIC = "public", _("Public")
    PARTNER = "partner", _("Partner")
    DEPARTMENT_EDITOR = "department_editor", _("Department editor")
    STRATEGY_STAFF = "strategy_staff", _("Strategy staff")
    ADMIN = "admin", _("Administrator")


# Roles that may use the Django admin site.
BACK_OFFICE_ROLES = frozenset({Role.STRATEGY_STAFF, Role.ADMIN})


class User(AbstractUser):
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.PUBLIC)
    department = models.ForeignKey(
        "strategy.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="editors",
        help_text=_("Required for department editors: the department whose actions they edit."),
    )
    partner = models.ForeignKey(
        "strategy.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        help_text=_("For partner accounts: the organisation they speak for."),
    )

    def clean(self) -> None:
        super().clean()
        if self.role == Role.DEPARTMENT_EDITOR and self.department_id is None:
            raise ValidationError({"department": _("A department editor needs a department.")})
        if self.role == Role.PARTNER and self.partner_id is None:
            raise ValidationError({"partner": _("A partner account needs a partner organisation.")})
