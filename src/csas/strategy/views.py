"""Back office ("manage") pages for signed-in editors. Django admin serves strategy staff too."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from csas.portal.views import _home
from csas.strategy import selectors, services
from csas.strategy.forms import ActionEditForm


def _require_back_office(request: HttpRequest) -> None:
    if not request.user.has_perm("strategy.use_back_office"):
        raise PermissionDenied


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    _require_back_office(request)
    actions = list(selectors.action_list_editable(request.user))
    versions = list(selectors.version_list_for_user(request.user))
    return render(request, "strategy/manage_home.html", {"actions": actions, "versions": versions})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_back_office(request)
    action = selectors.action_get_for_edit(request.user, pk)
    if not request.user.has_perm("strategy.edit_action", action):
        raise PermissionDenied
    form = ActionEditForm(request.POST or None, instance=action)
    if request.method == "POST" and form.is_valid():
        services.action_update(
            action=action,
            editor=request.user,  # type: ignore[arg-type]
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            status=form.cleaned_data["status"],
            horizon=form.cleaned_data["horizon"],
            supporting_departments=list(form.cleaned_data["supporting_departments"]),
        )
        messages.success(request, _("Action %(code)s saved.") % {"code": action.code})
        return redirect("manage:home")
    history = list(action.history.select_related("history_user").order_by("-history_date")[:20])
    return render(
        request, "strategy/action_edit.html", {"action": action, "form": form, "history": history}
    )


@require_safe
@login_required
def version_preview(request: HttpRequest, pk: int) -> HttpResponse:
    _require_back_office(request)
    version = selectors.version_get_for_user(request.user, pk)
    return _home(request, version, preview=True)


def _require_translator(request: HttpRequest, pk: int) -> Any:
    _require_back_office(request)
    if not request.user.has_perm("strategy.translate"):
        raise PermissionDenied
    return selectors.version_get_for_user(request.user, pk)


@require_safe
@login_required
def translations(request: HttpRequest, pk: int) -> HttpResponse:
    """How much of a version's content each public language has, current and out of date."""
    from csas.strategy.translation import translation_counts

    version = _require_translator(request, pk)
    return render(
        request,
        "strategy/translations.html",
        {"version": version, "counts": translation_counts(version)},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def translations_edit(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """Every text of the version beside its translation into `language`, to fill in."""
    from django.core.exceptions import ValidationError
    from django.http import Http404

    from csas.strategy.translation import languages, translation_sections, translations_save

    version = _require_translator(request, pk)
    names = dict(languages())
    if language not in names:
        raise Http404("Not a language content is translated into.")
    sections = translation_sections(version, language)
    if request.method == "POST":
        wanted = {row.name for section in sections for row in section.rows}
        texts = {name: request.POST[name] for name in wanted if name in request.POST}
        confirmed = frozenset(
            n[len("confirm-") :] for n in request.POST if n.startswith("confirm-")
        )
        try:
            changed = translations_save(
                version=version,
                language=language,
                texts=texts,
                editor=request.user,
                confirmed=confirmed,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(count)s texts saved.") % {"count": changed}
                if changed
                else _("Nothing had changed."),
            )
            return redirect("manage:translations_edit", pk=version.pk, language=language)
    return render(
        request,
        "strategy/translations_edit.html",
        {
            "version": version,
            "language": language,
            "language_name": names[language],
            "sections": sections,
        },
    )


@require_safe
@login_required
def version_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed from another version (`?from=<pk>`; by default the one it was based on
    or, failing that, the published one) to this one."""
    from django.http import Http404

    from csas.strategy.compare import version_differences

    _require_back_office(request)
    if not request.user.has_perm("strategy.preview_version"):
        raise PermissionDenied
    version = selectors.version_get_for_user(request.user, pk)
    others = [
        v
        for v in selectors.version_list_for_user(request.user)
        if v.strategy_id == version.strategy_id and v.pk != version.pk
    ]
    chosen = request.GET.get("from", "")
    older: Any
    if chosen:
        try:
            chosen_pk = int(chosen)
        except ValueError:
            raise Http404("No such version.") from None
        older = selectors.version_get_for_user(request.user, chosen_pk)
        if older.strategy_id != version.strategy_id or older.pk == version.pk:
            raise Http404("No such version to compare with.")
    else:
        older = next((v for v in others if v.is_published), None) or (others[0] if others else None)
    changes = version_differences(older, version) if older is not None else []
    counts = {
        status: sum(1 for change in changes if change.status == status)
        for status in ("added", "removed", "changed")
    }
    return render(
        request,
        "strategy/version_compare.html",
        {
            "version": version,
            "older": older,
            "others": others,
            "changes": changes,
            "counts": counts,
        },
    )
