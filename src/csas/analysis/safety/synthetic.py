"""Synthetic Tacoma calls for service: realistic, deterministic, and labelled synthetic.

`generate_calls` writes a CSV or Parquet file of made-up 911/CAD calls for one year in
Tacoma, in the column layout of the shipped ``tacoma-synthetic`` ingestion profile, so that
``csas safety ingest FILE --profile tacoma-synthetic`` reads it. It exists to build and
test the safety data lab at any size without touching real calls. **Every row is marked**:
the ``synthetic`` column holds ``yes`` (ingestion keeps it in ``extra``), event ids start
with ``SYN-``, and a Parquet file carries ``synthetic: true`` in its key-value metadata.

What comes from real data, and what is invented:

* **Call types and their frequencies** (real, but Seattle's): Vera Institute / Two Sigma
  Data Clinic's counts of Seattle's ``Initial Call Type`` (``call_type_crosswalk.csv``,
  derived from the vendored workbook). Vera has no Tacoma data; Seattle is the nearest city
  it covers. Types Vera cut short (ending ``...``) are left out (under 1% of calls) and the
  rest renormalised. The final call type is, with probability 0.8, one of Seattle's
  ``Final Call Type`` values of the same category (by Vera's counts), otherwise any final
  type.
* **Who started the call** (calibrated to real counts): call types whose text says
  ``ONVIEW`` or ``OFFICER INITIATED`` are always officer-initiated, ``Statuses`` types
  (premise checks, directed patrol, follow-ups) 85% of the time, alarms never; the other
  types share one probability chosen so that the officer-initiated share matches Seattle's
  in Vera's ``SelfInitiated`` sheet (about 40%). Public calls come by ``911`` or
  ``TELEPHONE OTHER, NOT 911`` in Vera's proportions, alarm types by ``ALARM CALL``.
* **Dispositions** (real frequencies): Seattle's ``Event Clearance Description`` counts from
  the workbook's ``Disposition`` sheet.
* **Locations** (real geography): a block group is drawn from Tacoma's 169 Equity Index
  block groups with weight ``0.75 population share + 0.25 crime share`` (crime = the
  Equity Index's ``tacomapersonalcrime + tacomapropertycrime``), or ``0.3 / 0.7`` for call
  types of the ``police`` tier; then a point uniformly inside it (the polygon is split into
  triangles by constrained Delaunay triangulation; a triangle is drawn by area and a point
  uniformly in it). Coordinates are WGS84, rounded to 6 decimals (about 10 cm); a point that
  rounding moved off its block group is replaced by the block group's representative point.
* **Invented, plausible shapes** (documented assumptions, not Tacoma's figures): seasonality
  (a cosine, +/-8%, peaking in mid-July), day of week (Friday and Saturday busier), hour of
  day (quietest 4-6 a.m., busiest 3-7 p.m.; weekend small hours busier), with night-heavy
  categories (violence, domestic violence, liquor, noise and disturbance) and day-heavy
  ones (assisting the public, traffic, property crime reports, status offences) shifted
  accordingly; priorities 1-4 by call type (weapon, violence or in-progress types mostly 1;
  community-tier types mostly 3-4); response times by priority (log-normal: median dispatch
  delay 1, 4, 12, 30 minutes, longer in busy hours; median travel 5, 8, 10, 12 minutes;
  some calls never dispatched or cancelled en route); officer-initiated calls dispatched and
  on scene at once.

Determinism: the number of calls per day is drawn once from `seed` and `year`; each day's
calls then come from a random stream of their own (seeded by seed, year and day), so the
same arguments always give a byte-identical file, whatever `chunk_rows` is. Calls are
written in order of receipt, a chunk of whole days (about 100,000 calls by default) at a
time, so memory stays bounded (about 2 KB per row of a chunk, some 300 MB in all) for any
number of rows.

Deliberately bad rows, for testing the validation report, only when asked
(``bad_share``): a share of rows gets one defect each (`DEFECTS`), never two bad rows in a
row and never the first call of a day; `SyntheticReport.expected_ingest` says what
ingestion must report for them.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> report = generate_calls(200, seed=1, year=2024, out_path=folder / "calls.csv")
>>> report.rows, report.fmt, sum(report.defects.values())
(200, 'csv', 0)
>>> header = (folder / "calls.csv").read_text().splitlines()[0]
>>> header.split(",")[:3]
['synthetic', 'event_id', 'received_at']
"""

# SQL in this module is assembled only from csas's own fragments; values reach DuckDB as
# bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import json
import os
import shutil
import tempfile
import time
import uuid
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import duckdb
import numpy as np
import numpy.typing as npt
import openpyxl
import shapely
from scipy import special
from shapely.geometry import shape

from csas.analysis.safety.taxonomy import Tier, load_taxonomy

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

OutputFormat = Literal["csv", "parquet"]
Defect = Literal[
    "unparseable_timestamp",
    "missing_call_type",
    "unparseable_coordinates",
    "coordinates_out_of_range",
    "swapped_coordinates",
    "missing_coordinates",
    "duplicate_row",
    "duplicate_source_id",
    "arrival_before_receipt",
]
#: The kinds of deliberately bad row, each given to an equal share of the bad rows.
DEFECTS: tuple[Defect, ...] = get_args(Defect)

#: The ingestion profile that reads the generator's files.
SYNTHETIC_PROFILE = "tacoma-synthetic"
#: The value of the ``synthetic`` column on every row.
SYNTHETIC_MARK = "yes"
#: The city whose Vera call types and frequencies stand in for Tacoma's.
VERA_CITY = "Seattle"
#: Tacoma's time zone: hours of day and days are local to it.
TIMEZONE = "America/Los_Angeles"
#: The columns written, in order.
COLUMNS: tuple[str, ...] = (
    "synthetic",
    "event_id",
    "received_at",
    "dispatched_at",
    "arrived_at",
    "cleared_at",
    "initial_call_type",
    "final_call_type",
    "priority",
    "disposition",
    "call_source",
    "longitude",
    "latitude",
)
#: How the call reached the police, as in Seattle's "Call Type" column.
CALL_SOURCES: tuple[str, ...] = (
    "ONVIEW",
    "911",
    "TELEPHONE OTHER, NOT 911",
    "ALARM CALL (NOT POLICE ALARM)",
)
PRIORITIES: tuple[str, ...] = ("1", "2", "3", "4")

_CHUNK_ROWS = 100_000
_SAME_CATEGORY_FINAL = 0.8
_STATUS_OFFICER_SHARE = 0.85

# Invented shapes (see the module docstring). Hour 0 is midnight to 1 a.m., local time.
# fmt: off
_HOUR_PROFILE = np.array(
    [42, 36, 31, 25, 20, 19, 22, 29, 36, 41, 44, 46,
     47, 48, 50, 52, 53, 54, 53, 51, 50, 49, 48, 45],
    dtype=np.float64,
)
# fmt: on
_WEEKDAY_FACTOR = np.array([0.98, 0.97, 0.98, 0.99, 1.05, 1.04, 0.96])  # Monday first
_NIGHT_CATEGORIES = frozenset(
    {
        "Violent Crime",
        "Domestic Violence",
        "Liquor Violations",
        "Complaints/Environmental Conditions",
        "Officer Needs Help",
    }
)
_DAY_CATEGORIES = frozenset(
    {
        "Assisting the Public",
        "Accidents/Traffic Safety",
        "Traffic",
        "Property Crime",
        "Status Offenses",
    }
)
_URGENT_CATEGORIES = frozenset(
    {"Violent Crime", "Domestic Violence", "Officer Needs Help", "Sex Offenses"}
)
_MEDICAL_CATEGORIES = frozenset({"Medical Emergencies", "Fire"})
# Chance of priority 1, 2, 3, 4 by kind of call type.
_PRIORITY_MIX: Mapping[str, tuple[float, float, float, float]] = MappingProxyType(
    {
        "urgent": (0.55, 0.35, 0.08, 0.02),
        "medical": (0.45, 0.40, 0.12, 0.03),
        "police": (0.08, 0.47, 0.35, 0.10),
        "co-response": (0.05, 0.40, 0.42, 0.13),
        "community": (0.02, 0.23, 0.50, 0.25),
        "not-assessed": (0.03, 0.22, 0.40, 0.35),
    }
)
# By priority 1-4: chance of no dispatch, median dispatch delay (min), chance of a cancel
# en route, median travel (min), median time on scene (min).
_NO_DISPATCH = np.array([0.01, 0.03, 0.08, 0.15])
_DISPATCH_MEDIAN = np.array([1.0, 4.0, 12.0, 30.0])
_CANCELLED = np.array([0.02, 0.05, 0.08, 0.10])
_TRAVEL_MEDIAN = np.array([5.0, 8.0, 10.0, 12.0])
_ON_SCENE_MEDIAN = np.array([35.0, 30.0, 25.0, 20.0])
_DISPATCH_SIGMA, _TRAVEL_SIGMA, _ON_SCENE_SIGMA = 0.9, 0.5, 0.8
_UNDISPATCHED_MEDIAN = 15.0  # minutes to close a call handled without sending anyone

# Columns of the per-call uniform random numbers (one row per call).
(
    _U_TYPE,
    _U_HOUR,
    _U_SECOND,
    _U_OFFICER,
    _U_SOURCE,
    _U_PRIORITY,
    _U_FINAL_SAME,
    _U_FINAL,
    _U_DISPOSITION,
    _U_BLOCK_GROUP,
    _U_TRIANGLE,
    _U_TRI_A,
    _U_TRI_B,
    _U_NO_DISPATCH,
    _U_DISPATCH,
    _U_CANCEL,
    _U_TRAVEL,
    _U_ON_SCENE,
    _U_ONVIEW_LAG,
    _U_DEFECT,
    _U_DEFECT_KIND,
    _U_DEFECT_SIZE,
) = range(22)
_U_COLUMNS = 22


class SyntheticError(ValueError):
    """The generator was given arguments it cannot use; the message says which and why."""


@dataclass(frozen=True)
class SyntheticReport:
    """What `generate_calls` wrote.

    Fields:
        path: the file written.
        fmt: ``csv`` or ``parquet``.
        rows: rows written (bad rows included).
        seed, year: the arguments that fix the file's content.
        defects: bad rows written, by kind (every kind listed; all zero unless asked).
        received_from, received_to: first and last receipt time (ISO 8601, UTC).
        seconds: wall-clock time taken.
        sources: the data files the generator drew on.
    """

    path: str
    fmt: OutputFormat
    rows: int
    seed: int
    year: int
    defects: Mapping[str, int]
    received_from: str | None
    received_to: str | None
    seconds: float
    sources: tuple[str, ...]

    @property
    def expected_ingest(self) -> dict[str, Any]:
        """What ``ingest(path, profile="tacoma-synthetic")`` must report for the bad rows."""
        d = self.defects
        rejected = {
            "missing_required_field": d["missing_call_type"],
            "unparseable_timestamp": d["unparseable_timestamp"],
            "unparseable_coordinates": d["unparseable_coordinates"],
            "coordinates_out_of_range": d["coordinates_out_of_range"],
        }
        duplicates = {
            "duplicate_row": d["duplicate_row"],
            "duplicate_source_id": d["duplicate_source_id"],
        }
        return {
            "input_rows": self.rows,
            "kept_rows": self.rows - sum(rejected.values()) - sum(duplicates.values()),
            "rejected_by_reason": {k: v for k, v in rejected.items() if v},
            "duplicates_by_reason": {k: v for k, v in duplicates.items() if v},
            "kept_without_coordinates": d["missing_coordinates"],
            "coordinates_swapped": d["swapped_coordinates"],
        }


# ---------------------------------------------------------------------------------------------
# The model: what the generator draws from


@dataclass(frozen=True)
class SyntheticModel:
    """Everything the generator draws from, built once from the vendored data.

    Fields:
        type_names: Seattle's initial call types used (Vera's non-truncated ones).
        type_probability: each type's share of calls (Vera's counts, renormalised).
        type_category: index into `categories` of each type's category (-1: none).
        type_tier: each type's alternative-response tier.
        categories: the categories present.
        final_names: Seattle's final call types used.
        final_cdf: cumulative shares of the final types (Vera's counts).
        final_by_category: per category index, the final types of that category and their
            cumulative shares.
        priority_cdf: per type, cumulative chance of priority 1..4.
        officer_share: per type, the chance an officer started the call.
        alarm: per type, whether it is an alarm (public calls come from the alarm company).
        share_911: of public non-alarm calls, the share by 911 (Vera's counts).
        hour_group: per type, 0 (flat), 1 (night-heavy) or 2 (day-heavy).
        hour_cdf: (group, weekday, hour) cumulative chance of each local hour.
        load_factor: per hour, how much busier than average (slows dispatch).
        location_group: per type, 0 (population-led) or 1 (crime-led, police tier).
        block_groups: the block groups' GEOIDs.
        block_group_cdf: (location group, block group) cumulative weights.
        triangles: (n, 3, 2) triangle corners (lon, lat) of every block group.
        triangle_block_group: the block group of each triangle.
        triangle_start: per block group, its first triangle; triangles of one block group
            are contiguous.
        triangle_cdf: within each block group, cumulative area share of its triangles.
        fallback_points: (block groups, 2) a representative point inside each block group.
        block_group_geometries: the block groups' polygons (prepared), to check each point.
        dispositions: Seattle's dispositions; disposition_cdf their cumulative shares.
        officer_target: Seattle's officer-initiated share that `officer_share` matches.
        sources: the files read.
    """

    type_names: tuple[str, ...]
    type_probability: FloatArray
    type_category: IntArray
    type_tier: tuple[Tier, ...]
    categories: tuple[str, ...]
    final_names: tuple[str, ...]
    final_cdf: FloatArray
    final_by_category: Mapping[int, tuple[IntArray, FloatArray]]
    priority_cdf: FloatArray
    officer_share: FloatArray
    alarm: BoolArray
    share_911: float
    hour_group: IntArray
    hour_cdf: FloatArray
    load_factor: FloatArray
    location_group: IntArray
    block_groups: tuple[str, ...]
    block_group_cdf: FloatArray
    triangles: FloatArray
    triangle_block_group: IntArray
    triangle_start: IntArray
    triangle_cdf: FloatArray
    fallback_points: FloatArray
    block_group_geometries: npt.NDArray[np.object_]
    dispositions: tuple[str, ...]
    disposition_cdf: FloatArray
    officer_target: float
    sources: tuple[str, ...]


def _data_path(name: str) -> Path:
    return Path(str(resources.files("csas.data").joinpath(name)))


def _cdf(weights: npt.ArrayLike) -> FloatArray:
    values = np.asarray(weights, dtype=np.float64)
    cumulative = np.cumsum(values / values.sum())
    cumulative[-1] = 1.0
    return cumulative


def _pick(cdf: FloatArray, u: FloatArray) -> IntArray:
    """Index drawn from a cumulative distribution for each uniform number in [0, 1)."""
    return np.searchsorted(cdf, u, side="right").astype(np.int64)


def _priority_kind(category: str | None, tier: Tier, flagged: bool, injury: bool) -> str:
    if flagged or category in _URGENT_CATEGORIES:
        return "urgent"
    if injury or category in _MEDICAL_CATEGORIES:
        return "medical"
    if tier == "police":
        return "police"
    if tier == "co-response":
        return "co-response"
    if tier in ("community-only", "community-led"):
        return "community"
    return "not-assessed"


def _hour_cdf() -> FloatArray:
    """(group, weekday, hour) cumulative shares of the local hour of a call."""
    hours = np.arange(24)
    night = np.where(
        (hours >= 20) | (hours <= 3), 1.5, np.where((hours >= 7) & (hours <= 15), 0.75, 1.0)
    )
    day = np.where((hours >= 8) & (hours <= 17), 1.3, np.where(hours <= 5, 0.5, 1.0))
    groups = [np.ones(24), night, day]
    table = np.empty((3, 7, 24))
    for g, shape_ in enumerate(groups):
        for weekday in range(7):
            weights = _HOUR_PROFILE * shape_
            if weekday >= 5:  # Saturday and Sunday: the small hours after Friday and Saturday night
                weights = weights * np.where(hours <= 3, 1.6, 1.0)
            table[g, weekday] = _cdf(weights)
    return table


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _seattle_dispositions(workbook: Path) -> tuple[tuple[str, ...], FloatArray]:
    book = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
    try:
        sheet = book["Disposition"]
        counts: dict[str, float] = {}
        for number, row in enumerate(sheet.iter_rows(values_only=True)):
            if number == 0 or row[0] != VERA_CITY or row[2] is None:
                continue
            if isinstance(row[3], int | float) and row[3] > 0:
                name = str(row[2]).strip()
                counts[name] = counts.get(name, 0.0) + float(row[3])
    finally:
        book.close()
    if not counts:  # pragma: no cover (the vendored workbook has them)
        raise SyntheticError(f"{workbook.name}: no {VERA_CITY} dispositions in sheet Disposition")
    names = tuple(sorted(counts, key=lambda k: (-counts[k], k)))
    return names, _cdf([counts[k] for k in names])


@functools.cache
def load_model() -> SyntheticModel:
    """Build the generator's model from the vendored data (cached: built once per process)."""
    taxonomy = load_taxonomy()
    crosswalk = _data_path("safety/call_type_crosswalk.csv")
    initial = [
        e
        for e in taxonomy.entries
        if e.city == VERA_CITY
        and e.source_column == "Initial Call Type"
        and not e.truncated
        and e.calls > 0
    ]
    finals = [
        e
        for e in taxonomy.entries
        if e.city == VERA_CITY
        and e.source_column == "Final Call Type"
        and not e.truncated
        and e.calls > 0
    ]
    initial.sort(key=lambda e: (-e.calls, e.call_type))
    finals.sort(key=lambda e: (-e.calls, e.call_type))
    categories = tuple(sorted({e.category for e in [*initial, *finals] if e.category}))
    category_index = {c: i for i, c in enumerate(categories)}

    classes = [taxonomy.classify(e.call_type, city=VERA_CITY) for e in initial]
    type_category = np.array(
        [category_index.get(e.category, -1) if e.category else -1 for e in initial],
        dtype=np.int64,
    )
    tiers = tuple(c.tier for c in classes)
    priority_cdf = np.array(
        [
            np.cumsum(
                _PRIORITY_MIX[
                    _priority_kind(
                        c.category, c.tier, c.weapon or c.violence or c.in_progress, c.injury
                    )
                ]
            )
            for c in classes
        ]
    )
    priority_cdf[:, -1] = 1.0

    # Who starts the call, calibrated to Seattle's officer-initiated share.
    rows = _read_csv(_data_path("safety/self_initiated.csv"))
    seattle = [r for r in rows if r["city"] == VERA_CITY and r["calls"]]
    officer_calls = sum(int(r["calls"]) for r in seattle if r["self_initiated"] == "yes")
    target = officer_calls / sum(int(r["calls"]) for r in seattle)
    by_source = {r["value"]: int(r["calls"]) for r in seattle}
    share_911 = by_source["911"] / (by_source["911"] + by_source["TELEPHONE OTHER, NOT 911"])
    probability = np.array([e.calls for e in initial], dtype=np.float64)
    probability /= probability.sum()
    fixed = np.full(len(initial), np.nan)
    for i, entry in enumerate(initial):
        text = entry.call_type.upper()
        if "ONVIEW" in text or "OFFICER INITIATED" in text:
            fixed[i] = 1.0
        elif entry.category == "Alarms":
            fixed[i] = 0.0
        elif entry.category == "Statuses":
            fixed[i] = _STATUS_OFFICER_SHARE
    free = np.isnan(fixed)
    rest = (target - float((probability * np.nan_to_num(fixed))[~free].sum())) / float(
        probability[free].sum()
    )
    officer_share = np.where(free, float(np.clip(rest, 0.0, 0.9)), fixed)

    hour_group = np.array(
        [
            1 if e.category in _NIGHT_CATEGORIES else 2 if e.category in _DAY_CATEGORIES else 0
            for e in initial
        ],
        dtype=np.int64,
    )
    final_category = np.array(
        [category_index.get(e.category, -1) if e.category else -1 for e in finals], dtype=np.int64
    )
    final_calls = np.array([e.calls for e in finals], dtype=np.float64)
    final_by_category = {
        c: (members, _cdf(final_calls[members]))
        for c in range(len(categories))
        if (members := np.flatnonzero(final_category == c)).size
    }

    equity = _data_path("geo/tacoma/Equity_Index_2024.geojson")
    (
        block_groups,
        block_group_cdf,
        triangles,
        triangle_block_group,
        triangle_start,
        triangle_cdf,
        fallback,
        geometries,
    ) = _block_groups(equity)
    workbook = _data_path("safety/vera/CallTypes_TS.xlsx")
    dispositions, disposition_cdf = _seattle_dispositions(workbook)
    profile = _HOUR_PROFILE / _HOUR_PROFILE.mean()
    model = SyntheticModel(
        type_names=tuple(e.call_type for e in initial),
        type_probability=probability,
        type_category=type_category,
        type_tier=tiers,
        categories=categories,
        final_names=tuple(e.call_type for e in finals),
        final_cdf=_cdf(final_calls),
        final_by_category=MappingProxyType(final_by_category),
        priority_cdf=priority_cdf,
        officer_share=officer_share,
        alarm=np.array([e.category == "Alarms" for e in initial]),
        share_911=share_911,
        hour_group=hour_group,
        hour_cdf=_hour_cdf(),
        load_factor=np.sqrt(profile),
        location_group=np.array([t == "police" for t in tiers], dtype=np.int64),
        block_groups=block_groups,
        block_group_cdf=block_group_cdf,
        triangles=triangles,
        triangle_block_group=triangle_block_group,
        triangle_start=triangle_start,
        triangle_cdf=triangle_cdf,
        fallback_points=fallback,
        block_group_geometries=geometries,
        dispositions=dispositions,
        disposition_cdf=disposition_cdf,
        officer_target=target,
        sources=(
            str(crosswalk),
            str(_data_path("safety/self_initiated.csv")),
            str(workbook),
            str(equity),
            *taxonomy.sources[1:3],
        ),
    )
    # The model is shared by every call in the process (cached): nobody may change it.
    for value in vars(model).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    for members, cdf in model.final_by_category.values():
        members.flags.writeable = False
        cdf.flags.writeable = False
    return model


def _block_groups(
    path: Path,
) -> tuple[
    tuple[str, ...],
    FloatArray,
    FloatArray,
    IntArray,
    IntArray,
    FloatArray,
    FloatArray,
    npt.NDArray[np.object_],
]:
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    codes = tuple(str(f["properties"]["geoid20"]) for f in features)
    population = np.array([float(f["properties"]["population"] or 0) for f in features])
    crime = np.array(
        [
            float(f["properties"]["tacomapersonalcrime"] or 0)
            + float(f["properties"]["tacomapropertycrime"] or 0)
            for f in features
        ]
    )
    population_share = population / population.sum()
    crime_share = crime / crime.sum()
    weights = np.vstack(
        [0.75 * population_share + 0.25 * crime_share, 0.3 * population_share + 0.7 * crime_share]
    )
    cdf = np.vstack([_cdf(row) for row in weights])

    geometries = np.array([shape(f["geometry"]) for f in features], dtype=object)
    shapely.prepare(geometries)
    corners: list[FloatArray] = []
    owner: list[IntArray] = []
    start = np.zeros(len(features), dtype=np.int64)
    within: list[FloatArray] = []
    count = 0
    for index, geometry in enumerate(geometries):
        parts = shapely.get_parts(shapely.constrained_delaunay_triangles(geometry))
        coords = shapely.get_coordinates(parts).reshape(len(parts), 4, 2)[:, :3, :]
        start[index] = count
        count += len(parts)
        corners.append(coords)
        owner.append(np.full(len(parts), index, dtype=np.int64))
        within.append(_cdf(shapely.area(parts)))
    fallback = np.array(
        [_rounded_inside(g) for g in geometries],
        dtype=np.float64,
    )
    return (
        codes,
        cdf,
        np.concatenate(corners),
        np.concatenate(owner),
        start,
        np.concatenate(within),
        fallback,
        geometries,
    )


def _rounded_inside(geometry: Any) -> tuple[float, float]:
    point = geometry.representative_point()
    x, y = round(point.x, 6), round(point.y, 6)
    if not shapely.intersects_xy(geometry, x, y):  # pragma: no cover (holds for Tacoma)
        raise SyntheticError("a block group's representative point left it when rounded")
    return x, y


# ---------------------------------------------------------------------------------------------
# Time zones: local wall-clock seconds <-> UTC seconds


@dataclass(frozen=True)
class _Offsets:
    """A zone's UTC offset over a span: from instants[i] (UTC seconds) on, offsets[i]."""

    instants: IntArray
    offsets: IntArray

    @property
    def distinct(self) -> IntArray:
        """The offsets that occur, sorted."""
        found: IntArray = np.unique(self.offsets)
        return found

    def at(self, utc_seconds: IntArray) -> IntArray:
        index = np.searchsorted(self.instants, utc_seconds, side="right") - 1
        result: IntArray = self.offsets[np.clip(index, 0, None)]
        return result

    def to_utc(self, local_seconds: IntArray) -> IntArray:
        """UTC of local wall-clock times: in a repeated hour the first (daylight) reading,
        in a skipped hour the standard-time reading (as ingestion reads them)."""
        result = local_seconds - int(self.offsets.min())
        settled = np.zeros(local_seconds.shape, dtype=bool)
        for offset in sorted(set(self.offsets.tolist()), reverse=True):
            candidate = local_seconds - offset
            fits = ~settled & (self.at(candidate) == offset)
            result = np.where(fits, candidate, result)
            settled |= fits
        return result


def _offsets(zone: zoneinfo.ZoneInfo, first_year: int, last_year: int) -> _Offsets:
    def offset(moment: dt.datetime) -> int:
        delta = moment.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    start = dt.datetime(first_year - 1, 12, 25, tzinfo=dt.UTC)
    end = dt.datetime(last_year + 1, 1, 8, tzinfo=dt.UTC)
    instants = [int(start.timestamp())]
    values = [offset(start)]
    day = start
    step = dt.timedelta(days=1)
    while day < end:
        if offset(day) != offset(day + step):
            low, high = day, day + step
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == offset(low):
                    low = middle
                else:
                    high = middle
            instants.append(int(high.timestamp()))
            values.append(offset(high))
        day += step
    return _Offsets(np.array(instants, dtype=np.int64), np.array(values, dtype=np.int64))


# ---------------------------------------------------------------------------------------------
# Generation


def _days_per_year(year: int) -> int:
    return (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days


def _calls_per_day(n: int, seed: int, year: int) -> IntArray:
    days = _days_per_year(year)
    first = dt.date(year, 1, 1)
    weights = np.empty(days)
    for day in range(days):
        date = first + dt.timedelta(days=day)
        season = 1.0 + 0.08 * np.cos(2 * np.pi * (date.month - 7.5) / 12)
        weights[day] = season * _WEEKDAY_FACTOR[date.weekday()]
    rng = np.random.default_rng(np.random.SeedSequence([seed, year]))
    counts: IntArray = rng.multinomial(n, weights / weights.sum()).astype(np.int64)
    return counts


@dataclass
class _Chunk:
    """One chunk of calls, as arrays (times are UTC seconds; -1 means missing)."""

    event: IntArray
    received: IntArray
    dispatched: IntArray
    arrived: IntArray
    cleared: IntArray
    call_type: IntArray
    final_type: IntArray
    priority: IntArray
    disposition: IntArray
    source: IntArray
    lon: FloatArray
    lat: FloatArray
    defect: IntArray  # 0: none, else 1 + index into DEFECTS


def _day_uniforms(seed: int, year: int, day: int, count: int) -> FloatArray:
    rng = np.random.default_rng(np.random.SeedSequence([seed, year, day + 1]))
    uniforms: FloatArray = rng.random((count, _U_COLUMNS))
    return uniforms


def _normal(u: FloatArray) -> FloatArray:
    result: FloatArray = special.ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    return result


def _minutes(median: FloatArray, sigma: float, u: FloatArray) -> FloatArray:
    result: FloatArray = median * np.exp(sigma * _normal(u))
    return result


def _points(model: SyntheticModel, block_group: IntArray, u: FloatArray) -> FloatArray:
    """A point uniformly inside each call's block group, rounded to 6 decimals.

    `u` holds three uniform numbers per call: the triangle (by area, within the block
    group) and the point's two barycentric coordinates (folded into the triangle).
    """
    stops = np.append(model.triangle_start[1:], len(model.triangle_cdf))
    triangle = np.empty(block_group.size, dtype=np.int64)
    for index in np.unique(block_group).tolist():
        members = np.flatnonzero(block_group == index)
        first, last = int(model.triangle_start[index]), int(stops[index])
        local = np.searchsorted(model.triangle_cdf[first:last], u[members, 0], side="right")
        triangle[members] = first + np.minimum(local, last - first - 1)
    a, b = u[:, 1], u[:, 2]
    flip = a + b > 1
    a = np.where(flip, 1 - a, a)
    b = np.where(flip, 1 - b, b)
    corners = model.triangles[triangle]
    points = corners[:, 0] + a[:, None] * (corners[:, 1] - corners[:, 0])
    points += b[:, None] * (corners[:, 2] - corners[:, 0])
    points = np.round(points, 6)
    inside = shapely.intersects_xy(
        model.block_group_geometries[block_group], points[:, 0], points[:, 1]
    )
    points[~inside] = model.fallback_points[block_group[~inside]]
    return points


def _generate_chunk(
    model: SyntheticModel,
    offsets: _Offsets,
    *,
    seed: int,
    year: int,
    days: IntArray,
    counts: IntArray,
    first_event: int,
    bad_share: float,
) -> _Chunk:
    u = np.concatenate(
        [_day_uniforms(seed, year, int(d), int(c)) for d, c in zip(days, counts, strict=True)]
    )
    day = np.repeat(days, counts)
    first_weekday = dt.date(year, 1, 1).weekday()
    weekday = (first_weekday + day) % 7
    call_type = _pick(np.cumsum(model.type_probability), u[:, _U_TYPE])
    call_type = np.minimum(call_type, len(model.type_names) - 1)
    cdf = model.hour_cdf[model.hour_group[call_type], weekday]
    hour = (cdf <= u[:, _U_HOUR, None]).sum(axis=1).astype(np.int64)
    hour = np.minimum(hour, 23)
    second = (u[:, _U_SECOND] * 3600).astype(np.int64)
    year_start = int(dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp())
    local = year_start + day * 86400 + hour * 3600 + second
    received = offsets.to_utc(local)

    order = np.argsort(received, kind="stable")
    u, day, call_type, hour, received = (
        u[order],
        day[order],
        call_type[order],
        hour[order],
        received[order],
    )
    n = received.size

    officer = u[:, _U_OFFICER] < model.officer_share[call_type]
    source = np.where(
        officer,
        0,
        np.where(model.alarm[call_type], 3, np.where(u[:, _U_SOURCE] < model.share_911, 1, 2)),
    ).astype(np.int64)
    priority = (model.priority_cdf[call_type] <= u[:, _U_PRIORITY, None]).sum(axis=1)
    priority = np.minimum(priority, 3).astype(np.int64)

    # Response: officer-initiated calls are dispatched and on scene at once.
    load = model.load_factor[hour]
    no_dispatch = ~officer & (u[:, _U_NO_DISPATCH] < _NO_DISPATCH[priority])
    dispatch_delay = np.where(
        officer,
        (u[:, _U_ONVIEW_LAG] * 60).astype(np.int64),
        np.round(
            60 * _minutes(_DISPATCH_MEDIAN[priority] * load, _DISPATCH_SIGMA, u[:, _U_DISPATCH])
        ).astype(np.int64),
    )
    travel = np.where(
        officer,
        0,
        np.round(60 * _minutes(_TRAVEL_MEDIAN[priority], _TRAVEL_SIGMA, u[:, _U_TRAVEL])).astype(
            np.int64
        ),
    )
    cancelled = ~officer & (u[:, _U_CANCEL] < _CANCELLED[priority])
    on_scene = np.round(
        60 * _minutes(_ON_SCENE_MEDIAN[priority], _ON_SCENE_SIGMA, u[:, _U_ON_SCENE])
    ).astype(np.int64)
    dispatched = np.where(no_dispatch, -1, received + dispatch_delay)
    arrived = np.where(no_dispatch | cancelled, -1, received + dispatch_delay + travel)
    cleared = np.where(
        no_dispatch,
        received
        + np.round(60 * _minutes(np.array(_UNDISPATCHED_MEDIAN), 0.8, u[:, _U_ON_SCENE])).astype(
            np.int64
        ),
        np.where(cancelled, received + dispatch_delay + travel, arrived + on_scene),
    )

    # Final call type: mostly one of the same category.
    final_type = _pick(model.final_cdf, u[:, _U_FINAL])
    category = model.type_category[call_type]
    same = u[:, _U_FINAL_SAME] < _SAME_CATEGORY_FINAL
    for index, (members, cdf_) in model.final_by_category.items():
        chosen = same & (category == index)
        if chosen.any():
            final_type[chosen] = members[_pick(cdf_, u[chosen, _U_FINAL])]
    final_type = np.minimum(final_type, len(model.final_names) - 1)
    disposition = np.minimum(
        _pick(model.disposition_cdf, u[:, _U_DISPOSITION]), len(model.dispositions) - 1
    )

    location = model.location_group[call_type]
    block_group = np.empty(n, dtype=np.int64)
    for group in (0, 1):
        chosen = location == group
        block_group[chosen] = _pick(model.block_group_cdf[group], u[chosen, _U_BLOCK_GROUP])
    block_group = np.minimum(block_group, len(model.block_groups) - 1)
    points = _points(model, block_group, u[:, [_U_TRIANGLE, _U_TRI_A, _U_TRI_B]])

    chunk = _Chunk(
        event=first_event + np.arange(n, dtype=np.int64),
        received=received,
        dispatched=dispatched,
        arrived=arrived,
        cleared=cleared,
        call_type=call_type,
        final_type=final_type,
        priority=priority,
        disposition=disposition,
        source=source,
        lon=points[:, 0].copy(),
        lat=points[:, 1].copy(),
        defect=np.zeros(n, dtype=np.int64),
    )
    if bad_share > 0:
        _add_defects(chunk, u, day, bad_share)
    return chunk


def _add_defects(chunk: _Chunk, u: FloatArray, day: IntArray, bad_share: float) -> None:
    """Give a share of rows one defect each: never two bad rows in a row, never a day's first."""
    drawn = u[:, _U_DEFECT] < bad_share
    first_of_day = np.ones(day.size, dtype=bool)
    first_of_day[1:] = day[1:] != day[:-1]
    bad = drawn & ~first_of_day
    bad[1:] &= ~drawn[:-1]
    kind = np.minimum((u[:, _U_DEFECT_KIND] * len(DEFECTS)).astype(np.int64), len(DEFECTS) - 1)
    chunk.defect = np.where(bad, kind + 1, 0)
    rows = np.flatnonzero(bad)
    for row, k in zip(rows.tolist(), kind[rows].tolist(), strict=True):
        name = DEFECTS[k]
        if name == "duplicate_row":
            for array in (
                chunk.event,
                chunk.received,
                chunk.dispatched,
                chunk.arrived,
                chunk.cleared,
                chunk.call_type,
                chunk.final_type,
                chunk.priority,
                chunk.disposition,
                chunk.source,
                chunk.lon,
                chunk.lat,
            ):
                array[row] = array[row - 1]
        elif name == "duplicate_source_id":
            chunk.event[row] = chunk.event[row - 1]
        elif name == "arrival_before_receipt":
            chunk.arrived[row] = chunk.received[row] - 60 - int(u[row, _U_DEFECT_SIZE] * 600)


def _time_sql(column: str) -> str:
    """SQL: a UTC-seconds column as local ISO 8601 text with its offset (NULL when -1).

    ``{column}_offset`` holds the offset in seconds and ``{column}_suffix`` the position of
    its text (``-08:00``) in the ``$suffixes`` list: looking the text up is about twice as
    fast as formatting it on every row.
    """
    local = f"make_timestamp(({column} + {column}_offset) * 1000000)"
    return (
        f"CASE WHEN {column} < 0 THEN NULL ELSE strftime({local}, '%Y-%m-%dT%H:%M:%S') || "
        f"$suffixes[{column}_suffix + 1] END"
    )


def _offset_text(seconds: int) -> str:
    """An offset from UTC as ISO 8601 writes it: -28800 -> '-08:00'."""
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _select_sql() -> str:
    # Defect codes: 1 + index into DEFECTS (1 unparseable_timestamp, 2 missing_call_type,
    # 3 unparseable_coordinates, 4 coordinates_out_of_range, 5 swapped, 6 missing).
    lon = "CAST(lon AS VARCHAR)"
    lat = "CAST(lat AS VARCHAR)"
    return (
        "SELECT $mark AS synthetic, "
        "'SYN-' || $year || '-' || lpad(CAST(event AS VARCHAR), 8, '0') AS event_id, "
        f"CASE WHEN defect = 1 THEN 'not a time' ELSE {_time_sql('received')} END AS received_at, "
        f"{_time_sql('dispatched')} AS dispatched_at, "
        f"{_time_sql('arrived')} AS arrived_at, "
        f"{_time_sql('cleared')} AS cleared_at, "
        "CASE WHEN defect = 2 THEN NULL ELSE $types[call_type + 1] END AS initial_call_type, "
        "$finals[final_type + 1] AS final_call_type, "
        "$priorities[priority + 1] AS priority, "
        "$dispositions[disposition + 1] AS disposition, "
        "$sources[source + 1] AS call_source, "
        f"CASE defect WHEN 3 THEN 'unknown' WHEN 4 THEN CAST(lon - 1000 AS VARCHAR) "
        f"WHEN 5 THEN {lat} WHEN 6 THEN NULL ELSE {lon} END AS longitude, "
        f"CASE defect WHEN 5 THEN {lon} WHEN 6 THEN NULL ELSE {lat} END AS latitude "
        "FROM chunk"
    )


def _check_arguments(n: object, seed: object, year: object, fmt: object, bad_share: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise SyntheticError(f"n (rows) must be a whole number, 0 or more; got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SyntheticError(f"seed must be a whole number, 0 or more; got {seed!r}")
    if isinstance(year, bool) or not isinstance(year, int) or not 1971 <= year <= 2100:
        raise SyntheticError(f"year must be a whole number from 1971 to 2100; got {year!r}")
    if fmt not in get_args(OutputFormat):
        raise SyntheticError(f"fmt must be 'csv' or 'parquet'; got {fmt!r}")
    if (
        isinstance(bad_share, bool)
        or not isinstance(bad_share, int | float)
        or not 0 <= bad_share <= 0.5
    ):
        raise SyntheticError(f"bad_share must be a number from 0 to 0.5; got {bad_share!r}")


def generate_calls(
    n: int,
    *,
    seed: int,
    year: int,
    out_path: str | os.PathLike[str],
    fmt: OutputFormat = "csv",
    bad_share: float = 0.0,
    chunk_rows: int = _CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> SyntheticReport:
    """Write `n` synthetic Tacoma calls for service received in `year` (see the module doc).

    Args:
        n: rows to write (bad rows included).
        seed: fixes the content: the same arguments give a byte-identical file.
        year: the calendar year of the calls (local time, America/Los_Angeles).
        out_path: the file to write; replaced atomically (a temporary file beside it is
            renamed into place when complete).
        fmt: ``csv`` (UTF-8, a header row) or ``parquet`` (zstd; all columns text).
        bad_share: share of rows given a deliberate defect, 0 (default) to 0.5.
        chunk_rows: about how many rows are generated and written at a time (whole days
            at a time); bounds memory, does not change the output.
        progress: called with (rows written so far, n) after each chunk.

    Raises:
        SyntheticError: an argument is out of range (the message names it).
    """
    started = time.perf_counter()
    _check_arguments(n, seed, year, fmt, bad_share)
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise SyntheticError(f"chunk_rows must be a positive whole number; got {chunk_rows!r}")
    target = Path(out_path)
    if target.is_dir():
        raise SyntheticError(f"{target}: is a folder; give a file name such as calls.csv")
    if not target.parent.exists():
        raise SyntheticError(f"{target.parent}: no such folder")
    model = load_model()
    offsets = _offsets(zoneinfo.ZoneInfo(TIMEZONE), year, year + 1)
    per_day = _calls_per_day(n, seed, year)
    defects: dict[str, int] = dict.fromkeys(DEFECTS, 0)
    params: dict[str, Any] = {
        "mark": SYNTHETIC_MARK,
        "year": str(year),
        "types": list(model.type_names),
        "finals": list(model.final_names),
        "priorities": list(PRIORITIES),
        "dispositions": list(model.dispositions),
        "sources": list(CALL_SOURCES),
    }
    first_received: int | None = None
    last_received: int | None = None
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
    work = Path(tempfile.mkdtemp(prefix=".csas-synth-", dir=target.parent))
    try:
        with (
            contextlib.closing(duckdb.connect(":memory:")) as con,
            contextlib.ExitStack() as stack,
        ):
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            if fmt == "parquet":
                # Parallel Parquet writers may cut row groups where their threads meet, which
                # would tie the bytes to the machine's core count; one thread never does.
                con.execute("SET threads = 1")
            out = stack.enter_context(partial.open("wb")) if fmt == "csv" else None
            if out is not None:
                out.write((",".join(COLUMNS) + "\n").encode("utf-8"))
            parts: list[Path] = []
            written = 0
            event = 1
            for days in _day_batches(per_day, chunk_rows):
                chunk = _generate_chunk(
                    model,
                    offsets,
                    seed=seed,
                    year=year,
                    days=days,
                    counts=per_day[days],
                    first_event=event,
                    bad_share=float(bad_share),
                )
                size = int(chunk.received.size)
                event += size
                found = np.bincount(chunk.defect, minlength=len(DEFECTS) + 1)
                for index, name in enumerate(DEFECTS):
                    defects[name] += int(found[index + 1])
                if size:
                    if first_received is None:
                        first_received = int(chunk.received[0])
                    last_received = int(chunk.received[-1])
                part = work / f"part-{len(parts):06d}.{fmt}"
                _write_chunk(con, chunk, offsets, part, fmt, params)
                if out is not None:
                    with part.open("rb") as handle:
                        shutil.copyfileobj(handle, out)
                    part.unlink()
                else:
                    parts.append(part)
                written += size
                if progress is not None:
                    progress(written, n)
            if out is None:
                _combine_parquet(con, parts, partial, seed=seed, year=year)
        os.replace(partial, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    model_sources = tuple(model.sources)
    return SyntheticReport(
        path=str(target),
        fmt=fmt,
        rows=n,
        seed=seed,
        year=year,
        defects=MappingProxyType(defects),
        received_from=_iso(first_received),
        received_to=_iso(last_received),
        seconds=round(time.perf_counter() - started, 3),
        sources=model_sources,
    )


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).isoformat()


def _day_batches(per_day: IntArray, chunk_rows: int) -> list[IntArray]:
    """Consecutive days grouped so that each group holds about `chunk_rows` calls."""
    batches: list[IntArray] = []
    current: list[int] = []
    rows = 0
    for day, count in enumerate(per_day.tolist()):
        current.append(day)
        rows += count
        if rows >= chunk_rows:
            batches.append(np.array(current, dtype=np.int64))
            current, rows = [], 0
    if current:
        batches.append(np.array(current, dtype=np.int64))
    return batches


def _write_chunk(
    con: duckdb.DuckDBPyConnection,
    chunk: _Chunk,
    offsets: _Offsets,
    part: Path,
    fmt: OutputFormat,
    params: dict[str, Any],
) -> None:
    columns: dict[str, npt.NDArray[Any]] = {
        "event": chunk.event,
        "defect": chunk.defect,
        "call_type": chunk.call_type,
        "final_type": chunk.final_type,
        "priority": chunk.priority,
        "disposition": chunk.disposition,
        "source": chunk.source,
        "lon": chunk.lon,
        "lat": chunk.lat,
    }
    for name in ("received", "dispatched", "arrived", "cleared"):
        values: IntArray = getattr(chunk, name)
        columns[name] = values
        offset = offsets.at(values)
        columns[f"{name}_offset"] = offset
        columns[f"{name}_suffix"] = np.searchsorted(offsets.distinct, offset)
    con.register("chunk", columns)
    try:
        options = "FORMAT csv, HEADER false" if fmt == "csv" else "FORMAT parquet"
        suffixes = [_offset_text(int(o)) for o in offsets.distinct]
        con.execute(
            f"COPY ({_select_sql()}) TO $target ({options})",
            {**params, "suffixes": suffixes, "target": str(part)},
        )
    finally:
        con.unregister("chunk")


def _combine_parquet(
    con: duckdb.DuckDBPyConnection, parts: list[Path], target: Path, *, seed: int, year: int
) -> None:
    metadata = (
        "KV_METADATA {synthetic: 'true', generator: 'csas.analysis.safety.synthetic', "
        "profile: 'tacoma-synthetic', seed: $seed, year: $year}"
    )
    if parts:
        source = "SELECT * FROM read_parquet($parts)"
        params: dict[str, Any] = {"parts": [str(p) for p in parts]}
    else:
        source = (
            "SELECT " + ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in COLUMNS) + " LIMIT 0"
        )
        params = {}
    con.execute(
        f"COPY ({source}) TO $target (FORMAT parquet, COMPRESSION zstd, {metadata})",
        {**params, "target": str(target), "seed": str(seed), "year": str(year)},
    )


__all__ = [
    "CALL_SOURCES",
    "COLUMNS",
    "DEFECTS",
    "PRIORITIES",
    "SYNTHETIC_MARK",
    "SYNTHETIC_PROFILE",
    "TIMEZONE",
    "VERA_CITY",
    "SyntheticError",
    "SyntheticModel",
    "SyntheticReport",
    "generate_calls",
    "load_model",
]
