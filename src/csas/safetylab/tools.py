"""The strategy office's tools on a stored analysis: the service-gap index and the what-if
allocation of alternative-responder shifts. Both call the library
(`csas.analysis.safety.gaps`) on stored aggregates only; nothing here reads a call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext as _

from csas.analysis.safety.gaps import Allocation, GapIndex, allocate_shifts, service_gap_index
from csas.progress.models import Direction, IndicatorKind
from csas.safetylab import selectors
from csas.safetylab.models import SafetyAnalysis
from csas.strategy.models import GeographyKind, Strategy

COUNCIL = GeographyKind.COUNCIL_DISTRICT
CALLS_PER_1000 = "calls_per_1000"
EQUITY_INDEX = "equity_index"


@dataclass(frozen=True)
class Indicator:
    """One indicator of the gap index: its key, words, group, direction and values by area."""

    key: str
    label: str
    group: str
    higher_is_worse: bool
    values: dict[str, float]


@dataclass
class GapInputs:
    """What the index can be built from for this analysis, and what had to be left out."""

    areas: list[str]
    names: dict[str, str]
    indicators: list[Indicator] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def _ratio_key(interval: str, priority: str) -> str:
    return f"{interval}_ratio_p{priority}"


def gap_inputs(analysis: SafetyAnalysis, strategy: Strategy, *, interval: str) -> GapInputs:
    """The council districts' need and service indicators from the stored aggregates.

    Need: calls per 1,000 residents over the period; the 2024 Equity Index score where the
    block groups carry it (higher = more opportunity, so less need); the strategy's survey
    indicators by council district (perceived safety). Service: each priority's ratio of the
    district's median minutes (to dispatch or to arrival) to the city's; the strategy's
    performance measures by council district (alternative-responder coverage, say). An
    indicator withheld for any district is left out, and said so.
    """
    names = selectors.district_names(strategy, [COUNCIL])
    periods = selectors.area_periods(analysis, names, [COUNCIL])[COUNCIL]
    areas = [p.code for p in periods]
    inputs = GapInputs(areas=areas, names={p.code: p.name for p in periods})
    if any(p.rate is None for p in periods):
        inputs.left_out.append(_("Calls per 1,000 residents: withheld for some district."))
    else:
        inputs.indicators.append(
            Indicator(
                CALLS_PER_1000,
                _("Calls per 1,000 residents over the period"),
                "need",
                True,
                {p.code: float(p.rate or 0.0) for p in periods},
            )
        )
    equity = selectors.district_equity_index(strategy, COUNCIL)
    if not equity:
        inputs.left_out.append(
            _("Equity Index: the block groups of this strategy carry no Equity Index score.")
        )
    elif any(code not in equity for code in areas):
        inputs.left_out.append(_("Equity Index: some district holds no block group."))
    else:
        inputs.indicators.append(
            Indicator(
                EQUITY_INDEX,
                _(
                    "2024 Equity Index score (mean of its block groups, weighted by residents; "
                    "higher means more opportunity, so less need)"
                ),
                "need",
                False,
                {code: equity[code].score for code in areas},
            )
        )
    by_priority: dict[str, dict[str, float | None]] = {}
    for row in selectors.response_times(analysis):
        if row.interval == interval and row.council_district:
            by_priority.setdefault(row.priority, {})[row.council_district] = row.ratio_to_city
    label = (
        _("Median minutes to dispatch, priority %(priority)s, ratio to the city")
        if interval == "dispatch"
        else _("Median minutes to arrival, priority %(priority)s, ratio to the city")
    )
    for priority in sorted(by_priority):
        ratios = by_priority[priority]
        if any(ratios.get(code) is None for code in areas):
            inputs.left_out.append(
                _("Priority %(priority)s response times: withheld for some district.")
                % {"priority": priority}
            )
            continue
        inputs.indicators.append(
            Indicator(
                _ratio_key(interval, priority),
                label % {"priority": priority},
                "service",
                True,
                {code: float(ratios[code] or 0.0) for code in areas},
            )
        )
    _add_strategy_indicators(inputs, strategy)
    # Need first, then service, each in the order added (the library's order too).
    inputs.indicators.sort(key=lambda i: i.group != "need")
    return inputs


def _add_strategy_indicators(inputs: GapInputs, strategy: Strategy) -> None:
    """The strategy's own indicators by council district (the progress pages'): a survey's
    population indicator (perceived safety) as need, a performance measure (say, the share of
    eligible calls alternative responders answered) as service; the direction sets the sign.
    Each at its latest period; left out, and said so, where a district's figure is withheld."""
    for found in selectors.district_indicators(strategy, inputs.names):
        start, end = found.period_start.isoformat(), found.period_end.isoformat()
        period = found.wave or (start if start == end else f"{start}/{end}")
        need = found.kind == IndicatorKind.POPULATION
        label = (
            _("%(name)s, %(period)s (survey indicator by council district)")
            if need
            else _("%(name)s, %(period)s (performance measure by council district)")
        ) % {"name": found.name, "period": period}
        missing = [code for code in inputs.areas if code not in found.values]
        if missing:
            inputs.left_out.append(
                _("%(indicator)s: withheld or missing for %(districts)s.")
                % {
                    "indicator": label,
                    "districts": ", ".join(inputs.names.get(c, c) for c in missing),
                }
            )
            continue
        inputs.indicators.append(
            Indicator(
                f"indicator_{found.pk}",
                label,
                "need" if need else "service",
                found.direction == Direction.DECREASE,
                {code: found.values[code] for code in inputs.areas},
            )
        )


def gap_index(inputs: GapInputs, weights: dict[str, float]) -> GapIndex:
    """The library's index on the inputs with the given weights (ValueError names a problem)."""
    need = {i.key: i.values for i in inputs.indicators if i.group == "need"}
    service = {i.key: i.values for i in inputs.indicators if i.group == "service"}
    return service_gap_index(
        inputs.areas,
        need,
        service,
        weights={i.key: weights.get(i.key, 1.0) for i in inputs.indicators},
        higher_is_worse={i.key: i.higher_is_worse for i in inputs.indicators},
        top_k=min(2, max(1, len(inputs.areas))),
    )


@dataclass(frozen=True)
class ShiftPlan:
    """A what-if placement of shifts: in the week citywide, or over council district x
    hour-of-week cells.

    Fields:
        allocation: the library's plan (its areas are district codes, or ``city``).
        withheld_cells: cells withheld by the analysis and counted as no calls.
        total_published: eligible calls in the published cells.
        scope: ``district`` or ``city``.
    """

    allocation: Allocation
    withheld_cells: int
    total_published: float
    scope: str = "city"


def shift_plan(
    analysis: SafetyAnalysis,
    *,
    definition: str,
    shifts: int,
    shift_length: int,
    scope: str = "district",
) -> ShiftPlan:
    """Place `shifts` shifts of `shift_length` hours to cover the most eligible calls.

    ``scope="district"``: over council district x hour-of-week cells (each shift serves one
    district for consecutive hours; the library's maximum-coverage program chooses both).
    ``scope="city"``: over the citywide profile, placing shifts in time only.
    Withheld cells (fewer than 10 calls, or complementary suppression) count as no calls,
    so coverage is a lower bound.
    """
    if scope == "district":
        codes, matrix, withheld = selectors.district_week(analysis, definition)
        if not codes:
            raise ValueError(_("This analysis has no eligible calls by district and hour."))
        allocation = allocate_shifts(
            np.array(matrix, dtype=np.float64),
            shifts=shifts,
            shift_length=shift_length,
            areas=codes,
            hours_per_day=24,
            time_limit=10.0,
        )
        total = float(sum(sum(row) for row in matrix))
        return ShiftPlan(allocation, withheld, total, "district")
    counts, withheld = selectors.time_profile_week(analysis, definition)
    allocation = allocate_shifts(
        np.array([counts], dtype=np.float64),
        shifts=shifts,
        shift_length=shift_length,
        areas=["city"],
        hours_per_day=24,
        time_limit=10.0,
    )
    return ShiftPlan(allocation, withheld, float(sum(counts)), "city")
