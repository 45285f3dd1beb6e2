"""Template filters and tags for the safety pages: shares as percentages, figures in the
page's locale, and a link to the safety pages that shows only while one is published."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()


def _rounded(value: float, digits: int) -> Decimal:
    """`value` rounded to `digits` decimals as the charts round it (Python's float formatting);
    Django's number_format alone would cut the further digits off a float instead."""
    return Decimal(f"{float(value):.{max(0, int(digits))}f}")


@register.filter
def percent(share: float | None, digits: int = 1) -> str:
    """A share (0-1) as a percentage: 0.2341 -> "23.4%"; "" when withheld."""
    if share is None:
        return ""
    return f"{number_format(_rounded(float(share) * 100, digits), decimal_pos=int(digits))}%"


@register.filter
def figure(value: float | None, digits: int = 1) -> str:
    """A figure with `digits` decimals and grouped thousands; "" when withheld."""
    if value is None:
        return ""
    return number_format(_rounded(value, digits), decimal_pos=int(digits), force_grouping=True)


@register.inclusion_tag("safetylab/_link.html")
def safety_link(strategy: Any) -> dict[str, Any]:
    """A link to the safety pages, shown only while an analysis is published (one query)."""
    from csas.safetylab.selectors import analysis_published_exists

    return {"show": strategy is not None and analysis_published_exists(strategy)}
