"""Public implementation reports: quarterly and annual, as web pages and as PDFs.

Each report is built from published data (`csas.progress.reports`). At scale (hundreds of
actions, hundreds of indicators with years of monthly values) drawing one takes a second or
two, so its body is kept in the cache under a fingerprint of the data it is built from
(`reports.report_data_version`, two cheap queries), the page's language and the code: any
publication or edit gives it a new key, so a report never lags behind what the strategy
office has published. Each indicator is drawn once per report, in an indicators section
that the goals' sections link to, however many goals it serves.

A PDF costs seconds of CPU, so it is kept in the cache under a hash of the exact HTML it is
drawn from (a changed report has a new key, so a cached PDF is never stale), and each client
may ask for at most `REPORT_PDFS_PER_HOUR` PDFs that are not in the cache. The report is in
the language of the URL prefix (/es/reports/... is in Spanish).

PDFs are drawn by WeasyPrint from a print template whose stylesheet is inline. WeasyPrint is
given a URL fetcher that refuses every address but the report fonts shipped with csas
(``csas-font:<name>``, read from the package), so rendering a report never opens a network
connection or reads any other file, whatever ends up in the page. The shipped fonts cover
Khmer and Korean, which Debian's DejaVu lacks: without them those languages' PDFs would
print boxes on a server with no Khmer or CJK font installed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from csas.portal import throttle
from csas.portal.views import _any_fallback, _language, _page
from csas.progress import reports
from csas.progress.models import ReportingPeriod
from csas.strategy import selectors
from csas.strategy.i18n import localized
from csas.strategy.models import StrategyVersion

# Rendered reports and PDFs are kept this long at most; a change to the data behind a report
# gives it a new key, so this only bounds how long a superseded one takes up room.
REPORT_CACHE_SECONDS = 7 * 24 * 3600

# --- PDF rendering ------------------------------------------------------------------------


# The fonts a PDF may load, as ``csas-font:<file>`` in the print template: TrueType, which
# WeasyPrint loads in a fraction of a second (a WOFF2 of the 11,172 Hangul syllables takes
# about 6 s to unpack in fontTools' pure Python).
REPORT_FONTS_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor" / "fonts"
REPORT_FONTS = frozenset(
    {"noto-sans-khmer-400.ttf", "noto-sans-khmer-700.ttf", "nanum-gothic-korean-400.ttf"}
)
FONT_SCHEME = "csas-font:"


def _url_fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ReportURLFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
        """Fetches only the shipped report fonts (``csas-font:<file>``, one of
        `REPORT_FONTS`, read from the package); every other stylesheet, image or font
        address is refused (and noted in `refused`), so no report ever reaches the network
        or any other file."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=(), fail_on_errors=False)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            name = url[len(FONT_SCHEME) :] if url.startswith(FONT_SCHEME) else None
            if name in REPORT_FONTS:
                body = (REPORT_FONTS_DIR / name).read_bytes()
                return URLFetcherResponse(url, body, headers={"Content-Type": "font/ttf"})
            self.refused.append(url)
            raise ValueError(f"csas reports fetch nothing but their fonts; refused {url}")

    return ReportURLFetcher


def report_url_fetcher() -> Any:
    """A new WeasyPrint URL fetcher that refuses every URL but the shipped report fonts
    (see `_url_fetcher_class`)."""
    return _url_fetcher_class()()


def pdf_from_html(html: str, *, base_url: str, url_fetcher: Any = None) -> bytes:
    """The PDF of `html`. Relative links resolve against `base_url`; nothing is fetched but
    the shipped report fonts."""
    from weasyprint import HTML

    fetcher = url_fetcher if url_fetcher is not None else report_url_fetcher()
    pdf: bytes = HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    return pdf


# --- charts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalView:
    """A report's goal section with its status chart (inline SVG), which the templates
    follow with a table of the same figures."""

    section: reports.GoalSection
    status_chart: SafeString


@dataclass(frozen=True)
class IndicatorView:
    """An indicator in the report's indicators section: its chart, drawn once per report
    however many goals link to it (the goals' sections list it and link here)."""

    line: reports.IndicatorLine
    name: str  # in the page's language, or English where it is not translated
    chart: SafeString
    rows: SafeString  # the table of the chart's figures, one row per observation


_TENTH = Decimal("0.1")


def one_decimal(value: float, decimal_separator: str) -> str:
    """`value` as the template filter ``floatformat:"-1"`` shows it (no decimal when it is
    whole, else one, rounded half up; the language's decimal separator), for tables of
    thousands of observations: the filter's generality costs about 30 microseconds a call.
    Only where numbers are not grouped (``USE_THOUSAND_SEPARATOR`` off, csas's setting).

    >>> [one_decimal(v, ",") for v in (10.0, 10.25, -0.04, 2.45, 1e20)]
    ['10', '10,3', '0,0', '2,5', '100000000000000000000']
    """
    number = Decimal(repr(value))
    if not number.is_finite():
        return str(floatformat(value, "-1"))
    if number == number.to_integral_value():
        return str(int(number))
    rounded = number.quantize(_TENTH, ROUND_HALF_UP, Context(prec=60))
    text = f"{rounded if rounded else abs(rounded):f}"  # -0.0 shows as 0.0
    return text.replace(".", decimal_separator)


def _series_rows(series: tuple[reports.IndicatorPoint, ...]) -> SafeString:
    """The rows of an indicator's table of published values, as ``_report_indicators.html``
    used to draw them point by point (a report at scale has tens of thousands)."""
    if settings.USE_THOUSAND_SEPARATOR:  # grouped numbers: let the filters do it all
        drawn = render_to_string("progress/_report_series_rows.html", {"series": series})
        return mark_safe(drawn.strip())  # noqa: S308 - an escaping template
    # Numbers and dates are digits, signs and the separator: only the words need escaping.
    separator = escape(get_format("DECIMAL_SEPARATOR"))
    suppressed = escape(gettext("Suppressed (too few to publish)"))
    rows = []
    for point in series:
        dates = f"{point.period_start.isoformat()} \N{EN DASH} {point.period_end.isoformat()}"
        if point.suppressed:
            cells = f'<td colspan="3">{suppressed}</td>'
        else:
            value = "—" if point.value is None else one_decimal(point.value, separator)
            n = "—" if point.n is None else str(point.n)
            margin = (
                "—"
                if point.margin_of_error is None
                else "± " + one_decimal(point.margin_of_error, separator)
            )
            cells = f"<td>{value}</td><td>{n}</td><td>{margin}</td>"
        rows.append(f'<tr><th scope="row">{dates}</th>{cells}</tr>')
    return mark_safe("".join(rows))  # noqa: S308 - numbers, dates and escaped words


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
            )
        )
    return views


def _indicator_views(lines: tuple[reports.IndicatorLine, ...]) -> list[IndicatorView]:
    language = _language()
    return [
        IndicatorView(
            line,
            localized(line.indicator, "name", language).text,
            _indicator_chart(line, language) if line.series else SafeString(""),
            _series_rows(line.series),
        )
        for line in lines
    ]


def _shown(report: reports.QuarterlyReport | reports.AnnualReport) -> list[Any]:
    """The strategy content a report shows, to tell readers when some is not translated."""
    shown: list[Any] = []
    for section in report.goals:
        shown.append(section.goal)
        shown.extend(line.action for line in section.actions)
    shown.extend(line.indicator for line in report.indicators)
    return shown


# --- report contexts ----------------------------------------------------------------------


def _quarterly_context(version: StrategyVersion, period: ReportingPeriod) -> dict[str, Any]:
    report = reports.report_quarterly(version, period)
    return {
        "report": report,
        "goal_views": _goal_views(report.goals),
        "indicator_views": _indicator_views(report.indicators),
        "overall_chart": _status_chart(
            report.status_counts, gettext("All goals: actions by status")
        ),
        "shown": _shown(report),
    }


def _annual_context(
    version: StrategyVersion, year: int, periods: list[ReportingPeriod]
) -> dict[str, Any]:
    report = reports.report_annual(version, year, periods)
    return {
        "report": report,
        "goal_views": _goal_views(report.goals),
        "indicator_views": _indicator_views(report.indicators),
        "overall_chart": _status_chart(
            report.status_counts, gettext("All goals: actions by latest status in the year")
        ),
        "shown": _shown(report),
    }


# --- rendered reports, kept in the cache ---------------------------------------------------


@dataclass(frozen=True)
class RenderedReport:
    """A report's body, as both the page and the PDF include it (UTF-8 HTML), and whether
    some of the strategy content it shows is not translated into the page's language."""

    body: bytes
    content_fallback: bool

    @property
    def html(self) -> SafeString:
        return mark_safe(self.body.decode())  # noqa: S308 - drawn from escaping templates


@functools.cache
def _code_version() -> str:
    """A fingerprint of the code, templates and translations that draw reports (the whole
    csas package but its static files), read once per process: a report rendered by one
    release is never served by another."""
    import csas

    root = Path(csas.__file__).parent
    digest = hashlib.sha256(csas.__version__.encode())
    for pattern in ("*.py", "*.html", "*.mo"):
        for path in sorted(root.rglob(pattern)):
            if "static" not in path.relative_to(root).parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _rendered(
    request: HttpRequest,
    version: StrategyVersion,
    report: tuple[str, int],
    build: Callable[[], dict[str, Any]],
) -> RenderedReport:
    """The body of `report` ("quarterly", period pk or "annual", year) in the page's
    language: from the cache when neither the data it is built from
    (`reports.report_data_version`) nor the code has changed since it was drawn, else built
    with `build` and drawn now. A report at scale takes a second or two to draw; a cached
    one costs the two queries of the data version."""
    kind, ref = report
    fingerprint = (kind, ref, _language(), _code_version(), reports.report_data_version(version))
    key = "report-html:" + hashlib.sha256(repr(fingerprint).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        body, content_fallback = cached
        return RenderedReport(body, content_fallback)
    context = build()
    shown = context.pop("shown")
    context.update(version=version, strategy=version.strategy)
    html = render_to_string(f"progress/_report_{kind}_body.html", context, request=request)
    rendered = RenderedReport(html.encode(), _any_fallback(shown))
    cache.set(key, (rendered.body, rendered.content_fallback), timeout=REPORT_CACHE_SECONDS)
    return rendered


# Where a report page's template puts the body, which is spliced in as bytes: a report at
# scale is megabytes, and passing it through the template engine and encoding it again
# would cost more than everything else on a cached page.
_BODY_MARK = "<!-- csas: report body -->"


def _report_page(
    request: HttpRequest,
    template: str,
    version: StrategyVersion,
    rendered: RenderedReport,
    **context: Any,
) -> HttpResponse:
    context.update(
        version=version,
        strategy=version.strategy,
        content_fallback=rendered.content_fallback,
        body=SafeString(_BODY_MARK),
    )
    response = render(request, template, context)
    before, after = response.content.split(_BODY_MARK.encode(), 1)
    response.content = b"".join((before, rendered.body, after))
    return response


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


def _quarterly(
    request: HttpRequest, period_pk: int
) -> tuple[StrategyVersion, ReportingPeriod, RenderedReport]:
    version = selectors.version_get_published()
    period = reports.report_period_get(version, period_pk)
    rendered = _rendered(
        request, version, ("quarterly", period.pk), lambda: _quarterly_context(version, period)
    )
    return version, period, rendered


def _annual(request: HttpRequest, year: int) -> tuple[StrategyVersion, RenderedReport]:
    version = selectors.version_get_published()
    periods = reports.report_year_periods(version, year)
    rendered = _rendered(
        request, version, ("annual", year), lambda: _annual_context(version, year, periods)
    )
    return version, rendered


@require_safe
def quarterly(request: HttpRequest, period_pk: int) -> HttpResponse:
    version, period, rendered = _quarterly(request, period_pk)
    return _report_page(
        request,
        "progress/report_quarterly.html",
        version,
        rendered,
        period=period,
        pdf_url=reverse("reports:quarterly_pdf", args=[period.pk]),
    )


@require_safe
def annual(request: HttpRequest, year: int) -> HttpResponse:
    version, rendered = _annual(request, year)
    return _report_page(
        request,
        "progress/report_annual.html",
        version,
        rendered,
        year=year,
        pdf_url=reverse("reports:annual_pdf", args=[year]),
    )


def _pdf_response(
    request: HttpRequest, version: StrategyVersion, rendered: RenderedReport, filename: str
) -> HttpResponse:
    context = {
        "version": version,
        "strategy": version.strategy,
        "content_fallback": rendered.content_fallback,
        "body": rendered.html,
    }
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
        cache.set(key, pdf, timeout=REPORT_CACHE_SECONDS)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_safe
def quarterly_pdf(request: HttpRequest, period_pk: int) -> HttpResponse:
    version, period, rendered = _quarterly(request, period_pk)
    filename = f"{version.strategy.slug}-{slugify(period.label)}-{_language()}.pdf"
    return _pdf_response(request, version, rendered, filename)


@require_safe
def annual_pdf(request: HttpRequest, year: int) -> HttpResponse:
    version, rendered = _annual(request, year)
    filename = f"{version.strategy.slug}-{year}-annual-{_language()}.pdf"
    return _pdf_response(request, version, rendered, filename)
