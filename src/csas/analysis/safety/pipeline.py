"""The safety data lab's pipeline: a normalised call table in, publishable aggregates out.

`analyze` reads the Parquet file that `csas.analysis.safety.ingest` writes and runs the
lab's analyses on it, for Tacoma's geography:

1. **Geography**: every call's point goes into its 2024 Equity Index block group, council
   district, neighbourhood council district and police sector-district
   (`geo.assign_points`); populations move from block groups to the districts by areal
   interpolation (`geo.areal_interpolate`), since the districts do not nest.
2. **Calls by area and month** with rates per 1,000 residents and exact Poisson intervals
   (`measures.rates_from_counts`, the same table as `measures.rates_by_area_month` from
   counts made with numpy), for each district geography; months are local.
3. **Response times** of calls not started by an officer, by priority and council district,
   with bootstrap intervals (`measures.response_times`).
4. **The share eligible for an alternative response** as a range, by type alone and after
   screening (`taxonomy.eligibility_range`), with the split by who started the call, and
   the **time-of-day profile** of eligible calls (`measures.eligible_time_profile`).
5. **Hot spots** of all calls and of eligible calls on block groups: Getis-Ord Gi* with
   queen contiguity, binary weights, permutation inference and Benjamini-Hochberg false
   discovery rate control (`hotspots.gi_star`).

It writes **aggregates only**, as CSV and JSON files in one folder (`OUTPUT_FILES`): no row
of the input, no point, no call type text, no free text. Every published count under
`threshold` (10) is withheld, and so is every figure derived from one (a rate, a median of
fewer than 10 calls, a share). ``summary.json`` gathers the headline figures and is what
`write_report` reads. Files are written to a temporary folder and moved into place at the
end, so a failed run leaves no half-written set.

`write_report` turns ``summary.json`` (and the council-district rates) into ``report.md``
and ``report.html``; a synthetic input is labelled as such at the top of both.
"""

# SQL in this module is assembled only from csas's own fragments; values reach DuckDB as
# bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import csv
import functools
import html
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from csas.analysis.safety.geo import (
    TACOMA_GEO,
    Area,
    Assignment,
    areal_interpolate,
    areas_from_geojson,
    assign_points,
)
from csas.analysis.safety.hotspots import gi_star, polygon_neighbours
from csas.analysis.safety.ingest import NORMALISED_COLUMNS
from csas.analysis.safety.measures import (
    AreaWeekProfile,
    EligibilityByArea,
    RateTable,
    ResponseTimeRow,
    ResponseTimeTable,
    TimeProfile,
    eligibility_by_area,
    eligible_time_profile,
    eligible_week_by_area,
    rates_from_counts,
    response_times_from_codes,
)
from csas.analysis.safety.taxonomy import (
    DEFAULT_ELIGIBLE_TIERS,
    EligibilityRange,
    InitiationSplit,
    Population,
    Tier,
    classify_calls,
    eligibility_range,
    initiation_split,
    load_taxonomy,
)

SCHEMA_VERSION = 1
#: Calls read from DuckDB into numpy at a time (by row number).
_READ_SLICE = 500_000
#: The populations the eligible share is reported for.
_POPULATIONS: tuple[Population, ...] = ("public", "all")
ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class Geography:
    """A set of Tacoma areas the calls are counted in.

    Fields:
        key: the short name used in file names (``council_district``).
        label: the name shown in reports.
        file: the GeoJSON file in `TACOMA_GEO`.
        code_property: the feature property holding each area's code.
    """

    key: str
    label: str
    file: str
    code_property: str


BLOCK_GROUPS = Geography(
    "block_group", "2020 census block group", "Equity_Index_2024.geojson", "geoid20"
)
#: The district geographies rates are published for.
DISTRICTS: tuple[Geography, ...] = (
    Geography("council_district", "Council district", "City_Council_Districts.geojson", "district"),
    Geography(
        "neighborhood_council",
        "Neighborhood council district",
        "Neighborhood_Council_Districts.geojson",
        "name",
    ),
    Geography(
        "police_district", "Police sector-district", "Police_Districts.geojson", "sector_district"
    ),
)

#: Every file `analyze` writes, with what it holds.
OUTPUT_FILES: Mapping[str, str] = {
    "summary.json": "headline figures, parameters, methods and the list of files",
    "rates_council_district.csv": "calls per council district and month, rate per 1,000 "
    "residents with exact 95% Poisson interval",
    "rates_neighborhood_council.csv": "the same per neighbourhood council district",
    "rates_police_district.csv": "the same per police sector-district",
    "calls_without_area.csv": "calls outside every district (or without a location), per "
    "geography and month",
    "response_times.csv": "median and 90th percentile minutes to dispatch and to arrival, "
    "by priority and council district (citywide rows have no district), with bootstrap "
    "95% intervals",
    "eligibility.json": "the share of calls eligible for an alternative response, by type "
    "alone and after screening, for two populations, with the rules in words",
    "eligible_time_profile.csv": "eligible calls by local day of week and hour of day, for "
    "both definitions (weekday 'all' = every day; hour 'all' = every hour)",
    "hotspots_block_groups.csv": "Getis-Ord Gi* on block-group counts of all calls and of "
    "eligible calls, with FDR-adjusted p-values and hot/cold classification",
    "eligibility_by_area.csv": "per district (council, neighbourhood council, police): calls "
    "started by the public, those eligible for an alternative response by type alone and "
    "after screening, and the two shares",
    "eligible_time_by_district.csv": "eligible calls by council district and local hour of "
    "the week (Monday 00:00 = 0), for both definitions",
}
#: The files added after the first release: a folder without them is an older output.
ADDED_FILES: tuple[str, ...] = ("eligibility_by_area.csv", "eligible_time_by_district.csv")
ELIGIBILITY_BY_AREA_HEADER: tuple[str, ...] = (
    "geography",
    "area",
    "calls",
    "eligible_by_type",
    "eligible_after_screening",
    "share_by_type",
    "share_after_screening",
    "suppressed",
)
TIME_BY_DISTRICT_HEADER: tuple[str, ...] = (
    "definition",
    "council_district",
    "hour_of_week",
    "count",
    "suppressed",
    "suppression",
)


class PipelineError(ValueError):
    """The input cannot be analysed, or an output folder cannot be read; the message says
    which file and what was expected."""


@dataclass(frozen=True)
class AnalysisResult:
    """What `analyze` wrote.

    Fields:
        out_dir: the folder written.
        files: the files written, in `OUTPUT_FILES` order.
        calls: calls in the input.
        synthetic_rows: input rows marked synthetic (``extra.synthetic = yes``).
        seconds: wall-clock time taken.
        summary: the content of ``summary.json``.
    """

    out_dir: str
    files: tuple[str, ...]
    calls: int
    synthetic_rows: int
    seconds: float
    summary: Mapping[str, Any]


# ---------------------------------------------------------------------------------------------
# Reading the input


def _check_input(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    if not path.is_file():
        raise PipelineError(f"{path}: no such file")
    try:
        described = con.execute(
            "DESCRIBE SELECT * FROM read_parquet($path)", {"path": str(path)}
        ).fetchall()
    except duckdb.Error as error:
        first = str(error).splitlines()[0]
        raise PipelineError(
            f"{path.name}: not a readable Parquet file ({first}); expected the normalised "
            "table written by `csas safety ingest`"
        ) from None
    present = {str(row[0]) for row in described}
    missing = [c.name for c in NORMALISED_COLUMNS if c.name not in present]
    if missing:
        raise PipelineError(
            f"{path.name}: not a normalised call table: column(s) {missing} missing; "
            "run `csas safety ingest` on the export first and analyse its output"
        )


@dataclass(frozen=True)
class _Tacoma:
    """Tacoma's areas and their residents (block groups' counts, moved to the districts)."""

    areas: Mapping[str, tuple[Area, ...]]
    population: Mapping[str, Mapping[str, float]]


@functools.cache
def _tacoma() -> _Tacoma:
    """Read the vendored layers once per process: they never change while it runs."""
    data = json.loads((TACOMA_GEO / BLOCK_GROUPS.file).read_text(encoding="utf-8"))
    by_code = {
        str(f["properties"]["geoid20"]): float(f["properties"]["population"] or 0)
        for f in data["features"]
    }
    areas: dict[str, tuple[Area, ...]] = {}
    population: dict[str, Mapping[str, float]] = {}
    for geography in (BLOCK_GROUPS, *DISTRICTS):
        areas[geography.key] = areas_from_geojson(
            TACOMA_GEO / geography.file, code_property=geography.code_property
        )
    block_groups = areas[BLOCK_GROUPS.key]
    population[BLOCK_GROUPS.key] = MappingProxyType({a.code: by_code[a.code] for a in block_groups})
    values = np.array([by_code[a.code] for a in block_groups])
    for geography in DISTRICTS:
        moved = areal_interpolate(values, block_groups, areas[geography.key])
        population[geography.key] = MappingProxyType(moved.total_by_code())
    return _Tacoma(MappingProxyType(areas), MappingProxyType(population))


@dataclass
class _Calls:
    """The per-call arrays the analyses need (aligned; one entry per call)."""

    received: npt.NDArray[np.datetime64]
    dispatched: npt.NDArray[np.datetime64]
    arrived: npt.NDArray[np.datetime64]
    priority_code: npt.NDArray[np.int32]  # into `priorities`
    priorities: tuple[str | None, ...]  # None (no priority) first
    month_index: npt.NDArray[np.int64]  # into `months`; -1 without a receipt time
    months: tuple[str, ...]  # 'YYYY-MM' local, the months that have a call, sorted
    officer: npt.NDArray[np.bool_]
    public: npt.NDArray[np.bool_]
    eligible_by_type: npt.NDArray[np.bool_]
    eligible_after_screening: npt.NDArray[np.bool_]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]


def _filled(values: Any, fill: Any) -> Any:
    return np.ma.filled(values, fill) if isinstance(values, np.ma.MaskedArray) else values


def _read_calls(
    con: duckdb.DuckDBPyConnection, timezone: str, eligible_tiers: Sequence[Tier]
) -> _Calls:
    priorities = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT priority FROM classified WHERE priority IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    local = "timezone($tz, received_at)"
    select = (
        "SELECT received_at, dispatched_at, arrived_at, "
        "CAST(coalesce(list_position($priorities, priority), 0) AS INTEGER) AS priority_code, "
        f"coalesce(CAST(year({local}) * 12 + month({local}) - 1 AS INTEGER), -1) AS month_code, "
        "initiation = 'officer' AS officer, "
        "initiation = 'public' AS public, "
        "initiation = 'public' AND list_contains($tiers, tier) AS by_type, "
        "initiation = 'public' AND list_contains($tiers, tier) AND NOT screened_out AS screened, "
        "lon, lat FROM classified "
    )
    parameters = {"tz": timezone, "priorities": priorities, "tiers": list(eligible_tiers)}
    fills = {
        "received_at": np.datetime64("NaT", "us"),
        "dispatched_at": np.datetime64("NaT", "us"),
        "arrived_at": np.datetime64("NaT", "us"),
        "priority_code": 0,
        "month_code": -1,
        "officer": False,
        "public": False,
        "by_type": False,
        "screened": False,
        "lon": np.nan,
        "lat": np.nan,
    }
    # In input order (row_number): the classification's joins may reorder rows between
    # runs, and the bootstrap's resamples depend on the order of the calls. Read in slices
    # of row numbers so that DuckDB never holds the whole result beside numpy's copy.
    bounds = con.execute("SELECT min(row_number), max(row_number) FROM classified").fetchone()
    assert bounds is not None  # noqa: S101 (an aggregate always returns a row)
    slices: list[tuple[str, dict[str, Any]]] = []
    if bounds[0] is not None:
        first, last = int(bounds[0]), int(bounds[1])
        for low in range(first, last + 1, _READ_SLICE):
            slices.append(
                (
                    "WHERE row_number >= $low AND row_number < $high ORDER BY row_number",
                    {"low": low, "high": min(low + _READ_SLICE, last + 1)},
                )
            )
    slices.append(("WHERE row_number IS NULL", {}))
    parts: dict[str, list[Any]] = {name: [] for name in fills}
    for where, bound in slices:
        chunk = con.execute(select + where, {**parameters, **bound}).fetchnumpy()
        if len(chunk["lon"]):
            for name, fill in fills.items():
                parts[name].append(np.asarray(_filled(chunk[name], fill)))
        del chunk
    data: dict[str, Any] = {}
    for name, fill in fills.items():
        found = parts.pop(name)
        data[name] = np.concatenate(found) if found else np.array([], np.asarray(fill).dtype)
    month_code = data.pop("month_code")
    distinct = np.unique(month_code[month_code >= 0])
    month_index = np.where(month_code >= 0, np.searchsorted(distinct, month_code), -1)
    del month_code
    nat = np.datetime64("NaT", "us")
    return _Calls(
        received=np.asarray(_filled(data["received_at"], nat), dtype="datetime64[us]"),
        dispatched=np.asarray(_filled(data["dispatched_at"], nat), dtype="datetime64[us]"),
        arrived=np.asarray(_filled(data["arrived_at"], nat), dtype="datetime64[us]"),
        priority_code=np.asarray(data["priority_code"], dtype=np.int32),
        priorities=(None, *priorities),
        month_index=month_index.astype(np.int64),
        months=tuple(f"{m // 12:04d}-{m % 12 + 1:02d}" for m in distinct.tolist()),
        officer=np.asarray(_filled(data["officer"], False), dtype=bool),
        public=np.asarray(_filled(data["public"], False), dtype=bool),
        eligible_by_type=np.asarray(_filled(data["by_type"], False), dtype=bool),
        eligible_after_screening=np.asarray(_filled(data["screened"], False), dtype=bool),
        lon=np.asarray(_filled(data["lon"], np.nan), dtype=np.float64),
        lat=np.asarray(_filled(data["lat"], np.nan), dtype=np.float64),
    )


# ---------------------------------------------------------------------------------------------
# Suppression helpers


def _count(value: int | None, threshold: int) -> int | None:
    """A count as published: None when under the threshold."""
    return None if value is None or value < threshold else int(value)


def _share(part: int, whole: int, threshold: int) -> float | None:
    """A share as published: None when the part or the rest is under the threshold.

    The rest counts too: with the whole published, a share near 1 would reveal a small rest.
    """
    if whole <= 0 or part < threshold or (0 < whole - part < threshold):
        return None
    return part / whole


def _rounded(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


# ---------------------------------------------------------------------------------------------
# The analysis


def analyze(
    normalised: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str],
    threshold: int = 10,
    seed: int = 0,
    n_boot: int = 200,
    permutations: int = 9999,
    alpha: float = 0.05,
    city: str | None = None,
    timezone: str = "America/Los_Angeles",
    eligible_tiers: Sequence[Tier] = DEFAULT_ELIGIBLE_TIERS,
    memory_limit: str = "2GB",
    progress: ProgressCallback | None = None,
) -> AnalysisResult:
    """Run the lab's analyses on a normalised call table and write the aggregates.

    Args:
        normalised: the Parquet file written by `csas.analysis.safety.ingest.ingest`.
        out_dir: the folder to write `OUTPUT_FILES` to (created if missing; files of an
            earlier run are replaced).
        threshold: every published count under this is withheld (10: csas's privacy rule).
        seed: seed of the response-time bootstrap and the hot-spot permutations.
        n_boot: bootstrap resamples for the response-time intervals.
        permutations: conditional permutations per block group for Gi*.
        alpha: false discovery rate of the hot-spot classification.
        city: match call types to this city's crosswalk entries only (None: every city's;
            ``Seattle`` for the synthetic data's Seattle call types gives the same answers).
        timezone: the IANA zone months, weekdays and hours are local to.
        eligible_tiers: tiers counted as eligible (default community-only, community-led).
        memory_limit: DuckDB's memory limit.
        progress: called with the name of each step as it starts.

    Raises:
        PipelineError: the input is missing or not a normalised call table.
        ValueError: a parameter is out of range (the message names it).
    """
    started = time.perf_counter()
    source = Path(normalised)
    target = Path(out_dir)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"threshold must be a positive whole number, got {threshold!r}")
    if target.exists() and not target.is_dir():
        raise PipelineError(f"{target}: exists and is not a folder")

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    with contextlib.closing(
        duckdb.connect(":memory:", config={"memory_limit": memory_limit})
    ) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        step("read")
        _check_input(con, source)
        con.execute(
            "CREATE VIEW calls AS SELECT row_number, received_at, dispatched_at, arrived_at, "
            "call_type, priority, initiated_by, initiated_raw, lon, lat, "
            "json_extract_string(extra, '$.synthetic') = 'yes' AS synthetic "
            f"FROM read_parquet({_literal(str(source))})"
        )
        step("classify")
        taxonomy = load_taxonomy()
        classified = classify_calls(con, "calls", taxonomy=taxonomy, city=city, into="classified")
        ranges: dict[str, EligibilityRange] = {
            population: eligibility_range(
                con,
                "classified",
                eligible_tiers=tuple(eligible_tiers),
                population=population,
            )
            for population in _POPULATIONS
        }
        split = initiation_split(con, "classified", taxonomy=taxonomy, city=city)
        row = con.execute(
            "SELECT count(*), count(*) FILTER (synthetic), min(received_at), max(received_at), "
            "count(*) FILTER (received_at IS NULL) FROM classified"
        ).fetchone()
        assert row is not None  # noqa: S101 (an aggregate always returns a row)
        n_calls, n_synthetic = int(row[0]), int(row[1])
        received_from = row[2].isoformat() if row[2] is not None else None
        received_to = row[3].isoformat() if row[3] is not None else None
        n_no_time = int(row[4])
        calls = _read_calls(con, timezone, eligible_tiers)

    step("geography")
    tacoma = _tacoma()
    block_groups = tacoma.areas[BLOCK_GROUPS.key]
    populations = tacoma.population
    assignments = {
        key: assign_points(calls.lon, calls.lat, areas) for key, areas in tacoma.areas.items()
    }
    bg_assignment = assignments[BLOCK_GROUPS.key]

    step("rates")
    timed = calls.month_index >= 0
    n_months = len(calls.months)
    rate_tables: dict[str, RateTable] = {}
    for geography in DISTRICTS:
        assignment = assignments[geography.key]
        inside = timed & (assignment.area_index >= 0)
        cell = assignment.area_index[inside] * n_months + calls.month_index[inside]
        counts = np.bincount(cell, minlength=len(assignment.codes) * n_months)
        no_area = np.bincount(calls.month_index[timed & ~inside], minlength=n_months)
        rate_tables[geography.key] = rates_from_counts(
            counts.reshape(len(assignment.codes), n_months),
            calls.months,
            {code: populations[geography.key][code] for code in assignment.codes},
            no_area_by_month=dict(zip(calls.months, no_area.tolist(), strict=True)),
            threshold=threshold,
        )

    step("response times")
    not_officer = ~calls.officer
    districts = assignments["council_district"]
    # Codes, not one Python string per call: index -2 (no location) and -1 (outside every
    # district) pick the two empty labels at the end, as `Assignment.point_codes` does.
    district_labels = [str(code) for code in np.array([*districts.codes, "", ""])]
    times = response_times_from_codes(
        calls.received[not_officer],
        calls.dispatched[not_officer],
        calls.arrived[not_officer],
        calls.priority_code[not_officer],
        calls.priorities,
        districts.area_index[not_officer],
        district_labels,
        n_boot=n_boot,
        seed=seed,
    )

    step("time of day")
    profiles = {
        "by_type": eligible_time_profile(
            calls.received, calls.eligible_by_type, timezone=timezone, threshold=threshold
        ),
        "after_screening": eligible_time_profile(
            calls.received, calls.eligible_after_screening, timezone=timezone, threshold=threshold
        ),
    }

    step("eligibility by area")
    by_area = {
        geography.key: eligibility_by_area(
            calls.public,
            calls.eligible_by_type,
            calls.eligible_after_screening,
            assignments[geography.key].area_index,
            assignments[geography.key].codes,
            threshold=threshold,
        )
        for geography in DISTRICTS
    }
    council = assignments["council_district"]
    weeks = {
        definition: eligible_week_by_area(
            calls.received,
            flags,
            council.area_index,
            council.codes,
            timezone=timezone,
            threshold=threshold,
        )
        for definition, flags in (
            ("by_type", calls.eligible_by_type),
            ("after_screening", calls.eligible_after_screening),
        )
    }

    step("hot spots")
    neighbours = polygon_neighbours([a.geometry for a in block_groups], rule="queen")
    inside = bg_assignment.area_index >= 0
    bg_counts = {
        "all_calls": bg_assignment.counts.astype(np.float64),
        "eligible_after_screening": np.bincount(
            bg_assignment.area_index[inside & calls.eligible_after_screening],
            minlength=len(block_groups),
        ).astype(np.float64),
    }
    hotspots: dict[str, Any] = {}
    for measure, values in bg_counts.items():
        if values.sum() > 0 and not np.all(values == values[0]):
            hotspots[measure] = gi_star(
                values,
                neighbours,
                transform="B",
                permutations=permutations,
                seed=seed,
                alpha=alpha,
            )

    step("write")
    summary = _summary(
        source=source,
        n_calls=n_calls,
        n_synthetic=n_synthetic,
        n_no_time=n_no_time,
        received=(received_from, received_to),
        threshold=threshold,
        parameters={
            "threshold": threshold,
            "seed": seed,
            "n_boot": n_boot,
            "permutations": permutations,
            "alpha": alpha,
            "city": city,
            "timezone": timezone,
            "eligible_tiers": list(eligible_tiers),
        },
        assignments=assignments,
        populations=populations,
        rate_tables=rate_tables,
        times=times,
        ranges=ranges,
        split=split,
        calls_by_tier=dict(classified.calls_by_tier),
        profiles=profiles,
        hotspots=hotspots,
        block_groups=block_groups,
        by_area=by_area,
        weeks=weeks,
    )
    files = _write_outputs(
        target,
        summary=summary,
        rate_tables=rate_tables,
        times=times,
        ranges=ranges,
        profiles=profiles,
        hotspots=hotspots,
        bg_counts=bg_counts,
        block_groups=block_groups,
        threshold=threshold,
        by_area=by_area,
        weeks=weeks,
    )
    return AnalysisResult(
        out_dir=str(target),
        files=files,
        calls=n_calls,
        synthetic_rows=n_synthetic,
        seconds=round(time.perf_counter() - started, 3),
        summary=summary,
    )


def _literal(text: str) -> str:
    """A SQL string literal (for a path in a CREATE VIEW, which cannot take parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _range_dict(found: EligibilityRange, threshold: int) -> dict[str, Any]:
    n = found.n
    return {
        "population": found.population,
        "n": _count(n, threshold),
        "eligible_tiers": list(found.eligible_tiers),
        "eligible_by_type": _count(found.eligible_by_type, threshold),
        "eligible_after_screening": _count(found.eligible_after_screening, threshold),
        "not_assessed": _count(found.not_assessed, threshold),
        "share_by_type": _rounded(_share(found.eligible_by_type, n, threshold)),
        "share_after_screening": _rounded(_share(found.eligible_after_screening, n, threshold)),
        "share_not_assessed": _rounded(_share(found.not_assessed, n, threshold)),
        "left_out_officer": _count(found.left_out_officer, threshold),
        "left_out_unknown": _count(found.left_out_unknown, threshold),
        # The rule's text states n; a small n is withheld there too.
        "rule": found.rule if n >= threshold else found.rule.replace(f"n = {n}", "n withheld"),
    }


def _profile_summary(profile: TimeProfile) -> dict[str, Any]:
    shown = [c for c in profile.by_hour if c.count is not None]
    peak = sorted(shown, key=lambda c: (-(c.count or 0), c.hour or 0))[:3]
    return {
        "n_eligible": profile.n_eligible,
        "peak_hours": [
            {"hour": c.hour, "count": c.count, "share": _rounded(c.share)} for c in peak
        ],
        "by_hour": [
            {"hour": c.hour, "count": c.count, "share": _rounded(c.share)} for c in profile.by_hour
        ],
        "by_weekday": [
            {"weekday": c.weekday, "count": c.count, "share": _rounded(c.share)}
            for c in profile.by_weekday
        ],
        "cells_suppressed_primary": profile.n_suppressed_primary,
        "cells_suppressed_complementary": profile.n_suppressed_complementary,
        "method": profile.method,
    }


def _summary(
    *,
    source: Path,
    n_calls: int,
    n_synthetic: int,
    n_no_time: int,
    received: tuple[str | None, str | None],
    threshold: int,
    parameters: dict[str, Any],
    assignments: Mapping[str, Assignment],
    populations: Mapping[str, Mapping[str, float]],
    rate_tables: Mapping[str, RateTable],
    times: ResponseTimeTable,
    ranges: Mapping[str, EligibilityRange],
    split: InitiationSplit,
    calls_by_tier: Mapping[str, int],
    profiles: Mapping[str, TimeProfile],
    hotspots: Mapping[str, Any],
    block_groups: Sequence[Area],
    by_area: Mapping[str, EligibilityByArea],
    weeks: Mapping[str, AreaWeekProfile],
) -> dict[str, Any]:
    geography = {}
    for key, assignment in assignments.items():
        label = BLOCK_GROUPS.label
        for district in DISTRICTS:
            if district.key == key:
                label = district.label
        geography[key] = {
            "label": label,
            "areas": len(assignment.codes),
            "assigned": _count(assignment.n_assigned, threshold),
            "outside_every_area": _count(assignment.n_outside, threshold),
            "without_location": _count(assignment.n_missing, threshold),
            "population": round(sum(populations[key].values())),
            "method": assignment.method,
        }
    citywide = [
        {
            "priority": r.priority,
            "interval": r.interval,
            "n": _count(r.n, threshold),
            "median": _rounded(r.median, 2) if r.n >= threshold else None,
            "median_low": _rounded(r.median_low, 2) if r.n >= threshold else None,
            "median_high": _rounded(r.median_high, 2) if r.n >= threshold else None,
            "p90": _rounded(r.p90, 2) if r.n >= threshold else None,
        }
        for r in times.rows
        if r.area is None
    ]
    hot = {}
    codes = [a.code for a in block_groups]
    for measure, result in hotspots.items():
        order = np.argsort(-result.z, kind="stable")
        hot[measure] = {
            "n_hot": result.n_hot,
            "n_cold": result.n_cold,
            "hot_block_groups": [codes[i] for i in order if result.classification[i] == "hot"],
            "cold_block_groups": [
                codes[i] for i in order[::-1] if result.classification[i] == "cold"
            ],
            "method": result.method,
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "synthetic": n_synthetic > 0,
        "input": {
            "file": source.name,
            "calls": _count(n_calls, threshold),
            "synthetic_rows": _count(n_synthetic, threshold),
            "without_receipt_time": _count(n_no_time, threshold),
            "received_from": received[0],
            "received_to": received[1],
        },
        "parameters": parameters,
        "suppression": (
            f"every count under {threshold} is withheld (null / empty), with every figure "
            "derived from it; time-of-day cells also get complementary suppression"
        ),
        "geography": geography,
        "eligibility": {key: _range_dict(found, threshold) for key, found in ranges.items()},
        "initiation": {
            "officer": _count(split.officer, threshold),
            "public": _count(split.public, threshold),
            "unknown": _count(split.unknown, threshold),
            "method": split.method,
        },
        "calls_by_tier": {tier: _count(n, threshold) for tier, n in calls_by_tier.items()},
        "time_profile": {key: _profile_summary(p) for key, p in profiles.items()},
        "rates": {
            key: {
                "areas": len(table.areas),
                "months": list(table.months),
                "cells_suppressed": sum(1 for c in table.cells if c.suppressed),
                "cells": len(table.cells),
                "method": table.method,
            }
            for key, table in rate_tables.items()
        },
        "response_times": {
            "population": "calls not started by an officer (public and unknown)",
            "citywide": citywide,
            "excluded": {
                interval: {reason: _count(n, threshold) for reason, n in reasons.items()}
                for interval, reasons in times.excluded.items()
            },
            "method": times.method,
        },
        "hotspots": hot,
        "eligibility_by_area": {
            key: {
                "areas": len(found.rows),
                "areas_with_a_figure_withheld": sum(1 for r in found.rows if r.suppressed),
                "method": found.method,
            }
            for key, found in by_area.items()
        },
        "time_by_district": {
            definition: {
                "cells": int(week.state.size),
                "cells_withheld": int(np.count_nonzero(week.state)),
                "method": week.method,
            }
            for definition, week in weeks.items()
        },
        "files": dict(OUTPUT_FILES),
    }


# ---------------------------------------------------------------------------------------------
# Writing


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else round(value, 6)
    return value


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(v) for v in row])


def _response_row(row: ResponseTimeRow, threshold: int) -> list[object]:
    head: list[object] = [row.priority, row.area or "citywide", row.interval]
    if row.n < threshold:
        return [*head, *([None] * 10), True]
    figures = (row.median, row.median_low, row.median_high, row.p90, row.p90_low, row.p90_high)
    ratio = (row.ratio_to_city, row.ratio_low, row.ratio_high)
    return [*head, row.n, *figures, *ratio, False]


def _write_outputs(
    target: Path,
    *,
    summary: Mapping[str, Any],
    rate_tables: Mapping[str, RateTable],
    times: ResponseTimeTable,
    ranges: Mapping[str, EligibilityRange],
    profiles: Mapping[str, TimeProfile],
    hotspots: Mapping[str, Any],
    bg_counts: Mapping[str, npt.NDArray[np.float64]],
    block_groups: Sequence[Area],
    threshold: int,
    by_area: Mapping[str, EligibilityByArea],
    weeks: Mapping[str, AreaWeekProfile],
) -> tuple[str, ...]:
    target.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".csas-analysis-", dir=target))
    try:
        (work / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for key, table in rate_tables.items():
            _write_csv(
                work / f"rates_{key}.csv",
                [
                    "area",
                    "month",
                    "count",
                    "rate_per_1000",
                    "rate_low",
                    "rate_high",
                    "suppressed",
                ],
                (
                    [c.area, c.month, c.count, c.rate, c.rate_low, c.rate_high, c.suppressed]
                    for c in table.cells
                ),
            )
        without_area: list[list[object]] = []
        for key, table in rate_tables.items():
            for month in table.months:
                shown = _count(table.no_area_by_month.get(month, 0), threshold)
                without_area.append([key, month, shown, shown is None])
        _write_csv(
            work / "calls_without_area.csv",
            ["geography", "month", "count", "suppressed"],
            without_area,
        )
        _write_csv(
            work / "response_times.csv",
            [
                "priority",
                "council_district",
                "interval",
                "n",
                "median_min",
                "median_low",
                "median_high",
                "p90_min",
                "p90_low",
                "p90_high",
                "ratio_to_city",
                "ratio_low",
                "ratio_high",
                "suppressed",
            ],
            (_response_row(r, threshold) for r in times.rows),
        )
        (work / "eligibility.json").write_text(
            json.dumps(
                {k: _range_dict(v, threshold) for k, v in ranges.items()},
                indent=2,
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )
        profile_rows: list[list[object]] = []
        for key, profile in profiles.items():
            for c in (*profile.cells, *profile.by_hour, *profile.by_weekday):
                profile_rows.append(
                    [
                        key,
                        c.weekday or "all",
                        "all" if c.hour is None else c.hour,
                        c.count,
                        c.share,
                        c.suppressed,
                        c.suppression,
                    ]
                )
        _write_csv(
            work / "eligible_time_profile.csv",
            ["definition", "weekday", "hour", "count", "share", "suppressed", "suppression"],
            profile_rows,
        )
        hotspot_rows: list[list[object]] = []
        for measure, result in hotspots.items():
            counts = bg_counts[measure]
            for i, area in enumerate(block_groups):
                shown = counts[i] >= threshold
                hotspot_rows.append(
                    [measure, area.code, int(counts[i]) if shown else None]
                    + (
                        [result.z[i], result.p_permutation[i], result.q[i]]
                        if shown and result.p_permutation is not None
                        else [None, None, None]
                    )
                    + [str(result.classification[i]), not shown]
                )
        _write_csv(
            work / "hotspots_block_groups.csv",
            ["measure", "geoid", "count", "z", "p", "q", "classification", "suppressed"],
            hotspot_rows,
        )
        _write_csv(
            work / "eligibility_by_area.csv",
            ELIGIBILITY_BY_AREA_HEADER,
            (
                [
                    key,
                    r.area,
                    r.calls,
                    r.eligible_by_type,
                    r.eligible_after_screening,
                    _rounded(r.share_by_type),
                    _rounded(r.share_after_screening),
                    r.suppressed,
                ]
                for key, found in by_area.items()
                for r in found.rows
            ),
        )
        _write_csv(
            work / "eligible_time_by_district.csv",
            TIME_BY_DISTRICT_HEADER,
            (
                [
                    definition,
                    area,
                    hour,
                    week.published(i, hour),
                    week.published(i, hour) is None,
                    week.suppression(i, hour),
                ]
                for definition, week in weeks.items()
                for i, area in enumerate(week.areas)
                for hour in range(168)
            ),
        )
        written = []
        for name in OUTPUT_FILES:
            os.replace(work / name, target / name)
            written.append(str(target / name))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tuple(written)


# ---------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class Section:
    """One table of the report: a title, the column headings and the rows, as text."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _section(title: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Section:
    return Section(title, tuple(header), tuple(tuple(row) for row in rows))


@dataclass(frozen=True)
class Report:
    """A report written by `write_report`.

    Fields:
        markdown_path, html_path: the files written.
        summary: the ``summary.json`` it was built from.
        sections: the report's tables, for a caller to print.
    """

    markdown_path: str
    html_path: str
    summary: Mapping[str, Any]
    sections: tuple[Section, ...]


def load_summary(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``summary.json`` of an `analyze` output folder.

    Raises:
        PipelineError: the folder or the file is missing, or the file is not a summary.
    """
    folder = Path(out_dir)
    if not folder.is_dir():
        raise PipelineError(f"{folder}: no such folder; run `csas safety analyze` first")
    path = folder / "summary.json"
    if not path.is_file():
        raise PipelineError(
            f"{folder}: no summary.json; expected the output folder of `csas safety analyze`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PipelineError(f"{path}: not a JSON file ({error})") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise PipelineError(
            f"{path}: not a csas analysis summary of schema version {SCHEMA_VERSION}"
        )
    return data


def _percent(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "withheld"
    return f"{float(value) * 100:.1f}%"


def _number(value: object, digits: int = 1) -> str:
    if isinstance(value, bool) or value is None:
        return "withheld"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _sections(summary: Mapping[str, Any], folder: Path) -> list[Section]:
    data = summary["input"]
    sections = [
        _section(
            "Data",
            ("Item", "Value"),
            [
                ("Input file", str(data["file"])),
                ("Calls", _number(data["calls"])),
                ("Synthetic rows", _number(data["synthetic_rows"])),
                ("Received from (UTC)", str(data["received_from"])),
                ("Received to (UTC)", str(data["received_to"])),
                *(
                    (
                        f"{g['label']}: outside every area / no location",
                        f"{_number(g['outside_every_area'])} / {_number(g['without_location'])}",
                    )
                    for g in summary["geography"].values()
                ),
            ],
        ),
        _section(
            "Share of calls eligible for an alternative response",
            ("Population", "Calls", "After screening (low)", "By type (high)", "Not assessed"),
            [
                (
                    str(found["population"]),
                    _number(found["n"]),
                    _percent(found["share_after_screening"]),
                    _percent(found["share_by_type"]),
                    _percent(found["share_not_assessed"]),
                )
                for found in summary["eligibility"].values()
            ],
        ),
        _section(
            "Who started the calls",
            ("Officer", "Public", "Unknown"),
            [[_number(summary["initiation"][k]) for k in ("officer", "public", "unknown")]],
        ),
    ]
    profile = summary["time_profile"]["after_screening"]
    sections.append(
        _section(
            "When eligible calls (after screening) arrive: busiest hours",
            ("Hour", "Calls", "Share"),
            [
                (
                    f"{p['hour']:02d}:00-{p['hour']:02d}:59",
                    _number(p["count"]),
                    _percent(p["share"]),
                )
                for p in profile["peak_hours"]
            ],
        )
    )
    sections.append(
        _section(
            "Eligible calls (after screening) by day of week",
            [str(d["weekday"]) for d in profile["by_weekday"]],
            [[_number(d["count"]) for d in profile["by_weekday"]]],
        )
    )
    sections.append(
        _section(
            "Response times, citywide (minutes, calls not started by an officer)",
            ("Priority", "Interval", "Calls", "Median [95% CI]", "90th percentile"),
            [
                (
                    str(r["priority"]),
                    str(r["interval"]),
                    _number(r["n"]),
                    f"{_number(r['median'])} [{_number(r['median_low'])}-"
                    f"{_number(r['median_high'])}]"
                    if r["median"] is not None
                    else "withheld",
                    _number(r["p90"]),
                )
                for r in summary["response_times"]["citywide"]
            ],
        )
    )
    rates = folder / "rates_council_district.csv"
    if rates.is_file():
        with rates.open(encoding="utf-8", newline="") as handle:
            cells = list(csv.DictReader(handle))
        months = sorted({c["month"] for c in cells})
        areas = list(dict.fromkeys(c["area"] for c in cells))
        lookup = {(c["area"], c["month"]): c["rate_per_1000"] for c in cells}
        sections.append(
            _section(
                "Calls per 1,000 residents by council district and month",
                ("District", *months),
                [
                    (
                        area,
                        *(
                            f"{float(lookup[(area, m)]):.1f}" if lookup.get((area, m)) else "-"
                            for m in months
                        ),
                    )
                    for area in areas
                ],
            )
        )
    sections.append(
        _section(
            "Hot spots on block groups (Gi*, FDR-controlled)",
            ("Calls", "Hot", "Cold", "Strongest hot block groups"),
            [
                (
                    measure.replace("_", " "),
                    str(found["n_hot"]),
                    str(found["n_cold"]),
                    ", ".join(found["hot_block_groups"][:5]) or "none",
                )
                for measure, found in summary["hotspots"].items()
            ],
        )
    )
    return sections


_SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: these figures come from made-up calls written by `csas safety synth`, "
    "not from real Tacoma calls for service. Use them to try the tools, never as findings."
)
_TITLE = "Calls for service: analysis report"


def _methods(summary: Mapping[str, Any]) -> list[str]:
    texts = [
        f"Eligibility ({found['population']}): {found['rule']}"
        for found in summary["eligibility"].values()
    ]
    texts.append(f"Time of day: {summary['time_profile']['after_screening']['method']}.")
    texts.append(f"Rates: {summary['rates']['council_district']['method']}.")
    texts.append(f"Response times: {summary['response_times']['method']}.")
    texts += [
        f"Hot spots ({key.replace('_', ' ')}): {found['method']}."
        for key, found in summary["hotspots"].items()
    ]
    return texts


def _markdown(summary: Mapping[str, Any], sections: Sequence[Section]) -> str:
    def cells(values: Iterable[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    lines = [f"# {_TITLE}", ""]
    if summary["synthetic"]:
        lines += [f"> **{_SYNTHETIC_BANNER}**", ""]
    lines += [f"_{summary['suppression']}._", ""]
    for section in sections:
        lines += [f"## {section.title}", "", cells(section.header)]
        lines.append("|" + "---|" * len(section.header))
        lines += [cells(row) for row in section.rows]
        lines.append("")
    lines += ["## Methods", "", *(f"- {text}" for text in _methods(summary)), ""]
    return "\n".join(lines)


def _html(summary: Mapping[str, Any], sections: Sequence[Section]) -> str:
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(_TITLE)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem}table{border-collapse:collapse;margin-bottom:1.5rem}"
        "th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left}"
        ".synthetic{border:3px solid #b00;padding:1rem;font-weight:bold}</style>",
        "</head><body>",
        f"<h1>{e(_TITLE)}</h1>",
    ]
    if summary["synthetic"]:
        parts.append(f'<p class="synthetic" role="alert">{e(_SYNTHETIC_BANNER)}</p>')
    parts.append(f"<p><em>{e(summary['suppression'])}.</em></p>")
    for section in sections:
        parts.append(f"<h2>{e(section.title)}</h2><table><thead><tr>")
        parts += [f'<th scope="col">{e(h)}</th>' for h in section.header]
        parts.append("</tr></thead><tbody>")
        parts += [
            "<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in section.rows
        ]
        parts.append("</tbody></table>")
    parts += ["<h2>Methods</h2><ul>", *(f"<li>{e(t)}</li>" for t in _methods(summary)), "</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(out_dir: str | os.PathLike[str]) -> Report:
    """Write ``report.md`` and ``report.html`` into an `analyze` output folder.

    Raises:
        PipelineError: the folder is not an `analyze` output folder, or its summary is
            damaged.
    """
    folder = Path(out_dir)
    summary = load_summary(folder)
    try:
        sections = _sections(summary, folder)
        markdown_text = _markdown(summary, sections)
        html_text = _html(summary, sections)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PipelineError(
            f"{folder / 'summary.json'}: incomplete or damaged ({error!r}); run "
            "`csas safety analyze` again"
        ) from None
    markdown = folder / "report.md"
    page = folder / "report.html"
    markdown.write_text(markdown_text, encoding="utf-8")
    page.write_text(html_text, encoding="utf-8")
    return Report(
        markdown_path=str(markdown), html_path=str(page), summary=summary, sections=tuple(sections)
    )


__all__ = [
    "ADDED_FILES",
    "DISTRICTS",
    "ELIGIBILITY_BY_AREA_HEADER",
    "OUTPUT_FILES",
    "TIME_BY_DISTRICT_HEADER",
    "AnalysisResult",
    "Geography",
    "PipelineError",
    "Report",
    "Section",
    "analyze",
    "load_summary",
    "write_report",
]
