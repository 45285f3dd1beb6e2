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
    table = rates_from_counts([[12, 3]], ["2024-01", "2024-02"], {"A": 4000}, threshold=10)
    assert table.cells[0].count == 12
    assert table.cells[0].rate == pytest.approx(3.0)
    assert table.cells[1].suppressed
    assert table.cells[1].count is None
    assert table.no_area_by_month == {}
    assert table.n_total == 15


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
