"""Who we have not heard from: participants against the population, category by category.

:func:`representation` compares how many participants each category of one dimension (age
band, race, Hispanic or Latino ethnicity, council district, neighbourhood...) has with its
share of the population: the representation ratio (participant share / population share,
1 = parity) with a Wilson interval, how many more participants parity would take, a flag for
categories clearly under-represented, and one representativeness score.
:func:`rank_under_heard` merges several dimensions into one ranked list for the engagement
dashboard. :func:`block_group_shares` and :func:`population_by_area` build the population side
from the Equity Index block groups (``csas/data/geo/tacoma/Equity_Index_2024.geojson``), so
the Django layer can pass the block groups' properties straight in.

What the Equity Index block groups hold (checked on all 169 Tacoma block groups):

* Every share times ``population`` is a whole number (to 1e-5): the shares are counts over
  ``population``, and counts are rebuilt exactly.
* Race: the seven race shares (American Indian or Alaska Native, Asian, Black or African
  American, Native Hawaiian or Pacific Islander, other race, two or more races, White) sum to
  1 within 2e-8 in every block group: they partition the population, Hispanic and Latino
  residents included under whatever race they reported. ``peopleofcolor`` is exactly
  1 - ``white``.
* Ethnicity: ``hispanicorlatino`` (0 to 42%; 12.3% population-weighted) is *not* a race
  category. Race plus Hispanic sums to up to 1.42; nothing gives the cross-tabulation, so
  "non-Hispanic White" and the like cannot be derived. csas therefore treats Hispanic or
  Latino ethnicity as its own dimension (Hispanic or Latino / Not Hispanic or Latino),
  compared with the participants' answer to an ethnicity question, and race as another. A
  survey that offers "Hispanic or Latino" as one option of its race question is not
  comparable with either: map that option to the ethnicity dimension and the other options
  to race, and say so where the figures are shown.
* Age: the three bands (under 18, 18 to 64, 65 and over) sum to between 1.00 and 1.32 of
  ``population`` (median 1.047; 253,728 against 241,349 people in all): the age counts come
  from another source or vintage than ``population``. The age shares are the band counts
  over the sum of the band counts, so they describe the age table itself; the mismatch is
  reported in :attr:`PopulationShares.share_sum_range`.

Participants who chose "prefer not to say" (or any of ``missing``) are counted in
``n_not_stated`` and left out of the shares, so they neither dilute nor inflate any category.

Suppression: a category with 1 to ``threshold - 1`` participants (default 10, as everywhere
in csas) has its count, share, ratio and parity figures hidden, and further categories are
hidden when the total would give it away (:func:`~csas.analysis.insight.suppression.
protect_partition`); ``threshold=1`` turns this off for staff-only screens. Categories with
no participant show 0 (zeros are safe, see :mod:`~csas.analysis.insight.suppression`), and the
under-represented flag is shown for every category.

Example: 100 participants against a city that is 30% under 35.

>>> result = representation(
...     {"under 35": 12, "35 and over": 85, "prefer not to say": 3},
...     {"under 35": 30_000, "35 and over": 70_000},
...     dimension="age",
... )
>>> young = result.category("under 35")
>>> young.participants, round(young.participant_share, 3), young.population_share
(12, 0.124, 0.3)
>>> round(young.ratio, 2), young.under_represented, young.needed_for_parity
(0.41, True, 18)
>>> result.n, result.n_not_stated, round(result.score, 3)
(97, 3, 0.824)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

import numpy as np

from csas.analysis.insight.comparison import MISSING_CODES, wilson_interval
from csas.analysis.insight.suppression import protect_partition

PopulationScale = Literal["counts", "shares"]
Dimension = Literal["race", "ethnicity", "age"]

_COMPLEMENTARY: Final = (
    "complementary: hidden so that a smaller category cannot be computed from the total"
)

RACE_FIELDS: Final[Mapping[str, str]] = {
    "americanindianoralaskannative": "American Indian or Alaska Native",
    "asian": "Asian",
    "blackorafricanamerican": "Black or African American",
    "nativehawaiianorpacificislander": "Native Hawaiian or Pacific Islander",
    "otherrace": "Other race",
    "twoormoreraces": "Two or more races",
    "white": "White",
}
"""Equity Index race fields and the category names used for them."""

ETHNICITY_FIELD: Final = "hispanicorlatino"
HISPANIC: Final = "Hispanic or Latino"
NOT_HISPANIC: Final = "Not Hispanic or Latino"

AGE_FIELDS: Final[Mapping[str, str]] = {
    "populationunder18": "Under 18",
    "population18to64": "18 to 64",
    "population65andabove": "65 and over",
}
"""Equity Index age fields and the category names used for them."""


@dataclass(frozen=True)
class CategoryRepresentation:
    """One category of a dimension.

    Fields:
        category: its name.
        participants: participants in it (None when suppressed).
        participant_share: participants / participants who stated a category (None when
            suppressed).
        share_ci_low, share_ci_high: Wilson interval of the participant share.
        population: its population count, when counts were given (else None).
        population_share: its share of the population.
        ratio: participant_share / population_share (1 = parity; None when suppressed or the
            population share is 0).
        ratio_ci_low, ratio_ci_high: the Wilson interval divided by the population share
            (the population share is taken as exact).
        needed_for_parity: participants this category would need, beyond those it has, for
            parity with the total unchanged: ceil(population_share * n - participants), 0 at
            or above parity.
        needed_if_added: participants to add to this category alone (the total grows with
            them) to reach parity: ceil((population_share * n - participants) /
            (1 - population_share)), 0 at or above parity.
        under_represented: ratio below the ratio threshold and the ratio's interval entirely
            below 1.
        suppressed: whether the participant figures are hidden; suppression_reason: why.
    """

    category: str
    participants: int | None
    participant_share: float | None
    share_ci_low: float | None
    share_ci_high: float | None
    population: float | None
    population_share: float
    ratio: float | None
    ratio_ci_low: float | None
    ratio_ci_high: float | None
    needed_for_parity: int | None
    needed_if_added: int | None
    under_represented: bool
    suppressed: bool
    suppression_reason: str | None


@dataclass(frozen=True)
class Representation:
    """Participants against the population for one dimension.

    Fields:
        dimension: what the categories are (age band, council district...).
        categories: one :class:`CategoryRepresentation` per population category, in the
            population's order.
        n: participants who stated a category.
        n_not_stated: participants who did not ("prefer not to say" and the like).
        score: representativeness, sum over categories of min(participant share, population
            share), i.e. 1 minus the dissimilarity index: the share of participants that
            would not have to change category for the participants to mirror the
            population (1 = perfectly representative, 0 = disjoint). With few participants
            it is noisy and biased low (random variation alone moves shares off the
            population's).
        level: confidence level of the intervals.
        ratio_threshold: ratios below it (with the interval below 1) are under-represented.
        threshold: suppression threshold for participant counts.
        method: how the figures were computed.
    """

    dimension: str
    categories: tuple[CategoryRepresentation, ...]
    n: int
    n_not_stated: int
    score: float
    level: float
    ratio_threshold: float
    threshold: int
    method: str

    def category(self, name: str) -> CategoryRepresentation:
        """The figures for one category."""
        for category in self.categories:
            if category.category == name:
                return category
        raise KeyError(f"no category {name!r} in {self.dimension!r}")

    def ranked(self) -> tuple[CategoryRepresentation, ...]:
        """Categories from the least heard to the most: under-represented first, then by
        ratio. A suppressed category is placed by the largest ratio the published figures
        allow it (at most threshold - 1 participants, or at most all those not shown), so
        no hidden count decides its place."""
        return tuple(sorted(self.categories, key=lambda c: _rank_key(c, self)))


@dataclass(frozen=True)
class UnderHeard:
    """One entry of the ranked list across dimensions: dimension, and the category's figures."""

    dimension: str
    category: CategoryRepresentation


@dataclass(frozen=True)
class PopulationShares:
    """Population by category of one dimension, built from block groups.

    Fields:
        dimension: ``race``, ``ethnicity`` or ``age``.
        counts: people per category (sum over block groups of weight * population * share).
        shares: counts / total, summing to 1.
        total: the sum of ``counts``.
        population: the sum of weight * ``population`` over the block groups.
        block_groups: block groups used.
        share_sum_range: (lowest, highest) sum of the dimension's shares within a block
            group, as read (about 1 for race; 1.00-1.32 for age, see the module docstring;
            always 1 for ethnicity, whose second category is the complement).
        method: how the shares were built.
    """

    dimension: Dimension
    counts: Mapping[str, float]
    shares: Mapping[str, float]
    total: float
    population: float
    block_groups: int
    share_sum_range: tuple[float, float]
    method: str


def _rank_key(category: CategoryRepresentation, result: Representation) -> tuple[bool, float]:
    """Sort key from public figures only: a suppressed category is placed by the most
    participants it could have, given the published counts and the suppression reason."""
    if category.ratio is not None:
        ratio = category.ratio
    elif category.suppressed and category.population_share > 0:
        hidden_total = result.n - sum(c.participants or 0 for c in result.categories)
        most = hidden_total
        if category.suppression_reason != _COMPLEMENTARY:
            most = min(most, result.threshold - 1)
        ratio = most / (result.n * category.population_share)
    else:
        ratio = math.inf
    return (not category.under_represented, ratio)


def _check_level(level: float, name: str) -> None:
    if not isinstance(level, int | float) or math.isnan(level) or not 0 < level < 1:
        raise ValueError(f"{name} must be between 0 and 1 (exclusive), got {level!r}")


def _population_shares(
    population: Mapping[str, float], scale: PopulationScale
) -> tuple[dict[str, float], dict[str, float] | None]:
    if not population:
        raise ValueError("population: no categories")
    values: dict[str, float] = {}
    for category, value in population.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ValueError(f"population[{category!r}]: {value!r} is not a number")
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"population[{category!r}]: {value!r}; expected a number >= 0")
        values[str(category)] = number
    total = sum(values.values())
    if total <= 0:
        raise ValueError("population: the categories add up to 0")
    if scale == "counts":
        return {key: value / total for key, value in values.items()}, values
    if not math.isclose(total, 1.0, abs_tol=0.01):
        raise ValueError(
            f"population shares sum to {total:.4f}, expected 1: categories must not overlap "
            "(Hispanic or Latino is an ethnicity, not a race; see block_group_shares)"
        )
    return {key: value / total for key, value in values.items()}, None


def representation(
    participants: Mapping[str, int],
    population: Mapping[str, float],
    *,
    dimension: str = "",
    population_scale: PopulationScale = "counts",
    missing: Collection[str] = MISSING_CODES,
    level: float = 0.95,
    ratio_threshold: float = 0.8,
    threshold: int = 10,
) -> Representation:
    """Participants of each category against the population.

    Args:
        participants: category -> participants. Keys in ``missing`` ("prefer not to say"...)
            are counted as not stated. Every other key must be a population category;
            population categories missing here have 0 participants.
        population: category -> people (``population_scale="counts"``) or share of the
            population (``"shares"``, summing to 1 within 0.01, then rescaled to 1).
        dimension: a name for the dimension, shown with the results.
        missing: keys meaning "not stated" (compared after strip() and casefold()).
        level: confidence level for the Wilson intervals.
        ratio_threshold: a ratio below this (and an interval below 1) flags the category.
        threshold: participant counts from 1 to threshold - 1 are hidden (1: none).

    Raises ValueError naming the argument for bad counts, shares, options or categories.
    """
    if population_scale not in get_args(PopulationScale):
        raise ValueError(
            f"population_scale must be one of {get_args(PopulationScale)}, got {population_scale!r}"
        )
    _check_level(level, "level")
    if (
        isinstance(ratio_threshold, bool)
        or not isinstance(ratio_threshold, int | float)
        or not 0 < ratio_threshold <= 1
    ):
        raise ValueError(f"ratio_threshold must be in (0, 1], got {ratio_threshold!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer):
        raise ValueError(f"threshold must be a whole number, got {threshold!r}")
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")
    shares, counts = _population_shares(population, population_scale)
    codes = {code.strip().casefold() for code in missing}
    heard = dict.fromkeys(shares, 0)
    n_not_stated = 0
    for category, count in participants.items():
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise ValueError(
                f"participants[{category!r}]: {count!r} is not a count (a whole number >= 0)"
            )
        if str(category).strip().casefold() in codes:
            n_not_stated += int(count)
        elif str(category) in heard:
            heard[str(category)] += int(count)
        else:
            raise ValueError(
                f"participants[{category!r}]: no such population category; expected one of "
                f"{list(shares)} or a 'not stated' answer {sorted(codes)}"
            )
    n = sum(heard.values())
    if n == 0:
        raise ValueError(
            "participants: nobody stated a category"
            + (f" ({n_not_stated} did not say)" if n_not_stated else "")
            + "; there is nothing to compare"
        )
    protection = protect_partition(heard, threshold=int(threshold))
    hidden = {
        status.cell: status.reason
        for status in protection.cells
        if status.cell in heard and not status.published
    }
    rows = []
    for category, share in shares.items():
        x = heard[category]
        interval = wilson_interval(x, n, level)
        ratio = ratio_low = ratio_high = None
        if share > 0:
            ratio, ratio_low, ratio_high = (
                x / n / share,
                interval.low / share,
                interval.high / share,
            )
        flagged = (
            ratio is not None
            and ratio_high is not None
            and ratio < ratio_threshold
            and ratio_high < 1
        )
        gap = share * n - x
        # round away float noise (0.3 * 100 is 30.000000000000004) before taking ceilings
        needed = max(0, math.ceil(round(gap, 9)))
        added = max(0, math.ceil(round(gap / (1 - share), 9))) if share < 1 else 0
        if category in hidden:
            reason = f"fewer than {threshold} participants" if 0 < x < threshold else _COMPLEMENTARY
            rows.append(
                CategoryRepresentation(
                    category, None, None, None, None,
                    None if counts is None else counts[category], share,
                    None, None, None, None, None, flagged, True, reason,
                )
            )  # fmt: skip
            continue
        rows.append(
            CategoryRepresentation(
                category=category,
                participants=x,
                participant_share=x / n,
                share_ci_low=interval.low,
                share_ci_high=interval.high,
                population=None if counts is None else counts[category],
                population_share=share,
                ratio=ratio,
                ratio_ci_low=ratio_low,
                ratio_ci_high=ratio_high,
                needed_for_parity=needed,
                needed_if_added=added,
                under_represented=flagged,
                suppressed=False,
                suppression_reason=None,
            )
        )
    score = float(sum(min(heard[c] / n, share) for c, share in shares.items()))
    return Representation(
        dimension=dimension,
        categories=tuple(rows),
        n=n,
        n_not_stated=n_not_stated,
        score=score,
        level=level,
        ratio_threshold=float(ratio_threshold),
        threshold=int(threshold),
        method=(
            "participant share with a Wilson interval, divided by the population share "
            "(taken as exact); score = 1 - dissimilarity index"
        ),
    )


def rank_under_heard(
    results: Sequence[Representation], *, limit: int | None = None
) -> tuple[UnderHeard, ...]:
    """The under-represented categories of several dimensions (and places), least heard first.

    Ordered by ratio (suppressed categories by the largest ratio they could have, as in
    :meth:`Representation.ranked`); ``limit`` keeps the first few.

    >>> age = representation({"young": 10, "old": 90}, {"young": 0.4, "old": 0.6},
    ...                      population_scale="shares", dimension="age")
    >>> place = representation({"North": 30, "South": 70}, {"North": 1000, "South": 1000},
    ...                        dimension="district")
    >>> [(u.dimension, u.category.category) for u in rank_under_heard([place, age])]
    [('age', 'young'), ('district', 'North')]
    """
    if limit is not None and (isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit must be a whole number >= 0, got {limit!r}")
    entries = [
        (_rank_key(category, result), index, UnderHeard(result.dimension, category))
        for index, result in enumerate(results)
        for category in result.categories
        if category.under_represented
    ]
    ranked = tuple(entry for _, _, entry in sorted(entries, key=lambda e: (e[0], e[1])))
    return ranked if limit is None else ranked[:limit]


def _row_number(row: Mapping[str, object], field: str, index: int) -> float:
    if field not in row:
        raise ValueError(f"rows[{index}]: no field {field!r}")
    value = row[field]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"rows[{index}][{field!r}]: {value!r} is not a number")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"rows[{index}][{field!r}]: {value!r}; expected a number >= 0")
    return number


def _row_weights(
    rows: Sequence[Mapping[str, object]], weights: Sequence[float] | None
) -> list[float]:
    if weights is None:
        return [1.0] * len(rows)
    if len(weights) != len(rows):
        raise ValueError(f"weights has {len(weights)} values for {len(rows)} rows")
    result = []
    for index, weight in enumerate(weights):
        if isinstance(weight, bool) or not math.isfinite(float(weight)) or not 0 <= weight <= 1:
            raise ValueError(f"weights[{index}]: {weight!r}; expected a fraction from 0 to 1")
        result.append(float(weight))
    return result


def block_group_shares(
    rows: Sequence[Mapping[str, object]],
    dimension: Dimension,
    *,
    weights: Sequence[float] | None = None,
) -> PopulationShares:
    """Population shares of race, Hispanic or Latino ethnicity, or age from block groups.

    ``rows`` are the block groups' properties (``feature["properties"]`` of the Equity
    Index GeoJSON); each needs ``population`` and the dimension's share fields
    (:data:`RACE_FIELDS`, :data:`ETHNICITY_FIELD`, :data:`AGE_FIELDS`). Counts are
    population-weighted sums, ``weight * population * share``; ``weights`` (one fraction per
    row, default 1) count part of a block group, e.g. the part inside a council district.
    ``"ethnicity"`` gives Hispanic or Latino and its complement; race and ethnicity overlap
    and are separate dimensions (see the module docstring).

    >>> rows = [
    ...     {"population": 1000, "populationunder18": 0.2, "population18to64": 0.6,
    ...      "population65andabove": 0.2},
    ...     {"population": 3000, "populationunder18": 0.3, "population18to64": 0.6,
    ...      "population65andabove": 0.1},
    ... ]
    >>> shares = block_group_shares(rows, "age")
    >>> {k: round(v, 3) for k, v in shares.shares.items()}
    {'Under 18': 0.275, '18 to 64': 0.6, '65 and over': 0.125}
    """
    if dimension not in get_args(Dimension):
        raise ValueError(f"dimension must be one of {get_args(Dimension)}, got {dimension!r}")
    if not rows:
        raise ValueError("rows: no block groups")
    row_weights = _row_weights(rows, weights)
    fields = {"race": RACE_FIELDS, "age": AGE_FIELDS}.get(dimension, {ETHNICITY_FIELD: HISPANIC})
    counts = dict.fromkeys(fields.values(), 0.0)
    if dimension == "ethnicity":
        counts[NOT_HISPANIC] = 0.0
    population_total = 0.0
    sums = []
    for index, (row, weight) in enumerate(zip(rows, row_weights, strict=True)):
        population = _row_number(row, "population", index)
        population_total += weight * population
        row_sum = 0.0
        for field, category in fields.items():
            share = _row_number(row, field, index)
            if share > 1 + 1e-9:
                raise ValueError(f"rows[{index}][{field!r}]: {share!r} is not a share (0 to 1)")
            counts[category] += weight * population * share
            row_sum += share
        if dimension == "ethnicity":
            counts[NOT_HISPANIC] += weight * population * (1 - row_sum)
            row_sum = 1.0
        sums.append(row_sum)
    total = sum(counts.values())
    if total <= 0:
        raise ValueError("rows: the block groups hold no population for this dimension")
    notes = {
        "race": "the seven race categories, Hispanic residents under the race they reported",
        "ethnicity": "Hispanic or Latino (any race) and its complement",
        "age": "age bands over the sum of the bands (they exceed population; see the module)",
    }
    return PopulationShares(
        dimension=dimension,
        counts=counts,
        shares={category: count / total for category, count in counts.items()},
        total=total,
        population=population_total,
        block_groups=len(rows),
        share_sum_range=(min(sums), max(sums)),
        method="population-weighted sum of block-group shares; " + notes[dimension],
    )


def population_by_area(
    rows: Sequence[Mapping[str, object]],
    areas: Sequence[str],
    *,
    weights: Sequence[float] | None = None,
) -> dict[str, float]:
    """Population per area (council district, neighbourhood): the sum of ``population`` of
    the block groups assigned to each area (``areas[i]`` for ``rows[i]``), times ``weights``
    when a block group is split between areas. Pass the result to :func:`representation`.

    >>> population_by_area([{"population": 10}, {"population": 5}, {"population": 7}],
    ...                    ["North", "South", "North"])
    {'North': 17.0, 'South': 5.0}
    """
    if len(areas) != len(rows):
        raise ValueError(f"areas has {len(areas)} labels for {len(rows)} rows")
    if not rows:
        raise ValueError("rows: no block groups")
    row_weights = _row_weights(rows, weights)
    totals: dict[str, float] = {}
    for index, (row, area, weight) in enumerate(zip(rows, areas, row_weights, strict=True)):
        if not isinstance(area, str) or not area:
            raise ValueError(f"areas[{index}]: {area!r} is not an area name")
        totals[area] = totals.get(area, 0.0) + weight * _row_number(row, "population", index)
    return totals
