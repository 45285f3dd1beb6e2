"""Turn submitted form values into stored answer values, or say exactly what is wrong.

Pure functions over plain data (a question description and the raw strings a form sent), so
the same rules serve the public form, staff paper entry and imports. Messages are translated
into the active language (gettext), because residents read them beside the question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

DEFAULT_MAX_LENGTH = 2000
# "longitude,latitude" as the map writes it; anything else is a place described in words.
COORDINATES = re.compile(r"\s*[-+]?\d+(?:\.\d+)?\s*,\s*[-+]?\d+(?:\.\d+)?\s*")


@dataclass(frozen=True)
class QuestionSpec:
    """What validation needs to know about a question."""

    key: str
    kind: str
    required: bool = False
    options: tuple[str, ...] = ()
    exclusive: frozenset[str] = field(default_factory=frozenset)
    minimum: int | None = None
    maximum: int | None = None
    choose: int | None = None
    max_length: int = DEFAULT_MAX_LENGTH
    show_if: Mapping[str, Any] | None = None


class AnswerError(ValueError):
    """A form value that cannot be stored; `message` is shown beside the question."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


def is_shown(spec: QuestionSpec, answers: Mapping[str, Any]) -> bool:
    """Whether a conditional question applies, given the answers so far."""
    if not spec.show_if:
        return True
    given = answers.get(spec.show_if["question"])
    if given is None:
        return False
    chosen = set(given.get("choices", [])) | ({given["choice"]} if "choice" in given else set())
    return bool(chosen & set(spec.show_if["any_of"]))


def clean_answer(spec: QuestionSpec, raw: Sequence[str]) -> dict[str, Any] | None:
    """The stored value for one question, None when unanswered; raises AnswerError."""
    values = [value.strip() for value in raw if value is not None and value.strip() != ""]
    if not values:
        if spec.required:
            raise AnswerError(spec.key, _("This question needs an answer."))
        return None
    kind = spec.kind
    if kind in {"single_choice", "likert", "neighbourhood", "council_district"}:
        if len(values) > 1:
            raise AnswerError(spec.key, _("Choose only one answer."))
        if values[0] not in spec.options:
            raise AnswerError(spec.key, _("Choose one of the answers listed."))
        return {"choice": values[0]}
    if kind in {"multiple_choice", "top_n"}:
        unknown = [value for value in values if value not in spec.options]
        if unknown:
            raise AnswerError(spec.key, _("Choose from the answers listed."))
        chosen = list(dict.fromkeys(values))
        if len(chosen) > 1 and spec.exclusive & set(chosen):
            raise AnswerError(spec.key, _("That answer cannot be combined with others."))
        if kind == "top_n" and spec.choose is not None and len(chosen) > spec.choose:
            raise AnswerError(spec.key, _("Choose at most %(n)s.") % {"n": spec.choose})
        return {"choices": chosen}
    if kind == "ranking":
        ranking = _ranking(spec, values)
        return {"ranking": ranking} if ranking else None
    if kind == "rating":
        if len(values) > 1:
            raise AnswerError(spec.key, _("Give one number."))
        try:
            number = int(values[0])
        except ValueError:
            raise AnswerError(spec.key, _("Give a whole number.")) from None
        if (
            spec.minimum is not None
            and spec.maximum is not None
            and not (spec.minimum <= number <= spec.maximum)
        ):
            raise AnswerError(
                spec.key,
                _("Give a number from %(low)s to %(high)s.")
                % {"low": spec.minimum, "high": spec.maximum},
            )
        return {"number": number}
    if kind == "open_text":
        text = "\n".join(values)
        if len(text) > spec.max_length:
            raise AnswerError(
                spec.key,
                _("Please shorten your answer to %(limit)s characters (it has %(length)s).")
                % {"limit": spec.max_length, "length": len(text)},
            )
        return {"text": text}
    if kind == "map_pin":
        return _point(spec, values)
    raise AnswerError(spec.key, f"Unknown question kind {kind!r}.")


def _ranking(spec: QuestionSpec, values: list[str]) -> list[str]:
    """Ranks arrive as "option=rank" pairs from the no-JavaScript form (one select each)."""
    ranks: dict[int, str] = {}
    for value in values:
        option, _sep, rank_text = value.partition("=")
        if option not in spec.options:
            raise AnswerError(spec.key, _("Rank only the items listed."))
        if rank_text == "":
            continue
        try:
            rank = int(rank_text)
        except ValueError:
            raise AnswerError(spec.key, _("Each rank must be a number.")) from None
        limit = spec.choose or len(spec.options)
        if not 1 <= rank <= limit:
            raise AnswerError(spec.key, _("Use ranks 1 to %(limit)s.") % {"limit": limit})
        if rank in ranks:
            raise AnswerError(spec.key, _("Give each rank to only one item."))
        ranks[rank] = option
    if not ranks:
        if spec.required:
            raise AnswerError(spec.key, _("This question needs an answer."))
        return []
    ordered = [ranks[rank] for rank in sorted(ranks)]
    if sorted(ranks) != list(range(1, len(ranks) + 1)):
        raise AnswerError(spec.key, _("Use ranks in order, starting from 1, without gaps."))
    return ordered


def _point(spec: QuestionSpec, values: list[str]) -> dict[str, Any]:
    """A map pin "lon,lat" from the map, or a place described in words without it."""
    if len(values) == 1 and COORDINATES.fullmatch(values[0]):
        lon_text, _sep, lat_text = values[0].partition(",")
        try:
            lon, lat = float(lon_text), float(lat_text)
        except ValueError:
            raise AnswerError(spec.key, _("That map position could not be read.")) from None
        if not (
            math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
        ):
            raise AnswerError(spec.key, _("That map position is not on Earth."))
        return {"point": [round(lon, 6), round(lat, 6)]}
    place = " ".join(values)
    if len(place) > 300:
        raise AnswerError(spec.key, _("Please describe the place in 300 characters or fewer."))
    return {"place": place}
