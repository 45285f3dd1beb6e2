"""The "What we heard" report: staff draft and preview it, pick quotes and publish it; the
public reads the published snapshot, as a page or a PDF.

Staff pages are for the strategy office (strategy staff and administrators, the
``engagement.view_responses`` permission): anonymous visitors are sent to sign in, other
roles get 403. The public pages show only published reports (drafts are "not found") and
only what was stored when the report was published.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from csas.engagement.models import FeedbackItem, FeedbackSource
from csas.insight import heard_selectors as selectors
from csas.insight import heard_services as services
from csas.insight.access import office_strategy as _strategy
from csas.insight.access import require_office as _require_office
from csas.insight.models import Code, CodeKind, HeardQuote, HeardReport, HeardReportStatus
from csas.portal import throttle
from csas.portal.views import _language
from csas.strategy import selectors as strategy_selectors
from csas.strategy.models import Strategy

PICKER_LIMIT = 50

DIMENSIONS = {
    "council_district": gettext_lazy("Council district"),
    "race_ethnicity": gettext_lazy("Race"),
    "age": gettext_lazy("Age"),
}
# Category names of the analysis library and of "who spoke", in the page's language.
CATEGORIES = {
    selectors.NOT_RECORDED: gettext_lazy("Not asked (staff notes, imported comments)"),
    selectors.NOT_STATED: gettext_lazy("Did not say"),
    selectors.OUTSIDE_CITY: gettext_lazy("Outside the city"),
    "American Indian or Alaska Native": gettext_lazy("American Indian or Alaska Native"),
    "Asian": gettext_lazy("Asian"),
    "Black or African American": gettext_lazy("Black or African American"),
    "Native Hawaiian or Pacific Islander": gettext_lazy("Native Hawaiian or Pacific Islander"),
    "Other race": gettext_lazy("Other race"),
    "Two or more races": gettext_lazy("Two or more races"),
    "White": gettext_lazy("White"),
    "Under 18": gettext_lazy("Under 18"),
    "18 to 64": gettext_lazy("18 to 64"),
    "65 and over": gettext_lazy("65 and over"),
    "prefer not to say": gettext_lazy("Did not say"),
}


# --- the figures in the page's language ------------------------------------------------------


class _Localizer:
    """Turns stored figures into what the templates show, in the page's language, noting
    whether any strategy content fell back to English."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.fallback = False

    def text(self, labels: Mapping[str, str]) -> dict[str, Any]:
        if self.language in labels:
            return {"text": labels[self.language], "fallback": False}
        english = labels.get("en", "")
        is_fallback = self.language != "en" and bool(english)
        self.fallback = self.fallback or is_fallback
        return {"text": english, "fallback": is_fallback}

    @staticmethod
    def source(key: str) -> str:
        return str(FeedbackSource(key).label) if key in FeedbackSource.values else key

    @staticmethod
    def category(name: str) -> str:
        return str(CATEGORIES.get(name, name))

    def code(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        label = self.text(entry["labels"])
        if entry.get("number"):
            name = _("Goal %(number)s") % {"number": entry["number"]}
        elif entry.get("action_code"):
            name = _("Action %(code)s") % {"code": entry["action_code"]}
        else:
            name = label["text"]
        return {
            **entry,
            "label": label,
            "name": name,
            "by_source": [
                {**cell, "label": self.source(cell["source"])}
                for cell in entry.get("by_source", [])
            ],
            "speakers": [
                {
                    "dimension": str(DIMENSIONS.get(table["dimension"], table["dimension"])),
                    "rows": [
                        {**row, "label": self.category(row["category"])}
                        for row in table["rows"]
                        if row["count"] != 0
                    ],
                }
                for table in entry.get("speakers", [])
            ],
            "quotes": [
                {**quote, "source_label": self.source(quote["source"])}
                for quote in entry.get("quotes", [])
            ],
            "actions": [self.code(action) for action in entry.get("actions", [])],
        }

    def figures(self, figures: Mapping[str, Any]) -> dict[str, Any]:
        goals = [self.code(goal) for goal in figures.get("goals", [])]
        surveys = []
        for survey in figures.get("surveys", []):
            surveys.append(
                {
                    **survey,
                    "title": self.text(survey["survey"]),
                    "safety": [
                        {
                            **table,
                            "question": self.text(table["question"]),
                            "dimension_label": str(
                                DIMENSIONS.get(table["dimension"], table["dimension"])
                            ),
                            "groups": [
                                {**group, "label": self.category(group["group"])}
                                for group in table["groups"]
                            ],
                        }
                        for table in survey["safety"]
                    ],
                    "representation": [
                        {
                            **table,
                            "dimension_label": str(
                                DIMENSIONS.get(table["dimension"], table["dimension"])
                            ),
                            "categories": [
                                {**row, "label": self.category(row["category"])}
                                for row in table["categories"]
                            ],
                        }
                        for table in survey["representation"]
                    ],
                }
            )
        items = figures.get("items", {})
        return {
            "threshold": figures.get("threshold", selectors.suppression_threshold()),
            "computed_at": figures.get("computed_at", ""),
            "items": {
                **items,
                "by_source": [
                    {**cell, "label": self.source(cell["source"])}
                    for cell in items.get("by_source", [])
                ],
            },
            "goals": goals,
            "themes": [self.code(theme) for theme in figures.get("themes", [])],
            "surveys": surveys,
            "chart": _goal_chart(goals) if goals else SafeString(""),
        }


def _goal_chart(goals: list[dict[str, Any]]) -> SafeString:
    from csas.progress.charts import bar_chart_svg

    svg: str = bar_chart_svg(
        [(goal["name"], None if goal["count"] is None else float(goal["count"])) for goal in goals],
        title=_("Comments by goal"),
        unit=_("comments"),
    )
    return mark_safe(svg)  # noqa: S308 - charts.py escapes every label it draws


def _wording(report_like: Mapping[str, Any], language: str) -> dict[str, Any]:
    """Title and introduction in `language`, else English, each noting whether it fell
    back to English."""
    texts = (report_like.get("translations") or {}).get(language, {}) if language != "en" else {}
    wording: dict[str, Any] = {}
    for field in services.TRANSLATABLE:
        english = report_like.get(field, "")
        translated = texts.get(field, "")
        wording[field] = {
            "text": translated or english,
            "fallback": language != "en" and bool(english) and not translated,
        }
    return wording


def _body_context(wording: Mapping[str, Any], figures: Mapping[str, Any]) -> dict[str, Any]:
    language = _language()
    localizer = _Localizer(language)
    heard = localizer.figures(figures)
    texts = _wording(wording, language)
    return {
        "heard": heard,
        "title": texts["title"],
        "introduction": texts["introduction"],
        "content_fallback": localizer.fallback or any(t["fallback"] for t in texts.values()),
    }


# --- public pages ------------------------------------------------------------------------------


def _published(slug: str | None) -> tuple[Any, HeardReport]:
    version = strategy_selectors.version_get_published()
    report = selectors.heard_report_get_public(version.strategy, slug)
    return version, report


def _public_context(version: Any, report: HeardReport) -> dict[str, Any]:
    snapshot = report.snapshot or {}
    context = _body_context(snapshot, snapshot.get("figures", {}))
    context.update(
        version=version,
        strategy=version.strategy,
        report=report,
        public=True,
        pdf_url=reverse("heard:public_pdf", args=[report.slug]),
    )
    return context


@require_safe
def public_latest(request: HttpRequest) -> HttpResponse:
    """The latest published report; before any is published, a page that says so (the site's
    footer links here)."""
    try:
        version, report = _published(None)
    except Http404:
        version = strategy_selectors.version_get_published()
        return render(
            request,
            "insight/heard/public_none.html",
            {"version": version, "strategy": version.strategy},
        )
    return render(request, "insight/heard/public.html", _public_context(version, report))


@require_safe
def public_detail(request: HttpRequest, slug: str) -> HttpResponse:
    version, report = _published(slug)
    return render(request, "insight/heard/public.html", _public_context(version, report))


@require_safe
def public_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    """The published report as a PDF, drawn like the implementation reports' PDFs (no URL is
    ever fetched), kept in the cache under a hash of its HTML, and throttled per client."""
    from csas.progress.report_views import REPORT_CACHE_SECONDS, pdf_from_html

    version, report = _published(slug)
    context = _public_context(version, report)
    body = render_to_string("insight/heard/_body.html", context, request=request)
    html = render_to_string(
        "progress/report_pdf.html",
        {
            "version": version,
            "strategy": version.strategy,
            "content_fallback": context["content_fallback"],
            "body": mark_safe(body),  # noqa: S308 - drawn from an escaping template
        },
        request=request,
    )
    key = "heard-pdf:" + hashlib.sha256(html.encode()).hexdigest()
    pdf = cache.get(key)
    if pdf is None:
        if not throttle.allow(request, "report-pdf", settings.REPORT_PDFS_PER_HOUR):
            return HttpResponse(
                _("Too many reports were asked for from your address. Try again later."),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        pdf = pdf_from_html(html, base_url=request.build_absolute_uri("/"))
        cache.set(key, pdf, timeout=REPORT_CACHE_SECONDS)
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"{version.strategy.slug}-what-we-heard-{report.slug}-{_language()}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- staff pages -------------------------------------------------------------------------------


def _other_languages() -> list[tuple[str, str]]:
    return [(code, name) for code, name in settings.LANGUAGES if code != "en"]


class ReportForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    slug = forms.SlugField(
        label=gettext_lazy("Address (slug)"),
        max_length=80,
        required=False,
        help_text=gettext_lazy("Letters, numbers and hyphens. Made from the title if left empty."),
    )
    introduction = forms.CharField(
        label=gettext_lazy("Introduction"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args: Any, translations: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if translations:
            for code, name in _other_languages():
                self.fields[f"title_{code}"] = forms.CharField(
                    label=_("Title in %(language)s") % {"language": name},
                    max_length=200,
                    required=False,
                )
                self.fields[f"introduction_{code}"] = forms.CharField(
                    label=_("Introduction in %(language)s") % {"language": name},
                    widget=forms.Textarea(attrs={"rows": 3}),
                    required=False,
                )

    def translations(self) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for code, _name in _other_languages():
            for field in services.TRANSLATABLE:
                text = self.cleaned_data.get(f"{field}_{code}", "")
                if text:
                    found.setdefault(code, {})[field] = text
        return found

    @staticmethod
    def initial_for(report: HeardReport) -> dict[str, Any]:
        initial = {
            "title": report.title,
            "slug": report.slug,
            "introduction": report.introduction,
        }
        for code, texts in (report.translations or {}).items():
            for field in services.TRANSLATABLE:
                if texts.get(field):
                    initial[f"{field}_{code}"] = texts[field]
        return initial


def _apply_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in errors:
                form.add_error(target, item)
    else:
        for message in error.messages:
            form.add_error(None, message)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    strategy = _strategy()
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.heard_report_create(
                strategy=strategy,
                title=form.cleaned_data["title"],
                slug=form.cleaned_data["slug"],
                introduction=form.cleaned_data["introduction"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Draft report created."))
            return redirect("heard:staff_detail", pk=report.pk)
    return render(
        request,
        "insight/heard/staff_list.html",
        {
            "reports": list(selectors.heard_report_list(strategy)),
            "form": form,
            "strategy": strategy,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the wording and preview the report as it would be published now."""
    _require_office(request)
    strategy = _strategy()
    report = selectors.heard_report_get_for_staff(strategy, pk)
    if request.method == "POST":
        form = ReportForm(request.POST, translations=True)
        if form.is_valid():
            try:
                services.heard_report_update(
                    report=report,
                    title=form.cleaned_data["title"],
                    slug=form.cleaned_data["slug"] or report.slug,
                    introduction=form.cleaned_data["introduction"],
                    translations=form.translations(),
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("heard:staff_detail", pk=report.pk)
        report.refresh_from_db()
    else:
        form = ReportForm(initial=ReportForm.initial_for(report), translations=True)
    figures = selectors.heard_report_figures(strategy, report=report)
    context = _body_context(
        {
            "title": report.title,
            "introduction": report.introduction,
            "translations": report.translations,
        },
        figures,
    )
    context.update(
        report=report,
        form=form,
        strategy=strategy,
        public=False,
        quotes=list(
            HeardQuote.objects.filter(report=report)
            .select_related("code", "item")
            .order_by("code__kind", "code__order", "code__key", "order")
        ),
    )
    # The preview's notice of untranslated content is for the public page, not this one.
    context["content_fallback"] = False
    return render(request, "insight/heard/staff_detail.html", context)


def _picker_codes(strategy: Strategy) -> list[Code]:
    return list(
        Code.objects.filter(
            strategy=strategy,
            is_active=True,
            kind__in=[CodeKind.GOAL, CodeKind.ACTION, CodeKind.THEME],
        )
        .select_related("goal", "action")
        .order_by("kind", "order", "key")
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def staff_quotes(request: HttpRequest, pk: int) -> HttpResponse:
    """Find approved comments coded to a goal, action or theme, and quote part of one."""
    _require_office(request)
    strategy = _strategy()
    report = selectors.heard_report_get_for_staff(strategy, pk)
    codes = _picker_codes(strategy)
    by_pk = {code.pk: code for code in codes}
    source = request.POST if request.method == "POST" else request.GET
    try:
        code = by_pk.get(int(source.get("code", "")))
    except ValueError:
        code = None
    query = (request.GET.get("q") or "").strip()
    errors: dict[int, list[str]] = {}
    submitted: dict[int, str] = {}
    if request.method == "POST":
        try:
            item_pk = int(request.POST.get("item", ""))
        except ValueError:
            raise Http404("No such comment.") from None
        item = FeedbackItem.objects.filter(pk=item_pk, strategy=strategy).first()
        if item is None or code is None:
            raise Http404("No such comment or code.")
        excerpt = request.POST.get("excerpt", "")
        try:
            services.heard_quote_add(report=report, item=item, code=code, excerpt=excerpt)
        except ValidationError as error:
            errors[item.pk] = error.messages
            submitted[item.pk] = excerpt
        else:
            messages.success(request, _("Quote added."))
            return redirect(f"{reverse('heard:staff_quotes', args=[report.pk])}?code={code.pk}")
    items: list[FeedbackItem] = []
    total = 0
    if code is not None:
        found = selectors.heard_items_coded_to(strategy, code)
        if query:
            found = found.filter(redacted_text__icontains=query)
        total = found.count()
        items = list(found[:PICKER_LIMIT])
    rows = [
        {
            "item": item,
            "text": services.quoted_text(item),
            "excerpt": submitted.get(item.pk, services.quoted_text(item)),
            "errors": errors.get(item.pk, []),
        }
        for item in items
    ]
    return render(
        request,
        "insight/heard/staff_quotes.html",
        {
            "report": report,
            "strategy": strategy,
            "codes": codes,
            "code": code,
            "query": query,
            "rows": rows,
            "total": total,
            "limit": PICKER_LIMIT,
            "problems": [message for found in errors.values() for message in found],
        },
        status=400 if errors else 200,
    )


@require_POST
@login_required
def staff_quote_remove(request: HttpRequest, pk: int, quote_pk: int) -> HttpResponse:
    _require_office(request)
    report = selectors.heard_report_get_for_staff(_strategy(), pk)
    quote = HeardQuote.objects.filter(report=report, pk=quote_pk).first()
    if quote is None:
        raise Http404("No such quote.")
    services.heard_quote_remove(quote=quote)
    messages.success(request, _("Quote removed."))
    return redirect("heard:staff_detail", pk=report.pk)


@require_POST
@login_required
def staff_publish(request: HttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    report = selectors.heard_report_get_for_staff(_strategy(), pk)
    try:
        services.heard_report_publish(report=report, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Published. The public page shows the figures as of now."))
    return redirect("heard:staff_detail", pk=report.pk)


@require_POST
@login_required
def staff_unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    report = selectors.heard_report_get_for_staff(_strategy(), pk)
    if report.status == HeardReportStatus.PUBLISHED:
        services.heard_report_unpublish(report=report)
        messages.success(request, _("The report is no longer public."))
    return redirect("heard:staff_detail", pk=report.pk)
