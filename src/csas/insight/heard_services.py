"""Writes for the "What we heard" report: drafts, quotes, publishing.

A report is edited as a draft (title, introduction, their translations, chosen quotes) while
staff preview its figures live. Publishing computes the figures once and stores them with the
wording as the report's snapshot, which is all the public page reads: later coding, new
comments or edits change nothing public until the report is published again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from csas.engagement.models import FeedbackItem, ModerationStatus
from csas.insight.heard_selectors import heard_item_has_code, heard_report_figures
from csas.insight.models import Code, HeardQuote, HeardReport, HeardReportStatus
from csas.strategy.models import Strategy

TRANSLATABLE = ("title", "introduction")
MAX_EXCERPT = 1000


def _clean_translations(translations: Any) -> dict[str, dict[str, str]]:
    """{language: {"title": ..., "introduction": ...}} with only the site's languages (not
    English, the report's own) and non-empty texts."""
    if not isinstance(translations, dict):
        raise ValidationError({"translations": _("Translations must be given per language.")})
    languages = {code for code, _name in settings.LANGUAGES} - {"en"}
    cleaned: dict[str, dict[str, str]] = {}
    for language, texts in translations.items():
        if language not in languages:
            raise ValidationError(
                {
                    "translations": _("“%(language)s” is not one of the site's languages.")
                    % {"language": language}
                }
            )
        if not isinstance(texts, dict) or set(texts) - set(TRANSLATABLE):
            raise ValidationError(
                {"translations": _("Only the title and introduction can be translated.")}
            )
        kept = {
            field: str(text).strip()
            for field, text in texts.items()
            if isinstance(text, str) and text.strip()
        }
        if kept:
            cleaned[language] = kept
    return cleaned


def _unique_slug(strategy: Strategy, title: str, exclude: int | None = None) -> str:
    base = slugify(title)[:70] or "what-we-heard"
    slug, number = base, 2
    taken = HeardReport.objects.filter(strategy=strategy)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    while taken.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


@transaction.atomic
def heard_report_create(
    *,
    strategy: Strategy,
    title: str,
    slug: str = "",
    introduction: str = "",
    translations: dict[str, dict[str, str]] | None = None,
) -> HeardReport:
    """A new draft report; the slug is made from the title when none is given."""
    report = HeardReport(
        strategy=strategy,
        title=title.strip(),
        slug=slug.strip() or _unique_slug(strategy, title),
        introduction=introduction.strip(),
        translations=_clean_translations(translations or {}),
        status=HeardReportStatus.DRAFT,
    )
    report.full_clean()
    report.save()
    return report


@transaction.atomic
def heard_report_update(
    *,
    report: HeardReport,
    title: str | None = None,
    slug: str | None = None,
    introduction: str | None = None,
    translations: dict[str, dict[str, str]] | None = None,
) -> HeardReport:
    """Change the wording. A published report's public page keeps its snapshot until the
    report is published again (its slug cannot change while it is public). Only the wording
    is written, so a stale copy of the report cannot undo a publication."""
    report = HeardReport.objects.select_for_update().get(pk=report.pk)
    if title is not None:
        report.title = title.strip()
    if slug is not None and slug.strip() != report.slug:
        if report.status == HeardReportStatus.PUBLISHED:
            raise ValidationError({"slug": _("Unpublish the report before changing its address.")})
        report.slug = slug.strip()
    if introduction is not None:
        report.introduction = introduction.strip()
    if translations is not None:
        report.translations = _clean_translations(translations)
    report.full_clean()
    report.save(update_fields=["title", "slug", "introduction", "translations", "updated_at"])
    return report


def quoted_text(item: FeedbackItem) -> str:
    """The text a quote may come from: the moderated, redacted wording (the original only
    when nothing needed redacting and no redacted copy was stored)."""
    return item.redacted_text or item.text


def _check_quote(report: HeardReport, item: FeedbackItem, code: Code, excerpt: str) -> None:
    if item.strategy_id != report.strategy_id or code.strategy_id != report.strategy_id:
        raise ValidationError(_("The comment and the code must belong to the report's strategy."))
    if item.status != ModerationStatus.PUBLISHED:
        raise ValidationError(
            {
                "item": _(
                    "This comment has not been approved by a moderator; only approved "
                    "comments can be quoted."
                )
            }
        )
    if not excerpt:
        raise ValidationError({"excerpt": _("Give the words to quote.")})
    if len(excerpt) > MAX_EXCERPT:
        raise ValidationError(
            {
                "excerpt": _("A quote can be at most %(limit)s characters (this one has %(n)s).")
                % {"limit": MAX_EXCERPT, "n": len(excerpt)}
            }
        )
    if excerpt not in quoted_text(item):
        raise ValidationError(
            {
                "excerpt": _(
                    "The quote must be copied exactly from the comment as approved (after "
                    "redaction); these words are not in it: “%(excerpt)s”."
                )
                % {"excerpt": excerpt[:200]}
            }
        )
    if not heard_item_has_code(item, code):
        raise ValidationError(
            {
                "code": _(
                    "This comment is not coded “%(code)s”; quote it under a code it has, or "
                    "code it first."
                )
                % {"code": code.label}
            }
        )


@transaction.atomic
def heard_quote_add(
    *, report: HeardReport, item: FeedbackItem, code: Code, excerpt: str
) -> HeardQuote:
    """Choose a quote for the report, under one of the item's codes. The excerpt must be an
    exact part of the approved, redacted comment; errors say which rule it breaks."""
    excerpt = excerpt.strip()
    _check_quote(report, item, code, excerpt)
    if HeardQuote.objects.filter(report=report, item=item, code=code).exists():
        raise ValidationError(_("This comment is already quoted under this code."))
    last = HeardQuote.objects.filter(report=report, code=code).aggregate(last=Max("order"))
    quote = HeardQuote(
        report=report,
        item=item,
        code=code,
        excerpt=excerpt,
        order=(last["last"] or 0) + 1,
    )
    quote.full_clean()
    quote.save()
    return quote


@transaction.atomic
def heard_quote_remove(*, quote: HeardQuote) -> None:
    quote.delete()


@transaction.atomic
def heard_report_publish(*, report: HeardReport, by: Any) -> HeardReport:
    """Compute the figures now and publish them with the wording as the report's snapshot.

    Refused, naming each quote, when a chosen quote no longer qualifies (its comment was
    rejected or re-worded by a moderator, or re-coded since)."""
    report = HeardReport.objects.select_for_update().get(pk=report.pk)
    problems = []
    for quote in HeardQuote.objects.filter(report=report).select_related("item", "code"):
        try:
            _check_quote(report, quote.item, quote.code, quote.excerpt)
        except ValidationError as error:
            problems.append(
                _("Quote “%(excerpt)s”: %(problem)s")
                % {"excerpt": quote.excerpt[:60], "problem": " ".join(error.messages)}
            )
    if problems:
        raise ValidationError(problems)
    report.snapshot = {
        "title": report.title,
        "introduction": report.introduction,
        "translations": report.translations,
        "figures": heard_report_figures(report.strategy, report=report),
    }
    report.status = HeardReportStatus.PUBLISHED
    report.published_at = timezone.now()
    report.published_by = by if getattr(by, "is_authenticated", False) else None
    report.full_clean()
    report.save()
    return report


@transaction.atomic
def heard_report_unpublish(*, report: HeardReport) -> HeardReport:
    """Take the report off the public site; its snapshot is discarded."""
    report = HeardReport.objects.select_for_update().get(pk=report.pk)
    report.status = HeardReportStatus.DRAFT
    report.snapshot = {}
    report.published_at = None
    report.published_by = None
    report.full_clean()
    report.save()
    return report
