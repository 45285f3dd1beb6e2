"""Survey results: the strategy office sees them at once; the public when staff publish them.

Both pages show the same figures (safety by group, weighted and unweighted shares, who has
not been heard, overall priorities); the public one suppresses small groups and leaves out
the weighting diagnostics."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from csas.engagement.models import Survey, SurveyStatus
from csas.insight.access import strategy_for_office
from csas.insight.selectors import (
    COMPARABLE_KINDS,
    FEELS_SAFE,
    comparison_breakdowns,
    survey_compare_question,
    survey_results,
)
from csas.strategy import selectors as strategy_selectors


@require_safe
def results_public(request: HttpRequest, slug: str) -> HttpResponse:
    version = strategy_selectors.version_get_published()
    survey = (
        Survey.objects.filter(strategy=version.strategy, slug=slug, results_public=True)
        .exclude(status=SurveyStatus.DRAFT)
        .select_related("strategy")
        .first()
    )
    if survey is None:
        raise Http404("No published results.")
    return render(
        request,
        "insight/results.html",
        {
            "results": survey_results(survey, public=True),
            "strategy": version.strategy,
            "version": version,
            "public": True,
        },
    )


@require_safe
@login_required
def results_staff(request: HttpRequest, pk: int) -> HttpResponse:
    strategy = strategy_for_office(request)
    survey = Survey.objects.filter(pk=pk, strategy=strategy).select_related("strategy").first()
    if survey is None:
        raise Http404("No such survey.")
    return render(
        request,
        "insight/results.html",
        {"results": survey_results(survey, public=False), "strategy": strategy, "public": False},
    )


@require_safe
@login_required
def compare_staff(request: HttpRequest, pk: int) -> HttpResponse:
    """Any choice or rating question of a survey, compared across any breakdown (staff)."""
    strategy = strategy_for_office(request)
    survey = Survey.objects.filter(pk=pk, strategy=strategy).select_related("strategy").first()
    if survey is None:
        raise Http404("No such survey.")
    questions = list(
        survey.questions.filter(kind__in=COMPARABLE_KINDS, demographic="")
        .order_by("section__order", "order")
        .prefetch_related("options")
    )
    breakdowns = list(comparison_breakdowns(survey))
    key = request.GET.get("question") or (questions[0].key if questions else "")
    question = next((q for q in questions if q.key == key), None)
    breakdown = request.GET.get("by") or "council_district"
    result = None
    error = ""
    if question is not None and breakdown in breakdowns:
        options = [option.value for option in question.options.all()]
        chosen = [value for value in request.GET.getlist("answer") if value in options]
        if "answer" not in request.GET and question.kind != "rating":
            safe = [value for value in options if value in FEELS_SAFE]
            chosen = safe or options[:1]
        result = survey_compare_question(
            survey, question=question, breakdown=breakdown, chosen=chosen
        )
    elif request.GET:
        error = _("Choose a question and a breakdown from the lists.")
    return render(
        request,
        "insight/compare.html",
        {
            "survey": survey,
            "strategy": strategy,
            "questions": questions,
            "question": question,
            "breakdowns": breakdowns,
            "breakdown": breakdown,
            "result": result,
            "error": error,
        },
        status=400 if error else 200,
    )
