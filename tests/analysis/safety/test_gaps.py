"""Tests for the service-gap index and the what-if allocation of alternative-responder shifts."""

import dataclasses
import doctest
import itertools

import numpy as np
import pytest
from scipy import stats

from csas.analysis.safety import gaps
from csas.analysis.safety.gaps import (
    allocate_shifts,
    brute_force_coverage,
    service_gap_index,
)

AREAS = ["North", "Central", "South", "East", "West"]
NEED = {
    "calls_per_1000": {"North": 40.0, "Central": 90.0, "South": 120.0, "East": 60.0, "West": 75.0},
    "equity_index": {"North": 0.8, "Central": 0.4, "South": 0.2, "East": 0.5, "West": 0.6},
}
SERVICE = {
    "median_response_min": {"North": 9.0, "Central": 7.0, "South": 14.0, "East": 11.0, "West": 8.0},
    "alt_coverage_share": {"North": 0.3, "Central": 0.5, "South": 0.1, "East": 0.2, "West": 0.4},
}
WEIGHTS = {
    "calls_per_1000": 2.0,
    "equity_index": 1.0,
    "median_response_min": 1.0,
    "alt_coverage_share": 1.0,
}
WORSE = {
    "calls_per_1000": True,
    "equity_index": False,
    "median_response_min": True,
    "alt_coverage_share": False,
}


def _index(**overrides: object) -> gaps.GapIndex:
    arguments: dict[str, object] = {
        "need": NEED,
        "service": SERVICE,
        "weights": WEIGHTS,
        "higher_is_worse": WORSE,
        "top_k": 2,
    }
    arguments.update(overrides)
    return service_gap_index(AREAS, **arguments)  # type: ignore[arg-type]


def test_docstring_examples_run() -> None:
    failures, tests = doctest.testmod(gaps)
    assert tests > 0
    assert failures == 0


# ---------------------------------------------------------------- service-gap index


def test_service_gap_index_matches_a_hand_computation() -> None:
    result = _index()
    table = {**NEED, **SERVICE}
    z = {}
    for name, values in table.items():
        x = np.array([values[a] for a in AREAS])
        sign = 1.0 if WORSE[name] else -1.0
        z[name] = sign * (x - x.mean()) / x.std()
    need = (2 * z["calls_per_1000"] + z["equity_index"]) / 3
    service = (z["median_response_min"] + z["alt_coverage_share"]) / 2
    np.testing.assert_allclose(result.need_score, need)
    np.testing.assert_allclose(result.service_gap_score, service)
    np.testing.assert_allclose(result.gap, need + service)
    assert result.weights["calls_per_1000"] == pytest.approx(2 / 3)
    assert result.weights["median_response_min"] == pytest.approx(0.5)
    assert result.raw_weights["calls_per_1000"] == 2.0
    assert result.ranked_areas[0] == "South"
    assert sorted(result.rank.tolist()) == [1, 2, 3, 4, 5]
    assert result.indicators == (
        "calls_per_1000",
        "equity_index",
        "median_response_min",
        "alt_coverage_share",
    )
    assert result.groups == ("need", "need", "service", "service")


def test_service_gap_index_signs_so_higher_is_worse() -> None:
    result = _index()
    column = result.indicators.index("equity_index")
    # South has the lowest opportunity score, so the most need.
    assert result.standardised[AREAS.index("South"), column] == result.standardised[:, column].max()


def test_service_gap_index_sensitivity_zero_and_double_for_every_indicator() -> None:
    result = _index()
    assert [(s.indicator, s.change) for s in result.sensitivity] == [
        (name, change) for name in result.indicators for change in ("zero", "double")
    ]
    for entry in result.sensitivity:
        assert -1.0 <= entry.spearman_rho <= 1.0
        assert len(entry.entered_top_k) == len(entry.left_top_k)


def test_service_gap_index_sensitivity_matches_a_rescoring() -> None:
    result = _index()
    zero = next(
        s for s in result.sensitivity if s.indicator == "calls_per_1000" and s.change == "zero"
    )
    rescored = _index(weights={**WEIGHTS, "calls_per_1000": 0.0})
    assert zero.spearman_rho == pytest.approx(stats.spearmanr(result.gap, rescored.gap).statistic)
    np.testing.assert_array_equal(zero.rank, rescored.rank)
    base_top = set(result.ranked_areas[:2])
    new_top = set(rescored.ranked_areas[:2])
    assert set(zero.entered_top_k) == new_top - base_top
    assert set(zero.left_top_k) == base_top - new_top
    assert zero.max_rank_shift == int(np.abs(rescored.rank - result.rank).max())


def test_service_gap_index_sensitivity_reports_areas_moving_in_and_out_of_top_k() -> None:
    need = {"calls": {"A": 10.0, "B": 0.0, "C": 5.0}}
    service = {"response": {"A": 0.0, "B": 10.0, "C": 5.0}}
    result = service_gap_index(
        ["A", "B", "C"],
        need,
        service,
        weights={"calls": 1.1, "response": 1.0},
        higher_is_worse={"calls": True, "response": True},
        top_k=1,
    )
    # Within-group normalisation makes both weights 1, so all gaps tie at 0 and A leads by
    # input order; with calls zeroed only response time counts and B (slowest) leads.
    zero_calls = next(
        s for s in result.sensitivity if s.indicator == "calls" and s.change == "zero"
    )
    assert result.ranked_areas[0] == "A"
    assert zero_calls.entered_top_k == ("B",)
    assert zero_calls.left_top_k == ("A",)


def test_service_gap_index_zeroing_the_only_need_indicator_drops_the_group() -> None:
    result = service_gap_index(
        ["A", "B", "C"],
        {"calls": {"A": 1.0, "B": 2.0, "C": 3.0}},
        {"response": {"A": 3.0, "B": 1.0, "C": 2.0}},
        weights={"calls": 1.0, "response": 1.0},
        higher_is_worse={"calls": True, "response": True},
    )
    zero = next(s for s in result.sensitivity if s.indicator == "calls" and s.change == "zero")
    # Only response time is left: A (slowest) first.
    assert zero.rank.tolist() == [1, 3, 2]
    assert result.top_k == 3


def test_service_gap_index_constant_indicator_gets_zero_scores() -> None:
    result = _index(
        service={**SERVICE, "flat": dict.fromkeys(AREAS, 4.0)},
        weights={**WEIGHTS, "flat": 1.0},
        higher_is_worse={**WORSE, "flat": True},
    )
    assert result.constant_indicators == ("flat",)
    assert np.all(result.standardised[:, result.indicators.index("flat")] == 0.0)


def test_service_gap_index_result_is_frozen() -> None:
    result = _index()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.top_k = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        result.gap[0] = 1.0
    with pytest.raises(TypeError):
        result.weights["calls_per_1000"] = 5.0  # type: ignore[index]


def test_service_gap_index_rejects_a_weight_for_an_unknown_indicator() -> None:
    with pytest.raises(ValueError, match=r"weights: unknown indicator\(s\) \['crime'\]"):
        _index(weights={**WEIGHTS, "crime": 1.0})


def test_service_gap_index_rejects_a_negative_weight() -> None:
    with pytest.raises(ValueError, match=r"weights\['equity_index'\]: found -1.0"):
        _index(weights={**WEIGHTS, "equity_index": -1.0})


def test_service_gap_index_rejects_a_missing_weight() -> None:
    weights = {k: v for k, v in WEIGHTS.items() if k != "equity_index"}
    with pytest.raises(
        ValueError, match=r"weights: no entry for indicator\(s\) \['equity_index'\]"
    ):
        _index(weights=weights)


def test_service_gap_index_rejects_a_group_with_zero_weight() -> None:
    with pytest.raises(ValueError, match="service indicators' weights sum to 0"):
        _index(weights={**WEIGHTS, "median_response_min": 0.0, "alt_coverage_share": 0.0})


def test_service_gap_index_rejects_an_unknown_direction() -> None:
    with pytest.raises(ValueError, match=r"higher_is_worse: unknown indicator\(s\) \['x'\]"):
        _index(higher_is_worse={**WORSE, "x": True})


def test_service_gap_index_rejects_a_missing_area_value() -> None:
    need = {**NEED, "calls_per_1000": {a: 1.0 for a in AREAS if a != "East"}}
    with pytest.raises(ValueError, match=r"need\['calls_per_1000'\]: no value for area 'East'"):
        _index(need=need)


def test_service_gap_index_rejects_a_value_for_an_unlisted_area() -> None:
    service = {**SERVICE, "median_response_min": {**SERVICE["median_response_min"], "Port": 3.0}}
    with pytest.raises(ValueError, match=r"service\['median_response_min'\]: value for area"):
        _index(service=service)


def test_service_gap_index_rejects_a_non_finite_value() -> None:
    need = {**NEED, "equity_index": {**NEED["equity_index"], "West": float("nan")}}
    with pytest.raises(ValueError, match=r"need\['equity_index'\]\['West'\]: found nan"):
        _index(need=need)


def test_service_gap_index_rejects_an_indicator_in_both_groups() -> None:
    with pytest.raises(ValueError, match="appear in both"):
        _index(service={**SERVICE, "equity_index": NEED["equity_index"]})


def test_service_gap_index_rejects_duplicate_areas_and_bad_top_k() -> None:
    with pytest.raises(ValueError, match="areas: 'A' is listed more than once"):
        service_gap_index(["A", "A"], {}, {}, weights={}, higher_is_worse={})
    with pytest.raises(ValueError, match="top_k: found 0"):
        _index(top_k=0)


def test_service_gap_index_rejects_empty_groups() -> None:
    with pytest.raises(ValueError, match="need: no indicators"):
        _index(need={})
    with pytest.raises(ValueError, match="service: no indicators"):
        _index(service={})


# ---------------------------------------------------------------- allocation

AREA_NAMES = ["A", "B", "C"]


@pytest.mark.parametrize("seed", range(6))
def test_allocate_shifts_matches_brute_force_on_tiny_instances(seed: int) -> None:
    counts = np.random.default_rng(seed).poisson(2.0, size=(3, 6))
    plan = allocate_shifts(counts, shifts=2, shift_length=2, areas=AREA_NAMES, hours_per_day=6)
    assert plan.status == "Optimal"
    assert plan.calls_covered == brute_force_coverage(counts, shifts=2, shift_length=2)
    assert len(plan.shifts) == 2
    assert plan.lp_bound >= plan.calls_covered - 1e-9
    assert 0.0 <= plan.mip_gap <= 1.0


def test_brute_force_coverage_enumerates_every_pair_of_starts() -> None:
    counts = np.arange(18).reshape(3, 6)
    starts = [(a, h) for a in range(3) for h in range(6)]
    best = 0
    for pair in itertools.combinations(starts, 2):
        cells = {(a, (h + o) % 6) for a, h in pair for o in range(2)}
        best = max(best, sum(int(counts[a, t]) for a, t in cells))
    assert brute_force_coverage(counts, shifts=2, shift_length=2) == best


def test_allocate_shifts_does_not_count_a_call_twice_when_shifts_overlap() -> None:
    # One busy area: a second shift overlapping the first would add nothing, so the best
    # plan puts the two shifts end to end over the busy hours.
    counts = np.array([[0, 10, 10, 10, 0, 0], [0, 0, 0, 0, 0, 1]])
    plan = allocate_shifts(counts, shifts=2, shift_length=2, areas=["A", "B"], hours_per_day=6)
    assert plan.calls_covered == 30.0
    assert plan.coverage.max() == 1.0
    assert all(s.area == "A" for s in plan.shifts)
    assert plan.calls_covered <= counts.sum()


def test_allocate_shifts_with_more_shifts_than_needed_counts_each_call_once() -> None:
    counts = np.array([[5, 5, 0, 0]])
    plan = allocate_shifts(counts, shifts=3, shift_length=2, areas=["A"], hours_per_day=4)
    assert plan.calls_covered == 10.0
    assert plan.share_covered == 1.0
    assert plan.calls_covered_by_area.tolist() == [10.0]


def test_allocate_shifts_wraps_round_the_end_of_the_hours() -> None:
    counts = np.array([[4, 0, 0, 0, 0, 4]])
    plan = allocate_shifts(counts, shifts=1, shift_length=2, areas=["A"], hours_per_day=6)
    assert [(s.area, s.start_hour) for s in plan.shifts] == [("A", 5)]
    assert plan.calls_covered == 8.0


def test_allocate_shifts_reports_day_and_hour_of_day_for_hour_of_week_data() -> None:
    counts = np.zeros((2, 48))
    counts[1, 30:33] = 7
    plan = allocate_shifts(counts, shifts=1, shift_length=3, areas=["A", "B"])
    (shift,) = plan.shifts
    assert (shift.area, shift.start_hour, shift.day, shift.hour_of_day) == ("B", 30, 1, 6)
    assert shift.value == 1.0


def test_allocate_shifts_with_zero_shifts_covers_nothing() -> None:
    counts = np.ones((2, 4))
    plan = allocate_shifts(counts, shifts=0, shift_length=2, areas=["A", "B"], hours_per_day=4)
    assert plan.shifts == ()
    assert plan.calls_covered == 0.0
    assert plan.share_covered == 0.0
    assert plan.lp_bound == 0.0
    assert plan.mip_gap == 0.0


def test_allocate_shifts_with_no_calls_reports_zero_share() -> None:
    plan = allocate_shifts(
        np.zeros((2, 4)), shifts=1, shift_length=2, areas=["A", "B"], hours_per_day=4
    )
    assert plan.calls_covered == 0.0
    assert plan.share_covered == 0.0
    assert len(plan.shifts) == 1


def test_allocate_shifts_is_deterministic() -> None:
    counts = np.random.default_rng(11).poisson(3.0, size=(8, 24))
    first = allocate_shifts(counts, shifts=5, shift_length=8, areas=[f"a{i}" for i in range(8)])
    for _ in range(3):
        again = allocate_shifts(counts, shifts=5, shift_length=8, areas=[f"a{i}" for i in range(8)])
        assert again.shifts == first.shifts
        assert again.calls_covered == first.calls_covered
        np.testing.assert_array_equal(again.coverage, first.coverage)


def test_allocate_shifts_linear_relaxation_bounds_the_integer_plan() -> None:
    # Any 2-hour shift covers at most one of the two busy hours, whole or split across
    # starts, so the relaxation's bound is tight here.
    counts = np.array([[3, 0, 3, 0], [0, 0, 0, 0]])
    integer = allocate_shifts(counts, shifts=1, shift_length=2, areas=["A", "B"], hours_per_day=4)
    relaxed = allocate_shifts(
        counts, shifts=1, shift_length=2, areas=["A", "B"], hours_per_day=4, integer=False
    )
    assert integer.calls_covered == 3.0
    assert relaxed.calls_covered == pytest.approx(relaxed.lp_bound)
    assert relaxed.lp_bound >= integer.calls_covered
    assert integer.lp_bound == pytest.approx(relaxed.lp_bound)
    assert integer.mip_gap == pytest.approx(0.0, abs=1e-9)
    assert relaxed.integer is False
    assert relaxed.mip_gap == 0.0
    assert sum(s.value for s in relaxed.shifts) == pytest.approx(1.0)


def test_allocate_shifts_reports_solver_details() -> None:
    counts = np.random.default_rng(3).poisson(1.0, size=(4, 24))
    plan = allocate_shifts(counts, shifts=2, shift_length=8, areas=["a", "b", "c", "d"])
    assert plan.status == "Optimal"
    assert plan.solve_seconds >= 0.0
    assert plan.solver_gap == pytest.approx(0.0, abs=1e-6)
    assert plan.total_calls == counts.sum()
    assert plan.share_covered == pytest.approx(plan.calls_covered / counts.sum())
    assert "HiGHS" in plan.method
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.status = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"eligible_calls": [[1, -2, 0, 0]]},
            r"eligible_calls: found a negative count -2.0 for area 'A' at hour 1",
        ),
        ({"eligible_calls": [1, 2, 3, 4]}, "eligible_calls: found 1 dimension"),
        ({"eligible_calls": [[1, np.nan, 0, 0]]}, "eligible_calls: found non-finite"),
        ({"shift_length": 5}, "shift_length: found 5, longer than the 4 hours"),
        ({"shift_length": 0}, "shift_length: found 0, expected at least 1"),
        ({"shifts": -1}, "shifts: found -1, expected at least 0"),
        ({"shifts": 5}, "shifts: found 5, more than the 4 possible"),
        ({"shifts": 1.5}, "shifts: found 1.5, expected an integer"),
        ({"areas": ["A", "B"]}, "areas: found 2 names, expected one per row"),
        ({"areas": "A"}, "areas: expected a sequence"),
        ({"hours_per_day": 3}, "hours_per_day: 3 does not divide the 4 hours"),
        ({"time_limit": 0.0}, "time_limit: found 0.0"),
    ],
)
def test_allocate_shifts_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "eligible_calls": [[1, 2, 0, 0]],
        "shifts": 1,
        "shift_length": 2,
        "areas": ["A"],
        "hours_per_day": 4,
    }
    arguments.update(kwargs)
    calls = arguments.pop("eligible_calls")
    with pytest.raises(ValueError, match=message):
        allocate_shifts(calls, **arguments)  # type: ignore[arg-type]
