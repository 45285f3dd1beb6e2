"""Staff pages for engagement: dashboard, moderation queue, feedback notes, survey settings.

Raw comments and response data are for the strategy office only (strategy staff and
administrators); everyone else gets 403 and anonymous visitors are sent to sign in.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from csas.engagement import importing, selectors, services
from csas.engagement.models import (
    Activity,
    FeedbackItem,
    ImportBatch,
    ImportKind,
    MapComment,
    ModerationStatus,
    Survey,
    SurveyStatus,
)
from csas.insight.selectors import survey_who_is_missing
from csas.strategy import selectors as strategy_selectors
from csas.strategy.models import Geography, GeographyKind


def _require_office(request: HttpRequest) -> None:
    if not request.user.has_perm("engagement.view_responses"):
        raise PermissionDenied


def _strategy() -> Any:
    strategy = strategy_selectors.strategy_get_default()
    if strategy is None:
        raise Http404("No strategy loaded.")
    return strategy


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    strategy = _strategy()
    surveys = [
        {
            "survey": survey,
            "counts": selectors.response_counts(survey),
            "missing": selectors.survey_missing_translations(survey),
            "reach": selectors.reach_against_population(survey),
            "missing_people": survey_who_is_missing(survey),
        }
        for survey in Survey.objects.filter(strategy=strategy).order_by("-created_at")
    ]
    pending = FeedbackItem.objects.filter(
        strategy=strategy, status=ModerationStatus.PENDING
    ).count()
    return render(
        request,
        "engagement/staff_dashboard.html",
        {
            "surveys": surveys,
            "pending": pending,
            "strategy": strategy,
            "quarters": selectors.activities_by_quarter(strategy),
            "heard": selectors.heard_by_channel(strategy),
            "drafts": selectors.draft_comment_counts(strategy),
        },
    )


@require_safe
@login_required
def moderation_queue(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    strategy = _strategy()
    items = list(
        FeedbackItem.objects.filter(strategy=strategy, status=ModerationStatus.PENDING)
        .select_related("activity", "geography", "map_comment")
        .order_by("created_at")[:50]
    )
    return render(
        request, "engagement/staff_moderation.html", {"items": items, "strategy": strategy}
    )


@require_POST
@login_required
def moderation_decide(request: HttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    item = FeedbackItem.objects.filter(pk=pk, strategy=_strategy()).first()
    if item is None:
        raise Http404("No such item.")
    publish = request.POST.get("decision") == "publish"
    redacted = request.POST.get("redacted_text")
    # A map comment carries the decision over to its feedback item.
    target: MapComment | FeedbackItem = item.map_comment or item
    services.moderation_decide(
        item=target,
        publish=publish,
        reviewer=request.user,
        redacted_text=redacted,
        redacted_address=request.POST.get("redacted_address"),
    )
    messages.success(request, _("Published.") if publish else _("Rejected."))
    return redirect("engagement_staff:moderation")


class FeedbackNoteForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("What was said"), widget=forms.Textarea, max_length=10000
    )
    activity = forms.ModelChoiceField(
        label=gettext_lazy("Activity"), required=False, queryset=Activity.objects.none()
    )
    language = forms.ChoiceField(label=gettext_lazy("Language it was said in"), choices=[])
    geography = forms.ModelChoiceField(
        label=gettext_lazy("Neighborhood"), required=False, queryset=Geography.objects.none()
    )

    def __init__(self, *args: Any, strategy: Any, **kwargs: Any) -> None:
        from django.conf import settings

        super().__init__(*args, **kwargs)
        activity = self.fields["activity"]
        geography = self.fields["geography"]
        language = self.fields["language"]
        assert isinstance(activity, forms.ModelChoiceField)  # noqa: S101 (narrowing)
        assert isinstance(geography, forms.ModelChoiceField)  # noqa: S101
        assert isinstance(language, forms.ChoiceField)  # noqa: S101
        activity.queryset = Activity.objects.filter(strategy=strategy)
        geography.queryset = Geography.objects.filter(
            city_id=strategy.city_id, kind=GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT
        )
        language.choices = settings.LANGUAGES


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def feedback_new(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    strategy = _strategy()
    form = FeedbackNoteForm(request.POST or None, strategy=strategy)
    if request.method == "POST" and form.is_valid():
        services.feedback_item_create(
            strategy=strategy,
            text=form.cleaned_data["text"],
            created_by=request.user,
            language=form.cleaned_data["language"],
            activity=form.cleaned_data["activity"],
            geography=form.cleaned_data["geography"],
        )
        messages.success(request, _("Feedback recorded; it waits in the moderation queue."))
        return redirect("engagement_staff:feedback_new")
    return render(request, "engagement/staff_feedback_new.html", {"form": form})


@require_POST
@login_required
def survey_status(request: HttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    survey = Survey.objects.filter(pk=pk, strategy=_strategy()).first()
    if survey is None:
        raise Http404("No such survey.")
    status = request.POST.get("status", "")
    if status not in SurveyStatus.values:
        messages.error(request, _("Unknown status."))
    else:
        services.survey_set_status(survey=survey, status=status)
        messages.success(request, _("Survey status changed."))
    return redirect("engagement_staff:dashboard")


@require_safe
@login_required
def survey_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Submitted responses as CSV; open answers as moderated unless an admin asks for raw."""
    from csas.engagement.exports import responses_csv
    from csas.strategy.rules import is_admin

    _require_office(request)
    survey = Survey.objects.filter(pk=pk, strategy=_strategy()).first()
    if survey is None:
        raise Http404("No such survey.")
    raw = request.GET.get("personal") == "1"
    if raw and not is_admin(request.user):
        raise PermissionDenied
    if request.GET.get("format") == "xlsx":
        from csas.engagement.exports import responses_xlsx

        response = HttpResponse(
            responses_xlsx(survey, include_personal_data=raw),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{survey.slug}-responses.xlsx"'
        return response
    response = HttpResponse(
        responses_csv(survey, include_personal_data=raw), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{survey.slug}-responses.csv"'
    return response


# --- imports ---------------------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What is in the file?"), choices=ImportKind.choices)
    file = forms.FileField(label=gettext_lazy("File (CSV, XLSX, or a ZIP of a Polis export)"))
    survey = forms.ModelChoiceField(
        label=gettext_lazy("Survey (for survey exports)"),
        required=False,
        queryset=Survey.objects.none(),
    )
    activity = forms.ModelChoiceField(
        label=gettext_lazy("Activity it came from"),
        required=False,
        queryset=Activity.objects.none(),
    )

    def __init__(self, *args: Any, strategy: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        survey = self.fields["survey"]
        activity = self.fields["activity"]
        assert isinstance(survey, forms.ModelChoiceField)  # noqa: S101 (narrowing)
        assert isinstance(activity, forms.ModelChoiceField)  # noqa: S101
        survey.queryset = Survey.objects.filter(strategy=strategy)
        activity.queryset = Activity.objects.filter(strategy=strategy)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    from csas.engagement.import_services import ImportRefused, import_check, import_upload

    _require_office(request)
    strategy = _strategy()
    form = ImportUploadForm(request.POST or None, request.FILES or None, strategy=strategy)
    error = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        from django.conf import settings

        if upload.size > settings.IMPORT_MAX_MB * 1024 * 1024:
            error = _(
                "%(name)s is %(size).1f MB; the limit is %(limit)s MB. Split it and "
                "import the parts."
            ) % {"name": upload.name, "size": upload.size / 1e6, "limit": settings.IMPORT_MAX_MB}
        else:
            try:
                batch = import_upload(
                    strategy=strategy,
                    kind=form.cleaned_data["kind"],
                    filename=upload.name,
                    data=upload.read(),
                    user=request.user,
                    survey=form.cleaned_data["survey"],
                    activity=form.cleaned_data["activity"],
                )
                import_check(batch=batch)
            except ImportRefused as exc:
                error = exc.message
            except (importing.ImportFileError, importing.MappingError) as exc:
                error = str(exc)
            else:
                return redirect("engagement_staff:import_detail", pk=batch.pk)
    batches = ImportBatch.objects.filter(strategy=strategy).order_by("-created_at")[:50]
    return render(
        request,
        "engagement/staff_imports.html",
        {"form": form, "batches": batches, "error": error},
        status=400 if error else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from csas.engagement.import_services import (
        ImportRefused,
        import_check,
        import_commit,
        import_preview,
    )

    _require_office(request)
    batch = ImportBatch.objects.filter(pk=pk, strategy=_strategy()).first()
    if batch is None:
        raise Http404("No such import.")
    error = None
    preview = None
    try:
        if request.method == "POST" and batch.status == "previewed":
            if "commit" in request.POST:
                import_commit(batch=batch, user=request.user)
                messages.success(request, _("Imported."))
                return redirect("engagement_staff:import_detail", pk=batch.pk)
            mapping = {
                key[len("map__") :]: value
                for key, value in request.POST.items()
                if key.startswith("map__")
            }
            preview = import_check(batch=batch, mapping=mapping)
        elif batch.status == "previewed":
            stored = {k: v for k, v in batch.mapping.items() if k != "survey"}
            preview = import_preview(batch=batch, mapping=stored or None)
    except ImportRefused as exc:
        error = exc.message
    except (importing.ImportFileError, importing.MappingError) as exc:
        error = str(exc)
    return render(
        request,
        "engagement/staff_import_detail.html",
        {"batch": batch, "preview": preview, "error": error},
    )
