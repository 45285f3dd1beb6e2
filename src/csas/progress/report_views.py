"""Public implementation reports: quarterly and annual, as web pages and as PDFs.

Each report is built on request from published data (`csas.progress.reports`), so a report
never lags behind what the strategy office has published. A PDF costs seconds of CPU, so it is
kept in the cache under a hash of the exact HTML it is drawn from (a changed report has a new
key, so a cached PDF is never stale), and each client may ask for at most
`REPORT_PDFS_PER_HOUR` PDFs that are not in the cache. The report is in
the language of the URL prefix (/es/reports/... is in Spanish).

PDFs are drawn by WeasyPrint from a print template whose stylesheet is inline. WeasyPrint is
given a URL fetcher that refuses every address, so rendering a report never opens a network
connection or reads a file, whatever ends up in the page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from csas.portal import throttle
from csas.portal.views import _any_fallback, _language, _page
from csas.progress import reports
from csas.strategy import selectors
from csas.strategy.i18n import localized
from csas.strategy.models import StrategyVersion

# --- PDF rendering ------------------------------------------------------------------------


def _url_fetcher_class() -> type:
    from weasyprint.urls import URLFetcher

    class RefusingURLFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
        """Fetches nothing: every stylesheet, image or font address is refused (and noted in
        `refused`), so no report ever reaches the network or the local disk."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=(), fail_on_errors=False)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            self.refused.append(url)
            raise ValueError(f"csas reports fetch nothing; refused {url}")

    return RefusingURLFetcher


def refusing_url_fetcher() -> Any:
    """A new WeasyPrint URL fetcher that refuses every URL (see `_url_fetcher_class`)."""
    return _url_fetcher_class()()


def pdf_from_html(html: str, *, base_url: str, url_fetcher: Any = None) -> bytes:
    """The PDF of `html`. Relative links resolve against `base_url`; nothing is fetched."""
    from weasyprint import HTML

    fetcher = url_fetcher if url_fetcher is not None else refusing_url_fetcher()
    pdf: bytes = HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    return pdf


# --- charts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalView:
    """A report's goal section with its charts (inline SVG); each chart is followed by a
    table of the same figures in the templates."""

    section: reports.GoalSection
    status_chart: SafeString
    indicators: list[tuple[reports.IndicatorLine, SafeString]]


def _status_chart(counts: tuple[reports.StatusCount, ...], title: str) -> SafeString:
    from csas.progress.charts import bar_chart_svg

    svg: str = bar_chart_svg(
        [(count.label, float(count.count)) for count in counts],
        title=title,
        unit=gettext("actions"),
    )
    return mark_safe(svg)  # noqa: S308 - charts.py escapes every label it draws


def _indicator_chart(line: reports.IndicatorLine, language: str) -> SafeString:
    from csas.progress.charts import line_chart_svg

    indicator = line.indicator
    target = None
    if indicator.target_value is not None and indicator.target_year is not None:
        target = (indicator.target_year, indicator.target_value)
    svg: str = line_chart_svg(
        [(point.period_end, point.value) for point in line.series],
        title=localized(indicator, "name", language).text,
        unit=indicator.unit,
        target=target,
        baseline=indicator.baseline_value,
    )
    return mark_safe(svg)  # noqa: S308 - charts.py escapes every label it draws


def _goal_views(goals: tuple[reports.GoalSection, ...]) -> list[GoalView]:
    language = _language()
    views = []
    for section in goals:
        title = gettext("Goal %(number)s: actions by status") % {"number": section.goal.number}
        views.append(
            GoalView(
                section=section,
                status_chart=(
                    _status_chart(section.status_counts, title)
                    if section.actions
                    else SafeString("")
                ),
                indicators=[
                    (line, _indicator_chart(line, language) if line.series else SafeString(""))
                    for line in section.indicators
                ],
            )
        )
    return views


def _shown(goals: tuple[reports.GoalSection, ...]) -> list[Any]:
    """The strategy content a report shows, to tell readers when some is not translated."""
    shown: list[Any] = []
    for section in goals:
        shown.append(section.goal)
        shown.extend(line.action for line in section.actions)
        shown.extend(line.indicator for line in section.indicators)
    return shown


# --- pages --------------------------------------------------------------------------------


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    version = selectors.version_get_published()
    periods = reports.report_periods(version)
    return _page(
        request,
        "progress/report_index.html",
        version,
        [],
        periods=periods,
        years=reports.report_years(periods),
    )


def _quarterly_context(version: StrategyVersion, period_pk: int) -> dict[str, Any]:
    period = reports.report_period_get(version, period_pk)
    report = reports.report_quarterly(version, period)
    return {
        "report": report,
        "goal_views": _goal_views(report.goals),
        "overall_chart": _status_chart(
            report.status_counts, gettext("All goals: actions by status")
        ),
        "shown": _shown(report.goals),
        "pdf_url": reverse("reports:quarterly_pdf", args=[period.pk]),
        "filename": f"{version.strategy.slug}-{slugify(period.label)}-{_language()}.pdf",
    }


def _annual_context(version: StrategyVersion, year: int) -> dict[str, Any]:
    report = reports.report_annual(version, year)
    return {
        "report": report,
        "goal_views": _goal_views(report.goals),
        "overall_chart": _status_chart(
            report.status_counts, gettext("All goals: actions by latest status in the year")
        ),
        "shown": _shown(report.goals),
        "pdf_url": reverse("reports:annual_pdf", args=[year]),
        "filename": f"{version.strategy.slug}-{year}-annual-{_language()}.pdf",
    }


@require_safe
def quarterly(request: HttpRequest, period_pk: int) -> HttpResponse:
    version = selectors.version_get_published()
    context = _quarterly_context(version, period_pk)
    return _page(
        request, "progress/report_quarterly.html", version, context.pop("shown"), **context
    )


@require_safe
def annual(request: HttpRequest, year: int) -> HttpResponse:
    version = selectors.version_get_published()
    context = _annual_context(version, year)
    return _page(request, "progress/report_annual.html", version, context.pop("shown"), **context)


def _pdf_response(
    request: HttpRequest, version: StrategyVersion, body: str, context: dict[str, Any]
) -> HttpResponse:
    context.update(
        version=version,
        strategy=version.strategy,
        content_fallback=_any_fallback(context.pop("shown")),
        body_template=body,
    )
    html = render_to_string("progress/report_pdf.html", context, request=request)
    key = "report-pdf:" + hashlib.sha256(html.encode()).hexdigest()
    pdf = cache.get(key)
    if pdf is None:
        if not throttle.allow(request, "report-pdf", settings.REPORT_PDFS_PER_HOUR):
            return HttpResponse(
                gettext("Too many reports were asked for from your address. Try again later."),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        pdf = pdf_from_html(html, base_url=request.build_absolute_uri("/"))
        cache.set(key, pdf, timeout=7 * 24 * 3600)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{context["filename"]}"'
    return response


@require_safe
def quarterly_pdf(request: HttpRequest, period_pk: int) -> HttpResponse:
    version = selectors.version_get_published()
    context = _quarterly_context(version, period_pk)
    return _pdf_response(request, version, "progress/_report_quarterly_body.html", context)


@require_safe
def annual_pdf(request: HttpRequest, year: int) -> HttpResponse:
    version = selectors.version_get_published()
    context = _annual_context(version, year)
    return _pdf_response(request, version, "progress/_report_annual_body.html", context)
