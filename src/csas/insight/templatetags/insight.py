"""Template filters for the insight pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# The breakdowns the survey pages use, in residents' words.
DIMENSION_LABELS = {
    "council_district": _("Council district"),
    "neighbourhood": _("Neighborhood"),
    "race_ethnicity": _("Race and ethnicity"),
    "age": _("Age"),
    "gender": _("Gender"),
    "income": _("Household income"),
    "housing": _("Housing situation"),
    "language": _("Language"),
    "disability": _("Disability"),
}


@register.filter
def dimension_label(dimension: str) -> str:
    """A breakdown's name for people ("race_ethnicity" -> "Race and ethnicity"); an unknown
    one is shown as given."""
    return str(DIMENSION_LABELS.get(dimension, dimension))


@register.filter
def p_value(p: float | None) -> str:
    """A p-value to three decimals in the page's language, "< 0.001" below that (never the
    misleading "0.000"); "" when there is none."""
    from django.template.defaultfilters import floatformat

    if p is None:
        return ""
    if p < 0.001:
        return f"< {floatformat(0.001, 3)}"
    return str(floatformat(p, 3))
