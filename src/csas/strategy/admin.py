from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from csas.strategy import models, services
from csas.strategy.rules import is_strategy_office


class StrategyOfficeAdmin(SimpleHistoryAdmin):  # type: ignore[misc]
    """Strategy staff and administrators edit everything here; the history is kept."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(is_strategy_office(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(is_strategy_office(request.user))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return bool(is_strategy_office(request.user))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(is_strategy_office(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(is_strategy_office(request.user))


class StrategyOfficeInline(admin.TabularInline):  # type: ignore[type-arg]
    """Inline rows editable by the strategy office only."""

    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(is_strategy_office(request.user))

    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(is_strategy_office(request.user))


class ActionPartnerInline(StrategyOfficeInline):
    model = models.ActionPartner


@admin.register(models.City)
class CityAdmin(StrategyOfficeAdmin):
    list_display = ["name", "region", "slug"]


@admin.register(models.Strategy)
class StrategyAdmin(StrategyOfficeAdmin):
    list_display = ["name", "city", "owner_office", "source_file"]


@admin.register(models.StrategyVersion)
class StrategyVersionAdmin(StrategyOfficeAdmin):
    list_display = ["label", "strategy", "status", "dated", "is_published"]
    list_filter = ["strategy", "status", "is_published"]
    # Publishing goes through version_publish (one published version per strategy), never
    # through the checkbox, so two versions can never be public at once.
    readonly_fields = ["is_published"]
    actions = ["publish"]

    @admin.action(description="Publish the selected version (unpublishes the strategy's other)")
    def publish(self, request: HttpRequest, queryset: QuerySet[models.StrategyVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to publish.", messages.ERROR)
            return
        version = services.version_publish(version=queryset.get())
        self.message_user(request, f"“{version.label}” is now the version the public sees.")


@admin.register(models.Goal)
class GoalAdmin(StrategyOfficeAdmin):
    list_display = ["number", "short_name", "title", "version"]
    list_filter = ["version"]


@admin.register(models.Objective)
class ObjectiveAdmin(StrategyOfficeAdmin):
    list_display = ["code", "title", "goal"]


@admin.register(models.Action)
class ActionAdmin(StrategyOfficeAdmin):
    list_display = ["code", "title", "goal", "status", "horizon", "lead_department", "version"]
    list_filter = ["version", "goal__number", "status", "horizon", "lead_department"]
    search_fields = ["code", "title", "description"]
    filter_horizontal = ["supporting_departments"]
    inlines = [ActionPartnerInline]


@admin.register(models.FocusPopulation)
class FocusPopulationAdmin(StrategyOfficeAdmin):
    list_display = ["name", "goal"]


@admin.register(models.Department)
class DepartmentAdmin(StrategyOfficeAdmin):
    list_display = ["name", "abbreviation", "city"]


@admin.register(models.Partner)
class PartnerAdmin(StrategyOfficeAdmin):
    list_display = ["organisation", "contact_name", "city"]


@admin.register(models.Workstream)
class WorkstreamAdmin(StrategyOfficeAdmin):
    list_display = ["name", "version", "order"]


@admin.register(models.Milestone)
class MilestoneAdmin(StrategyOfficeAdmin):
    list_display = ["title", "workstream", "starts_on", "ends_on"]
    list_filter = ["workstream__version", "workstream"]


@admin.register(models.DiscussionQuestion)
class DiscussionQuestionAdmin(StrategyOfficeAdmin):
    list_display = ["text", "version", "order"]


@admin.register(models.Geography)
class GeographyAdmin(StrategyOfficeAdmin):
    list_display = ["name", "kind", "code", "population", "city"]
    list_filter = ["city", "kind"]
    search_fields = ["name", "code"]
    exclude = ["geometry"]
