"""Public engagement pages: answering surveys (no account, no JavaScript needed)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from csas.engagement import selectors, services
from csas.engagement.answers import AnswerError, is_shown
from csas.engagement.models import MapCategory, ResponseStatus, Section, Survey, SurveyStatus
from csas.portal.throttle import allow
from csas.strategy import selectors as strategy_selectors

HONEYPOT_FIELD = "website"


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def _respondent(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return services.respondent_key(request.session.session_key or "")


def _survey(slug: str) -> Survey:
    version = strategy_selectors.version_get_published()
    return selectors.survey_get_public(version.strategy, slug)


@require_safe
def survey_list(request: HttpRequest) -> HttpResponse:
    version = strategy_selectors.version_get_published()
    surveys = list(selectors.survey_list_public(version.strategy))
    activities = list(selectors.activity_list_upcoming(version.strategy))
    return render(
        request,
        "engagement/survey_list.html",
        {
            "surveys": surveys,
            "results": list(selectors.survey_list_with_results(version.strategy)),
            "version": version,
            "strategy": version.strategy,
            "activities": activities,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def survey_start(request: HttpRequest, slug: str) -> HttpResponse:
    survey = _survey(slug)
    context: dict[str, Any] = {
        "survey": survey,
        "strategy": survey.strategy,
        "code": request.GET.get("code", ""),
    }
    if survey.status != SurveyStatus.OPEN:
        return render(request, "engagement/survey_closed.html", context, status=410)
    if request.method == "POST":
        if request.POST.get(HONEYPOT_FIELD):
            # Bots fill every field; answer as if it worked and store nothing.
            return redirect("engagement:survey_thanks", slug=survey.slug)
        if not allow(request, "survey-start", settings.SURVEY_STARTS_PER_HOUR):
            return render(request, "engagement/throttled.html", context, status=429)
        code = request.POST.get("code", "").strip()
        try:
            response = services.response_start(
                survey=survey,
                language=_language(),
                respondent=_respondent(request),
                invitation_code=code,
            )
        except services.AlreadyResponded:
            return render(request, "engagement/survey_already.html", context)
        except services.InvitationInvalid:
            context["code"] = code
            context["code_error"] = True
            return render(request, "engagement/survey_start.html", context, status=400)
        return redirect(
            "engagement:survey_section", slug=survey.slug, token=str(response.public_id), page=1
        )
    return render(request, "engagement/survey_start.html", context)


def _question_state(
    question: Any, answer: dict[str, Any] | None, conditional: bool, posted: list[str] | None = None
) -> dict[str, Any]:
    """What the form shows for one question: its options and what is already chosen."""
    selected: set[str] = set()
    ranks: dict[str, str] = {}
    text = ""
    if posted is not None:
        selected = set(posted)
        text = "\n".join(posted)
    elif answer is not None:
        selected = set(answer.get("choices", [])) | (
            {answer["choice"]} if "choice" in answer else set()
        )
        if "number" in answer:
            selected = {str(answer["number"])}
        ranks = {value: str(i) for i, value in enumerate(answer.get("ranking", []), start=1)}
        text = (
            answer.get("text")
            or answer.get("place")
            or (",".join(str(c) for c in answer["point"]) if "point" in answer else "")
        )
    options = list(question.options.all())
    config = question.config or {}
    scale: list[str] = []
    if question.kind == "rating":
        scale = [str(n) for n in range(config.get("min", 0), config.get("max", 10) + 1)]
    rank_choices = [str(n) for n in range(1, (config.get("choose") or len(options)) + 1)]
    return {
        "question": question,
        "options": options,
        "conditional": conditional,
        "selected": selected,
        "ranks": ranks,
        "text": text,
        "scale": scale,
        "rank_choices": rank_choices,
        "error": None,
    }


def _page_context(
    survey: Survey, sections: list[Section], page: int, answers: dict[str, Any]
) -> dict[str, Any]:
    section = sections[page - 1]
    questions = []
    for question in section.questions.all():
        spec = services.question_spec(question)
        condition = question.show_if or {}
        depends_here = bool(condition) and any(
            q.key == condition.get("question") for q in section.questions.all()
        )
        if not depends_here and not is_shown(spec, answers):
            continue
        questions.append(_question_state(question, answers.get(question.key), depends_here))
    return {
        "survey": survey,
        "section": section,
        "questions": questions,
        "page": page,
        "pages": len(sections),
        "strategy": survey.strategy,
    }


@require_http_methods(["GET", "HEAD", "POST"])
def survey_section(request: HttpRequest, slug: str, token: str, page: int) -> HttpResponse:
    survey = _survey(slug)
    response = selectors.response_get_by_token(survey, token)
    if response.status == ResponseStatus.SUBMITTED:
        return redirect("engagement:survey_thanks", slug=survey.slug)
    if survey.status != SurveyStatus.OPEN:
        return render(
            request,
            "engagement/survey_closed.html",
            {"survey": survey, "strategy": survey.strategy},
            status=410,
        )
    sections = selectors.sections_with_questions(survey)
    if not 1 <= page <= len(sections):
        raise Http404("No such page.")
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.POST.getlist(key) for key in request.POST}
        # Rankings come as one select per item: name "<key>__rank__<value>".
        for name, values in list(form.items()):
            if "__rank__" in name:
                key, _sep, option = name.partition("__rank__")
                form.setdefault(key, []).extend(f"{option}={v}" for v in values)
        result = services.response_save_section(
            response=response, section=sections[page - 1], form=form
        )
        errors = result.errors
        if not errors:
            if "back" in request.POST and page > 1:
                return redirect("engagement:survey_section", slug=slug, token=token, page=page - 1)
            if page < len(sections):
                return redirect("engagement:survey_section", slug=slug, token=token, page=page + 1)
            return redirect("engagement:survey_review", slug=slug, token=token)
    answers = selectors.answers_by_key(response)
    context = _page_context(survey, sections, page, answers)
    if errors:
        for index, item in enumerate(context["questions"]):
            question = item["question"]
            state = _question_state(
                question, None, item["conditional"], posted=request.POST.getlist(question.key)
            )
            state["ranks"] = {
                name.partition("__rank__")[2]: request.POST.get(name, "")
                for name in request.POST
                if name.startswith(f"{question.key}__rank__")
            }
            state["error"] = errors.get(question.key)
            context["questions"][index] = state
    context.update(token=token, errors=errors, response=response)
    return render(request, "engagement/survey_section.html", context, status=400 if errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
def survey_review(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    error = None
    if request.method == "POST":
        # The submit is the path residents hit at once after a mailer or a meeting: one
        # conditional update, nothing read first (see response_submit_by_token).
        try:
            submitted = services.response_submit_by_token(slug=slug, token=token)
        except AnswerError as exc:
            error = exc.message
        except services.AlreadyResponded:
            survey = _survey(slug)
            return render(
                request,
                "engagement/survey_already.html",
                {"survey": survey, "strategy": survey.strategy},
            )
        except services.SurveyClosed:
            survey = _survey(slug)
            return render(
                request,
                "engagement/survey_closed.html",
                {"survey": survey, "strategy": survey.strategy},
                status=410,
            )
        else:
            if submitted.opted_in:
                return redirect("engagement:survey_contact", slug=slug, token=token)
            return redirect("engagement:survey_thanks", slug=slug)
    survey = _survey(slug)
    response = selectors.response_get_by_token(survey, token)
    if response.status == ResponseStatus.SUBMITTED:
        return redirect("engagement:survey_thanks", slug=survey.slug)
    answers = selectors.answers_by_key(response)
    sections = selectors.sections_with_questions(survey)
    summary = []
    for index, section in enumerate(sections, start=1):
        rows = []
        for question in section.questions.all():
            value = answers.get(question.key)
            if value is None:
                continue
            labels = {option.value: option for option in question.options.all()}
            rows.append({"question": question, "value": value, "labels": labels})
        summary.append({"section": section, "page": index, "rows": rows})
    return render(
        request,
        "engagement/survey_review.html",
        {
            "survey": survey,
            "strategy": survey.strategy,
            "summary": summary,
            "token": token,
            "error": error,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def survey_contact(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Contact details for follow-up, asked only of people who opted in; stored apart."""
    from csas.engagement.contacts import ContactError, clean_contact, contact_store

    survey = _survey(slug)
    response = selectors.response_get_by_token(survey, token)
    if response.status != ResponseStatus.SUBMITTED or not services.response_opted_in(response):
        raise Http404("No such page.")
    error = None
    if request.method == "POST":
        try:
            details = clean_contact(
                name=request.POST.get("name", ""),
                email=request.POST.get("email", ""),
                phone=request.POST.get("phone", ""),
                language=_language(),
            )
        except ContactError as exc:
            error = str(exc)
        else:
            contact_store(details=details, response=response)
            return redirect("engagement:survey_thanks", slug=survey.slug)
    return render(
        request,
        "engagement/survey_contact.html",
        {"survey": survey, "strategy": survey.strategy, "error": error, "posted": request.POST},
        status=400 if error else 200,
    )


@require_safe
def survey_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    survey = _survey(slug)
    return render(
        request, "engagement/survey_thanks.html", {"survey": survey, "strategy": survey.strategy}
    )


# --- map comments ---------------------------------------------------------------------------

PUBLIC_PIN_DECIMALS = 3  # about 100 m: published pins are not exact addresses


class MapCommentForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("What is it about?"), choices=MapCategory.choices
    )
    text = forms.CharField(
        label=gettext_lazy("Your comment"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    location = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput)
    address = forms.CharField(
        label=gettext_lazy("Where? A street, intersection, park or landmark"),
        required=False,
        max_length=300,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        location = (data.get("location") or "").strip()
        data["lon"] = data["lat"] = None
        if location:
            try:
                lon_text, lat_text = location.split(",")
                data["lon"], data["lat"] = float(lon_text), float(lat_text)
            except ValueError:
                raise forms.ValidationError(_("The map position could not be read.")) from None
            if not (-180 <= data["lon"] <= 180 and -90 <= data["lat"] <= 90):
                raise forms.ValidationError(_("The map position is not on Earth."))
        if data["lon"] is None and not (data.get("address") or "").strip():
            raise forms.ValidationError(_("Tap the map or describe the place in words."))
        return data


@require_http_methods(["GET", "HEAD", "POST"])
def map_comments(request: HttpRequest) -> HttpResponse:
    version = strategy_selectors.version_get_published()
    strategy = version.strategy
    form = MapCommentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if request.POST.get(HONEYPOT_FIELD):
            return redirect(reverse("engagement:map") + "?sent=1")
        if not allow(request, "map-comment", settings.MAP_COMMENTS_PER_HOUR):
            return render(request, "engagement/throttled.html", {"strategy": strategy}, status=429)
        if form.is_valid():
            try:
                services.map_comment_submit(
                    strategy=strategy,
                    category=form.cleaned_data["category"],
                    text=form.cleaned_data["text"],
                    language=_language(),
                    respondent=_respondent(request),
                    lon=form.cleaned_data["lon"],
                    lat=form.cleaned_data["lat"],
                    address=form.cleaned_data.get("address", ""),
                )
            except services.PlaceOutsideCity as error:
                form.add_error(None, error)
                # Drop the pin, so the resident can place it again or describe the place.
                data = request.POST.copy()
                data["location"] = ""
                form.data = data
            else:
                return redirect(reverse("engagement:map") + "?sent=1")
        status = 400
    comments = list(selectors.map_comments_public(strategy)[:500])
    return render(
        request,
        "engagement/map.html",
        {
            "form": form,
            "comments": comments,
            "strategy": strategy,
            "version": version,
            "sent": request.GET.get("sent") == "1",
            "categories": MapCategory.choices,
        },
        status=status,
    )


@require_safe
def map_comments_geojson(request: HttpRequest) -> JsonResponse:
    version = strategy_selectors.version_get_published()
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [
                    round(c.lon, PUBLIC_PIN_DECIMALS),
                    round(c.lat, PUBLIC_PIN_DECIMALS),
                ],
            },
            "properties": {"category": c.get_category_display(), "text": c.redacted_text},
        }
        for c in selectors.map_comments_public(version.strategy)
        if c.lon is not None and c.lat is not None
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


# --- comments on a draft ------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def draft_review(request: HttpRequest, key: str) -> HttpResponse:
    """A draft version open for review, with a comment form for every section."""
    strategy = strategy_selectors.strategy_get_default()
    if strategy is None:
        raise Http404("No strategy loaded.")
    version = selectors.version_get_for_review(strategy, key)
    sections = selectors.review_sections(version)
    error_section = None
    if request.method == "POST":
        if request.POST.get(HONEYPOT_FIELD):
            return redirect(reverse("engagement:draft_review", args=[key]) + "?sent=1")
        if not allow(request, "draft-comment", settings.MAP_COMMENTS_PER_HOUR):
            return render(request, "engagement/throttled.html", {"strategy": strategy}, status=429)
        section = request.POST.get("section", "")
        text = request.POST.get("text", "").strip()
        if section not in {s["key"] for s in sections}:
            raise Http404("No such section.")
        if not text or len(text) > 3000:
            error_section = section
        else:
            services.draft_comment_submit(
                version=version,
                section=section,
                text=text,
                language=_language(),
                author=request.user,
            )
            return redirect(reverse("engagement:draft_review", args=[key]) + "?sent=1")
    return render(
        request,
        "engagement/draft_review.html",
        {
            "version": version,
            "strategy": strategy,
            "sections": sections,
            "sent": request.GET.get("sent") == "1",
            "error_section": error_section,
            "preview": False,
        },
        status=400 if error_section else 200,
    )
