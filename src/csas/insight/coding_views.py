"""Staff pages for coding feedback to the strategy: codebook, review queue, agreement, themes.

Raw comments are for the strategy office only (strategy staff and administrators, the
``engagement.view_responses`` permission): everyone else gets 403 and anonymous visitors are
sent to sign in. Every page works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from csas.insight import coding_selectors as selectors
from csas.insight import coding_services as services
from csas.insight.access import office_strategy as _strategy
from csas.insight.access import require_office as _require_office
from csas.insight.forms import ReviewForm, ThemeForm, ThemePromoteForm
from csas.insight.models import Code


def _errors(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def codebook(request: HttpRequest) -> HttpResponse:
    """The codebook with each code's settled item count; POST adds a theme."""
    _require_office(request)
    strategy = _strategy()
    form = ThemeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            code = services.code_theme_create(
                strategy=strategy,
                label=form.cleaned_data["label"],
                description=form.cleaned_data["description"],
                examples=form.cleaned_data["examples"],
                keywords=form.cleaned_data["keywords"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Theme “%(label)s” added. Run the coding to suggest it on comments.")
                % {"label": code.label},
            )
            return redirect("coding:codebook")
    codes = selectors.code_list(strategy)
    counts = selectors.code_counts_settled(strategy)
    return render(
        request,
        "insight/coding/codebook.html",
        {
            "strategy": strategy,
            "rows": [(code, counts.get(code.pk, 0)) for code in codes],
            "run": selectors.coding_run_latest(strategy),
            "form": form,
            "min_reviewed": services.MIN_REVIEWED_FOR_TRAINING,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def sync(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    try:
        result = services.codebook_sync_from_strategy(strategy=_strategy(), by=request.user)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(
            request,
            _(
                "Codebook synced with the strategy: %(created)d codes added, %(updated)d "
                "updated, %(deactivated)d deactivated, %(unchanged)d unchanged."
            )
            % {
                "created": result.created,
                "updated": result.updated,
                "deactivated": result.deactivated,
                "unchanged": result.unchanged,
            },
        )
    return redirect("coding:codebook")


@require_POST
@login_required
def run(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    try:
        result = services.coding_run_start(strategy=_strategy(), by=request.user)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        coding_run = result.run
        messages.success(
            request,
            _(
                "Coded %(items)d comments (%(method)s, %(examples)d training examples) in "
                "%(seconds)s seconds."
            )
            % {
                "items": coding_run.n_items,
                "method": (
                    _("trained on reviewed comments")
                    if coding_run.method == "supervised"
                    else _("zero-shot, from the codebook")
                ),
                "examples": coding_run.n_training_examples,
                "seconds": f"{coding_run.seconds or 0:.1f}",
            },
        )
    return redirect("coding:codebook")


def _offset(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


@require_safe
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """One item at a time, least confident first, skipping items this person reviewed."""
    _require_office(request)
    strategy = _strategy()
    items = selectors.review_queue(strategy, request.user)
    total = items.count()
    offset = min(_offset(request.GET.get("offset")), max(total - 1, 0))
    item = items[offset] if total else None
    context: dict[str, Any] = {
        "strategy": strategy,
        "item": item,
        "total": total,
        "offset": offset,
        "next_offset": offset + 1 if offset + 1 < total else None,
    }
    if item is not None:
        suggested = selectors.item_machine_codes(item)
        nearest: list[dict[str, Any]] = next(
            (s.explanation.get("nearest") for s in suggested if s.explanation.get("nearest")), []
        )
        context.update(
            {
                "suggested": suggested,
                "suggested_pks": {s.code_id for s in suggested},
                "nearest": nearest,
                "groups": selectors.code_groups(selectors.code_list(strategy, active_only=True)),
            }
        )
    return render(request, "insight/coding/queue.html", context)


@require_POST
@login_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept the suggested codes or save the codes checked, then show the next item."""
    _require_office(request)
    strategy = _strategy()
    item = selectors.item_get_for_coding(strategy, pk)
    codes = selectors.code_list(strategy, active_only=True)
    form = ReviewForm(request.POST, codes=codes)
    offset = _offset(request.POST.get("offset"))
    target = f"{reverse('coding:queue')}?offset={offset}" if offset else reverse("coding:queue")
    if not form.is_valid():
        messages.error(request, _("The review was not saved: choose only codes from the list."))
        return redirect(target)
    if form.cleaned_data["decision"] == "accept":
        code_ids = [s.code_id for s in selectors.item_machine_codes(item)]
    else:
        code_ids = [int(value) for value in form.cleaned_data["codes"]]
    try:
        services.review_record(item=item, coder=request.user, code_ids=code_ids)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, _("Review saved."))
    return redirect(target)


@require_safe
@login_required
def agreement(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    strategy = _strategy()
    return render(
        request,
        "insight/coding/agreement.html",
        {
            "strategy": strategy,
            "summary": selectors.coding_agreement(strategy),
            "run": selectors.coding_run_latest(strategy),
        },
    )


@require_safe
@login_required
def themes(request: HttpRequest) -> HttpResponse:
    _require_office(request)
    strategy = _strategy()
    candidates = selectors.theme_candidates(strategy)
    rows = []
    if candidates.result is not None:
        for theme in candidates.result.themes:
            keywords = ", ".join(keyword.term for keyword in theme.keywords[:5])
            rows.append(
                {
                    "theme": theme,
                    "form": ThemePromoteForm(
                        initial={"keywords": keywords}, prefix=f"theme-{theme.number}"
                    ),
                }
            )
    return render(
        request,
        "insight/coding/themes.html",
        {
            "strategy": strategy,
            "candidates": candidates,
            "rows": rows,
            "low_confidence": selectors.LOW_CONFIDENCE,
        },
    )


@require_POST
@login_required
def theme_promote(request: HttpRequest) -> HttpResponse:
    """A candidate theme becomes a code with the name staff typed and its keywords."""
    _require_office(request)
    strategy = _strategy()
    prefix = request.POST.get("prefix", "")
    if not prefix.startswith("theme-") or not prefix[6:].isdigit():
        prefix = ""
    form = ThemePromoteForm(request.POST, prefix=prefix or None)
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, _("The theme was not added: %(problems)s") % {"problems": problems})
        return redirect("coding:themes")
    try:
        code: Code = services.code_theme_create(
            strategy=strategy,
            label=form.cleaned_data["label"],
            description=form.cleaned_data["description"],
            keywords=form.cleaned_data["keywords"],
            by=request.user,
        )
    except ValidationError as error:
        messages.error(request, _errors(error))
        return redirect("coding:themes")
    messages.success(
        request,
        _("Theme “%(label)s” added to the codebook. Run the coding to suggest it on comments.")
        % {"label": code.label},
    )
    return redirect("coding:codebook")
