import datetime as dt
import doctest
import math

import numpy as np
import pytest
from scipy import stats
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


def test_response_times_from_codes_match_response_times_on_labels():
    received, dispatched, arrived, priority, area = synthetic_calls()
    labels = ["A", "B", "C", None, ""]  # None and "" both mean no area
    codes = np.array(
        [{"A": 0, "B": 1, "C": 2}.get(a, -1 if i % 2 else 3) for i, a in enumerate(area)]
    )
    priority_labels = ["1", "2", "weird code", " 2 "]  # " 2 " reads as "2"
    priority_codes = np.array([priority_labels.index(p) for p in priority], dtype=np.int32)
    priority_codes[::7] = np.where(priority[::7] == "2", 3, priority_codes[::7])
    by_codes = measures.response_times_from_codes(
        received,
        dispatched,
        arrived,
        priority_codes,
        priority_labels,
        codes,
        labels,
        n_boot=50,
        seed=3,
    )
    by_labels = response_times(received, dispatched, arrived, priority, area, n_boot=50, seed=3)
    assert by_codes.rows == by_labels.rows
    assert by_codes.excluded == by_labels.excluded


# ---- the bucket bootstrap (priorities with _SELECT_BY_RANK calls or more) ---------------------


@pytest.fixture
def bucket_path(monkeypatch):
    """Send every priority, however small, through the bucket bootstrap."""
    monkeypatch.setattr(measures, "_SELECT_BY_RANK", 1)


def strata_with_ties(seed=0, levels=(0.6, 1.8, 2.4, 1.0)):
    """Four areas of different sizes and levels, in quarter minutes (many equal values);
    odd sizes, so that each median is one order statistic."""
    rng = np.random.default_rng(seed)
    sizes = (301, 1201, 51, 801)
    return [
        np.sort(np.round(rng.lognormal(level, 0.5, size) * 4) / 4)
        for size, level in zip(sizes, levels, strict=True)
    ]


def exact_cdf(strata, position, at):
    """P(the value at `position` of a stratified resample <= x) for each x in `at`: at least
    position + 1 draws are <= x, and each stratum's count of them is binomial."""
    out = []
    for x in at:
        pmf = np.array([1.0])
        for values in strata:
            below = np.searchsorted(values, x, side="right") / values.size
            pmf = np.convolve(pmf, stats.binom.pmf(np.arange(values.size + 1), values.size, below))
        out.append(pmf[position + 1 :].sum())
    return np.array(out)


def fits_exact(sample, strata, position):
    """Chi-square p-value of resampled order statistics against their exact distribution."""
    at = np.unique(np.concatenate(strata))
    expected = np.diff(exact_cdf(strata, position, at), prepend=0.0) * sample.size
    observed = (sample[:, None] == at).sum(axis=0)
    bins_o, bins_e, o, e = [], [], 0.0, 0.0
    for oi, ei in zip(observed, expected, strict=True):  # pool bins to >= 5 expected
        o, e = o + oi, e + ei
        if e >= 5:
            bins_o.append(o)
            bins_e.append(e)
            o = e = 0.0
    bins_o[-1] += o
    bins_e[-1] += e
    bins_e = np.array(bins_e) * sum(bins_o) / sum(bins_e)
    return stats.chisquare(bins_o, bins_e).pvalue


@pytest.mark.parametrize(("bucket", "fanout"), [(8, 4), (1, 2), (64, 3), (500, 4)])
def test_bucket_bootstrap_order_statistics_have_their_exact_distribution(bucket, fanout):
    # Whatever the buckets and the tree, every resampled order statistic of every stratum and
    # of the city is distributed as with i.i.d. draws within each stratum.
    strata = strata_with_ties()
    boot = measures._BucketBootstrap(strata, bucket=bucket, fanout=fanout)
    found = boot.resampled_order_statistics(4000, np.random.default_rng(bucket))
    groups = [*[[s] for s in strata], strata]
    for g, group in enumerate(groups):
        positions = measures._order_positions(sum(v.size for v in group))[0]
        for j in (0, 2, 3):  # the median, the two values the p90 lies between
            assert fits_exact(found[g, :, j], group, int(positions[j])) > 1e-4, (g, j)


class SkewedSplits:
    """A random generator that splits each node's draws with the wrong shares."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def multinomial(self, n, shares):
        wrong = shares + 0.3 * (shares > 0) * np.arange(shares.shape[1])
        return self.rng.multinomial(n, wrong / wrong.sum(axis=1, keepdims=True))

    def integers(self, low, high):
        return self.rng.integers(low, high)


def test_the_exact_distribution_check_catches_wrong_samplers():
    strata = strata_with_ties()
    city = measures._order_positions(sum(v.size for v in strata))[0][0]
    # Forgetting the strata: the city resampled as one pool of all calls.
    pooled = measures._BucketBootstrap([np.sort(np.concatenate(strata))], bucket=8)
    found = pooled.resampled_order_statistics(4000, np.random.default_rng(1))
    assert fits_exact(found[-1, :, 0], strata, int(city)) < 1e-4
    # Splitting nodes into buckets with the wrong shares.
    boot = measures._BucketBootstrap(strata, bucket=8)
    found = boot.resampled_order_statistics(4000, SkewedSplits(1))
    assert fits_exact(found[-1, :, 0], strata, int(city)) < 1e-4


def plain_bootstrap(strata, n_boot, seed):
    """Medians and p90s (strata, then the city) of plain stratified resamples with numpy."""
    rng = np.random.default_rng(seed)
    draws = [v[rng.integers(0, v.size, (n_boot, v.size))] for v in strata]
    samples = [*draws, np.concatenate(draws, axis=1)]
    return (
        np.array([np.median(s, axis=1) for s in samples]),
        np.array([np.quantile(s, 0.9, axis=1) for s in samples]),
    )


def test_bucket_bootstrap_matches_plain_resampling():
    # Even sizes too (the median averages two values), and the ratio of an area's median to
    # the city's, which depends on the two coming from one resample (areas closer together
    # than elsewhere, so that the big one's median moves with the city's).
    close = strata_with_ties(seed=1, levels=(1.0, 1.6, 2.2, 1.3))
    strata = [np.append(v, v[-1] + 0.25) for v in close]
    medians, p90s = measures._BucketBootstrap(strata, bucket=16).resample(
        4000, np.random.default_rng(2)
    )
    plain_medians, plain_p90s = plain_bootstrap(strata, 4000, seed=3)
    for g in range(len(strata) + 1):
        assert stats.ks_2samp(medians[g], plain_medians[g]).pvalue > 1e-4, g
        assert stats.ks_2samp(p90s[g], plain_p90s[g]).pvalue > 1e-4, g
    ratio, plain_ratio = medians[1] / medians[-1], plain_medians[1] / plain_medians[-1]
    assert stats.ks_2samp(ratio, plain_ratio).pvalue > 1e-4
    # The same check catches a city taken from other resamples than the area's.
    other_medians, _ = plain_bootstrap(strata, 4000, seed=4)
    assert stats.ks_2samp(plain_medians[1] / other_medians[-1], plain_ratio).pvalue < 1e-4


def test_draws_within_a_bucket_are_uniform_over_the_stratums_values_there():
    strata = [np.arange(1000.0), np.arange(0.5, 1000.0)]
    boot = measures._BucketBootstrap(strata, bucket=40)
    bucket = 7
    start, end = boot.order_statistics(boot.below[:, [bucket, bucket + 1]].sum(axis=0))
    for s in (0, 1):
        size = boot.bucket_sizes[s, bucket]
        assert size >= 10
        owner, place = boot.draw_in_buckets(
            np.array([bucket, bucket]),
            np.array([s, 1 - s]),
            np.array([20_000, 5]),
            np.random.default_rng(s),
        )
        assert owner.tolist() == [0] * 20_000 + [1] * 5
        mine = place[:20_000]
        assert mine.min() >= 0
        assert mine.max() < size
        assert stats.chisquare(np.bincount(mine, minlength=size)).pvalue > 1e-3
        drawn = strata[s][boot.below[s, bucket] + mine]
        assert (drawn >= start).all()
        assert (drawn < end).all()


def test_bucket_bootstrap_finds_every_order_statistic():
    strata = strata_with_ties()
    pooled = np.sort(np.concatenate(strata))
    for bucket, fanout in [(1, 2), (5, 4), (64, 4), (5000, 2)]:
        boot = measures._BucketBootstrap(strata, bucket=bucket, fanout=fanout)
        assert np.array_equal(boot.order_statistics(np.arange(pooled.size)), pooled)
        assert boot.bucket_sizes.max() <= bucket


def test_distinct_matches_numpys_unique():
    key = np.random.default_rng(0).integers(0, 50, 400)
    first, inverse = measures._distinct(key)
    distinct, numpy_inverse = np.unique(key, return_inverse=True)
    assert np.array_equal(key[first], distinct)
    assert np.array_equal(inverse, numpy_inverse)


@pytest.mark.parametrize("size", [*range(1, 40), 99, 100, 1001, 1002])
def test_points_from_order_statistics_are_numpys(size):
    values = np.sort(np.random.default_rng(size).lognormal(1, 1, size))
    found = values[measures._order_positions(size)[0]]
    assert measures._points(found, size) == (np.median(values), np.quantile(values, 0.9))


@pytest.mark.usefixtures("bucket_path")
def test_bucket_path_medians_p90_and_ratios_equal_numpys():
    received, dispatched, arrived, priority, area = synthetic_calls(n=3000)
    table = response_times(received, dispatched, arrived, priority, area, n_boot=20, seed=0)
    for interval, end in (("dispatch", dispatched), ("arrival", arrived)):
        minutes = (end - received) / np.timedelta64(60, "s")
        for p in ("1", "2", "weird code"):
            city = minutes[(priority == p) & (minutes >= 0)]
            row = table.row(p, None, interval)
            assert (row.n, row.median, row.p90) == (
                city.size,
                np.median(city),
                np.quantile(city, 0.9),
            )
            for a in ("A", "B", "C"):
                mine = minutes[(priority == p) & (area == a) & (minutes >= 0)]
                row = table.row(p, a, interval)
                assert (row.n, row.median, row.p90) == (
                    mine.size,
                    np.median(mine),
                    np.quantile(mine, 0.9),
                )
                assert row.ratio_to_city == np.median(mine) / np.median(city)


@pytest.mark.usefixtures("bucket_path")
def test_bucket_path_is_reproducible_with_a_seed():
    calls = synthetic_calls()
    first = response_times(*calls, n_boot=100, seed=42)
    assert first == response_times(*calls, n_boot=100, seed=42)
    assert first.rows != response_times(*calls, n_boot=100, seed=43).rows


@pytest.mark.usefixtures("bucket_path")
def test_bucket_path_intervals_bracket_the_estimates_and_shrink_with_more_calls():
    def widths(n):
        table = response_times(*synthetic_calls(n=n, seed=n), n_boot=300, seed=5)
        for row in table.rows:
            assert row.median_low <= row.median <= row.median_high
            assert row.p90_low <= row.p90 <= row.p90_high
            if row.area is not None:
                assert row.ratio_low <= row.ratio_to_city <= row.ratio_high
        return np.array(
            [
                [r.median_high - r.median_low, r.p90_high - r.p90_low]
                for r in table.rows
                if r.area is None
            ]
        )

    # Four times the calls: intervals about half as wide.
    assert np.median(widths(8000) / widths(2000)) < 0.7


def test_plain_path_keeps_its_published_figures():
    # Priorities under _SELECT_BY_RANK calls keep the plain bootstrap, draw for draw: these
    # figures are the ones the implementation before the bucket bootstrap gave.
    row = response_times(*synthetic_calls(), n_boot=100, seed=42).row("2", "B", "arrival")
    assert (row.n, row.median, row.p90) == (29, 12.26347855, 23.81661824333333)
    assert (row.median_low, row.median_high) == (8.567223664583334, 14.966644366666667)
    assert (row.p90_low, row.p90_high) == (16.591054388333337, 36.43330265999998)
    assert (row.ratio_low, row.ratio_high) == (0.6378269258286363, 1.16234685913113)


def test_large_and_small_priorities_together_keep_numpys_figures(monkeypatch):
    monkeypatch.setattr(measures, "_SELECT_BY_RANK", 150)
    received, dispatched, arrived, priority, area = synthetic_calls(n=600, seed=2)
    # Priority "1" has about 200 calls; the rest are split into five of about 80.
    priority = np.where(priority == "1", "1", (np.arange(600) % 5 + 2).astype(str))
    table = response_times(received, dispatched, arrived, priority, area, n_boot=50, seed=1)
    minutes = (arrived - received) / np.timedelta64(60, "s")
    sizes = []
    for p in ("1", "2", "3", "4", "5", "6"):
        for a in (None, "A", "C"):
            chosen = (priority == p) & ((area == a) if a else True) & (minutes >= 0)
            row = table.row(p, a, "arrival")
            assert (row.n, row.median, row.p90) == (
                chosen.sum(),
                np.median(minutes[chosen]),
                np.quantile(minutes[chosen], 0.9),
            )
        sizes.append(table.row(p, None, "arrival").n)
    assert sizes[0] >= 150 > max(sizes[1:])


def test_minutes_by_group_sorts_large_priorities_and_keeps_the_order_of_small_ones(monkeypatch):
    monkeypatch.setattr(measures, "_SELECT_BY_RANK", 5)
    elapsed = np.array([9, 3, 5, 7, -1, 4, 2, 8, 6, 1]) * 60_000_000
    used = elapsed >= 0
    # Two priorities x two areas: priority 0 has 5 used calls, priority 1 has 4 (< 5).
    group = np.array([0, 1, 0, 2, 3, 3, 0, 1, 2, 3])
    minutes = measures._minutes_by_group(
        elapsed.copy(), used, group.copy(), 4, 2, np.empty(10, dtype=np.int64)
    )
    assert [m.tolist() for m in minutes] == [[2.0, 5.0, 9.0], [3.0, 8.0], [7.0, 6.0], [4.0, 1.0]]


@pytest.mark.parametrize("threshold", [1, 20_000])
def test_response_times_over_centuries_still_equal_numpys(monkeypatch, threshold):
    # Intervals too wide to share 63 bits with the group number take the slower sort.
    monkeypatch.setattr(measures, "_SELECT_BY_RANK", threshold)
    received = np.array([-6 * 10**18, -6 * 10**18, 0, 0], dtype="datetime64[us]")
    dispatched = np.array([0, 10**12, 5 * 60 * 10**6, 7 * 60 * 10**6], dtype="datetime64[us]")
    table = response_times(
        received, dispatched, dispatched, ["1", "1", "2", "2"], ["A"] * 4, n_boot=10, seed=0
    )
    minutes = (dispatched - received) / np.timedelta64(60, "s")
    assert table.row("1", "A", "dispatch").median == np.median(minutes[:2])
    assert table.row("2", "A", "dispatch").median == 6.0


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
