"""Imports into engagement data: preview (dry run) then an all-or-nothing commit.

The uploaded file is stored unchanged on its `ImportBatch` (with its SHA-256); every preview
and the commit re-read that stored copy, so what staff checked is exactly what is imported.
A commit is refused while any row has an error: staff fix the file (or the column mapping) and
check again. Duplicates are skipped and counted, so every input row is accounted for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from csas.engagement import importing
from csas.engagement.models import (
    Activity,
    Answer,
    FeedbackItem,
    FeedbackSource,
    ImportBatch,
    ImportKind,
    ImportStatus,
    MapCategory,
    MapComment,
    ModerationStatus,
    PolisParticipant,
    Question,
    QuestionKind,
    Response,
    ResponseStatus,
    Survey,
    Vote,
)
from csas.engagement.services import _moderate, _moderate_place, question_spec
from csas.strategy.models import Geography, GeographyKind, Strategy

MAX_ERRORS_KEPT = 500


class ImportRefused(Exception):
    """The import cannot be committed; `message` says why (shown to staff)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Preview:
    """What staff see before committing."""

    batch: ImportBatch
    columns: tuple[str, ...]
    fields: tuple[str, ...]
    mapping: Mapping[str, Any]
    counts: Mapping[str, int]
    errors: tuple[importing.RowError, ...]
    duplicates: tuple[importing.Duplicate, ...]
    warnings: tuple[importing.RowError, ...]
    sample: tuple[Mapping[str, Any], ...]
    encoding: str | None
    plan: Any

    @property
    def can_commit(self) -> bool:
        return not self.errors and self.counts.get("ok", 0) > 0


def _max_bytes() -> int:
    return int(settings.IMPORT_MAX_MB) * 1024 * 1024


def _neighbourhoods(strategy: Strategy) -> dict[str, Geography]:
    return {
        g.name.casefold(): g
        for g in Geography.objects.filter(
            city_id=strategy.city_id, kind=GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT
        )
    }


def _city_test(strategy: Strategy) -> Callable[[float, float], bool] | None:
    """Whether a point (lon, lat) lies in one of the city's council or neighbourhood council
    districts, as the public map checks a pin; None for a city without district outlines."""
    from shapely import prepare
    from shapely.geometry import Point, shape

    outlines = [
        shape(geometry)
        for geometry in Geography.objects.filter(
            city_id=strategy.city_id,
            kind__in=[GeographyKind.COUNCIL_DISTRICT, GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT],
        ).values_list("geometry", flat=True)
        if geometry
    ]
    if not outlines:
        return None
    for outline in outlines:
        prepare(outline)

    def inside(lon: float, lat: float) -> bool:
        point = Point(lon, lat)
        return any(outline.covers(point) for outline in outlines)

    return inside


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


@transaction.atomic
def import_upload(
    *,
    strategy: Strategy,
    kind: str,
    filename: str,
    data: bytes,
    user: Any,
    survey: Survey | None = None,
    activity: Activity | None = None,
) -> ImportBatch:
    """Keep the uploaded file unchanged and start a batch in "previewed" state."""
    if kind not in ImportKind.values:
        raise ImportRefused(f"Unknown import kind {kind!r}.")
    if kind == ImportKind.SURVEY_WIDE and survey is None:
        raise ImportRefused("Choose the survey these responses belong to.")
    if len(data) > _max_bytes():
        raise ImportRefused(
            f"{filename}: the file is {len(data) / 1e6:.1f} MB; the limit is "
            f"{settings.IMPORT_MAX_MB} MB. Split it and import the parts."
        )
    batch = ImportBatch(
        strategy=strategy,
        kind=kind,
        original_name=filename[:300],
        sha256=hashlib.sha256(data).hexdigest(),
        status=ImportStatus.PREVIEWED,
        activity=activity,
        created_by=user,
        mapping={"survey": survey.pk} if survey is not None else {},
    )
    batch.stored_file.save(f"{batch.sha256[:16]}-{filename[-80:]}", ContentFile(data), save=False)
    batch.full_clean()
    batch.save()
    return batch


def _stored_bytes(batch: ImportBatch) -> bytes:
    with batch.stored_file.open("rb") as handle:
        data: bytes = handle.read()
    if hashlib.sha256(data).hexdigest() != batch.sha256:
        raise ImportRefused("The stored file changed since it was uploaded; upload it again.")
    return data


def _survey_of(batch: ImportBatch) -> Survey:
    survey = Survey.objects.filter(pk=batch.mapping.get("survey"), strategy=batch.strategy).first()
    if survey is None:
        raise ImportRefused("The survey of this import no longer exists.")
    return survey


def _known_ids(batch: ImportBatch) -> set[str]:
    earlier = ImportBatch.objects.filter(
        strategy=batch.strategy, kind=batch.kind, status=ImportStatus.COMMITTED
    )
    ids = set(
        FeedbackItem.objects.filter(import_batch__in=earlier)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    ids |= set(
        Response.objects.filter(import_batch__in=earlier)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    return ids


def _counts(counts: importing.RowCounts | Sequence[importing.RowCounts]) -> dict[str, int]:
    items = [counts] if isinstance(counts, importing.RowCounts) else list(counts)
    total: dict[str, int] = {}
    for item in items:
        for name in ("rows", "ok", "rejected", "duplicate", "superseded", "blank_skipped"):
            total[name] = total.get(name, 0) + int(getattr(item, name))
    return total


def import_preview(*, batch: ImportBatch, mapping: Mapping[str, Any] | None = None) -> Preview:
    """Dry run: read the stored file, apply the mapping (or the suggested one), check rows."""
    data = _stored_bytes(batch)
    strategy = batch.strategy
    if batch.kind == ImportKind.POLIS:
        export = importing.read_polis_export(data, max_bytes=_max_bytes())
        sample = tuple(
            {"comment": c.comment_id, "text": c.body[:120], "moderated out": c.moderated_out}
            for c in export.comments[:10]
        )
        return Preview(
            batch,
            (),
            (),
            {},
            _counts(export.counts),
            export.errors,
            export.duplicates,
            export.warnings,
            sample,
            None,
            export,
        )
    table = importing.read_table(data, filename=batch.original_name, max_bytes=_max_bytes())
    if batch.kind == ImportKind.SURVEY_WIDE:
        survey = _survey_of(batch)
        questions = list(survey.questions.prefetch_related("options").order_by("order"))
        targets = {q.key: [q.text] for q in questions}
        chosen = (
            dict(mapping) if mapping else dict(importing.suggest_mapping(table, targets).fields)
        )
        chosen = {key: column for key, column in chosen.items() if column}
        meta = {
            name: chosen.pop(f"meta:{name}")
            for name in importing.SURVEY_META_FIELDS
            if chosen.get(f"meta:{name}")
        }
        plan: importing.SurveyImportPlan | importing.FeedbackImportPlan
        plan = importing.plan_wide_survey_import(
            table,
            chosen,
            [question_spec(q) for q in questions],
            option_labels={q.key: {o.value: o.label for o in q.options.all()} for q in questions},
            meta=meta,
            languages=_languages(),
            timezone=settings.TIME_ZONE,
            known_external_ids=_known_ids(batch),
        )
        fields = tuple(q.key for q in questions) + tuple(
            f"meta:{name}" for name in importing.SURVEY_META_FIELDS
        )
        shown = {**chosen, **{f"meta:{k}": v for k, v in meta.items()}}
        sample = tuple(
            {"row": r.row, **dict(list(r.answers.items())[:4])} for r in plan.responses[:10]
        )
    else:
        chosen = dict(mapping) if mapping else dict(importing.suggest_mapping(table).fields)
        chosen = {key: column for key, column in chosen.items() if column}
        feedback_plan = importing.plan_feedback_import(
            table,
            chosen,
            categories=dict(MapCategory.choices),
            default_category=MapCategory.OTHER if batch.kind == ImportKind.MAP_COMMENTS else "",
            languages=_languages(),
            default_language="en",
            neighbourhoods=[g.name for g in _neighbourhoods(strategy).values()],
            timezone=settings.TIME_ZONE,
            known_external_ids=_known_ids(batch),
            inside=_city_test(strategy),
            place_name=f"{strategy.city.name}'s districts",
        )
        fields = importing.FEEDBACK_FIELDS
        shown = chosen
        sample = tuple(
            {
                "row": r.row,
                "text": r.text[:120],
                "category": r.category,
                "neighbourhood": r.neighbourhood,
            }
            for r in feedback_plan.rows_ok[:10]
        )
        plan = feedback_plan
    errors = tuple(table.errors) + tuple(e for e in plan.errors if e not in table.errors)
    return Preview(
        batch,
        table.columns,
        tuple(fields),
        shown,
        _counts(plan.counts),
        errors,
        plan.duplicates,
        (),
        sample,
        table.encoding,
        plan,
    )


def _report(preview: Preview) -> dict[str, Any]:
    return {
        "counts": dict(preview.counts),
        "encoding": preview.encoding,
        "errors": [asdict(e) for e in preview.errors[:MAX_ERRORS_KEPT]],
        "errors_total": len(preview.errors),
        "duplicates": [asdict(d) for d in preview.duplicates[:MAX_ERRORS_KEPT]],
        "warnings": [asdict(w) for w in preview.warnings[:MAX_ERRORS_KEPT]],
    }


def import_check(*, batch: ImportBatch, mapping: Mapping[str, Any] | None = None) -> Preview:
    """A dry run whose mapping and report are saved on the batch (nothing else is written)."""
    preview = import_preview(batch=batch, mapping=mapping)
    keep = {"survey": batch.mapping["survey"]} if "survey" in batch.mapping else {}
    batch.mapping = {**keep, **dict(preview.mapping)}
    batch.report = _report(preview)
    batch.rows_total = preview.counts.get("rows", 0)
    batch.rows_rejected = preview.counts.get("rejected", 0)
    batch.save(update_fields=["mapping", "report", "rows_total", "rows_rejected"])
    return preview


def _column_mapping(batch: ImportBatch) -> dict[str, Any]:
    return {key: value for key, value in batch.mapping.items() if key != "survey"}


@transaction.atomic
def import_commit(*, batch: ImportBatch, user: Any) -> ImportBatch:
    """Write every checked row in one transaction, or nothing."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportStatus.PREVIEWED:
        raise ImportRefused("This file has already been imported (or failed); upload it again.")
    preview = import_preview(batch=batch, mapping=_column_mapping(batch) or None)
    if preview.errors:
        raise ImportRefused(
            f"{len(preview.errors)} row(s) have problems; fix them and check again. "
            "Nothing was imported."
        )
    if not preview.can_commit:
        raise ImportRefused("No row to import.")
    if batch.kind == ImportKind.POLIS:
        imported = _commit_polis(batch, preview.plan)
    elif batch.kind == ImportKind.SURVEY_WIDE:
        imported = _commit_survey(batch, preview.plan)
    else:
        imported = _commit_feedback(batch, preview.plan)
    batch.status = ImportStatus.COMMITTED
    batch.report = {
        **_report(preview),
        "committed_at": timezone.now().isoformat(),
        "committed_by": getattr(user, "username", ""),
    }
    batch.rows_total = preview.counts.get("rows", 0)
    batch.rows_imported = imported
    batch.rows_rejected = preview.counts.get("rejected", 0)
    batch.save()
    return batch


def _placed_in(
    areas: list[tuple[Geography, Any]], lon: float | None, lat: float | None
) -> Geography | None:
    """The area (of `areas`: geography and its prepared shape) that covers the point."""
    if lon is None or lat is None:
        return None
    from shapely.geometry import Point

    point = Point(lon, lat)
    return next((area for area, outline in areas if outline.covers(point)), None)


def _commit_feedback(batch: ImportBatch, plan: importing.FeedbackImportPlan) -> int:
    from shapely import prepare
    from shapely.geometry import shape

    neighbourhoods = _neighbourhoods(batch.strategy)
    outlines = [(g, shape(g.geometry)) for g in neighbourhoods.values() if g.geometry]
    for _area, outline in outlines:
        prepare(outline)
    for row in plan.rows_ok:
        redacted, reasons = _moderate(row.text)
        geography = neighbourhoods.get(row.neighbourhood.casefold()) if row.neighbourhood else None
        if geography is None and batch.kind == ImportKind.MAP_COMMENTS:
            # No neighbourhood named: the pin places it, as on the public map.
            geography = _placed_in(outlines, row.lon, row.lat)
        comment = None
        if batch.kind == ImportKind.MAP_COMMENTS:
            redacted_address, place_reasons = _moderate_place(row.address)
            reasons = reasons + place_reasons
            comment = MapComment.objects.create(
                strategy=batch.strategy,
                category=row.category or MapCategory.OTHER,
                text=row.text,
                redacted_text=redacted,
                review_reasons=reasons,
                lon=row.lon,
                lat=row.lat,
                address=row.address,
                redacted_address=redacted_address,
                language=row.language or "en",
                neighbourhood=geography,
            )
        FeedbackItem.objects.create(
            strategy=batch.strategy,
            source=FeedbackSource.IMPORT,
            text=row.text,
            redacted_text=redacted,
            review_reasons=reasons,
            language=row.language,
            geography=geography,
            activity=batch.activity,
            map_comment=comment,
            import_batch=batch,
            external_id=row.external_id,
        )
    return len(plan.rows_ok)


def _commit_survey(batch: ImportBatch, plan: importing.SurveyImportPlan) -> int:
    survey = _survey_of(batch)
    questions = {
        q.key: q for q in Question.objects.filter(survey=survey).prefetch_related("options")
    }
    for row in plan.responses:
        response = Response.objects.create(
            survey=survey,
            status=ResponseStatus.SUBMITTED,
            language=row.language or "en",
            channel="import",
            submitted_at=row.submitted_at or timezone.now(),
            import_batch=batch,
            external_id=row.external_id,
        )
        demographics: dict[str, Any] = {}
        for key, value in row.answers.items():
            question = questions[key]
            answer = Answer.objects.create(response=response, question=question, value=dict(value))
            if question.demographic:
                demographics[question.demographic] = value.get("choices", value.get("choice"))
            if question.kind in {QuestionKind.NEIGHBOURHOOD, QuestionKind.COUNCIL_DISTRICT}:
                option = next(
                    (o for o in question.options.all() if o.value == value.get("choice")), None
                )
                geography = option.geography if option is not None else None
                if question.kind == QuestionKind.NEIGHBOURHOOD:
                    response.neighbourhood = geography
                else:
                    response.council_district = geography
            if question.kind == QuestionKind.OPEN_TEXT and value.get("text"):
                redacted, reasons = _moderate(value["text"])
                FeedbackItem.objects.create(
                    strategy=batch.strategy,
                    source=FeedbackSource.IMPORT,
                    text=value["text"],
                    redacted_text=redacted,
                    review_reasons=reasons,
                    language=response.language,
                    answer=answer,
                    import_batch=batch,
                    activity=batch.activity,
                    speaker_demographics=demographics,
                )
        response.demographics = demographics
        response.save(update_fields=["demographics", "neighbourhood", "council_district"])
    return len(plan.responses)


def _commit_polis(batch: ImportBatch, export: importing.PolisExport) -> int:
    items: dict[int, FeedbackItem] = {}
    for comment in export.comments:
        redacted, reasons = _moderate(comment.body)
        items[comment.comment_id] = FeedbackItem.objects.create(
            strategy=batch.strategy,
            source=FeedbackSource.POLIS,
            text=comment.body,
            redacted_text=redacted,
            review_reasons=reasons,
            import_batch=batch,
            activity=batch.activity,
            external_id=str(comment.comment_id),
            # Polis moderators removed these: they are never published here either.
            status=ModerationStatus.REJECTED if comment.moderated_out else ModerationStatus.PENDING,
        )
    participants = {
        p.participant_id: PolisParticipant.objects.create(
            batch=batch,
            external_id=str(p.participant_id),
            polis_group="" if p.group_id is None else str(p.group_id),
        )
        for p in export.participants
    }
    Vote.objects.bulk_create(
        [
            Vote(
                participant=participants[vote.voter_id],
                item=items[vote.comment_id],
                value=vote.vote,
                voted_at=vote.voted_at,
            )
            for vote in export.votes
        ]
    )
    return len(export.comments)
