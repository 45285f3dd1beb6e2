"""Rates from calls already counted give the same table as rates from the calls themselves."""

import numpy as np
import pytest

from csas.analysis.safety.measures import rates_by_area_month, rates_from_counts


def test_rates_from_counts_equal_rates_from_the_calls() -> None:
    rng = np.random.default_rng(8)
    areas = rng.choice(
        np.array(["A", "B", "C", ""], dtype=object), size=3_000, p=[0.5, 0.3, 0.15, 0.05]
    )
    months = rng.choice(np.array(["2024-01", "2024-02", "2024-03"], dtype=object), size=3_000)
    population = {"A": 4000.0, "B": 2500.0, "C": 900.0}
    from_calls = rates_by_area_month(areas, months, population, threshold=10)

    codes, month_list = ["A", "B", "C"], ["2024-01", "2024-02", "2024-03"]
    counts = np.array(
        [[int(((areas == a) & (months == m)).sum()) for m in month_list] for a in codes]
    )
    no_area = {m: int(((areas == "") & (months == m)).sum()) for m in month_list}
    from_counts = rates_from_counts(
        counts, month_list, population, no_area_by_month=no_area, threshold=10
    )
    assert from_counts.cells == from_calls.cells
    assert from_counts.counts.tolist() == from_calls.counts.tolist()
    assert from_counts.no_area_by_month == from_calls.no_area_by_month
    assert (from_counts.n_total, from_counts.n_no_area) == (
        from_calls.n_total,
        from_calls.n_no_area,
    )
    assert from_counts.method == from_calls.method


def test_rates_from_counts_suppress_small_cells() -> None:
    table = rates_from_counts([[12, 30], [40, 25]], ["2024-01", "2024-02"], {"A": 4000, "B": 10})
    assert table.cells[0].count == 12
    assert table.cells[0].rate == pytest.approx(3.0)
    assert not any(c.suppressed for c in table.cells)
    assert table.no_area_by_month == {}
    assert table.n_total == 107


def test_a_withheld_cell_gets_company_in_its_month() -> None:
    months = ["2024-01", "2024-02", "2024-03"]
    population = {"A": 4000, "B": 100}
    # A's February (3) and B's March (3) are under 10. The months' calls (42, 28, 43) are
    # published by other layers; the no-area counts, 0, are withheld too, so February and
    # March each have two withheld cells. January's lone withheld 0 needs no company
    # (working it out tells of no call), and an area's year is not published while one of
    # its months is withheld: nothing more is withheld.
    table = rates_from_counts([[12, 3, 40], [30, 25, 3]], months, population)
    assert [c.suppressed for c in table.cells] == [False, True, False, False, False, True]
    assert table.cells[1].count is None
    assert table.no_area_withheld == {"2024-01", "2024-02", "2024-03"}
    # With calls without an area (50, 60, 11; their year, 121, is in the summary):
    # February withholds B's 25 beside A's 3; March the no-area 11 beside B's 3; the
    # no-area year then its 50 (January), and January A's 12 beside it.
    busy = rates_from_counts(
        [[12, 3, 40], [30, 25, 3]],
        months,
        population,
        no_area_by_month={"2024-01": 50, "2024-02": 60, "2024-03": 11},
    )
    assert [c.suppressed for c in busy.cells] == [True, True, False, False, True, True]
    assert busy.no_area_withheld == {"2024-01", "2024-03"}


def test_no_withheld_rate_is_the_difference_of_published_counts() -> None:
    # Random tables: in every month (areas and no-area calls: the month's calls) and every
    # area's year, zero or at least two cells are withheld, never exactly one.
    rng = np.random.default_rng(3)
    for _ in range(200):
        n_areas, n_months = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        counts = rng.poisson(rng.uniform(2, 40), size=(n_areas, n_months))
        months = [f"2024-{m + 1:02d}" for m in range(n_months)]
        no_area = {m: int(rng.poisson(6)) for m in months}
        table = rates_from_counts(
            counts, months, {f"A{i}": 1000.0 for i in range(n_areas)}, no_area_by_month=no_area
        )
        withheld = np.array([c.suppressed for c in table.cells]).reshape(n_areas, n_months)
        no_area_withheld = np.array([m in table.no_area_withheld for m in months])
        full = np.vstack([withheld, no_area_withheld])
        with_zero = np.vstack([counts, [no_area[m] for m in months]])
        for j in range(n_months):
            if with_zero[:, j].sum() >= 10:  # the month's calls are published
                # never exactly one withheld cell, unless it holds no call
                lone = full[:, j].sum() == 1
                assert not lone or with_zero[:, j][full[:, j]].sum() == 0
        no_area_counts = np.array([no_area[m] for m in months])
        if no_area_counts.sum() >= 10 and n_months > 1:  # the summary gives their year
            lone = no_area_withheld.sum() == 1
            assert not lone or no_area_counts[no_area_withheld].sum() == 0
        # every cell under the threshold is withheld
        assert (withheld | (counts >= 10)).all()


@pytest.mark.parametrize(
    ("counts", "months", "message"),
    [
        ([[1, 2]], ["2024-01"], "shape"),
        ([[1, -2]], ["2024-01", "2024-02"], "non-negative integers"),
        ([[1.5, 2]], ["2024-01", "2024-02"], "non-negative integers"),
        ([[1, 2]], ["2024-02", "2024-01"], "sorted and distinct"),
        ([[1, 2]], ["2024-01", "2024-01"], "sorted and distinct"),
        ([[1, 2]], ["2024-01", "2024-13"], r"months\[1\]"),
    ],
)
def test_rates_from_counts_reject_bad_tables(
    counts: list[list[float]], months: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rates_from_counts(counts, months, {"A": 100})


def test_rates_from_counts_reject_no_area_months_outside_the_table() -> None:
    with pytest.raises(ValueError, match="no_area_by_month names months"):
        rates_from_counts([[1]], ["2024-01"], {"A": 100}, no_area_by_month={"2024-05": 2})
