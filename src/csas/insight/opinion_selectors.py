"""Opinion groups of imported Polis conversations, computed from stored votes (staff only).

A conversation is one committed Polis import (:class:`~csas.engagement.models.ImportBatch`
of kind ``polis``): its statements are the batch's feedback items, its participants and
votes the batch's :class:`~csas.engagement.models.PolisParticipant` and
:class:`~csas.engagement.models.Vote` rows. Statements that moderators rejected (Polis's own
moderation arrives as "rejected") are left out of the analysis.

:func:`conversation_opinion_groups` runs :func:`csas.analysis.insight.opinion.opinion_groups`
with a fixed seed and caches the result under a fingerprint of the data it used (vote count,
highest vote id, participants, statements, the rejected statements), so a page view after
the first costs a few queries, and any new vote or moderation decision recomputes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Any, Literal

from django.core.cache import cache
from django.db.models import Count, IntegerField, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext, ngettext

from csas.analysis.insight.opinion import (
    ConsensusComment,
    OpinionGroups,
    RepresentativeComment,
    opinion_groups,
)
from csas.analysis.insight.suppression import protect_partition
from csas.engagement.models import (
    FeedbackItem,
    ImportBatch,
    ImportKind,
    ImportStatus,
    ModerationStatus,
    PolisParticipant,
    Vote,
)
from csas.insight.selectors import suppression_threshold
from csas.strategy.models import Strategy

#: Every k-means run uses this seed, so the groups are the same on every page load.
OPINION_SEED = 0
#: Part of the cache key: change it when the analysis or its parameters change.
OPINION_CACHE_VERSION = 1
OPINION_CACHE_SECONDS = 60 * 60 * 24


def _count_subquery(queryset: QuerySet[Any], field: str) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.values(field).annotate(c=Count("pk")).values("c")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def conversation_list(*, strategy: Strategy) -> QuerySet[ImportBatch]:
    """Committed Polis imports of ``strategy``, newest first, with participant, vote and
    statement counts (one query)."""
    return (
        ImportBatch.objects.filter(
            strategy=strategy, kind=ImportKind.POLIS, status=ImportStatus.COMMITTED
        )
        .annotate(
            n_participants=_count_subquery(
                PolisParticipant.objects.filter(batch=OuterRef("pk")), "batch"
            ),
            n_votes=_count_subquery(
                Vote.objects.filter(participant__batch=OuterRef("pk")), "participant__batch"
            ),
            n_statements=_count_subquery(
                FeedbackItem.objects.filter(import_batch=OuterRef("pk")), "import_batch"
            ),
        )
        .select_related("activity")
        .order_by("-created_at", "-pk")
    )


def conversation_get(*, strategy: Strategy, pk: int) -> ImportBatch | None:
    """One committed Polis import of ``strategy``; None when missing or not a conversation."""
    return (
        ImportBatch.objects.filter(
            strategy=strategy, kind=ImportKind.POLIS, status=ImportStatus.COMMITTED, pk=pk
        )
        .select_related("activity")
        .first()
    )


@dataclass(frozen=True)
class StatementLine:
    """A statement as the page shows it: its text and the figures behind it."""

    item: FeedbackItem | None
    comment: Hashable
    direction: str
    n_agree: int
    n_disagree: int
    n_seen: int
    agree_share: float
    disagree_share: float
    probability: float
    other_probability: float | None = None
    significant: bool = True
    group_probabilities: tuple[float | None, ...] = ()


Hidden = Literal["", "primary", "complementary"]


@dataclass(frozen=True)
class GroupSummary:
    """One opinion group (``number`` is 1-based, for people).

    ``hidden`` is "primary" when the group has fewer members than the threshold and
    "complementary" when its size is hidden so that a small group's size cannot be worked
    out from the total; then ``size``, ``centroid`` and ``representative`` are empty."""

    index: int
    number: int
    size: int | None
    hidden: Hidden
    centroid: tuple[float, float] | None
    representative: tuple[StatementLine, ...]

    @property
    def suppressed(self) -> bool:
        return bool(self.hidden)


@dataclass(frozen=True)
class ConversationAnalysis:
    """What the conversation page shows.

    Fields:
        batch: the import.
        result: the library's opinion groups (None with ``message`` when they cannot be
            computed).
        message: why there are no groups ("" when there are).
        groups, consensus: the page's view of ``result``.
        threshold: groups smaller than this are shown as "fewer than N".
        from_cache: whether ``result`` came from the cache.
        fingerprint: the data fingerprint the cache key uses.
        n_votes, n_participants, n_statements: what is stored for the conversation.
        n_not_grouped: participants who voted but too little to be placed in a group (None
            when hidden to protect a small group).
        not_grouped_hidden: why ``n_not_grouped`` is hidden ("" when shown).
    """

    batch: ImportBatch
    result: OpinionGroups | None
    message: str
    groups: tuple[GroupSummary, ...]
    consensus: tuple[StatementLine, ...]
    threshold: int
    from_cache: bool
    fingerprint: str
    n_votes: int
    n_participants: int
    n_statements: int
    n_not_grouped: int | None
    not_grouped_hidden: Hidden = ""


def _fingerprint(batch: ImportBatch) -> tuple[str, dict[str, int]]:
    counts = Vote.objects.filter(participant__batch=batch).aggregate(
        n_votes=Count("pk"),
        last=Max("pk"),
        n_participants=Count("participant", distinct=True),
        n_statements=Count("item", distinct=True),
    )
    rejected = list(
        FeedbackItem.objects.filter(
            import_batch=batch, status=ModerationStatus.REJECTED
        ).values_list("pk", flat=True)
    )
    digest = hashlib.sha256(",".join(str(pk) for pk in sorted(rejected)).encode()).hexdigest()
    fingerprint = (
        f"v{OPINION_CACHE_VERSION}-{counts['n_votes']}-{counts['last'] or 0}-"
        f"{counts['n_participants']}-{counts['n_statements']}-{digest[:16]}"
    )
    return fingerprint, {
        "n_votes": int(counts["n_votes"]),
        "n_participants": int(counts["n_participants"]),
        "n_statements": int(counts["n_statements"]),
        "rejected": len(rejected),
    }


def cache_key(batch: ImportBatch, fingerprint: str) -> str:
    return f"csas:opinion:{batch.pk}:{fingerprint}"


def _compute(batch: ImportBatch) -> tuple[OpinionGroups | None, str]:
    votes = list(
        Vote.objects.filter(participant__batch=batch)
        .order_by("voted_at", "pk")
        .values_list("participant_id", "item_id", "value")
    )
    rejected = set(
        FeedbackItem.objects.filter(
            import_batch=batch, status=ModerationStatus.REJECTED
        ).values_list("pk", flat=True)
    )
    try:
        result = opinion_groups(
            [participant for participant, _, _ in votes],
            [item for _, item, _ in votes],
            [value for _, _, value in votes],
            moderated_out=rejected,
            seed=OPINION_SEED,
        )
    except ValueError as error:
        return None, str(error)
    return result, ""


def _line(
    item: FeedbackItem | None,
    comment: RepresentativeComment | ConsensusComment,
    shown: tuple[bool, ...] = (),
) -> StatementLine:
    seen = comment.n_seen
    return StatementLine(
        item=item,
        comment=comment.comment,
        direction=comment.direction,
        n_agree=comment.n_agree,
        n_disagree=comment.n_disagree,
        n_seen=seen,
        agree_share=comment.n_agree / seen if seen else 0.0,
        disagree_share=comment.n_disagree / seen if seen else 0.0,
        probability=comment.probability,
        other_probability=(
            comment.other_probability if isinstance(comment, RepresentativeComment) else None
        ),
        significant=comment.significant if isinstance(comment, RepresentativeComment) else True,
        group_probabilities=(
            tuple(
                p if visible else None
                for p, visible in zip(comment.group_probabilities, shown, strict=True)
            )
            if isinstance(comment, ConsensusComment)
            else ()
        ),
    )


def _centroid(result: OpinionGroups, group: int) -> tuple[float, float]:
    points = [result.projections[p] for p in result.members(group) if p in result.projections]
    return (
        sum(x for x, _ in points) / len(points),
        sum(y for _, y in points) / len(points),
    )


def _too_little(counts: dict[str, int]) -> str:
    if counts["n_votes"] == 0:
        return gettext(
            "This conversation has no votes, so there are no opinion groups to show. "
            "Import a Polis export that includes votes.csv."
        )
    if counts["n_participants"] < 3:
        return ngettext(
            "Only %(n)s participant voted in this conversation; opinion groups need votes "
            "from at least 3 participants.",
            "Only %(n)s participants voted in this conversation; opinion groups need votes "
            "from at least 3 participants.",
            counts["n_participants"],
        ) % {"n": counts["n_participants"]}
    if counts["n_statements"] - counts["rejected"] < 2:
        return gettext(
            "Opinion groups need votes on at least 2 statements that moderators kept; this "
            "conversation has %(n)s."
        ) % {"n": max(counts["n_statements"] - counts["rejected"], 0)}
    return ""


def conversation_opinion_groups(batch: ImportBatch) -> ConversationAnalysis:
    """Opinion groups of one conversation, from the cache when the votes are unchanged."""
    threshold = suppression_threshold()
    fingerprint, counts = _fingerprint(batch)
    empty = ConversationAnalysis(
        batch=batch,
        result=None,
        message="",
        groups=(),
        consensus=(),
        threshold=threshold,
        from_cache=False,
        fingerprint=fingerprint,
        n_votes=counts["n_votes"],
        n_participants=counts["n_participants"],
        n_statements=counts["n_statements"],
        n_not_grouped=0,
    )
    message = _too_little(counts)
    if message:
        return replace(empty, message=message)
    key = cache_key(batch, fingerprint)
    cached = cache.get(key)
    from_cache = cached is not None
    if cached is None:
        cached = _compute(batch)
        cache.set(key, cached, OPINION_CACHE_SECONDS)
    result, error = cached
    if result is None:
        return replace(
            empty,
            message=gettext("The votes could not be split into opinion groups: %(reason)s")
            % {"reason": error},
            from_cache=from_cache,
        )
    items = FeedbackItem.objects.filter(import_batch=batch).only(
        "pk", "text", "language", "external_id", "status"
    )
    by_pk: dict[Hashable, FeedbackItem] = {item.pk: item for item in items}
    n_not_grouped = result.n_participants - result.n_in_conv
    cells = {f"group {g + 1}": size for g, size in enumerate(result.sizes)}
    cells["not grouped"] = n_not_grouped
    decision = {
        cell.cell: cell
        for cell in protect_partition(cells, threshold=threshold, name="opinion groups").cells
    }

    def hidden(cell: str) -> Hidden:
        status = decision[cell]
        if status.published:
            return ""
        return "primary" if status.status == "primary" else "complementary"

    groups = []
    for index, size in enumerate(result.sizes):
        why = hidden(f"group {index + 1}")
        groups.append(
            GroupSummary(
                index=index,
                number=index + 1,
                size=None if why else size,
                hidden=why,
                centroid=None if why else _centroid(result, index),
                representative=()
                if why
                else tuple(_line(by_pk.get(c.comment), c) for c in result.representative[index]),
            )
        )
    shown = tuple(not group.hidden for group in groups)
    return ConversationAnalysis(
        batch=batch,
        result=result,
        message="",
        groups=tuple(groups),
        consensus=tuple(_line(by_pk.get(c.comment), c, shown) for c in result.consensus),
        threshold=threshold,
        from_cache=from_cache,
        fingerprint=fingerprint,
        n_votes=counts["n_votes"],
        n_participants=counts["n_participants"],
        n_statements=counts["n_statements"],
        n_not_grouped=None if hidden("not grouped") else n_not_grouped,
        not_grouped_hidden=hidden("not grouped"),
    )
