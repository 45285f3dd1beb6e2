"""The time-of-day profile of eligible calls, checked against counts worked out by hand."""

import datetime as dt
import zoneinfo

import numpy as np
import pytest

from csas.analysis.safety.measures import WEEKDAYS, eligible_time_profile

UTC = dt.UTC
# 1 January 2024 was a Monday.
MONDAY = dt.datetime(2024, 1, 1, tzinfo=UTC)


def at(weekday: int, hour: int, minute: int = 30) -> dt.datetime:
    return MONDAY + dt.timedelta(days=weekday, hours=hour, minutes=minute)


def calls_from_grid(grid: np.ndarray) -> list[dt.datetime]:
    """grid[d, h] calls on weekday d (Monday 0) at hour h, in UTC."""
    return [at(d, h) for d in range(7) for h in range(24) for _ in range(int(grid[d, h]))]


def test_profile_counts_eligible_calls_by_local_weekday_and_hour() -> None:
    received = [
        dt.datetime(2024, 7, 1, 16, 30, tzinfo=UTC),  # Monday 09:30 PDT
        dt.datetime(2024, 1, 1, 17, 59, tzinfo=UTC),  # Monday 09:59 PST
        dt.datetime(2024, 7, 2, 6, 15, tzinfo=UTC),  # Monday 23:15 PDT (Tuesday in UTC)
        dt.datetime(2024, 3, 10, 10, 30, tzinfo=UTC),  # Sunday 03:30 PDT, clocks just sprang
        dt.datetime(2024, 11, 3, 8, 30, tzinfo=UTC),  # Sunday 01:30 PDT, the first 01:30
        dt.datetime(2024, 11, 3, 9, 30, tzinfo=UTC),  # Sunday 01:30 PST, the second 01:30
        dt.datetime(2024, 7, 1, 16, 45, tzinfo=UTC),  # not eligible
    ]
    eligible = [True, True, True, True, True, True, False]
    profile = eligible_time_profile(received, eligible, timezone="America/Los_Angeles", threshold=0)
    expected = np.zeros((7, 24), dtype=int)
    expected[0, 9] = 2
    expected[0, 23] = 1
    expected[6, 3] = 1
    expected[6, 1] = 2
    assert profile.counts.tolist() == expected.tolist()
    assert profile.n_calls == 7
    assert profile.n_eligible == 6
    assert profile.cell("Mon", 9).count == 2
    assert profile.cell("Mon", 9).share == pytest.approx(2 / 6)
    assert profile.by_hour[1].count == 2
    assert profile.by_weekday[6].count == 3
    assert profile.n_suppressed_primary == profile.n_suppressed_complementary == 0


def test_profile_withholds_cells_under_ten_and_their_shares() -> None:
    grid = np.zeros((7, 24), dtype=int)
    grid[0, 9] = 25  # Monday 09h
    grid[0, 10] = 4  # Monday 10h: under 10
    grid[1, 9] = 12  # Tuesday 09h
    profile = eligible_time_profile(calls_from_grid(grid), [True] * 41, timezone="UTC")
    assert profile.cell("Mon", 9).count == 25
    assert profile.cell("Mon", 9).share == pytest.approx(25 / 41)
    assert profile.cell("Tue", 9).count == 12
    hidden = profile.cell("Mon", 10)
    assert (hidden.count, hidden.share, hidden.suppressed, hidden.suppression) == (
        None,
        None,
        True,
        "primary",
    )
    # Zero cells are under 10 too.
    assert profile.cell("Wed", 9).suppression == "primary"
    assert profile.by_hour[9].count == 37
    assert profile.by_hour[10].count is None
    assert [c.count for c in profile.by_weekday] == [29, 12, None, None, None, None, None]
    assert profile.n_eligible == 41
    # Every withheld line has two or more withheld cells: nothing to add.
    assert profile.n_suppressed_complementary == 0
    # 168 cells less 2 shown; 24 hours less 1; 7 days less 2.
    assert profile.n_suppressed_primary == 166 + 23 + 5


def test_a_lone_withheld_cell_takes_the_smallest_of_its_row_and_column_with_it() -> None:
    # Every cell 20 but Monday 03h (5). Monday's total is published, so Monday 03h alone
    # withheld could be worked out from it: the smallest shown cell of the row goes too
    # (Monday 00h, the first of equals), then the column of hour 3 (Tuesday 03h), then the
    # column of hour 0 (Tuesday 00h). Then every line has two withheld cells or none.
    grid = np.full((7, 24), 20)
    grid[0, 3] = 5
    received = calls_from_grid(grid)
    profile = eligible_time_profile(received, np.ones(len(received), dtype=bool), timezone="UTC")
    withheld = {(c.weekday, c.hour): c.suppression for c in profile.cells if c.suppressed}
    assert withheld == {
        ("Mon", 3): "primary",
        ("Mon", 0): "complementary",
        ("Tue", 3): "complementary",
        ("Tue", 0): "complementary",
    }
    assert profile.n_suppressed_primary == 1
    assert profile.n_suppressed_complementary == 3
    # The totals stay published: 23 * 20 + 5 on Monday, 6 * 20 + 5 at hour 3.
    assert profile.by_weekday[0].count == 465
    assert profile.by_hour[3].count == 125
    assert profile.n_eligible == 167 * 20 + 5


def test_a_lone_withheld_margin_cell_takes_another_with_it() -> None:
    # Only Monday has calls (20 in each of hours 8-17, 5 at hour 18): the weekday column
    # has Monday published and six zero days withheld; the hour row has hour 18 withheld
    # along with the hours without calls, so no line has a single withheld cell.
    grid = np.zeros((7, 24), dtype=int)
    grid[0, 8:18] = 20
    grid[0, 18] = 5
    received = calls_from_grid(grid)
    profile = eligible_time_profile(received, [True] * len(received), timezone="UTC")
    assert profile.n_suppressed_complementary == 0
    # Monday only, 20 calls every hour but 5 at hour 18: the row of hour totals has hour 18
    # alone withheld under a published grand total, so the smallest published hour (hour 0,
    # first of equals) goes too; Monday's row likewise loses Monday 00h besides 18h.
    grid = np.zeros((7, 24), dtype=int)
    grid[0, :] = 20
    grid[0, 18] = 5
    received = calls_from_grid(grid)
    profile = eligible_time_profile(received, [True] * len(received), timezone="UTC")
    assert profile.by_hour[18].suppression == "primary"
    assert [c.hour for c in profile.by_hour if c.suppression == "complementary"] == [0]
    assert [(c.weekday, c.hour) for c in profile.cells if c.suppression == "complementary"] == [
        ("Mon", 0)
    ]
    assert profile.n_eligible == 23 * 20 + 5


def test_eligible_calls_without_a_time_are_counted_not_placed() -> None:
    received = np.array(
        ["2024-01-01T09:30", "NaT", "NaT", "2024-01-01T09:45"], dtype="datetime64[us]"
    )
    profile = eligible_time_profile(
        received, [True, True, False, False], timezone="UTC", threshold=1
    )
    assert profile.n_eligible == 1
    assert profile.n_eligible_no_time == 1
    assert profile.n_calls == 4
    assert profile.cell("Mon", 9).count == 1


def test_a_grand_total_under_the_threshold_withholds_everything() -> None:
    profile = eligible_time_profile([at(0, 9)] * 9, [True] * 9, timezone="UTC")
    assert profile.n_eligible is None
    assert all(c.count is None for c in (*profile.cells, *profile.by_hour, *profile.by_weekday))
    assert int(profile.counts.sum()) == 9


def test_the_counts_are_read_only_and_the_weekdays_start_on_monday() -> None:
    profile = eligible_time_profile([at(2, 5)] * 10, [True] * 10, timezone="UTC")
    assert WEEKDAYS[0] == "Mon"
    assert profile.cell("Wed", 5).count == 10
    with pytest.raises(ValueError, match="read-only"):
        profile.counts[0, 0] = 1


def test_profile_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="received has 2 calls but eligible has 1"):
        eligible_time_profile([at(0, 1), at(0, 2)], [True], timezone="UTC")


@pytest.mark.parametrize("zone", ["Pacific/Tacoma", "", "America/Los Angeles"])
def test_profile_rejects_an_unknown_time_zone(zone: str) -> None:
    with pytest.raises(ValueError, match="timezone"):
        eligible_time_profile([at(0, 1)], [True], timezone=zone)


def test_profile_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        eligible_time_profile([dt.datetime(2024, 1, 1, 9)], [True], timezone="UTC")  # noqa: DTZ001


@pytest.mark.parametrize("flags", [[1], ["yes"], [None]])
def test_profile_rejects_eligible_flags_that_are_not_booleans(flags: list[object]) -> None:
    with pytest.raises(ValueError, match=r"eligible\[0\]"):
        eligible_time_profile([at(0, 1)], flags, timezone="UTC")


@pytest.mark.parametrize("threshold", [-1, 2.5, True])
def test_profile_rejects_a_bad_threshold(threshold: object) -> None:
    with pytest.raises(ValueError, match="threshold"):
        eligible_time_profile([at(0, 1)], [True], timezone="UTC", threshold=threshold)  # type: ignore[arg-type]


def test_local_hours_match_the_standard_library_across_daylight_saving_changes() -> None:
    rng = np.random.default_rng(11)
    seconds = rng.integers(1_704_067_200, 1_767_225_600, size=5_000)  # 2024-2025
    received = seconds.astype("datetime64[s]").astype("datetime64[us]")
    profile = eligible_time_profile(
        received, np.ones(seconds.size, dtype=bool), timezone="America/Los_Angeles", threshold=0
    )
    expected = np.zeros((7, 24), dtype=int)
    zone = zoneinfo.ZoneInfo("America/Los_Angeles")
    for second in seconds.tolist():
        local = dt.datetime.fromtimestamp(second, tz=zone)
        expected[local.weekday(), local.hour] += 1
    assert profile.counts.tolist() == expected.tolist()


@pytest.mark.parametrize(
    "days",
    [
        [19723, 19723, 19725, 19724, 19723],  # a few days of 2024
        [5, -3, 5, 0],  # before 1970
        [0, 10**9, 3],  # far apart: the sorting path
        [42],
    ],
)
def test_distinct_days_is_numpys_unique_with_inverse(days: list[int]) -> None:
    from csas.analysis.safety.measures import _distinct_days

    values = np.array(days, dtype=np.int64)
    distinct, position = _distinct_days(values)
    expected, inverse = np.unique(values, return_inverse=True)
    assert distinct.tolist() == expected.tolist()
    assert position.tolist() == inverse.ravel().tolist()
