"""Back office ("manage") pages for signed-in editors. Django admin serves strategy staff too."""

from __future__ import annotations

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
