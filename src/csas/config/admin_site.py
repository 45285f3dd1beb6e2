from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from csas.strategy.rules import is_strategy_office


class CsasAdminSite(admin.AdminSite):
    """The admin is for the strategy office (strategy staff and administrators) only."""

    site_header = "csas back office"
    site_title = "csas"
    index_title = "Strategy content"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(is_strategy_office(request.user))
