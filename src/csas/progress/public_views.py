"""Public indicator pages: the list, and one indicator with its chart and data tables."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from csas.portal.views import _page
from csas.progress.indicator_selectors import (
    IndicatorStanding,
    indicator_get_public,
    indicator_list_public,
)
from csas.progress.models import Direction, IndicatorKind
from csas.strategy import selectors
from csas.strategy.i18n import localized


def _list_row(item: IndicatorStanding) -> dict[str, Any]:
    """One row of the indicator list with its numbers formatted (as ``floatformat`` does in
    the templates) and its link made here: with 200 indicators, the template's filters,
    tags and attribute lookups were most of the page's time. A dict, because the template
    engine tries a key before an attribute."""
    indicator, latest = item.indicator, item.latest
    return {
        "indicator": indicator,
        "latest": latest,
        "url": reverse("indicators:detail", args=[indicator.slug]),
        "population": indicator.kind == IndicatorKind.POPULATION,
        "value": _number(latest.value if latest else None),
        "margin_of_error": _number(latest.margin_of_error if latest else None, "1"),
        "baseline": _number(indicator.baseline_value),
        "target": _number(indicator.target_value),
        "increase": indicator.direction == Direction.INCREASE,
        "direction": indicator.get_direction_display(),
        "course": item.course,
    }


def _number(value: float | None, places: str = "-1") -> str | None:
    return None if value is None else floatformat(value, places)


@require_safe
def indicator_list(request: HttpRequest) -> HttpResponse:
    version = selectors.version_get_published()
    items = indicator_list_public(version)
    return _page(
        request,
        "progress/indicator_list.html",
        version,
        [item.indicator for item in items],
        rows=[_list_row(item) for item in items],
    )


@require_safe
def indicator_detail(request: HttpRequest, slug: str) -> HttpResponse:
    version = selectors.version_get_published()
    detail = indicator_get_public(version, slug)
    language = (get_language() or "en").split("-")[0]
    name = localized(detail.indicator, "name", language).text
    unit = localized(detail.indicator, "unit", language).text
    breakdowns = [
        {
            "breakdown": breakdown,
            "chart": breakdown.chart(
                title=f"{name}: {breakdown.label}, {breakdown.period}", unit=unit
            ),
        }
        for breakdown in detail.breakdowns
    ]
    return _page(
        request,
        "progress/indicator_detail.html",
        version,
        [detail.indicator, *detail.actions],
        detail=detail,
        indicator=detail.indicator,
        indicator_name=name,
        unit=unit,
        summary=detail.summary,
        chart=detail.summary.chart(),
        breakdowns=breakdowns,
    )
