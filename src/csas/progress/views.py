"""Back-office pages for quarterly updates: "My updates", writing one, reviewing, approving."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from csas.progress import selectors, services, sheets
from csas.progress.models import ActionUpdate, ReportingPeriod, UpdateStatus
from csas.strategy.models import Action
from csas.strategy.rules import is_strategy_office


class UpdateForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=UpdateStatus.choices)
    narrative = forms.CharField(
        label=gettext_lazy("What happened this quarter"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
    )


@require_safe
@login_required
def my_updates(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("strategy.use_back_office"):
        raise PermissionDenied
    queue = list(selectors.updates_for_owner(request.user))
    office_queue = (
        list(
            ActionUpdate.objects.filter(state="office_approval").select_related("action", "period")
        )
        if is_strategy_office(request.user)
        else []
    )
    periods = list(ReportingPeriod.objects.order_by("-starts_on")[:4])
    writable = list(selectors.actions_writable(request.user))
    today = timezone.localdate()
    # Open: begun and not yet due, as for the reminders (services.reminders_send).
    open_periods = [p for p in periods if p.starts_on <= today <= p.due_on] if writable else []
    return render(
        request,
        "progress/my_updates.html",
        {
            "queue": queue,
            "office_queue": office_queue,
            "periods": periods,
            "writable": writable,
            "open_periods": open_periods,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def update_edit(request: HttpRequest, action_pk: int, period_pk: int) -> HttpResponse:
    action = Action.objects.select_related("goal", "lead_department").filter(pk=action_pk).first()
    period = ReportingPeriod.objects.filter(pk=period_pk).first()
    if action is None or period is None:
        raise Http404("No such action or period.")
    if not services.can_write_update(request.user, action):
        raise PermissionDenied
    update = ActionUpdate.objects.filter(action=action, period=period).first()
    initial = {"status": update.status, "narrative": update.narrative} if update else None
    form = UpdateForm(request.POST or None, initial=initial)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            update = services.update_save_draft(
                action=action,
                period=period,
                author=request.user,
                status=form.cleaned_data["status"],
                narrative=form.cleaned_data["narrative"],
            )
            if "submit" in request.POST:
                services.update_submit(update=update, by=request.user)
                messages.success(request, _("Update sent for department review."))
            else:
                messages.success(request, _("Draft saved."))
            return redirect("progress:my_updates")
        except ValidationError as exc:
            error = "; ".join(exc.messages)
    return render(
        request,
        "progress/update_edit.html",
        {"action": action, "period": period, "form": form, "update": update, "error": error},
        status=400 if error else 200,
    )


@require_POST
@login_required
def update_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Review, approve or return an update, as the workflow allows for this person."""
    update = ActionUpdate.objects.select_related("action").filter(pk=pk).first()
    if update is None:
        raise Http404("No such update.")
    decision = request.POST.get("decision")
    try:
        if decision == "review":
            services.update_review(update=update, by=request.user)
        elif decision == "approve":
            services.update_approve(update=update, by=request.user)
        elif decision == "return":
            services.update_return(
                update=update, by=request.user, comment=request.POST.get("comment", "")
            )
        else:
            raise ValidationError(_("Unknown decision."))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("Done."))
    return redirect("progress:my_updates")


# --- the quarterly update sheet: export, fill in offline, import -----------------------------


def _require_sheet_user(request: HttpRequest) -> None:
    """The people of My updates who have at least one action to write updates on."""
    if not request.user.has_perm("strategy.use_back_office"):
        raise PermissionDenied
    if not selectors.actions_writable(request.user).exists():
        raise PermissionDenied


def _period(period_pk: int) -> ReportingPeriod:
    period = ReportingPeriod.objects.filter(pk=period_pk).first()
    if period is None:
        raise Http404("No such reporting period.")
    return period


@require_safe
@login_required
def sheet_export(request: HttpRequest, period_pk: int, fmt: str) -> HttpResponse:
    """The period's update sheet for this person, as CSV or XLSX."""
    if fmt not in sheets.FORMATS:
        raise Http404("No such sheet format.")
    _require_sheet_user(request)
    period = _period(period_pk)
    if fmt == "xlsx":
        content = sheets.sheet_xlsx(period=period, user=request.user)
    else:
        content = sheets.sheet_csv(period=period, user=request.user)
    response = HttpResponse(content, content_type=sheets.CONTENT_TYPES[fmt])
    name = f"{slugify(period.label) or period.pk}-updates.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class SheetUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Filled-in update sheet (.xlsx or .csv)"),
        help_text=gettext_lazy("At most 5 MB."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > sheets.MAX_BYTES:
            raise ValidationError(
                _(
                    "%(name)s is %(size).1f MB; the largest sheet that can be imported is "
                    "%(limit)s MB. Leave out the actions you are not updating and try again."
                )
                % {
                    "name": upload.name,
                    "size": upload.size / (1024 * 1024),
                    "limit": sheets.MAX_BYTES // (1024 * 1024),
                }
            )
        return upload


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def sheet_import(request: HttpRequest, period_pk: int) -> HttpResponse:
    """Upload a filled-in sheet: every row is applied as a draft, or nothing is."""
    _require_sheet_user(request)
    period = _period(period_pk)
    form = SheetUploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = sheets.sheet_import(
            period=period, user=request.user, data=upload.read(), filename=upload.name
        )
        form = SheetUploadForm()
    failed = (request.method == "POST" and result is None) or (
        result is not None and not result.applied
    )
    return render(
        request,
        "progress/sheet_import.html",
        {
            "period": period,
            "form": form,
            "result": result,
            "instructions": sheets.sheet_instructions(period),
            "columns": sheets.COLUMNS,
        },
        status=400 if failed else 200,
    )
