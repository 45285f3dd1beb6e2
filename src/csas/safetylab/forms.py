"""GET forms of the strategy office's safety tools (nothing they do is stored)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from csas.safetylab.tools import Indicator

INTERVAL_CHOICES = [
    ("arrival", _("Minutes to arrival")),
    ("dispatch", _("Minutes to dispatch")),
]
DEFINITION_CHOICES = [
    ("after_screening", _("Eligible after screening (the lower figure)")),
    ("by_type", _("Eligible by call type alone (the higher figure)")),
]


class GapWeightsForm(forms.Form):
    """The response-time interval and one weight per indicator the analysis allows."""

    interval = forms.ChoiceField(
        label=_("Service indicators: response times measured as"),
        choices=INTERVAL_CHOICES,
        initial="arrival",
    )

    def __init__(self, *args: Any, indicators: list[Indicator], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for indicator in indicators:
            self.fields[f"weight_{indicator.key}"] = forms.FloatField(
                label=indicator.label,
                min_value=0,
                max_value=100,
                initial=1.0,
                required=False,
                help_text=_("Need indicator")
                if indicator.group == "need"
                else _("Service indicator"),
            )
        self.indicators = indicators

    def weights(self) -> dict[str, float]:
        """The weights given, 1 where a field was left empty (call after is_valid)."""
        found = {}
        for indicator in self.indicators:
            value = self.cleaned_data.get(f"weight_{indicator.key}")
            found[indicator.key] = 1.0 if value is None else float(value)
        return found


SCOPE_CHOICES = [
    ("district", _("Council districts and hours of the week")),
    ("city", _("Hours of the week, citywide")),
]


class AllocationForm(forms.Form):
    """A what-if: how many shifts, how long, for which eligible calls, where."""

    scope = forms.ChoiceField(
        label=_("Place shifts over"), choices=SCOPE_CHOICES, initial="district", required=False
    )

    definition = forms.ChoiceField(
        label=_("Eligible calls"), choices=DEFINITION_CHOICES, initial="after_screening"
    )
    shifts = forms.IntegerField(label=_("Shifts per week"), min_value=0, max_value=168, initial=14)
    shift_length = forms.IntegerField(
        label=_("Hours per shift"), min_value=1, max_value=24, initial=8
    )
