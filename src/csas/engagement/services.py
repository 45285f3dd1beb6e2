"""Writes for engagement: loading surveys, answering them, map comments, feedback items."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_noop

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


def _moderate_place(address: str) -> tuple[str, list[str]]:
    """A map comment's "Where?" text redacted like the comment; its reasons say "place:"."""
    if not address.strip():
        return "", []
    redacted, reasons = _moderate(address)
    return redacted[: MapComment._meta.get_field("address").max_length], [
        f"place:{reason}" for reason in reasons
    ]


class PlaceOutsideCity(ValidationError):
    """A map pin that falls outside every district of the city."""


def _city_has_districts(strategy: Strategy) -> bool:
    return Geography.objects.filter(
        city_id=strategy.city_id,
        kind__in=[GeographyKind.COUNCIL_DISTRICT, GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT],
    ).exists()


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


def _current(obj: Any, field: str, key: str, *, prefix: str = "") -> dict[str, dict[str, str]]:
    """`obj`'s current translations of `field` (never one made from English that has since
    changed: `csas.strategy.i18n.localized`), as an option's translations under `key`."""
    from csas.strategy.i18n import localized

    result = {}
    for language in obj.translations or {}:
        text = localized(obj, field, language)
        if not text.is_fallback and language != "en":
            result[language] = {key: f"{prefix}{text.text}"}
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
                "translations": _current(goal, "title", "label"),
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
                    "translations": _current(population, "name", "label"),
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
            "translations": _current(action, "title", "label", prefix=f"{action.code} "),
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
    """Validate and store one section's answers; on any error nothing of it is stored.

    The response's submit snapshot (`response_refresh`) is brought up to date with them.
    """
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
        defaults: dict[str, Any] = {"value": value}
        if question.kind == QuestionKind.OPEN_TEXT:
            defaults["redacted_text"], defaults["review_reasons"] = _redaction(value)
        Answer.objects.update_or_create(response=response, question=question, defaults=defaults)
        saved += 1
    response_refresh(response=response)
    return SectionResult(errors={}, saved=saved)


def _redaction(value: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The redacted text and review reasons of an open answer ("" and [] without text)."""
    text = value.get("text")
    return _moderate(text) if isinstance(text, str) and text else ("", [])


# The survey question whose "yes" asks for contact details after submitting.
FOLLOW_UP_QUESTION = "follow_up_opt_in"


def _missing_required(survey: Survey, answers: Mapping[str, Any]) -> str | None:
    """The key of the first required question that is shown and has no answer, if any."""
    for key, kind, show_if in (
        survey.questions.filter(required=True)
        .order_by("section__order", "order")
        .values_list("key", "kind", "show_if")
    ):
        spec = QuestionSpec(key=key, kind=kind, required=True, show_if=show_if)
        if key not in answers and is_shown(spec, answers):
            return str(key)
    return None


def response_refresh(*, response: Response) -> None:
    """Bring an in-progress response's submit snapshot up to date with its answers.

    The snapshot is what submitting needs and would otherwise work out under load: whether
    every required question shown is answered (`ready`), the demographics as given, the
    home neighbourhood and council district (ids of the geographies, never the polygons),
    the follow-up opt-in, and each open answer's redaction. Answers cannot change after
    submitting, so the snapshot taken here is the one the submitted response keeps.
    """
    if response.status != ResponseStatus.IN_PROGRESS:
        return
    stored = list(
        response.answers.select_related("question").only(
            "id",
            "value",
            "redacted_text",
            "response",
            "question__key",
            "question__kind",
            "question__demographic",
        )
    )
    answers = {answer.question.key: answer.value for answer in stored}
    response.ready = _missing_required(response.survey, answers) is None
    response.opted_in = (answers.get(FOLLOW_UP_QUESTION) or {}).get("choice") == "yes"
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
    response.neighbourhood_id = response.council_district_id = None
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
    for answer in stored:
        # Answers stored by other means (imports, demo data, older versions) get their
        # redaction here.
        if answer.question.kind == QuestionKind.OPEN_TEXT and not answer.redacted_text:
            answer.redacted_text, answer.review_reasons = _redaction(answer.value)
            if answer.redacted_text:
                answer.save(update_fields=["redacted_text", "review_reasons"])
    response.save(
        update_fields=[
            "ready",
            "opted_in",
            "demographics",
            "neighbourhood",
            "council_district",
            "updated_at",
        ]
    )


@dataclass(frozen=True)
class Submitted:
    """A submitted response (its id), and whether its respondent asked to be contacted."""

    response_id: int
    opted_in: bool


class _SubmitSql:
    """The submit's statements (see `response_submit_by_token`).

    `update` matches an in-progress, ready response of an open survey of a strategy with a
    published version, given by public id (a resume link) or by primary key (``{match}``,
    with ``{survey}`` limiting the survey), and returns its id, invitation and opt-in;
    nothing matches for anything else, and then nothing changes. `items` makes the feedback
    items of its open answers (``{response}``: the response id's SQL), `used` marks its
    invitation used. On PostgreSQL the three are one statement (data-modifying WITH
    queries): one round trip, atomic without BEGIN and COMMIT; elsewhere they run one after
    the other in a transaction. (Table names come from the models; every value is a
    parameter, hence the S608 exemptions.)
    """

    def __init__(self, vendor: str) -> None:
        response, survey = Response._meta.db_table, Survey._meta.db_table
        answer, question = Answer._meta.db_table, Question._meta.db_table
        version, item = StrategyVersion._meta.db_table, FeedbackItem._meta.db_table
        self.postgresql = vendor == "postgresql"
        text = "a.value ->> 'text'" if self.postgresql else "json_extract(a.value, '$.text')"
        self.update = (
            f"UPDATE {response} SET status = %(submitted)s, submitted_at = %(now)s, "  # noqa: S608
            "updated_at = %(now)s "
            "WHERE {match} AND status = %(in_progress)s AND ready = %(true)s AND survey_id IN ("
            f"SELECT s.id FROM {survey} s WHERE s.status = %(open)s AND {{survey}} AND EXISTS ("
            f"SELECT 1 FROM {version} v WHERE v.strategy_id = s.strategy_id "
            "AND v.is_published = %(true)s)) "
            "RETURNING id, invitation_id, opted_in"
        )
        self.items = (
            f"INSERT INTO {item} (strategy_id, source, text, redacted_text, language, "  # noqa: S608
            "activity_id, geography_id, speaker_demographics, status, review_reasons, answer_id, "
            f"external_id, created_at) SELECT s.strategy_id, %(source)s, {text}, "
            "a.redacted_text, r.language, s.activity_id, r.neighbourhood_id, r.demographics, "
            f"%(pending)s, a.review_reasons, a.id, '', %(now)s FROM {{done}}{answer} a "
            f"JOIN {question} q ON q.id = a.question_id "
            f"JOIN {response} r ON r.id = a.response_id "
            f"JOIN {survey} s ON s.id = r.survey_id "
            "WHERE a.response_id = {response} AND q.kind = %(open_text)s "
            "AND a.redacted_text <> '' ORDER BY a.id"
        )
        invitation = Invitation._meta.db_table
        self.used = f"UPDATE {invitation} SET used_at = %(now)s WHERE id = %(invitation)s"  # noqa: S608
        self.used_after = (
            f"UPDATE {invitation} SET used_at = %(now)s FROM done d "  # noqa: S608
            f"WHERE {invitation}.id = d.invitation_id"
        )

    def combined(self, match: str, survey: str) -> str:
        """PostgreSQL: the update, the items and the invitation in one statement."""
        update = self.update.format(match=match, survey=survey)
        items = self.items.format(done="done d, ", response="d.id")
        return (
            f"WITH done AS ({update}), items AS ({items}), used AS ({self.used_after}) "  # noqa: S608
            "SELECT id, invitation_id, opted_in FROM done"
        )


def _submit(*, match: str, survey: str, params: Mapping[str, Any]) -> Submitted | None:
    """Run the submit (atomically); None when no response matched."""
    connection = transaction.get_connection()
    sql = _SubmitSql(connection.vendor)
    values = {
        **params,
        "submitted": ResponseStatus.SUBMITTED,
        "in_progress": ResponseStatus.IN_PROGRESS,
        "open": SurveyStatus.OPEN,
        "true": True,
        "now": Response._meta.get_field("submitted_at").get_db_prep_value(
            timezone.now(), connection
        ),
        "source": FeedbackSource.SURVEY_ANSWER,
        "pending": ModerationStatus.PENDING,
        "open_text": QuestionKind.OPEN_TEXT,
    }
    try:
        if sql.postgresql:
            # One statement is atomic by itself: no BEGIN and COMMIT round trips (inside an
            # outer transaction, it simply joins it).
            row = _execute_prepared(connection, sql.combined(match, survey), values)
        else:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql.update.format(match=match, survey=survey), values)
                row = cursor.fetchone()
                if row is not None:
                    items = sql.items.format(done="", response="%(response)s")
                    cursor.execute(items, {**values, "response": row[0]})
                    if row[1] is not None:
                        cursor.execute(sql.used, {**values, "invitation": row[1]})
    except IntegrityError:
        # This respondent already has a submitted response (one per person): the whole
        # submit, feedback items included, was rolled back.
        raise AlreadyResponded from None
    if row is None:
        return None
    return Submitted(response_id=int(row[0]), opted_in=bool(row[2]))


def _execute_prepared(connection: Any, query: str, values: Mapping[str, Any]) -> Any:
    """Run one statement on PostgreSQL as a prepared statement and return its first row.

    Django's psycopg cursors bind parameters on the client, so PostgreSQL plans every
    statement afresh; for the submit that planning (about 0.6 ms of the server's CPU)
    costs more than running it (about 0.2 ms). A server-side-binding cursor with
    ``prepare=True`` plans it once per connection (when the connection allows prepared
    statements: settings' CSAS_DB_PREPARED_STATEMENTS; without, it is simply executed).
    Errors are translated to Django's (an
    IntegrityError stays an IntegrityError), and the statement is logged like Django's own
    when queries are being captured (debug, tests).
    """
    import psycopg

    connection.ensure_connection()
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(query, values, prepare=True)
        row = cursor.fetchone()
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": query, "time": f"{time.monotonic() - started:.3f}", "prepared": True}
        )
    return row


def _scope_sql(params: dict[str, Any]) -> str:
    """SQL (for `{survey}`) limiting surveys to the site's strategy, as the public pages do."""
    if settings.CSAS_STRATEGY_SLUG:
        params["strategy_slug"] = settings.CSAS_STRATEGY_SLUG
        return (
            f"s.strategy_id IN (SELECT id FROM {Strategy._meta.db_table} "  # noqa: S608
            "WHERE slug = %(strategy_slug)s)"
        )
    # The only strategy loaded (see strategy_get_default).
    return f"s.strategy_id = (SELECT min(id) FROM {Strategy._meta.db_table})"  # noqa: S608


def response_submit_by_token(*, slug: str, token: str) -> Submitted:
    """Submit the response a resume link points to: the public submit path.

    One conditional update (and the open answers' feedback items) in one transaction, with
    no rows read first: it matches only an in-progress response whose answers are complete
    (`response_refresh` keeps that up to date as pages are saved). When it matches nothing,
    the response is looked at to say why: submitted already (a retried POST or a double
    click: returned as it is), survey closed (`SurveyClosed`), or a required answer missing
    (`AnswerError`, after bringing the snapshot up to date and trying once more). An unknown
    or foreign token is "not found" (Http404).
    """
    from csas.engagement.selectors import response_get_for_submit

    try:
        public_id = uuid.UUID(token)
    except ValueError:
        raise Http404("No such response.") from None
    params: dict[str, Any] = {
        "public_id": Response._meta.get_field("public_id").get_db_prep_value(
            public_id, transaction.get_connection()
        ),
        "slug": slug,
    }
    survey_sql = f"s.slug = %(slug)s AND {_scope_sql(params)}"
    match = "public_id = %(public_id)s"
    submitted = _submit(match=match, survey=survey_sql, params=params)
    if submitted is not None:
        return submitted
    response = response_get_for_submit(slug, token)
    if response.status == ResponseStatus.SUBMITTED:
        return Submitted(response_id=response.pk, opted_in=response.opted_in)
    if response.survey.status != SurveyStatus.OPEN:
        raise SurveyClosed
    return _submit_after_refresh(response)


def _submit_after_refresh(response: Response) -> Submitted:
    response_refresh(response=response)
    params: dict[str, Any] = {"pk": response.pk}
    submitted = _submit(match="id = %(pk)s", survey="%(true)s", params=params)
    if submitted is not None:
        return submitted
    response.refresh_from_db()
    if response.status == ResponseStatus.SUBMITTED:  # submitted meanwhile (a double click)
        return Submitted(response_id=response.pk, opted_in=response.opted_in)
    if response.survey.status != SurveyStatus.OPEN:
        raise SurveyClosed
    missing = _missing_required(response.survey, _current_answers(response))
    raise AnswerError(missing or "", translation.gettext("This question needs an answer."))


def response_submit(*, response: Response) -> Response:
    """Submit a response (staff entry, demo data, tests): the public path's submit, after
    bringing its snapshot up to date. Submitting twice returns the submitted response."""
    response = Response.objects.select_related("survey").get(pk=response.pk)
    if response.status != ResponseStatus.SUBMITTED:
        if response.survey.status != SurveyStatus.OPEN:
            raise SurveyClosed
        _submit_after_refresh(response)
    return Response.objects.get(pk=response.pk)


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
    """Store a resident's map comment for moderation (never public before review).

    The comment and the place typed in words are both redacted; a pin must fall inside the
    city's council or neighbourhood districts when the city has them (PlaceOutsideCity if not).
    """
    from csas.strategy.selectors import geography_containing

    redacted, reasons = _moderate(text)
    redacted_address, place_reasons = _moderate_place(address)
    comment = MapComment(
        strategy=strategy,
        category=category,
        text=text,
        redacted_text=redacted,
        review_reasons=reasons + place_reasons,
        lon=lon,
        lat=lat,
        address=address,
        redacted_address=redacted_address,
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
        if (
            comment.neighbourhood is None
            and comment.council_district is None
            and _city_has_districts(strategy)
        ):
            message = gettext(
                "The pin is outside %(city)s. Move it inside the city, or describe the place."
            )
            raise PlaceOutsideCity(message % {"city": strategy.city.name})
    comment.full_clean()
    comment.save()
    FeedbackItem.objects.create(
        strategy=strategy,
        source=FeedbackSource.MAP_COMMENT,
        text=text,
        redacted_text=redacted,
        review_reasons=reasons + place_reasons,
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
    redacted_address: str | None = None,
) -> None:
    """Publish (with the moderator's redacted wording) or reject a comment.

    `redacted_address` is the map comment's place as it will be published; it is ignored for
    other feedback.
    """
    item.status = ModerationStatus.PUBLISHED if publish else ModerationStatus.REJECTED
    if redacted_text is not None:
        item.redacted_text = redacted_text
    if isinstance(item, MapComment):
        if redacted_address is not None:
            item.redacted_address = redacted_address.strip()
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
