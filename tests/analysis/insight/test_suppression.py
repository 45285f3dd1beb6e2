from __future__ import annotations

import doctest
import itertools
import time
from collections.abc import Hashable, Sequence

import numpy as np
import pytest

from csas.analysis.insight import suppression
from csas.analysis.insight.suppression import (
    TOTAL,
    SuppressionResult,
    Table,
    find_disclosures,
    protect_partition,
    protect_tables,
)


def people(start: int, count: int) -> set[int]:
    return set(range(start, start + count))


def brute_force_leaks(
    tables: Sequence[Table], result: SuppressionResult, threshold: int
) -> list[frozenset[Hashable]]:
    """Every set of respondents, of any shape, whose count the published cells determine
    with 0 < count < threshold: an oracle independent of the module's candidate families.

    Atoms are recomputed here from the member sets; every union of atoms is tried (only for
    small examples), and "determined" is a rank test on the published cells' indicators.
    """
    cells: list[tuple[str, str, frozenset[Hashable]]] = []
    for table in tables:
        union: set[Hashable] = set()
        for name, members in table.cells.items():
            cells.append((table.name, name, frozenset(members)))
            union |= set(members)
        if table.publish_total:
            cells.append((table.name, TOTAL, frozenset(union)))
    everyone = sorted(set().union(*(members for *_, members in cells)))
    signature: dict[tuple[bool, ...], set[Hashable]] = {}
    for person in everyone:
        key = tuple(person in members for *_, members in cells)
        signature.setdefault(key, set()).add(person)
    atoms = list(signature.values())
    assert len(atoms) <= 16, "brute force is for small examples"
    published = [
        [1.0 if atom <= members else 0.0 for atom in map(frozenset, atoms)]
        for table, name, members in cells
        if result.status(table, name).published
    ]
    rank = np.linalg.matrix_rank(np.array(published)) if published else 0
    leaks = []
    for size in range(1, len(atoms) + 1):
        for chosen in itertools.combinations(range(len(atoms)), size):
            count = sum(len(atoms[i]) for i in chosen)
            if not 0 < count < threshold:
                continue
            vector = [1.0 if i in chosen else 0.0 for i in range(len(atoms))]
            stacked = np.array([*published, vector])
            if np.linalg.matrix_rank(stacked) == rank:
                leaks.append(frozenset().union(*(atoms[i] for i in chosen)))
    return leaks


# --- the District 3 example ---------------------------------------------------------------


@pytest.fixture
def district_3_tables() -> list[Table]:
    # 40 District 3 respondents; 37 are women. Each table: answers to "do you feel safe?".
    women_yes, women_no = people(0, 20), people(20, 17)
    others_yes, others_no = people(37, 2), people(39, 1)
    return [
        Table("District 3", {"yes": women_yes | others_yes, "no": women_no | others_no}),
        Table("District 3 women", {"yes": women_yes, "no": women_no}),
    ]


def test_differencing_two_overlapping_filters_is_found(district_3_tables) -> None:
    leaks = find_disclosures(district_3_tables)
    descriptions = {leak.description: leak.size for leak in leaks}
    assert descriptions["District 3 / (total) minus District 3 women / (total)"] == 3
    assert descriptions["District 3 / yes minus District 3 women / yes"] == 2
    assert descriptions["District 3 / no minus District 3 women / no"] == 1


def test_the_later_table_is_refused_with_strategy_tables(district_3_tables) -> None:
    result = protect_tables(district_3_tables, strategy="tables")
    assert result.withheld_tables == ("District 3 women",)
    assert all(s.published for s in result.cells if s.table == "District 3")
    women = [s for s in result.cells if s.table == "District 3 women"]
    assert all(s.status == "withheld" and s.published_count is None for s in women)
    assert women[0].reason.startswith("table withheld: with it published, District 3 ")
    assert brute_force_leaks(district_3_tables, result, 10) == []


def test_cells_are_hidden_until_no_difference_reveals_district_3_non_women(
    district_3_tables,
) -> None:
    result = protect_tables(district_3_tables, strategy="cells")
    assert result.withheld_tables == ()
    assert {s.status for s in result.cells} >= {"published", "complementary"}
    assert find_disclosures(district_3_tables, suppressed=result.suppressed) == ()
    assert brute_force_leaks(district_3_tables, result, 10) == []
    assert any("District 3 women" in d.description for d in result.protected)


def test_masks_give_the_same_decision_as_ids() -> None:
    district = np.array([3] * 40 + [4] * 30)
    woman = np.array([True] * 37 + [False] * 3 + [True] * 15 + [False] * 15)
    as_masks = [
        Table("District 3", {"all": district == 3}, publish_total=False),
        Table("District 3 women", {"all": (district == 3) & woman}, publish_total=False),
    ]
    as_ids = [
        Table("District 3", {"all": set(range(40))}, publish_total=False),
        Table("District 3 women", {"all": set(range(37))}, publish_total=False),
    ]
    for strategy in ("cells", "tables"):
        masks = protect_tables(as_masks, strategy=strategy)
        ids = protect_tables(as_ids, strategy=strategy)
        assert [s.status for s in masks.cells] == [s.status for s in ids.cells]
        assert [s.count for s in masks.cells] == [37 + 3, 37]


# --- row and column totals ----------------------------------------------------------------


def test_a_row_total_revealing_one_hidden_cell_forces_a_second_cell() -> None:
    table = Table("by age", {"18-34": people(0, 40), "35-64": people(40, 25), "65+": people(65, 4)})
    result = protect_tables([table])
    assert result.status("by age", "65+").status == "primary"
    second = result.status("by age", "35-64")  # the smallest other cell
    assert second.status == "complementary"
    assert second.reason == (
        "complementary: with it published, by age / 65+ (fewer than 10) could be computed"
    )
    assert result.published_count("by age", "18-34") == 40
    assert result.published_count("by age") == 69
    assert brute_force_leaks([table], result, 10) == []


def test_hidden_cells_that_sum_below_the_threshold_force_a_third() -> None:
    table = Table(
        "t", {"a": people(0, 50), "b": people(50, 30), "c": people(80, 4), "d": people(84, 3)}
    )
    result = protect_tables([table])
    assert [result.status("t", c).status for c in "abcd"] == [
        "published",
        "complementary",
        "primary",
        "primary",
    ]
    assert brute_force_leaks([table], result, 10) == []


def test_a_two_way_table_with_margins_hides_a_pattern_around_the_small_cell() -> None:
    counts = [[3, 20, 30], [25, 40, 15], [12, 18, 50]]
    start = 0
    cells: dict[tuple[int, int], set[int]] = {}
    for r, c in itertools.product(range(3), range(3)):
        cells[(r, c)] = people(start, counts[r][c])
        start += counts[r][c]
    rows = {f"r{r}": set().union(*(cells[(r, c)] for c in range(3))) for r in range(3)}
    columns = {f"c{c}": set().union(*(cells[(r, c)] for r in range(3))) for c in range(3)}
    tables = [
        Table("interior", {f"r{r}c{c}": members for (r, c), members in cells.items()}),
        Table("rows", rows, publish_total=False),
        Table("columns", columns, publish_total=False),
    ]
    result = protect_tables(tables)
    hidden = {cell for table, cell in result.suppressed if table == "interior"}
    assert "r0c0" in hidden
    assert hidden & {"r0c1", "r0c2"}, "a second cell in the small cell's row"
    assert hidden & {"r1c0", "r2c0"}, "a second cell in the small cell's column"
    assert all(result.status(t.name, TOTAL).published for t in tables if t.publish_total)
    assert find_disclosures(tables, suppressed=result.suppressed) == ()
    assert brute_force_leaks(tables, result, 10) == []


def test_protect_partition_matches_protect_tables_on_disjoint_cells() -> None:
    counts = {"a": 50, "b": 30, "c": 4, "d": 12}
    quick = protect_partition(counts)
    start, cells = 0, {}
    for name, count in counts.items():
        cells[name] = people(start, count)
        start += count
    full = protect_tables(
        [
            Table("table total", {"all": people(0, start)}, publish_total=False,
                  already_published=True),
            Table("table", cells, publish_total=False),
        ]
    )  # fmt: skip
    assert [s.status for s in quick.cells[:-1]] == [s.status for s in full.cells[1:]]
    assert quick.status("table", "d").status == "complementary"
    assert quick.published_count("table") == 96


# --- zeros ----------------------------------------------------------------------------------


def test_zero_counts_are_published_and_need_no_partner() -> None:
    table = Table("t", {"yes": people(0, 25), "no": set(), "unsure": people(25, 12)})
    result = protect_tables([table])
    assert result.status("t", "no").status == "published"
    assert result.published_count("t", "no") == 0
    assert result.suppressed == ()


def test_a_derived_empty_set_is_not_a_disclosure() -> None:
    # Every District 3 respondent is a woman: the difference is 0, which is published.
    tables = [
        Table("District 3", {"all": people(0, 30)}, publish_total=False),
        Table("District 3 women", {"all": people(0, 30)}, publish_total=False),
    ]
    assert find_disclosures(tables) == ()
    assert protect_tables(tables).suppressed == ()


def test_hiding_an_empty_cell_is_never_chosen_as_protection() -> None:
    result = protect_partition({"a": 50, "b": 30, "c": 4, "d": 0})
    assert result.status("table", "d").status == "published"
    assert result.status("table", "b").status == "complementary"


# --- earlier releases and requests --------------------------------------------------------


def test_already_published_tables_are_never_hidden_and_their_leaks_are_reported() -> None:
    tables = [
        Table("2024 release", {"all": people(0, 40)}, publish_total=False, already_published=True),
        Table("2024 women", {"all": people(0, 36)}, publish_total=False, already_published=True),
        Table("2025 by answer", {"yes": people(0, 20), "no": people(20, 20)}),
    ]
    result = protect_tables(tables)
    assert result.status("2024 release", "all").published
    assert result.status("2024 women", "all").published
    assert [d.description for d in result.exposed] == ["2024 release / all minus 2024 women / all"]


def test_a_requested_cell_is_protected_like_a_small_one() -> None:
    table = Table("t", {"a": people(0, 50), "b": people(50, 30), "c": people(80, 40)})
    result = protect_tables([table], suppress=[("t", "b")])
    assert result.status("t", "b").status == "requested"
    assert result.status("t", "c").status == "complementary"
    assert "t / b (hidden)" in result.status("t", "c").reason
    assert result.status("t", "a").published


def test_keep_steers_the_choice_of_partner() -> None:
    result = protect_partition({"ref": 20, "a": 30, "c": 4}, keep=["ref"])
    assert result.status("table", "a").status == "complementary"
    assert result.status("table", "ref").published


# --- scale ------------------------------------------------------------------------------------


def test_tens_of_overlapping_tables_are_protected_quickly() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    district = rng.integers(0, 6, n)
    gender = rng.choice(4, n, p=[0.48, 0.48, 0.03, 0.01])
    answer = rng.integers(0, 4, n)
    race = rng.choice(5, n, p=[0.7, 0.12, 0.1, 0.05, 0.03])
    tables = []
    for d in range(6):
        tables.append(Table(f"D{d}", {f"a{a}": (district == d) & (answer == a) for a in range(4)}))
        tables.append(
            Table(f"D{d} women", {f"a{a}": (district == d) & (gender == 0) & (answer == a)
                                  for a in range(4)})
        )  # fmt: skip
        tables.append(
            Table(f"D{d} race", {f"r{r}": (district == d) & (race == r) for r in range(5)})
        )
    tables.append(Table("gender", {f"g{g}": gender == g for g in range(4)}))
    started = time.perf_counter()
    result = protect_tables(tables)
    elapsed = time.perf_counter() - started
    assert len(tables) == 19
    assert elapsed < 60  # a guard against a search that explodes, not a speed measure
    assert any(s.status == "primary" for s in result.cells)
    assert any(s.status == "complementary" for s in result.cells)
    assert find_disclosures(tables, suppressed=result.suppressed) == ()


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tables", "kwargs", "message"),
    [
        ([], {}, "tables: nothing to publish"),
        ([Table("t", {"a": {1}})], {"threshold": 0}, "threshold must be at least 1, got 0"),
        ([Table("t", {"a": {1}})], {"threshold": 2.0}, "threshold must be a whole number"),
        ([Table("t", {"a": {1}})], {"threshold": True}, "threshold must be a whole number"),
        ([Table("t", {"a": {1}})], {"strategy": "rows"}, "strategy must be one of"),
        ([Table("t", {"a": {1}}), Table("t", {"b": {2}})], {}, r"repeated: \['t'\]"),
        ([Table("", {"a": {1}})], {}, r"tables\[0\]: the table has no name"),
        ([Table("t", {})], {}, "table 't': no cells"),
        ([Table("t", {TOTAL: {1}})], {}, "is reserved for the total"),
        ([Table("t", {"a": "abc"})], {}, "expected respondent ids or a boolean mask"),
        (
            [Table("t", {"a": np.array([True, False]), "b": np.array([True])})],
            {},
            "mask of length 1, expected 2",
        ),
        (
            [Table("t", {"a": np.array([True, False]), "b": {5}})],
            {},
            "mix boolean masks and respondent ids",
        ),
        ([Table("t", {"a": np.ones((2, 2), dtype=bool)})], {}, "mask must be 1-D"),
        ([Table("t", {"a": {1}})], {"suppress": [("t", "zz")]}, r"no such \(table, cell\)"),
        ([Table("t", {"a": {1}})], {"suppress": "t"}, r"expected \(table, cell\) pairs"),
    ],
)
def test_bad_tables_are_refused_with_a_message_naming_the_argument(tables, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        protect_tables(tables, **kwargs)


@pytest.mark.parametrize(
    ("counts", "kwargs", "message"),
    [
        ({}, {}, "counts: no cells"),
        ({"a": -1}, {}, r"counts\['a'\]: -1 is not a count"),
        ({"a": 2.5}, {}, r"counts\['a'\]: 2.5 is not a count"),
        ({"a": True}, {}, r"counts\['a'\]: True is not a count"),
        ({TOTAL: 3}, {}, "is reserved for the total"),
        ({"a": 3}, {"threshold": -5}, "threshold must be at least 1"),
        ({"a": 3}, {"suppress": "a"}, "suppress: expected a collection of cell names"),
        ({"a": 3}, {"keep": "a"}, "keep: expected a collection of cell names"),
        ({"a": 3}, {"suppress": ["b"]}, r"no such \(table, cell\)"),
    ],
)
def test_bad_counts_are_refused(counts, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        protect_partition(counts, **kwargs)


def test_asking_for_a_cell_that_does_not_exist_is_a_key_error() -> None:
    result = protect_partition({"a": 30})
    with pytest.raises(KeyError, match="no cell 'b' in table 'table'"):
        result.status("table", "b")


def test_results_are_frozen() -> None:
    result = protect_partition({"a": 30})
    with pytest.raises(AttributeError):
        result.threshold = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.cells[0].published = False  # type: ignore[misc]


def test_docstring_examples_run() -> None:
    failures, tried = doctest.testmod(suppression, raise_on_error=False)
    assert tried > 0
    assert failures == 0


def test_the_brute_force_oracle_sees_what_protection_removes(district_3_tables) -> None:
    unprotected = protect_tables(district_3_tables, threshold=1)  # publishes every cell
    leaks = brute_force_leaks(district_3_tables, unprotected, 10)
    assert frozenset(range(37, 40)) in leaks  # District 3 non-women
    assert frozenset({39}) in leaks  # the one non-woman who answered "no"
