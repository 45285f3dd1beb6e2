"""Back-office editing of implementation data (the strategy office only).

Quarterly updates are not edited here: they move through their review workflow in
csas.progress.services, which records every step.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from csas.progress import models
from csas.strategy.admin import StrategyOfficeAdmin


@admin.register(models.ReportingPeriod)
class ReportingPeriodAdmin(StrategyOfficeAdmin):
    list_display = ["label", "strategy", "starts_on", "ends_on", "due_on"]


@admin.register(models.ActionOwner)
class ActionOwnerAdmin(StrategyOfficeAdmin):
    list_display = ["action", "user", "is_primary"]
    list_filter = ["action__version"]


@admin.register(models.ActionMilestone)
class ActionMilestoneAdmin(StrategyOfficeAdmin):
    list_display = ["title", "action", "planned_end", "actual_end", "percent_complete"]
    list_filter = ["action__version"]


@admin.register(models.FundingLine)
class FundingLineAdmin(StrategyOfficeAdmin):
    list_display = ["action", "source", "amount", "status", "fiscal_year"]
    list_filter = ["status", "fiscal_year"]


@admin.register(models.CouncilAction)
class CouncilActionAdmin(StrategyOfficeAdmin):
    list_display = ["title", "action", "dated"]


@admin.register(models.Evidence)
class EvidenceAdmin(StrategyOfficeAdmin):
    list_display = ["title", "action", "update", "added_at"]


@admin.register(models.ActionUpdate)
class ActionUpdateAdmin(StrategyOfficeAdmin):
    list_display = ["action", "period", "status", "state", "author", "published_at"]
    list_filter = ["state", "status", "period"]
    readonly_fields = [
        "action",
        "period",
        "status",
        "narrative",
        "milestone_progress",
        "state",
        "author",
        "submitted_at",
        "reviewed_by",
        "approved_by",
        "published_at",
    ]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False


@admin.register(models.Indicator)
class IndicatorAdmin(StrategyOfficeAdmin):
    list_display = ["name", "kind", "unit", "direction", "target_value", "target_year", "feed"]
    list_filter = ["kind", "feed"]
    filter_horizontal = ["actions"]


@admin.register(models.Observation)
class ObservationAdmin(StrategyOfficeAdmin):
    list_display = [
        "indicator",
        "period_start",
        "period_end",
        "value",
        "n",
        "dimension",
        "group",
        "suppressed",
    ]
    list_filter = ["indicator", "dimension"]
