"""Writes for engagement: loading surveys, answering them, map comments, feedback items."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext_noop

from csas.engagement.answers import AnswerError, QuestionSpec, clean_answer, is_shown
from csas.engagement.models import (
    Answer,
    FeedbackItem,
    FeedbackSource,
    Invitation,
    MapComment,
    ModerationStatus,
    Option,
    Question,
    QuestionKind,
    Response,
    ResponseStatus,
    Section,
    Survey,
    SurveyStatus,
)
from csas.engagement.survey_file import (
    SurveyDocument,
    SurveyFileError,
    read_survey_file,
)
from csas.strategy.loader import Problem
from csas.strategy.models import Geography, GeographyKind, Strategy, StrategyVersion

OUTSIDE_CITY = "outside_city"
PREFER_NOT = "prefer_not_to_say"


def respondent_key(session_key: str, purpose: str = "respondent") -> str:
    """A keyed hash of the browser session: one response per person without identity."""
    secret = settings.SECRET_KEY.encode()
    return hmac.new(secret, f"{purpose}:{session_key}".encode(), hashlib.sha256).hexdigest()


def _moderate(text: str) -> tuple[str, list[str]]:
    """Redacted text and the reasons a moderator must look, from the redaction library."""
    from csas.analysis.insight.redaction import moderation_check

    result = moderation_check(text)
    return result.text, list(result.reasons)


# --- loading a survey -----------------------------------------------------------------------


def _translations_for(
    prefix: str, data: dict[str, Any], fields: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """Per-language {model field: text} for one object, from the file's flat keys."""
    result: dict[str, dict[str, str]] = {}
    for language, texts in data.get("translations", {}).items():
        for key, model_field in fields.items():
            text = texts.get(f"{prefix}{key}")
            if text:
                result.setdefault(language, {})[model_field] = text
    return result


def _strategy_options(strategy: Strategy, source: str) -> list[dict[str, Any]]:
    version = StrategyVersion.objects.filter(strategy=strategy, is_published=True).first()
    if version is None:
        return []
    if source == "goals":
        return [
            {
                "value": f"goal_{goal.number}",
                "label": goal.title,
                "strategy_ref": f"goal:{goal.number}",
                "translations": {
                    language: {"label": texts["title"]}
                    for language, texts in goal.translations.items()
                    if texts.get("title")
                },
            }
            for goal in version.goals.all()
        ]
    if source == "focus_populations":
        return (
            [
                {
                    "value": "focus_" + population.slug.replace("-", "_"),
                    "label": population.name,
                    "strategy_ref": f"focus:{population.slug}",
                    "translations": {
                        language: {"label": texts["name"]}
                        for language, texts in population.translations.items()
                        if texts.get("name")
                    },
                }
                for population in version.goals.get(number=2).focus_populations.all()
            ]
            if version.goals.filter(number=2).exists()
            else []
        )
    number = int(source.split(":")[1])
    return [
        {
            "value": "action_" + action.slug.replace("-", "_"),
            "label": f"{action.code} {action.title}",
            "strategy_ref": f"action:{action.code}",
            "translations": {
                language: {"label": f"{action.code} {texts['title']}"}
                for language, texts in action.translations.items()
                if texts.get("title")
            },
        }
        for action in version.actions.filter(goal__number=number)
    ]


OUTSIDE_LABEL = gettext_noop("I live outside the city")
PREFER_NOT_LABEL = gettext_noop("Prefer not to say")


def _ui_translations(text: str) -> dict[str, dict[str, str]]:
    """The UI catalogue's translations of `text`, stored with the option like content."""
    result = {}
    for code, _name in settings.LANGUAGES:
        if code == "en":
            continue
        with translation.override(code):
            translated = translation.gettext(text)
        if translated != text:
            result[code] = {"label": translated}
    return result


def _geography_options(strategy: Strategy, kind: str) -> list[dict[str, Any]]:
    geo_kind = (
        GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT
        if kind == "neighbourhood"
        else GeographyKind.COUNCIL_DISTRICT
    )
    options: list[dict[str, Any]] = [
        {
            "value": slugify(geography.code).replace("-", "_") or f"area_{geography.pk}",
            "label": geography.name,
            "geography": geography,
        }
        for geography in Geography.objects.filter(city_id=strategy.city_id, kind=geo_kind).order_by(
            "name"
        )
    ]
    options.append(
        {
            "value": OUTSIDE_CITY,
            "label": OUTSIDE_LABEL,
            "translations": _ui_translations(OUTSIDE_LABEL),
        }
    )
    options.append(
        {
            "value": PREFER_NOT,
            "label": PREFER_NOT_LABEL,
            "prefer_not_to_say": True,
            "exclusive": True,
            "translations": _ui_translations(PREFER_NOT_LABEL),
        }
    )
    return options


@transaction.atomic
def survey_load(*, document: SurveyDocument, strategy: Strategy) -> Survey:
    """Create the survey a file describes, as a draft; all or nothing.

    A survey that already has responses is never restructured: load the new wording under a
    new slug instead.
    """
    data = document.data
    existing = Survey.objects.filter(strategy=strategy, slug=data["slug"]).first()
    if existing is not None:
        if existing.responses.exists():
            raise SurveyFileError(
                document.path,
                [
                    Problem(
                        "slug",
                        f"survey {data['slug']!r} already has "
                        f"{existing.responses.count()} responses; load the new wording under "
                        "a new slug",
                    )
                ],
            )
        existing.delete()
    survey = Survey(
        strategy=strategy,
        slug=data["slug"],
        title=data["title"],
        intro=data.get("intro", ""),
        thanks=data.get("thanks", ""),
        privacy_note=data.get("privacy_note", ""),
        languages=data.get("languages", ["en"]),
        status=SurveyStatus.DRAFT,
        source_file=document.path.name,
        definition=data,
        translations=_translations_for(
            "",
            data,
            {
                "title": "title",
                "intro": "intro",
                "thanks": "thanks",
                "privacy_note": "privacy_note",
            },
        ),
    )
    survey.full_clean()
    survey.save()
    scales = data.get("scales", {})
    order = 0
    for s_order, section_data in enumerate(data["sections"]):
        section = Section.objects.create(
            survey=survey,
            key=section_data["key"],
            title=section_data["title"],
            intro=section_data.get("intro", ""),
            order=s_order,
            translations=_translations_for(
                f"sections.{section_data['key']}.", data, {"title": "title", "intro": "intro"}
            ),
        )
        for question_data in section_data["questions"]:
            key = question_data["key"]
            config = {
                name: question_data[name]
                for name in (
                    "min",
                    "max",
                    "min_label",
                    "max_label",
                    "choose",
                    "max_length",
                    "options_from",
                    "scale",
                )
                if name in question_data
            }
            question = Question.objects.create(
                survey=survey,
                section=section,
                key=key,
                kind=question_data["kind"],
                text=question_data["text"],
                help=question_data.get("help", ""),
                required=question_data.get("required", False),
                order=order,
                demographic=question_data.get("demographic", ""),
                config=config,
                show_if=question_data.get("show_if"),
                translations=_translations_for(
                    f"questions.{key}.",
                    data,
                    {
                        "text": "text",
                        "help": "help",
                        "min_label": "min_label",
                        "max_label": "max_label",
                    },
                ),
            )
            order += 1
            if "options" in question_data:
                options = [
                    {
                        **option,
                        "translations": _translations_for(
                            f"questions.{key}.options.{option['value']}", data, {"": "label"}
                        ),
                    }
                    for option in question_data["options"]
                ]
            elif "scale" in question_data:
                name = question_data["scale"]
                options = [
                    {
                        **option,
                        "translations": _translations_for(
                            f"scales.{name}.{option['value']}", data, {"": "label"}
                        ),
                    }
                    for option in scales[name]
                ]
            elif "options_from" in question_data:
                options = _strategy_options(strategy, question_data["options_from"])
                if not options:
                    raise SurveyFileError(
                        document.path,
                        [
                            Problem(
                                f"questions.{key}.options_from",
                                f"{question_data['options_from']!r} finds nothing in the published "
                                "strategy",
                            )
                        ],
                    )
            elif question_data["kind"] in {"neighbourhood", "council_district"}:
                options = _geography_options(strategy, question_data["kind"])
            else:
                options = []
            Option.objects.bulk_create(
                [
                    Option(
                        question=question,
                        value=option["value"],
                        label=option["label"],
                        order=index,
                        prefer_not_to_say=option.get("prefer_not_to_say", False),
                        exclusive=option.get("exclusive", option.get("prefer_not_to_say", False)),
                        strategy_ref=option.get("strategy_ref", ""),
                        geography=option.get("geography"),
                        translations=option.get("translations", {}),
                    )
                    for index, option in enumerate(options)
                ]
            )
    return survey


def survey_load_file(*, path: Path, strategy: Strategy) -> Survey:
    return survey_load(document=read_survey_file(path), strategy=strategy)


@transaction.atomic
def survey_set_status(*, survey: Survey, status: str) -> Survey:
    survey.status = status
    survey.full_clean()
    survey.save(update_fields=["status"])
    return survey


# --- answering -------------------------------------------------------------------------------


def question_spec(question: Question) -> QuestionSpec:
    options = list(question.options.all())
    config = question.config or {}
    return QuestionSpec(
        key=question.key,
        kind=question.kind,
        required=question.required,
        options=tuple(option.value for option in options),
        exclusive=frozenset(option.value for option in options if option.exclusive),
        minimum=config.get("min"),
        maximum=config.get("max"),
        choose=config.get("choose"),
        max_length=config.get("max_length", 2000),
        show_if=question.show_if,
    )


class SurveyClosed(Exception):
    """The survey is not open for responses."""


class AlreadyResponded(Exception):
    """This person (browser session or invitation code) has already answered."""


class InvitationInvalid(Exception):
    """The invitation code is unknown, used, or for another survey."""


@transaction.atomic
def response_start(
    *, survey: Survey, language: str, respondent: str, invitation_code: str = ""
) -> Response:
    """Begin (or resume) this respondent's response to an open survey."""
    if survey.status != SurveyStatus.OPEN:
        raise SurveyClosed
    invitation = None
    if invitation_code:
        invitation = (
            Invitation.objects.select_for_update()
            .filter(survey=survey, code=invitation_code.strip().upper())
            .first()
        )
        if invitation is None or invitation.used_at is not None:
            raise InvitationInvalid
        existing = Response.objects.filter(invitation=invitation).first()
        if existing is not None:
            return existing
    elif survey.invitation_required:
        raise InvitationInvalid
    if survey.one_response_per_person and respondent:
        if Response.objects.filter(
            survey=survey, respondent_key=respondent, status=ResponseStatus.SUBMITTED
        ).exists():
            raise AlreadyResponded
        ongoing = Response.objects.filter(
            survey=survey, respondent_key=respondent, status=ResponseStatus.IN_PROGRESS
        ).first()
        if ongoing is not None and invitation is None:
            return ongoing
    return Response.objects.create(
        survey=survey,
        language=language,
        respondent_key=respondent,
        invitation=invitation,
        channel="invitation" if invitation is not None else "web",
    )


@dataclass(frozen=True)
class SectionResult:
    errors: dict[str, str]
    saved: int


def _current_answers(response: Response) -> dict[str, Any]:
    return {
        answer.question.key: answer.value for answer in response.answers.select_related("question")
    }


@transaction.atomic
def response_save_section(
    *, response: Response, section: Section, form: Mapping[str, Sequence[str]]
) -> SectionResult:
    """Validate and store one section's answers; on any error nothing of it is stored."""
    if response.status != ResponseStatus.IN_PROGRESS:
        raise AlreadyResponded
    answers = _current_answers(response)
    cleaned: dict[Question, dict[str, Any] | None] = {}
    errors: dict[str, str] = {}
    for question in section.questions.prefetch_related("options"):
        spec = question_spec(question)
        try:
            value = clean_answer(spec, form.get(question.key, []))
        except AnswerError as error:
            if is_shown(spec, answers):
                errors[question.key] = error.message
            continue
        cleaned[question] = value
        if value is not None:
            answers[question.key] = value
    if errors:
        transaction.set_rollback(True)
        return SectionResult(errors=errors, saved=0)
    saved = 0
    for question, value in cleaned.items():
        if value is None or not is_shown(question_spec(question), answers):
            Answer.objects.filter(response=response, question=question).delete()
            continue
        Answer.objects.update_or_create(
            response=response, question=question, defaults={"value": value}
        )
        saved += 1
    response.save(update_fields=["updated_at"])
    return SectionResult(errors={}, saved=saved)


# The survey question whose "yes" asks for contact details after submitting.
FOLLOW_UP_QUESTION = "follow_up_opt_in"


@dataclass(frozen=True)
class Submitted:
    """A submitted response, and whether its respondent asked to be contacted."""

    response: Response
    opted_in: bool


def response_submit(*, response: Response) -> Response:
    """Submit a response: demographics snapshotted, open answers queued for moderation.

    Submitting twice (a retried POST) returns the already submitted response unchanged.
    """
    return response_submit_public(response=response).response


@transaction.atomic
def response_submit_public(*, response: Response) -> Submitted:
    """`response_submit` for the public submit path, which runs it under load: it reads only
    what it needs (the locked response with its survey, the answers with their questions, the
    required questions, and the geography ids, never the polygons, of the neighbourhood and
    council-district answers) and says whether the respondent opted in to follow-up."""
    response = (
        Response.objects.select_for_update(of=("self",))
        .select_related("survey")
        .get(pk=response.pk)
    )
    if response.status == ResponseStatus.SUBMITTED:
        return Submitted(response=response, opted_in=response_opted_in(response))
    survey = response.survey
    if survey.status != SurveyStatus.OPEN:
        raise SurveyClosed
    stored = list(
        response.answers.select_related("question").only(
            "id",
            "value",
            "response",
            "question",
            "question__key",
            "question__kind",
            "question__demographic",
        )
    )
    answers = {answer.question.key: answer.value for answer in stored}
    for key, kind, show_if in survey.questions.filter(required=True).values_list(
        "key", "kind", "show_if"
    ):
        spec = QuestionSpec(key=key, kind=kind, required=True, show_if=show_if)
        if key not in answers and is_shown(spec, answers):
            raise AnswerError(key, translation.gettext("This question needs an answer."))
    response.demographics = {
        answer.question.demographic: answer.value.get("choices", answer.value.get("choice"))
        for answer in stored
        if answer.question.demographic
    }
    places = {
        answer.question_id: (answer.question.kind, answer.value.get("choice"))
        for answer in stored
        if answer.question.kind in {QuestionKind.NEIGHBOURHOOD, QuestionKind.COUNCIL_DISTRICT}
    }
    if places:
        geography_of = {
            (question_id, value): geography_id
            for question_id, value, geography_id in Option.objects.filter(
                question_id__in=list(places),
                value__in=[choice for _kind, choice in places.values() if choice is not None],
            ).values_list("question_id", "value", "geography_id")
        }
        for question_id, (kind, choice) in places.items():
            geography_id = geography_of.get((question_id, choice))
            if kind == QuestionKind.NEIGHBOURHOOD:
                response.neighbourhood_id = geography_id
            else:
                response.council_district_id = geography_id
    items = []
    for answer in stored:
        if answer.question.kind == QuestionKind.OPEN_TEXT and answer.value.get("text"):
            redacted, reasons = _moderate(answer.value["text"])
            items.append(
                FeedbackItem(
                    strategy_id=survey.strategy_id,
                    source=FeedbackSource.SURVEY_ANSWER,
                    text=answer.value["text"],
                    redacted_text=redacted,
                    review_reasons=reasons,
                    language=response.language,
                    geography_id=response.neighbourhood_id,
                    speaker_demographics=response.demographics,
                    answer=answer,
                    activity_id=survey.activity_id,
                )
            )
    if items:
        FeedbackItem.objects.bulk_create(items)
    response.status = ResponseStatus.SUBMITTED
    response.submitted_at = timezone.now()
    try:
        # No savepoint: an IntegrityError (this respondent already has a submitted response)
        # leaves this transaction, feedback items included, to be rolled back as a whole.
        response.save(
            update_fields=[
                "status",
                "submitted_at",
                "demographics",
                "neighbourhood",
                "council_district",
                "updated_at",
            ]
        )
    except IntegrityError:
        raise AlreadyResponded from None
    if response.invitation_id is not None:
        Invitation.objects.filter(pk=response.invitation_id).update(used_at=response.submitted_at)
    return Submitted(
        response=response,
        opted_in=(answers.get(FOLLOW_UP_QUESTION) or {}).get("choice") == "yes",
    )


def response_opted_in(response: Response) -> bool:
    """Whether the respondent answered "yes" to being contacted about follow-up."""
    answer = response.answers.filter(question__key=FOLLOW_UP_QUESTION).first()
    return bool(answer and answer.value.get("choice") == "yes")


INVITATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I look-alikes


@transaction.atomic
def invitations_create(*, survey: Survey, count: int, batch: str) -> list[Invitation]:
    """Single-use codes to print on mailers and road-show cards."""
    import secrets

    if not 1 <= count <= 100_000:
        raise ValueError("count must be between 1 and 100,000")
    made: list[Invitation] = []
    while len(made) < count:
        code = "".join(secrets.choice(INVITATION_ALPHABET) for _ in range(8))
        if Invitation.objects.filter(code=code).exists():
            continue
        made.append(Invitation.objects.create(survey=survey, code=code, batch=batch))
    return made


# --- map comments and feedback -------------------------------------------------------------


@transaction.atomic
def map_comment_submit(
    *,
    strategy: Strategy,
    category: str,
    text: str,
    language: str,
    respondent: str,
    lon: float | None = None,
    lat: float | None = None,
    address: str = "",
) -> MapComment:
    """Store a resident's map comment for moderation (never public before review)."""
    from csas.strategy.selectors import geography_containing

    redacted, reasons = _moderate(text)
    comment = MapComment(
        strategy=strategy,
        category=category,
        text=text,
        redacted_text=redacted,
        review_reasons=reasons,
        lon=lon,
        lat=lat,
        address=address,
        language=language,
        respondent_key=respondent,
        status=ModerationStatus.PENDING,
    )
    if lon is not None and lat is not None:
        comment.neighbourhood = geography_containing(
            strategy, GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT, lon, lat
        )
        comment.council_district = geography_containing(
            strategy, GeographyKind.COUNCIL_DISTRICT, lon, lat
        )
    comment.full_clean()
    comment.save()
    FeedbackItem.objects.create(
        strategy=strategy,
        source=FeedbackSource.MAP_COMMENT,
        text=text,
        redacted_text=redacted,
        review_reasons=reasons,
        language=language,
        geography=comment.neighbourhood,
        map_comment=comment,
    )
    return comment


@transaction.atomic
def moderation_decide(
    *,
    item: MapComment | FeedbackItem,
    publish: bool,
    reviewer: Any,
    redacted_text: str | None = None,
) -> None:
    """Publish (with the moderator's redacted wording) or reject a comment."""
    item.status = ModerationStatus.PUBLISHED if publish else ModerationStatus.REJECTED
    if redacted_text is not None:
        item.redacted_text = redacted_text
    if isinstance(item, MapComment):
        item.reviewed_at = timezone.now()
        item.reviewed_by = reviewer
        FeedbackItem.objects.filter(map_comment=item).update(
            status=item.status, redacted_text=item.redacted_text
        )
    item.full_clean()
    item.save()


@transaction.atomic
def feedback_item_create(
    *,
    strategy: Strategy,
    text: str,
    created_by: Any,
    language: str = "en",
    activity: Any = None,
    geography: Any = None,
    speaker_demographics: dict[str, Any] | None = None,
) -> FeedbackItem:
    """A note staff took at a workshop, interview or road-show visit."""
    redacted, reasons = _moderate(text)
    item = FeedbackItem(
        strategy=strategy,
        source=FeedbackSource.STAFF_NOTE,
        text=text,
        redacted_text=redacted,
        review_reasons=reasons,
        language=language,
        activity=activity,
        geography=geography,
        speaker_demographics=speaker_demographics or {},
        created_by=created_by,
    )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def draft_comment_submit(
    *, version: StrategyVersion, section: str, text: str, language: str, author: Any = None
) -> Any:
    """A comment on one section of a version open for review; queued for moderation."""
    from csas.accounts.models import Role
    from csas.engagement.models import DraftComment

    if not version.open_for_comment:
        raise SurveyClosed
    redacted, reasons = _moderate(text)
    user = author if author is not None and author.is_authenticated else None
    comment = DraftComment(
        version=version,
        section=section,
        text=text,
        redacted_text=redacted,
        language=language,
        author=user,
        from_advisory_committee=bool(user is not None and user.role == Role.PARTNER),
    )
    comment.full_clean()
    comment.save()
    FeedbackItem.objects.create(
        strategy=version.strategy,
        source=FeedbackSource.DRAFT_COMMENT,
        text=text,
        redacted_text=redacted,
        review_reasons=reasons,
        language=language,
        external_id=f"draft:{version.key}:{section}",
    )
    return comment
