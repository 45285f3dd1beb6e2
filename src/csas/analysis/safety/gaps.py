"""Service gaps and what-if allocation of alternative-responder shifts.

Two analyses for action 3.3 ("use equity and data-driven approaches to allocate community
safety resources and address service gaps") and action 3.6 (alternatives to commissioned
public safety responses).

Service-gap index (`service_gap_index`)
    Each area has *need* indicators (Equity Index, calls per capita, perceived safety...)
    and *service* indicators (median response time, alternative-responder coverage...).
    Every indicator is standardised across areas to a z-score, ``z = s (x - mean) / sd``
    with the population standard deviation (ddof 0) and ``s = +1`` when a higher raw value
    is worse (more need, worse service) and ``s = -1`` otherwise, so that a higher z always
    means more need or a worse service. An indicator that is the same in every area has no
    spread and gets z = 0 everywhere. The caller gives a weight for every indicator; the
    weights are normalised to sum to 1 within the need group and within the service group,
    and

        need score        = sum over need indicators    of weight * z
        service-gap score = sum over service indicators of weight * z
        gap               = need score + service-gap score

    so need and service count equally, and an area scores high when it has much need and a
    poor service. Rank 1 is the largest gap; ties keep the order of `areas`.

    The sensitivity view re-scores the areas once per indicator with its weight set to zero
    and once with it doubled (then re-normalised within its group; a group whose weights
    all become zero contributes nothing) and reports Spearman's rho between the new and
    the base gap scores and which areas enter or leave the top k.

What-if allocation (`allocate_shifts`)
    Given counts of calls eligible for an alternative response per area and hour, choose
    `shifts` shifts, each covering one area for `shift_length` consecutive hours, to cover
    as many eligible calls as possible. The hour axis is cyclic (hour of day or hour of
    week repeats), so a shift starting late wraps round to the first hours. A call is
    covered once however many shifts cover its area and hour. The integer program, solved
    with HiGHS (``highspy``):

        maximise    sum_{a,t} c[a,t] y[a,t]
        subject to  y[a,t] <= sum_{h : shift (a, h) covers t} x[a,h]   for every c[a,t] > 0
                    sum_{a,h} x[a,h] = shifts
                    x[a,h] in {0, 1},  0 <= y[a,t] <= 1

    x[a,h] = 1 starts a shift in area a at hour h. y need not be declared integer: for
    integer x, an optimal y is min(1, number of covering shifts), which is 0 or 1. With
    ``integer=False`` x is relaxed to [0, 1] and the linear-programming bound is returned.

Example: three areas over six hours; two three-hour shifts cover hours 0-2 of area "A" (9
calls) and hours 3-5 of area "C" (7 calls), 16 of 20 calls.

>>> import numpy as np
>>> calls = np.array([[4, 3, 2, 0, 0, 0],
...                   [0, 1, 0, 1, 0, 1],
...                   [0, 0, 1, 2, 2, 3]])
>>> plan = allocate_shifts(calls, shifts=2, shift_length=3, areas=["A", "B", "C"],
...                        hours_per_day=6)
>>> [(s.area, s.start_hour) for s in plan.shifts], plan.calls_covered, plan.status
([('A', 0), ('C', 3)], 16.0, 'Optimal')

And a gap index for three areas with one need and one service indicator:

>>> index = service_gap_index(
...     ["North", "Central", "South"],
...     need={"calls_per_1000": {"North": 40.0, "Central": 90.0, "South": 120.0}},
...     service={"median_response_min": {"North": 9.0, "Central": 7.0, "South": 14.0}},
...     weights={"calls_per_1000": 1.0, "median_response_min": 1.0},
...     higher_is_worse={"calls_per_1000": True, "median_response_min": True},
...     top_k=1,
... )
>>> index.ranked_areas
('South', 'Central', 'North')
>>> [round(float(g), 2) for g in index.gap]
[-1.65, -0.82, 2.47]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

import highspy
import numpy as np
import numpy.typing as npt
from scipy import sparse, stats

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Group = Literal["need", "service"]
WeightChange = Literal["zero", "double"]


def _frozen(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    array.setflags(write=False)
    return array


# --------------------------------------------------------------------------------------
# Service-gap index
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightSensitivity:
    """How the ranking changes when one indicator's weight is zeroed or doubled.

    Fields:
        indicator: the indicator whose weight was changed.
        group: "need" or "service".
        change: "zero" (weight set to 0) or "double" (weight multiplied by 2); the group's
            weights are then normalised to sum to 1 again.
        spearman_rho: Spearman's rank correlation between the new and the base gap scores
            (1: same order); NaN when either set of scores is constant.
        entered_top_k: areas in the new top k that were not in the base top k, in new
            rank order.
        left_top_k: areas in the base top k that are not in the new top k, in base rank
            order.
        max_rank_shift: the largest absolute change of any area's rank.
        rank: the new rank of each area, in the order of `areas` (1: largest gap).
    """

    indicator: str
    group: Group
    change: WeightChange
    spearman_rho: float
    entered_top_k: tuple[str, ...]
    left_top_k: tuple[str, ...]
    max_rank_shift: int
    rank: IntArray


@dataclass(frozen=True)
class GapIndex:
    """Per-area service-gap index with its weights, ranking and sensitivity view.

    Arrays are per area, in the order of `areas`; `standardised` has one column per
    indicator, in the order of `indicators`.

    Fields:
        areas: the areas, as given.
        indicators: need indicators, then service indicators, each group in input order.
        groups: "need" or "service" for each indicator.
        raw_weights: the weights as given, by indicator.
        weights: the weights normalised to sum to 1 within each group, by indicator.
        higher_is_worse: the direction of each indicator, as given.
        standardised: z-scores (areas x indicators), signed so higher = more need or worse
            service; 0 for an indicator with no spread.
        constant_indicators: indicators with the same value in every area (z = 0).
        need_score: weighted sum of the need z-scores.
        service_gap_score: weighted sum of the service z-scores.
        gap: need_score + service_gap_score.
        rank: 1 for the largest gap; ties keep the order of `areas`.
        ranked_areas: the areas from the largest gap to the smallest.
        top_k: how many leading areas the sensitivity view compares (at most n).
        sensitivity: one entry per indicator and change ("zero", then "double").
        n: number of areas.
        method: a sentence describing the index, for reports.
    """

    areas: tuple[str, ...]
    indicators: tuple[str, ...]
    groups: tuple[Group, ...]
    raw_weights: Mapping[str, float]
    weights: Mapping[str, float]
    higher_is_worse: Mapping[str, bool]
    standardised: FloatArray
    constant_indicators: tuple[str, ...]
    need_score: FloatArray
    service_gap_score: FloatArray
    gap: FloatArray
    rank: IntArray
    ranked_areas: tuple[str, ...]
    top_k: int
    sensitivity: tuple[WeightSensitivity, ...]
    n: int
    method: str


def _check_areas(areas: Sequence[str]) -> tuple[str, ...]:
    if isinstance(areas, str):
        raise ValueError("areas: expected a sequence of area names, found a single string")
    names = tuple(areas)
    for name in names:
        if not isinstance(name, str):
            raise ValueError(f"areas: expected area names as strings, found {name!r}")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"areas: {name!r} is listed more than once")
        seen.add(name)
    return names


def _indicator_matrix(
    argument: str, table: Mapping[str, Mapping[str, float]], areas: tuple[str, ...]
) -> tuple[list[str], FloatArray]:
    names = list(table)
    matrix = np.empty((len(areas), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        values = table[name]
        unknown = sorted(set(values) - set(areas))
        if unknown:
            raise ValueError(
                f"{argument}[{name!r}]: value for area(s) {unknown} not in areas; "
                "expected values for the listed areas only"
            )
        for i, area in enumerate(areas):
            if area not in values:
                raise ValueError(
                    f"{argument}[{name!r}]: no value for area {area!r}; "
                    "every indicator needs a value for every area"
                )
            value = float(values[area])
            if not math.isfinite(value):
                raise ValueError(
                    f"{argument}[{name!r}][{area!r}]: found {value}, expected a finite number"
                )
            matrix[i, j] = value
    return names, matrix


def _standardise(matrix: FloatArray, signs: FloatArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    mean = matrix.mean(axis=0)
    sd = matrix.std(axis=0)
    # Relative tolerance: values equal up to rounding have no real spread.
    scale = np.maximum(np.abs(mean), 1.0)
    constant = sd <= 1e-12 * scale
    safe_sd = np.where(constant, 1.0, sd)
    z = (matrix - mean) / safe_sd * signs
    z[:, constant] = 0.0
    return z, constant


def _normalise(weights: FloatArray, groups: tuple[Group, ...]) -> FloatArray:
    """Normalise within each group; a group whose weights sum to 0 contributes nothing."""
    group_array = np.array(groups)
    out = np.zeros_like(weights)
    for group in get_args(Group):
        mask = group_array == group
        total = weights[mask].sum()
        if total > 0:
            out[mask] = weights[mask] / total
    return out


def _ordinal_rank(gap: FloatArray) -> IntArray:
    # Stable sort on -gap: ties keep the input order of the areas.
    order = np.argsort(-gap, kind="stable")
    rank = np.empty(gap.size, dtype=np.int64)
    rank[order] = np.arange(1, gap.size + 1)
    return rank


def _scores(
    z: FloatArray, weights: FloatArray, groups: tuple[Group, ...]
) -> tuple[FloatArray, FloatArray]:
    normalised = _normalise(weights, groups)
    group_array = np.array(groups)
    need = z[:, group_array == "need"] @ normalised[group_array == "need"]
    service = z[:, group_array == "service"] @ normalised[group_array == "service"]
    return need.astype(np.float64), service.astype(np.float64)


def _spearman(a: FloatArray, b: FloatArray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(stats.spearmanr(a, b).statistic)


def service_gap_index(
    areas: Sequence[str],
    need: Mapping[str, Mapping[str, float]],
    service: Mapping[str, Mapping[str, float]],
    *,
    weights: Mapping[str, float],
    higher_is_worse: Mapping[str, bool],
    top_k: int = 5,
) -> GapIndex:
    """Score each area's need against its service; see the module docstring for the method.

    Args:
        areas: the areas to compare (at least two), names unique.
        need: need indicator -> area -> value, e.g. calls per 1,000 residents.
        service: service indicator -> area -> value, e.g. median response minutes.
        weights: a non-negative weight for every indicator; normalised within each group.
        higher_is_worse: for every indicator, True when a higher raw value means more need
            or a worse service (response time), False when it means less need or a better
            service (Equity Index opportunity score, alternative-responder coverage).
        top_k: how many leading areas the sensitivity view compares (capped at n).

    Raises:
        ValueError: naming the argument, indicator and area when an input is missing,
            unknown, duplicated, negative or not finite.
    """
    names = _check_areas(areas)
    if len(names) < 2:
        raise ValueError(f"areas: found {len(names)} area(s), expected at least 2 to compare")
    if not need:
        raise ValueError("need: no indicators given, expected at least one")
    if not service:
        raise ValueError("service: no indicators given, expected at least one")
    both = sorted(set(need) & set(service))
    if both:
        raise ValueError(f"need and service: indicator(s) {both} appear in both; names must differ")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k: found {top_k!r}, expected a positive integer")

    need_names, need_matrix = _indicator_matrix("need", need, names)
    service_names, service_matrix = _indicator_matrix("service", service, names)
    indicators = tuple(need_names + service_names)
    need_group: list[Group] = ["need"] * len(need_names)
    service_group: list[Group] = ["service"] * len(service_names)
    groups = tuple(need_group + service_group)
    known = set(indicators)

    for argument, mapping in (("weights", weights), ("higher_is_worse", higher_is_worse)):
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ValueError(
                f"{argument}: unknown indicator(s) {unknown}; expected names from need or "
                f"service: {sorted(known)}"
            )
        missing = [name for name in indicators if name not in mapping]
        if missing:
            raise ValueError(f"{argument}: no entry for indicator(s) {missing}; give every one")
    raw = np.empty(len(indicators), dtype=np.float64)
    for j, name in enumerate(indicators):
        weight = float(weights[name])
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(
                f"weights[{name!r}]: found {weight}, expected a finite non-negative number"
            )
        raw[j] = weight
        if not isinstance(higher_is_worse[name], bool | np.bool_):
            raise ValueError(
                f"higher_is_worse[{name!r}]: found {higher_is_worse[name]!r}, expected True/False"
            )
    group_array = np.array(groups)
    for group in get_args(Group):
        if raw[group_array == group].sum() <= 0:
            raise ValueError(
                f"weights: the {group} indicators' weights sum to 0; give at least one a "
                "positive weight"
            )

    signs = np.array([1.0 if higher_is_worse[name] else -1.0 for name in indicators])
    z, constant = _standardise(np.hstack([need_matrix, service_matrix]), signs)
    need_score, service_score = _scores(z, raw, groups)
    gap = need_score + service_score
    rank = _ordinal_rank(gap)
    order = np.argsort(rank)
    ranked = tuple(names[i] for i in order)
    k = min(top_k, len(names))
    base_top = ranked[:k]

    sensitivity: list[WeightSensitivity] = []
    for j, name in enumerate(indicators):
        for change in get_args(WeightChange):
            changed = raw.copy()
            changed[j] = 0.0 if change == "zero" else 2.0 * raw[j]
            new_need, new_service = _scores(z, changed, groups)
            new_gap = new_need + new_service
            new_rank = _ordinal_rank(new_gap)
            new_ranked = tuple(names[i] for i in np.argsort(new_rank))
            new_top = new_ranked[:k]
            sensitivity.append(
                WeightSensitivity(
                    indicator=name,
                    group=groups[j],
                    change=change,
                    spearman_rho=_spearman(gap, new_gap),
                    entered_top_k=tuple(a for a in new_top if a not in base_top),
                    left_top_k=tuple(a for a in base_top if a not in new_top),
                    max_rank_shift=int(np.abs(new_rank - rank).max()),
                    rank=_frozen(new_rank),  # type: ignore[arg-type]
                )
            )

    normalised = _normalise(raw, groups)
    method = (
        f"Service-gap index over {len(names)} areas: {len(need_names)} need and "
        f"{len(service_names)} service indicator(s) standardised to z-scores (population SD, "
        "signed so higher is worse), weighted within each group with weights normalised to "
        "sum to 1; gap = need score + service-gap score; sensitivity: each weight set to 0 "
        f"and doubled, Spearman rho against the base scores and changes to the top {k}."
    )
    return GapIndex(
        areas=names,
        indicators=indicators,
        groups=groups,
        raw_weights=MappingProxyType({n: float(w) for n, w in zip(indicators, raw, strict=True)}),
        weights=MappingProxyType(
            {n: float(w) for n, w in zip(indicators, normalised, strict=True)}
        ),
        higher_is_worse=MappingProxyType({n: bool(higher_is_worse[n]) for n in indicators}),
        standardised=_frozen(z),  # type: ignore[arg-type]
        constant_indicators=tuple(n for n, c in zip(indicators, constant, strict=True) if c),
        need_score=_frozen(need_score),  # type: ignore[arg-type]
        service_gap_score=_frozen(service_score),  # type: ignore[arg-type]
        gap=_frozen(gap),  # type: ignore[arg-type]
        rank=_frozen(rank),  # type: ignore[arg-type]
        ranked_areas=ranked,
        top_k=k,
        sensitivity=tuple(sensitivity),
        n=len(names),
        method=method,
    )


# --------------------------------------------------------------------------------------
# What-if allocation of alternative-responder shifts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shift:
    """One alternative-responder shift in a plan.

    Fields:
        area: the area it covers.
        start_hour: its first hour, a column of the call counts (0-based).
        day: ``start_hour // hours_per_day`` (0 for hour-of-day data).
        hour_of_day: ``start_hour % hours_per_day``.
        length: hours covered, wrapping round from the last column to the first.
        value: the start variable's value: 1 in an integer plan, between 0 and 1 in the
            linear relaxation.
    """

    area: str
    start_hour: int
    day: int
    hour_of_day: int
    length: int
    value: float


@dataclass(frozen=True)
class Allocation:
    """The best placement of alternative-responder shifts found by HiGHS.

    Fields:
        shifts: the chosen shifts, by area order then start hour; with ``integer=False``
            every start with a positive fractional value.
        areas: the areas, in the order of the rows of the call counts.
        coverage: share of each area-hour covered (areas x hours): 0 or 1 in an integer
            plan, fractional in the relaxation.
        calls_covered: eligible calls covered (the objective value).
        total_calls: all eligible calls in the input.
        share_covered: calls_covered / total_calls (0 when there are no calls).
        calls_covered_by_area: covered calls per area.
        lp_bound: the optimum of the linear relaxation, an upper bound on calls_covered.
        mip_gap: (lp_bound - calls_covered) / lp_bound from the root relaxation bound
            (0 when lp_bound is 0 or with ``integer=False``).
        solver_gap: HiGHS's own relative gap between its best solution and its dual bound
            at the end of the search (0 with ``integer=False``).
        integer: whether shift starts were integer (False: the linear relaxation).
        status: HiGHS's model status, e.g. "Optimal" or "Time limit reached".
        solve_seconds: HiGHS run time of the main solve, in seconds.
        shift_count: the number of shifts asked for.
        shift_length: hours per shift.
        hours_per_day: hours in a day on the hour axis.
        method: a sentence describing the model, for reports.
    """

    shifts: tuple[Shift, ...]
    areas: tuple[str, ...]
    coverage: FloatArray
    calls_covered: float
    total_calls: float
    share_covered: float
    calls_covered_by_area: FloatArray
    lp_bound: float
    mip_gap: float
    solver_gap: float
    integer: bool
    status: str
    solve_seconds: float
    shift_count: int
    shift_length: int
    hours_per_day: int
    method: str


def _check_positive_int(argument: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{argument}: found {value!r}, expected an integer")
    if value < minimum:
        raise ValueError(f"{argument}: found {value}, expected at least {minimum}")
    return int(value)


@dataclass(frozen=True)
class _Model:
    lp: highspy.HighsLp
    n_starts: int


def _build_model(counts: FloatArray, *, shifts: int, shift_length: int, integer: bool) -> _Model:
    n_areas, n_hours = counts.shape
    n_starts = n_areas * n_hours
    cells = np.flatnonzero(counts.ravel() > 0)
    n_cols = n_starts + cells.size

    # Row 0: sum x = shifts. Row 1 + r: y_cell - sum of covering x <= 0.
    rows: list[int] = [0] * n_starts
    cols: list[int] = list(range(n_starts))
    vals: list[float] = [1.0] * n_starts
    for r, cell in enumerate(cells):
        area, hour = divmod(int(cell), n_hours)
        rows.append(1 + r)
        cols.append(n_starts + r)
        vals.append(1.0)
        for offset in range(shift_length):
            start = (hour - offset) % n_hours
            rows.append(1 + r)
            cols.append(area * n_hours + start)
            vals.append(-1.0)
    matrix = sparse.csc_array(
        (np.array(vals), (np.array(rows), np.array(cols))), shape=(1 + cells.size, n_cols)
    )
    matrix.sort_indices()

    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = 1 + cells.size
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([np.zeros(n_starts), counts.ravel()[cells]])
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.ones(n_cols)
    lp.row_lower_ = np.concatenate([[float(shifts)], np.full(cells.size, -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([[float(shifts)], np.zeros(cells.size)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_starts + [
            highspy.HighsVarType.kContinuous
        ] * int(cells.size)
    return _Model(lp=lp, n_starts=n_starts)


@dataclass(frozen=True)
class _Solution:
    x: FloatArray
    objective: float
    status: str
    seconds: float
    solver_gap: float


def _solve(model: _Model, *, time_limit: float | None) -> _Solution:
    # highspy's Highs() constructor carries no annotations.
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("random_seed", 0)
    highs.setOptionValue("threads", 1)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    if highs.passModel(model.lp) != highspy.HighsStatus.kOk:
        raise RuntimeError("HiGHS rejected the allocation model")
    highs.run()
    status = str(highs.modelStatusToString(highs.getModelStatus()))
    info = highs.getInfo()
    values = np.asarray(highs.getSolution().col_value, dtype=np.float64)
    if values.size < model.n_starts:
        raise RuntimeError(f"HiGHS found no solution to the allocation model: {status}")
    gap = float(info.mip_gap) if model.lp.integrality_ else 0.0
    return _Solution(
        x=values[: model.n_starts],
        objective=float(info.objective_function_value),
        status=status,
        seconds=float(highs.getRunTime()),
        solver_gap=gap if math.isfinite(gap) else math.inf,
    )


def _coverage(x: FloatArray, n_hours: int, shift_length: int) -> FloatArray:
    x2 = x.reshape(-1, n_hours)
    covering = np.zeros_like(x2)
    for offset in range(shift_length):
        covering += np.roll(x2, offset, axis=1)
    return np.minimum(covering, 1.0)


def allocate_shifts(
    eligible_calls: npt.ArrayLike,
    *,
    shifts: int,
    shift_length: int,
    areas: Sequence[str],
    hours_per_day: int = 24,
    integer: bool = True,
    time_limit: float | None = None,
) -> Allocation:
    """Place `shifts` alternative-responder shifts to cover the most eligible calls.

    Args:
        eligible_calls: counts of calls eligible for an alternative response, one row per
            area and one column per hour (hour of day, or hour of week, cyclic).
        shifts: how many shifts to place (0 or more, at most areas x hours).
        shift_length: consecutive hours per shift (1 to the number of hours).
        areas: names of the rows, unique.
        hours_per_day: hours in a day; the number of hours must be a multiple of it. Used
            to report each shift's day and hour of day.
        integer: True for whole shifts; False for the linear relaxation.
        time_limit: seconds HiGHS may spend; None for no limit. A plan cut short reports
            status "Time limit reached" and a positive solver_gap.

    Raises:
        ValueError: naming the argument for negative, non-finite or mis-shaped counts,
            shift_length longer than the hours, negative shifts and similar.
    """
    names = _check_areas(areas)
    counts = np.asarray(eligible_calls, dtype=np.float64)
    if counts.ndim != 2:
        raise ValueError(
            f"eligible_calls: found {counts.ndim} dimension(s), expected 2 (areas x hours)"
        )
    n_areas, n_hours = counts.shape
    if n_areas != len(names):
        raise ValueError(
            f"areas: found {len(names)} names, expected one per row of eligible_calls ({n_areas})"
        )
    if n_hours == 0:
        raise ValueError("eligible_calls: found 0 hour columns, expected at least 1")
    if not np.all(np.isfinite(counts)):
        raise ValueError("eligible_calls: found non-finite counts, expected finite numbers")
    if np.any(counts < 0):
        area, hour = (int(i) for i in np.argwhere(counts < 0)[0])
        raise ValueError(
            f"eligible_calls: found a negative count {counts[area, hour]} for area "
            f"{names[area]!r} at hour {hour}, expected counts >= 0"
        )
    shift_count = _check_positive_int("shifts", shifts, minimum=0)
    length = _check_positive_int("shift_length", shift_length, minimum=1)
    if length > n_hours:
        raise ValueError(
            f"shift_length: found {length}, longer than the {n_hours} hours of eligible_calls"
        )
    per_day = _check_positive_int("hours_per_day", hours_per_day, minimum=1)
    if n_hours % per_day:
        raise ValueError(
            f"hours_per_day: {per_day} does not divide the {n_hours} hours of eligible_calls"
        )
    if shift_count > n_areas * n_hours:
        raise ValueError(
            f"shifts: found {shift_count}, more than the {n_areas * n_hours} possible "
            "area and start-hour pairs"
        )
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit: found {time_limit!r}, expected a positive number")

    relaxation = _solve(
        _build_model(counts, shifts=shift_count, shift_length=length, integer=False),
        time_limit=time_limit,
    )
    if integer:
        main = _solve(
            _build_model(counts, shifts=shift_count, shift_length=length, integer=True),
            time_limit=time_limit,
        )
    else:
        main = relaxation
    x = np.where(np.abs(main.x) < 1e-9, 0.0, main.x)
    if integer:
        x = np.round(x)
    coverage = _coverage(x, n_hours, length)
    covered_by_area = (coverage * counts).sum(axis=1)
    calls_covered = float(covered_by_area.sum())
    total = float(counts.sum())
    lp_bound = relaxation.objective
    mip_gap = (lp_bound - calls_covered) / lp_bound if integer and lp_bound > 0 else 0.0

    chosen = tuple(
        Shift(
            area=names[start // n_hours],
            start_hour=start % n_hours,
            day=(start % n_hours) // per_day,
            hour_of_day=(start % n_hours) % per_day,
            length=length,
            value=float(x[start]),
        )
        for start in map(int, np.flatnonzero(x > 0))
    )
    kind = "integer program" if integer else "linear relaxation"
    method = (
        f"Maximum coverage {kind} solved with HiGHS: {shift_count} shift(s) of {length} "
        f"consecutive hour(s) over {n_areas} area(s) and {n_hours} cyclic hour(s); each "
        "eligible call counted once however many shifts cover it."
    )
    return Allocation(
        shifts=chosen,
        areas=names,
        coverage=_frozen(coverage),  # type: ignore[arg-type]
        calls_covered=calls_covered,
        total_calls=total,
        share_covered=calls_covered / total if total > 0 else 0.0,
        calls_covered_by_area=_frozen(covered_by_area),  # type: ignore[arg-type]
        lp_bound=lp_bound,
        mip_gap=max(mip_gap, 0.0),
        solver_gap=main.solver_gap,
        integer=integer,
        status=main.status,
        solve_seconds=main.seconds,
        shift_count=shift_count,
        shift_length=length,
        hours_per_day=per_day,
        method=method,
    )


def brute_force_coverage(eligible_calls: npt.ArrayLike, *, shifts: int, shift_length: int) -> float:
    """The best coverage by trying every set of distinct shift starts (tiny inputs only).

    An independent check of `allocate_shifts`, kept beside it so tests and analysts can
    confirm the solver's optimum on small cases.

    >>> brute_force_coverage([[4, 3, 2, 0], [0, 0, 5, 0]], shifts=1, shift_length=2)
    7.0
    """
    counts = np.asarray(eligible_calls, dtype=np.float64)
    n_areas, n_hours = counts.shape
    starts = [(a, h) for a in range(n_areas) for h in range(n_hours)]
    best = 0.0
    for combination in itertools.combinations(starts, shifts):
        covered = np.zeros(counts.shape, dtype=bool)
        for area, start in combination:
            for offset in range(shift_length):
                covered[area, (start + offset) % n_hours] = True
        best = max(best, float(counts[covered].sum()))
    return best
