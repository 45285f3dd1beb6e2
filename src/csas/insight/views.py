"""Survey results: the strategy office sees them at once; the public when staff publish them.

Both pages show the same figures (safety by group, weighted and unweighted shares, who has
not been heard, overall priorities); the public one suppresses small groups and leaves out
the weighting diagnostics."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from csas.engagement.models import Survey, SurveyStatus
from csas.insight.selectors import survey_results
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
    if not request.user.has_perm("engagement.view_responses"):
        raise PermissionDenied
    strategy = strategy_selectors.strategy_get_default()
    survey = Survey.objects.filter(pk=pk, strategy=strategy).select_related("strategy").first()
    if survey is None:
        raise Http404("No such survey.")
    return render(
        request,
        "insight/results.html",
        {"results": survey_results(survey, public=False), "strategy": strategy, "public": False},
    )
