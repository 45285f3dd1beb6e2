"""Named permission predicates (django-rules). Every check in views goes through these."""

from __future__ import annotations

from typing import Any

import rules

from csas.accounts.models import Role


@rules.predicate
def is_admin(user: Any) -> bool:
    return bool(
        user.is_authenticated and user.is_active and (user.is_superuser or user.role == Role.ADMIN)
    )


@rules.predicate
def is_strategy_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role == Role.STRATEGY_STAFF)


@rules.predicate
def is_department_editor(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.role == Role.DEPARTMENT_EDITOR
        and user.department_id is not None
    )


@rules.predicate
def is_partner(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role == Role.PARTNER)


@rules.predicate
def leads_action(user: Any, action: Any) -> bool:
    return bool(
        action is not None
        and action.lead_department_id is not None
        and action.lead_department_id == user.department_id
    )


is_strategy_office = is_admin | is_strategy_staff

rules.add_perm("strategy.use_back_office", is_strategy_office | is_department_editor | is_partner)
rules.add_perm("strategy.edit_action", is_strategy_office | (is_department_editor & leads_action))
rules.add_perm("strategy.preview_version", is_strategy_office)
rules.add_perm("strategy.publish_version", is_strategy_office)
rules.add_perm("strategy.translate", is_strategy_office)
