"""Account writes: creating users with a role."""

from __future__ import annotations

from django.db import transaction

from csas.accounts.models import BACK_OFFICE_ROLES, Role, User
from csas.strategy.models import Department, Partner


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: str,
    email: str = "",
    department: Department | None = None,
    partner: Partner | None = None,
) -> User:
    """Create an account. Back-office roles get `is_staff`; admins also `is_superuser`."""
    user = User(
        username=username,
        email=email,
        role=role,
        department=department,
        partner=partner,
        is_staff=role in BACK_OFFICE_ROLES,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    return user
