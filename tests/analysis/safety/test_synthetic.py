"""The synthetic Tacoma call generator: deterministic, labelled, realistic, ingestible."""

from __future__ import annotations

import csv
import doctest
import hashlib
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy import stats

from csas.analysis.safety import synthetic
from csas.analysis.safety.geo import TACOMA_GEO, areas_from_geojson, assign_points
from csas.analysis.safety.ingest import ingest
from csas.analysis.safety.synthetic import (
    COLUMNS,
    DEFECTS,
    SYNTHETIC_PROFILE,
    SyntheticError,
    generate_calls,
    load_model,
)

ROWS = 40_000


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    path = tmp_path_factory.mktemp("synthetic") / "calls.csv"
    generate_calls(ROWS, seed=2024, year=2024, out_path=path)
    with path.open(encoding="utf-8", newline="") as handle:
        return path, list(csv.DictReader(handle))


# ---- determinism ---------------------------------------------------------------------------


def test_the_same_seed_gives_a_byte_identical_csv(tmp_path: Path) -> None:
    first = generate_calls(3_000, seed=7, year=2023, out_path=tmp_path / "a.csv")
    second = generate_calls(3_000, seed=7, year=2023, out_path=tmp_path / "b.csv")
    assert first.rows == second.rows == 3_000
    assert digest(tmp_path / "a.csv") == digest(tmp_path / "b.csv")


def test_the_same_seed_gives_a_byte_identical_parquet(tmp_path: Path) -> None:
    for name in ("a.parquet", "b.parquet"):
        generate_calls(3_000, seed=7, year=2023, out_path=tmp_path / name, fmt="parquet")
    assert digest(tmp_path / "a.parquet") == digest(tmp_path / "b.parquet")


def test_the_chunk_size_does_not_change_the_file(tmp_path: Path) -> None:
    generate_calls(3_000, seed=5, year=2024, out_path=tmp_path / "big.csv", bad_share=0.05)
    generate_calls(
        3_000, seed=5, year=2024, out_path=tmp_path / "small.csv", bad_share=0.05, chunk_rows=500
    )
    assert digest(tmp_path / "big.csv") == digest(tmp_path / "small.csv")


def test_another_seed_gives_other_calls(tmp_path: Path) -> None:
    generate_calls(1_000, seed=1, year=2024, out_path=tmp_path / "a.csv")
    generate_calls(1_000, seed=2, year=2024, out_path=tmp_path / "b.csv")
    assert digest(tmp_path / "a.csv") != digest(tmp_path / "b.csv")


def test_csv_and_parquet_hold_the_same_rows(tmp_path: Path) -> None:
    generate_calls(500, seed=3, year=2024, out_path=tmp_path / "c.csv", bad_share=0.1)
    generate_calls(
        500, seed=3, year=2024, out_path=tmp_path / "c.parquet", fmt="parquet", bad_share=0.1
    )
    with duckdb.connect() as con:
        from_csv = con.execute(
            "SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(tmp_path / "c.csv")],
        ).fetchall()
        from_parquet = con.execute(
            "SELECT * FROM read_parquet(?)", [str(tmp_path / "c.parquet")]
        ).fetchall()
    assert from_csv == from_parquet


# ---- labelled synthetic ------------------------------------------------------------------------


def test_every_row_is_marked_synthetic(sample: tuple[Path, list[dict[str, str]]]) -> None:
    path, rows = sample
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS)
    assert len(rows) == ROWS
    assert {row["synthetic"] for row in rows} == {"yes"}
    assert all(row["event_id"].startswith("SYN-2024-") for row in rows)


def test_a_parquet_file_says_it_is_synthetic_in_its_metadata(tmp_path: Path) -> None:
    path = tmp_path / "calls.parquet"
    generate_calls(100, seed=1, year=2024, out_path=path, fmt="parquet")
    with duckdb.connect() as con:
        metadata = dict(
            con.execute(
                "SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)", [str(path)]
            ).fetchall()
        )
    assert metadata["synthetic"] == "true"
    assert metadata["profile"] == SYNTHETIC_PROFILE
    assert metadata["seed"] == "1"


# ---- realism ------------------------------------------------------------------------------------


def test_call_types_follow_the_vera_counts(sample: tuple[Path, list[dict[str, str]]]) -> None:
    _, rows = sample
    model = load_model()
    observed = Counter(row["initial_call_type"] for row in rows)
    assert set(observed) <= set(model.type_names)
    expected = model.type_probability * ROWS
    big = expected >= 5
    seen = np.array([observed.get(name, 0) for name in model.type_names], dtype=float)
    chi2 = stats.chisquare(
        np.append(seen[big], seen[~big].sum()), np.append(expected[big], expected[~big].sum())
    )
    assert chi2.pvalue > 0.001
    # The commonest type is Vera's commonest Seattle type, within 4 standard errors.
    top = model.type_names[0]
    p = float(model.type_probability[0])
    assert abs(observed[top] - ROWS * p) < 4 * np.sqrt(ROWS * p * (1 - p))


def test_every_point_lies_inside_a_tacoma_block_group(
    sample: tuple[Path, list[dict[str, str]]],
) -> None:
    _, rows = sample
    lon = np.array([float(row["longitude"]) for row in rows])
    lat = np.array([float(row["latitude"]) for row in rows])
    areas = areas_from_geojson(TACOMA_GEO / "Equity_Index_2024.geojson", code_property="geoid20")
    assigned = assign_points(lon, lat, areas)
    assert assigned.n_outside == assigned.n_missing == 0
    assert assigned.n_assigned == ROWS
    # Coordinates are WGS84 degrees with at most 6 decimals.
    assert all(len(row["longitude"].split(".")[1]) <= 6 for row in rows[:1000])
    # Busier block groups are those with more residents and more recorded crime.
    model = load_model()
    weights = np.diff(model.block_group_cdf[0], prepend=0.0)
    rho = stats.spearmanr(assigned.counts, weights).statistic
    assert rho > 0.8


def test_the_hour_of_day_profile_is_not_flat(sample: tuple[Path, list[dict[str, str]]]) -> None:
    _, rows = sample
    hours = np.bincount([int(row["received_at"][11:13]) for row in rows], minlength=24)
    assert stats.chisquare(hours).pvalue < 1e-12
    assert hours[15:19].sum() > 2 * hours[3:7].sum()


def test_summer_is_busier_than_winter(sample: tuple[Path, list[dict[str, str]]]) -> None:
    _, rows = sample
    months = Counter(row["received_at"][5:7] for row in rows)
    summer = (months["07"] + months["08"]) / 62
    winter = (months["01"] + months["02"]) / 60  # 2024 is a leap year
    assert summer > 1.05 * winter


def test_about_forty_percent_of_calls_are_officer_initiated_as_in_seattle(
    sample: tuple[Path, list[dict[str, str]]],
) -> None:
    _, rows = sample
    share = sum(row["call_source"] == "ONVIEW" for row in rows) / ROWS
    assert share == pytest.approx(load_model().officer_target, abs=0.015)
    assert 0.35 < share < 0.45


def test_higher_priorities_are_answered_faster(sample: tuple[Path, list[dict[str, str]]]) -> None:
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        medians = con.execute(
            "SELECT priority, median(epoch(CAST(arrived_at AS TIMESTAMPTZ)) - "
            "epoch(CAST(received_at AS TIMESTAMPTZ))) / 60 FROM read_csv(?, all_varchar = true) "
            "WHERE call_source <> 'ONVIEW' AND arrived_at IS NOT NULL GROUP BY priority "
            "ORDER BY priority",
            [str(sample[0])],
        ).fetchall()
    minutes = [m for _, m in medians]
    assert [p for p, _ in medians] == ["1", "2", "3", "4"]
    assert minutes == sorted(minutes)
    assert 3 < minutes[0] < 12 < minutes[-1]


def test_times_carry_their_offset_and_skip_the_missing_spring_hour(
    sample: tuple[Path, list[dict[str, str]]],
) -> None:
    _, rows = sample
    offsets = Counter(row["received_at"][19:] for row in rows)
    assert set(offsets) == {"-08:00", "-07:00"}
    assert not any(row["received_at"].startswith("2024-03-10T02:") for row in rows)
    with duckdb.connect() as con:
        (backwards,) = con.execute(
            "SELECT count(*) FROM read_csv(?, all_varchar = true) WHERE "
            "CAST(cleared_at AS TIMESTAMPTZ) < CAST(received_at AS TIMESTAMPTZ) OR "
            "CAST(dispatched_at AS TIMESTAMPTZ) < CAST(received_at AS TIMESTAMPTZ) OR "
            "CAST(arrived_at AS TIMESTAMPTZ) < CAST(dispatched_at AS TIMESTAMPTZ)",
            [str(sample[0])],
        ).fetchone()
    assert backwards == 0


# ---- ingestion ----------------------------------------------------------------------------------


def test_the_shipped_profile_ingests_every_good_row(
    sample: tuple[Path, list[dict[str, str]]], tmp_path: Path
) -> None:
    report = ingest(sample[0], profile=SYNTHETIC_PROFILE, output=tmp_path / "calls.parquet")
    assert report.kept_rows == ROWS
    assert report.rejected_rows == report.duplicate_rows == 0
    assert report.dst_ambiguous == report.dst_nonexistent == 0
    assert report.outside_bbox == 0
    assert report.initiated_by["unknown"] == 0
    with duckdb.connect() as con:
        marks = con.execute(
            "SELECT DISTINCT json_extract_string(extra, '$.synthetic') FROM read_parquet(?)",
            [str(tmp_path / "calls.parquet")],
        ).fetchall()
    assert marks == [("yes",)]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_bad_rows_are_reported_by_ingestion_exactly_as_planted(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"bad.{fmt}"
    planted = generate_calls(4_000, seed=9, year=2024, out_path=path, fmt=fmt, bad_share=0.1)  # type: ignore[arg-type]
    assert all(planted.defects[kind] > 0 for kind in DEFECTS)
    report = ingest(path, profile=SYNTHETIC_PROFILE, output=tmp_path / "out.parquet")
    found = report.to_dict()
    for key, value in planted.expected_ingest.items():
        assert found[key] == value, key


def test_no_bad_rows_unless_asked(sample: tuple[Path, list[dict[str, str]]]) -> None:
    _, rows = sample
    assert len({row["event_id"] for row in rows}) == ROWS
    assert all(row["initial_call_type"] and row["longitude"] for row in rows)


# ---- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n": -1}, "n \\(rows\\)"),
        ({"n": 2.5}, "n \\(rows\\)"),
        ({"seed": -3}, "seed"),
        ({"year": 1900}, "year"),
        ({"fmt": "xlsx"}, "fmt"),
        ({"bad_share": 0.9}, "bad_share"),
        ({"chunk_rows": 0}, "chunk_rows"),
    ],
)
def test_generator_rejects_bad_arguments(
    tmp_path: Path, arguments: dict[str, object], message: str
) -> None:
    call: dict[str, object] = {"n": 10, "seed": 1, "year": 2024, "out_path": tmp_path / "x.csv"}
    call.update(arguments)
    with pytest.raises(SyntheticError, match=message):
        generate_calls(**call)  # type: ignore[arg-type]
    assert not (tmp_path / "x.csv").exists()


def test_generator_names_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SyntheticError, match="no such folder"):
        generate_calls(10, seed=1, year=2024, out_path=tmp_path / "nowhere" / "x.csv")


def test_zero_rows_gives_a_header_only_file_that_ingests(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    report = generate_calls(0, seed=1, year=2024, out_path=path)
    assert report.rows == 0
    assert path.read_text(encoding="utf-8") == ",".join(COLUMNS) + "\n"
    assert ingest(path, profile=SYNTHETIC_PROFILE, output=tmp_path / "e.parquet").input_rows == 0


def test_nothing_partial_is_left_beside_the_output(tmp_path: Path) -> None:
    generate_calls(200, seed=1, year=2024, out_path=tmp_path / "calls.csv", chunk_rows=50)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv"]


def test_module_docstring_examples_run() -> None:
    failures, tests = doctest.testmod(synthetic)
    assert tests >= 3
    assert failures == 0
