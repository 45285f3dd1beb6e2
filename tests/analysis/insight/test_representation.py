from __future__ import annotations

import doctest
import json
import math
from pathlib import Path

import pytest
from scipy import stats

import csas
from csas.analysis.insight import representation as representation_module
from csas.analysis.insight.representation import (
    AGE_FIELDS,
    ETHNICITY_FIELD,
    HISPANIC,
    NOT_HISPANIC,
    RACE_FIELDS,
    block_group_shares,
    population_by_area,
    rank_under_heard,
    representation,
)

EQUITY_INDEX = Path(csas.__file__).parent / "data" / "geo" / "tacoma" / "Equity_Index_2024.geojson"


@pytest.fixture(scope="module")
def block_groups() -> list[dict[str, object]]:
    with EQUITY_INDEX.open() as handle:
        return [feature["properties"] for feature in json.load(handle)["features"]]


# --- a small example worked by hand -------------------------------------------------------


@pytest.fixture
def by_district():
    # 200 participants who stated a district, 10 who did not; 4 districts of 25% each.
    return representation(
        {"D1": 80, "D2": 60, "D3": 45, "D4": 15, "Prefer not to say": 10},
        {"D1": 50_000, "D2": 50_000, "D3": 50_000, "D4": 50_000},
        dimension="council district",
    )


def test_shares_exclude_those_who_did_not_say_and_count_them(by_district) -> None:
    assert by_district.n == 200
    assert by_district.n_not_stated == 10
    assert by_district.category("D1").participant_share == pytest.approx(0.40)
    assert by_district.category("D4").participant_share == pytest.approx(0.075)
    assert by_district.category("D4").population == 50_000
    assert by_district.category("D4").population_share == 0.25


def test_ratio_and_its_interval_are_the_wilson_interval_over_the_population_share(
    by_district,
) -> None:
    for name, count in {"D1": 80, "D2": 60, "D3": 45, "D4": 15}.items():
        row = by_district.category(name)
        wilson = stats.binomtest(count, 200).proportion_ci(0.95, method="wilson")
        assert row.share_ci_low == pytest.approx(wilson.low, abs=1e-12)
        assert row.share_ci_high == pytest.approx(wilson.high, abs=1e-12)
        assert row.ratio == pytest.approx(count / 200 / 0.25)
        assert row.ratio_ci_low == pytest.approx(wilson.low / 0.25, abs=1e-12)
        assert row.ratio_ci_high == pytest.approx(wilson.high / 0.25, abs=1e-12)


def test_participants_needed_for_parity_by_hand(by_district) -> None:
    # parity at 200 is 50 per district; adding only to D4: (50 - 15) / (1 - 0.25) = 46.67
    d4 = by_district.category("D4")
    assert d4.needed_for_parity == 35
    assert d4.needed_if_added == 47
    assert (15 + 47) / (200 + 47) >= 0.25 > (15 + 46) / (200 + 46)
    assert by_district.category("D3").needed_for_parity == 5
    assert by_district.category("D1").needed_for_parity == 0
    assert by_district.category("D1").needed_if_added == 0


def test_under_represented_needs_a_low_ratio_and_an_interval_below_one(by_district) -> None:
    flags = {row.category: row.under_represented for row in by_district.categories}
    # D3: ratio 0.9 is not below 0.8; D4: ratio 0.3 with the interval below 1.
    assert flags == {"D1": False, "D2": False, "D3": False, "D4": True}


def test_a_low_ratio_with_an_interval_reaching_one_is_not_flagged() -> None:
    result = representation({"a": 2, "b": 8}, {"a": 0.3, "b": 0.7}, population_scale="shares",
                            threshold=1)  # fmt: skip
    row = result.category("a")
    assert row.ratio == pytest.approx(0.2 / 0.3)
    assert row.ratio < 0.8
    assert row.ratio_ci_high > 1
    assert not row.under_represented


def test_score_is_one_minus_the_dissimilarity_index(by_district) -> None:
    shares = [0.40, 0.30, 0.225, 0.075]
    dissimilarity = 0.5 * sum(abs(s - 0.25) for s in shares)
    assert by_district.score == pytest.approx(1 - dissimilarity)
    mirror = representation({"a": 30, "b": 70}, {"a": 3, "b": 7})
    assert mirror.score == pytest.approx(1.0)


def test_a_population_category_nobody_came_from_shows_zero_and_is_flagged() -> None:
    result = representation({"a": 60, "b": 40}, {"a": 50, "b": 30, "c": 20})
    c = result.category("c")
    assert c.participants == 0
    assert c.ratio == 0
    assert c.ratio_ci_low == 0
    assert c.under_represented
    assert c.needed_for_parity == 20
    assert not c.suppressed


def test_ranked_puts_the_least_heard_first(by_district) -> None:
    assert [row.category for row in by_district.ranked()] == ["D4", "D3", "D2", "D1"]


def test_small_categories_are_suppressed_with_a_complementary_partner() -> None:
    result = representation({"a": 120, "b": 30, "c": 4}, {"a": 100, "b": 100, "c": 100})
    c, b = result.category("c"), result.category("b")
    assert c.suppressed
    assert c.suppression_reason == "fewer than 10 participants"
    assert (c.participants, c.participant_share, c.ratio, c.needed_for_parity) == (None,) * 4
    assert c.under_represented  # the flag is still shown
    assert c.population_share == pytest.approx(1 / 3)
    assert b.suppressed  # else c = n - a - b
    assert b.suppression_reason.startswith("complementary")
    assert result.category("a").participants == 120
    assert result.ranked()[0].category == "c"


def test_threshold_one_turns_suppression_off_for_staff_screens() -> None:
    result = representation({"a": 120, "b": 30, "c": 4}, {"a": 1, "b": 1, "c": 1}, threshold=1)
    assert not any(row.suppressed for row in result.categories)
    assert result.category("c").participants == 4


def test_population_given_as_shares_is_used_as_is() -> None:
    result = representation(
        {"under 18": 5, "18+": 95}, {"under 18": 0.2, "18+": 0.8}, population_scale="shares",
        threshold=1,
    )  # fmt: skip
    row = result.category("under 18")
    assert row.population is None
    assert row.population_share == 0.2
    assert row.ratio == pytest.approx(0.25)


def test_rank_under_heard_merges_dimensions_and_places(by_district) -> None:
    age = representation({"young": 10, "old": 90}, {"young": 0.4, "old": 0.6},
                         population_scale="shares", dimension="age")  # fmt: skip
    ranked = rank_under_heard([by_district, age])
    assert [(u.dimension, u.category.category) for u in ranked] == [
        ("age", "young"),
        ("council district", "D4"),
    ]
    assert rank_under_heard([by_district, age], limit=1) == ranked[:1]


# --- the Tacoma block groups --------------------------------------------------------------


def test_tacoma_race_shares_partition_the_population(block_groups) -> None:
    race = block_group_shares(block_groups, "race")
    assert race.block_groups == 169
    assert race.population == 241_349
    assert race.total == pytest.approx(241_349, abs=0.01)
    assert sum(race.shares.values()) == pytest.approx(1.0, abs=1e-12)
    low, high = race.share_sum_range
    assert 1 - 1e-7 < low <= high < 1 + 1e-7
    assert set(race.shares) == set(RACE_FIELDS.values())
    assert race.shares["Black or African American"] == pytest.approx(0.104968, abs=1e-6)
    assert race.shares["White"] == pytest.approx(0.614450, abs=1e-6)
    assert race.counts["Asian"] == pytest.approx(20_705, abs=0.01)


def test_tacoma_hispanic_overlaps_race_and_is_its_own_dimension(block_groups) -> None:
    race_plus_hispanic = [
        sum(float(row[field]) for field in RACE_FIELDS) + float(row[ETHNICITY_FIELD])
        for row in block_groups
    ]
    assert max(race_plus_hispanic) > 1.4  # Hispanic residents are already in the races
    ethnicity = block_group_shares(block_groups, "ethnicity")
    assert list(ethnicity.shares) == [HISPANIC, NOT_HISPANIC]
    assert ethnicity.shares[HISPANIC] == pytest.approx(0.122681, abs=1e-6)
    assert sum(ethnicity.shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert ethnicity.total == pytest.approx(241_349, abs=0.01)


def test_tacoma_age_bands_exceed_population_and_are_normalised(block_groups) -> None:
    age = block_group_shares(block_groups, "age")
    low, high = age.share_sum_range
    assert low == pytest.approx(1.0, abs=1e-9)
    assert high == pytest.approx(1.32166, abs=1e-5)
    assert age.total == pytest.approx(253_728, abs=0.01)
    assert age.population == 241_349
    assert age.shares["Under 18"] == pytest.approx(52_832 / 253_728, abs=1e-9)
    assert sum(age.shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert list(age.shares) == list(AGE_FIELDS.values())


def test_representation_against_tacoma_race_shares(block_groups) -> None:
    race = block_group_shares(block_groups, "race")
    participants = {
        "White": 420,
        "Black or African American": 30,
        "Asian": 45,
        "Two or more races": 40,
        "Other race": 12,
        "American Indian or Alaska Native": 10,
        "Native Hawaiian or Pacific Islander": 3,
        "Prefer not to say": 25,
    }
    result = representation(participants, race.counts, dimension="race")
    assert result.n == 560
    assert result.n_not_stated == 25
    assert sum(row.population_share for row in result.categories) == pytest.approx(1.0)
    black = result.category("Black or African American")
    assert black.ratio == pytest.approx(30 / 560 / race.shares["Black or African American"])
    assert black.under_represented
    assert result.category("Native Hawaiian or Pacific Islander").suppressed
    assert not result.category("White").under_represented
    assert 0 < result.score < 1


def test_population_by_area_splits_and_sums_block_groups(block_groups) -> None:
    areas = ["north" if i % 2 else "south" for i in range(len(block_groups))]
    totals = population_by_area(block_groups, areas)
    assert sum(totals.values()) == pytest.approx(241_349)
    halves = population_by_area(block_groups, areas, weights=[0.5] * len(block_groups))
    assert halves["north"] == pytest.approx(totals["north"] / 2)


def test_block_group_weights_count_part_of_a_block_group() -> None:
    rows = [
        {"population": 100, "hispanicorlatino": 0.5},
        {"population": 100, "hispanicorlatino": 0.1},
    ]
    shares = block_group_shares(rows, "ethnicity", weights=[1.0, 0.5])
    assert shares.counts == {HISPANIC: pytest.approx(55), NOT_HISPANIC: pytest.approx(95)}
    assert shares.population == 150


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("participants", "population", "kwargs", "message"),
    [
        ({"a": 1, "zz": 2}, {"a": 1}, {}, r"participants\['zz'\]: no such population category"),
        ({"a": -1}, {"a": 1}, {}, r"participants\['a'\]: -1 is not a count"),
        ({"a": 1.5}, {"a": 1}, {}, r"participants\['a'\]: 1.5 is not a count"),
        ({"a": True}, {"a": 1}, {}, r"participants\['a'\]: True is not a count"),
        ({"a": 0, "prefer not to say": 4}, {"a": 1}, {}, r"nobody stated a category \(4 did"),
        ({"a": 1}, {}, {}, "population: no categories"),
        ({"a": 1}, {"a": math.nan}, {}, r"population\['a'\]: nan; expected a number >= 0"),
        ({"a": 1}, {"a": -3}, {}, r"population\['a'\]: -3; expected a number >= 0"),
        ({"a": 1}, {"a": "many"}, {}, r"population\['a'\]: 'many' is not a number"),
        ({"a": 1}, {"a": 0, "b": 0}, {}, "population: the categories add up to 0"),
        (
            {"a": 1},
            {"a": 0.7, "b": 0.45},
            {"population_scale": "shares"},
            "population shares sum to 1.1500, expected 1: categories must not overlap",
        ),
        ({"a": 1}, {"a": 1}, {"population_scale": "percent"}, "population_scale must be one of"),
        ({"a": 1}, {"a": 1}, {"level": 1.5}, "level must be between 0 and 1"),
        ({"a": 1}, {"a": 1}, {"level": math.nan}, "level must be between 0 and 1"),
        ({"a": 1}, {"a": 1}, {"ratio_threshold": 0}, r"ratio_threshold must be in \(0, 1\]"),
        ({"a": 1}, {"a": 1}, {"ratio_threshold": 1.2}, r"ratio_threshold must be in \(0, 1\]"),
        ({"a": 1}, {"a": 1}, {"threshold": 0}, "threshold must be at least 1, got 0"),
        ({"a": 1}, {"a": 1}, {"threshold": 9.5}, "threshold must be a whole number"),
    ],
)
def test_bad_representation_input_is_refused(participants, population, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        representation(participants, population, **kwargs)


@pytest.mark.parametrize(
    ("rows", "dimension", "kwargs", "message"),
    [
        ([], "age", {}, "rows: no block groups"),
        ([{"population": 10}], "religion", {}, "dimension must be one of"),
        ([{"population": 10}], "age", {}, r"rows\[0\]: no field 'populationunder18'"),
        ([{"hispanicorlatino": 0.2}], "ethnicity", {}, r"rows\[0\]: no field 'population'"),
        (
            [{"population": 10, "hispanicorlatino": None}],
            "ethnicity",
            {},
            r"rows\[0\]\['hispanicorlatino'\]: None is not a number",
        ),
        (
            [{"population": 10, "hispanicorlatino": 12.0}],
            "ethnicity",
            {},
            r"rows\[0\]\['hispanicorlatino'\]: 12.0 is not a share",
        ),
        (
            [{"population": math.nan, "hispanicorlatino": 0.1}],
            "ethnicity",
            {},
            r"rows\[0\]\['population'\]: nan; expected a number >= 0",
        ),
        (
            [{"population": 0, "hispanicorlatino": 0.1}],
            "ethnicity",
            {},
            "the block groups hold no population",
        ),
        (
            [{"population": 10, "hispanicorlatino": 0.1}],
            "ethnicity",
            {"weights": [1, 1]},
            "weights has 2 values for 1 rows",
        ),
        (
            [{"population": 10, "hispanicorlatino": 0.1}],
            "ethnicity",
            {"weights": [1.5]},
            r"weights\[0\]: 1.5; expected a fraction from 0 to 1",
        ),
    ],
)
def test_bad_block_groups_are_refused(rows, dimension, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        block_group_shares(rows, dimension, **kwargs)


def test_population_by_area_refuses_mismatched_or_blank_areas() -> None:
    with pytest.raises(ValueError, match="areas has 1 labels for 2 rows"):
        population_by_area([{"population": 1}, {"population": 2}], ["a"])
    with pytest.raises(ValueError, match=r"areas\[1\]: '' is not an area name"):
        population_by_area([{"population": 1}, {"population": 2}], ["a", ""])
    with pytest.raises(ValueError, match="rows: no block groups"):
        population_by_area([], [])


def test_rank_under_heard_refuses_a_negative_limit(by_district) -> None:
    with pytest.raises(ValueError, match="limit must be a whole number >= 0"):
        rank_under_heard([by_district], limit=-1)


def test_unknown_category_is_a_key_error(by_district) -> None:
    with pytest.raises(KeyError, match="no category 'D9' in 'council district'"):
        by_district.category("D9")


def test_docstring_examples_run() -> None:
    failures, tried = doctest.testmod(representation_module, raise_on_error=False)
    assert tried > 0
    assert failures == 0
