from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from csas.accounts.models import User
from csas.strategy.rules import is_admin


@admin.register(User)
class CsasUserAdmin(UserAdmin[User]):
    """Only administrators manage accounts and roles."""

    list_display = ["username", "email", "role", "department", "partner", "is_active"]
    list_filter = ["role", "department", "is_active"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Role", {"fields": ("role", "department", "partner")}),
    )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(is_admin(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(is_admin(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(is_admin(request.user))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(is_admin(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(is_admin(request.user))
