"""Back-office editing for engagement: the survey builder, activities and invitation codes.

Only the strategy office uses the admin (see csas.config.admin_site). Raw responses and
contact details are deliberately not registered here: they are read through the staff pages
and exports, which apply redaction and the personal-data rules.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from csas.engagement import models, services
from csas.engagement.selectors import survey_missing_translations
from csas.strategy.admin import StrategyOfficeAdmin, StrategyOfficeInline


class OptionInline(StrategyOfficeInline):
    model = models.Option
    fields = ["order", "value", "label", "prefer_not_to_say", "exclusive", "strategy_ref"]


class QuestionInline(StrategyOfficeInline):
    model = models.Question
    fields = ["order", "key", "kind", "text", "required", "demographic"]
    show_change_link = True


class SectionInline(StrategyOfficeInline):
    model = models.Section
    fields = ["order", "key", "title"]
    show_change_link = True


@admin.register(models.Survey)
class SurveyAdmin(StrategyOfficeAdmin):
    list_display = ["title", "slug", "status", "languages_missing", "created_at"]
    list_filter = ["status"]
    inlines = [SectionInline]
    readonly_fields = ["source_file", "created_at"]
    exclude = ["definition"]
    actions = ["open_survey", "close_survey", "make_invitations", "download_invitations"]

    @admin.display(description="Missing translations")
    def languages_missing(self, survey: models.Survey) -> str:
        missing = survey_missing_translations(survey)
        return ", ".join(f"{code}: {len(keys)}" for code, keys in missing.items() if keys) or "—"

    @admin.action(description="Open for responses")
    def open_survey(self, request: HttpRequest, queryset: QuerySet[models.Survey]) -> None:
        for survey in queryset:
            services.survey_set_status(survey=survey, status="open")

    @admin.action(description="Close")
    def close_survey(self, request: HttpRequest, queryset: QuerySet[models.Survey]) -> None:
        for survey in queryset:
            services.survey_set_status(survey=survey, status="closed")

    @admin.action(description="Make 100 single-use invitation codes")
    def make_invitations(self, request: HttpRequest, queryset: QuerySet[models.Survey]) -> None:
        for survey in queryset:
            codes = services.invitations_create(
                survey=survey, count=100, batch=f"Made by {request.user}"
            )
            self.message_user(request, f"{len(codes)} codes made for {survey}.", messages.SUCCESS)

    @admin.action(description="Download unused invitation codes (CSV, for printing)")
    def download_invitations(
        self, request: HttpRequest, queryset: QuerySet[models.Survey]
    ) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="invitation-codes.csv"'
        writer = csv.writer(response)
        writer.writerow(["survey", "code", "batch"])
        for invitation in models.Invitation.objects.filter(
            survey__in=queryset, used_at__isnull=True
        ).select_related("survey"):
            writer.writerow([invitation.survey.slug, invitation.code, invitation.batch])
        return response


@admin.register(models.Section)
class SectionAdmin(StrategyOfficeAdmin):
    list_display = ["title", "survey", "order"]
    inlines = [QuestionInline]


@admin.register(models.Question)
class QuestionAdmin(StrategyOfficeAdmin):
    list_display = ["key", "kind", "text", "survey", "required"]
    list_filter = ["survey", "kind"]
    inlines = [OptionInline]


@admin.register(models.Activity)
class ActivityAdmin(StrategyOfficeAdmin):
    list_display = ["title", "kind", "starts_at", "place", "is_public", "attendance_count"]
    list_filter = ["kind", "is_public"]
    search_fields = ["title", "place"]


@admin.register(models.Invitation)
class InvitationAdmin(StrategyOfficeAdmin):
    list_display = ["code", "survey", "batch", "used_at"]
    list_filter = ["survey", "batch"]
    readonly_fields = ["code", "used_at"]


@admin.register(models.ContactDetail)
class ContactDetailAdmin(StrategyOfficeAdmin):
    """Contact details can be listed and deleted here, never read: the list shows no details.

    Reading them goes through csas.engagement.contacts.contact_read_for_user.
    """

    list_display = ["pk", "created_at", "purge_after", "response", "map_comment"]
    fields = ["created_at", "purge_after"]
    readonly_fields = ["created_at", "purge_after"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
