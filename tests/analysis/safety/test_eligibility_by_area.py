"""Eligibility by district and eligible calls by council district x hour of the week:
checked against counts made here, independently, from the same normalised calls."""

from __future__ import annotations

import csv
import datetime as dt
import zoneinfo
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from csas.analysis.safety.geo import assign_points
from csas.analysis.safety.ingest import ingest
from csas.analysis.safety.measures import eligibility_by_area, suppress_table
from csas.analysis.safety.pipeline import (
    DISTRICTS,
    ELIGIBILITY_BY_AREA_HEADER,
    OUTPUT_FILES,
    TIME_BY_DISTRICT_HEADER,
    _tacoma,
    analyze,
)
from csas.analysis.safety.synthetic import SYNTHETIC_PROFILE, generate_calls
from csas.analysis.safety.taxonomy import DEFAULT_ELIGIBLE_TIERS, classify_calls

THRESHOLD = 10
ZONE = zoneinfo.ZoneInfo("America/Los_Angeles")


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("by-area")
    generate_calls(8_000, seed=5, year=2024, out_path=folder / "calls.parquet", fmt="parquet")
    ingest(folder / "calls.parquet", profile=SYNTHETIC_PROFILE, output=folder / "n.parquet")
    analyze(folder / "n.parquet", out_dir=folder / "out", permutations=99, n_boot=10)
    return folder / "n.parquet", folder / "out"


@pytest.fixture(scope="module")
def per_call(analysed: tuple[Path, Path]) -> dict[str, Any]:
    """Each call's flags, from the taxonomy in DuckDB, and its areas (plain Python below)."""
    normalised, _ = analysed
    with duckdb.connect() as con:
        con.execute("CREATE TABLE calls AS SELECT * FROM read_parquet(?)", [str(normalised)])
        classify_calls(con, "calls")
        rows = con.execute(
            "SELECT initiation = 'public', "
            "initiation = 'public' AND list_contains($tiers, tier), "
            "initiation = 'public' AND list_contains($tiers, tier) AND NOT screened_out, "
            "received_at, lon, lat FROM classified_calls ORDER BY row_number",
            {"tiers": list(DEFAULT_ELIGIBLE_TIERS)},
        ).fetchall()
    lon = np.array([r[4] if r[4] is not None else np.nan for r in rows], dtype=float)
    lat = np.array([r[5] if r[5] is not None else np.nan for r in rows], dtype=float)
    areas = {
        g.key: assign_points(lon, lat, _tacoma().areas[g.key]).point_codes() for g in DISTRICTS
    }
    return {"rows": rows, "areas": areas}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> int | None:
    return int(text) if text else None


def test_both_new_files_are_listed_and_written(analysed: tuple[Path, Path]) -> None:
    _, out = analysed
    for name, header in (
        ("eligibility_by_area.csv", ELIGIBILITY_BY_AREA_HEADER),
        ("eligible_time_by_district.csv", TIME_BY_DISTRICT_HEADER),
    ):
        assert name in OUTPUT_FILES
        with (out / name).open(encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == list(header)
    assert not [p for p in out.iterdir() if p.name.startswith(".csas-analysis-")]


def test_published_district_counts_match_counts_made_independently(
    analysed: tuple[Path, Path], per_call: dict[str, Any]
) -> None:
    _, out = analysed
    rows = read(out / "eligibility_by_area.csv")
    published_any = 0
    for geography in DISTRICTS:
        codes = per_call["areas"][geography.key]
        expected = {"calls": Counter(), "eligible_by_type": Counter(),
                    "eligible_after_screening": Counter()}  # fmt: skip
        for call, code in zip(per_call["rows"], codes, strict=True):
            for column, flag in zip(expected, call[:3], strict=True):
                if flag:
                    expected[column][code] += 1
        mine = [r for r in rows if r["geography"] == geography.key]
        assert {r["area"] for r in mine} == {a.code for a in _tacoma().areas[geography.key]}
        for row in mine:
            for column, counter in expected.items():
                value = number(row[column])
                true = counter[row["area"]]
                if true < THRESHOLD:
                    assert value is None, (geography.key, row["area"], column)
                if value is not None:
                    published_any += 1
                    assert value == true
            calls = number(row["calls"])
            for part, share in (
                ("eligible_by_type", "share_by_type"),
                ("eligible_after_screening", "share_after_screening"),
            ):
                value = number(row[part])
                if calls is None or value is None:
                    assert row[share] == ""
                else:
                    assert float(row[share]) == pytest.approx(value / calls, abs=1e-4)
            assert (row["suppressed"] == "True") == any(
                row[c] == "" for c in ELIGIBILITY_BY_AREA_HEADER[2:7]
            )
    assert published_any > 20  # 8,000 calls: council districts' counts are published


def test_no_withheld_district_count_can_be_recovered_from_the_column_total(
    analysed: tuple[Path, Path], per_call: dict[str, Any]
) -> None:
    _, out = analysed
    rows = read(out / "eligibility_by_area.csv")
    for geography in DISTRICTS:
        codes = per_call["areas"][geography.key]
        outside = [c == "" for c in codes]
        mine = [r for r in rows if r["geography"] == geography.key]
        no_area = [
            sum(1 for call, o in zip(per_call["rows"], outside, strict=True) if o and call[i])
            for i in range(3)
        ]
        # The calls outside every area are never published: withheld where small, or where
        # an eligible count's remainder is small.
        small = [
            no_area[0] < THRESHOLD,
            no_area[1] < THRESHOLD or 0 < no_area[0] - no_area[1] < THRESHOLD,
            no_area[2] < THRESHOLD
            or 0 < no_area[1] - no_area[2] < THRESHOLD
            or 0 < no_area[0] - no_area[2] < THRESHOLD,
        ]
        for index, column in enumerate(ELIGIBILITY_BY_AREA_HEADER[2:5]):
            hidden = sum(1 for r in mine if r[column] == "") + small[index]
            assert hidden != 1, (geography.key, column)


def test_eligible_counts_with_a_small_remainder_are_withheld(
    analysed: tuple[Path, Path],
) -> None:
    _, out = analysed
    for row in read(out / "eligibility_by_area.csv"):
        values = [number(row[c]) for c in ELIGIBILITY_BY_AREA_HEADER[2:5]]
        for a, b in ((0, 1), (0, 2), (1, 2)):
            if values[a] is not None and values[b] is not None:
                assert not 0 < values[a] - values[b] < THRESHOLD


def test_district_hour_of_week_cells_match_counts_made_independently(
    analysed: tuple[Path, Path], per_call: dict[str, Any]
) -> None:
    _, out = analysed
    counted: Counter[tuple[str, str, int]] = Counter()
    for call, code in zip(per_call["rows"], per_call["areas"]["council_district"], strict=True):
        received = call[3]
        if received is None or not code:
            continue
        local = received.astimezone(ZONE)
        hour = local.weekday() * 24 + local.hour
        for definition, flag in (("by_type", call[1]), ("after_screening", call[2])):
            if flag:
                counted[(definition, code, hour)] += 1
    rows = read(out / "eligible_time_by_district.csv")
    districts = {a.code for a in _tacoma().areas["council_district"]}
    assert len(rows) == 2 * len(districts) * 168
    published = 0
    for row in rows:
        true = counted[(row["definition"], row["council_district"], int(row["hour_of_week"]))]
        value = number(row["count"])
        assert (row["suppressed"] == "True") == (value is None)
        if true < THRESHOLD:
            assert value is None
            assert row["suppression"] in ("primary", "complementary")
        if value is not None:
            published += 1
            assert value == true
    # 8,000 calls over 9 districts x 168 hours: nearly every cell is withheld.
    assert published < len(rows) / 10


def test_district_week_cells_match_a_plain_count_on_busier_data() -> None:
    from csas.analysis.safety.measures import eligible_week_by_area

    rng = np.random.default_rng(11)
    start = dt.datetime(2024, 3, 4, 8, tzinfo=dt.UTC)  # a Monday, midnight in Tacoma (PST)
    n = 6_000
    hours = rng.integers(0, 12, size=n) * 14  # 12 busy hours of the week
    received = [start + dt.timedelta(hours=int(h), minutes=5) for h in hours]
    areas = rng.integers(-1, 3, size=n)
    eligible = rng.random(n) < 0.5
    week = eligible_week_by_area(
        received, eligible, areas, ["A", "B", "C"], timezone="America/Los_Angeles"
    )
    counted: Counter[tuple[int, int]] = Counter()
    for moment, area, flag in zip(received, areas, eligible, strict=True):
        if flag and area >= 0:
            local = moment.astimezone(ZONE)
            counted[(int(area), local.weekday() * 24 + local.hour)] += 1
    published = 0
    for area in range(3):
        for hour in range(168):
            value = week.published(area, hour)
            if counted[(area, hour)] < THRESHOLD:
                assert value is None
            if value is not None:
                published += 1
                assert value == counted[(area, hour)]
    assert published >= 30


def test_a_lone_withheld_area_gets_a_complementary_partner() -> None:
    # Areas A (25 calls), B (3: withheld), C (40), and 30 outside every area: B could be
    # recovered from the citywide total, so the smallest published cell (A) is withheld too.
    index = [0] * 25 + [1] * 3 + [2] * 40 + [-1] * 30
    public = [True] * len(index)
    none = [False] * len(index)
    found = eligibility_by_area(public, none, none, index, ["A", "B", "C"], threshold=10)
    calls = [r.calls for r in found.rows]
    assert calls == [None, None, 40]
    assert [r.share_by_type for r in found.rows] == [None, None, None]  # 0 eligible: withheld


def test_the_shared_table_suppression_never_leaves_a_lone_withheld_cell() -> None:
    rng = np.random.default_rng(4)
    counts = rng.poisson(12, size=(6, 9))
    state = suppress_table(counts, 10)
    for line in (*state, *state.T):
        total_published = line[-1] == 0
        assert not (total_published and int(np.count_nonzero(line[:-1])) == 1)


def test_an_analysis_outside_the_week_profile_rejects_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="subset"):
        eligibility_by_area([False], [True], [False], [0], ["A"], threshold=10)
    with pytest.raises(ValueError, match="area_index"):
        eligibility_by_area([True], [True], [True], [3], ["A"], threshold=10)


def test_time_by_district_uses_local_hours_of_the_week() -> None:
    from csas.analysis.safety.measures import eligible_week_by_area

    # 16:30 UTC on Monday 1 July 2024 is 09:30 in Tacoma: hour 9 of the week.
    moment = np.datetime64("2024-07-01T16:30", "us")  # UTC
    week = eligible_week_by_area(
        np.array([moment] * 24),
        [True] * 24,
        [0] * 12 + [-1] * 12,
        ["1"],
        timezone="America/Los_Angeles",
    )
    assert week.published(0, 9) == 12
    assert week.published(0, 10) is None


def test_area_counts_match_a_masked_count_per_flag() -> None:
    rng = np.random.default_rng(23)
    n = 200_000
    public = rng.random(n) < 0.6
    by_type = public & (rng.random(n) < 0.4)
    screened = by_type & (rng.random(n) < 0.8)
    areas = rng.integers(-2, 5, size=n).astype(np.int16)
    found = eligibility_by_area(public, by_type, screened, areas, list("ABCDE"), threshold=1)
    for i, row in enumerate(found.rows):
        here = areas == i
        assert (row.calls, row.eligible_by_type, row.eligible_after_screening) == (
            int((here & public).sum()),
            int((here & by_type).sum()),
            int((here & screened).sum()),
        )
