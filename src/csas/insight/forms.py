"""Forms of the coding pages: add a theme, promote a candidate theme, review an item."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from csas.insight.models import Code


def split_keywords(value: str) -> list[str]:
    """Keywords typed as a comma-separated list (or one a line)."""
    parts = value.replace("\n", ",").split(",")
    return [" ".join(part.split()) for part in parts if part.strip()]


def split_lines(value: str) -> list[str]:
    return [" ".join(line.split()) for line in value.splitlines() if line.strip()]


class ThemeForm(forms.Form):
    """A staff-defined theme: a name plus a description, examples or keywords."""

    label = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the theme means; the coder reads its words."),
    )
    examples = forms.CharField(
        label=_("Example phrases"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line; write your own, do not paste residents' comments."),
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        max_length=2000,
        help_text=_(
            "Separated by commas. A trailing * matches any ending (polic* matches police)."
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["examples"] = split_lines(cleaned.get("examples", ""))
        cleaned["keywords"] = split_keywords(cleaned.get("keywords", ""))
        if not (
            cleaned.get("description", "").strip() or cleaned["examples"] or cleaned["keywords"]
        ):
            raise forms.ValidationError(
                _("Give a description, example phrases or keywords: the coder needs one of them.")
            )
        return cleaned


class ThemePromoteForm(forms.Form):
    """A candidate theme made a code: the name staff give it and its keywords."""

    label = forms.CharField(label=_("Name of the new theme"), max_length=200)
    keywords = forms.CharField(
        label=_("Keywords"),
        max_length=2000,
        help_text=_("Separated by commas; edit them as needed."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_keywords(self) -> list[str]:
        keywords = split_keywords(self.cleaned_data.get("keywords", ""))
        if not keywords:
            raise forms.ValidationError(_("Give at least one keyword."))
        return keywords


class ReviewForm(forms.Form):
    """Accept the suggested codes, or save the codes checked."""

    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("correct", _("Save corrections"))]
    )
    codes = forms.MultipleChoiceField(required=False, choices=())
    offset = forms.IntegerField(required=False, min_value=0)

    def __init__(self, *args: Any, codes: Sequence[Code] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["codes"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 (narrowing)
        field.choices = [(str(code.pk), code.label) for code in codes]
