"""Admin for coding: the codebook (themes editable through the service), runs and reviews.

Codes generated from the strategy follow it (sync them on the codebook page); coding runs,
item codes and reviews are records of what happened and are read-only here. Raw comments are
not shown: the staff pages are the door to them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from csas.insight import coding_services
from csas.insight.models import Code, CodeKind, CodingRun, Review
from csas.strategy.rules import is_strategy_office


class _OfficeReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(is_strategy_office(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(is_strategy_office(request.user))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ThemeAdminForm(forms.ModelForm[Code]):
    """Themes are changed through `code_update`, which checks they can still be coded."""

    class Meta:
        model = Code
        fields = ["label", "description", "examples", "keywords", "is_active"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (
            str(cleaned.get("description") or "").strip()
            or cleaned.get("examples")
            or cleaned.get("keywords")
        ):
            raise ValidationError(
                "A theme needs a description, examples or keywords: the coder needs one of them."
            )
        return cleaned


@admin.register(Code)
class CodeAdmin(_OfficeReadOnly):
    list_display = ["key", "label", "kind", "parent", "is_active", "strategy"]
    list_filter = ["strategy", "kind", "is_active"]
    search_fields = ["key", "label", "description"]
    form = ThemeAdminForm

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not is_strategy_office(request.user):
            return False
        return obj is None or obj.kind == CodeKind.THEME

    def save_model(self, request: HttpRequest, obj: Code, form: Any, change: bool) -> None:
        coding_services.code_update(
            code=obj,
            label=obj.label,
            description=obj.description,
            examples=list(obj.examples),
            keywords=list(obj.keywords),
            is_active=obj.is_active,
        )


@admin.register(CodingRun)
class CodingRunAdmin(_OfficeReadOnly):
    list_display = [
        "started_at",
        "strategy",
        "method",
        "n_items",
        "n_training_examples",
        "seconds",
        "started_by",
    ]
    list_filter = ["strategy", "method"]


@admin.register(Review)
class ReviewAdmin(_OfficeReadOnly):
    list_display = ["item_id", "coder", "decision", "reviewed_at"]
    list_filter = ["decision"]
    exclude = ["item"]
