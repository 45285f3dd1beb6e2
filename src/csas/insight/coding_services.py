"""Writes for coding feedback to the strategy: the codebook, coding runs and reviews.

The codebook of a strategy (`Code` rows) has one code per goal, action and focus population of
the published version, kept in step with the strategy by :func:`codebook_sync_from_strategy`,
plus themes staff define (:func:`code_theme_create`, :func:`code_update`). A coding run
(:func:`coding_run_start`) codes every feedback item that is published or waiting for
moderation with the offline coder of ``csas.analysis.insight.coding`` and replaces the
machine's codes in one transaction. A review (:func:`review_record`) stores a person's codes
for one item.

Which coder a run uses (the training rule):

* **zero-shot** while fewer than :data:`MIN_REVIEWED_FOR_TRAINING` items have been reviewed:
  codes are scored from their descriptions, examples and keywords only. A few dozen of the
  city's own comments say too little about how its residents write to be worth a model, and
  the goal keywords lent from the shipped codebook are then the safer guide.
* **supervised** (``train_coder``) from then on, trained on the goal codes of every reviewed
  item (its latest review; an item reviewed as "no code applies" is a negative example) plus,
  when the strategy's goals are the four goals of the shipped codebook (same short names), the
  390 coded Austin comments shipped with csas. Only goal codes are trained: the Austin
  comments were coded to goals only, so they say nothing about actions or themes. Action,
  focus population and theme codes keep their zero-shot scores in both cases, so they are
  multi-label suggestions like the goals.

Explanations: every machine code stores the words of the comment that drove its score and the
nearest coded example (supervised runs). Explaining is the slow part of the library for a
supervised coder (2 ms a comment or more), so a supervised run explains the
:data:`EXPLAIN_LIMIT` least-confident items - the head of the review queue - and a zero-shot
run explains every item.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from csas.analysis.insight import coding as library
from csas.analysis.insight.language import detect_languages
from csas.engagement.models import FeedbackItem, ModerationStatus
from csas.insight.models import (
    Code,
    CodeKind,
    CodeOrigin,
    CodingRun,
    ItemCode,
    ItemCoding,
    Review,
    ReviewDecision,
)
from csas.strategy.models import Action, FocusPopulation, Goal, Strategy, StrategyVersion

#: Feedback items that are coded: published, or waiting for moderation (never rejected ones).
CODED_STATUSES: tuple[str, ...] = (ModerationStatus.PUBLISHED, ModerationStatus.PENDING)
#: Reviewed items needed before a run trains a model instead of coding zero-shot.
MIN_REVIEWED_FOR_TRAINING = 30
# The confidence given to a comment detected in a language other than English (a toss-up:
# the coder reads English words), so that a person reads it first.
OTHER_LANGUAGE_CONFIDENCE = 0.5
#: A supervised run explains this many items, least confident first (see the module docstring).
EXPLAIN_LIMIT = 500
_BATCH = 2_000
_GENERATED_KINDS = (CodeKind.GOAL, CodeKind.ACTION, CodeKind.FOCUS)


# --------------------------------------------------------------------------------------------
# Codebook


@dataclass(frozen=True)
class CodebookSync:
    """What :func:`codebook_sync_from_strategy` did: counts of codes created, updated,
    deactivated (their goal, action or focus population left the published version) and left
    as they were."""

    created: int
    updated: int
    deactivated: int
    unchanged: int


@lru_cache(maxsize=1)
def _shipped_codebook() -> library.Codebook:
    return library.load_codebook()


def _shipped_goal(short_name: str) -> library.Code | None:
    for code in _shipped_codebook().codes:
        if code.kind == "goal" and code.id == short_name:
            return code
    return None


def _published_version(strategy: Strategy) -> StrategyVersion:
    version = StrategyVersion.objects.filter(strategy=strategy, is_published=True).first()
    if version is None:
        raise ValidationError(
            _("Strategy “%(strategy)s” has no published version to build a codebook from.")
            % {"strategy": strategy.name}
        )
    return version


def _desired_codes(version: StrategyVersion) -> list[dict[str, Any]]:
    """The generated codes of a version as field dicts, goals first, then each goal's
    actions and focus populations."""
    goals = list(Goal.objects.filter(version=version).order_by("number"))
    actions = list(Action.objects.filter(version=version).order_by("goal__number", "order", "pk"))
    focus = list(
        FocusPopulation.objects.filter(goal__version=version).order_by("goal__number", "order")
    )
    action_codes = [action.code for action in actions]
    focus_slugs = [population.slug for population in focus]
    goal_keys = {goal.pk: goal.short_name for goal in goals}
    desired: list[dict[str, Any]] = []
    for goal in goals:
        shipped = _shipped_goal(goal.short_name)
        description = " ".join(
            part.strip()
            for part in (goal.title + ".", goal.statement, shipped.description if shipped else "")
            if part.strip()
        )
        desired.append(
            {
                "kind": CodeKind.GOAL,
                "key": goal.short_name,
                "label": goal.title,
                "description": description,
                "examples": list(shipped.examples) if shipped else [],
                "keywords": list(shipped.keywords) if shipped else [],
                "parent_key": None,
                "goal": goal,
                "action": None,
                "focus_population": None,
                "order": goal.number,
            }
        )
    for position, action in enumerate(actions):
        # Action codes are stable and readable ("3.6"); where a version gives two actions
        # the same code, both are keyed by their slug instead.
        key = action.code if action.code and action_codes.count(action.code) == 1 else action.slug
        desired.append(
            {
                "kind": CodeKind.ACTION,
                "key": key,
                "label": action.title,
                "description": " ".join(action.title.split()),
                "examples": [],
                "keywords": [],
                "parent_key": goal_keys.get(action.goal_id),
                "goal": None,
                "action": action,
                "focus_population": None,
                "order": position,
            }
        )
    for position, population in enumerate(focus):
        goal_key = goal_keys.get(population.goal_id, "")
        key = (
            population.slug
            if focus_slugs.count(population.slug) == 1
            else f"{goal_key.lower()}-{population.slug}"
        )
        desired.append(
            {
                "kind": CodeKind.FOCUS,
                "key": key,
                "label": population.name,
                "description": " ".join(
                    " ".join((population.name, population.description)).split()
                ),
                "examples": [],
                "keywords": [],
                "parent_key": goal_key or None,
                "goal": None,
                "action": None,
                "focus_population": population,
                "order": position,
            }
        )
    return desired


_SYNCED_FIELDS = (
    "label",
    "description",
    "examples",
    "keywords",
    "goal",
    "action",
    "focus_population",
    "order",
)


@transaction.atomic
def codebook_sync_from_strategy(*, strategy: Strategy, by: Any = None) -> CodebookSync:
    """Create or update one code per goal, action and focus population of the published
    version; idempotent.

    Goal codes take the goal's title and statement plus, when the goal's short name is a code
    of the shipped codebook (``csas/data/insight/codebook.yaml``), its description, examples
    and keywords. Codes whose goal, action or focus population is no longer in the published
    version are deactivated, never deleted (their item codes are history); staff themes are
    never touched.
    """
    version = _published_version(strategy)
    desired = _desired_codes(version)
    existing = {
        (code.kind, code.key): code
        for code in Code.objects.filter(strategy=strategy, kind__in=_GENERATED_KINDS)
    }
    created = updated = unchanged = 0
    by_key: dict[tuple[str, str], Code] = {}
    for fields in desired:
        identity = (str(fields["kind"]), str(fields["key"]))
        code = existing.get(identity)
        if code is None:
            code = Code(strategy=strategy, kind=fields["kind"], key=fields["key"], created_by=by)
            changed = True
            created += 1
        else:
            changed = not code.is_active or any(
                getattr(code, name) != fields[name] for name in _SYNCED_FIELDS
            )
            if changed:
                updated += 1
            else:
                unchanged += 1
        if changed:
            for name in _SYNCED_FIELDS:
                setattr(code, name, fields[name])
            code.is_active = True
            code.full_clean(exclude=["parent"])
            code.save()
        by_key[identity] = code
    # Parents once every goal code exists (an action's parent is its goal's code).
    for fields in desired:
        code = by_key[(str(fields["kind"]), str(fields["key"]))]
        parent = by_key.get((CodeKind.GOAL, fields["parent_key"])) if fields["parent_key"] else None
        if code.parent_id != (parent.pk if parent else None):
            code.parent = parent
            code.save(update_fields=["parent"])
    gone = [code.pk for identity, code in existing.items() if identity not in by_key]
    deactivated = Code.objects.filter(pk__in=gone, is_active=True).update(is_active=False)
    return CodebookSync(
        created=created, updated=updated, deactivated=deactivated, unchanged=unchanged
    )


def _clean_list(values: Iterable[str], *, lower: bool = False) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        text = " ".join(str(value).split())
        if lower:
            text = text.lower()
        if text and text not in cleaned:
            cleaned.append(text)
    return cleaned


def _check_codable(code: Code) -> None:
    if not (code.description.strip() or code.examples or code.keywords):
        raise ValidationError(
            _(
                "Theme “%(label)s” needs a description, examples or keywords: the coder "
                "recognises a theme only from these."
            )
            % {"label": code.label}
        )


def _unique_theme_key(strategy: Strategy, label: str) -> str:
    base = slugify(label)[:70] or "theme"
    taken = set(Code.objects.filter(strategy=strategy).values_list("key", flat=True))
    key, number = base, 2
    while key in taken:
        key = f"{base}-{number}"
        number += 1
    return key


@transaction.atomic
def code_theme_create(
    *,
    strategy: Strategy,
    label: str,
    description: str = "",
    examples: Sequence[str] = (),
    keywords: Sequence[str] = (),
    by: Any = None,
) -> Code:
    """A staff-defined theme. It needs a description, examples or keywords (ValidationError
    otherwise); its key is a slug of the label, unique within the codebook."""
    label = " ".join(label.split())
    if not label:
        raise ValidationError({"label": _("A theme needs a name.")})
    last = Code.objects.filter(strategy=strategy, kind=CodeKind.THEME).aggregate(Max("order"))
    code = Code(
        strategy=strategy,
        kind=CodeKind.THEME,
        key=_unique_theme_key(strategy, label),
        label=label,
        description=description.strip(),
        examples=_clean_list(examples),
        keywords=_clean_list(keywords, lower=True),
        order=(last["order__max"] or 0) + 1,
        created_by=by,
    )
    _check_codable(code)
    code.full_clean()
    code.save()
    return code


@transaction.atomic
def code_update(
    *,
    code: Code,
    label: str | None = None,
    description: str | None = None,
    examples: Sequence[str] | None = None,
    keywords: Sequence[str] | None = None,
    is_active: bool | None = None,
) -> Code:
    """Change a staff-defined theme (arguments left as None stay as they are). Goal, action
    and focus population codes follow the strategy: change them there and sync."""
    if code.kind != CodeKind.THEME:
        raise ValidationError(
            _(
                "Code %(key)s comes from the strategy; edit the strategy and sync the codebook "
                "instead."
            )
            % {"key": code.key}
        )
    if label is not None:
        code.label = " ".join(label.split())
        if not code.label:
            raise ValidationError({"label": _("A theme needs a name.")})
    if description is not None:
        code.description = description.strip()
    if examples is not None:
        code.examples = _clean_list(examples)
    if keywords is not None:
        code.keywords = _clean_list(keywords, lower=True)
    if is_active is not None:
        code.is_active = is_active
    _check_codable(code)
    code.full_clean()
    code.save()
    return code


# --------------------------------------------------------------------------------------------
# Coding runs


def library_id(code: Code) -> str:
    """The code's id for the coding library: a goal's short name (as in the shipped codebook
    and its coded examples), else kind and key (keys are unique only within a kind)."""
    return code.key if code.kind == CodeKind.GOAL else f"{code.kind}:{code.key}"


def codebook_for_coding(codes: Sequence[Code]) -> library.Codebook:
    """The library's codebook for these codes; goal codes named like a shipped goal also get
    its related terms (weight 0.4), which the database does not store."""
    by_pk = {code.pk: code for code in codes}
    lib_codes = []
    for code in codes:
        shipped = _shipped_goal(code.key) if code.kind == CodeKind.GOAL else None
        parent = by_pk.get(code.parent_id) if code.parent_id else None
        lib_codes.append(
            library.Code(
                id=library_id(code),
                name=code.label,
                kind=code.kind,  # type: ignore[arg-type]
                description=code.description,
                examples=tuple(str(example) for example in code.examples),
                keywords=tuple(str(keyword) for keyword in code.keywords),
                related=shipped.related if shipped else (),
                parent=library_id(parent) if parent else None,
            )
        )
    return library.Codebook("codebook", tuple(lib_codes))


def _has_words(text: str) -> bool:
    return re.search(r"[^\W_]", text) is not None


@dataclass(frozen=True)
class _Training:
    examples: library.CodedExamples | None
    n_reviewed: int
    n_shipped: int


def _training_examples(
    strategy: Strategy, goal_ids: set[str], minimum: int, texts: dict[int, str]
) -> _Training:
    """The reviewed items' goal codes (latest review of each item), plus the shipped Austin
    examples when this strategy's goals are the shipped codebook's; None below `minimum`."""
    latest: dict[int, int] = {}
    for item_id, coder_id in (
        Review.objects.filter(item__strategy=strategy)
        .order_by("-reviewed_at", "-pk")
        .values_list("item_id", "coder_id")
    ):
        latest.setdefault(item_id, coder_id)
    given: dict[int, set[str]] = {item_id: set() for item_id in latest}
    for item_id, coder_id, key in ItemCode.objects.filter(
        item_id__in=list(latest), origin=CodeOrigin.HUMAN, code__kind=CodeKind.GOAL
    ).values_list("item_id", "coder_id", "code__key"):
        if latest[item_id] == coder_id and key in goal_ids:
            given[item_id].add(key)
    missing = [item_id for item_id in latest if item_id not in texts]
    if missing:
        for item_id, text, redacted in FeedbackItem.objects.filter(pk__in=missing).values_list(
            "pk", "text", "redacted_text"
        ):
            texts[item_id] = redacted or text
    pairs = [
        (texts[item_id], frozenset(codes))
        for item_id, codes in given.items()
        if _has_words(texts.get(item_id, ""))
    ]
    if len(pairs) < minimum:
        return _Training(None, len(pairs), 0)
    shipped_goals = {code.id for code in _shipped_codebook().codes if code.kind == "goal"}
    shipped = library.load_examples() if shipped_goals <= goal_ids else None
    all_texts = [text for text, _codes in pairs]
    all_codes = [codes for _text, codes in pairs]
    if shipped is not None:
        for text, codes in zip(shipped.texts, shipped.codes, strict=True):
            if _has_words(text):
                all_texts.append(text)
                all_codes.append(codes)
    return _Training(
        library.CodedExamples(tuple(all_texts), tuple(all_codes), "reviews and shipped examples"),
        len(pairs),
        len(all_texts) - len(pairs),
    )


def _explanation(item: library.CodedComment, lib_id: str, explained: bool) -> dict[str, Any]:
    if not explained:
        return {}
    return {
        "words": list(item.terms.get(lib_id, ())),
        "nearest": [
            {"text": near.text, "codes": list(near.codes), "similarity": near.similarity}
            for near in item.nearest
        ],
    }


@dataclass(frozen=True)
class CodingRunResult:
    """A finished coding run and what it found: per code key, items given it."""

    run: CodingRun
    counts: dict[str, int] = field(default_factory=dict)


def coding_run_start(
    *,
    strategy: Strategy,
    by: Any = None,
    min_reviewed_for_training: int = MIN_REVIEWED_FOR_TRAINING,
) -> CodingRunResult:
    """Code every published or pending feedback item of the strategy (its redacted text when
    set, else its text; items without words are skipped) and replace the machine's codes.

    The coder is chosen by the rule in the module docstring. The scoring happens before the
    transaction; the old machine codes and item codings are then deleted and the new ones
    bulk-created in one transaction, with the `CodingRun` that records the method, items,
    training examples and seconds. ValidationError when the codebook has no active code.
    """
    started = time.perf_counter()
    codes = list(Code.objects.filter(strategy=strategy, is_active=True).order_by("kind", "order"))
    if not codes:
        raise ValidationError(
            _("The codebook is empty: sync it from the strategy or add a theme first.")
        )
    codebook = codebook_for_coding(codes)
    by_library_id = {library_id(code): code for code in codes}
    goal_ids = {library_id(code) for code in codes if code.kind == CodeKind.GOAL}

    texts: dict[int, str] = {}
    language_unknown: set[int] = set()
    for item_id, text, redacted, language in FeedbackItem.objects.filter(
        strategy=strategy, status__in=CODED_STATUSES
    ).values_list("pk", "text", "redacted_text", "language"):
        texts[item_id] = redacted or text
        if not language:
            language_unknown.add(item_id)
    item_ids = [item_id for item_id, text in texts.items() if _has_words(text)]
    to_code = [texts[item_id] for item_id in item_ids]
    skipped = len(texts) - len(item_ids)
    # The coder reads English: a comment clearly in another language is still coded (from the
    # words it shares with English) and kept, but its confidence is capped at a toss-up so
    # that it comes first in the review queue, and its language is recorded where unknown.
    languages = detect_languages(to_code)
    other_language = {
        item_id
        for item_id, guess in zip(item_ids, languages, strict=True)
        if guess.language not in {"en", "und"}
    }

    training = _training_examples(strategy, goal_ids, min_reviewed_for_training, dict(texts))
    if training.examples is not None:
        coder = library.train_coder(training.examples, codebook=codebook)
    else:
        coder = library.zero_shot_coder(codebook)
    explained: dict[int, library.CodedComment] = {}
    if coder.method == "zero-shot":  # explaining is cheap: explain every item in one pass
        result = library.code_comments(to_code, coder, explain=True)
        explained = dict(enumerate(result.items))
    else:
        result = library.code_comments(to_code, coder, explain=False)
        rows = library.least_confident_first(result, limit=EXPLAIN_LIMIT) if result.n else ()
        detail = library.code_comments([to_code[row] for row in rows], coder, explain=True)
        explained = {row: detail.items[position] for position, row in enumerate(rows)}

    counts: dict[str, int] = {}
    with transaction.atomic():
        # One run writes at a time (PostgreSQL row lock; SQLite serialises writes anyway).
        Strategy.objects.select_for_update().filter(pk=strategy.pk).first()
        run = CodingRun(
            strategy=strategy,
            started_by=by,
            method=coder.method,
            n_items=len(item_ids),
            n_training_examples=coder.n_examples,
        )
        run.full_clean()
        run.save()
        ItemCode.objects.filter(item__strategy=strategy, origin=CodeOrigin.MACHINE).delete()
        ItemCoding.objects.filter(item__strategy=strategy).delete()
        codings: list[ItemCoding] = []
        item_codes: list[ItemCode] = []
        column = {lib_id: index for index, lib_id in enumerate(result.code_ids)}
        for row, item_id in enumerate(item_ids):
            coded = result.items[row]
            confidence = coded.confidence
            if item_id in other_language:
                confidence = min(confidence, OTHER_LANGUAGE_CONFIDENCE)
            codings.append(ItemCoding(item_id=item_id, run=run, confidence=confidence))
            detail_item = explained.get(row, coded)
            for lib_id in coded.codes:
                code = by_library_id[lib_id]
                counts[code.key] = counts.get(code.key, 0) + 1
                item_codes.append(
                    ItemCode(
                        item_id=item_id,
                        code=code,
                        origin=CodeOrigin.MACHINE,
                        run=run,
                        confidence=float(result.scores[row, column[lib_id]]),
                        explanation=_explanation(detail_item, lib_id, row in explained),
                    )
                )
        ItemCoding.objects.bulk_create(codings, batch_size=_BATCH)
        ItemCode.objects.bulk_create(item_codes, batch_size=_BATCH)
        # One UPDATE per language and block of ids (bulk_update's CASE per row is far slower).
        by_language: dict[str, list[int]] = {}
        for item_id, guess in zip(item_ids, languages, strict=True):
            if item_id in language_unknown and guess.language != "und":
                by_language.setdefault(guess.language, []).append(item_id)
        for language, ids in by_language.items():
            for start in range(0, len(ids), _BATCH):
                FeedbackItem.objects.filter(pk__in=ids[start : start + _BATCH], language="").update(
                    language=language
                )
        run.finished_at = timezone.now()
        run.seconds = round(time.perf_counter() - started, 3)
        run.metrics = {
            "description": coder.description,
            "n_skipped_without_words": skipped,
            "n_reviewed_examples": training.n_reviewed,
            "n_shipped_examples": training.n_shipped,
            "min_reviewed_for_training": min_reviewed_for_training,
            "trained_codes": list(coder.trained_codes),
            "cv_f1": {key: round(value, 4) for key, value in coder.cv_f1.items()},
            "n_explained": len(explained),
            "languages": dict(Counter(guess.language for guess in languages)),
            "n_other_language": len(other_language),
            "counts": counts,
        }
        run.save(update_fields=["finished_at", "seconds", "metrics"])
    return CodingRunResult(run=run, counts=counts)


# --------------------------------------------------------------------------------------------
# Reviews


@transaction.atomic
def review_record(*, item: FeedbackItem, coder: Any, code_ids: Iterable[int]) -> Review:
    """Store `coder`'s codes for `item` (none: no code applies), replacing that coder's
    earlier review and codes of the item; other coders' reviews stay as they are.

    The decision is "accepted" when the codes are exactly the machine's suggestion, else
    "corrected". ValidationError for a code that is not an active code of the item's strategy.
    """
    wanted = sorted({int(code_id) for code_id in code_ids})
    found = {
        code.pk: code
        for code in Code.objects.filter(pk__in=wanted, strategy_id=item.strategy_id, is_active=True)
    }
    unknown = [code_id for code_id in wanted if code_id not in found]
    if unknown:
        raise ValidationError(
            _("Unknown or inactive code(s) for this strategy: %(codes)s.")
            % {"codes": ", ".join(str(code_id) for code_id in unknown)}
        )
    suggested = set(
        ItemCode.objects.filter(item=item, origin=CodeOrigin.MACHINE).values_list(
            "code_id", flat=True
        )
    )
    decision = ReviewDecision.ACCEPTED if suggested == set(wanted) else ReviewDecision.CORRECTED
    review = Review.objects.filter(item=item, coder=coder).first() or Review(item=item, coder=coder)
    review.decision = decision
    review.full_clean()
    review.save()
    ItemCode.objects.filter(item=item, coder=coder, origin=CodeOrigin.HUMAN).delete()
    ItemCode.objects.bulk_create(
        [
            ItemCode(item=item, code=found[code_id], origin=CodeOrigin.HUMAN, coder=coder)
            for code_id in wanted
        ]
    )
    return review
