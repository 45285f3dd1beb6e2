"""Ingestion: every row of a messy export kept, rejected with a reason, or a duplicate."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import doctest
import gzip
import itertools
import json
import random
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyproj
import pytest
import yaml

from csas.analysis.safety import ingest as ingest_module
from csas.analysis.safety import profiles as profiles_module
from csas.analysis.safety.ingest import (
    NORMALISED_COLUMNS,
    REJECTION_REASONS,
    IngestError,
    IngestReport,
    MissingColumnError,
    ingest,
)
from csas.analysis.safety.profiles import (
    Profile,
    ProfileError,
    bundled_profiles,
    load_profile,
    profile_from_mapping,
)

FIXTURES = Path(__file__).parent / "fixtures"
SPD = FIXTURES / "spd_calls.csv"
TPD = FIXTURES / "tpd_crime.geojson"
UTC = dt.UTC

#: What happens to each row of spd_calls.csv (row number -> outcome).
SPD_EXPECTED = {
    1: "kept",
    2: "kept",
    3: "kept",  # 02:30 on the spring-forward night: does not exist
    4: "kept",  # 01:30 on the fall-back night: ambiguous
    5: "kept",  # latitude/longitude given the wrong way round
    6: "duplicate_row",  # a copy of row 1
    7: "duplicate_source_id",  # row 2's CAD event number, another disposition
    8: "missing_required_field",  # no Initial Call Type
    9: "missing_required_field",  # no CAD Event Number
    10: "unparseable_timestamp",  # Original Time Queued "2023-13-45 25:00"
    11: "unparseable_timestamp",  # Arrived Time "soon"
    12: "unparseable_coordinates",  # longitude "abc"
    13: "incomplete_coordinates",  # no latitude
    14: "coordinates_out_of_range",  # 200.5, 95.0
    15: "kept",  # REDACTED location
    16: "kept",  # 0, 0
    17: "kept",  # no location
    18: "kept",  # outside Seattle's box
    19: "kept",  # Call Type "CARRIER PIGEON": initiated_by unknown
    20: "kept",  # 2009 formats
    21: "kept",  # ISO 8601 local time
    22: "malformed_record",  # too few fields (line 23)
}


def seattle() -> Profile:
    return load_profile("seattle-spd")


def seattle_data(**changes: Any) -> dict[str, Any]:
    profile_path = bundled_profiles()["seattle-spd"]
    data: dict[str, Any] = yaml.safe_load(profile_path.read_text(encoding="utf-8"))
    data.update(changes)
    return data


def run(path: Path, tmp_path: Path, profile: Profile | str = "seattle-spd", **kw: Any) -> Any:
    return ingest(path, profile=profile, output=tmp_path / "out.parquet", **kw)


def rows(path: Path, columns: str = "*") -> list[tuple[Any, ...]]:
    """Rows of a normalised file; `columns` may end with a WHERE clause."""
    select, _, where = columns.partition(" WHERE ")
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(
            f"SELECT {select} FROM read_parquet(?) "  # noqa: S608 (test-only SQL)
            f"WHERE {where or 'true'} ORDER BY row_number",
            [str(path)],
        ).fetchall()


@pytest.fixture(scope="module")
def spd_report(tmp_path_factory: pytest.TempPathFactory) -> IngestReport:
    folder = tmp_path_factory.mktemp("spd")
    return ingest(SPD, profile="seattle-spd", output=folder / "calls.parquet")


# -- accounting ----------------------------------------------------------------------------


def test_ingest_accounts_for_every_row_of_the_seattle_fixture(spd_report: IngestReport) -> None:
    expected = list(SPD_EXPECTED.values())
    assert spd_report.input_rows == len(SPD_EXPECTED)
    assert spd_report.kept_rows == expected.count("kept")
    assert spd_report.kept_rows + spd_report.rejected_rows + spd_report.duplicate_rows == 22
    assert spd_report.accounted


def test_ingest_counts_each_rejection_reason_of_the_seattle_fixture(
    spd_report: IngestReport,
) -> None:
    counted = {**spd_report.rejected_by_reason, **spd_report.duplicates_by_reason}
    expected: dict[str, int] = {}
    for outcome in SPD_EXPECTED.values():
        if outcome != "kept":
            expected[outcome] = expected.get(outcome, 0) + 1
    assert counted == expected


def test_ingest_samples_name_the_row_reason_column_and_value(spd_report: IngestReport) -> None:
    sampled = {(s.row_number, s.reason, s.column, s.value) for s in spd_report.samples}
    assert (8, "missing_required_field", "Initial Call Type", None) in sampled
    assert (9, "missing_required_field", "CAD Event Number", None) in sampled
    assert (10, "unparseable_timestamp", "Original Time Queued", "2023-13-45 25:00") in sampled
    assert (11, "unparseable_timestamp", "Arrived Time", "soon") in sampled
    assert (
        12,
        "unparseable_coordinates",
        "Blurred_Longitude / Blurred_Latitude",
        "abc, 47.55",
    ) in sampled
    assert (13, "incomplete_coordinates", "Blurred_Longitude / Blurred_Latitude", "-122.29, ") in (
        sampled
    )
    assert (
        14,
        "coordinates_out_of_range",
        "Blurred_Longitude / Blurred_Latitude",
        "200.5, 95.0",
    ) in sampled
    assert (6, "duplicate_row", None, "repeats row 1") in sampled
    assert (7, "duplicate_source_id", "CAD Event Number", "repeats row 2") in sampled


def test_ingest_reports_a_malformed_line_by_its_line_number(spd_report: IngestReport) -> None:
    (malformed,) = spd_report.samples_for("malformed_record")
    assert malformed.row_number == 23  # header is line 1; data row 22 is line 23
    assert malformed.value is not None
    assert "MISSING COLUMNS" in malformed.value
    assert "2023000000022" in malformed.value
    assert any("malformed line" in w for w in spd_report.warnings)


def test_ingest_writes_only_the_kept_rows_in_file_order(tmp_path: Path) -> None:
    report = run(SPD, tmp_path)
    kept = [number for number, outcome in SPD_EXPECTED.items() if outcome == "kept"]
    assert [r[0] for r in rows(Path(report.output_path), "row_number")] == kept
    assert [r[0] for r in rows(Path(report.output_path), "row_number")] == sorted(kept)


def test_ingest_output_has_the_documented_schema(tmp_path: Path) -> None:
    report = run(SPD, tmp_path)
    with duckdb.connect() as con:
        described = con.execute(
            "DESCRIBE SELECT * FROM read_parquet(?)", [report.output_path]
        ).fetchall()
    assert [(r[0], r[1]) for r in described] == [(c.name, c.type) for c in NORMALISED_COLUMNS]


def test_ingest_keeps_the_text_fields_of_a_seattle_call(tmp_path: Path) -> None:
    report = run(SPD, tmp_path)
    (row,) = rows(
        Path(report.output_path),
        "source_kind, source_id, call_type, final_call_type, priority, disposition, "
        "initiated_by, initiated_raw, extra->>'Beat' WHERE row_number = 1",
    )
    assert row == (
        "calls",
        "2023000000001",
        "SERVICE - WELFARE CHECK",
        "--ASSIST PUBLIC - OTHER (NON-SPECIFIED)",
        "3",
        "ASSISTANCE RENDERED",
        "public",
        "911",
        "C3",
    )


def test_ingest_keep_columns_land_in_extra_as_a_json_object(tmp_path: Path) -> None:
    report = run(SPD, tmp_path)
    (row,) = rows(Path(report.output_path), "extra WHERE row_number = 3")
    assert json.loads(row[0]) == {"Precinct": "NORTH", "Sector": "BOY", "Beat": "B2"}


# -- time zones ------------------------------------------------------------------------------


def test_ingest_converts_local_times_to_utc_across_the_spring_dst_change(tmp_path: Path) -> None:
    report = run(SPD, tmp_path)
    got = {
        r[0]: (r[1], r[2])
        for r in rows(Path(report.output_path), "row_number, received_at, arrived_at")
    }
    # 23:30 PST on 11 March is 07:30 UTC on the 12th; 00:10 PST is 08:10 UTC.
    assert got[1] == (
        dt.datetime(2023, 3, 12, 7, 30, tzinfo=UTC),
        dt.datetime(2023, 3, 12, 8, 10, tzinfo=UTC),
    )
    # Queued 01:45 PST, arrived 03:15 PDT: 30 minutes, not 90.
    queued, arrived = got[2]
    assert queued == dt.datetime(2023, 3, 12, 9, 45, tzinfo=UTC)
    assert arrived - queued == dt.timedelta(minutes=30)


def test_ingest_reads_a_skipped_spring_forward_time_as_standard_time_and_counts_it(
    spd_report: IngestReport, tmp_path: Path
) -> None:
    report = run(SPD, tmp_path)
    (row,) = rows(Path(report.output_path), "received_at WHERE row_number = 3")
    assert row[0] == dt.datetime(2023, 3, 12, 10, 30, tzinfo=UTC)  # 02:30 PST = 03:30 PDT
    assert spd_report.dst_nonexistent == 1


def test_ingest_reads_a_repeated_fall_back_time_as_standard_time_and_counts_it(
    spd_report: IngestReport, tmp_path: Path
) -> None:
    report = run(SPD, tmp_path)
    (row,) = rows(Path(report.output_path), "received_at WHERE row_number = 4")
    assert row[0] == dt.datetime(2023, 11, 5, 9, 30, tzinfo=UTC)  # the second 01:30 (PST)
    assert spd_report.dst_ambiguous == 1


def test_ingest_reads_every_format_the_profile_lists(tmp_path: Path) -> None:
    report = run(SPD, tmp_path)
    got = {
        r[0]: (r[1], r[2])
        for r in rows(Path(report.output_path), "row_number, received_at, arrived_at")
    }
    assert got[20] == (
        dt.datetime(2009, 6, 2, 10, 30, tzinfo=UTC),
        dt.datetime(2009, 6, 2, 10, 43, 8, tzinfo=UTC),
    )
    assert got[21][0] == dt.datetime(2023, 7, 4, 19, 0, tzinfo=UTC)


def test_ingest_keeps_times_with_an_offset_as_they_are(tmp_path: Path) -> None:
    source = tmp_path / "offsets.csv"
    source.write_text(
        "id,type,when\n1,A,2023-11-05T01:30:00-07:00\n2,A,2023-11-05 01:30:00Z\n",
        encoding="utf-8",
    )
    profile = profile_from_mapping(
        {
            "profile": "offsets",
            "title": "t",
            "kind": "calls",
            "timezone": "America/Los_Angeles",
            "columns": {"source_id": "id", "call_type": "type", "received_at": "when"},
            "time_formats": ["iso8601"],
        }
    )
    report = run(source, tmp_path, profile)
    assert [r[0] for r in rows(Path(report.output_path), "received_at")] == [
        dt.datetime(2023, 11, 5, 8, 30, tzinfo=UTC),
        dt.datetime(2023, 11, 5, 1, 30, tzinfo=UTC),
    ]
    assert report.dst_ambiguous == 0


def test_offset_endings_settle_the_iso_offset_test_as_the_regular_expression_does() -> None:
    # An ending decided True (False) must make DuckDB's test true (false) whatever comes
    # before it: every ending of up to 4 characters over an alphabet of the characters that
    # matter (and look-alikes: non-ASCII digits, a newline), behind every short prefix.
    alphabet = ["Z", "z", "+", "-", ":", "0", "9", "a", " ", ".", "M", "\n", "\u0665", "\uff12"]
    endings = [
        "".join(chars) for size in range(1, 5) for chars in itertools.product(alphabet, repeat=size)
    ]
    endings += ["-08:00", "+05:30", "x+0530", "12:00Z", ":26 PM", "26.000", "T00:00", "+05:3"]
    prefixes = ["", "+", "0", "-0", "2024-01-01T00:00:00"]
    decided = {e: ingest_module._offset_decided(e) for e in endings}
    assert (decided["-08:00"], decided[":26 PM"], decided["0"]) == (True, False, None)
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE e AS SELECT unnest($e) AS e, unnest($d) AS d",
            {"e": list(decided), "d": list(decided.values())},
        )
        wrong = con.execute(
            "SELECT p || e FROM e, unnest($p) AS t(p) "
            "WHERE d IS NOT NULL AND regexp_matches(p || e, $pattern) <> d",
            {"p": prefixes, "pattern": ingest_module._ISO_OFFSET},
        ).fetchall()
    assert wrong == []


def test_ingest_reads_times_beyond_the_sampled_offsets_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first records end in -08:00 (winter), so the offset test is short-cut for the
    # zone's offsets; later times with other endings, spaces or none must read the same as
    # without short-cuts.
    monkeypatch.setattr(ingest_module, "_SAMPLE_ROWS", 4)
    later = [
        "2024-07-01T12:00:00-07:00",
        "2024-07-01T12:00:00Z",
        "2024-07-01T12:00:00+0530",
        "2024-07-01T12:00:00+05",
        "2024-07-01T12:00:00",
        "2024-03-10T02:30:00",
        "2024-07-01T12:00:00-08:00\u3000",
        "\u00a02024-07-01T12:00:00+05:30",
        "2024-07-01T12:00:00-08:0\u0665",
        "2024-07-01T12:00:00 PM",
        "not a time",
    ]
    times = ["2024-01-01T00:00:12-08:00"] * 4 + later
    source = tmp_path / "times.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "type", "when"])
        writer.writerows([i, "A", when] for i, when in enumerate(times))
    profile = profile_from_mapping(
        {
            "profile": "offsets",
            "title": "t",
            "kind": "calls",
            "timezone": "America/Los_Angeles",
            "columns": {"source_id": "id", "call_type": "type", "received_at": "when"},
            "time_formats": ["iso8601"],
        }
    )
    chosen: list[dict[str, str]] = []
    shortcuts = ingest_module._Ingestion._offset_shortcuts

    def recorded(self: Any) -> dict[str, str]:
        chosen.append(shortcuts(self))
        return chosen[-1]

    monkeypatch.setattr(ingest_module._Ingestion, "_offset_shortcuts", recorded)
    report = run(source, tmp_path / "fast", profile)
    fast = rows(Path(report.output_path), "row_number, received_at")
    assert chosen[0]["received_at"].count("THEN true") == 2  # -08:00, then the zone's -07:00
    monkeypatch.setattr(ingest_module._Ingestion, "_offset_shortcuts", lambda self: {})
    plain_report = run(source, tmp_path / "plain", profile)
    assert fast == rows(Path(plain_report.output_path), "row_number, received_at")
    assert report.to_dict() | {"seconds": 0, "output_path": ""} == plain_report.to_dict() | {
        "seconds": 0,
        "output_path": "",
    }
    assert fast[4:6] == [
        (5, dt.datetime(2024, 7, 1, 19, 0, tzinfo=UTC)),
        (6, dt.datetime(2024, 7, 1, 12, 0, tzinfo=UTC)),
    ]


# -- coordinates -----------------------------------------------------------------------------


def test_ingest_swaps_back_coordinates_given_the_wrong_way_round(
    spd_report: IngestReport, tmp_path: Path
) -> None:
    report = run(SPD, tmp_path)
    (row,) = rows(Path(report.output_path), "lon, lat, coordinates_swapped WHERE row_number = 5")
    assert row == (-122.33, 47.62, True)
    assert spd_report.coordinates_swapped == 1


def test_ingest_swaps_back_by_range_when_the_profile_has_no_bbox(tmp_path: Path) -> None:
    data = seattle_data()
    del data["coordinates"]["bbox"]
    report = run(SPD, tmp_path, profile_from_mapping(data))
    (row,) = rows(Path(report.output_path), "lon, lat, coordinates_swapped WHERE row_number = 5")
    assert row == (-122.33, 47.62, True)
    assert report.outside_bbox == 0


def test_ingest_keeps_points_outside_the_bbox_and_counts_them(
    spd_report: IngestReport, tmp_path: Path
) -> None:
    report = run(SPD, tmp_path)
    (row,) = rows(Path(report.output_path), "lon, lat, coordinates_swapped WHERE row_number = 18")
    assert row == (-122.10, 47.30, False)
    assert spd_report.outside_bbox == 1


def test_ingest_keeps_calls_without_a_location_and_counts_them(
    spd_report: IngestReport, tmp_path: Path
) -> None:
    report = run(SPD, tmp_path)
    located = rows(
        Path(report.output_path), "row_number, lon, lat WHERE row_number IN (15, 16, 17)"
    )
    assert located == [(15, None, None), (16, None, None), (17, None, None)]
    assert spd_report.kept_without_coordinates == 3


def state_plane_file(tmp_path: Path, points: list[tuple[float, float]], swap: set[int]) -> Path:
    """A CSV with x/y in Washington State Plane South (EPSG:2927, US survey feet)."""
    to_plane = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:2927", always_xy=True)
    lines = ["id,type,when,X,Y"]
    for index, (lon, lat) in enumerate(points):
        x, y = to_plane.transform(lon, lat)
        if index in swap:
            x, y = y, x
        lines.append(f"{index},A,2024-01-01 08:00:00,{x:.3f},{y:.3f}")
    path = tmp_path / "plane.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def state_plane_profile(bbox: list[float] | None = None) -> Profile:
    coordinates: dict[str, Any] = {"x": "X", "y": "Y", "crs": "EPSG:2927"}
    if bbox is not None:
        coordinates["bbox"] = bbox
    return profile_from_mapping(
        {
            "profile": "plane",
            "title": "t",
            "kind": "incidents",
            "timezone": "America/Los_Angeles",
            "columns": {"source_id": "id", "call_type": "type", "received_at": "when"},
            "time_formats": ["iso8601"],
            "coordinates": coordinates,
        }
    )


def test_ingest_converts_state_plane_feet_to_longitude_latitude(tmp_path: Path) -> None:
    source = tmp_path / "plane.csv"
    # Computed once with pyproj (EPSG:2927 -> EPSG:4326): a point in downtown Tacoma.
    source.write_text(
        "id,type,when,X,Y\n1,A,2024-01-01 08:00:00,1158657.6687564866,704889.0609056766\n",
        encoding="utf-8",
    )
    report = run(source, tmp_path, state_plane_profile(), batch_size=1)
    ((lon, lat, x, y),) = rows(Path(report.output_path), "lon, lat, x, y")
    assert lon == pytest.approx(-122.44, abs=1e-7)
    assert lat == pytest.approx(47.25, abs=1e-7)
    assert (x, y) == (1158657.6687564866, 704889.0609056766)


def test_ingest_projects_state_plane_coordinates_in_batches(tmp_path: Path) -> None:
    rng = random.Random(7)
    points = [(-122.56 + rng.random() * 0.2, 47.17 + rng.random() * 0.14) for _ in range(50)]
    source = state_plane_file(tmp_path, points, swap=set())
    report = run(source, tmp_path, state_plane_profile(), batch_size=7)
    got = rows(Path(report.output_path), "lon, lat")
    assert report.kept_rows == 50
    for (lon, lat), (want_lon, want_lat) in zip(got, points, strict=True):
        assert lon == pytest.approx(want_lon, abs=1e-6)
        assert lat == pytest.approx(want_lat, abs=1e-6)


def test_ingest_detects_swapped_state_plane_coordinates_with_a_bbox(tmp_path: Path) -> None:
    points = [(-122.44, 47.25), (-122.45, 47.26), (-122.46, 47.20)]
    source = state_plane_file(tmp_path, points, swap={1})
    report = run(source, tmp_path, state_plane_profile([-122.60, 47.14, -122.32, 47.34]))
    got = rows(Path(report.output_path), "lon, lat, coordinates_swapped")
    assert report.coordinates_swapped == 1
    assert got[1][2] is True
    assert got[1][0] == pytest.approx(-122.45, abs=1e-6)
    assert got[1][1] == pytest.approx(47.26, abs=1e-6)


def test_ingest_rejects_state_plane_coordinates_that_do_not_project(tmp_path: Path) -> None:
    source = tmp_path / "plane.csv"
    source.write_text(
        "id,type,when,X,Y\n1,A,2024-01-01 08:00:00,1e30,1e30\n"
        "2,A,2024-01-01 08:00:00,1158657.67,704889.06\n"
        "3,A,2024-01-01 08:00:00,NaN,704889.06\n"
        "4,A,2024-01-01 08:00:00,1158657.67,704889.06\n",
        encoding="utf-8",
    )
    report = run(source, tmp_path, state_plane_profile())
    assert report.rejected_by_reason == {"coordinates_out_of_range": 2}
    assert [(s.row_number, s.value) for s in report.samples_for("coordinates_out_of_range")] == [
        (1, "1e30, 1e30"),  # projected, and failed
        (3, "NaN, 704889.06"),  # never projected
    ]
    kept = rows(Path(report.output_path), "row_number, lon, lat")
    assert [r[0] for r in kept] == [2, 4]
    assert kept[0][1:] == kept[1][1:]  # the same pair, projected once, lands in the same place


# -- duplicates ------------------------------------------------------------------------------


def test_ingest_with_full_row_deduplication_keeps_rows_that_only_share_an_id(
    tmp_path: Path,
) -> None:
    report = run(SPD, tmp_path, profile_from_mapping(seattle_data(deduplicate_on="full_row")))
    assert report.duplicates_by_reason == {"duplicate_row": 1}
    assert 7 in [r[0] for r in rows(Path(report.output_path), "row_number")]


def test_ingest_with_deduplication_off_keeps_every_copy(tmp_path: Path) -> None:
    report = run(SPD, tmp_path, profile_from_mapping(seattle_data(deduplicate_on="none")))
    assert report.duplicate_rows == 0
    assert report.kept_rows == 14


def test_ingest_treats_rows_without_a_source_id_as_duplicates_only_when_identical(
    tmp_path: Path,
) -> None:
    source = tmp_path / "noid.csv"
    source.write_text(
        "id,type,when\n,A,2024-01-01 08:00:00\n,A,2024-01-01 08:00:00\n,B,2024-01-01 08:00:00\n",
        encoding="utf-8",
    )
    profile = profile_from_mapping(
        {
            "profile": "noid",
            "title": "t",
            "kind": "requests",
            "timezone": "UTC",
            "columns": {"source_id": "id", "call_type": "type", "received_at": "when"},
            "time_formats": ["iso8601"],
        }
    )
    report = run(source, tmp_path, profile)
    assert report.duplicates_by_reason == {"duplicate_row": 1}
    assert report.kept_rows == 2


def exact_profile(**changes: Any) -> Profile:
    data: dict[str, Any] = {
        "profile": "exact",
        "title": "t",
        "kind": "calls",
        "timezone": "UTC",
        "columns": {
            "source_id": "id",
            "call_type": "type",
            "received_at": "when",
            "disposition": "disp",
        },
        "time_formats": ["iso8601"],
    }
    data.update(changes)
    return profile_from_mapping(data)


#: Rejected rows, malformed lines and duplicates mixed, with the outcome of each line.
EXACT_LINES = [
    (b"id,type,when,disp", "header"),
    (b"1,A,2024-01-01T00:00:00Z,X", "kept: row 1"),
    (b"2,B,2024-01-01 08:00:00,X", "kept: row 2"),
    (b"1,A,2024-01-01T00:00:00Z,X", "row 3 repeats row 1"),
    # The same id, text and instant as row 1, but the time written otherwise: not the same row.
    (b"1,A,2024-01-01T00:00:00+00:00,X", "row 4 repeats row 1's id"),
    (b"3,,2024-01-01 08:00:00,X", "row 5 has no call type"),
    (b"bad line with,too,many,fields,here", "line 7 is malformed"),
    (b"4,C,soon,X", "row 6 has no time"),
    (b"2,B,2024-01-01 08:00:00,Y", "row 7 repeats row 2's id"),
    (b"5,D\xff,2024-01-01 08:00:00,X", "line 10 is not UTF-8"),
    (b"2,B,2024-01-01 08:00:00,Y", "row 8 repeats row 7"),
    (b"3,E,2024-01-01 08:00:00,X", "kept: row 9 (row 5, with its id, was rejected)"),
]


def test_ingest_numbers_rows_rejections_and_duplicates_exactly(tmp_path: Path) -> None:
    source = tmp_path / "exact.csv"
    source.write_bytes(b"\n".join(line for line, _ in EXACT_LINES) + b"\n")
    report = run(source, tmp_path, exact_profile())
    assert (report.input_rows, report.kept_rows) == (11, 3)
    assert [r[0] for r in rows(Path(report.output_path), "row_number")] == [1, 2, 9]
    assert dict(report.rejected_by_reason) == {
        "malformed_record": 2,
        "missing_required_field": 1,
        "unparseable_timestamp": 1,
    }
    assert dict(report.duplicates_by_reason) == {"duplicate_row": 2, "duplicate_source_id": 2}
    assert [(s.row_number, s.reason, s.column, s.value) for s in report.samples[2:]] == [
        (5, "missing_required_field", "type", None),
        (6, "unparseable_timestamp", "when", "soon"),
        (3, "duplicate_row", None, "repeats row 1"),
        (8, "duplicate_row", None, "repeats row 7"),
        (4, "duplicate_source_id", "id", "repeats row 1"),
        (7, "duplicate_source_id", "id", "repeats row 2"),
    ]
    assert [(s.row_number, s.column) for s in report.samples_for("malformed_record")] == [
        (7, None),
        (10, "type"),
    ]


def test_ingest_compares_duplicate_candidates_without_lining_up_the_file_when_it_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading the file again lined up with the first read is single-threaded; candidates
    # that differ in something the first read kept are told apart without it.
    def lined_up(*args: Any) -> str:
        raise AssertionError("the file was read again lined up")

    monkeypatch.setattr(ingest_module._Ingestion, "_fetch_sql", lined_up)
    report = run(SPD, tmp_path)
    assert dict(report.duplicates_by_reason) == {"duplicate_row": 1, "duplicate_source_id": 1}


def test_ingest_keeps_text_beyond_the_sampled_values_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Call types are kept as an ENUM of the values in the first records; later values are
    # kept as text beside it.
    monkeypatch.setattr(ingest_module, "_SAMPLE_ROWS", 3)
    types = [f"CALL TYPE NUMBER {i % 4}" if i < 6 else f"LATER TYPE {i}" for i in range(12)]
    lines = ["id,type,when,disp"] + [
        f"{i},{kind},2024-01-01 08:00:00,{'CLEARED BY UNIT' if i % 2 else ''}"
        for i, kind in enumerate(types)
    ]
    source = tmp_path / "types.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run(source, tmp_path, exact_profile())
    got = rows(Path(report.output_path), "call_type, disposition")
    assert got == [(kind, "CLEARED BY UNIT" if i % 2 else None) for i, kind in enumerate(types)]


@pytest.mark.parametrize(("extra_line", "ambiguous"), [("", 0), ("3,,1985-06-01 10:00:00\n", 1)])
def test_ingest_counts_a_dst_change_at_the_new_year_as_the_years_read_decide(
    extra_line: str, ambiguous: int, tmp_path: Path
) -> None:
    # Casablanca's clocks went back an hour at midnight starting 1986, a change found on
    # 31 December 1985 (UTC). Changes are looked for from 1 January of the earliest year
    # read, so 00:00:05 on 1 January 1986 counts only when some time (even in a rejected
    # row) is from 1985.
    source = tmp_path / "casablanca.csv"
    source.write_text(
        "id,type,when\n1,A,1986-01-01 00:00:05\n2,A,1986-03-01 12:00:00\n" + extra_line,
        encoding="utf-8",
    )
    profile = exact_profile(
        timezone="Africa/Casablanca",
        columns={"source_id": "id", "call_type": "type", "received_at": "when"},
    )
    report = run(source, tmp_path, profile)
    assert report.kept_rows == 2
    assert (report.dst_ambiguous, report.dst_nonexistent) == (ambiguous, 0)


# -- initiated by ----------------------------------------------------------------------------


def test_ingest_maps_who_started_the_call_and_lists_values_the_profile_lacks(
    spd_report: IngestReport,
) -> None:
    assert dict(spd_report.initiated_by) == {"officer": 1, "public": 10, "unknown": 1}
    assert spd_report.unrecognised_initiated_values == (("CARRIER PIGEON", 1),)
    assert any("CARRIER PIGEON" in w for w in spd_report.warnings)


# -- other formats ---------------------------------------------------------------------------


def test_ingest_reads_a_tacoma_geojson_with_epoch_millisecond_dates(tmp_path: Path) -> None:
    report = run(TPD, tmp_path, "tacoma-tpd")
    assert report.input_format == "geojson"
    assert report.input_rows == 7
    assert (report.kept_rows, report.rejected_rows, report.duplicate_rows) == (4, 2, 1)
    assert report.rejected_by_reason == {
        "missing_required_field": 1,
        "unparseable_timestamp": 1,
    }
    assert report.duplicates_by_reason == {"duplicate_row": 1}
    assert report.coordinates_swapped == 1
    got = rows(Path(report.output_path), "row_number, source_id, call_type, received_at, lon, lat")
    assert got[0] == (
        1,
        "2400001",
        "Simple Assault",
        dt.datetime(2024, 1, 1, 8, 0, tzinfo=UTC),
        -122.4443,
        47.2529,
    )
    assert got[1][:3] == (2, "2400001", "Intimidation")  # same case, another offence: kept
    assert got[2][4:] == (-122.47, 47.22)  # swapped back
    assert got[3][4:] == (None, None)


def test_ingest_rejects_a_geojson_geometry_that_is_not_a_point(tmp_path: Path) -> None:
    data = yaml.safe_load(bundled_profiles()["tacoma-tpd"].read_text(encoding="utf-8"))
    data["coordinates"] = {"geometry": True, "crs": "EPSG:4326"}
    report = run(TPD, tmp_path, profile_from_mapping(data))
    assert report.rejected_by_reason["geometry_not_point"] == 1
    (sample,) = report.samples_for("geometry_not_point")
    assert (sample.row_number, sample.column, sample.value) == (5, "geometry", "LineString")
    assert report.kept_without_coordinates == 1


def test_ingest_refuses_a_geojson_that_is_not_a_feature_collection(tmp_path: Path) -> None:
    source = tmp_path / "feature.geojson"
    source.write_text(json.dumps({"type": "Feature", "properties": {}}), encoding="utf-8")
    with pytest.raises(IngestError, match="expected a GeoJSON FeatureCollection"):
        run(source, tmp_path, "tacoma-tpd")


def test_ingest_refuses_a_geojson_that_is_not_json(tmp_path: Path) -> None:
    source = tmp_path / "broken.geojson"
    source.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(IngestError, match=r"broken\.geojson: not valid GeoJSON"):
        run(source, tmp_path, "tacoma-tpd")


def test_ingest_refuses_a_geojson_over_the_size_limit(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="export the layer as CSV or Parquet"):
        run(TPD, tmp_path, "tacoma-tpd", max_geojson_bytes=100)


def test_ingest_reads_parquet_with_typed_timestamps(tmp_path: Path) -> None:
    source = tmp_path / "calls.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT * FROM (VALUES "
            "('1', 'TRESPASS', TIMESTAMP '2023-07-01 09:00:00', -122.3, 47.6), "
            "('2', 'TRESPASS', NULL, -122.3, 47.6), "
            "('3', 'THEFT', TIMESTAMP '2023-11-05 01:30:00', NULL, NULL)) "
            "t(id, kind, queued, lon, lat)) TO ? (FORMAT parquet)",
            [str(source)],
        )
    profile = profile_from_mapping(
        {
            "profile": "parquet",
            "title": "t",
            "kind": "calls",
            "timezone": "America/Los_Angeles",
            "columns": {"source_id": "id", "call_type": "kind", "received_at": "queued"},
            "time_formats": ["%m/%d/%Y %I:%M:%S %p"],
            "coordinates": {"x": "lon", "y": "lat", "crs": "EPSG:4326"},
        }
    )
    report = run(source, tmp_path, profile)
    assert report.input_format == "parquet"
    assert report.rejected_by_reason == {"missing_required_field": 1}
    assert [r[0] for r in rows(Path(report.output_path), "received_at")] == [
        dt.datetime(2023, 7, 1, 16, 0, tzinfo=UTC),
        dt.datetime(2023, 11, 5, 9, 30, tzinfo=UTC),
    ]
    assert report.dst_ambiguous == 1


def test_ingest_reads_a_gzipped_csv(tmp_path: Path) -> None:
    source = tmp_path / "calls.csv.gz"
    source.write_bytes(gzip.compress(SPD.read_bytes()))
    report = run(source, tmp_path)
    assert report.kept_rows == 12
    assert report.accounted


def test_ingest_reads_a_latin1_file_when_the_profile_says_so(tmp_path: Path) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes(
        "id,type,when\n1,Caf\xe9 disturbance,2024-01-01 08:00:00\n".encode("latin-1")
    )
    data = {
        "profile": "latin",
        "title": "t",
        "kind": "requests",
        "timezone": "UTC",
        "input": {"encoding": "latin-1"},
        "columns": {"source_id": "id", "call_type": "type", "received_at": "when"},
        "time_formats": ["iso8601"],
    }
    report = run(source, tmp_path, profile_from_mapping(data))
    assert rows(Path(report.output_path), "call_type") == [("Café disturbance",)]


def test_ingest_reports_lines_in_another_encoding_as_malformed(tmp_path: Path) -> None:
    source = tmp_path / "mixed.csv"
    source.write_bytes(
        b"id,type,when\n1,A,2024-01-01 08:00:00\n2,Caf\xe9,2024-01-01 08:00:00\n"
        b"3,B,2024-01-01 08:00:00\n"
    )
    profile = profile_from_mapping(
        {
            "profile": "mixed",
            "title": "t",
            "kind": "requests",
            "timezone": "UTC",
            "columns": {"source_id": "id", "call_type": "type", "received_at": "when"},
            "time_formats": ["iso8601"],
        }
    )
    report = run(source, tmp_path, profile)
    assert report.rejected_by_reason == {"malformed_record": 1}
    assert report.kept_rows == 2
    assert any("input.encoding" in w for w in report.warnings)


def test_ingest_refuses_a_header_in_another_encoding_naming_the_profile_field(
    tmp_path: Path,
) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes("id,t\xefpe,when\n".encode("latin-1"))
    with pytest.raises(IngestError, match=r"set input.encoding in the profile"):
        run(source, tmp_path)


# -- bad files and bad profiles --------------------------------------------------------------


def test_ingest_names_the_file_profile_field_and_column_when_a_column_is_missing(
    tmp_path: Path,
) -> None:
    source = tmp_path / "renamed.csv"
    text = SPD.read_text(encoding="utf-8").replace("Original Time Queued", "Time Queued", 1)
    source.write_text(text, encoding="utf-8")
    with pytest.raises(MissingColumnError) as raised:
        run(source, tmp_path)
    error = raised.value
    assert (error.profile_field, error.column) == ("columns.received_at", "Original Time Queued")
    message = str(error)
    assert "renamed.csv" in message
    assert "seattle-spd-calls.yaml" in message
    assert "'Original Time Queued' not found" in message
    assert "did you mean 'Time Queued'?" in message


def test_ingest_names_a_missing_keep_column(tmp_path: Path) -> None:
    source = tmp_path / "nobeat.csv"
    source.write_text(
        SPD.read_text(encoding="utf-8").replace(",Beat,", ",Bt,", 1), encoding="utf-8"
    )
    with pytest.raises(MissingColumnError, match=r"field keep_columns\[2\]"):
        run(source, tmp_path)


def test_ingest_of_a_semicolon_file_with_a_comma_profile_suggests_the_delimiter(
    tmp_path: Path,
) -> None:
    with pytest.raises(MissingColumnError, match="may be delimited by ';'"):
        run(FIXTURES / "semicolon.csv", tmp_path)


def test_ingest_reads_a_semicolon_file_when_the_profile_says_so(tmp_path: Path) -> None:
    data = seattle_data(input={"delimiter": ";"})
    report = run(FIXTURES / "semicolon.csv", tmp_path, profile_from_mapping(data))
    assert report.kept_rows == 2


def test_ingest_of_an_empty_file_reports_zero_rows_and_writes_an_empty_table(
    tmp_path: Path,
) -> None:
    report = run(FIXTURES / "empty.csv", tmp_path)
    assert (report.input_rows, report.kept_rows, report.rejected_rows) == (0, 0, 0)
    assert "the file is empty: no header and no rows" in report.warnings
    assert rows(Path(report.output_path)) == []
    with duckdb.connect() as con:
        names = [
            r[0]
            for r in con.execute(
                "DESCRIBE SELECT * FROM read_parquet(?)", [report.output_path]
            ).fetchall()
        ]
    assert names == [c.name for c in NORMALISED_COLUMNS]


def test_ingest_of_a_header_only_file_warns_there_are_no_rows(tmp_path: Path) -> None:
    report = run(FIXTURES / "header_only.csv", tmp_path)
    assert report.input_rows == 0
    assert "the file has a header but no data rows" in report.warnings


def test_ingest_of_an_empty_geojson_reports_zero_rows(tmp_path: Path) -> None:
    source = tmp_path / "none.geojson"
    source.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    report = run(source, tmp_path, "tacoma-tpd")
    assert (report.input_rows, report.kept_rows) == (0, 0)
    assert "the GeoJSON has no features" in report.warnings


def test_ingest_of_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        run(tmp_path / "nowhere.csv", tmp_path)


def test_ingest_of_a_file_with_an_unknown_extension_asks_for_the_format(tmp_path: Path) -> None:
    source = tmp_path / "calls.dat"
    shutil.copy(SPD, source)
    with pytest.raises(IngestError, match="cannot tell the file's format"):
        run(source, tmp_path, profile_from_mapping(seattle_data(input={})))


def test_ingest_goes_by_the_profile_format_for_an_unknown_extension(tmp_path: Path) -> None:
    source = tmp_path / "calls.dat"
    shutil.copy(SPD, source)
    assert run(source, tmp_path).kept_rows == 12


def test_ingest_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    source = tmp_path / "calls.csv"
    shutil.copy(SPD, source)
    with pytest.raises(IngestError, match="would overwrite the input"):
        ingest(source, profile="seattle-spd", output=source)


def test_ingest_refuses_a_header_naming_a_mapped_column_twice(tmp_path: Path) -> None:
    source = tmp_path / "twice.csv"
    source.write_text("id,type,when,type\n1,A,2024-01-01 08:00:00,B\n", encoding="utf-8")
    profile = profile_from_mapping(
        {
            "profile": "twice",
            "title": "t",
            "kind": "requests",
            "timezone": "UTC",
            "columns": {"source_id": "id", "call_type": "type", "received_at": "when"},
            "time_formats": ["iso8601"],
        }
    )
    with pytest.raises(IngestError, match=r"'type'.*appears 2 times in the header"):
        run(source, tmp_path, profile)


def test_ingest_quotes_odd_column_names_instead_of_running_them(tmp_path: Path) -> None:
    odd = 'we"ird); DROP TABLE parsed; --'
    source = tmp_path / "odd.csv"
    source.write_text(
        f'id,type,when,"{odd.replace(chr(34), chr(34) * 2)}"\n1,A,2024-01-01 08:00:00,x\n',
        encoding="utf-8",
    )
    data = {
        "profile": "odd",
        "title": "t",
        "kind": "requests",
        "timezone": "UTC",
        "columns": {"source_id": "id", "call_type": "type", "received_at": "when"},
        "time_formats": ["iso8601"],
        "keep_columns": [odd],
    }
    report = run(source, tmp_path, profile_from_mapping(data))
    assert report.kept_rows == 1
    assert json.loads(rows(Path(report.output_path), "extra")[0][0]) == {odd: "x"}


def test_ingest_reads_a_csv_that_starts_with_a_byte_order_mark(tmp_path: Path) -> None:
    source = tmp_path / "bom.csv"
    source.write_bytes(b"\xef\xbb\xbf" + SPD.read_bytes())
    assert run(source, tmp_path).kept_rows == 12


def test_ingest_leaves_no_partial_output_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "out.parquet"
    output.write_bytes(b"the previous, complete output")

    def broken(self: Any, records: str, extra_columns: str = "") -> str:
        return f"SELECT no_such_column FROM {records}"  # noqa: S608

    monkeypatch.setattr(ingest_module._Ingestion, "output_sql", broken)
    with pytest.raises(duckdb.Error):
        ingest(SPD, profile="seattle-spd", output=output)
    assert output.read_bytes() == b"the previous, complete output"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_ingest_replaces_an_existing_output(tmp_path: Path) -> None:
    output = tmp_path / "out.parquet"
    output.write_bytes(b"old")
    ingest(SPD, profile="seattle-spd", output=output)
    assert len(rows(output)) == 12


def test_ingest_completes_under_a_small_memory_limit(tmp_path: Path) -> None:
    source = tmp_path / "many.csv"
    lines = [SPD.read_text(encoding="utf-8").splitlines()[0]]
    for i in range(20_000):
        lines.append(
            f"{i},ASSISTANCE RENDERED,911,3,TRESPASS,--PROWLER - TRESPASS,"
            f"07/01/2023 9:{i % 60:02d}:00 AM,,SOUTH,ROBERT,R1,-122.29,47.55"
        )
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run(source, tmp_path, memory_limit="64MB", threads=1)
    assert report.kept_rows == 20_000


def test_ingest_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="sample_size"):
        ingest(SPD, profile="seattle-spd", output="x.parquet", sample_size=-1)
    with pytest.raises(ValueError, match="input_format"):
        ingest(SPD, profile="seattle-spd", output="x.parquet", input_format="xlsx")  # type: ignore[arg-type]


def test_ingest_warns_when_most_times_do_not_parse(tmp_path: Path) -> None:
    data = seattle_data(time_formats=["%Y-%m-%d %H:%M:%S"])
    report = run(SPD, tmp_path, profile_from_mapping(data))
    assert any("time_formats may not match" in w for w in report.warnings)


def test_ingest_caps_samples_at_the_sample_size(tmp_path: Path) -> None:
    data = seattle_data(time_formats=["%Y-%m-%d %H:%M:%S"])
    report = run(SPD, tmp_path, profile_from_mapping(data), sample_size=2)
    assert len(report.samples_for("unparseable_timestamp")) == 2


# -- the report ------------------------------------------------------------------------------


def test_ingest_report_is_json_serialisable_with_reason_meanings(spd_report: IngestReport) -> None:
    data = json.loads(spd_report.to_json())
    assert data["input_rows"] == 22
    assert data["accounted"] is True
    assert data["reason_meanings"]["malformed_record"] == REJECTION_REASONS["malformed_record"]
    assert data["samples"][0]["reason"] == "malformed_record"


def test_ingest_report_cannot_be_changed(spd_report: IngestReport) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        spd_report.kept_rows = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        spd_report.rejected_by_reason["malformed_record"] = 0  # type: ignore[index]


def test_ingest_report_gives_the_range_of_received_times(spd_report: IngestReport) -> None:
    assert spd_report.received_from == "2009-06-02T10:30:00+00:00"
    assert spd_report.received_to == "2023-11-05T09:30:00+00:00"


def test_ingest_calls_progress_with_each_step(tmp_path: Path) -> None:
    steps: list[str] = []
    run(SPD, tmp_path, progress=steps.append)
    assert steps == ["read", "duplicates", "write", "report"]


# -- property: every row accounted for -------------------------------------------------------

_GOOD = "{id},ASSISTANCE RENDERED,911,3,TRESPASS,X,07/01/2023 9:{m:02d}:00 AM,,S,R,R1,-122.29,47.55"
_DAMAGE = {
    "missing_required_field": "{id},ASSISTANCE RENDERED,911,3,,X,07/01/2023 9:00:00 AM,,S,R,R1,,",
    "unparseable_timestamp": "{id},A,911,3,TRESPASS,X,13/45/2023 9:00:00 AM,,S,R,R1,-122.29,47.55",
    "unparseable_coordinates": "{id},A,911,3,TRESPASS,X,07/01/2023 9:00:00 AM,,S,R,R1,x,47.55",
    "incomplete_coordinates": "{id},A,911,3,TRESPASS,X,07/01/2023 9:00:00 AM,,S,R,R1,,47.55",
    "coordinates_out_of_range": "{id},A,911,3,TRESPASS,X,07/01/2023 9:00:00 AM,,S,R,R1,500,500",
    "malformed_record": "{id},A,911,3,TRESPASS,X,07/01/2023 9:00:00 AM,,S,R,R1,-122.29,47.55,extra",
}


@pytest.mark.parametrize("seed", range(12))
def test_ingest_accounts_for_every_row_of_a_randomly_damaged_file(
    seed: int, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    header = SPD.read_text(encoding="utf-8").splitlines()[0]
    lines, expected = [header], {"kept": 0}
    written: list[str] = []
    for number in range(rng.randint(0, 60)):
        roll = rng.random()
        if roll < 0.55 or not written:
            line = _GOOD.format(id=f"E{number}", m=rng.randint(0, 59))
            outcome = "kept"
        elif roll < 0.7:
            line, outcome = rng.choice(written), "duplicate_row"
        else:
            outcome = rng.choice(sorted(_DAMAGE))
            line = _DAMAGE[outcome].format(id=f"E{number}")
        if outcome == "kept":
            written.append(line)
        lines.append(line)
        expected[outcome] = expected.get(outcome, 0) + 1
    source = tmp_path / "damaged.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = run(source, tmp_path)

    assert report.input_rows == len(lines) - 1
    assert report.accounted
    counted = {
        "kept": report.kept_rows,
        **report.rejected_by_reason,
        **report.duplicates_by_reason,
    }
    assert counted == {k: v for k, v in expected.items() if v or k == "kept"}


# -- profiles --------------------------------------------------------------------------------


def minimal_profile(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "profile": "mini",
        "title": "A minimal profile",
        "kind": "calls",
        "timezone": "America/Los_Angeles",
        "columns": {"call_type": "type", "received_at": "when"},
        "time_formats": ["iso8601"],
    }
    data.update(changes)
    return data


def problems(data: Any) -> list[str]:
    with pytest.raises(ProfileError) as raised:
        profile_from_mapping(data, path="city.yaml")
    assert str(raised.value).startswith("city.yaml: ")
    return list(raised.value.problems)


@pytest.mark.parametrize("name", sorted(bundled_profiles()))
def test_every_shipped_profile_passes_its_checks(name: str) -> None:
    profile = load_profile(name)
    assert profile.path is not None
    assert profile.columns["received_at"]


def test_load_profile_finds_a_shipped_profile_by_its_alias() -> None:
    assert load_profile("tacoma-tpd").name == "tacoma-tpd-crime"


def test_load_profile_of_an_unknown_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match=r"profiles shipped: .*seattle-spd"):
        load_profile("portland")


def test_load_profile_of_a_missing_file_says_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"missing.yaml: file not found"):
        load_profile(tmp_path / "missing.yaml")


def test_load_profile_of_broken_yaml_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("profile: x\ncolumns: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"broken.yaml: line \d+, column \d+: not valid YAML"):
        load_profile(path)


def test_load_profile_reads_a_json_profile(tmp_path: Path) -> None:
    path = tmp_path / "city.json"
    path.write_text(json.dumps(minimal_profile()), encoding="utf-8")
    assert load_profile(path).name == "mini"


def test_profile_with_an_unknown_field_names_it() -> None:
    assert problems(minimal_profile(colums={})) == [
        "(top level): unknown field (Additional properties are not allowed ('colums' was "
        "unexpected))"
    ]


def test_profile_without_received_at_names_the_columns_field() -> None:
    found = problems(minimal_profile(columns={"call_type": "type"}))
    assert found == ["columns: missing: 'received_at' is a required property"]


def test_profile_mapping_an_unknown_field_names_it() -> None:
    found = problems(minimal_profile(columns={"call_type": "t", "received_at": "w", "beat": "b"}))
    assert found[0].startswith("columns: unknown field")


def test_profile_with_a_wrong_kind_says_what_is_expected() -> None:
    assert problems(minimal_profile(kind="crimes")) == [
        "kind: expected one of ['calls', 'incidents', 'requests'], found 'crimes'"
    ]


def test_profile_with_a_bad_time_format_names_its_index() -> None:
    found = problems(minimal_profile(time_formats=["iso8601", "%Q-%m"]))
    assert len(found) == 1
    assert found[0].startswith("time_formats[1]: '%Q-%m' is not a valid time format")


def test_profile_with_a_time_format_without_percent_signs_is_refused() -> None:
    (found,) = problems(minimal_profile(time_formats=["MM/DD/YYYY"]))
    assert found.startswith("time_formats[0]: 'MM/DD/YYYY' is not a time format")


def test_profile_with_an_unknown_time_zone_names_the_field() -> None:
    (found,) = problems(minimal_profile(timezone="Pacific/Tacoma"))
    assert found.startswith("timezone: 'Pacific/Tacoma' is not an IANA time zone")


def test_profile_with_an_unknown_crs_names_coordinates_crs() -> None:
    coordinates = {"x": "lon", "y": "lat", "crs": "EPSG:999999"}
    assert problems(minimal_profile(coordinates=coordinates)) == [
        "coordinates.crs: 'EPSG:999999' is not a known EPSG code"
    ]


def test_profile_with_a_crs_in_another_form_is_refused() -> None:
    (found,) = problems(minimal_profile(coordinates={"x": "a", "y": "b", "crs": "WGS84"}))
    assert found.startswith("coordinates.crs: 'WGS84' does not have the expected form")


def test_profile_with_a_geographic_crs_other_than_wgs84_is_refused() -> None:
    (found,) = problems(minimal_profile(coordinates={"x": "a", "y": "b", "crs": "EPSG:4269"}))
    assert "csas reads degrees only as EPSG:4326" in found


def test_profile_with_an_inverted_bbox_is_refused() -> None:
    coordinates = {"x": "a", "y": "b", "crs": "EPSG:4326", "bbox": [-122.2, 47.5, -122.4, 47.7]}
    (found,) = problems(minimal_profile(coordinates=coordinates))
    assert found.startswith("coordinates.bbox: ")


def test_profile_with_only_one_coordinate_column_is_refused() -> None:
    (found,) = problems(minimal_profile(coordinates={"x": "a", "crs": "EPSG:4326"}))
    assert found.startswith("coordinates: expected both x and y")


def test_profile_with_columns_and_geometry_is_refused() -> None:
    coordinates = {"x": "a", "y": "b", "geometry": True, "crs": "EPSG:4326"}
    (found,) = problems(minimal_profile(coordinates=coordinates))
    assert found == "coordinates: give either x and y, or geometry: true, not both"


def test_profile_requiring_an_unmapped_field_is_refused() -> None:
    (found,) = problems(minimal_profile(required=["received_at", "priority"]))
    assert found == "required[1]: 'priority' is required but columns.priority is not mapped"


def test_profile_listing_a_value_as_officer_and_public_is_refused() -> None:
    data = minimal_profile(
        columns={"call_type": "t", "received_at": "w", "initiated_by": "how"},
        initiated_by={"officer": ["ONVIEW"], "public": ["onview "]},
    )
    (found,) = problems(data)
    assert found == "initiated_by: ['ONVIEW'] listed as both officer- and public-initiated"


def test_profile_with_initiated_values_but_no_column_is_refused() -> None:
    (found,) = problems(minimal_profile(initiated_by={"officer": ["ONVIEW"]}))
    assert found.startswith("initiated_by: values are given but columns.initiated_by")


def test_profile_deduplicating_on_an_unmapped_source_id_is_refused() -> None:
    (found,) = problems(minimal_profile(deduplicate_on="source_id"))
    assert found == "deduplicate_on: 'source_id' needs columns.source_id to be mapped"


def test_profile_with_formats_for_an_unmapped_time_field_is_refused() -> None:
    (found,) = problems(minimal_profile(time_formats_by_field={"arrived_at": ["iso8601"]}))
    assert found == "time_formats_by_field.arrived_at: columns.arrived_at is not mapped"


def test_profile_that_is_not_a_mapping_is_refused() -> None:
    assert problems(["not", "a", "profile"])[0].startswith("(top level): expected object")


def test_profile_reports_every_problem_at_once() -> None:
    found = problems(minimal_profile(kind="x", timezone=5, time_formats=[]))
    assert len(found) == 3


def test_profile_defaults_to_deduplicating_on_source_id_when_it_is_mapped() -> None:
    mapped = profile_from_mapping(
        minimal_profile(columns={"source_id": "id", "call_type": "t", "received_at": "w"})
    )
    assert mapped.deduplicate_on == "source_id"
    assert profile_from_mapping(minimal_profile()).deduplicate_on == "full_row"


def test_profiles_and_ingest_docstring_examples_run() -> None:
    for module in (profiles_module, ingest_module):
        failures, _ = doctest.testmod(module)
        assert failures == 0


# ---- ingested: the normalised rows kept in DuckDB for `csas safety run` ---------------------


@pytest.mark.parametrize("bad_share", [0.0, 0.1])
def test_ingested_rows_are_the_parquet_files_rows_in_order(
    tmp_path: Path, bad_share: float
) -> None:
    from csas.analysis.safety.synthetic import SYNTHETIC_PROFILE, generate_calls

    path = tmp_path / "calls.csv"
    generate_calls(4_000, seed=9, year=2024, out_path=path, bad_share=bad_share)
    written = ingest_module.ingest(path, profile=SYNTHETIC_PROFILE, output=tmp_path / "a.parquet")
    columns = ", ".join(c.name for c in ingest_module.NORMALISED_COLUMNS)
    with ingest_module.ingested(path, profile=SYNTHETIC_PROFILE) as session:
        assert session.report.output_path is None
        assert session.report.kept_rows == written.kept_rows
        rows = f"SELECT {columns} FROM {session.relation}"  # noqa: S608
        held = session.con.execute(rows).fetchall()
        labelled = (
            f"SELECT count(*) FILTER ({session.synthetic_sql}), count(*) FILTER "  # noqa: S608
            f"(json_extract_string(extra, '$.synthetic') = 'yes') FROM {session.relation}"
        )
        synthetic = session.con.execute(labelled).fetchone()
        con = session.con
    with duckdb.connect() as other:
        # As the session's: Python never equates times in a repeated hour across zones.
        other.execute("SET TimeZone = 'UTC'")
        stored = other.execute(
            f"SELECT {columns} FROM read_parquet($p)",  # noqa: S608
            {"p": str(tmp_path / "a.parquet")},
        ).fetchall()
    assert held == stored
    assert synthetic == (written.kept_rows, written.kept_rows)
    with pytest.raises(duckdb.ConnectionException):
        con.execute("SELECT 1")


def test_ingested_rows_without_a_synthetic_column_are_not_synthetic() -> None:
    fixture = Path(__file__).parent / "fixtures" / "spd_calls.csv"
    with ingest_module.ingested(fixture, profile="seattle-spd") as session:
        counts = (
            f"SELECT count(*), count(*) FILTER ({session.synthetic_sql}), "  # noqa: S608
            f"list(DISTINCT initiated_by ORDER BY initiated_by) FROM {session.relation}"
        )
        counted = session.con.execute(counts).fetchone()
    assert counted is not None
    assert counted[0] == session.report.kept_rows > 0
    assert counted[1] == 0
    assert set(counted[2]) <= {"officer", "public", "unknown"}


@pytest.mark.parametrize("per_slice", [100, 1_000, 1 << 40])
def test_repeated_hashes_are_found_slice_by_slice_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per_slice: int
) -> None:
    """Duplicates are found by sorting the kept rows' hashes in slices of the hash space;
    any slice size gives the same report and rows."""
    from csas.analysis.safety.synthetic import SYNTHETIC_PROFILE, generate_calls

    path = tmp_path / "calls.csv"
    generate_calls(5_000, seed=12, year=2024, out_path=path, bad_share=0.2)
    whole = ingest_module.ingest(path, profile=SYNTHETIC_PROFILE, output=tmp_path / "a.parquet")
    assert whole.duplicate_rows > 50
    monkeypatch.setattr(ingest_module, "_HASHES_PER_SLICE", per_slice)
    sliced = ingest_module.ingest(path, profile=SYNTHETIC_PROFILE, output=tmp_path / "b.parquet")
    assert dataclasses.replace(sliced, seconds=0, output_path="") == dataclasses.replace(
        whole, seconds=0, output_path=""
    )
    with duckdb.connect() as con:
        differing = con.execute(
            "SELECT count(*) FROM (SELECT * FROM read_parquet($a) EXCEPT ALL "
            "SELECT * FROM read_parquet($b))",
            {"a": str(tmp_path / "a.parquet"), "b": str(tmp_path / "b.parquet")},
        ).fetchall()
    assert differing == [(0,)]


def test_ingested_rows_keep_columns_whose_names_look_like_parameters(tmp_path: Path) -> None:
    """The view holds the parameters' values as literals; a kept column named like a
    parameter ($kind), like SQL (FROM checked) or with a quote stays a name."""
    path = tmp_path / "calls.csv"
    path.write_text(
        'id,type,when,$kind,"it\'s",note FROM checked\n'
        "1,TRESPASS,2024-03-10T01:30:00-08:00,a,x,p\n"
        "2,NOISE,2024-03-10T04:30:00-07:00,b,y,q\n",
        encoding="utf-8",
    )
    profile = profile_from_mapping(
        {
            "profile": "odd",
            "title": "Odd names",
            "kind": "calls",
            "timezone": "America/Los_Angeles",
            "time_formats": ["iso8601"],
            "columns": {"source_id": "id", "call_type": "type", "received_at": "when"},
            "keep_columns": ["$kind", "it's", "note FROM checked"],
        }
    )
    ingest_module.ingest(path, profile=profile, output=tmp_path / "calls.parquet")
    keys = ", ".join(f"extra->>'$.\"{name}\"'" for name in ("$kind", "it''s", "note FROM checked"))
    with ingest_module.ingested(path, profile=profile) as session:
        held = session.con.execute(
            f"SELECT source_kind, {keys} FROM {session.relation}"  # noqa: S608
        ).fetchall()
    with duckdb.connect() as con:
        stored = con.execute(
            f"SELECT source_kind, {keys} FROM read_parquet($p)",  # noqa: S608
            {"p": str(tmp_path / "calls.parquet")},
        ).fetchall()
    assert held == stored == [("calls", "a", "x", "p"), ("calls", "b", "y", "q")]


def test_ingest_reads_tacoma_311_requests_and_never_their_personal_columns(
    tmp_path: Path,
) -> None:
    report = run(FIXTURES / "tacoma_311.csv", tmp_path, "tacoma-311")
    assert report.input_rows == 6
    assert (report.kept_rows, report.rejected_rows, report.duplicate_rows) == (3, 2, 1)
    assert report.rejected_by_reason == {
        "unparseable_timestamp": 1,
        "missing_required_field": 1,
    }
    assert report.duplicates_by_reason == {"duplicate_row": 1}  # the same request twice
    assert report.coordinates_swapped == 1
    got = rows(
        Path(report.output_path),
        "source_kind, source_id, call_type, received_at, dispatched_at, cleared_at, lon, lat",
    )
    assert got[0] == (
        "requests",
        "9000001",
        "Pothole",
        dt.datetime(2024, 3, 4, 17, 15, 22, tzinfo=UTC),
        dt.datetime(2024, 3, 4, 19, 2, 10, tzinfo=UTC),
        dt.datetime(2024, 3, 6, 18, 0, tzinfo=UTC),
        -122.4443,
        47.2529,
    )
    # a time without an offset is local (Pacific, UTC-8 in March before the change)
    assert got[1][3] == dt.datetime(2024, 3, 5, 22, 30, tzinfo=UTC)
    assert got[2][6:] == (-122.47, 47.22)  # swapped back
    text = " ".join(str(value) for row in rows(Path(report.output_path)) for value in row)
    for private in ("Made Up St", "Jane Example", "Big pothole by my house"):
        assert private not in text


def test_times_only_partly_read_or_in_implausible_years_are_unparseable(tmp_path: Path) -> None:
    # DuckDB's cast to TIMESTAMP ignores what it cannot read after a time: each of these was
    # once kept with a wrong time (01:00 for 1 PM, Pacific for EST, the year 7 for '23).
    header = (FIXTURES / "spd_calls.csv").read_text(encoding="utf-8").splitlines()[:2]
    good = header[1].split(",")
    queued = header[0].split(",").index("Original Time Queued")
    times = [
        "2023-07-01 1:00:00 PM",
        "2023-07-01 13:00:00 EST",
        "2023-07-01T13:00:00 garbage",
        "07/01/23 1:00 PM",
        "01/01/1800 12:00:00 AM",  # a placeholder year
        "2023-07-01T13:00:00.000",  # ISO 8601 local time: kept
        "2023-07-01 13:00",  # kept
    ]
    lines = [header[0]]
    for number, text in enumerate(times):
        row = list(good)
        row[0] = f"202300000{number:04d}"
        row[queued] = text
        lines.append(",".join(row))
    source = tmp_path / "times.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run(source, tmp_path, "seattle-spd")
    assert report.accounted
    assert (report.input_rows, report.kept_rows) == (7, 2)
    assert dict(report.rejected_by_reason) == {"unparseable_timestamp": 5}
    assert [s.value for s in report.samples_for("unparseable_timestamp")] == times[:5]
    kept = rows(Path(report.output_path), "received_at")
    # 13:00 Pacific daylight time is 20:00 UTC
    assert [r[0] for r in kept] == [dt.datetime(2023, 7, 1, 20, 0, tzinfo=UTC)] * 2
