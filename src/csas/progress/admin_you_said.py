"""Back-office editing of "You said, we did" themes (the strategy office only).

Imported from csas.progress.admin so that the theme admin registers with the site.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import ManyToManyField
from django.forms import ModelMultipleChoiceField
from django.http import HttpRequest

from csas.progress.models import YouSaidWeDid
from csas.strategy.admin import StrategyOfficeAdmin
from csas.strategy.models import Action


class ActionChoiceField(ModelMultipleChoiceField[Action]):
    """Action codes repeat from version to version: name the version beside each."""

    def label_from_instance(self, obj: Action) -> str:
        return f"{obj.code} {obj.title} ({obj.version.label})"


@admin.register(YouSaidWeDid)
class YouSaidWeDidAdmin(StrategyOfficeAdmin):
    list_display = ["theme", "strategy", "order", "is_published"]
    list_filter = ["strategy", "is_published"]
    search_fields = ["theme", "what_we_heard", "what_we_did"]
    prepopulated_fields = {"slug": ["theme"]}
    filter_horizontal = ["actions"]
    # Feedback items are many and carry residents' words: link them by id, not from a list.
    raw_id_fields = ["feedback_items"]
    fields = [
        "strategy",
        "theme",
        "slug",
        "what_we_heard",
        "what_we_did",
        "actions",
        "feedback_items",
        "order",
        "is_published",
        "translations",
    ]

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "actions":
            kwargs["form_class"] = ActionChoiceField
            kwargs["queryset"] = Action.objects.select_related("version").order_by(
                "-version__is_published", "-version__dated", "goal__number", "order", "code"
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)
