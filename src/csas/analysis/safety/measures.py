"""Measures for the safety data lab: per-capita rates, response times and period changes.

Four functions on plain per-call arrays (as read from the normalised Parquet file that
`csas.analysis.safety.ingest` writes, with areas from `csas.analysis.safety.geo.assign_points`):

``rates_by_area_month`` (and ``rates_from_counts`` for calls already counted)
    Calls per area and month, the rate per `per` residents and an exact 95% Poisson interval
    on it (Garwood 1936: ``chi2.ppf(0.025, 2k) / 2`` to ``chi2.ppf(0.975, 2k + 2) / 2`` for a
    count k, scaled by ``per / population``). Cells with fewer than `threshold` calls are
    flagged ``suppressed`` and publish no numbers. Calls with no area are counted per month,
    never dropped.

``response_times``
    Per priority and area, the median and 90th percentile of received -> dispatched and
    received -> arrived, in minutes, with seeded percentile-bootstrap 95% intervals, and the
    ratio of the area's median to the citywide median for the same priority. Missing and
    negative intervals are excluded and counted by reason. ``response_times_from_codes`` is
    the same with priorities and areas given as codes into label lists (millions of calls).

``period_change``
    Per area, the change between two periods and the rate ratio current / previous with an
    exact conditional 95% interval: given the total ``a + b``, the current count ``a`` is
    binomial with ``p = RR e_c / (RR e_c + e_p)`` (e = exposure, for example days in the
    period); the Clopper-Pearson interval on p is mapped to RR = ``p / (1 - p) * e_p / e_c``.

``eligible_time_profile``
    When calls eligible for an alternative response arrive: counts by local day of week x
    hour of day, with cells under `threshold` (10) calls suppressed and complementary
    suppression so that no withheld cell can be recovered from the published totals.

Example: five calls in two areas over two months, one with no area.

>>> table = rates_by_area_month(
...     ["A", "A", "B", None, "A"],
...     ["2024-01", "2024-01", "2024-01", "2024-02", "2024-02"],
...     {"A": 2000, "B": 500},
...     threshold=2,
... )
>>> table.months, table.counts.tolist(), table.n_no_area
(('2024-01', '2024-02'), [[2, 1], [1, 0]], 1)
>>> first = table.cells[0]
>>> first.area, first.month, first.count, first.rate, first.suppressed
('A', '2024-01', 2, 1.0, False)
>>> table.cells[1].count is None and table.cells[1].suppressed
True
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.integer[Any]]
BoolArray = npt.NDArray[np.bool_]

#: The priority label given to calls whose priority is missing.
NO_PRIORITY = "(none)"

#: Reasons an interval is left out of `response_times`, in the order they are checked.
ExclusionReason = Literal["missing_received", "missing_end", "negative"]
EXCLUSION_REASONS: tuple[ExclusionReason, ...] = ("missing_received", "missing_end", "negative")

#: The two intervals `response_times` measures, both starting when the call was received.
Interval = Literal["dispatch", "arrival"]
INTERVALS: tuple[Interval, ...] = ("dispatch", "arrival")

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_CONFIDENCE = 0.95
_BOOT_BLOCK = 2_000_000  # resampled values held at once by the plain bootstrap (about 16 MB)
#: From this many values of one priority on, the bootstrap counts draws per bucket of values
#: (`_BucketBootstrap`) instead of drawing every value; below it, the plain bootstrap (whose
#: figures tests pin). Module-level so that tests can send small inputs down either path.
_SELECT_BY_RANK = 20_000
#: `_BucketBootstrap`: a bucket starts at every `_BUCKET`-th value of each stratum (or more,
#: so that its table of counts per stratum and bucket stays near `_BUCKET_TABLE` entries when
#: there are many strata), and each node of its tree has `_FANOUT` children. Measured on 1.5
#: million values in 6 strata: smaller buckets cost more to set up, larger ones more draws.
_BUCKET = 64
_FANOUT = 4
_BUCKET_TABLE = 4_000_000
_NAT = np.iinfo(np.int64).min  # NaT as datetime64 stores it
_MINUTE_US = 60_000_000.0  # microseconds per minute


# ---------------------------------------------------------------------------------------------
# Rates by area and month


@dataclass(frozen=True)
class RateCell:
    """One area x month cell, as it may be published.

    Fields:
        area: the area code.
        month: the month, ``YYYY-MM``.
        count: calls in the cell, or None when suppressed.
        rate: calls per `RateTable.per` residents, or None when suppressed.
        rate_low: lower end of the exact 95% Poisson interval on the rate, or None.
        rate_high: upper end of that interval, or None.
        suppressed: True when the count is below the table's threshold, or withheld so that
            another suppressed count cannot be worked out by subtraction.
    """

    area: str
    month: str
    count: int | None
    rate: float | None
    rate_low: float | None
    rate_high: float | None
    suppressed: bool


@dataclass(frozen=True)
class RateTable:
    """Calls per area and month, with per-capita rates. Every call is counted exactly once.

    Fields:
        areas: the area codes, in the order of `population_by_area`.
        months: every month that has a call, sorted.
        population: residents per area, aligned with `areas`.
        counts: calls per area (rows) and month (columns), unsuppressed: for internal
            analysis only, never for publication.
        cells: one `RateCell` per area x month, area by area, with suppression applied.
        no_area_by_month: calls with no area, per month (months with none left out).
        n_total: calls given.
        n_no_area: calls with no area (missing, empty or outside every area).
        per: the rate's denominator, residents.
        threshold: cells with fewer calls than this are suppressed.
        method: how the rates and intervals were computed.
        no_area_withheld: months whose no-area count is withheld (under the threshold, or
            withheld so that a withheld area's count cannot be worked out from it).
    """

    areas: tuple[str, ...]
    months: tuple[str, ...]
    population: FloatArray
    counts: IntArray
    cells: tuple[RateCell, ...]
    no_area_by_month: dict[str, int]
    n_total: int
    n_no_area: int
    per: float
    threshold: int
    method: str
    no_area_withheld: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if int(self.counts.sum()) + self.n_no_area != self.n_total:
            raise AssertionError("rates lost calls: counted + no area != total")


def poisson_interval(count: int, confidence: float = _CONFIDENCE) -> tuple[float, float]:
    """The exact (Garwood) interval on the mean of a Poisson variable observed as `count`.

    >>> low, high = poisson_interval(10)
    >>> round(low, 3), round(high, 2)
    (4.795, 18.39)
    >>> poisson_interval(0)[0]
    0.0
    """
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
        raise ValueError(f"count must be a non-negative integer, got {count!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    tail = (1 - confidence) / 2
    low = 0.0 if count == 0 else float(stats.chi2.ppf(tail, 2 * count)) / 2
    high = float(stats.chi2.ppf(1 - tail, 2 * count + 2)) / 2
    return low, high


def rates_by_area_month(
    area_codes: Sequence[str | None] | npt.ArrayLike,
    months: Sequence[str] | npt.ArrayLike,
    population_by_area: Mapping[str, float],
    *,
    per: float = 1000,
    threshold: int = 10,
) -> RateTable:
    """Count calls per area and month and turn them into rates per `per` residents.

    `area_codes` and `months` hold one entry per call. An area code that is None, NaN or
    empty means the call has no area (``Assignment.point_codes()`` gives "" for points
    outside every area or without a location); such calls are counted in `no_area_by_month`.
    Every area in `population_by_area` gets a cell for every month that has a call, zero
    counts included; an area code not in `population_by_area` is an error (it has no
    denominator), as is a population that is not a positive number.
    """
    areas = _labels(area_codes, "area_codes")
    month_of_call = _months(months, "months")
    if len(areas) != len(month_of_call):
        raise ValueError(
            f"area_codes has {len(areas)} calls but months has {len(month_of_call)}; "
            "they must match"
        )
    per = _positive(per, "per")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise ValueError(f"threshold must be a non-negative integer, got {threshold!r}")
    codes, _population = _populations(population_by_area)

    unknown = sorted({a for a in areas if a is not None} - set(codes))
    if unknown:
        raise ValueError(
            f"population_by_area has no population for area codes {unknown[:5]}"
            f"{' ...' if len(unknown) > 5 else ''}: add them, or map those calls to no area"
        )
    month_list = tuple(sorted(set(month_of_call)))
    area_index = {code: i for i, code in enumerate(codes)}
    month_index = {month: j for j, month in enumerate(month_list)}
    counts = np.zeros((len(codes), len(month_list)), dtype=np.int64)
    no_area: dict[str, int] = {}
    for area, month in zip(areas, month_of_call, strict=True):
        if area is None:
            no_area[month] = no_area.get(month, 0) + 1
        else:
            counts[area_index[area], month_index[month]] += 1

    return rates_from_counts(
        counts,
        month_list,
        population_by_area,
        no_area_by_month=no_area,
        per=per,
        threshold=threshold,
    )


def rates_from_counts(
    counts: npt.ArrayLike,
    months: Sequence[str],
    population_by_area: Mapping[str, float],
    *,
    no_area_by_month: Mapping[str, int] | None = None,
    per: float = 1000,
    threshold: int = 10,
) -> RateTable:
    """`rates_by_area_month` for calls already counted per area and month.

    For millions of calls, count them first (a DuckDB ``GROUP BY`` or ``numpy.bincount``)
    and pass the table: the result is the same `RateTable` as `rates_by_area_month` gives
    on the calls themselves, with the same suppression and intervals.

    Args:
        counts: calls per area (rows, in the order of `population_by_area`) and month
            (columns, in the order of `months`); non-negative integers.
        months: the months, ``YYYY-MM``, sorted and distinct.
        population_by_area: residents per area code.
        no_area_by_month: calls with no area, per month (months with none may be left out;
            each month must be one of `months`).
        per, threshold: as for `rates_by_area_month`.

    B's February (3 calls) is withheld, and so are February's calls with no area (11), or
    February's calls, which other layers publish, would give B's February away:

    >>> table = rates_from_counts([[20, 12], [15, 3]], ["2024-01", "2024-02"],
    ...                           {"A": 2000, "B": 500}, no_area_by_month={"2024-02": 11},
    ...                           threshold=10)
    >>> table.cells[0].rate, table.n_total, [c.suppressed for c in table.cells]
    (10.0, 61, [False, False, False, True])
    >>> sorted(table.no_area_withheld)
    ['2024-01', '2024-02']
    """
    month_list = tuple(_months(list(months), "months"))
    if list(month_list) != sorted(set(month_list)):
        raise ValueError("months must be sorted and distinct")
    per = _positive(per, "per")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise ValueError(f"threshold must be a non-negative integer, got {threshold!r}")
    codes, population = _populations(population_by_area)
    table = np.asarray(counts)
    if table.shape != (len(codes), len(month_list)):
        raise ValueError(
            f"counts has shape {table.shape}; expected {len(codes)} areas x "
            f"{len(month_list)} months"
        )
    if table.size and (not np.issubdtype(table.dtype, np.integer) or int(table.min(initial=0)) < 0):
        raise ValueError("counts must be non-negative integers")
    table = table.astype(np.int64)
    no_area = {m: int(k) for m, k in sorted((no_area_by_month or {}).items()) if k}
    unknown = sorted(set(no_area) - set(month_list))
    if unknown:
        raise ValueError(f"no_area_by_month names months not in months: {unknown[:5]}")
    if any(k < 0 for k in no_area.values()):
        raise ValueError("no_area_by_month counts must be non-negative")

    # The areas and the calls with no area add up to each month's calls, which other layers
    # publish: complementary suppression within each month, and within the no-area calls'
    # year (the summary gives it), so that no withheld cell is a difference. An area's year
    # is published only when none of its months is withheld, so it needs none.
    withheld = np.zeros((len(codes) + 1, len(month_list)), dtype=bool)
    if month_list:
        no_area_row = [[no_area.get(m, 0) for m in month_list]]
        with_no_area = np.vstack([table, np.asarray(no_area_row, dtype=np.int64)])
        state = suppress_table(with_no_area, threshold, rows_totalled=[False] * len(codes) + [True])
        withheld = state[:-1, :-1] != _PUBLISHED
    cells = []
    for i, code in enumerate(codes):
        scale = per / float(population[i])
        for j, month in enumerate(month_list):
            k = int(table[i, j])
            if withheld[i, j]:
                cells.append(RateCell(code, month, None, None, None, None, suppressed=True))
                continue
            low, high = poisson_interval(k)
            cells.append(RateCell(code, month, k, k * scale, low * scale, high * scale, False))
    return RateTable(
        areas=codes,
        months=month_list,
        population=population,
        counts=table,
        cells=tuple(cells),
        no_area_by_month=no_area,
        no_area_withheld=frozenset(
            month for j, month in enumerate(month_list) if withheld[len(codes), j]
        ),
        n_total=int(table.sum()) + sum(no_area.values()),
        n_no_area=sum(no_area.values()),
        per=per,
        threshold=threshold,
        method=(
            f"calls per {per:g} residents; exact (Garwood) 95% Poisson interval on the count, "
            f"chi2.ppf(0.025, 2k)/2 to chi2.ppf(0.975, 2k+2)/2, scaled by per/population; "
            f"cells with fewer than {threshold} calls suppressed, with complementary "
            "suppression within each month (the areas and the calls with no area) and over "
            "the year of the calls with no area, so that no suppressed count is the "
            "difference of published ones"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Response times


@dataclass(frozen=True)
class ResponseTimeRow:
    """Response times for one priority, one area (or citywide) and one interval, in minutes.

    Fields:
        priority: the priority label (`NO_PRIORITY` for calls without one).
        area: the area code, or None for the citywide row (all calls of the priority,
            including those with no area).
        interval: ``"dispatch"`` (received -> dispatched) or ``"arrival"`` (received ->
            arrived).
        n: intervals used (missing and negative ones excluded).
        median, p90: numpy's median and 90th percentile (linear interpolation); None if n = 0.
        median_low, median_high, p90_low, p90_high: percentile-bootstrap 95% interval ends.
        ratio_to_city: the area's median over the citywide median for the same priority and
            interval; None for citywide rows, for n = 0, or when the citywide median is 0.
        ratio_low, ratio_high: bootstrap 95% interval on the ratio, from the same resamples
            (None where the ratio is, or where a resampled citywide median is 0).
    """

    priority: str
    area: str | None
    interval: Interval
    n: int
    median: float | None
    median_low: float | None
    median_high: float | None
    p90: float | None
    p90_low: float | None
    p90_high: float | None
    ratio_to_city: float | None
    ratio_low: float | None
    ratio_high: float | None


@dataclass(frozen=True)
class ResponseTimeTable:
    """Response times by priority and area. For each interval, every call is either used in
    exactly one citywide row or excluded with a reason.

    Fields:
        rows: for each interval, priority (sorted) and then the citywide row followed by
            each area (sorted) with at least one call of that priority.
        excluded: per interval, calls left out by reason (`EXCLUSION_REASONS`).
        n_total: calls given.
        n_boot: bootstrap resamples.
        seed: the seed the resamples were drawn with.
        method: how the figures and intervals were computed.
    """

    rows: tuple[ResponseTimeRow, ...]
    excluded: dict[Interval, dict[ExclusionReason, int]]
    n_total: int
    n_boot: int
    seed: int
    method: str

    def __post_init__(self) -> None:
        for interval in INTERVALS:
            used = sum(r.n for r in self.rows if r.interval == interval and r.area is None)
            if used + sum(self.excluded[interval].values()) != self.n_total:
                raise AssertionError(f"{interval}: used + excluded != total")

    def row(self, priority: str, area: str | None, interval: Interval) -> ResponseTimeRow:
        """The row for one priority, area (None: citywide) and interval."""
        for r in self.rows:
            if (r.priority, r.area, r.interval) == (priority, area, interval):
                return r
        raise KeyError((priority, area, interval))


def response_times(
    received: npt.ArrayLike,
    dispatched: npt.ArrayLike,
    arrived: npt.ArrayLike,
    priority: Sequence[str | None] | npt.ArrayLike,
    area: Sequence[str | None] | npt.ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int,
) -> ResponseTimeTable:
    """Median and 90th percentile response times per priority and area, with intervals.

    Times are numpy ``datetime64`` arrays read as UTC (as DuckDB returns TIMESTAMPTZ; NaT or
    a masked value is missing) or sequences of timezone-aware datetimes or None; naive
    datetimes are refused. Priorities are free-text categories; a missing one becomes
    `NO_PRIORITY`. A missing or empty area leaves the call in the citywide row only.

    The bootstrap resamples calls with replacement within each area (calls with no area
    form one more stratum), `n_boot` times, and computes every area's and the city's
    statistics from the same resample, so the ratio's interval reflects that an area is
    part of the city. A priority with fewer than `_SELECT_BY_RANK` (20,000) calls is
    resampled by drawing every call, about `n_boot` x its calls; a larger one by drawing how
    many of each area's calls fall into buckets of consecutive values and then only the
    calls near each statistic (`_BucketBootstrap`): the same distribution of resamples, at a
    cost of one sort of the calls plus a few thousand draws per resample.
    """
    times = [
        _utc_times(received, "received"),
        _utc_times(dispatched, "dispatched"),
        _utc_times(arrived, "arrived"),
    ]
    priority_codes, priority_labels = _label_codes(priority, "priority")
    area_codes, area_labels = _label_codes(area, "area")
    return _coded_response_times(
        times, priority_codes, priority_labels, area_codes, area_labels, n_boot=n_boot, seed=seed
    )


def response_times_from_codes(
    received: npt.ArrayLike,
    dispatched: npt.ArrayLike,
    arrived: npt.ArrayLike,
    priority_codes: npt.ArrayLike,
    priority_labels: Sequence[str | None],
    area_codes: npt.ArrayLike,
    area_labels: Sequence[str | None],
    *,
    n_boot: int = 1000,
    seed: int,
) -> ResponseTimeTable:
    """`response_times` with each call's priority and area given as a code into a label list.

    ``priority_labels[priority_codes[i]]`` is call i's priority (negative codes count from
    the end, as numpy indexing does), and likewise for areas; each label is read as
    `response_times` reads one. The result is the same as `response_times` on the labels
    themselves, without making one Python string per call (for millions of calls).
    """
    times = [
        _utc_times(received, "received"),
        _utc_times(dispatched, "dispatched"),
        _utc_times(arrived, "arrived"),
    ]
    priorities = _cleaned_codes(priority_codes, priority_labels, "priority")
    areas = _cleaned_codes(area_codes, area_labels, "area")
    return _coded_response_times(times, *priorities, *areas, n_boot=n_boot, seed=seed)


def _cleaned_codes(
    codes: npt.ArrayLike, labels: Sequence[str | None], name: str
) -> tuple[CodeArray, list[str | None]]:
    """The codes, checked against `labels`, and each label cleaned (`_label`).

    The codes themselves are left as given: `_coded_response_times` looks every call up in
    small tables once, which is cheaper than rewriting millions of codes here first.
    """
    raw = np.asarray(codes)
    if raw.ndim != 1 or (raw.size and raw.dtype.kind not in "iu"):
        raise ValueError(f"{name} codes must be a 1-D array of whole numbers")
    if raw.dtype.kind not in "iu":
        raw = raw.astype(np.int64)  # empty, so any dtype numpy chose for it
    cleaned = [_label(value, f"{name} labels", i) for i, value in enumerate(labels)]
    if raw.size and not (-len(labels) <= int(raw.min()) and int(raw.max()) < len(labels)):
        raise ValueError(f"{name} codes must index {name} labels ({len(labels)} of them)")
    return raw, cleaned


def _name_table(labels: Sequence[str | None], missing: str) -> tuple[list[str], IntArray]:
    """The distinct names among `labels` (None read as `missing`), sorted, and each label's
    place among them: labels that read the same share a place, as they share rows."""
    names = [missing if label is None else label for label in labels]
    distinct = sorted(set(names))
    place = {name: i for i, name in enumerate(distinct)}
    return distinct, np.array([place[name] for name in names], dtype=np.int64)


def _coded_response_times(
    times: list[npt.NDArray[np.datetime64]],
    priority_codes: CodeArray,
    priority_labels: Sequence[str | None],
    area_codes: CodeArray,
    area_labels: Sequence[str | None],
    *,
    n_boot: int,
    seed: int,
) -> ResponseTimeTable:
    """`response_times` on codes into (cleaned) label lists; codes may repeat a label.

    Every call gets one group number (priority name x area name) up front; each interval's
    used calls are then sorted by group once, so that each priority's and area's minutes are
    a slice rather than another pass over millions of calls.
    """
    n = len(times[0])
    for name, size in (
        ("dispatched", len(times[1])),
        ("arrived", len(times[2])),
        ("priority", len(priority_codes)),
        ("area", len(area_codes)),
    ):
        if size != n:
            raise ValueError(f"received has {n} calls but {name} has {size}; they must match")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")

    rng = np.random.default_rng(seed)
    priorities, priority_place = _name_table(priority_labels, NO_PRIORITY)
    areas, area_place = _name_table(area_labels, "")
    n_areas = len(areas)
    n_groups = len(priorities) * n_areas
    group = priority_place[priority_codes]
    group *= n_areas
    group += area_place.astype(np.int32)[area_codes]  # a smaller temporary
    present: list[int] = []
    if n_groups:
        calls = np.bincount(group, minlength=n_groups).reshape(-1, n_areas).sum(axis=1)
        present = np.flatnonzero(calls).tolist()

    # NaT is the smallest int64; times are datetime64[us], so differences are microseconds.
    received = times[0].view(np.int64)
    missing_received = received == _NAT
    # Two work arrays of one int64 per call serve both intervals: fresh arrays of this size
    # cost about as much again in page faults as the arithmetic on them.
    elapsed = np.empty(n, dtype=np.int64)
    work = np.empty(n, dtype=np.int64)
    rows: list[ResponseTimeRow] = []
    excluded: dict[Interval, dict[ExclusionReason, int]] = {}
    for interval, end in zip(INTERVALS, times[1:], strict=True):
        ended = end.view(np.int64)
        missing_end = ended == _NAT
        np.subtract(ended, received, out=elapsed)  # meaningless where either is NaT
        valid = ~(missing_received | missing_end)
        used = valid & (elapsed >= 0)
        n_used = int(np.count_nonzero(used))
        excluded[interval] = {
            "missing_received": int(np.count_nonzero(missing_received)),
            "missing_end": int(np.count_nonzero(missing_end & ~missing_received)),
            "negative": int(np.count_nonzero(valid)) - n_used,
        }
        minutes = _minutes_by_group(elapsed, used, group, n_groups, n_areas, work)
        for p in present:
            strata = [a for a in range(n_areas) if minutes[p * n_areas + a].size]
            rows.extend(
                _priority_rows(
                    priorities[p],
                    interval,
                    [areas[a] for a in strata],
                    [minutes[p * n_areas + a] for a in strata],
                    n_boot=n_boot,
                    rng=rng,
                )
            )

    return ResponseTimeTable(
        rows=tuple(rows),
        excluded=excluded,
        n_total=n,
        n_boot=n_boot,
        seed=seed,
        method=(
            "minutes from received to dispatched / arrived; missing and negative intervals "
            "excluded; median and p90 by numpy (linear interpolation); 95% percentile-"
            f"bootstrap intervals from {n_boot} resamples stratified by area (seed {seed}); "
            "ratio = area median / citywide median of the same priority, from the same resamples"
        ),
    )


def _minutes_by_group(
    elapsed: IntArray,
    used: BoolArray,
    group: IntArray,
    n_groups: int,
    n_areas: int,
    work: IntArray,
) -> list[FloatArray]:
    """Each group's used intervals in minutes, from microseconds and group numbers.

    Most calls belong to priorities with `_SELECT_BY_RANK` calls or more, whose minutes the
    bucket bootstrap wants sorted: one sort of (group in the high bits, microseconds below)
    gives every group's minutes in order. Priorities with fewer calls keep the calls' order
    instead, because the plain bootstrap draws positions and its figures depend on the order
    (tests pin them); those few calls are gathered again. Minutes are microseconds divided by
    60,000,000, the division numpy does for ``timedelta64[us] / timedelta64(60, "s")``.

    To spare fresh memory, `elapsed` is overwritten (its used entries keep the microseconds
    in their low bits) and the minutes returned are views into `work`, valid until the next
    call that passes the same `work`.
    """
    if n_groups == 0:
        return []
    n_used = int(np.count_nonzero(used))
    shift = max(1, int(np.max(elapsed, where=used, initial=0)).bit_length())
    low_bits = (1 << shift) - 1
    if n_groups >> (63 - shift) == 0:
        group <<= shift  # shifted in place and back: no temporary of this size
        elapsed |= group  # garbage where not used, dropped next
        group >>= shift
        key = work[:n_used]
        key[...] = elapsed[used]
        key.sort()
        bounds = np.searchsorted(key, np.arange(n_groups + 1, dtype=np.int64) << shift)
        key &= low_bits
    else:  # intervals of centuries: too wide to share 63 bits with the group
        used_group = group[used]
        used_elapsed = elapsed[used]
        key = work[:n_used]
        key[...] = used_elapsed[np.lexsort((used_elapsed, used_group))]
        bounds = np.concatenate(([0], np.cumsum(np.bincount(used_group, minlength=n_groups))))
    minutes = key.view(np.float64)
    np.divide(key, _MINUTE_US, out=minutes)
    by_priority = np.diff(bounds).reshape(-1, n_areas).sum(axis=1)
    in_order = np.repeat(by_priority < _SELECT_BY_RANK, n_areas)
    out = [minutes[bounds[g] : bounds[g + 1]] for g in range(n_groups)]
    if any(in_order[g] and out[g].size for g in range(n_groups)):
        chosen = np.flatnonzero(used & in_order[group])
        chosen_group = group[chosen]
        chosen = chosen[np.argsort(chosen_group, kind="stable")]
        bounds = np.concatenate(([0], np.cumsum(np.bincount(chosen_group, minlength=n_groups))))
        for g in np.flatnonzero(in_order).tolist():
            in_calls = elapsed[chosen[bounds[g] : bounds[g + 1]]] & low_bits
            out[g] = in_calls / _MINUTE_US
    return out


def _priority_rows(
    label: str,
    interval: Interval,
    strata: Sequence[str],
    values: Sequence[FloatArray],
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> list[ResponseTimeRow]:
    """The citywide row and one row per area for one priority and interval.

    `strata` are the area names in order ("" for calls without an area comes first and gets
    no row of its own), `values` their minutes: sorted when the priority has
    `_SELECT_BY_RANK` values or more (`_BucketBootstrap`), else in call order, which the
    plain bootstrap below depends on (its published figures are pinned by tests).
    """
    sizes = [int(v.size) for v in values]
    n_city = sum(sizes)
    boot_median = np.empty((len(strata), n_boot))
    boot_p90 = np.empty((len(strata), n_boot))
    city_median = np.empty(n_boot)
    city_p90 = np.empty(n_boot)
    points: list[tuple[float, float] | None] = [None] * len(strata)
    city_points: tuple[float, float] | None = None
    if n_city and n_city >= _SELECT_BY_RANK:
        bootstrap = _BucketBootstrap(values)
        medians, p90s = bootstrap.resample(n_boot, rng)
        boot_median, boot_p90 = medians[:-1], p90s[:-1]
        city_median, city_p90 = medians[-1], p90s[-1]
        points = [_points(v[_order_positions(v.size)[0]], v.size) for v in values]
        city_points = _points(bootstrap.order_statistics(_order_positions(n_city)[0]), n_city)
    elif n_city:
        block = max(1, _BOOT_BLOCK // n_city)
        for start in range(0, n_boot, block):
            stop = min(n_boot, start + block)
            draws = [rng.integers(0, v.size, size=(stop - start, v.size)) for v in values]
            samples = [v[d] for v, d in zip(values, draws, strict=True)]
            for s, sample in enumerate(samples):
                boot_median[s, start:stop] = np.median(sample, axis=1)
                boot_p90[s, start:stop] = np.quantile(sample, 0.9, axis=1)
            pooled = np.concatenate(samples, axis=1)
            city_median[start:stop] = np.median(pooled, axis=1)
            city_p90[start:stop] = np.quantile(pooled, 0.9, axis=1)
        # numpy's figures do not depend on the order of the values.
        points = [(float(np.median(v)), float(np.quantile(v, 0.9))) for v in values]
        pooled_values = np.concatenate(values)
        city_points = (float(np.median(pooled_values)), float(np.quantile(pooled_values, 0.9)))

    city_row = _row(label, None, interval, n_city, city_points, city_median, city_p90, None, None)
    rows = [city_row]
    for s, stratum in enumerate(strata):
        if stratum == "":
            continue
        rows.append(
            _row(
                label,
                stratum,
                interval,
                sizes[s],
                points[s],
                boot_median[s],
                boot_p90[s],
                city_row.median,
                city_median,
            )
        )
    return rows


class _BucketBootstrap:
    """Medians and 90th percentiles of stratified bootstrap resamples, without drawing every
    value.

    A resample draws each stratum's values with replacement, as many as the stratum has, and
    the city's resample is all the strata's together. Its statistics are a few order
    statistics, and finding those only needs to know how many draws fell below each of a few
    thresholds, plus the actual draws near the statistics. So:

    * The values of all strata are put in one order (by value; ties by stratum, then by place
      in the stratum) and cut into buckets of consecutive values: a new bucket starts at every
      `bucket`-th value of each stratum, so a bucket holds at most `bucket` values of any one
      stratum (about `bucket` in all, on average).
    * The buckets are the leaves of a tree with `fanout` children per node. A stratum's draws
      in a node fall into its children as a multinomial with the children's shares of that
      stratum's values in the node (exactly how i.i.d. draws split), so each resample walks
      down from the root, splitting only the nodes that hold a wanted order position: a
      stratum's own positions (its counts alone decide where they lie) and the city's (the
      sum over strata). A node's split is drawn once per resample and stratum and shared by
      every position that passes through it, so the strata and the city see one resample.
    * In the bucket that holds a position, a stratum's c draws are c values drawn uniformly,
      with replacement, from its values in that bucket (given the counts, that is their
      distribution); sorting those few gives the exact order statistic.

    Cost per resample is about (strata + 1) x positions x depth small draws plus a few
    buckets' worth of values, instead of one draw per value: the distribution of every
    figure is the same as drawing all the values.
    """

    def __init__(
        self, values: Sequence[FloatArray], bucket: int | None = None, fanout: int | None = None
    ) -> None:
        # `values`: each stratum's values, sorted ascending, at least one per stratum.
        self.sizes = np.array([v.size for v in values], dtype=np.int64)
        self.values = np.concatenate(values)
        self.offsets = np.cumsum(self.sizes) - self.sizes
        n_strata = len(values)
        if bucket is None:
            # `below` holds strata x buckets counts: with many strata, wider buckets keep it
            # to about `_BUCKET_TABLE` of them.
            bucket = max(_BUCKET, -(-n_strata * self.values.size // _BUCKET_TABLE))
        self.bucket = bucket
        self.fanout = _FANOUT if fanout is None else fanout
        # Where buckets start: every `bucket`-th value of each stratum, in the common order
        # (the stable sort keeps stratum, then place, among equal values).
        starts = [np.arange(0, v.size, self.bucket) for v in values]
        edge_value = np.concatenate([v[p] for v, p in zip(values, starts, strict=True)])
        edge_stratum = np.repeat(np.arange(n_strata), [p.size for p in starts])
        edge_place = np.concatenate(starts)
        order = np.argsort(edge_value, kind="stable")
        edge_value, edge_stratum, edge_place = (
            edge_value[order],
            edge_stratum[order],
            edge_place[order],
        )
        self.n_buckets = n_buckets = int(edge_value.size)
        self.depth = 0
        while self.fanout**self.depth < n_buckets:
            self.depth += 1
        # below[s, j]: how many of stratum s's values come before bucket j; the tree's leaves
        # past the last bucket are empty (their edges are clipped to the end).
        below = np.empty((n_strata, n_buckets + 1), dtype=np.int64)
        for s, v in enumerate(values):
            # Values equal to an edge's come before it if their stratum comes first.
            counts = np.searchsorted(v, edge_value, side="left")
            later = np.flatnonzero(edge_stratum > s)
            counts[later] = np.searchsorted(v, edge_value[later], side="right")
            own = edge_stratum == s
            counts[own] = edge_place[own]
            below[s, :n_buckets] = counts
        below[:, n_buckets] = self.sizes
        self.below = below
        self.bucket_sizes = np.diff(below, axis=1)

    def order_statistics(self, positions: IntArray) -> FloatArray:
        """The values at `positions` (0 = smallest) among all strata's values, unresampled."""
        total = self.below.sum(axis=0)
        bucket = np.searchsorted(total, positions, side="right") - 1
        found = np.empty(len(positions))
        for i, (position, b) in enumerate(zip(positions.tolist(), bucket.tolist(), strict=True)):
            members = np.sort(self.values[self._members(np.array([b]))])
            found[i] = members[position - total[b]]
        return found

    def resample(self, n_boot: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        """Per stratum, then the city (last row): the median and p90 of `n_boot` resamples."""
        found = self.resampled_order_statistics(n_boot, rng)
        sizes = [*self.sizes.tolist(), int(self.sizes.sum())]
        medians = np.empty((len(sizes), n_boot))
        p90s = np.empty((len(sizes), n_boot))
        for s, size in enumerate(sizes):
            medians[s], p90s[s] = _resampled_points(found[s], size)
        return medians, p90s

    def resampled_order_statistics(self, n_boot: int, rng: np.random.Generator) -> FloatArray:
        """Per stratum, then the city, per resample: the values at `_order_positions`."""
        n_strata = self.sizes.size
        sizes = [*self.sizes.tolist(), int(self.sizes.sum())]
        wanted = np.array([_order_positions(size)[0] for size in sizes])  # (strata + 1, 4)
        # Each wanted position of each resample: the city's first, then each stratum's.
        n_city = n_boot * 4
        city = _Walk(
            np.repeat(np.arange(n_boot), 4),
            np.tile(wanted[-1], n_boot),
            np.tile(self.sizes, (n_city, 1)),
        )
        own_stratum = np.tile(np.repeat(np.arange(n_strata), 4), n_boot)
        own = _Walk(
            np.repeat(np.arange(n_boot), n_strata * 4),
            np.tile(wanted[:-1].ravel(), n_boot),
            self.sizes[own_stratum][:, None],
        )
        all_strata = np.tile(np.arange(n_strata), n_city)
        for level in range(self.depth):
            span = self.fanout ** (self.depth - level)  # buckets under each node
            step = span // self.fanout
            request, inverse = self._splits(city, own, own_stratum, all_strata, self.fanout**level)
            node, stratum, count = request
            ends = np.minimum(node[:, None] * span + np.arange(0, span + 1, step), self.n_buckets)
            edges = self.below[stratum[:, None], ends]
            inside = np.diff(edges, axis=1)
            total = edges[:, -1] - edges[:, 0]
            shares = inside / np.maximum(total, 1)[:, None]
            shares[total == 0, 0] = 1.0  # nothing to split; any valid shares will do
            children = rng.multinomial(count, shares)[inverse]
            city.descend(children[: n_city * n_strata].reshape(n_city, n_strata, -1), self.fanout)
            own.descend(children[n_city * n_strata :, None, :], self.fanout)

        # In each bucket reached: draw the stratum's values there, as many as it drew.
        width = self.fanout**self.depth
        (node, stratum, count), inverse = self._splits(city, own, own_stratum, all_strata, width)
        owner, place = self.draw_in_buckets(node, stratum, count, rng)
        low = self.below[stratum, node]
        start = np.cumsum(count) - count
        # A stratum's k-th smallest draw in the bucket: sort by (request, place).
        room = int(self.bucket_sizes[stratum, node].max()) + 1
        key = owner * room + place
        key.sort()
        mine = inverse[n_city * n_strata :]
        at = key[start[mine] + own.position] - mine * room
        own_values = self.values[self.offsets[own_stratum] + low[mine] + at]
        # The city's k-th smallest among all strata's draws in its bucket (one task per
        # resample and bucket): sort by (task, rank of the value among the buckets' values).
        tasks, task_of = np.unique(city.row * width + city.node, return_inverse=True)
        task_of_request = np.full(node.size, -1, dtype=np.int64)
        task_of_request[inverse[: n_city * n_strata].reshape(n_city, n_strata)] = task_of[:, None]
        drawn_task = task_of_request[owner]
        in_task = drawn_task >= 0
        drawn = self.values[(self.offsets[stratum] + low)[owner[in_task]] + place[in_task]]
        members = np.sort(self.values[self._members(np.unique(city.node))])
        rank = np.searchsorted(members, drawn)
        key = drawn_task[in_task] * (members.size + 1) + rank
        key.sort()
        task_start = np.cumsum(np.bincount(drawn_task[in_task], minlength=tasks.size))
        task_start -= np.bincount(drawn_task[in_task], minlength=tasks.size)
        city_values = members[key[task_start[task_of] + city.position] % (members.size + 1)]

        return np.concatenate(
            [
                own_values.reshape(n_boot, n_strata, 4).transpose(1, 0, 2),
                city_values.reshape(1, n_boot, 4),
            ]
        )

    def draw_in_buckets(
        self, bucket: IntArray, stratum: IntArray, count: IntArray, rng: np.random.Generator
    ) -> tuple[IntArray, IntArray]:
        """For each i, `count[i]` draws with replacement, each equally likely to be any of
        stratum `stratum[i]`'s values in bucket `bucket[i]`: given how many of a resample's
        draws fell in the bucket, that is how they are distributed.

        Returns, per draw, i and the value's place among those values (0 = the first).
        """
        owner = np.repeat(np.arange(bucket.size), count)
        return owner, rng.integers(0, self.bucket_sizes[stratum, bucket][owner])

    def _splits(
        self,
        city: _Walk,
        own: _Walk,
        own_stratum: IntArray,
        all_strata: IntArray,
        n_nodes: int,
    ) -> tuple[tuple[IntArray, IntArray, IntArray], IntArray]:
        """The distinct (resample, node, stratum) the walks need split, with the stratum's
        count there, and for each need (the city's per stratum first) which one it is."""
        n_strata = self.sizes.size
        row = np.concatenate((np.repeat(city.row, n_strata), own.row))
        node = np.concatenate((np.repeat(city.node, n_strata), own.node))
        stratum = np.concatenate((all_strata, own_stratum))
        count = np.concatenate((city.count.ravel(), own.count.ravel()))
        first, inverse = _distinct((row * n_nodes + node) * n_strata + stratum)
        return (node[first], stratum[first], count[first]), inverse

    def _members(self, buckets: IntArray) -> IntArray:
        """Where in `values` the values of the given buckets (all strata) are."""
        first = (self.offsets[None, :] + self.below[:, buckets].T).ravel()
        size = (self.below[:, buckets + 1] - self.below[:, buckets]).T.ravel()
        shift = np.repeat(first - (np.cumsum(size) - size), size)
        return shift + np.arange(int(size.sum()))


def _distinct(key: IntArray) -> tuple[IntArray, IntArray]:
    """For the distinct keys in increasing order, where one of each is (any of its places),
    and for each key which distinct one it is: ``np.unique``'s index and inverse, but without
    the stable sort that finding each key's first place takes (about 3 times the cost)."""
    order = np.argsort(key)
    ordered = key[order]
    new = np.empty(key.size, dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    inverse = np.empty(key.size, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


class _Walk:
    """Wanted order positions on their way down `_BucketBootstrap`'s tree, one per row:
    which resample (`row`), the node reached (`node`), the position counted from the node's
    start (`position`), and the draws in the node per stratum that count (`count`: every
    stratum for the city, one column for a stratum's own position)."""

    def __init__(self, row: IntArray, position: IntArray, count: IntArray) -> None:
        self.row = row
        self.position = position.astype(np.int64)
        self.count = count.astype(np.int64)
        self.node = np.zeros(row.size, dtype=np.int64)

    def descend(self, children: IntArray, fanout: int) -> None:
        """Move each position to the child that holds it, given the draws per stratum (axis
        1) in each child (axis 2)."""
        total = children.sum(axis=1)
        passed = np.cumsum(total, axis=1)
        child = np.count_nonzero(passed <= self.position[:, None], axis=1)
        every = np.arange(child.size)
        self.position = self.position - (passed[every, child] - total[every, child])
        self.count = children[every, :, child]
        self.node = self.node * fanout + child


def _points(found: FloatArray, size: int) -> tuple[float, float]:
    """numpy's median and 90th percentile of `size` sorted values, given the values at
    `_order_positions(size)`.

    numpy's own arithmetic makes the last step, on the same numbers: the median is the mean
    of the middle one or two, and for more than one value the 90th percentile is numpy's
    linear interpolation between the two values around it with the same weight (the
    quantile at that weight of those two values). One value is its own percentile.
    """
    _, middle, gamma = _order_positions(size)
    median = float(np.median(found[:middle]))
    p90 = float(np.quantile(found[2:4], gamma)) if size > 1 else float(found[3])
    return median, p90


def _resampled_points(found: FloatArray, size: int) -> tuple[FloatArray, FloatArray]:
    """`_points` for many resamples at once (rows of `found`), with numpy's arithmetic."""
    _, middle, gamma = _order_positions(size)
    median = np.mean(found[:, :middle], axis=1)
    a, b = found[:, 2], found[:, 3]
    difference = b - a
    p90 = b - difference * (1 - gamma) if gamma >= 0.5 else a + difference * gamma
    return median, p90


@functools.cache
def _order_positions(size: int) -> tuple[IntArray, int, float]:
    """Where ``np.median`` and ``np.quantile(q=0.9)`` (linear) look in `size` sorted values.

    Returns the four positions (the middle one twice or the middle two; the two values the
    90th percentile lies between, the last one twice past the end), how many of the first
    two the median averages, and the weight of the second of the other two.
    """
    half = size // 2
    middle = [half - 1, half] if size % 2 == 0 else [half, half]
    virtual = (size - 1) * 0.9
    # numpy: floor of the virtual index, or index -1 (the last value) at or past the end.
    previous = -1 if virtual >= size - 1 else math.floor(virtual)
    gamma = virtual - previous
    low, high = (size - 1, size - 1) if previous == -1 else (previous, previous + 1)
    return np.array([*middle, low, high], dtype=np.intp), 2 if size % 2 == 0 else 1, gamma


def _row(
    label: str,
    area: str | None,
    interval: Interval,
    n: int,
    points: tuple[float, float] | None,
    boot_median: FloatArray,
    boot_p90: FloatArray,
    city: float | None,
    boot_city: FloatArray | None,
) -> ResponseTimeRow:
    """One row from the point figures (median, p90; None for no calls) and the resamples'."""
    if n == 0 or points is None:
        return ResponseTimeRow(label, area, interval, 0, *([None] * 9))
    median, p90 = points
    ratio = ratio_low = ratio_high = None
    if city is not None and boot_city is not None and city != 0:
        ratio = median / city
        if np.all(boot_city != 0):
            ratio_low, ratio_high = _percentile_interval(boot_median / boot_city)
    return ResponseTimeRow(
        label,
        area,
        interval,
        n,
        median,
        *_percentile_interval(boot_median),
        p90,
        *_percentile_interval(boot_p90),
        ratio,
        ratio_low,
        ratio_high,
    )


def _percentile_interval(draws: FloatArray) -> tuple[float, float]:
    tail = 100 * (1 - _CONFIDENCE) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


# ---------------------------------------------------------------------------------------------
# Period-over-period change


@dataclass(frozen=True)
class PeriodChange:
    """The change in one area between two periods.

    Fields:
        area: the area code.
        current, previous: counts in the two periods.
        difference: current - previous.
        ratio: the rate ratio (current / exposure_current) / (previous / exposure_previous);
            None when previous is 0.
        ratio_low, ratio_high: exact conditional 95% interval on the rate ratio; None when
            both counts are 0; ratio_high is ``math.inf`` when previous is 0.
    """

    area: str
    current: int
    previous: int
    difference: int
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None


@dataclass(frozen=True)
class PeriodChangeTable:
    """Period-over-period change per area.

    Fields:
        changes: one `PeriodChange` per area, in the order of `counts_current`.
        exposure_current, exposure_previous: the periods' lengths (or other exposure).
        method: how the ratio and its interval were computed.
    """

    changes: tuple[PeriodChange, ...]
    exposure_current: float
    exposure_previous: float
    method: str


def period_change(
    counts_current: Mapping[str, int],
    counts_previous: Mapping[str, int],
    *,
    exposure_current: float = 1.0,
    exposure_previous: float = 1.0,
) -> PeriodChangeTable:
    """The change per area from the previous period to the current one, with a rate ratio.

    Both mappings must name the same areas (give 0 for an area with no calls); exposures
    are the periods' lengths in any unit (31 and 30 days, say), equal by default.

    >>> table = period_change({"A": 30, "B": 0}, {"A": 20, "B": 0})
    >>> a, b = table.changes
    >>> a.difference, a.ratio, round(a.ratio_low, 3), round(a.ratio_high, 3)
    (10, 1.5, 0.824, 2.787)
    >>> b.ratio is None and b.ratio_low is None
    True
    """
    current = _counts(counts_current, "counts_current")
    previous = _counts(counts_previous, "counts_previous")
    if set(current) != set(previous):
        differ = sorted(set(current) ^ set(previous))
        raise ValueError(
            f"counts_previous and counts_current must name the same areas; {differ[:5]} "
            "appear in only one (give 0 for an area with no calls)"
        )
    e_c = _positive(exposure_current, "exposure_current")
    e_p = _positive(exposure_previous, "exposure_previous")
    tail = (1 - _CONFIDENCE) / 2

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * e_p / e_c

    changes = []
    for area, a in current.items():
        b = previous[area]
        ratio = low = high = None
        if a + b > 0:
            p_low = 0.0 if a == 0 else float(stats.beta.ppf(tail, a, b + 1))
            p_high = 1.0 if b == 0 else float(stats.beta.ppf(1 - tail, a + 1, b))
            low, high = to_ratio(p_low), to_ratio(p_high)
            ratio = None if b == 0 else (a / e_c) / (b / e_p)
        changes.append(PeriodChange(area, a, b, a - b, ratio, low, high))
    return PeriodChangeTable(
        changes=tuple(changes),
        exposure_current=e_c,
        exposure_previous=e_p,
        method=(
            "rate ratio (current/exposure_current)/(previous/exposure_previous); exact "
            "conditional 95% interval: Clopper-Pearson on current/(current+previous), mapped "
            "to the ratio by p/(1-p)*exposure_previous/exposure_current"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Time-of-day profile of eligible calls


#: Days of the week, Monday first (`datetime.weekday()` order).
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Why a profile cell is withheld.
Suppression = Literal["primary", "complementary"]


@dataclass(frozen=True)
class ProfileCell:
    """One cell of a time-of-day profile, as it may be published.

    Fields:
        weekday: ``Mon`` ... ``Sun``, or None for a cell of the all-days row (`by_hour`).
        hour: local hour of day, 0-23, or None for a cell of the all-hours column
            (`by_weekday`).
        count: eligible calls received in that weekday and hour, or None when suppressed.
        share: count over all eligible calls counted in the profile, or None when suppressed.
        suppressed: True when the cell is withheld.
        suppression: ``primary`` (the count is below the threshold), ``complementary``
            (withheld so that a primary cell cannot be worked out by subtraction from a
            published total), or None.
    """

    weekday: str | None
    hour: int | None
    count: int | None
    share: float | None
    suppressed: bool
    suppression: Suppression | None


@dataclass(frozen=True)
class TimeProfile:
    """Eligible calls by local day of week and hour of day, with small cells suppressed.

    Fields:
        counts: eligible calls per weekday (rows, Monday first) and hour (columns),
            unsuppressed: for internal analysis only, never for publication.
        cells: the 7 x 24 cells, Monday 0h, Monday 1h, ..., Sunday 23h, suppression applied.
        by_hour: 24 cells, all days together.
        by_weekday: 7 cells, all hours together.
        n_calls: calls given.
        n_eligible: eligible calls with a receipt time (the profile's grand total; None
            when below the threshold).
        n_eligible_no_time: eligible calls without a receipt time (counted, not placed).
        n_suppressed_primary, n_suppressed_complementary: cells (of `cells`, `by_hour` and
            `by_weekday` together) withheld for each reason.
        timezone: the IANA zone the hours and weekdays are local to.
        threshold: cells with fewer eligible calls than this are suppressed.
        method: how the profile was built and suppressed.
    """

    counts: IntArray
    cells: tuple[ProfileCell, ...]
    by_hour: tuple[ProfileCell, ...]
    by_weekday: tuple[ProfileCell, ...]
    n_calls: int
    n_eligible: int | None
    n_eligible_no_time: int
    n_suppressed_primary: int
    n_suppressed_complementary: int
    timezone: str
    threshold: int
    method: str

    def cell(self, weekday: str, hour: int) -> ProfileCell:
        """The cell for one weekday (``Mon`` ... ``Sun``) and local hour."""
        return self.cells[WEEKDAYS.index(weekday) * 24 + hour]


def eligible_time_profile(
    received: Sequence[dt.datetime | None] | npt.ArrayLike,
    eligible: Sequence[bool] | npt.ArrayLike,
    *,
    timezone: str,
    threshold: int = 10,
) -> TimeProfile:
    """When eligible calls arrive: counts by local day of week x hour of day, suppressed.

    `received` holds every call's receipt time, as in `response_times` (UTC ``datetime64``
    as DuckDB returns TIMESTAMPTZ, NaT for missing, or timezone-aware datetimes), and
    `eligible` one boolean per call (for example: public-initiated and of an eligible tier,
    with or without screening). Times are turned into local weekdays and hours in
    `timezone`, so a call at 16:30 UTC on 1 July 2024 counts at 09:00-10:00 on a Monday in
    Tacoma (PDT), and one at 17:30 UTC on 1 January 2024 also does (PST).

    Suppression, for publication: every cell (of the 7 x 24 table, of the all-days row by
    hour, and of the all-hours column by weekday) with fewer than `threshold` eligible calls
    is withheld (``primary``; a count of zero too). Because the row, column and grand totals
    are published, a line (a weekday row, an hour column, the row by hour, the column by
    weekday) whose total is published and that has exactly one withheld cell would give
    that cell away by subtraction; the smallest published cell of such a line is then
    withheld too (``complementary``, ties to the earliest), repeated until no line has a
    lone withheld cell.

    >>> import datetime as dt
    >>> monday_9am = dt.datetime(2024, 7, 1, 16, 30, tzinfo=dt.UTC)
    >>> profile = eligible_time_profile(
    ...     [monday_9am] * 3, [True, True, False], timezone="America/Los_Angeles", threshold=2
    ... )
    >>> int(profile.counts[0, 9]), profile.cell("Mon", 9).count, profile.n_eligible
    (2, 2, 2)
    >>> profile.cell("Mon", 10).suppressed, profile.by_hour[9].share
    (True, 1.0)
    """
    times = _utc_times(received, "received")
    flags = _booleans(eligible, "eligible")
    if flags.size != times.size:
        raise ValueError(
            f"received has {times.size} calls but eligible has {flags.size}; they must match"
        )
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise ValueError(f"threshold must be a non-negative integer, got {threshold!r}")
    zone = _zone(timezone)

    has_time = ~np.isnat(times)
    counted = flags & has_time
    weekday, hour = _local_weekday_hour(times[counted], zone)
    counts = np.bincount(weekday * 24 + hour, minlength=168).astype(np.int64).reshape(7, 24)
    table = _with_margins(counts)
    total = int(table[7, 24])
    state = _suppress(counts, threshold)

    def make(day: int | None, at: int | None) -> ProfileCell:
        row = 7 if day is None else day
        column = 24 if at is None else at
        weekday_name = None if day is None else WEEKDAYS[day]
        code = int(state[row, column])
        if code != _PUBLISHED:
            reason: Suppression = "primary" if code == _PRIMARY else "complementary"
            return ProfileCell(weekday_name, at, None, None, True, reason)
        count = int(table[row, column])
        return ProfileCell(weekday_name, at, count, count / total, False, None)

    cells = tuple(make(d, h) for d in range(7) for h in range(24))
    hours = tuple(make(None, h) for h in range(24))
    days = tuple(make(d, None) for d in range(7))
    reasons = [c.suppression for c in (*cells, *hours, *days)]
    counts.flags.writeable = False
    return TimeProfile(
        counts=counts,
        cells=cells,
        by_hour=hours,
        by_weekday=days,
        n_calls=int(times.size),
        n_eligible=total if total >= threshold else None,
        n_eligible_no_time=int((flags & ~has_time).sum()),
        n_suppressed_primary=reasons.count("primary"),
        n_suppressed_complementary=reasons.count("complementary"),
        timezone=timezone,
        threshold=threshold,
        method=(
            f"eligible calls by local day of week and hour of day ({timezone}) of receipt; "
            f"cells with fewer than {threshold} calls suppressed (primary), and the smallest "
            "published cell of any line with a published total and a single suppressed cell "
            "suppressed too (complementary), so no suppressed count can be recovered by "
            "subtraction within a line"
        ),
    )


_PUBLISHED, _PRIMARY, _COMPLEMENTARY = 0, 1, 2


def _with_margins(counts: IntArray) -> IntArray:
    """The 7 x 24 table in an 8 x 25 one: row 7 holds the hour totals, column 24 the weekday
    totals, and [7, 24] the grand total."""
    table = np.zeros((8, 25), dtype=np.int64)
    table[:7, :24] = counts
    table[:7, 24] = counts.sum(axis=1)
    table[7, :24] = counts.sum(axis=0)
    table[7, 24] = counts.sum()
    return table


def _suppress(counts: IntArray, threshold: int) -> npt.NDArray[np.int8]:
    """Suppression state of every cell of `_with_margins(counts)`.

    The lines are the eight rows (each adds up to its entry in column 24) and the 25
    columns (each adds up to its entry in row 7).
    """
    return suppress_table(counts, threshold)


def _margins(counts: IntArray) -> IntArray:
    rows, columns = counts.shape
    table = np.zeros((rows + 1, columns + 1), dtype=np.int64)
    table[:rows, :columns] = counts
    table[:rows, columns] = counts.sum(axis=1)
    table[rows, :columns] = counts.sum(axis=0)
    table[rows, columns] = counts.sum()
    return table


def suppress_table(
    counts: npt.ArrayLike,
    threshold: int,
    *,
    also_withheld: npt.ArrayLike | None = None,
    rows_totalled: Sequence[bool] | None = None,
) -> npt.NDArray[np.int8]:
    """Primary and complementary suppression of a table of counts with its margins.

    Args:
        counts: a rows x columns table of counts (0 or more).
        threshold: cells (and margins) under this are withheld (primary).
        also_withheld: an optional boolean (rows + 1) x (columns + 1) mask of cells to
            withhold as primary whatever their count (for example a count whose remainder
            against another published count is small).
        rows_totalled: which rows' totals are published (default: all). A row whose total
            is not published anywhere needs no complementary cell of its own.

    Returns:
        The state of every cell of the table with margins ((rows + 1) x (columns + 1): the
        last column holds the row totals, the last row the column totals): 0 published,
        1 withheld (primary), 2 withheld (complementary). Every line (a row with its total,
        a column with its total) whose total is published and that has exactly one withheld
        cell gets its smallest published cell withheld too (ties to the earliest), repeated
        until no withheld cell can be recovered by subtraction within a line. A lone
        withheld cell holding 0 needs no company: working it out tells of no call.

    >>> suppress_table([[3], [20], [30]], 10)[:, 0].tolist()
    [1, 2, 0, 0]
    """
    base = np.asarray(counts, dtype=np.int64)
    if base.ndim != 2:
        raise ValueError(f"counts: found {base.ndim} dimension(s), expected 2")
    table = _margins(base)
    n_rows, n_columns = base.shape
    state = np.where(table < threshold, _PRIMARY, _PUBLISHED).astype(np.int8)
    if also_withheld is not None:
        extra = np.asarray(also_withheld, dtype=bool)
        if extra.shape != table.shape:
            raise ValueError(f"also_withheld: found shape {extra.shape}, expected {table.shape}")
        state[extra] = _PRIMARY
    totalled = [True] * n_rows if rows_totalled is None else [bool(t) for t in rows_totalled]
    if len(totalled) != n_rows:
        raise ValueError(f"rows_totalled: found {len(totalled)} rows, expected {n_rows}")
    lines: list[tuple[tuple[int | slice, int | slice], tuple[int, int]]] = [
        *(
            ((r, slice(0, n_columns)), (r, n_columns))
            for r in range(n_rows + 1)
            if r == n_rows or totalled[r]
        ),
        *(((slice(0, n_rows), c), (n_rows, c)) for c in range(n_columns + 1)),
    ]
    changed = True
    while changed:
        changed = False
        for members, line_total in lines:
            line_state = state[members]  # a view: basic slicing
            hidden = line_state != _PUBLISHED
            if state[line_total] != _PUBLISHED or int(hidden.sum()) != 1:
                continue
            if int(table[members][hidden].sum()) == 0:
                continue  # a lone withheld zero: working it out tells of no call
            shown = np.flatnonzero(~hidden)
            if not shown.size:
                # A line of one cell: its total is the cell itself.
                state[line_total] = _COMPLEMENTARY
            else:
                smallest = shown[np.argmin(table[members][shown])]  # argmin: first of equals
                line_state[smallest] = _COMPLEMENTARY
            changed = True
    return state


def suppress_partition(counts: Sequence[int], threshold: int) -> list[bool]:
    """Which parts of a whole to withhold, when the whole is published: each part under
    `threshold` (primary), and, while exactly one part is withheld, the smallest other part
    too (complementary; ties to the earliest), so that no withheld part is the whole less
    the published ones. (`suppress_table` for a table of one column.)

    >>> suppress_partition([120, 4, 300], 10)
    [True, True, False]
    >>> suppress_partition([120, 40, 300], 10)
    [False, False, False]
    """
    if not counts:
        return []
    state = suppress_table([[int(c)] for c in counts], threshold)
    return [bool(v != _PUBLISHED) for v in state[:-1, 0].tolist()]


def _local_weekday_hour(
    times: npt.NDArray[np.datetime64], zone: zoneinfo.ZoneInfo
) -> tuple[IntArray, IntArray]:
    """Local weekday (Monday 0) and hour of UTC times.

    The zone's offset is looked up at the start and end of each UTC day holding a time; on a
    day where the two differ the moment of change is found by bisection, to the second.
    (Offsets change at most once within a day in every zone's rules.)
    """

    def offset_at(second: int) -> int:
        delta = dt.datetime.fromtimestamp(second, tz=zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    seconds = times.astype("datetime64[s]").astype(np.int64)
    days = seconds // 86400
    distinct, position = _distinct_days(days)
    starts = [offset_at(day * 86400) for day in distinct.tolist()]
    offset = np.array(starts, dtype=np.int64)[position]
    for index, day in enumerate(distinct.tolist()):
        after = offset_at((day + 1) * 86400)
        if after == starts[index]:
            continue
        low, high = day * 86400, (day + 1) * 86400
        while high - low > 1:
            middle = (low + high) // 2
            if offset_at(middle) == starts[index]:
                low = middle
            else:
                high = middle
        offset[(position == index) & (seconds >= high)] = after
    local = seconds + offset
    # 1 January 1970 was a Thursday (weekday 3).
    return (local // 86400 + 3) % 7, local // 3600 % 24


def _distinct_days(days: IntArray) -> tuple[IntArray, IntArray]:
    """The sorted distinct days and each value's index among them (``np.unique`` with
    ``return_inverse``), by counting when the days span a short range, as a year of calls
    does: counting 10 million calls takes a fraction of the sort ``np.unique`` does."""
    if days.size:
        first, last = int(days.min()), int(days.max())
        span = last - first + 1
        if span <= 4 * days.size + 100_000:
            shifted = days - first
            present = np.bincount(shifted, minlength=span) > 0
            distinct = np.flatnonzero(present) + first
            rank = np.cumsum(present) - 1
            return distinct.astype(np.int64), rank[shifted]
    found, position = np.unique(days, return_inverse=True)
    return found, position.ravel()


def _zone(name: object) -> zoneinfo.ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError(f"timezone must be an IANA time zone name, got {name!r}")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"timezone {name!r} is not an IANA time zone (expected a name such as "
            "'America/Los_Angeles')"
        ) from None


def _booleans(values: object, name: str) -> npt.NDArray[np.bool_]:
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise ValueError(f"{name} must be a sequence or 1-D array of booleans")
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size and array.dtype != np.bool_:
        bad = next((i for i, v in enumerate(array.tolist()) if not isinstance(v, bool)), None)
        if bad is not None:
            raise ValueError(f"{name}[{bad}] is {array[bad]!r}, expected True or False")
    return array.astype(bool)


# ---------------------------------------------------------------------------------------------
# Input checks


def _labels(values: object, name: str) -> list[str | None]:
    """Per-call labels: None, NaN and empty text become None; numbers become text."""
    return [_label(value, name, position) for position, value in enumerate(_items(values, name))]


def _items(values: object, name: str) -> Sequence[object] | npt.NDArray[np.object_]:
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise ValueError(f"{name} must be a sequence or 1-D array, got {type(values).__name__}")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {values.shape}")
    if isinstance(values, np.ma.MaskedArray):
        filled: npt.NDArray[np.object_] = np.ma.filled(values.astype(object), None)
        return filled
    return values


def _label(value: object, name: str, position: int) -> str | None:
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return None
    if isinstance(value, str | np.str_):
        return str(value).strip() or None
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{name}[{position}] is {value!r}, expected text or None")


def _label_codes(values: object, name: str) -> tuple[IntArray, list[str | None]]:
    """`_labels` as codes into a list of distinct labels, in order of first appearance.

    Each distinct text is cleaned once (millions of calls carry a few dozen labels).
    """
    items = _items(values, name)
    if set(map(type, items)) <= {str, type(None)}:
        # Only exact str and None: the distinct values can be found with a set.
        label_of = {v: None if v is None else v.strip() or None for v in set(items)}
        found = sorted(set(label_of.values()), key=lambda label: (label is None, label or ""))
        code_of = {label: code for code, label in enumerate(found)}
        lookup = {value: code_of[label] for value, label in label_of.items()}
        codes_of_items = np.fromiter(map(lookup.__getitem__, items), np.int64, len(items))
        return codes_of_items, found
    labels: list[str | None] = []
    code_of_label: dict[str | None, int] = {}
    code_of_text: dict[str, int] = {}
    codes: list[int] = []
    append = codes.append
    for position, value in enumerate(items):
        # Exactly str: other types (even equal to a str) go through `_label`'s checks.
        if type(value) is str:
            code = code_of_text.get(value)
            if code is not None:
                append(code)
                continue
        label = _label(value, name, position)
        code = code_of_label.get(label)
        if code is None:
            code = code_of_label[label] = len(labels)
            labels.append(label)
        if type(value) is str:
            code_of_text[value] = code
        append(code)
    return np.array(codes, dtype=np.int64), labels


def _months(values: object, name: str) -> list[str]:
    labels = _labels(values, name)
    for position, label in enumerate(labels):
        if label is None or not _MONTH.fullmatch(label):
            raise ValueError(
                f"{name}[{position}] is {label!r}, expected a 'YYYY-MM' month such as '2024-03'"
            )
    return [label for label in labels if label is not None]


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return number


def _populations(population_by_area: Mapping[str, float]) -> tuple[tuple[str, ...], FloatArray]:
    if not isinstance(population_by_area, Mapping) or not population_by_area:
        raise ValueError("population_by_area must be a non-empty mapping of area code to residents")
    codes = tuple(str(code) for code in population_by_area)
    for code, value in population_by_area.items():
        _positive(value, f"population_by_area[{code!r}]")
    return codes, np.array([float(v) for v in population_by_area.values()], dtype=np.float64)


def _counts(counts: Mapping[str, int], name: str) -> dict[str, int]:
    if not isinstance(counts, Mapping):
        raise ValueError(f"{name} must be a mapping of area code to count")
    checked = {}
    for area, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name}[{area!r}] must be a non-negative integer, got {value!r}")
        checked[str(area)] = int(value)
    return checked


def _utc_times(values: object, name: str) -> npt.NDArray[np.datetime64]:
    """Times as datetime64[us] in UTC; NaT for missing."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        if values.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {values.shape}")
        filled = np.ma.filled(values, np.datetime64("NaT"))
        return np.asarray(filled, dtype="datetime64[us]")
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise ValueError(f"{name} must be a datetime64 array or a sequence of datetimes")
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
    for position, value in enumerate(values):
        if value is None:
            continue
        if not isinstance(value, dt.datetime):
            raise ValueError(f"{name}[{position}] is {value!r}, expected a datetime or None")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name}[{position}] is a naive datetime; give a timezone-aware one")
        utc = value.astimezone(dt.UTC).replace(tzinfo=None)
        out[position] = np.datetime64(utc, "us")
    return out


# ---------------------------------------------------------------------------------------------
# Eligibility by area, and eligible calls by area and hour of the week


@dataclass(frozen=True)
class AreaEligibility:
    """One area's calls started by the public and those eligible for an alternative response.

    Fields:
        area: the area's code.
        calls: calls started by the public in the area (None: withheld).
        eligible_by_type, eligible_after_screening: those eligible by call type alone and
            after screening (None: withheld).
        share_by_type, share_after_screening: the eligible counts over `calls` (None when
            either count is withheld).
        suppressed: whether any figure of the row is withheld.
    """

    area: str
    calls: int | None
    eligible_by_type: int | None
    eligible_after_screening: int | None
    share_by_type: float | None
    share_after_screening: float | None
    suppressed: bool


@dataclass(frozen=True)
class EligibilityByArea:
    """`eligibility_by_area`'s result.

    Fields:
        rows: one per area, in the order of `codes`.
        counts: the unsuppressed counts ((areas + 1) x 3: calls, by type, after screening;
            the last row is the calls outside every area); for internal use only.
        threshold: the suppression threshold.
        method: the rules in words.
    """

    rows: tuple[AreaEligibility, ...]
    counts: IntArray
    threshold: int
    method: str


def eligibility_by_area(
    public: npt.ArrayLike,
    eligible_by_type: npt.ArrayLike,
    eligible_after_screening: npt.ArrayLike,
    area_index: npt.ArrayLike,
    codes: Sequence[str],
    *,
    threshold: int = 10,
) -> EligibilityByArea:
    """The share of calls started by the public that is eligible for an alternative
    response, by type alone (high) and after screening (low), per area, suppressed.

    Args:
        public, eligible_by_type, eligible_after_screening: one boolean per call; the
            eligible calls must be calls started by the public, and those eligible after
            screening eligible by type.
        area_index: each call's area (an index into `codes`; negative: outside every area
            or without a location).
        codes: the areas' codes.
        threshold: counts under this are withheld.

    Suppression: a count under `threshold` is withheld, and so is an eligible count whose
    remainder (calls less eligible by type, calls or eligible by type less eligible after
    screening) is positive and under `threshold`, since subtraction would give the
    remainder away. Then each column (calls, by type, after screening) is a line of the
    areas plus the calls outside every area (counted as published, conservatively) adding
    up to the citywide figure: where the total is published and one cell is withheld, the
    smallest published cell is withheld too, repeated. A share is withheld when either of
    its counts is.

    >>> found = eligibility_by_area(
    ...     [True] * 60,
    ...     [True] * 25 + [False] * 15 + [True] * 10 + [False] * 10,
    ...     [True] * 12 + [False] * 28 + [True] * 10 + [False] * 10,
    ...     [0] * 40 + [-1] * 20, ["A"], threshold=10,
    ... )
    >>> row = found.rows[0]
    >>> row.calls, row.eligible_by_type, row.eligible_after_screening, row.share_after_screening
    (40, 25, 12, 0.3)
    """
    flags = [
        _booleans(values, name)
        for values, name in (
            (public, "public"),
            (eligible_by_type, "eligible_by_type"),
            (eligible_after_screening, "eligible_after_screening"),
        )
    ]
    index = np.asarray(area_index, dtype=np.int64)
    if any(f.size != index.size for f in flags):
        raise ValueError(
            "public, eligible_by_type, eligible_after_screening and area_index differ in length"
        )
    if np.any(flags[1] & ~flags[0]) or np.any(flags[2] & ~flags[1]):
        raise ValueError(
            "eligible_by_type must be a subset of public, and eligible_after_screening of "
            "eligible_by_type"
        )
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise ValueError(f"threshold must be a non-negative integer, got {threshold!r}")
    n_areas = len(codes)
    if index.size and int(index.max(initial=-1)) >= n_areas:
        raise ValueError(f"area_index: found {int(index.max())}, expected below {n_areas}")
    # One count per area of each call's level (0: not started by the public, 1: public,
    # 2: also eligible by type, 3: also after screening: the flags nest), instead of one
    # masked count per flag: the same numbers, one pass over the calls.
    level = flags[0].astype(np.int8)
    level += flags[1]
    level += flags[2]
    row = np.where(index >= 0, index, n_areas)
    row *= 4
    row += level
    by_level = np.bincount(row, minlength=(n_areas + 1) * 4).reshape(n_areas + 1, 4)
    at_least = np.cumsum(by_level[:, ::-1], axis=1)[:, ::-1]
    counts = at_least[:, 1:].astype(np.int64)
    calls, by_type, screened = counts[:, 0], counts[:, 1], counts[:, 2]

    def small(rest: IntArray) -> npt.NDArray[np.bool_]:
        return (rest > 0) & (rest < threshold)

    remainder = {
        1: small(calls - by_type),
        2: small(by_type - screened) | small(calls - screened),
    }
    states = []
    for column in range(3):
        extra = np.zeros((n_areas + 2, 2), dtype=bool)
        if column in remainder:
            extra[: n_areas + 1, 0] = remainder[column]
        state = suppress_table(counts[:, column : column + 1], threshold, also_withheld=extra)
        states.append(state[: n_areas + 1, 0])
    shown = np.stack(states, axis=1) == _PUBLISHED

    rows = []
    for i, code in enumerate(codes):
        values = [int(counts[i, c]) if shown[i, c] else None for c in range(3)]
        n = values[0]

        def share(part: int | None, n: int | None = n) -> float | None:
            return part / n if part is not None and n else None

        rows.append(
            AreaEligibility(
                area=str(code),
                calls=values[0],
                eligible_by_type=values[1],
                eligible_after_screening=values[2],
                share_by_type=share(values[1]),
                share_after_screening=share(values[2]),
                suppressed=not bool(shown[i].all()),
            )
        )
    counts.flags.writeable = False
    return EligibilityByArea(
        rows=tuple(rows),
        counts=counts,
        threshold=threshold,
        method=(
            "calls started by the public in each area, and those eligible for an alternative "
            "response by call type alone (high) and after screening (low); counts under "
            f"{threshold} withheld, an eligible count withheld where its remainder is under "
            f"{threshold}, and complementary suppression within each column (the areas and "
            "the calls outside every area add up to the citywide figure); a share is "
            "withheld with either of its counts"
        ),
    )


@dataclass(frozen=True)
class AreaWeekProfile:
    """Eligible calls by area and local hour of the week (Monday 00:00 = hour 0).

    Fields:
        areas: the areas' codes, the rows.
        counts: the unsuppressed counts (areas x 168); for internal use only.
        state: the suppression state of each published cell (areas x 168): 0 published,
            1 withheld (primary), 2 withheld (complementary).
        n_no_time: eligible calls without a receipt time (left out).
        method: the rules in words.
    """

    areas: tuple[str, ...]
    counts: IntArray
    state: npt.NDArray[np.int8]
    n_no_time: int
    method: str

    def published(self, area: int, hour: int) -> int | None:
        """The count as published: None where withheld."""
        if self.state[area, hour] != _PUBLISHED:
            return None
        return int(self.counts[area, hour])

    def suppression(self, area: int, hour: int) -> Suppression | None:
        """Why a cell is withheld (None: published)."""
        code = int(self.state[area, hour])
        if code == _PUBLISHED:
            return None
        return "primary" if code == _PRIMARY else "complementary"


def eligible_week_by_area(
    received: npt.ArrayLike,
    eligible: npt.ArrayLike,
    area_index: npt.ArrayLike,
    codes: Sequence[str],
    *,
    timezone: str,
    threshold: int = 10,
) -> AreaWeekProfile:
    """Eligible calls by area x local hour of the week, for placing shifts in space and time.

    Calls outside every area form a row of their own for suppression (treated as published,
    conservatively) but are not returned. Every cell under `threshold` is withheld, and the
    table gets complementary suppression over its rows (an area's week, totalling the
    area's eligible calls) and columns (an hour of the week over the areas, totalling the
    citywide cell), as in `eligible_time_profile`.

    >>> import datetime as dt
    >>> monday_9am = dt.datetime(2024, 7, 1, 16, 30, tzinfo=dt.UTC)
    >>> week = eligible_week_by_area(
    ...     [monday_9am] * 3, [True] * 3, [0, 0, 1], ["A", "B"],
    ...     timezone="America/Los_Angeles", threshold=2,
    ... )
    >>> week.published(0, 9), week.published(1, 9), week.suppression(1, 9)
    (2, None, 'primary')
    """
    times = _utc_times(received, "received")
    flags = _booleans(eligible, "eligible")
    index = np.asarray(area_index, dtype=np.int64)
    if flags.size != times.size or index.size != times.size:
        raise ValueError("received, eligible and area_index differ in length")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise ValueError(f"threshold must be a non-negative integer, got {threshold!r}")
    zone = _zone(timezone)
    n_areas = len(codes)
    has_time = ~np.isnat(times)
    counted = flags & has_time
    weekday, hour = _local_weekday_hour(times[counted], zone)
    row = np.where(index[counted] >= 0, index[counted], n_areas)
    counts = (
        np.bincount(row * 168 + weekday * 24 + hour, minlength=(n_areas + 1) * 168)
        .astype(np.int64)
        .reshape(n_areas + 1, 168)
    )
    state = suppress_table(counts, threshold)[:n_areas, :168].copy()
    published = counts[:n_areas].copy()
    published.flags.writeable = False
    state.flags.writeable = False
    return AreaWeekProfile(
        areas=tuple(str(c) for c in codes),
        counts=published,
        state=state,
        n_no_time=int((flags & ~has_time).sum()),
        method=(
            f"eligible calls by area and local hour of the week ({timezone}) of receipt; "
            f"cells with fewer than {threshold} calls withheld, with complementary "
            "suppression over each area's week and each hour across the areas"
        ),
    )
