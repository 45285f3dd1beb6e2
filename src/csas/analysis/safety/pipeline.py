"""The safety data lab's pipeline: a normalised call table in, publishable aggregates out.

`analyze` reads the Parquet file that `csas.analysis.safety.ingest` writes and runs the
lab's analyses on it, for Tacoma's geography:

1. **Geography**: every call's point goes into its 2024 Equity Index block group, council
   district, neighbourhood council district and police sector-district
   (`geo.assign_points_layers`, the four at once); populations move from block groups to
   the districts by areal interpolation (`geo.areal_interpolate`), since the districts do
   not nest.
2. **Calls by area and month** with rates per 1,000 residents and exact Poisson intervals
   (`measures.rates_from_counts`, the same table as `measures.rates_by_area_month` from
   counts made with numpy), for each district geography; months are local.
3. **Response times** of calls not started by an officer, by priority and council district,
   with bootstrap intervals (`measures.response_times`).
4. **The share eligible for an alternative response** as a range, by type alone and after
   screening (`taxonomy.eligibility_range_from_counts`, the figures of
   `taxonomy.eligibility_range` from calls counted with numpy), with the split by who
   started the call, and the **time-of-day profile** of eligible calls
   (`measures.eligible_time_profile`).
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

import calendar
import concurrent.futures
import contextlib
import csv
import datetime as dt
import functools
import html
import json
import math
import os
import shutil
import tempfile
import time
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    assign_points_layers,
)
from csas.analysis.safety.hotspots import gi_star, polygon_neighbours
from csas.analysis.safety.ingest import (
    NORMALISED_COLUMNS,
    EnumCodes,
    IngestReport,
    check_memory_limit,
    ingested,
)
from csas.analysis.safety.measures import (
    AreaWeekProfile,
    EligibilityByArea,
    PeriodChange,
    RateTable,
    ResponseTimeRow,
    ResponseTimeTable,
    TimeProfile,
    eligibility_by_area,
    eligible_time_profile,
    eligible_week_by_area,
    period_change,
    rates_from_counts,
    response_times_from_codes,
    suppress_partition,
)
from csas.analysis.safety.profiles import InputFormat, Profile, load_profile
from csas.analysis.safety.taxonomy import (
    DEFAULT_ELIGIBLE_TIERS,
    TIERS,
    CallTypeClass,
    EligibilityRange,
    InitiationSplit,
    Population,
    Taxonomy,
    Tier,
    eligibility_range_from_counts,
    initiation_of,
    initiation_split_from_counts,
    load_taxonomy,
)

SCHEMA_VERSION = 1
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
#: Keys of summary.json that hold a count of calls (everything else is a label, a statistic
#: or a count of areas or cells): each is null (withheld) or at least the threshold.
SUMMARY_COUNT_KEYS = frozenset(
    {
        "calls",
        "n",
        "count",
        "n_eligible",
        "assigned",
        "outside_every_area",
        "without_location",
        "synthetic_rows",
        "without_receipt_time",
        "officer",
        "public",
        "unknown",
        "eligible_by_type",
        "eligible_after_screening",
        "not_assessed",
        "left_out_officer",
        "left_out_unknown",
        "missing_received",
        "missing_end",
        "negative",
        "community-only",
        "community-led",
        "co-response",
        "police",
        "not-assessed",
        "current",  # trends: calls in the last months and the months before
        "previous",
    }
)
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
    """The per-call arrays the analyses need (aligned; one entry per call, in row order)."""

    received: npt.NDArray[np.datetime64]
    dispatched: npt.NDArray[np.datetime64]
    arrived: npt.NDArray[np.datetime64]
    # Codes as the smallest integer type that holds them: less memory to get and fill.
    priority_code: npt.NDArray[np.signedinteger[Any]]  # into `priorities`
    priorities: tuple[str | None, ...]  # None (no priority) first
    month_index: npt.NDArray[np.signedinteger[Any]]  # into `months`; -1 without a time
    months: tuple[str, ...]  # 'YYYY-MM' local, the months that have a call, sorted
    officer: npt.NDArray[np.bool_]
    public: npt.NDArray[np.bool_]
    eligible_by_type: npt.NDArray[np.bool_]
    eligible_after_screening: npt.NDArray[np.bool_]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Overview:
    """What the analysis reports about the input as a whole, counted while reading it."""

    n_calls: int
    n_synthetic: int
    n_no_time: int
    received_from: str | None
    received_to: str | None
    calls_by_tier: Mapping[str, int]
    split: InitiationSplit
    ranges: Mapping[str, EligibilityRange]
    own_files: Mapping[str, str]  # the city's taxonomy files used (`Taxonomy.own_files`)
    kind: str | None  # the rows' source_kind (calls, incidents, requests), "mixed" or None


#: numpy's NaT as the int64 it is stored as: a missing time read as a number.
_NAT = int(np.iinfo(np.int64).min)
_HOUR_US = 3_600_000_000
#: At most this many hours between the first and the last receipt time get a table entry
#: each (about 480 years); a wider spread looks up only the hours that have a call.
_MAX_HOURS = 1 << 22
#: Marks an hour whose calls `_local_months` converts one by one.
_UNSETTLED_MONTH = int(np.iinfo(np.int32).min)
#: Calls handled at a time in numpy loops, so that their temporary arrays stay in cache.
_BLOCK = 1 << 16
#: The most call codes (`_CodeBook.size`) given a table entry each; beyond that, only the
#: codes that occur get one (slower: it sorts the calls' codes; never needed in practice).
_MAX_CODES = 1 << 22


@dataclass(frozen=True)
class _CodeBook:
    """The distinct values of the four text columns the analyses read, each list in order.

    DuckDB gives each call one number while it reads the file: ``((type * len(by) + by) *
    len(raw) + raw) * len(priority) + priority``, each part the value's place in its list,
    0 standing for NULL. Whatever the analyses need from these columns is then a lookup of
    that number in a small table, worked out once per distinct value instead of per call,
    and no text ever reaches Python per call.
    """

    call_types: tuple[str | None, ...]  # None (NULL) first, then the values sorted
    initiated_by: tuple[str | None, ...]
    initiated_raw: tuple[str | None, ...]
    priorities: tuple[str | None, ...]

    @property
    def size(self) -> int:
        """How many numbers there can be."""
        return (
            len(self.call_types)
            * len(self.initiated_by)
            * len(self.initiated_raw)
            * len(self.priorities)
        )

    def sql(
        self, con: duckdb.DuckDBPyConnection, enums: Mapping[str, EnumCodes]
    ) -> tuple[str, dict[str, list[int]]]:
        """The SQL expression of a call's number (ENUM types for its lists made on `con`),
        and the parameters it uses.

        Each value's place is its code in an ENUM of the list (a hash lookup, where
        ``list_position`` compares the value with the list's entries one by one: the same
        answer, as every value is in its list, several times quicker per call read from
        memory; on Parquet either is worked out once per entry of the file's dictionary).
        A column in `enums` is read as its ENUM's numbers, each looked up in a list of
        places (no text at all).
        """
        parts = (
            ("call_type", self.call_types),
            ("initiated_by", self.initiated_by),
            ("initiated_raw", self.initiated_raw),
            ("priority", self.priorities),
        )
        # The arithmetic is done in the type of the result, so that it cannot overflow.
        kind = "INTEGER" if self.size <= np.iinfo(np.int32).max else "BIGINT"
        expression = ""
        parameters: dict[str, list[int]] = {}
        for column, values in parts:
            if len(values) > 1:
                name = f"csas_book_{column}"
                con.execute(
                    f"CREATE OR REPLACE TYPE {name} AS ENUM "
                    f"({', '.join(_literal(str(v)) for v in values[1:])})"
                )
                code = f"CAST(enum_code(TRY_CAST({column} AS {name})) AS {kind})"
                place = f"coalesce({code} + 1, CAST(0 AS {kind}))"
            else:
                place = f"CAST(0 AS {kind})"
            if column in enums:
                coded = enums[column]
                where = {value: place for place, value in enumerate(values) if place}
                name = f"csas_places_{column}"
                parameters[name] = [where.get(value, 0) for value in coded.values]
                found = f"${name}[CAST(enum_code({coded.sql}) AS INTEGER) + 1]"
                # The text only where the ENUM has no value (rare: see `EnumCodes`).
                place = (
                    f"CASE WHEN {coded.sql} IS NOT NULL THEN CAST({found} AS {kind}) "
                    f"ELSE {place} END"
                )
            expression = f"({expression}) * {len(values)} + {place}" if expression else place
        return expression, parameters

    def decode(self, codes: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], ...]:
        """Each number's places in the four lists: (type, by, raw, priority)."""
        rest, priority = np.divmod(codes, len(self.priorities))
        rest, raw = np.divmod(rest, len(self.initiated_raw))
        call_type, by = np.divmod(rest, len(self.initiated_by))
        return call_type, by, raw, priority


def _smallest_signed(largest: int) -> type[np.signedinteger[Any]]:
    """The smallest signed integer type that holds -2 (`geo.MISSING`) to `largest`."""
    for kind in (np.int8, np.int16, np.int32):
        if largest <= np.iinfo(kind).max:
            return kind
    return np.int64


def _listed(values: Sequence[str] | None) -> tuple[str | None, ...]:
    """A column's distinct values as `_CodeBook` lists them: NULL first, then sorted (as
    DuckDB sorts text: by code point)."""
    return (None, *sorted(values or ()))


def _read_calls(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    taxonomy: Taxonomy,
    city: str | None,
    timezone: str,
    eligible_tiers: Sequence[Tier],
    synthetic_sql: str = "json_extract_string(extra, '$.synthetic') = 'yes'",
    enum_columns: Mapping[str, EnumCodes] | None = None,
    located: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], None] | None = None,
) -> tuple[_Calls, _Overview]:
    """Read the per-call columns of `relation` (a normalised table) into numpy, and count.

    `synthetic_sql` is the condition marking a synthetic row and `enum_columns` the text
    columns that can be read as numbers (`Ingested.synthetic_sql` and `.enum_columns`
    where the relation is an ingestion still in memory). `located` is called with the
    longitudes and latitudes (in row order) as soon as they are read, before the rest is
    worked out: the caller may place the calls meanwhile, on another thread.

    The result is what classifying the calls into a table (`taxonomy.classify_calls`) and
    reading that back gave, without the table: the columns are read in row order as
    numbers only (times as microseconds, the four text columns as one code, `_CodeBook`),
    and each distinct call type and initiation value is classified once, then spread over
    the calls by table lookups in numpy.
    """
    taxonomy.check_city(city)
    # One pass for the overview and the distinct values (NULLs left out: they stand first
    # in each list). The lists are short: a few hundred call types at most.
    enums = dict(enum_columns or {})
    text_columns = ("call_type", "initiated_by", "initiated_raw", "priority")
    # A column read through an ENUM: the distinct numbers, and the distinct text of the
    # few rows without one, each in a query of its own (a FILTER would make DuckDB work
    # out the text of every row).
    distinct = ", ".join(
        f"list(DISTINCT enum_code({enums[c].sql})) FILTER ({enums[c].sql} IS NOT NULL)"
        if c in enums
        else f"list(DISTINCT {c}) FILTER ({c} IS NOT NULL)"
        for c in text_columns
    )
    (row,) = con.execute(
        "SELECT count(*), count(*) FILTER (received_at IS NULL), min(received_at), "
        "max(received_at), epoch_us(min(received_at)), epoch_us(max(received_at)), "
        f"min(row_number), max(row_number), {distinct}, list(DISTINCT source_kind) "
        f"FILTER (source_kind IS NOT NULL) FROM {relation}"
    ).fetchall()  # (all of it: a result left unread would block the connection)
    lists = []
    for column, found in zip(text_columns, row[8:12], strict=True):
        values = set(found or ())
        if column in enums:
            coded = enums[column]
            values = {coded.values[code] for code in values}
            ((rest,),) = con.execute(
                f"SELECT list(DISTINCT {column}) FROM {relation} "
                f"WHERE {coded.sql} IS NULL AND {column} IS NOT NULL"
            ).fetchall()
            values |= set(rest or ())
        lists.append(_listed(sorted(values)))
    book = _CodeBook(*lists)
    # A WHERE clause straight on the file is tested once per distinct value of the column.
    ((n_synthetic,),) = con.execute(
        f"SELECT count(*) FROM {relation} WHERE {synthetic_sql}"
    ).fetchall()

    # Row numbers are read as offsets from the first (NULL: after all of them) to check
    # that the file is in row order; missing times and places are filled in by DuckDB, so
    # that every column arrives as a plain array.
    low, high = (0, 0) if row[6] is None else (int(row[6]), int(row[7]))
    narrow = high - low < np.iinfo(np.int32).max - 1
    code_sql, code_parameters = book.sql(con, enums)
    parameters: dict[str, Any] = {
        **code_parameters,
        "low": low,
        "after": high - low + 1 if narrow else int(np.iinfo(np.int64).max),
        "nat": _NAT,
    }
    selections = (
        f"coalesce(CAST(row_number - $low AS {'INTEGER' if narrow else 'BIGINT'}), $after) "
        f"AS place, {code_sql} AS code, coalesce(epoch_us(received_at), $nat) AS received",
        "coalesce(lon, 'NaN'::DOUBLE) AS lon, coalesce(lat, 'NaN'::DOUBLE) AS lat",
        "coalesce(epoch_us(dispatched_at), $nat) AS dispatched, "
        "coalesce(epoch_us(arrived_at), $nat) AS arrived",
    )
    order: npt.NDArray[np.intp] | None = None

    def fetch(selection: str) -> dict[str, npt.NDArray[Any]]:
        """Some of the columns, in row order. A few at a time: DuckDB holds a query's whole
        result before handing it over, and one result's memory is reused for the next (new
        memory is slow to get). Each scan keeps the file's order, as any scan without ORDER
        BY does while DuckDB's preserve_insertion_order is on (its default). (The relational
        API's fetchnumpy is quicker here than execute's, in DuckDB 1.x-2.0.)"""
        used = {name: value for name, value in parameters.items() if f"${name}" in selection}
        data = con.sql(f"SELECT {selection} FROM {relation}", params=used).fetchnumpy()
        found = {name: np.asarray(values) for name, values in data.items()}
        del data
        if order is not None:
            found = {name: values[order] for name, values in found.items()}
        return found

    columns = fetch(selections[0])
    place = columns.pop("place")
    if place.size > 1 and not bool(np.all(place[1:] > place[:-1])):
        # Not stored in row order: the bootstrap's resamples depend on the order, so sort
        # (rows without a row number last, in the order of the file).
        order = np.argsort(place, kind="stable")
        columns = {name: values[order] for name, values in columns.items()}
    del place
    columns.update(fetch(selections[1]))
    if located is not None:
        located(columns["lon"], columns["lat"])
    code = columns.pop("code")

    classes = [taxonomy.classify(t, city=city) for t in book.call_types]
    counted = _CodeCounts.of(code, book, taxonomy=taxonomy, city=city)
    flags = counted.spread(_flag_groups(counted, classes, eligible_tiers), code, dtype=np.uint8)
    priority_code = counted.spread(
        counted.priority, code, dtype=_smallest_signed(len(book.priorities) - 1)
    )
    del code
    # The rest of the columns, now that the codes' memory is free again.
    columns.update(fetch(selections[2]))
    overview = _overview(
        row,
        n_synthetic=int(n_synthetic),
        book=book,
        counted=counted,
        classes=classes,
        taxonomy=taxonomy,
        city=city,
        eligible_tiers=eligible_tiers,
    )
    received = columns.pop("received")
    month_index, months = _local_months(
        con,
        received,
        None if row[4] is None else int(row[4]),
        None if row[5] is None else int(row[5]),
        timezone,
    )
    calls = _Calls(
        received=received.view("datetime64[us]"),
        dispatched=columns.pop("dispatched").view("datetime64[us]"),
        arrived=columns.pop("arrived").view("datetime64[us]"),
        priority_code=priority_code,
        priorities=book.priorities,
        month_index=month_index,
        months=months,
        officer=flags == _OFFICER,
        public=flags >= _PUBLIC,
        eligible_by_type=flags >= _BY_TYPE,
        eligible_after_screening=flags == _AFTER_SCREENING,
        lon=columns.pop("lon"),
        lat=columns.pop("lat"),
    )
    return calls, overview


#: Who started a call, as `_CodeCounts.started` numbers them.
_INITIATIONS: tuple[str, ...] = ("officer", "public", "unknown")
#: The four flags as one small number per call, each flag then one comparison away (a call
#: is eligible only if started by the public, and eligible after screening only if by type).
_UNKNOWN, _OFFICER, _PUBLIC, _BY_TYPE, _AFTER_SCREENING = range(5)


@dataclass(frozen=True)
class _CodeCounts:
    """The call codes (`_CodeBook`) that occur, how many calls have each, and what each
    stands for: places in the book's lists, and who started the calls (`_INITIATIONS`)."""

    codes: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]
    call_type: npt.NDArray[np.int64]
    by: npt.NDArray[np.int64]
    raw: npt.NDArray[np.int64]
    priority: npt.NDArray[np.int64]
    started: npt.NDArray[np.int64]
    dense: bool  # whether a table can have an entry for every possible code

    @classmethod
    def of(
        cls,
        code: npt.NDArray[Any],
        book: _CodeBook,
        *,
        taxonomy: Taxonomy,
        city: str | None,
    ) -> _CodeCounts:
        """Count the calls' codes (in `book`); who started them is decided once per pair of
        initiated_by and initiated_raw values that occurs."""
        dense = book.size <= _MAX_CODES
        if dense:
            per_code = np.bincount(code, minlength=book.size)
            codes = np.flatnonzero(per_code).astype(np.int64)
            counts = per_code[codes]
        else:
            codes = np.unique(code).astype(np.int64)
            counts = np.bincount(np.searchsorted(codes, code), minlength=codes.size)
        call_type, by, raw, priority = book.decode(codes)
        n_raw = len(book.initiated_raw)
        pairs, pair_of = np.unique(by * n_raw + raw, return_inverse=True)
        started = np.array(
            [
                _INITIATIONS.index(
                    initiation_of(
                        book.initiated_by[pair // n_raw],
                        book.initiated_raw[pair % n_raw],
                        taxonomy=taxonomy,
                        city=city,
                    )[0]
                )
                for pair in pairs.tolist()
            ],
            dtype=np.int64,
        )
        return cls(
            codes=codes,
            counts=counts.astype(np.int64),
            call_type=call_type,
            by=by,
            raw=raw,
            priority=priority,
            started=started[pair_of.ravel()] if codes.size else started,
            dense=dense,
        )

    def spread(
        self, values: npt.NDArray[Any], code: npt.NDArray[Any], *, dtype: type[np.generic]
    ) -> npt.NDArray[Any]:
        """Each call's value, from `values` per code that occurs (a table lookup)."""
        if self.dense:
            table = np.zeros(int(self.codes[-1]) + 1 if self.codes.size else 0, dtype=dtype)
            table[self.codes] = values
            looked_up: npt.NDArray[Any] = table[code]
            return looked_up
        spread: npt.NDArray[Any] = np.asarray(values, dtype=dtype)[
            np.searchsorted(self.codes, code)
        ]
        return spread


def _flag_groups(
    counted: _CodeCounts, classes: Sequence[CallTypeClass], eligible_tiers: Sequence[Tier]
) -> npt.NDArray[np.int64]:
    """Per code that occurs, the flags' number (`_OFFICER`...)."""
    eligible_tier = np.array([c.tier in tuple(eligible_tiers) for c in classes], dtype=bool)
    screened_out = np.array([c.screened_out for c in classes], dtype=bool)
    public = counted.started == _INITIATIONS.index("public")
    by_type = public & eligible_tier[counted.call_type]
    after_screening = by_type & ~screened_out[counted.call_type]
    officer = counted.started == _INITIATIONS.index("officer")
    groups: npt.NDArray[np.int64] = np.select(
        [officer, after_screening, by_type, public],
        [_OFFICER, _AFTER_SCREENING, _BY_TYPE, _PUBLIC],
        default=_UNKNOWN,
    )
    return groups


def _overview(
    row: Sequence[Any],
    *,
    n_synthetic: int,
    book: _CodeBook,
    counted: _CodeCounts,
    classes: Sequence[CallTypeClass],
    taxonomy: Taxonomy,
    city: str | None,
    eligible_tiers: Sequence[Tier],
) -> _Overview:
    """The input's overview, from the first query's `row` and the calls counted per code."""
    counts = counted.counts
    tier_number = np.array([TIERS.index(c.tier) for c in classes], dtype=np.int64)
    screened_out = [c.screened_out for c in classes]
    by_tier = np.bincount(tier_number[counted.call_type], counts, len(TIERS))
    calls_by_tier: dict[str, int] = {
        tier: int(n) for tier, n in zip(TIERS, by_tier.tolist(), strict=True)
    }
    n_raw = len(book.initiated_raw)
    by_pair = np.bincount(counted.by * n_raw + counted.raw, counts, len(book.initiated_by) * n_raw)
    split = initiation_split_from_counts(
        (
            (book.initiated_by[pair // n_raw], book.initiated_raw[pair % n_raw], int(n))
            for pair, n in enumerate(by_pair.tolist())
            if n
        ),
        taxonomy=taxonomy,
        city=city,
    )
    n_types = len(book.call_types)
    by_class = np.bincount(
        counted.started * n_types + counted.call_type, counts, len(_INITIATIONS) * n_types
    )
    eligibility_rows = [
        (
            _INITIATIONS[number // n_types],
            TIERS[tier_number[number % n_types]],
            screened_out[number % n_types],
            int(n),
        )
        for number, n in enumerate(by_class.tolist())
        if n
    ]
    ranges: dict[str, EligibilityRange] = {
        population: eligibility_range_from_counts(
            eligibility_rows,
            eligible_tiers=tuple(eligible_tiers),
            population=population,
            own_files=taxonomy.own_files,
        )
        for population in _POPULATIONS
    }
    return _Overview(
        n_calls=int(row[0]),
        n_synthetic=n_synthetic,
        n_no_time=int(row[1]),
        received_from=row[2].isoformat() if row[2] is not None else None,
        received_to=row[3].isoformat() if row[3] is not None else None,
        calls_by_tier=MappingProxyType(calls_by_tier),
        split=split,
        ranges=MappingProxyType(ranges),
        own_files=MappingProxyType(taxonomy.own_files),
        kind=_source_kind(row[12]),
    )


def _source_kind(found: Sequence[str] | None) -> str | None:
    """The input's kind (the profile's: calls, incidents or requests) from its rows'
    distinct ``source_kind`` values: "mixed" for several, None for none (no rows)."""
    kinds = sorted(set(found or ()))
    if not kinds:
        return None
    return kinds[0] if len(kinds) == 1 else "mixed"


def _local_months(
    con: duckdb.DuckDBPyConnection,
    received: npt.NDArray[np.int64],
    first: int | None,
    last: int | None,
    timezone: str,
) -> tuple[npt.NDArray[np.signedinteger[Any]], tuple[str, ...]]:
    """Each call's local month of receipt, as an index into the months that have a call.

    `received` holds microseconds since 1970 in UTC (`_NAT`: no time); `first` and `last`
    are its smallest and largest times. DuckDB's time zone rules decide each month, as
    ``timezone(tz, received_at)`` would call by call, but they are asked once per hour
    between `first` and `last`: when an hour begins and ends in the same local month with
    the same UTC offset, every call in it is in that month too, and a table lookup places
    it. The calls in the few other hours (a month begins, or the clocks change, within the
    hour) are converted one by one. A month before year 0 counts as no time, as before.
    """
    if first is None or last is None:
        return np.full(received.size, -1, dtype=np.int8), ()
    low, high = first // _HOUR_US, last // _HOUR_US
    dense = high - low + 1 <= _MAX_HOURS
    if dense:
        hours = np.arange(low, high + 1, dtype=np.int64)
    else:
        hours = np.unique(received[received != _NAT] // _HOUR_US)

    def hour_places(start: int) -> npt.NDArray[np.int64]:
        """1 + the place in `hours` of each call's hour, for one block (0: no time)."""
        hour = received[start : start + _BLOCK] // _HOUR_US
        if dense:
            hour -= low - 1
            np.maximum(hour, 0, out=hour)  # no time: far below the first hour
            return hour
        places: npt.NDArray[np.int64] = np.searchsorted(hours, hour) + (hour >= hours[0])
        return places

    # Which hours have calls (a first pass: cheaper than keeping each call's hour).
    seen = np.zeros(hours.size + 1, dtype=np.int64)
    for start in range(0, received.size, _BLOCK):
        seen += np.bincount(hour_places(start), minlength=seen.size)
    month_of_hour = np.concatenate([[-1], _months_of_hours(con, hours, timezone, dense=dense)])
    unsettled_hour = month_of_hour == _UNSETTLED_MONTH
    found = month_of_hour[(seen > 0) & ~unsettled_hour]
    unsettled_rows: list[npt.NDArray[np.int64]] = []
    if unsettled_hour.any():
        for start in range(0, received.size, _BLOCK):
            unsettled_rows.append(np.flatnonzero(unsettled_hour[hour_places(start)]) + start)
    unsettled = np.concatenate(unsettled_rows) if unsettled_rows else np.zeros(0, np.int64)
    if unsettled.size:
        values, where = np.unique(received[unsettled], return_inverse=True)
        converted = con.execute(
            "SELECT u, CAST(year(l) * 12 + month(l) - 1 AS INTEGER) AS m FROM (SELECT u, "
            "timezone($tz, make_timestamp(u)::TIMESTAMPTZ) AS l FROM "
            "(SELECT unnest($values) AS u))",
            {"tz": timezone, "values": values.tolist()},
        ).fetchnumpy()
        month_of_value = np.empty(values.size, dtype=np.int64)
        month_of_value[np.searchsorted(values, np.asarray(converted["u"]))] = converted["m"]
        unsettled_months = month_of_value[where.ravel()]
        found = np.concatenate([found, month_of_value])
    distinct = np.unique(found[found >= 0])
    # Hours to their month's place among `distinct`; no time and months before year 0: -1
    # (the hours converted call by call too, for now).
    kind = _smallest_signed(distinct.size)
    place = np.searchsorted(distinct, month_of_hour).astype(kind)
    place[month_of_hour < 0] = -1
    month_index = np.empty(received.size, dtype=kind)
    for start in range(0, received.size, _BLOCK):
        month_index[start : start + _BLOCK] = place[hour_places(start)]
    if unsettled.size:
        month_index[unsettled] = np.where(
            unsettled_months >= 0, np.searchsorted(distinct, unsettled_months), -1
        )
    labels = tuple(f"{m // 12:04d}-{m % 12 + 1:02d}" for m in distinct.tolist())
    return month_index, labels


def _months_of_hours(
    con: duckdb.DuckDBPyConnection, hours: npt.NDArray[np.int64], timezone: str, *, dense: bool
) -> npt.NDArray[np.int32]:
    """Per UTC hour (hours since 1970, sorted; `dense`: every hour from the first to the
    last), the local month code (year * 12 + month - 1) that every moment of the hour has,
    or `_UNSETTLED_MONTH` where they differ or may differ."""
    local = "CAST(year({0}) * 12 + month({0}) - 1 AS INTEGER)"
    source = "range($low, $high + 1) AS t(h)" if dense else "(SELECT unnest($hours) AS h)"
    parameters: dict[str, Any] = {"tz": timezone, "hour": _HOUR_US}
    if dense:
        parameters.update(low=int(hours[0]), high=int(hours[-1]))
    else:
        parameters["hours"] = hours.tolist()
    found = con.execute(
        f"SELECT h, {local.format('a')} AS m_start, {local.format('b')} AS m_end, "
        "epoch_us(b) - epoch_us(a) AS elapsed FROM (SELECT h, "
        "timezone($tz, make_timestamp(h * $hour)::TIMESTAMPTZ) AS a, "
        f"timezone($tz, make_timestamp(h * $hour + $hour - 1)::TIMESTAMPTZ) AS b FROM {source})",
        parameters,
    ).fetchnumpy()
    start = np.asarray(found["m_start"], dtype=np.int32)
    same = (start == np.asarray(found["m_end"])) & (np.asarray(found["elapsed"]) == _HOUR_US - 1)
    month_of_hour = np.empty(hours.size, dtype=np.int32)
    month_of_hour[np.searchsorted(hours, np.asarray(found["h"]))] = np.where(
        same, start, _UNSETTLED_MONTH
    )
    return month_of_hour


# ---------------------------------------------------------------------------------------------
# Suppression helpers


def _count(value: int | None, threshold: int) -> int | None:
    """A count as published: None when under the threshold."""
    return None if value is None or value < threshold else int(value)


def _parts(values: Sequence[int], threshold: int) -> list[int | None]:
    """Counts that add up to a published whole, as published: None for each under the
    threshold and, where only one would be withheld, for the smallest other too
    (`suppress_partition`), so that no withheld count is the whole less the others."""
    withheld = suppress_partition([int(v) for v in values], threshold)
    return [None if hidden else int(v) for v, hidden in zip(values, withheld, strict=True)]


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
    taxonomy: Taxonomy | None = None,
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
        taxonomy: the crosswalk, tiers and screening rules (`load_taxonomy`; None: csas's
            defaults). A city's own files are named in ``summary.json`` and in the rules.
        progress: called with the name of each step as it starts.

    Raises:
        PipelineError: the input is missing or not a normalised call table.
        ValueError: a parameter is out of range (the message names it).
    """
    started = time.perf_counter()
    check_memory_limit(memory_limit)
    source = Path(normalised)
    options = _Options(
        threshold, seed, n_boot, permutations, alpha, city, timezone, tuple(eligible_tiers)
    )
    target = _check_options(options, out_dir)

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    with _placing() as (located, placing):
        with contextlib.closing(
            duckdb.connect(":memory:", config={"memory_limit": memory_limit})
        ) as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            step("read")
            _check_input(con, source)
            step("classify")
            calls, overview = _read_calls(
                con,
                f"read_parquet({_literal(str(source))})",
                taxonomy=taxonomy if taxonomy is not None else load_taxonomy(),
                city=city,
                timezone=timezone,
                eligible_tiers=tuple(eligible_tiers),
                located=located,
            )
        return _analyze_calls(
            calls, overview, source.name, target, options, started, step, placing()
        )


@dataclass(frozen=True)
class RunResult:
    """What `run` did: the ingestion's account of every row and the analysis written."""

    ingest: IngestReport
    analysis: AnalysisResult


def run(
    path: str | os.PathLike[str],
    *,
    profile: Profile | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    normalised: str | os.PathLike[str] | None = None,
    input_format: InputFormat | None = None,
    threshold: int = 10,
    seed: int = 0,
    n_boot: int = 200,
    permutations: int = 9999,
    alpha: float = 0.05,
    city: str | None = None,
    timezone: str | None = None,
    eligible_tiers: Sequence[Tier] = DEFAULT_ELIGIBLE_TIERS,
    memory_limit: str = "2GB",
    temp_directory: str | os.PathLike[str] | None = None,
    taxonomy: Taxonomy | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """`ingest` an export and `analyze` it in one go, without a Parquet file in between.

    The same outputs as ``ingest`` then ``analyze`` on its Parquet file (byte for byte,
    but for the input's file name in ``summary.json``): the normalised rows are read
    from DuckDB's memory instead of being written out and read back. `normalised` also
    writes the normalised Parquet file, as ``ingest`` would.

    Args: as for `csas.analysis.safety.ingest.ingest` (`path`, `profile`, `input_format`,
        `memory_limit`, `temp_directory`) and `analyze` (the rest); the parameters are
        checked before the file is read. `timezone` defaults to the profile's.

    Raises:
        What `ingest` and `analyze` raise.
    """
    started = time.perf_counter()
    if timezone is None:
        timezone = (profile if isinstance(profile, Profile) else load_profile(profile)).timezone
    options = _Options(
        threshold, seed, n_boot, permutations, alpha, city, timezone, tuple(eligible_tiers)
    )
    target = _check_options(options, out_dir)
    taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
    taxonomy.check_city(city)

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    with _placing() as (located, placing):
        with ingested(
            path,
            profile=profile,
            output=normalised,
            input_format=input_format,
            memory_limit=memory_limit,
            temp_directory=temp_directory,
            # The one step both have: "write" is the analysis's files here.
            progress=lambda name: step("write normalised" if name == "write" else name),
        ) as session:
            step("classify")
            calls, overview = _read_calls(
                session.con,
                session.relation,
                taxonomy=taxonomy,
                city=city,
                timezone=timezone,
                eligible_tiers=options.eligible_tiers,
                synthetic_sql=session.synthetic_sql,
                enum_columns=session.enum_columns,
                located=located,
            )
            report = session.report
        # The working database is gone: its memory is the analysis's now.
        analysis = _analyze_calls(
            calls, overview, Path(path).name, target, options, started, step, placing()
        )
    return RunResult(report, analysis)


def _check_options(options: _Options, out_dir: str | os.PathLike[str]) -> Path:
    """Raise for a parameter out of range or an output folder that cannot be; the folder."""
    threshold = options.threshold
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"threshold must be a positive whole number, got {threshold!r}")
    # The measures check these too, but only after the calls are read: `run` would have
    # ingested a whole file before saying so.
    n_boot, permutations, seed = options.n_boot, options.permutations, options.seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number, 0 or more, got {seed!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations < 1:
        # The hot spots' inference is by permutation (Gi*'s p-values and their FDR).
        raise ValueError(
            f"permutations must be a positive whole number (9999 by default), got {permutations!r}"
        )
    if not 0.0 < options.alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {options.alpha!r}")
    unknown = [tier for tier in options.eligible_tiers if tier not in TIERS]
    if unknown:
        raise ValueError(f"eligible_tiers: unknown tier(s) {unknown}; known: {list(TIERS)}")
    try:
        zoneinfo.ZoneInfo(options.timezone)
        # DuckDB's ICU zones, which the months are worked out in, lack some of Python's
        # ("localtime").
        with duckdb.connect(":memory:") as con:
            ((known,),) = con.execute(
                "SELECT count(*) FROM pg_timezone_names() WHERE name = $zone",
                {"zone": options.timezone},
            ).fetchall()
        if not known:
            raise ValueError(options.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"timezone {options.timezone!r} is not an IANA time zone (expected a name such as "
            "'America/Los_Angeles')"
        ) from None
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise PipelineError(f"{target}: exists and is not a folder")
    return target


@dataclass(frozen=True)
class _Options:
    """The analysis parameters `analyze` and `run` take (see `analyze`)."""

    threshold: int
    seed: int
    n_boot: int
    permutations: int
    alpha: float
    city: str | None
    timezone: str
    eligible_tiers: tuple[Tier, ...]


def _analyze_calls(
    calls: _Calls,
    overview: _Overview,
    source_name: str,
    target: Path,
    options: _Options,
    started: float,
    step: ProgressCallback,
    placing: concurrent.futures.Future[dict[str, Assignment]] | None = None,
) -> AnalysisResult:
    """Everything after the calls are read: geography (`placing`'s, if begun already),
    measures, hot spots, the files."""
    threshold, seed, n_boot = options.threshold, options.seed, options.n_boot
    permutations, alpha, city = options.permutations, options.alpha, options.city
    timezone, eligible_tiers = options.timezone, options.eligible_tiers
    n_calls, n_synthetic = overview.n_calls, overview.n_synthetic
    ranges = overview.ranges
    split = overview.split

    step("geography")
    tacoma = _tacoma()
    block_groups = tacoma.areas[BLOCK_GROUPS.key]
    populations = tacoma.population
    assignments = placing.result() if placing is not None else _geography(calls.lon, calls.lat)

    # The response times (the longest measure) are worked out on a second thread while
    # this one does the others: numpy lets go of Python's lock in most of the work, so on
    # two cores or more the two run side by side. Each reads the calls only and draws from
    # its own seeded generator, so the results do not depend on the interleaving.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        timing = pool.submit(
            _response_times, calls, assignments["council_district"], n_boot=n_boot, seed=seed
        )
        measured = _other_measures(calls, assignments, populations, options, step)
        step("response times")
        times = timing.result()
    rate_tables, profiles, by_area, weeks, bg_counts, hotspots = measured

    step("write")
    summary = _summary(
        source_name=source_name,
        n_calls=n_calls,
        n_synthetic=n_synthetic,
        n_no_time=overview.n_no_time,
        received=(overview.received_from, overview.received_to),
        kind=overview.kind,
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
            # Only when the city gave its own files: default runs' summaries are unchanged.
            **({"taxonomy_files": dict(overview.own_files)} if overview.own_files else {}),
        },
        assignments=assignments,
        populations=populations,
        rate_tables=rate_tables,
        times=times,
        ranges=ranges,
        split=split,
        calls_by_tier=dict(overview.calls_by_tier),
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


def _geography(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> dict[str, Assignment]:
    """Each call's area in each of Tacoma's layers (block groups and the districts)."""
    tacoma = _tacoma()
    # All four layers at once; each point's area number as the smallest integer type that
    # holds them (a quarter of the memory of int64 for Tacoma's layers).
    layers = list(tacoma.areas.values())
    found = assign_points_layers(
        lon, lat, layers, index_type=_smallest_signed(max(map(len, layers)))
    )
    return dict(zip(tacoma.areas, found, strict=True))


@contextlib.contextmanager
def _placing() -> Iterator[
    tuple[
        Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], None],
        Callable[[], concurrent.futures.Future[dict[str, Assignment]] | None],
    ]
]:
    """A `located` callback for `_read_calls` that places the calls (`_geography`) on a
    second thread while the rest is read (DuckDB and most of numpy let go of Python's
    lock), and a function giving that work's future (None if it was never begun)."""
    begun: list[concurrent.futures.Future[dict[str, Assignment]]] = []
    _tacoma()  # read here: a cache filled by two threads at once reads the layers twice
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:

        def located(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> None:
            begun.append(pool.submit(_geography, lon, lat))

        yield located, lambda: begun[0] if begun else None


def _response_times(
    calls: _Calls, districts: Assignment, *, n_boot: int, seed: int
) -> ResponseTimeTable:
    """Response times of the calls not started by officers, by priority and council district."""
    not_officer = ~calls.officer
    # Codes, not one Python string per call: index -2 (no location) and -1 (outside every
    # district) pick the two empty labels at the end, as `Assignment.point_codes` does.
    district_labels = [str(code) for code in np.array([*districts.codes, "", ""])]
    return response_times_from_codes(
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


def _other_measures(
    calls: _Calls,
    assignments: Mapping[str, Assignment],
    populations: Mapping[str, Mapping[str, float]],
    options: _Options,
    step: ProgressCallback,
) -> tuple[
    dict[str, RateTable],
    dict[str, TimeProfile],
    dict[str, EligibilityByArea],
    dict[str, AreaWeekProfile],
    dict[str, npt.NDArray[np.float64]],
    dict[str, Any],
]:
    """Rates, time-of-day profiles, eligibility by area and week, hot spots."""
    threshold, timezone = options.threshold, options.timezone
    block_groups = _tacoma().areas[BLOCK_GROUPS.key]
    bg_assignment = assignments[BLOCK_GROUPS.key]
    step("rates")
    n_months = len(calls.months)
    # One count of every call by (area + 2, month + 1): area -1 (outside every area) and -2
    # (no location) and month -1 (no time) get rows and a column of their own, so no call
    # is masked out first.
    month = calls.month_index.astype(np.int64) + 1
    rate_tables: dict[str, RateTable] = {}
    for geography in DISTRICTS:
        assignment = assignments[geography.key]
        n_areas = len(assignment.codes)
        cell = assignment.area_index.astype(np.int64)
        cell += 2
        cell *= n_months + 1
        cell += month
        table = np.bincount(cell, minlength=(n_areas + 2) * (n_months + 1))
        table = table.reshape(n_areas + 2, n_months + 1)[:, 1:]
        counts, no_area = table[2:], table[:2].sum(axis=0)
        rate_tables[geography.key] = rates_from_counts(
            counts,
            calls.months,
            {code: populations[geography.key][code] for code in assignment.codes},
            no_area_by_month=dict(zip(calls.months, no_area.tolist(), strict=True)),
            threshold=threshold,
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
                permutations=options.permutations,
                seed=options.seed,
                alpha=options.alpha,
            )

    return rate_tables, profiles, by_area, weeks, bg_counts, hotspots


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
    source_name: str,
    n_calls: int,
    n_synthetic: int,
    n_no_time: int,
    received: tuple[str | None, str | None],
    kind: str | None,
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
        placed = _parts(
            [assignment.n_assigned, assignment.n_outside, assignment.n_missing], threshold
        )
        geography[key] = {
            "label": label,
            "areas": len(assignment.codes),
            "assigned": placed[0],
            "outside_every_area": placed[1],
            "without_location": placed[2],
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
    # Parts of the whole (every call): withheld in pairs at least, since the whole is given.
    started = _parts([split.officer, split.public, split.unknown], threshold)
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
            "file": source_name,
            # calls (for service), incidents or requests (311): the profile's kind
            "kind": kind,
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
            "officer": started[0],
            "public": started[1],
            "unknown": started[2],
            "method": split.method,
        },
        "calls_by_tier": dict(
            zip(calls_by_tier, _parts(list(calls_by_tier.values()), threshold), strict=True)
        ),
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
        "trends": _trends(rate_tables, received, threshold, str(parameters["timezone"])),
        "files": dict(OUTPUT_FILES),
    }


#: Months compared in the period-over-period trend: the last `_TREND_MONTHS` complete
#: months against the `_TREND_MONTHS` before them.
_TREND_MONTHS = 3


def _complete_months(
    months: Sequence[str], received: tuple[str | None, str | None], timezone: str
) -> list[str]:
    """`months` (local) without a first or last month the calls cover only part of: the
    first call not on the 1st of its local month, the last not on the month's last day."""
    zone = zoneinfo.ZoneInfo(timezone)
    kept = list(months)
    first, last = received
    if kept and first is not None:
        moment = dt.datetime.fromisoformat(first).astimezone(zone)
        if moment.strftime("%Y-%m") == kept[0] and moment.day != 1:
            kept = kept[1:]
    if kept and last is not None:
        moment = dt.datetime.fromisoformat(last).astimezone(zone)
        if moment.strftime("%Y-%m") == kept[-1] and moment.day != _month_days(kept[-1]):
            kept = kept[:-1]
    return kept


def _month_days(month: str) -> int:
    year, number = int(month[:4]), int(month[5:7])
    return calendar.monthrange(year, number)[1]


def _trends(
    rate_tables: Mapping[str, RateTable],
    received: tuple[str | None, str | None],
    threshold: int,
    timezone: str,
) -> dict[str, Any]:
    """Period over period: calls in the last three complete months against the three before,
    citywide and per district, as a rate ratio per day with its exact interval
    (`measures.period_change`). A district's row is given only when none of its months in
    the two periods is withheld in the rates table (its sums then add nothing a reader
    could not work out), and when both counts reach the threshold."""
    found: dict[str, Any] = {"current": None, "previous": None, "areas": {}}
    table = rate_tables.get("council_district")
    if table is None:
        return found | {"note": "no rates table"}
    months = _complete_months(table.months, received, timezone)
    if len(months) < 2 * _TREND_MONTHS:
        return found | {
            "note": f"fewer than {2 * _TREND_MONTHS} complete months: no trend",
        }
    current, previous = months[-_TREND_MONTHS:], months[-2 * _TREND_MONTHS : -_TREND_MONTHS]
    days_current = sum(_month_days(m) for m in current)
    days_previous = sum(_month_days(m) for m in previous)
    found["current"] = {"from": current[0], "to": current[-1], "days": days_current}
    found["previous"] = {"from": previous[0], "to": previous[-1], "days": days_previous}
    for key, rates in rate_tables.items():
        withheld = {(c.area, c.month) for c in rates.cells if c.suppressed}
        now = _area_calls(rates, current)
        before = _area_calls(rates, previous)
        rows = []
        changes = period_change(
            now, before, exposure_current=days_current, exposure_previous=days_previous
        )
        for change in changes.changes:
            hidden = (
                change.current < threshold
                or change.previous < threshold
                or any((change.area, m) in withheld for m in (*current, *previous))
            )
            rows.append(_trend_row(change, hidden))
        found["areas"][key] = rows
    city_now, city_before = _city_calls(table, current), _city_calls(table, previous)
    (city,) = period_change(
        {"city": city_now},
        {"city": city_before},
        exposure_current=days_current,
        exposure_previous=days_previous,
    ).changes
    found["city"] = _trend_row(city, city_now < threshold or city_before < threshold)
    found["method"] = (
        f"calls in the last {_TREND_MONTHS} complete local months against the "
        f"{_TREND_MONTHS} before, per day: "
        + changes.method
        + f"; a district's row is withheld when a count is under {threshold} or one of its "
        "months in either period is withheld in the rates table"
    )
    return found


def _area_calls(rates: RateTable, months: Sequence[str]) -> dict[str, int]:
    """Each area's calls over `months` (unsuppressed counts: for the ratio only)."""
    columns = [rates.months.index(m) for m in months if m in rates.months]
    return {area: int(rates.counts[i, columns].sum()) for i, area in enumerate(rates.areas)}


def _city_calls(rates: RateTable, months: Sequence[str]) -> int:
    """Every call over `months`: the areas' and those with no area."""
    return sum(_area_calls(rates, months).values()) + sum(
        rates.no_area_by_month.get(m, 0) for m in months
    )


def _trend_row(change: PeriodChange, hidden: bool) -> dict[str, Any]:
    if hidden:
        return {
            "area": change.area,
            "current": None,
            "previous": None,
            "ratio": None,
            "ratio_low": None,
            "ratio_high": None,
        }
    return {
        "area": change.area,
        "current": change.current,
        "previous": change.previous,
        "ratio": _rounded(change.ratio, 3),
        "ratio_low": _rounded(change.ratio_low, 3),
        "ratio_high": _rounded(change.ratio_high, 3),
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
                if month in table.no_area_withheld:
                    shown = None
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
            # The block groups' counts add up to the calls placed in one, which the summary
            # gives: complementary suppression, so that no withheld count is a difference.
            withheld = suppress_partition([int(c) for c in counts], threshold)
            for i, area in enumerate(block_groups):
                shown = not withheld[i]
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


#: The report's words for the input's kind (`summary["input"]["kind"]`; older summaries
#: have none).
_KIND_WORDS: dict[str | None, str] = {
    "calls": "calls for service",
    "incidents": "crime incidents",
    "requests": "service requests (311)",
    "mixed": "mixed: more than one kind of data",
}


def _sections(summary: Mapping[str, Any], folder: Path) -> list[Section]:
    data = summary["input"]
    sections = [
        _section(
            "Data",
            ("Item", "Value"),
            [
                ("Input file", str(data["file"])),
                ("Kind of data", _KIND_WORDS.get(data.get("kind"), "not recorded")),
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
    trends = summary.get("trends") or {}
    if trends.get("current") and trends.get("previous"):
        now, before = trends["current"], trends["previous"]
        rows = [("Citywide", trends["city"])] + [
            (f"Council district {row['area']}", row)
            for row in trends["areas"].get("council_district", [])
        ]
        sections.append(
            _section(
                f"Change: {now['from']} to {now['to']} against {before['from']} to {before['to']}",
                ("Where", "Calls before", "Calls now", "Rate ratio per day", "95% interval"),
                [
                    (
                        where,
                        _number(row["previous"]),
                        _number(row["current"]),
                        _number(row["ratio"], 2),
                        "withheld"
                        if row["ratio_low"] is None
                        else f"{_number(row['ratio_low'], 2)} to {_number(row['ratio_high'], 2)}",
                    )
                    for where, row in rows
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
    "SUMMARY_COUNT_KEYS",
    "TIME_BY_DISTRICT_HEADER",
    "AnalysisResult",
    "Geography",
    "PipelineError",
    "Report",
    "RunResult",
    "Section",
    "analyze",
    "load_summary",
    "run",
    "write_report",
]
