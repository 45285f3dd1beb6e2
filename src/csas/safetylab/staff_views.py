"""The strategy office's safety page: analyses (publish, take back), the service-gap index
with its weights, and the what-if allocation of alternative-responder shifts.

Strategy staff and administrators only; anyone else signed in gets 403, anonymous visitors
are sent to sign in. Both tools read stored aggregates and store nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from csas.safetylab import selectors, services, tools
from csas.safetylab.forms import AllocationForm, GapWeightsForm
from csas.safetylab.models import PUBLISHABLE_KINDS, SafetyAnalysis
from csas.strategy import selectors as strategy_selectors
from csas.strategy.models import GeographyKind, Strategy

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _require_manage(request: HttpRequest) -> None:
    if not request.user.has_perm("safetylab.manage"):
        raise PermissionDenied


def _strategy() -> Strategy:
    strategy = strategy_selectors.strategy_get_default()
    if strategy is None:
        raise Http404("No strategy loaded.")
    return strategy


def _selected(request: HttpRequest, strategy: Strategy) -> SafetyAnalysis | None:
    raw = request.GET.get("analysis", "")
    if raw and not raw.isdigit():
        raise Http404("No such analysis.")
    analysis = selectors.analysis_get_for_staff(strategy, int(raw) if raw else None)
    if raw and analysis is None:
        raise Http404("No such analysis.")
    return analysis


def _gap(request: HttpRequest, analysis: SafetyAnalysis, strategy: Strategy) -> dict[str, Any]:
    interval = request.GET.get("interval", "arrival")
    if interval not in ("arrival", "dispatch"):
        interval = "arrival"
    inputs = tools.gap_inputs(analysis, strategy, interval=interval)
    submitted = "interval" in request.GET
    form = GapWeightsForm(
        request.GET if submitted else None,
        indicators=inputs.indicators,
        initial={"interval": interval},
    )
    found: dict[str, Any] = {"form": form, "inputs": inputs, "index": None, "error": ""}
    if submitted and not form.is_valid():
        return found
    weights = form.weights() if submitted else {i.key: 1.0 for i in inputs.indicators}
    try:
        index = tools.gap_index(inputs, weights)
    except ValueError as error:
        found["error"] = str(error)
        return found
    position = {code: i for i, code in enumerate(index.areas)}
    column = {key: j for j, key in enumerate(index.indicators)}
    found["index"] = index
    found["rows"] = sorted(
        (
            {
                "code": code,
                "name": inputs.names.get(code, code),
                # (raw value, z-score) per indicator, in the order of the inputs
                "cells": [
                    (i.values[code], float(index.standardised[position[code], column[i.key]]))
                    for i in inputs.indicators
                ],
                "need": float(index.need_score[position[code]]),
                "service": float(index.service_gap_score[position[code]]),
                "gap": float(index.gap[position[code]]),
                "rank": int(index.rank[position[code]]),
            }
            for code in index.areas
        ),
        key=lambda row: row["rank"],
    )
    found["weights"] = [
        (i.label, index.raw_weights[i.key], index.weights[i.key]) for i in inputs.indicators
    ]
    labels = {i.key: i.label for i in inputs.indicators}
    found["sensitivity"] = [
        {
            "label": labels[s.indicator],
            "change": _("weight set to 0") if s.change == "zero" else _("weight doubled"),
            "rho": s.spearman_rho,
            "entered": [inputs.names.get(a, a) for a in s.entered_top_k],
            "left": [inputs.names.get(a, a) for a in s.left_top_k],
            "max_rank_shift": s.max_rank_shift,
        }
        for s in index.sensitivity
    ]
    return found


def _allocation(
    request: HttpRequest, analysis: SafetyAnalysis, strategy: Strategy
) -> dict[str, Any]:
    submitted = "shifts" in request.GET
    form = AllocationForm(request.GET if submitted else None)
    found: dict[str, Any] = {"form": form, "plan": None, "error": ""}
    if submitted and not form.is_valid():
        return found
    values = form.cleaned_data if submitted else {k: f.initial for k, f in form.fields.items()}
    try:
        plan = tools.shift_plan(
            analysis,
            definition=values["definition"],
            shifts=int(values["shifts"]),
            shift_length=int(values["shift_length"]),
            scope=values.get("scope") or "district",
        )
    except (ValueError, RuntimeError) as error:
        found["error"] = str(error)
        return found
    found["plan"] = plan
    names = selectors.district_names(strategy, [GeographyKind.COUNCIL_DISTRICT])
    covered = dict(zip(plan.allocation.areas, plan.allocation.calls_covered_by_area, strict=True))
    found["by_district"] = (
        [
            {
                "name": names.get((GeographyKind.COUNCIL_DISTRICT, code), code),
                "shifts": sum(1 for s in plan.allocation.shifts if s.area == code),
                "covered": float(covered[code]),
            }
            for code in plan.allocation.areas
        ]
        if plan.scope == "district"
        else []
    )
    found["shifts"] = [
        {
            "area": names.get((GeographyKind.COUNCIL_DISTRICT, shift.area), shift.area)
            if plan.scope == "district"
            else "",
            "day": WEEKDAY_NAMES[shift.day],
            "start": f"{shift.hour_of_day:02d}:00",
            "end": f"{(shift.hour_of_day + shift.length) % 24:02d}:00",
            "length": shift.length,
        }
        for shift in plan.allocation.shifts
    ]
    return found


@require_safe
@login_required
def manage(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    strategy = _strategy()
    analysis = _selected(request, strategy)
    context: dict[str, Any] = {
        "strategy": strategy,
        "analyses": selectors.analysis_list(strategy),
        "publishable_kinds": PUBLISHABLE_KINDS,
        "analysis": analysis,
    }
    if analysis is not None:
        context["threshold"] = analysis.threshold
        context["gap"] = _gap(request, analysis, strategy)
        context["allocation"] = _allocation(request, analysis, strategy)
    return render(request, "safetylab/manage.html", context)


@require_POST
@login_required
def manage_publish(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    analysis = selectors.analysis_get_for_staff(_strategy(), pk)
    if analysis is None:
        raise Http404("No such analysis.")
    published = request.POST.get("published") == "1"
    try:
        services.safety_analysis_set_published(analysis=analysis, published=published)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect("safety:manage")
    if published:
        messages.success(request, _("Published: the safety pages now show this analysis."))
    else:
        messages.success(request, _("Taken back: the public no longer sees this analysis."))
    return redirect("safety:manage")
