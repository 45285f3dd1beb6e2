"""Public indicator pages: the list, and one indicator with its chart and data tables."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from csas.portal.views import _page
from csas.progress.indicator_selectors import indicator_get_public, indicator_list_public
from csas.strategy import selectors
from csas.strategy.i18n import localized


@require_safe
def indicator_list(request: HttpRequest) -> HttpResponse:
    version = selectors.version_get_published()
    summaries = indicator_list_public(version)
    return _page(
        request,
        "progress/indicator_list.html",
        version,
        [summary.indicator for summary in summaries],
        indicators=summaries,
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
