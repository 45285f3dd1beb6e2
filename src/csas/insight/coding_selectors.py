"""Reads for coding feedback: the codebook, settled codes, the review queue, agreement and
candidate themes.

An item's *settled* codes are those of its latest review (none when the reviewer judged that
no code applies), or the machine's when nobody has reviewed it: :func:`item_codes_settled`.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.http import Http404

from csas.analysis.insight import coding as library
from csas.analysis.insight.themes import CandidateThemes, candidate_themes
from csas.engagement.models import FeedbackItem
from csas.insight.coding_services import CODED_STATUSES
from csas.insight.models import Code, CodeKind, CodeOrigin, CodingRun, ItemCode, Review
from csas.strategy.models import Strategy

#: Items compared below which agreement is not reported ("not enough items").
MIN_AGREEMENT_ITEMS = 10
#: Unreviewed items coded with a confidence under this are offered to theme discovery.
LOW_CONFIDENCE = 0.6
#: At most this many comments are clustered: those with no settled code first, then the least
#: confident (clustering time grows faster than the number of comments).
THEME_ITEMS_LIMIT = 2_000
#: How long candidate themes of the same comments stay cached (they are deterministic).
THEMES_CACHE_SECONDS = 3600

_KIND_ORDER = {CodeKind.GOAL: 0, CodeKind.ACTION: 1, CodeKind.FOCUS: 2, CodeKind.THEME: 3}


def code_sort_key(code: Code) -> tuple[int, int, str]:
    """Goals, then actions, focus populations and themes, each in their order."""
    return (_KIND_ORDER.get(CodeKind(code.kind), 9), code.order, code.key)


def code_list(strategy: Strategy, *, active_only: bool = False) -> list[Code]:
    codes = Code.objects.filter(strategy=strategy).select_related("parent")
    if active_only:
        codes = codes.filter(is_active=True)
    return sorted(codes, key=code_sort_key)


@dataclass(frozen=True)
class CodeGroup:
    """A goal code with the action and focus population codes under it; `code` is None for
    the group of themes and codes without a goal."""

    code: Code | None
    children: tuple[Code, ...]


def code_groups(codes: Sequence[Code]) -> list[CodeGroup]:
    """Codes grouped under their goal (for the review form), themes and orphans last."""
    goals = [code for code in codes if code.kind == CodeKind.GOAL]
    goal_pks = {code.pk for code in goals}
    groups = [
        CodeGroup(code=goal, children=tuple(c for c in codes if c.parent_id == goal.pk))
        for goal in goals
    ]
    rest = tuple(
        code for code in codes if code.kind != CodeKind.GOAL and code.parent_id not in goal_pks
    )
    if rest:
        groups.append(CodeGroup(code=None, children=rest))
    return groups


def coding_run_latest(strategy: Strategy) -> CodingRun | None:
    return (
        CodingRun.objects.filter(strategy=strategy)
        .select_related("started_by")
        .order_by("-started_at", "-pk")
        .first()
    )


def _latest_reviewer() -> Subquery:
    return Subquery(
        Review.objects.filter(item=OuterRef("item"))
        .order_by("-reviewed_at", "-pk")
        .values("coder")[:1]
    )


def code_counts_settled(strategy: Strategy) -> dict[int, int]:
    """Per code pk, the published or pending items whose settled codes include it (two
    aggregate queries)."""
    counts: dict[int, int] = {}
    human = (
        ItemCode.objects.filter(
            code__strategy=strategy, origin=CodeOrigin.HUMAN, item__status__in=CODED_STATUSES
        )
        .filter(coder=_latest_reviewer())
        .values("code")
        .annotate(n=Count("id"))
        .order_by()
    )
    machine = (
        ItemCode.objects.filter(
            code__strategy=strategy, origin=CodeOrigin.MACHINE, item__status__in=CODED_STATUSES
        )
        .filter(~Exists(Review.objects.filter(item=OuterRef("item"))))
        .values("code")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in [*human, *machine]:
        counts[row["code"]] = counts.get(row["code"], 0) + row["n"]
    return counts


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    # SQLite limits the parameters of one statement (999 before 3.32, 32766 since).
    if connection.vendor == "sqlite":
        size = 30_000 if sqlite3.sqlite_version_info >= (3, 32) else 900
    else:
        size = 100_000
    for start in range(0, len(values), size):
        yield values[start : start + size]


def item_codes_settled(items: Iterable[FeedbackItem | int]) -> dict[int, list[Code]]:
    """Per item id, its settled codes in codebook order: the latest review's codes (an empty
    list when that reviewer found none applies), else the machine's (empty when it found
    none). Four queries (three more per further block of 30,000 items on SQLite)."""
    item_ids = sorted({item if isinstance(item, int) else item.pk for item in items})
    settled_ids: dict[int, list[int]] = {item_id: [] for item_id in item_ids}
    for block in _chunks(item_ids):
        latest: dict[int, int] = {}
        for item_id, coder_id in (
            Review.objects.filter(item_id__in=block)
            .order_by("-reviewed_at", "-pk")
            .values_list("item_id", "coder_id")
        ):
            latest.setdefault(item_id, coder_id)
        if latest:
            for item_id, coder_id, code_id in ItemCode.objects.filter(
                item_id__in=list(latest), origin=CodeOrigin.HUMAN
            ).values_list("item_id", "coder_id", "code_id"):
                if latest[item_id] == coder_id:
                    settled_ids[item_id].append(code_id)
        unreviewed = [item_id for item_id in block if item_id not in latest]
        if unreviewed:
            for item_id, code_id in ItemCode.objects.filter(
                item_id__in=unreviewed, origin=CodeOrigin.MACHINE
            ).values_list("item_id", "code_id"):
                settled_ids[item_id].append(code_id)
    used = {code_id for code_ids in settled_ids.values() for code_id in code_ids}
    codes = {code.pk: code for code in Code.objects.filter(pk__in=used)} if used else {}
    return {
        item_id: sorted((codes[code_id] for code_id in code_ids), key=code_sort_key)
        for item_id, code_ids in settled_ids.items()
    }


# --------------------------------------------------------------------------------------------
# Review queue


def review_queue(strategy: Strategy, user: Any) -> QuerySet[FeedbackItem]:
    """Machine-coded items `user` has not reviewed yet, least confident first."""
    return (
        FeedbackItem.objects.filter(
            strategy=strategy, status__in=CODED_STATUSES, coding__isnull=False
        )
        .exclude(reviews__coder=user)
        .select_related("coding")
        .order_by("coding__confidence", "pk")
    )


def item_get_for_coding(strategy: Strategy, pk: int) -> FeedbackItem:
    """A published or pending item of the strategy; 404 otherwise (rejected items are not
    coded)."""
    item = FeedbackItem.objects.filter(pk=pk, strategy=strategy, status__in=CODED_STATUSES).first()
    if item is None:
        raise Http404("No such feedback item.")
    return item


def item_machine_codes(item: FeedbackItem) -> list[ItemCode]:
    """The machine's codes of one item with their scores and explanations, codebook order."""
    codes = ItemCode.objects.filter(item=item, origin=CodeOrigin.MACHINE).select_related("code")
    return sorted(codes, key=lambda item_code: code_sort_key(item_code.code))


# --------------------------------------------------------------------------------------------
# Agreement


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class AgreementRow:
    """One code's agreement: n items compared, how many each side gave it, Cohen's kappa
    (None when undefined) and, for the model against people, precision, recall and F1."""

    code: Code
    n: int
    n_first: int
    n_reference: int
    kappa: float | None
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class ModelAgreement:
    """The model's codes against the people's settled codes on reviewed, machine-coded items
    (goal codes)."""

    n: int
    enough: bool
    rows: tuple[AgreementRow, ...]
    macro_f1: float | None
    mean_kappa: float | None


@dataclass(frozen=True)
class PairAgreement:
    """Two people's codes on the items both reviewed (kappa per code)."""

    first: str
    second: str
    n: int
    enough: bool
    rows: tuple[AgreementRow, ...]


@dataclass(frozen=True)
class AgreementSummary:
    model: ModelAgreement
    pairs: tuple[PairAgreement, ...]
    minimum: int


def _rows(
    first: Sequence[set[int]], reference: Sequence[set[int]], codes: Sequence[Code]
) -> tuple[tuple[AgreementRow, ...], library.AgreementReport]:
    report = library.agreement(
        [{str(pk) for pk in item} for item in first],
        [{str(pk) for pk in item} for item in reference],
        [str(code.pk) for code in codes],
    )
    entries = report.by_code()
    rows = tuple(
        AgreementRow(
            code=code,
            n=entries[str(code.pk)].n,
            n_first=entries[str(code.pk)].n_first,
            n_reference=entries[str(code.pk)].n_reference,
            kappa=_number(entries[str(code.pk)].kappa),
            precision=entries[str(code.pk)].precision,
            recall=entries[str(code.pk)].recall,
            f1=entries[str(code.pk)].f1,
        )
        for code in codes
    )
    return rows, report


def coding_agreement(strategy: Strategy) -> AgreementSummary:
    """Agreement between the model and people, and between every pair of people.

    Model against people: on each reviewed item the machine coded, the machine's goal codes
    against the item's settled (latest review) codes. People against people: on the items both
    reviewed, kappa for every goal code and every other code either of them gave. Under
    :data:`MIN_AGREEMENT_ITEMS` items a comparison is marked as not enough.
    """
    codes = {code.pk: code for code in code_list(strategy)}
    goals = [code for code in sorted(codes.values(), key=code_sort_key) if code.kind == "goal"]
    reviews = list(
        Review.objects.filter(item__strategy=strategy, item__status__in=CODED_STATUSES)
        .order_by("-reviewed_at", "-pk")
        .values_list("item_id", "coder_id", "coder__username")
    )
    human: dict[tuple[int, int], set[int]] = {(item, coder): set() for item, coder, _ in reviews}
    for item_id, coder_id, code_id in ItemCode.objects.filter(
        item__strategy=strategy, origin=CodeOrigin.HUMAN
    ).values_list("item_id", "coder_id", "code_id"):
        if (item_id, coder_id) in human:
            human[(item_id, coder_id)].add(code_id)
    latest: dict[int, int] = {}
    names: dict[int, str] = {}
    for item_id, coder_id, username in reviews:
        latest.setdefault(item_id, coder_id)
        names[coder_id] = username
    machine: dict[int, set[int]] = {}
    for item_id, code_id in (
        ItemCode.objects.filter(item__strategy=strategy, origin=CodeOrigin.MACHINE)
        .filter(Exists(Review.objects.filter(item=OuterRef("item"))))
        .values_list("item_id", "code_id")
    ):
        machine.setdefault(item_id, set()).add(code_id)
    coded = set(
        FeedbackItem.objects.filter(
            strategy=strategy, coding__isnull=False, reviews__isnull=False
        ).values_list("pk", flat=True)
    )
    compared = sorted(item_id for item_id in latest if item_id in coded)
    goal_pks = {code.pk for code in goals}
    model = ModelAgreement(n=len(compared), enough=False, rows=(), macro_f1=None, mean_kappa=None)
    if compared and goals and len(compared) >= MIN_AGREEMENT_ITEMS:
        rows, report = _rows(
            [machine.get(item_id, set()) & goal_pks for item_id in compared],
            [human[(item_id, latest[item_id])] & goal_pks for item_id in compared],
            goals,
        )
        model = ModelAgreement(
            n=len(compared),
            enough=True,
            rows=rows,
            macro_f1=report.macro_f1,
            mean_kappa=_number(report.mean_kappa),
        )

    by_coder: dict[int, dict[int, set[int]]] = {}
    for (item_id, coder_id), given in human.items():
        by_coder.setdefault(coder_id, {})[item_id] = given
    pairs: list[PairAgreement] = []
    ordered = sorted(by_coder, key=lambda coder_id: names[coder_id])
    for first, second in combinations(ordered, 2):
        shared = sorted(set(by_coder[first]) & set(by_coder[second]))
        if not shared:
            continue
        a = [by_coder[first][item_id] for item_id in shared]
        b = [by_coder[second][item_id] for item_id in shared]
        used = goal_pks.union(*a, *b)
        pair_codes = [code for code in sorted(codes.values(), key=code_sort_key) if code.pk in used]
        enough = len(shared) >= MIN_AGREEMENT_ITEMS and bool(pair_codes)
        pairs.append(
            PairAgreement(
                first=names[first],
                second=names[second],
                n=len(shared),
                enough=enough,
                rows=_rows(a, b, pair_codes)[0] if enough else (),
            )
        )
    return AgreementSummary(model=model, pairs=tuple(pairs), minimum=MIN_AGREEMENT_ITEMS)


# --------------------------------------------------------------------------------------------
# Candidate themes


@dataclass(frozen=True)
class ThemeCandidates:
    """Candidate themes over the items without a settled code or coded with low confidence.

    Fields: result (None when there are too few comments; `problem` says why), n_items (items
    given to the clustering), n_wanted (items that qualified; more than n_items when over
    :data:`THEME_ITEMS_LIMIT`), n_without_redaction (left out: no redacted text yet, and only
    redacted text is quoted).
    """

    result: CandidateThemes | None
    problem: str
    n_items: int
    n_wanted: int
    n_without_redaction: int


def theme_candidates(strategy: Strategy) -> ThemeCandidates:
    """Group the comments the codebook does not cover well, for staff to name new themes.

    Items considered: published or pending items with no settled code, or never reviewed and
    coded with a confidence under :data:`LOW_CONFIDENCE` (or not coded at all), at most
    :data:`THEME_ITEMS_LIMIT` of them, uncovered ones first, then the least confident. Only their
    redacted text is read, so every quote shown has been through redaction. Results are cached
    under a hash of the texts clustered.
    """
    reviewed: dict[int, int] = {}
    for item_id, coder_id in (
        Review.objects.filter(item__strategy=strategy)
        .order_by("-reviewed_at", "-pk")
        .values_list("item_id", "coder_id")
    ):
        reviewed.setdefault(item_id, coder_id)
    human_coded = {
        item_id
        for item_id, coder_id in ItemCode.objects.filter(
            item__strategy=strategy, origin=CodeOrigin.HUMAN
        )
        .values_list("item_id", "coder_id")
        .distinct()
        if reviewed.get(item_id) == coder_id
    }
    machine_coded = set(
        ItemCode.objects.filter(item__strategy=strategy, origin=CodeOrigin.MACHINE)
        .values_list("item_id", flat=True)
        .distinct()
    )
    chosen: list[tuple[float, int, str]] = []  # (priority, item id, redacted text)
    without_redaction = 0
    for item_id, redacted, confidence in (
        FeedbackItem.objects.filter(strategy=strategy, status__in=CODED_STATUSES)
        .order_by("pk")
        .values_list("pk", "redacted_text", "coding__confidence")
    ):
        if item_id in reviewed:
            uncovered = item_id not in human_coded
            wanted = uncovered
        else:
            uncovered = item_id not in machine_coded or confidence is None
            wanted = uncovered or confidence < LOW_CONFIDENCE
        if not wanted:
            continue
        if not redacted.strip():
            without_redaction += 1
            continue
        chosen.append((0.0 if uncovered else float(confidence), item_id, redacted))
    n_wanted = len(chosen)
    chosen.sort()
    chosen = chosen[:THEME_ITEMS_LIMIT]
    ids = [item_id for _, item_id, _ in chosen]
    texts = [text for _, _, text in chosen]
    digest = hashlib.sha256()
    for item_id, text in zip(ids, texts, strict=True):
        digest.update(f"{item_id}\x1f{text}\x1e".encode())
    key = f"csas:coding-themes:{strategy.pk}:{digest.hexdigest()}"
    cached = cache.get(key)
    if cached is not None:
        return ThemeCandidates(cached[0], cached[1], len(ids), n_wanted, without_redaction)
    result: CandidateThemes | None = None
    problem = ""
    try:
        result = candidate_themes(
            texts, ids=ids, max_k=8, n_quotes=3, n_keywords=8, seed=0, n_init=3
        )
    except ValueError as error:
        problem = str(error)
    cache.set(key, (result, problem), THEMES_CACHE_SECONDS)
    return ThemeCandidates(result, problem, len(ids), n_wanted, without_redaction)
