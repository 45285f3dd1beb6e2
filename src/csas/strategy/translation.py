"""Translating a strategy version's content in the back office.

Every text residents read (the vision, goals, objectives, actions, focus populations,
workstreams, milestones, discussion questions) may carry a translation per public language in
its ``translations`` field (`csas.strategy.i18n`). The strategy office enters them here, one
language at a time; each saved translation remembers the English it was made from
(``translations[language]["_from"][field]``), so when the English changes the translation is
no longer shown to residents (they read the English, marked as such) and the screen flags it
for review. Translations given in the strategy file are taken as current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from csas.strategy.models import (
    Action,
    DiscussionQuestion,
    FocusPopulation,
    Goal,
    Milestone,
    Objective,
    StrategyVersion,
    Workstream,
)

#: Where each translation's English source is kept, inside translations[language].
SOURCE_KEY = "_from"
#: Where the text the strategy file last gave for a translation is kept, so that loading the
#: same file again does not undo a later edit made in the back office.
FILE_KEY = "_file"

#: (key, model, fields, section heading) in the order the screen shows them.
TRANSLATABLE: tuple[tuple[str, type[models.Model], tuple[str, ...], Any], ...] = (
    ("version", StrategyVersion, ("vision", "safety_definition", "summary"), _("The strategy")),
    ("goal", Goal, ("title", "statement"), _("Goals")),
    ("objective", Objective, ("title", "description"), _("Objectives")),
    ("action", Action, ("title", "description"), _("Actions")),
    ("population", FocusPopulation, ("name", "description"), _("Focus populations")),
    ("workstream", Workstream, ("name",), _("Workstreams")),
    ("milestone", Milestone, ("title",), _("Milestones")),
    ("question", DiscussionQuestion, ("text",), _("Discussion questions")),
)
FIELD_LABELS = {
    "vision": _("Vision"),
    "safety_definition": _("What community safety means"),
    "summary": _("Summary"),
    "title": _("Title"),
    "statement": _("Statement"),
    "description": _("Description"),
    "name": _("Name"),
    "text": _("Text"),
}


def languages() -> list[tuple[str, str]]:
    """The public languages content can be translated into (all but English)."""
    return [(code, str(name)) for code, name in settings.LANGUAGES if code != "en"]


def is_current(obj: Any, field: str, language: str) -> bool:
    """Whether `obj`'s translation of `field` into `language` was made from its English as it
    is now (True also for translations without a recorded source: from the strategy file)."""
    texts = (getattr(obj, "translations", None) or {}).get(language) or {}
    source = (texts.get(SOURCE_KEY) or {}).get(field)
    return source is None or source == getattr(obj, field)


def merged_translations(
    stored: dict[str, Any] | None,
    from_file: dict[str, Any] | None,
    english: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Translations after loading a strategy file: a translation the file gives replaces the
    stored one, recorded as made from the file's English for that text (`english`: field ->
    text), so it is current now and out of date once that English changes; unless the file
    gives the same translation as when it was last loaded, in which case the stored state is
    kept (a back-office edit or removal since, or the mark that the English has changed).
    Translations the file does not give, such as those entered in the back office, are kept;
    if their English has changed since, they are out of date and not shown
    (`csas.strategy.i18n.localized`)."""
    english = english or {}
    result = {language: dict(texts) for language, texts in (stored or {}).items()}
    for language, texts in (from_file or {}).items():
        current = dict(result.get(language) or {})
        sources = dict(current.get(SOURCE_KEY) or {})
        files = dict(current.get(FILE_KEY) or {})
        for field, text in texts.items():
            if files.get(field) == text:
                # The file still says what it said when last loaded: what is stored (a
                # back-office edit or removal, or its out-of-date mark) is newer.
                continue
            current[field] = text
            files[field] = text
            if isinstance(english.get(field), str):
                sources[field] = english[field]
            else:
                sources.pop(field, None)
        for key, kept in ((SOURCE_KEY, sources), (FILE_KEY, files)):
            if kept:
                current[key] = kept
            else:
                current.pop(key, None)
        result[language] = current
    return result


def _objects(version: StrategyVersion) -> dict[str, list[Any]]:
    return {
        "version": [version],
        "goal": list(version.goals.order_by("number")),
        "objective": list(
            Objective.objects.filter(goal__version=version).order_by("goal__number", "order")
        ),
        "action": list(version.actions.select_related("goal").order_by("goal__number", "order")),
        "population": list(
            FocusPopulation.objects.filter(goal__version=version).order_by("goal__number", "order")
        ),
        "workstream": list(version.workstreams.order_by("order")),
        "milestone": list(
            Milestone.objects.filter(workstream__version=version).order_by(
                "workstream__order", "starts_on", "order"
            )
        ),
        "question": list(version.discussion_questions.order_by("order")),
    }


def _label(key: str, obj: Any) -> str:
    if key == "version":
        return str(obj.label)
    if key == "goal":
        return f"{_('Goal')} {obj.number}"
    if key in ("objective", "action"):
        return str(obj.code)
    if key == "question":
        return f"{_('Question')} {obj.order + 1}"
    return str(getattr(obj, "name", None) or getattr(obj, "title", ""))


@dataclass(frozen=True)
class TranslationRow:
    """One text of the version and its translation into the screen's language.

    Fields:
        name: the form field's name (key-pk-field).
        label: what the text belongs to ("Goal 3", "3.6", ...).
        field: the field's label.
        english: the English text.
        translation: the stored translation ("" when none).
        stale: a translation exists but was made from different English.
    """

    name: str
    label: str
    field: str
    english: str
    translation: str
    stale: bool


@dataclass(frozen=True)
class TranslationSection:
    heading: str
    rows: tuple[TranslationRow, ...]


def translation_sections(version: StrategyVersion, language: str) -> list[TranslationSection]:
    """Every non-empty English text of `version` with its `language` translation."""
    found = _objects(version)
    sections = []
    for key, _model, fields, heading in TRANSLATABLE:
        rows = []
        for obj in found[key]:
            texts = (obj.translations or {}).get(language) or {}
            for field in fields:
                english = getattr(obj, field) or ""
                if not english.strip():
                    continue
                translation = texts.get(field) or ""
                rows.append(
                    TranslationRow(
                        name=f"{key}-{obj.pk}-{field}",
                        label=_label(key, obj),
                        field=str(FIELD_LABELS[field]),
                        english=english,
                        translation=translation,
                        stale=bool(translation) and not is_current(obj, field, language),
                    )
                )
        if rows:
            sections.append(TranslationSection(str(heading), tuple(rows)))
    return sections


@dataclass(frozen=True)
class TranslationCounts:
    language: str
    name: str
    texts: int
    translated: int
    stale: int

    @property
    def missing(self) -> int:
        return self.texts - self.translated - self.stale


def translation_counts(version: StrategyVersion) -> list[TranslationCounts]:
    """Per language: texts to translate, translated and current, and out of date."""
    result = []
    for code, name in languages():
        rows = [row for section in translation_sections(version, code) for row in section.rows]
        stale = sum(1 for row in rows if row.stale)
        done = sum(1 for row in rows if row.translation) - stale
        result.append(TranslationCounts(code, name, len(rows), done, stale))
    return result


@transaction.atomic
def translations_save(
    *,
    version: StrategyVersion,
    language: str,
    texts: dict[str, str],
    editor: Any,
    confirmed: frozenset[str] = frozenset(),
) -> int:
    """Store the translations the screen sent (form field name -> text; an empty text removes
    the translation), each with the English it was made from. An out-of-date translation sent
    back unchanged stays out of date unless its name is in `confirmed` (the translator checked
    it against the new English). Objects are saved (and their history written) only when
    something changed; returns how many texts changed.

    Raises:
        ValidationError: an unknown language or a field name that is not this version's.
    """
    if language not in dict(languages()):
        raise ValidationError(f"{language!r} is not a language content is translated into")
    found = {(key, obj.pk): obj for key, objects in _objects(version).items() for obj in objects}
    allowed = {key: fields for key, _model, fields, _heading in TRANSLATABLE}
    changed_objects: dict[tuple[str, int], Any] = {}
    changed = 0
    for name, raw in texts.items():
        try:
            key, pk_text, field = name.split("-", 2)
            obj = found[(key, int(pk_text))]
        except (ValueError, KeyError):
            raise ValidationError(f"{name!r} is not a text of this version") from None
        if field not in allowed[key]:
            raise ValidationError(f"{name!r} is not a text of this version")
        text = raw.strip()
        english = getattr(obj, field) or ""
        translations = dict(obj.translations or {})
        texts_in = dict(translations.get(language) or {})
        sources = dict(texts_in.get(SOURCE_KEY) or {})
        source = sources.get(field)
        unchanged = text == (texts_in.get(field) or "")
        if unchanged and (not text or source is None or source == english):
            continue
        if unchanged and name not in confirmed:
            continue  # out of date, and not checked against the new English: left as it is
        if text:
            texts_in[field] = text
            sources[field] = english
        else:
            texts_in.pop(field, None)
            sources.pop(field, None)
        if sources:
            texts_in[SOURCE_KEY] = sources
        else:
            texts_in.pop(SOURCE_KEY, None)
        if texts_in:
            translations[language] = texts_in
        else:
            translations.pop(language, None)
        obj.translations = translations
        changed_objects[(key, obj.pk)] = obj
        changed += 1
    for obj in changed_objects.values():
        obj._history_user = editor
        obj.save(update_fields=["translations"])
    return changed
