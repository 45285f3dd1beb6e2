import datetime as dt
import doctest
import math

import numpy as np
import pytest
from scipy.stats import binomtest

from csas.analysis.safety import measures
from csas.analysis.safety.measures import (
    NO_PRIORITY,
    period_change,
    poisson_interval,
    rates_by_area_month,
    response_times,
)

T0 = np.datetime64("2024-03-01T12:00:00", "us")
NAT = np.datetime64("NaT", "us")


def minutes_after(values: list[float | None]) -> np.ndarray:
    return np.array(
        [NAT if v is None else T0 + np.timedelta64(int(v * 60), "s") for v in values],
        dtype="datetime64[us]",
    )


# ---- rates_by_area_month ---------------------------------------------------------------------


def test_poisson_interval_matches_the_published_value_for_ten():
    low, high = poisson_interval(10)
    assert low == pytest.approx(4.795, abs=5e-4)
    assert high == pytest.approx(18.39, abs=5e-3)


def test_rates_count_each_area_month_and_scale_by_population():
    table = rates_by_area_month(
        ["A"] * 12 + ["B"] * 3 + [None, "", "A"],
        ["2024-01"] * 15 + ["2024-01", "2024-02", "2024-02"],
        {"A": 4000, "B": 100},
        per=1000,
        threshold=10,
    )
    assert table.areas == ("A", "B")
    assert table.months == ("2024-01", "2024-02")
    assert table.counts.tolist() == [[12, 1], [3, 0]]
    assert table.no_area_by_month == {"2024-01": 1, "2024-02": 1}
    first = table.cells[0]
    assert (first.area, first.month, first.count, first.suppressed) == ("A", "2024-01", 12, False)
    assert first.rate == pytest.approx(3.0)
    low, high = poisson_interval(12)
    assert first.rate_low == pytest.approx(low / 4)
    assert first.rate_high == pytest.approx(high / 4)
    for cell in table.cells[1:]:
        assert cell.suppressed
        assert (cell.count, cell.rate, cell.rate_low, cell.rate_high) == (None,) * 4


def test_rates_account_for_every_call():
    rng = np.random.default_rng(3)
    areas = rng.choice(np.array(["A", "B", "C", ""], dtype=object), size=500)
    months = rng.choice(np.array(["2024-01", "2024-02", "2024-03"]), size=500)
    table = rates_by_area_month(areas, months, {"A": 10, "B": 20, "C": 30}, threshold=0)
    assert int(table.counts.sum()) + table.n_no_area == table.n_total == 500
    assert table.n_no_area == int((areas == "").sum())
    assert not any(cell.suppressed for cell in table.cells)


def test_rates_reject_mismatched_lengths():
    with pytest.raises(ValueError, match="area_codes has 2 calls but months has 1"):
        rates_by_area_month(["A", "A"], ["2024-01"], {"A": 1})


@pytest.mark.parametrize("bad", ["2024-13", "2024-1", "24-01", "2024-01-05", None, 202401])
def test_rates_reject_bad_month_strings(bad):
    with pytest.raises(ValueError, match=r"months\[1\]"):
        rates_by_area_month(["A", "A"], ["2024-01", bad], {"A": 1})


@pytest.mark.parametrize("per", [0, -5, math.nan, math.inf, "1000", True])
def test_rates_reject_a_per_that_is_not_positive(per):
    with pytest.raises(ValueError, match="per must be a positive number"):
        rates_by_area_month(["A"], ["2024-01"], {"A": 1}, per=per)


def test_rates_reject_a_negative_threshold():
    with pytest.raises(ValueError, match="threshold"):
        rates_by_area_month(["A"], ["2024-01"], {"A": 1}, threshold=-1)


def test_rates_reject_an_area_without_population():
    with pytest.raises(ValueError, match=r"population_by_area has no population .*'Z'"):
        rates_by_area_month(["A", "Z"], ["2024-01"] * 2, {"A": 1})


@pytest.mark.parametrize("population", [0, -1, math.nan])
def test_rates_reject_a_population_that_is_not_positive(population):
    with pytest.raises(ValueError, match=r"population_by_area\['A'\]"):
        rates_by_area_month(["A"], ["2024-01"], {"A": population})


# ---- response_times --------------------------------------------------------------------------


def small_calls():
    received = minutes_after([0, 0, 0, 0, 0, 0, None])
    dispatched = minutes_after([2, 4, 6, 8, None, -1, 3])
    arrived = minutes_after([10, 20, 30, 40, 12, 5, 9])
    priority = ["1", "1", "1", "1", "1", "2", "2"]
    area = ["A", "A", "B", None, "B", "A", "A"]
    return received, dispatched, arrived, priority, area


def test_response_times_hand_example():
    table = response_times(*small_calls(), n_boot=200, seed=1)
    city = table.row("1", None, "dispatch")
    assert (city.n, city.median, city.p90) == (4, 5.0, pytest.approx(7.4))
    a = table.row("1", "A", "dispatch")
    assert (a.n, a.median, a.ratio_to_city) == (2, 3.0, pytest.approx(0.6))
    b = table.row("1", "B", "dispatch")
    assert (b.n, b.median, b.ratio_to_city) == (1, 6.0, pytest.approx(1.2))
    assert table.row("1", None, "arrival").median == 20.0
    assert table.row("1", "A", "arrival").ratio_to_city == pytest.approx(0.75)
    assert table.row("2", None, "dispatch").n == 0
    assert table.row("2", None, "dispatch").median is None
    assert table.excluded["dispatch"] == {"missing_received": 1, "missing_end": 1, "negative": 1}
    assert table.excluded["arrival"] == {"missing_received": 1, "missing_end": 0, "negative": 0}


def test_response_times_account_for_every_call():
    table = response_times(*small_calls(), n_boot=50, seed=1)
    for interval in ("dispatch", "arrival"):
        used = sum(r.n for r in table.rows if r.interval == interval and r.area is None)
        assert used + sum(table.excluded[interval].values()) == table.n_total == 7


def synthetic_calls(n=400, seed=0):
    rng = np.random.default_rng(seed)
    received = T0 + (rng.integers(0, 10**6, n) * 10**6).astype("timedelta64[us]")
    dispatch = rng.gamma(2.0, 3.0, n)
    arrival = dispatch + rng.gamma(2.0, 4.0, n)
    dispatched = received + (dispatch * 60e6).astype("timedelta64[us]")
    arrived = received + (arrival * 60e6).astype("timedelta64[us]")
    priority = rng.choice(np.array(["1", "2", "weird code"], dtype=object), n)
    area = rng.choice(np.array(["A", "B", "C", None], dtype=object), n)
    return received, dispatched, arrived, priority, area


def test_response_times_medians_and_p90_equal_numpys():
    received, dispatched, arrived, priority, area = synthetic_calls()
    table = response_times(received, dispatched, arrived, priority, area, n_boot=20, seed=0)
    minutes = (arrived - received) / np.timedelta64(60, "s")
    chosen = (priority == "2") & (area == "B")
    row = table.row("2", "B", "arrival")
    assert row.n == int(chosen.sum())
    assert row.median == np.median(minutes[chosen])
    assert row.p90 == np.quantile(minutes[chosen], 0.9)
    assert table.row("weird code", None, "arrival").median == np.median(
        minutes[priority == "weird code"]
    )


def test_response_times_bootstrap_is_reproducible_with_a_seed():
    calls = synthetic_calls()
    first = response_times(*calls, n_boot=100, seed=42)
    again = response_times(*calls, n_boot=100, seed=42)
    other = response_times(*calls, n_boot=100, seed=43)
    assert first == again
    assert first.rows != other.rows


def test_response_times_intervals_bracket_the_estimates():
    table = response_times(*synthetic_calls(), n_boot=300, seed=5)
    for row in table.rows:
        assert row.median_low <= row.median <= row.median_high
        assert row.p90_low <= row.p90 <= row.p90_high
        if row.area is not None:
            assert row.ratio_low < row.ratio_to_city < row.ratio_high


def test_response_times_accept_aware_datetimes_and_missing_priority():
    utc = dt.UTC
    plus2 = dt.timezone(dt.timedelta(hours=2))
    received = [dt.datetime(2024, 1, 1, 12, tzinfo=utc), dt.datetime(2024, 1, 1, 14, tzinfo=plus2)]
    dispatched = [dt.datetime(2024, 1, 1, 12, 5, tzinfo=utc), None]
    arrived = [
        dt.datetime(2024, 1, 1, 12, 9, tzinfo=utc),
        dt.datetime(2024, 1, 1, 12, 7, tzinfo=utc),
    ]
    table = response_times(
        received, dispatched, arrived, [None, None], ["A", "A"], seed=0, n_boot=10
    )
    assert table.row(NO_PRIORITY, "A", "dispatch").median == 5.0
    assert table.row(NO_PRIORITY, "A", "arrival").median == 8.0
    assert table.excluded["dispatch"]["missing_end"] == 1


def test_response_times_read_duckdb_masked_timestamps():
    duckdb = pytest.importorskip("duckdb")
    columns = duckdb.sql(
        "SELECT * FROM (VALUES (TIMESTAMPTZ '2024-01-01 00:00:00+00', NULL::TIMESTAMPTZ, "
        "TIMESTAMPTZ '2024-01-01 00:06:00+00')) t(r, d, a)"
    ).fetchnumpy()
    table = response_times(columns["r"], columns["d"], columns["a"], ["1"], ["A"], seed=0)
    assert table.excluded["dispatch"]["missing_end"] == 1
    assert table.row("1", "A", "arrival").median == 6.0


def test_response_times_reject_naive_datetimes():
    naive = [dt.datetime(2024, 1, 1, 12)]  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match=r"received\[0\] is a naive datetime"):
        response_times(naive, [None], [None], ["1"], ["A"], seed=0)


def test_response_times_reject_mismatched_lengths():
    received, dispatched, arrived, priority, area = small_calls()
    with pytest.raises(ValueError, match="received has 7 calls but area has 6"):
        response_times(received, dispatched, arrived, priority, area[:6], seed=0)


@pytest.mark.parametrize("n_boot", [0, -1, 1.5, True])
def test_response_times_reject_bad_n_boot(n_boot):
    with pytest.raises(ValueError, match="n_boot"):
        response_times(*small_calls(), n_boot=n_boot, seed=0)


def test_response_times_reject_a_seed_that_is_not_an_integer():
    with pytest.raises(ValueError, match="seed"):
        response_times(*small_calls(), seed=None)


# ---- period_change ---------------------------------------------------------------------------


def test_period_change_interval_matches_scipy_binomtest():
    table = period_change({"A": 30}, {"A": 20})
    (change,) = table.changes
    ci = binomtest(30, 50).proportion_ci(0.95, method="exact")
    assert change.ratio == 1.5
    assert change.difference == 10
    assert change.ratio_low == pytest.approx(ci.low / (1 - ci.low))
    assert change.ratio_high == pytest.approx(ci.high / (1 - ci.high))


def test_period_change_scales_by_exposure():
    (change,) = period_change(
        {"A": 31}, {"A": 30}, exposure_current=31, exposure_previous=30
    ).changes
    assert change.ratio == pytest.approx(1.0)
    assert change.ratio_low < 1 < change.ratio_high


def test_period_change_with_no_previous_calls_has_an_open_upper_end():
    (change,) = period_change({"A": 4}, {"A": 0}).changes
    assert change.ratio is None
    assert change.ratio_high == math.inf
    assert change.ratio_low > 0


def test_period_change_rejects_different_areas():
    with pytest.raises(ValueError, match=r"counts_previous and counts_current .*\['B'\]"):
        period_change({"A": 1, "B": 2}, {"A": 1})


@pytest.mark.parametrize("bad", [-1, 1.5, True, None])
def test_period_change_rejects_counts_that_are_not_counts(bad):
    with pytest.raises(ValueError, match=r"counts_current\['A'\]"):
        period_change({"A": bad}, {"A": 1})


def test_period_change_rejects_non_positive_exposure():
    with pytest.raises(ValueError, match="exposure_previous"):
        period_change({"A": 1}, {"A": 1}, exposure_previous=0)


def test_docstring_examples_run():
    failures, tests = doctest.testmod(measures)
    assert tests >= 10
    assert failures == 0
