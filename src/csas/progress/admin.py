"""Back-office editing of implementation data (the strategy office only).

Quarterly updates are not edited here: they move through their review workflow in
csas.progress.services, which records every step. API keys are made, changed and revoked
through csas.progress.apikeys.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from csas.progress import (
    admin_you_said,  # noqa: F401  (registers the "you said, we did" admin)
    apikeys,
    models,
)
from csas.strategy.admin import StrategyOfficeAdmin


class AdminLogHistoryAdmin(StrategyOfficeAdmin):
    """For models without simple_history: the history page lists the admin log (who added,
    changed or revoked what). simple_history's own page needs a history table and would fail."""

    object_history_template = None

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        return admin.ModelAdmin.history_view(self, request, object_id, extra_context)


@admin.register(models.ReportingPeriod)
class ReportingPeriodAdmin(AdminLogHistoryAdmin):
    list_display = ["label", "strategy", "starts_on", "ends_on", "due_on"]


@admin.register(models.ActionOwner)
class ActionOwnerAdmin(AdminLogHistoryAdmin):
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
class CouncilActionAdmin(AdminLogHistoryAdmin):
    list_display = ["title", "action", "dated"]


@admin.register(models.Evidence)
class EvidenceAdmin(AdminLogHistoryAdmin):
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
class ObservationAdmin(AdminLogHistoryAdmin):
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


class ApiKeyForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = models.ApiKey
        fields = ["name", "can_write_observations", "indicators"]

    def clean_indicators(self) -> Any:
        return apikeys.apikey_scope_validate(self.cleaned_data["indicators"])


@admin.register(models.ApiKey)
class ApiKeyAdmin(AdminLogHistoryAdmin):
    """Keys for staff integrations. The key itself is shown once, in the message after it is
    made; only its prefix and a hash are kept. Keys are revoked, never deleted, so every
    observation's `created_by` still names a key that can be looked up."""

    form = ApiKeyForm
    list_display = [
        "name",
        "prefix",
        "can_write_observations",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "can_write_observations"]
    search_fields = ["name", "prefix"]
    filter_horizontal = ["indicators"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["name", "indicators"]
        return [
            "name",
            "prefix",
            "key_hash",
            "can_write_observations",
            "indicators",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        fixed = ["prefix", "key_hash", "created_by", "created_at", "last_used_at", "revoked_at"]
        if obj.revoked_at is not None:
            return [*fixed, "name", "can_write_observations", "indicators"]
        return fixed

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "indicators":
            # Indicators computed by csas refuse writes; only manual ones can be in scope.
            kwargs["queryset"] = models.Indicator.objects.filter(
                feed=models.IndicatorFeed.MANUAL
            ).select_related("strategy")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            apikeys.apikey_update(
                key=obj,
                name=form.cleaned_data["name"],
                can_write_observations=form.cleaned_data["can_write_observations"],
                indicators=form.cleaned_data["indicators"],
                by=request.user,
            )
            return
        key, plaintext = apikeys.apikey_create(
            name=form.cleaned_data["name"],
            created_by=request.user,
            indicators=form.cleaned_data["indicators"],
        )
        # The admin goes on with the object it built from the form; make it the saved key.
        for field in models.ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        obj._state.db = key._state.db
        self.message_user(
            request,
            f"API key “{key.name}” made. Copy it now; it is not kept and will not be shown "
            f"again: {plaintext}",
            messages.WARNING,
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The scope was saved by the service above; only inline formsets (none) remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[models.ApiKey]) -> None:
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            apikeys.apikey_revoke(key=key, by=request.user)
            self.log_change(request, key, "Revoked")
            revoked += 1
        self.message_user(
            request,
            f"Revoked {revoked} key(s); they are refused from now on."
            if revoked
            else "The selected keys were already revoked.",
        )
