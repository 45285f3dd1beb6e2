"""API keys for staff integrations that write observations, and the writes they make.

A key looks like ``csas_<prefix>_<secret>``. The prefix (8 hex characters) is stored in the
clear so a key can be found and named in the admin; of the secret only a hash is stored, and
the whole key is shown once, when it is made. A key writes observations only for the
indicators in its scope, only while it may write observations, and never after it is revoked.

Indicators fed by csas itself (from a survey or safety data) are computed here and refuse
writes: an integration would silently overwrite numbers csas recomputes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from csas.progress.models import ApiKey, Indicator, IndicatorFeed, Observation
from csas.strategy.rules import is_strategy_office
from csas.strategy.selectors import strategy_get_default

logger = logging.getLogger(__name__)

KEY_PREFIX = "csas"
# A key longer than this is not one of ours; refuse it before hashing anything.
KEY_MAX_LENGTH = 120
HASH_SCHEME = "sha256"
MAX_ROWS_PER_WRITE = 1000


class ApiKeyForbidden(Exception):
    """The key is valid but may not do this (403)."""


class IndicatorNotWritable(Exception):
    """The indicator is computed by csas and refuses writes (409)."""


class ObservationWriteConflict(Exception):
    """Another request wrote the same observations at the same moment (409); retry."""


class ObservationRowsInvalid(Exception):
    """At least one row is invalid; nothing was written (422).

    `errors` holds one entry per problem: the row's index in the request (0-based), the
    field, and a message saying what was found and what was expected.
    """

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} invalid observation field(s); nothing was written.")


@dataclass(frozen=True)
class RowError:
    index: int
    field: str
    message: str


@dataclass(frozen=True)
class ObservationRow:
    """One observation as an integration sends it."""

    period_start: dt.date
    period_end: dt.date
    value: float | None = None
    n: int | None = None
    margin_of_error: float | None = None
    wave: str = ""
    dimension: str = ""
    group: str = ""
    suppressed: bool = False
    note: str = ""

    @property
    def natural_key(self) -> tuple[dt.date, dt.date, str, str]:
        return (self.period_start, self.period_end, self.dimension, self.group)


@dataclass(frozen=True)
class ObservationWriteResult:
    indicator: str
    created: int
    updated: int


def _hash(raw: str) -> str:
    # A plain SHA-256 is enough here: the secret is 256 random bits, so there is no dictionary
    # to try and nothing a slow password hash (Argon2) would protect. It also keeps every
    # authenticated request cheap and survives a rotation of SECRET_KEY (an HMAC keyed with it
    # would not). The scheme is stored with the digest so it can change later.
    return f"{HASH_SCHEME}${hashlib.sha256(raw.encode()).hexdigest()}"


def _split(raw: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    if not raw or len(raw) > KEY_MAX_LENGTH:
        return None
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def apikey_scope_validate(indicators: Iterable[Indicator]) -> list[Indicator]:
    """The indicators, if an API key may write them all; else a ValidationError naming those
    computed by csas."""
    scope = list(indicators)
    computed = [i for i in scope if i.feed != IndicatorFeed.MANUAL]
    if computed:
        names = ", ".join(f"{i.slug} (feed: {i.feed})" for i in computed)
        raise ValidationError(
            {
                "indicators": (
                    f"These indicators are computed by csas and cannot be written through an "
                    f"API key: {names}. Choose indicators whose feed is manual."
                )
            }
        )
    return scope


@transaction.atomic
def apikey_create(
    *, name: str, created_by: Any, indicators: Iterable[Indicator]
) -> tuple[ApiKey, str]:
    """Make a key scoped to `indicators`; return it and its plaintext, which is never stored."""
    if not is_strategy_office(created_by):
        raise PermissionDenied("Only the strategy office makes API keys.")
    scope = apikey_scope_validate(indicators)
    prefix = secrets.token_hex(4)
    while ApiKey.objects.filter(prefix=prefix).exists():  # 1 in 4 billion; cheap to be sure
        prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name, prefix=prefix, key_hash=_hash(raw), created_by=created_by)
    key.full_clean()
    key.save()
    key.indicators.set(scope)
    logger.info("API key %s (%s) made by %s", key.prefix, key.name, created_by)
    return key, raw


def apikey_authenticate(raw: str) -> ApiKey | None:
    """The live key `raw` names, or None (unknown, malformed, wrong secret or revoked)."""
    parts = _split(raw)
    if parts is None:
        return None
    prefix, _secret = parts
    key = ApiKey.objects.filter(prefix=prefix).first()
    if key is None:
        return None
    if not hmac.compare_digest(key.key_hash.encode(), _hash(raw).encode()):
        return None
    if key.revoked_at is not None:
        return None
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
    return key


@transaction.atomic
def apikey_update(
    *,
    key: ApiKey,
    name: str,
    can_write_observations: bool,
    indicators: Iterable[Indicator],
    by: Any,
) -> ApiKey:
    """Rename a key or change what it may write. The secret never changes: make a new key."""
    if not is_strategy_office(by):
        raise PermissionDenied("Only the strategy office changes API keys.")
    if key.revoked_at is not None:
        raise ValidationError("A revoked key cannot be changed.")
    scope = apikey_scope_validate(indicators)
    key.name = name
    key.can_write_observations = can_write_observations
    key.full_clean()
    key.save(update_fields=["name", "can_write_observations"])
    key.indicators.set(scope)
    logger.info("API key %s (%s) changed by %s", key.prefix, key.name, by)
    return key


@transaction.atomic
def apikey_revoke(*, key: ApiKey, by: Any) -> ApiKey:
    """Revoke `key` for good; revoking a revoked key changes nothing."""
    if not is_strategy_office(by):
        raise PermissionDenied("Only the strategy office revokes API keys.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        logger.info("API key %s (%s) revoked by %s", key.prefix, key.name, by)
    return key


def indicator_get_for_key(*, key: ApiKey, slug: str) -> Indicator:
    """The indicator `key` would write; 404 when there is none, ApiKeyForbidden out of scope."""
    if not key.can_write_observations:
        raise ApiKeyForbidden("This API key may not write observations.")
    strategy = strategy_get_default()
    indicator = Indicator.objects.filter(strategy=strategy, slug=slug).first() if strategy else None
    if indicator is None:
        raise Http404("No such indicator.")
    if not key.indicators.filter(pk=indicator.pk).exists():
        raise ApiKeyForbidden(f"This API key may not write observations for {slug!r}.")
    return indicator


def _row_errors(index: int, row: ObservationRow) -> list[RowError]:
    errors = []
    if row.period_end < row.period_start:
        errors.append(
            RowError(
                index,
                "period_end",
                f"period_end {row.period_end} is before period_start {row.period_start}.",
            )
        )
    if row.value is None and not row.suppressed:
        errors.append(RowError(index, "value", "A value is required unless suppressed is true."))
    for field in ("value", "margin_of_error"):
        number = getattr(row, field)
        if number is not None and not math.isfinite(number):
            errors.append(RowError(index, field, f"Expected a finite number, found {number}."))
    if row.margin_of_error is not None and row.margin_of_error < 0:
        errors.append(
            RowError(
                index,
                "margin_of_error",
                f"Expected zero or more, found {row.margin_of_error}.",
            )
        )
    if row.n is not None and row.n < 0:
        errors.append(RowError(index, "n", f"Expected zero or more respondents, found {row.n}."))
    if row.dimension and not row.group:
        errors.append(
            RowError(index, "group", f"A group is required for dimension {row.dimension!r}.")
        )
    if row.group and not row.dimension:
        errors.append(
            RowError(
                index,
                "dimension",
                f"group {row.group!r} needs a dimension; the overall figure has neither.",
            )
        )
    return errors


@transaction.atomic
def apikey_write_observations(
    *, key: ApiKey, indicator: Indicator, rows: Sequence[ObservationRow]
) -> ObservationWriteResult:
    """Create or update `rows` of `indicator` (matched on period, dimension and group).

    All or nothing: one invalid row and no row is written.
    """
    if not key.can_write_observations or key.revoked_at is not None:
        raise ApiKeyForbidden("This API key may not write observations.")
    if not key.indicators.filter(pk=indicator.pk).exists():
        raise ApiKeyForbidden(f"This API key may not write observations for {indicator.slug!r}.")
    if indicator.feed != IndicatorFeed.MANUAL:
        raise IndicatorNotWritable(
            f"Indicator {indicator.slug!r} is computed by csas from its {indicator.feed} feed; "
            "its observations cannot be written through the API. Ask the strategy office to "
            "set its feed to manual if an integration should supply it."
        )
    if not rows:
        raise ObservationRowsInvalid([RowError(0, "body", "Send at least one observation.")])
    if len(rows) > MAX_ROWS_PER_WRITE:
        raise ObservationRowsInvalid(
            [
                RowError(
                    MAX_ROWS_PER_WRITE,
                    "body",
                    f"Send at most {MAX_ROWS_PER_WRITE} observations at once, found {len(rows)}.",
                )
            ]
        )

    errors: list[RowError] = []
    first_seen: dict[tuple[dt.date, dt.date, str, str], int] = {}
    for index, row in enumerate(rows):
        errors.extend(_row_errors(index, row))
        earlier = first_seen.setdefault(row.natural_key, index)
        if earlier != index:
            errors.append(
                RowError(
                    index,
                    "group",
                    f"Same period, dimension and group as row {earlier}; send each once.",
                )
            )
    if errors:
        raise ObservationRowsInvalid(errors)

    existing = {
        (o.period_start, o.period_end, o.dimension, o.group): o
        for o in Observation.objects.select_for_update().filter(
            indicator=indicator, period_start__in={row.period_start for row in rows}
        )
    }
    written_by = f"api-key:{key.name}"[:200]
    pending: list[tuple[bool, Observation]] = []
    for index, row in enumerate(rows):
        observation = existing.get(row.natural_key)
        is_new = observation is None
        if observation is None:
            observation = Observation(indicator=indicator)
        for field in (
            "period_start",
            "period_end",
            "value",
            "n",
            "margin_of_error",
            "wave",
            "dimension",
            "group",
            "suppressed",
            "note",
        ):
            setattr(observation, field, getattr(row, field))
        observation.created_by = written_by
        try:
            # Field checks only: the indicator is ours, the period order was checked above, and
            # uniqueness is settled by the lookup of existing rows (a race ends in a conflict),
            # so the per-row queries of the constraint checks would add nothing.
            observation.full_clean(
                exclude=["indicator"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.extend(RowError(index, field, message) for message in messages)
        pending.append((is_new, observation))
    if errors:
        raise ObservationRowsInvalid(errors)

    try:
        with transaction.atomic():
            for _is_new, observation in pending:
                observation.save()
    except IntegrityError as exc:
        # Another writer added the same observation between our read and our write.
        raise ObservationWriteConflict(
            "Another write to these observations happened at the same time; nothing was "
            "written. Send the request again."
        ) from exc
    created = sum(1 for is_new, _ in pending if is_new)
    return ObservationWriteResult(
        indicator=indicator.slug, created=created, updated=len(pending) - created
    )
