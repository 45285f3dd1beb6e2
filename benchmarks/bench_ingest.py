"""Benchmark: ingest N synthetic Seattle-format calls, against DuckDB's plain CSV -> Parquet.

    .venv/bin/python benchmarks/bench_ingest.py            # 2,000,000 rows
    .venv/bin/python benchmarks/bench_ingest.py --rows 10000000 --memory-limit 2GB
    .venv/bin/python benchmarks/bench_ingest.py --csv calls.csv --profile tacoma-synthetic

Writes a synthetic CSV in the columns and time formats of Seattle's SPD Call Data export (made
up, deterministic: every value is a hash of the row number), then times, in the same run:

* floor: DuckDB alone reading the CSV and grouping it by call type (the issue's floor);
* baseline: DuckDB alone, ``read_csv`` (all text) + ``COPY TO parquet``, no normalisation;
* csas: `csas.analysis.safety.ingest.ingest` with the ``seattle-spd`` profile (time zones,
  coordinates, swap check, duplicates, validation report, atomic write);
* optionally (``--state-plane``) the same rows with coordinates in Washington State Plane
  South (EPSG:2927, US feet), projected with pyproj in batches.

With ``--csv`` an existing file is timed instead (say one from ``csas safety synth``), with
``--profile``. The csas line is followed by the seconds of each step of the fastest run (the
names `ingest` passes to ``progress``).

About 1 row in 1,000 is made bad (unparseable time, swapped coordinates, a duplicate) so the
checks have work to do. Prints rows/s, the ratios csas / baseline and csas / floor, and the
peak resident memory of the process that ran the ingest (DuckDB's memory lives in it).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import yaml

from csas.analysis.safety.ingest import ingest
from csas.analysis.safety.profiles import bundled_profiles, load_profile, profile_from_mapping

_CALL_TYPES = [
    "SUSPICIOUS PERSON, VEHICLE OR INCIDENT",
    "DISTURBANCE, MISCELLANEOUS/OTHER",
    "TRAFFIC STOP - OFFICER INITIATED ONVIEW",
    "PARKING VIOLATION (EXCEPT ABANDONED CAR)",
    "THEFT (DOES NOT INCLUDE SHOPLIFT OR SVCS)",
    "SERVICE - WELFARE CHECK",
    "PERSON IN BEHAVIORAL/EMOTIONAL CRISIS",
    "ASLT - IP/JO - WITH OR W/O WPNS (NO SHOOTINGS)",
    "NOISE - DISTURBANCE (PARTY, ETC)",
    "TRESPASS",
]
_ORIGINS = ["911", "ONVIEW", "TELEPHONE OTHER, NOT 911", "ALARM CALL (NOT POLICE ALARM)"]


def write_synthetic_csv(path: Path, rows: int, *, state_plane: bool = False) -> None:
    """Write `rows` synthetic calls in Seattle's export format (deterministic)."""
    x, y = (
        ("1130000 + (h2 % 50000)", "680000 + (h3 % 45000)")
        if state_plane
        else ("-122.42 + (h2 % 1800) / 10000.0", "47.50 + (h3 % 2300) / 10000.0")
    )
    longitude, latitude = (
        ("Blurred_Longitude", "Blurred_Latitude") if not state_plane else ("X", "Y")
    )
    con = duckdb.connect(config={"memory_limit": "1GB"})
    con.execute("SET enable_progress_bar = false")
    # Each value comes from hashes of the row number, so the file is the same on every run.
    con.execute(
        f"""
        COPY (
          WITH base AS (
            SELECT i,
                   hash(i) AS h1, hash(i + 7919) AS h2, hash(i + 104729) AS h3,
                   TIMESTAMP '2023-01-01' + to_seconds((hash(i + 3) % 31536000)::BIGINT) AS queued
            FROM range($rows) t(i)
          )
          SELECT
            CASE WHEN i % 1000 = 999 THEN 2023000000000 + i - 1
                 ELSE 2023000000000 + i END AS "CAD Event Number",
            'ASSISTANCE RENDERED' AS "Event Clearance Description",
            $origins[1 + (h1 % 4)::INT] AS "Call Type",
            1 + (h2 % 7) AS "Priority",
            $types[1 + (h3 % 10)::INT] AS "Initial Call Type",
            '--DISTURBANCE - OTHER' AS "Final Call Type",
            CASE WHEN i % 1000 = 500 THEN 'not a time'
                 ELSE strftime(queued, '%m/%d/%Y %-I:%M:%S %p') END AS "Original Time Queued",
            CASE WHEN h1 % 5 = 0 THEN NULL
                 ELSE strftime(queued + to_seconds((h2 % 3600)::BIGINT),
                               '%m/%d/%Y %-I:%M:%S %p') END AS "Arrived Time",
            'EAST' AS "Precinct", 'CHARLIE' AS "Sector", 'C3' AS "Beat",
            CASE WHEN i % 1000 = 250 THEN {y} ELSE {x} END AS "{longitude}",
            CASE WHEN i % 1000 = 250 THEN {x} ELSE {y} END AS "{latitude}"
          FROM base
        ) TO $path (FORMAT csv, HEADER true)
        """,  # noqa: S608 (benchmark-only SQL; every value is a bound parameter)
        {"rows": rows, "origins": _ORIGINS, "types": _CALL_TYPES, "path": str(path)},
    )
    con.close()


def baseline(path: Path, output: Path, memory_limit: str) -> float:
    """DuckDB alone: read the CSV as text and write it to Parquet, no normalisation."""
    with duckdb.connect(config={"memory_limit": memory_limit}) as con:
        con.execute("SET enable_progress_bar = false")
        started = time.perf_counter()
        con.execute(
            "COPY (SELECT * FROM read_csv($path, all_varchar = true, header = true, "
            "ignore_errors = true)) TO $out (FORMAT parquet, COMPRESSION zstd)",
            {"path": str(path), "out": str(output)},
        )
        return time.perf_counter() - started


def floor(path: Path, memory_limit: str, column: str = "Initial Call Type") -> float:
    """The issue's floor: DuckDB reading the same CSV and grouping it by call type."""
    quoted = '"' + column.replace('"', '""') + '"'
    with duckdb.connect(config={"memory_limit": memory_limit}) as con:
        con.execute("SET enable_progress_bar = false")
        started = time.perf_counter()
        # The column name is the profile's, quoted as an identifier.
        sql = f"SELECT {quoted}, count(*) FROM read_csv($path, header = true, ignore_errors = true)"  # noqa: S608
        con.execute(sql + " GROUP BY 1", {"path": str(path)}).fetchall()
        return time.perf_counter() - started


def state_plane_profile() -> dict[str, Any]:
    """The Seattle profile with x/y in Washington State Plane South (EPSG:2927, US feet)."""
    path = bundled_profiles()["seattle-spd"]
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["coordinates"] = {
        "x": "X",
        "y": "Y",
        "crs": "EPSG:2927",
        "bbox": [-122.60, 47.14, -122.32, 47.34],
    }
    return data


def timed_ingest(
    csv_path: Path, profile: str | dict[str, Any], work: Path, memory_limit: str
) -> tuple[float, float, dict[str, Any], list[tuple[str, float]]]:
    """Run in a child process: (seconds, the child's peak resident MB, the report, steps).

    The steps are each step's name and seconds, as `ingest` reports them to ``progress``.
    """
    checked = profile_from_mapping(profile) if isinstance(profile, dict) else profile
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    report = ingest(
        csv_path,
        profile=checked,
        output=work / "calls.parquet",
        memory_limit=memory_limit,
        temp_directory=work,
        progress=lambda step: marks.append((step, time.perf_counter())),
    )
    ended = time.perf_counter()
    seconds = ended - started
    ends = [at for _, at in marks[1:]] + [ended]
    steps = [(name, end - at) for (name, at), end in zip(marks, ends, strict=True)]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return seconds, peak_mb, report.to_dict(), steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--state-plane", action="store_true", help="also time EPSG:2927 input")
    parser.add_argument("--csv", type=Path, help="time this existing CSV instead of writing one")
    parser.add_argument("--profile", default="seattle-spd", help="the profile for --csv")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="csas-bench-") as folder:
        work = Path(folder)
        cases: list[tuple[str, str, str | dict[str, Any], bool]] = [
            ("seattle-spd profile", "calls.csv", "seattle-spd", False)
        ]
        if args.csv is not None:
            cases = [(f"{args.csv.name}, {args.profile} profile", "", args.profile, False)]
        elif args.state_plane:
            cases.append(("EPSG:2927 x/y", "calls_2927.csv", state_plane_profile(), True))
        for label, name, profile, state_plane in cases:
            if args.csv is not None:
                csv_path = args.csv
                print(f"{label}: {csv_path.stat().st_size / 1e6:,.0f} MB")
            else:
                csv_path = work / name
                started = time.perf_counter()
                write_synthetic_csv(csv_path, args.rows, state_plane=state_plane)
                size_mb = csv_path.stat().st_size / 1e6
                print(
                    f"{label}: wrote {args.rows:,} rows ({size_mb:,.0f} MB) "
                    f"in {time.perf_counter() - started:.1f} s"
                )
            # The three are interleaved and each repeated; the fastest run of each counts, as
            # the one least disturbed by other work on the machine. Each csas run is in a
            # fresh process, so its peak memory is its own.
            checked = profile_from_mapping(profile) if isinstance(profile, dict) else None
            call_type = (checked or load_profile(str(profile))).columns["call_type"]
            spawn = multiprocessing.get_context("spawn")
            bases, floors, runs = [], [], []
            for _ in range(args.repeat):
                bases.append(baseline(csv_path, work / "base.parquet", args.memory_limit))
                floors.append(floor(csv_path, args.memory_limit, call_type))
                with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
                    job = pool.submit(timed_ingest, csv_path, profile, work, args.memory_limit)
                    runs.append(job.result())
            base_s, floor_s = min(bases), min(floors)
            csas_s, _, report, steps = min(runs, key=lambda run: run[0])
            peak_mb = max(run[1] for run in runs)
            rows = report["input_rows"]
            print(
                f"  floor (DuckDB read_csv + GROUP BY type):   {floor_s:6.2f} s "
                f"{rows / floor_s:12,.0f} rows/s"
            )
            print(
                f"  baseline (DuckDB read_csv + COPY parquet): {base_s:6.2f} s "
                f"{rows / base_s:12,.0f} rows/s"
            )
            print(
                f"  csas ingest:                               {csas_s:6.2f} s "
                f"{rows / csas_s:12,.0f} rows/s  {csas_s / base_s:.2f}x baseline, "
                f"{csas_s / floor_s:.2f}x floor"
            )
            print("    steps: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in steps))
            print(
                f"  peak resident memory of an ingest process: {peak_mb:,.0f} MB "
                f"(DuckDB memory_limit {args.memory_limit})"
            )
            print(
                f"  kept {report['kept_rows']:,}, rejected {report['rejected_rows']:,} "
                f"{report['rejected_by_reason']}, duplicates {report['duplicate_rows']:,}, "
                f"swapped {report['coordinates_swapped']:,}; accounted: {report['accounted']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
