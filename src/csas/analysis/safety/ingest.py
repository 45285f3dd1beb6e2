"""Ingestion: a city's raw call, incident or 311 export into one normalised Parquet file.

`ingest` reads a CSV (optionally gzipped), Parquet or GeoJSON file through DuckDB, out of core
(``memory_limit`` and a spill folder bound the memory), maps its columns with a `Profile`, and
writes a Parquet file with the fixed schema `NORMALISED_COLUMNS`. It returns an `IngestReport`
that accounts for every input row: kept, rejected with a reason, or removed as a duplicate.

What happens to a row, in order (the first failing check decides the reason):

1. The CSV reader cannot split the line into the header's fields (too many or too few fields,
   an unclosed quote, bytes that are not in the file's encoding): ``malformed_record``.
2. A field the profile lists as required is empty: ``missing_required_field``.
3. A time field has text that none of the profile's formats reads: ``unparseable_timestamp``.
4. A GeoJSON geometry that is not a point, when the profile reads locations from geometries:
   ``geometry_not_point``.
5. Only one of the two coordinates is given: ``incomplete_coordinates``; a coordinate is not a
   number: ``unparseable_coordinates``.
6. After the swap check, longitude is outside [-180, 180] or latitude outside [-90, 90] (or the
   projection from a state plane failed, or landed more than 5 degrees outside the CRS's area
   of use): ``coordinates_out_of_range``.
7. Among the rows that pass, duplicates are removed, keeping the first in file order:
   ``duplicate_row`` (every mapped column equal to an earlier row's) or ``duplicate_source_id``
   (same source id as an earlier row, some other column different). With
   ``deduplicate_on: full_row`` only the first kind is looked for.

Kept rows are never silently altered beyond what the report counts: text is trimmed; empty
cells and the profile's ``null_values`` become NULL; a missing location (no coordinates, the
profile's ``missing_values``, or exactly 0, 0) is kept without a location and counted;
swapped longitude/latitude are exchanged back and counted (rule: latitude outside [-90, 90]
while longitude would fit, or, with the profile's ``bbox``, the point outside the box but
inside it once exchanged); points outside the ``bbox`` are kept and counted.

Time zones: local times are read in the profile's ``timezone`` and stored in UTC. In the hour
repeated when clocks go back, and in the hour skipped when they go forward, a local time is
ambiguous or does not exist; csas (through DuckDB's ICU time zones) reads both as standard
time: 01:30 on the night clocks go back is the second 01:30 (PST), and 02:30 on the night
they go forward becomes 03:30 PDT. The report counts such rows (``dst_ambiguous``,
``dst_nonexistent``). Times with an offset (``%z``, ISO 8601 with ``Z`` or ``+hh:mm``) and epoch
times are absolute and need no zone.

Nothing partial is written: the Parquet file is written beside the output under a temporary
name and renamed into place only when complete.

Example: three rows, one repeated and one without a call type; 02:30 on 10 March 2024 did not
exist in Los Angeles.

>>> import tempfile, pathlib
>>> from csas.analysis.safety.profiles import profile_from_mapping
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "calls.csv").write_text(
...     "id,type,when\\n7,TRESPASS,2024-03-10 02:30:00\\n7,TRESPASS,2024-03-10 02:30:00\\n8,,\\n"
... )
>>> profile = profile_from_mapping({
...     "profile": "example", "title": "Example", "kind": "calls",
...     "timezone": "America/Los_Angeles", "time_formats": ["iso8601"],
...     "columns": {"source_id": "id", "call_type": "type", "received_at": "when"},
... })
>>> report = ingest(folder / "calls.csv", profile=profile, output=folder / "calls.parquet")
>>> report.input_rows, report.kept_rows, report.rejected_rows, report.duplicate_rows
(3, 1, 1, 1)
>>> dict(report.rejected_by_reason), dict(report.duplicates_by_reason), report.dst_nonexistent
({'missing_required_field': 1}, {'duplicate_row': 1}, 1)
>>> report.received_from
'2024-03-10T10:30:00+00:00'
"""

# SQL in this module is assembled only from csas's own fragments: file paths, values and the
# profile's column names reach DuckDB as bound parameters, or as identifiers quoted by
# _quote_identifier, never as text pasted into a query.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import functools
import gzip
import io
import json
import math
import os
import re
import tempfile
import time
import uuid
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyproj

from csas.analysis.safety.profiles import (
    FIELDS,
    TIME_FIELDS,
    Field,
    InputFormat,
    Profile,
    load_profile,
)

SCHEMA_VERSION = 1

#: Why a row was rejected, by reason code.
REJECTION_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "malformed_record": "the CSV reader could not split the line into the header's fields "
        "(wrong number of fields, an unclosed quote, or bytes not in the file's encoding); "
        "its row number is the file's line number (the header is line 1)",
        "missing_required_field": "a field the profile lists under `required` is empty",
        "unparseable_timestamp": "a time field's text matches none of the profile's formats",
        "geometry_not_point": "the GeoJSON feature's geometry is not a Point",
        "incomplete_coordinates": "only one of the two coordinates is given",
        "unparseable_coordinates": "a coordinate is not a number",
        "coordinates_out_of_range": "longitude outside [-180, 180] or latitude outside "
        "[-90, 90] even after the swap check, or the projection to longitude/latitude failed",
    }
)

#: Why a row was removed as a duplicate, by reason code.
DUPLICATE_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "duplicate_row": "every mapped column equals an earlier row's (the first is kept)",
        "duplicate_source_id": "same source id as an earlier row, with some other column "
        "different (the first is kept)",
    }
)


@dataclass(frozen=True)
class NormalisedColumn:
    """One column of the normalised table: its name, DuckDB type and meaning."""

    name: str
    type: str
    meaning: str


#: The fixed schema of every normalised Parquet file, in column order.
NORMALISED_COLUMNS: tuple[NormalisedColumn, ...] = (
    NormalisedColumn(
        "row_number", "BIGINT", "the row's number in the input file: 1 is the first data row"
    ),
    NormalisedColumn("source_kind", "VARCHAR", "calls, incidents or requests (the profile's kind)"),
    NormalisedColumn("source_id", "VARCHAR", "the source's own identifier (CAD event, case no.)"),
    NormalisedColumn(
        "received_at",
        "TIMESTAMP WITH TIME ZONE",
        "when the call was received (queued), in UTC; for incidents, when it occurred",
    ),
    NormalisedColumn("dispatched_at", "TIMESTAMP WITH TIME ZONE", "first unit dispatched, UTC"),
    NormalisedColumn("arrived_at", "TIMESTAMP WITH TIME ZONE", "first unit on scene, UTC"),
    NormalisedColumn("cleared_at", "TIMESTAMP WITH TIME ZONE", "call cleared or closed, UTC"),
    NormalisedColumn("call_type", "VARCHAR", "the local call type as first recorded"),
    NormalisedColumn("final_call_type", "VARCHAR", "the local call type at closing"),
    NormalisedColumn("priority", "VARCHAR", "the source's priority code, as text"),
    NormalisedColumn("disposition", "VARCHAR", "how the call was cleared"),
    NormalisedColumn(
        "initiated_by", "VARCHAR", "officer, public or unknown (from the profile's initiated_by)"
    ),
    NormalisedColumn("initiated_raw", "VARCHAR", "the source's text that initiated_by came from"),
    NormalisedColumn("lon", "DOUBLE", "longitude, WGS84 degrees (NULL: no location)"),
    NormalisedColumn("lat", "DOUBLE", "latitude, WGS84 degrees (NULL: no location)"),
    NormalisedColumn("x", "DOUBLE", "easting as given, when the source is in a projected CRS"),
    NormalisedColumn("y", "DOUBLE", "northing as given, when the source is in a projected CRS"),
    NormalisedColumn(
        "coordinates_swapped", "BOOLEAN", "true when longitude and latitude were exchanged back"
    ),
    NormalisedColumn(
        "extra", "JSON", "the profile's keep_columns as a JSON object: column name -> text"
    ),
)

_TEXT_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f not in TIME_FIELDS)
_ISO_OFFSET = r"(Z|z|[+-]\d\d(:?\d\d)?)$"
#: A local ISO 8601 time, whole: DuckDB's cast to TIMESTAMP ignores text it does not
#: understand after the time ("2023-07-01 1:00:00 PM" would be 01:00, "07/01/23" the year 7).
_ISO_LOCAL = r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?$"
#: Times outside these years are taken for misreadings (a two-digit year read as the year
#: 23, a placeholder like 1/1/1800) and count as unparseable.
_EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
_DIGITS = "0123456789"  # RE2's \d: ASCII digits only
#: The texts `_ISO_OFFSET` finds at the end of a value, one character class per character.
_OFFSET_FORMS: tuple[tuple[str, ...], ...] = (
    ("Zz",),
    ("+-", _DIGITS, _DIGITS),
    ("+-", _DIGITS, _DIGITS, _DIGITS, _DIGITS),
    ("+-", _DIGITS, _DIGITS, ":", _DIGITS, _DIGITS),
)
#: At most this many endings settle the ISO 8601 offset test before the regular expression, ...
_OFFSET_SHORTCUTS = 3
#: ... each ending that many of the sampled values (a share) of a time column, ...
_OFFSET_SHORTCUT_SHARE = 0.1
#: ... among at most so many of the sampled records.
_OFFSET_SAMPLE_ROWS = 10_000
_VALUE_LIMIT = 200
#: Records sampled for the values of the text columns kept as ENUMs (see `_dictionaries`)
#: and the common endings of the time columns (see `_offset_shortcuts`).
_SAMPLE_ROWS = 50_000
#: At most this many distinct values in the sample make a text column an ENUM, ...
_DICTIONARY_LIMIT = 4096
#: ... if its values are this long on average (shorter text is as small as an ENUM).
_DICTIONARY_MIN_LENGTH = 8
#: About this many kept rows' hashes (128 MB) are sorted at once to find repeated ones: the
#: hash space is cut into that many slices on average (copies of one hash share a slice).
_HASHES_PER_SLICE = 16_000_000
#: Degrees around a projected CRS's area of use within which a projected point is believable.
_AREA_MARGIN = 5.0


class IngestError(ValueError):
    """The input file cannot be ingested at all; the message names the file and the fix."""


class MissingColumnError(IngestError):
    """A column the profile maps is not in the file.

    Fields:
        path: the input file.
        profile_field: the profile field that maps it (``columns.received_at``).
        column: the column name expected.
        available: the columns the file has.
    """

    def __init__(
        self,
        path: Path,
        profile: Profile,
        missing: Sequence[tuple[str, str]],
        available: Sequence[str],
        hint: str = "",
    ) -> None:
        self.path = path
        self.profile_field = missing[0][0]
        self.column = missing[0][1]
        self.available = tuple(available)
        lines = []
        for profile_field, column in missing:
            line = (
                f"{path.name}: column {column!r} not found (profile {profile.label}, "
                f"field {profile_field})"
            )
            close = difflib.get_close_matches(column, available, n=1)
            if close:
                line += f"; did you mean {close[0]!r}?"
            lines.append(line)
        shown = ", ".join(repr(c) for c in available[:40])
        more = f" and {len(available) - 40} more" if len(available) > 40 else ""
        lines.append(f"{path.name} has the columns {shown}{more}.{hint}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class RowProblem:
    """A sampled rejected or duplicate row.

    Fields:
        row_number: the row's number in the file, 1 = first data row; for ``malformed_record``
            the file's line number instead (the header is line 1).
        reason: the reason code (see `REJECTION_REASONS`, `DUPLICATE_REASONS`).
        column: the file's column at fault, or None when no single column is.
        value: the offending text (None when the field was empty), cut to 200 characters;
            for duplicates, which row it repeats.
    """

    row_number: int
    reason: str
    column: str | None
    value: str | None


@dataclass(frozen=True)
class IngestReport:
    """What ingestion did with every input row.

    ``input_rows == kept_rows + rejected_rows + duplicate_rows`` always holds.

    Fields:
        input_path / output_path: the files read and written (output_path None when the
            rows were analysed in memory without writing Parquet: `ingested`).
        profile: the profile's name.
        input_format: csv, parquet or geojson.
        input_rows: data rows (records) in the input.
        kept_rows: rows written to the output.
        rejected_rows: rows not written because of a problem (see ``rejected_by_reason``).
        duplicate_rows: rows not written because they repeat an earlier row.
        rejected_by_reason / duplicates_by_reason: counts by reason code.
        samples: up to ``sample_size`` example rows per reason, in file order.
        kept_without_coordinates: kept rows with no location.
        coordinates_swapped: kept rows whose longitude and latitude were exchanged back.
        outside_bbox: kept rows with a location outside the profile's bbox.
        dst_ambiguous / dst_nonexistent: kept rows with a local time in the repeated or skipped
            hour of a daylight-saving change (read as standard time).
        initiated_by: kept rows by officer / public / unknown.
        unrecognised_initiated_values: the commonest initiated_by texts the profile does not
            list, with counts (for staff to add to the profile).
        received_from / received_to: earliest and latest received_at kept (ISO 8601, UTC).
        warnings: things a person should look at.
        seconds: wall-clock time taken.
    """

    input_path: str
    output_path: str | None
    profile: str
    input_format: str
    input_rows: int
    kept_rows: int
    rejected_rows: int
    duplicate_rows: int
    rejected_by_reason: Mapping[str, int]
    duplicates_by_reason: Mapping[str, int]
    samples: tuple[RowProblem, ...]
    kept_without_coordinates: int
    coordinates_swapped: int
    outside_bbox: int
    dst_ambiguous: int
    dst_nonexistent: int
    initiated_by: Mapping[str, int]
    unrecognised_initiated_values: tuple[tuple[str, int], ...]
    received_from: str | None
    received_to: str | None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def accounted(self) -> bool:
        """Whether every input row is kept, rejected or a duplicate (always true)."""
        return self.input_rows == self.kept_rows + self.rejected_rows + self.duplicate_rows

    def samples_for(self, reason: str) -> tuple[RowProblem, ...]:
        """The sampled rows for one reason code."""
        return tuple(s for s in self.samples if s.reason == reason)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready types, with the meaning of each reason present."""
        data: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for item in fields(self):
            data[item.name] = getattr(self, item.name)
        data["samples"] = [asdict(sample) for sample in self.samples]
        data["warnings"] = list(self.warnings)
        data["rejected_by_reason"] = dict(self.rejected_by_reason)
        data["duplicates_by_reason"] = dict(self.duplicates_by_reason)
        data["initiated_by"] = dict(self.initiated_by)
        data["unrecognised_initiated_values"] = [
            {"value": v, "rows": n} for v, n in self.unrecognised_initiated_values
        ]
        meanings = {**REJECTION_REASONS, **DUPLICATE_REASONS}
        present = [*self.rejected_by_reason, *self.duplicates_by_reason]
        data["reason_meanings"] = {code: meanings[code] for code in present}
        data["accounted"] = self.accounted
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


ProgressCallback = Callable[[str], None]


@dataclass
class _Source:
    """Where the input's records come from, and the raw text of each mapped field in them.

    Fields:
        from_sql: a FROM item yielding one row per record, in file order. A CSV's takes
            ``$rejects_table`` and ``$rejects_scan``: every read of it names its own.
        raw: working name (``r_call_type`` ...) -> SQL of that field's raw text in a record.
        streamed: whether the first records can be read without reading the rest (not so
            for GeoJSON, parsed whole).
    """

    from_sql: str
    raw: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    temporal_fields: frozenset[str] = frozenset()
    empty: bool = False
    warnings: list[str] = field(default_factory=list)
    header: list[str] | None = None  # a CSV's column names, to name columns in reader errors
    streamed: bool = True


def ingest(
    path: str | os.PathLike[str],
    *,
    profile: Profile | str | os.PathLike[str],
    output: str | os.PathLike[str],
    input_format: InputFormat | None = None,
    memory_limit: str = "2GB",
    threads: int | None = None,
    temp_directory: str | os.PathLike[str] | None = None,
    sample_size: int = 20,
    batch_size: int = 1_000_000,
    max_geojson_bytes: int = 1 << 30,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Normalise one export file into a Parquet file and account for every row.

    Args:
        path: the CSV (``.csv``, ``.csv.gz``, ``.tsv``, ``.txt``), Parquet or GeoJSON file.
        profile: a `Profile`, a shipped profile's name (``seattle-spd``) or a profile file.
        output: the Parquet file to write (replaced atomically if it exists).
        input_format: csv, parquet or geojson; by default from the file's extension, then
            the profile's ``input.format``.
        memory_limit: DuckDB's memory limit (``"2GB"``); beyond it DuckDB spills to disk.
        threads: DuckDB threads (default: all cores).
        temp_directory: where the working database and spill files go (default: the
            system's temporary folder); removed afterwards.
        sample_size: example rows kept in the report per reason.
        batch_size: distinct coordinate pairs per pyproj batch (state-plane input only).
        max_geojson_bytes: the largest GeoJSON file read (GeoJSON is read whole).
        progress: called with the name of each step as it starts.

    Returns:
        The `IngestReport`.

    Raises:
        ProfileError: the profile is malformed (names the file and field).
        MissingColumnError: a mapped column is not in the file (names the profile field and
            the column expected).
        IngestError: the file is missing or cannot be read as the format given.
    """
    with ingested(
        path,
        profile=profile,
        output=output,
        input_format=input_format,
        memory_limit=memory_limit,
        threads=threads,
        temp_directory=temp_directory,
        sample_size=sample_size,
        batch_size=batch_size,
        max_geojson_bytes=max_geojson_bytes,
        progress=progress,
    ) as session:
        return session.report


@dataclass(frozen=True)
class Ingested:
    """An ingested export still held by its DuckDB connection (see `ingested`).

    Fields:
        con: the connection; its table ``records`` holds every input record, and the view
            `relation` the kept rows in the normalised schema, in file order.
        relation: the name of that view: what the normalised Parquet file would hold, to
            read with SQL on `con` while the session lasts.
        report: the `IngestReport` (``output_path`` None when no Parquet file was written).
        synthetic_sql: a condition on `relation` true exactly for rows whose ``extra`` has
            ``synthetic`` = ``yes`` (the generator's label), cheaper than reading the JSON.
        enum_columns: normalised text columns (``call_type``, ``initiated_by``,
            ``initiated_raw``) that can be read as numbers (`EnumCodes`) where their values
            are held as an ENUM's.
    """

    con: duckdb.DuckDBPyConnection
    relation: str
    report: IngestReport
    synthetic_sql: str
    enum_columns: Mapping[str, EnumCodes] = field(default_factory=dict)


@dataclass(frozen=True)
class EnumCodes:
    """How to read a text column of `Ingested.relation` as small numbers instead of text.

    Fields:
        sql: an ENUM-typed expression on the relation; where it is not NULL,
            ``enum_code(sql)`` is a row's number and the column's text is ``values`` at that
            number. Where it is NULL (a value the ENUM lacks, or none), read the column.
        values: the column's text for each number (several numbers may share a text).
    """

    sql: str
    values: tuple[str, ...]


@contextlib.contextmanager
def ingested(
    path: str | os.PathLike[str],
    *,
    profile: Profile | str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    input_format: InputFormat | None = None,
    memory_limit: str = "2GB",
    threads: int | None = None,
    temp_directory: str | os.PathLike[str] | None = None,
    sample_size: int = 20,
    batch_size: int = 1_000_000,
    max_geojson_bytes: int = 1 << 30,
    progress: ProgressCallback | None = None,
) -> Iterator[Ingested]:
    """Ingest like `ingest`, then keep the normalised rows in DuckDB for the caller to read.

    For one command that ingests and analyses (`csas safety run`): the rows are read from
    memory instead of being written to Parquet and read back. The Parquet file is written
    only when `output` is given. Arguments as for `ingest`; the working database and its
    connection are gone when the ``with`` block ends.
    """
    started = time.perf_counter()
    check_memory_limit(memory_limit)
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    source_path = Path(path)
    output_path = None if output is None else Path(output)
    if sample_size < 0 or batch_size < 1:
        raise ValueError("sample_size must be >= 0 and batch_size >= 1")
    if not source_path.is_file():
        raise IngestError(f"{source_path}: no such file")
    if output_path is not None and output_path.resolve() == source_path.resolve():
        raise IngestError(f"{output_path}: the output would overwrite the input")
    fmt = _detect_format(source_path, profile, input_format)
    if output_path is not None:
        output_path.parent.mkdir(parents=True, exist_ok=True)

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    with (
        tempfile.TemporaryDirectory(prefix="csas-ingest-", dir=temp_directory) as work,
        contextlib.closing(
            duckdb.connect(
                ":memory:",
                config={
                    "memory_limit": memory_limit,
                    "temp_directory": str(Path(work) / "spill"),
                    "preserve_insertion_order": True,
                    "threads": threads or os.cpu_count() or 1,
                },
            )
        ) as con,
    ):
        _execute(con, "SET TimeZone = 'UTC'")
        # A library must not draw on the terminal: callers follow along through `progress`.
        _execute(con, "SET enable_progress_bar = false")
        _check_timezone(con, profile)
        step("read")
        source = _plan_source(con, source_path, profile, fmt, max_geojson_bytes)
        ingestion = _Ingestion(con, profile, source, sample_size=sample_size)
        ingestion.read()
        if not source.empty and ingestion.projected:
            step("coordinates")
            ingestion.project(batch_size)
        step("duplicates")
        ingestion.find_duplicates()
        if output_path is not None:
            step("write")
            ingestion.write(output_path)
        step("report")
        report = ingestion.report(
            source_path, output_path, fmt, time.perf_counter() - started, source.warnings
        )
        _execute(con, f"CREATE TEMP VIEW {_RELATION} AS {ingestion.relation_sql()}")
        yield Ingested(con, _RELATION, report, ingestion.synthetic_sql(), ingestion.enum_columns())


def check_memory_limit(memory_limit: str) -> None:
    """Raise ValueError, naming the setting, unless DuckDB accepts `memory_limit` ("2GB")."""
    try:
        duckdb.connect(":memory:", config={"memory_limit": memory_limit}).close()
    except duckdb.Error as exc:
        raise ValueError(f"memory_limit {memory_limit!r}: {_first_line(exc)}") from None


#: The view `ingested` leaves the normalised rows in.
_RELATION = "normalised_calls"


def _detect_format(path: Path, profile: Profile, given: InputFormat | None) -> InputFormat:
    if given is not None:
        if given not in ("csv", "parquet", "geojson"):
            raise ValueError(f"input_format must be csv, parquet or geojson, not {given!r}")
        return given
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".geojson", ".json")):
        return "geojson"
    if profile.input_format is not None:
        return profile.input_format
    raise IngestError(
        f"{path.name}: cannot tell the file's format from its name; expected .csv, .csv.gz, "
        ".parquet or .geojson (or pass input_format, or set input.format in the profile)"
    )


def _check_timezone(con: duckdb.DuckDBPyConnection, profile: Profile) -> None:
    try:
        con.execute("SELECT timezone(?, TIMESTAMP '2020-01-01')", [profile.timezone])
    except duckdb.Error:
        raise IngestError(
            f"{profile.label}: timezone {profile.timezone!r} is not known to DuckDB's ICU "
            "time zones; expected an IANA name such as 'America/Los_Angeles'"
        ) from None


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _mapped_columns(profile: Profile) -> list[tuple[str, str, str]]:
    """(alias in the working table, profile field, column in the file) for each mapped column."""
    mapped = [
        (f"r_{f}", f"columns.{f}", profile.columns[f]) for f in FIELDS if f in profile.columns
    ]
    coordinates = profile.coordinates
    if coordinates is not None and not coordinates.from_geometry:
        assert coordinates.x is not None  # noqa: S101 (the profile check requires x and y)
        assert coordinates.y is not None  # noqa: S101
        mapped += [("r_x", "coordinates.x", coordinates.x), ("r_y", "coordinates.y", coordinates.y)]
    mapped += [
        (f"k_{i}", f"keep_columns[{i}]", name) for i, name in enumerate(profile.keep_columns)
    ]
    return mapped


def _trimmed(text: str) -> str:
    """SQL: the text (a column) trimmed of the Unicode space separators at either end.

    DuckDB's trim() removes Unicode space separators (category Zs) and copies every value,
    which cost more than reading the CSV. Only values starting below '!' (a space, a control
    character or nothing), ending in a space or holding non-ASCII characters can change, so
    only those go through trim(); the tests are the cheapest DuckDB has (starts_with() costs
    several times a byte comparison).
    """
    return (
        f"CASE WHEN {text} < '!' OR ends_with({text}, ' ') OR strlen({text}) <> length({text}) "
        f"THEN trim({text}) ELSE {text} END"
    )


def _null_checked(text: str, null_param: str) -> str:
    """SQL: trimmed text (a column), NULL when empty or one of the null values (any case).

    upper() keeps the number of characters, so text longer than the longest null value, or
    shorter than the shortest, can be none of them; the byte-length tests (at least 1 and
    at most 4 bytes a character) spare even the character count for the (many) longer
    values and upper() for the short codes (a priority '1') below the shortest null value.
    """
    return (
        f"CASE WHEN strlen({text}) <= ${null_param}_bytes AND ({text} = '' OR "
        f"(strlen({text}) >= ${null_param}_shortest AND length({text}) <= ${null_param}_length "
        f"AND list_contains(${null_param}, upper({text})))) THEN NULL ELSE {text} END"
    )


def _clean(text: str, null_param: str) -> str:
    """SQL: `_null_checked` of `_trimmed`, inline, for the few rows that need it in a branch."""
    return _null_checked(f"({_trimmed(text)})", null_param)


def _null_param(alias: str) -> str:
    """Which null values apply to a working column: coordinates also have missing_values."""
    return "coordinate_nulls" if alias in ("r_x", "r_y") else "null_values"


def _check_columns(path: Path, profile: Profile, available: Sequence[str], hint: str = "") -> None:
    missing = [(where, col) for _, where, col in _mapped_columns(profile) if col not in available]
    if missing:
        raise MissingColumnError(path, profile, missing, available, hint)


def _plan_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    profile: Profile,
    fmt: InputFormat,
    max_geojson_bytes: int,
) -> _Source:
    if fmt == "csv":
        return _plan_csv(path, profile)
    if fmt == "parquet":
        return _plan_parquet(con, path, profile)
    return _plan_geojson(con, path, profile, max_geojson_bytes)


def _null_params(profile: Profile) -> dict[str, Any]:
    coordinate_missing = profile.coordinates.missing_values if profile.coordinates else ()
    null_values = list(profile.null_values)
    coordinate_nulls = list(dict.fromkeys([*profile.null_values, *coordinate_missing]))
    null_length = max((len(v) for v in null_values), default=0)
    coordinate_length = max((len(v) for v in coordinate_nulls), default=0)
    return {
        "null_values": null_values,
        "null_values_length": null_length,
        "null_values_bytes": 4 * null_length,
        "null_values_shortest": min((len(v) for v in null_values), default=0),
        "coordinate_nulls": coordinate_nulls,
        "coordinate_nulls_length": coordinate_length,
        "coordinate_nulls_bytes": 4 * coordinate_length,
        "coordinate_nulls_shortest": min((len(v) for v in coordinate_nulls), default=0),
    }


def _raw_text(profile: Profile, expression_for: Callable[[str], str]) -> dict[str, str]:
    """Working name -> SQL of the raw text, for every mapped column."""
    return {alias: expression_for(column) for alias, _, column in _mapped_columns(profile)}


def _read_csv_header(path: Path, profile: Profile) -> list[str] | None:
    """The header row, decoded; None for an empty file.

    Only the file's start is decoded, so a stray byte further down is left to the CSV
    reader (which rejects that line) instead of failing the whole file here.
    """
    dialect = profile.csv
    encoding = {"utf-8": "utf-8-sig", "utf-16": "utf-16", "latin-1": "latin-1"}[dialect.encoding]
    opener: Callable[..., Any] = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            start: bytes = handle.read(1 << 20)
    except (OSError, EOFError) as exc:
        raise IngestError(f"{path.name}: cannot read the file: {exc}") from None
    try:
        text = start.decode(encoding)
    except UnicodeDecodeError as exc:
        text = start[: exc.start].decode(encoding, errors="ignore")
        if "\n" not in text:
            raise IngestError(
                f"{path.name}: the header is not {dialect.encoding} text (byte {exc.start}); "
                "set input.encoding in the profile to the file's encoding "
                "(utf-8, utf-16 or latin-1)"
            ) from None
    try:
        reader = csv.reader(
            io.StringIO(text, newline=""),
            delimiter=dialect.delimiter,
            quotechar=dialect.quote,
            doublequote=dialect.escape == dialect.quote,
            escapechar=None if dialect.escape == dialect.quote else dialect.escape,
        )
        header: list[str] | None = next(reader, None)
    except csv.Error as exc:
        raise IngestError(f"{path.name}: cannot read the CSV header: {exc}") from None
    return header


def _plan_csv(path: Path, profile: Profile) -> _Source:
    header = _read_csv_header(path, profile)
    if header is None:
        return _empty_source(profile, "the file is empty: no header and no rows")
    header = [name.strip() for name in header]  # 'Beat ' in a header means 'Beat'
    if not any(name for name in header):
        raise IngestError(f"{path.name}: the first line is blank; expected the header row")
    hint = ""
    if len(header) == 1:
        for other in (";", "\t", "|", ","):
            if other != profile.csv.delimiter and other in header[0]:
                hint = (
                    f" The header has one column containing {other!r}: the file may be "
                    f"delimited by {other!r}; set input.delimiter in the profile."
                )
                break
    _check_columns(path, profile, header, hint)
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(name, index)
    for _, where, column in _mapped_columns(profile):
        if header.count(column) > 1:
            raise IngestError(
                f"{path.name}: column {column!r} (profile {profile.label}, field {where}) "
                f"appears {header.count(column)} times in the header; rename one of them"
            )
    columns = {f"c{i}": "VARCHAR" for i in range(len(header))}
    raw = _raw_text(profile, lambda column: f"c{positions[column]}")
    sql = (
        "read_csv($path, auto_detect = false, header = true, "
        "columns = $columns, delim = $delim, quote = $quote, escape = $escape, "
        "encoding = $encoding, store_rejects = true, rejects_table = $rejects_table, "
        "rejects_scan = $rejects_scan)"
    )
    params = {
        "path": str(path),
        "columns": columns,
        "delim": profile.csv.delimiter,
        "quote": profile.csv.quote,
        "escape": profile.csv.escape,
        "encoding": profile.csv.encoding,
        **_null_params(profile),
    }
    return _Source(sql, raw, params, header=header)


def _plan_parquet(con: duckdb.DuckDBPyConnection, path: Path, profile: Profile) -> _Source:
    try:
        described = _execute(con, "DESCRIBE SELECT * FROM read_parquet($path)", {"path": str(path)})
        schema = [(str(row[0]), str(row[1])) for row in described.fetchall()]
    except duckdb.Error as exc:
        raise IngestError(
            f"{path.name}: not a readable Parquet file ({_first_line(exc)})"
        ) from None
    names = [name for name, _ in schema]
    _check_columns(path, profile, names)
    types = dict(schema)
    temporal = frozenset(
        f
        for f in TIME_FIELDS
        if f in profile.columns
        and types[profile.columns[f]].upper().startswith(("TIMESTAMP", "DATE"))
    )
    raw = _raw_text(profile, lambda column: f"CAST({_quote_identifier(column)} AS VARCHAR)")
    return _Source(
        "read_parquet($path)",
        raw,
        {"path": str(path), **_null_params(profile)},
        temporal_fields=temporal,
    )


def _plan_geojson(
    con: duckdb.DuckDBPyConnection, path: Path, profile: Profile, max_bytes: int
) -> _Source:
    size = path.stat().st_size
    if size == 0:
        return _empty_source(profile, "the file is empty: no features")
    if size > max_bytes:
        raise IngestError(
            f"{path.name}: {size:,} bytes is more than the {max_bytes:,} GeoJSON limit "
            "(GeoJSON is read whole); export the layer as CSV or Parquet instead"
        )
    features = (
        "SELECT unnest(features) AS feature FROM read_json($path, format = 'unstructured', "
        "columns = {'type': 'VARCHAR', 'features': 'JSON[]'}, maximum_object_size = $max_bytes)"
    )
    params: dict[str, Any] = {"path": str(path), "max_bytes": max(size + 1024, 1 << 20)}
    try:
        kind = _execute(
            con,
            "SELECT type, features IS NULL FROM read_json($path, format = 'unstructured', "
            "columns = {'type': 'VARCHAR', 'features': 'JSON[]'}, "
            "maximum_object_size = $max_bytes)",
            params,
        ).fetchall()
        if len(kind) != 1 or kind[0][0] != "FeatureCollection" or kind[0][1]:
            found = kind[0][0] if len(kind) == 1 else f"{len(kind)} JSON values"
            raise IngestError(
                f"{path.name}: expected a GeoJSON FeatureCollection with a features list, "
                f"found {found!r}"
            )
        keys = [
            str(row[0])
            for row in _execute(
                con,
                f"SELECT DISTINCT unnest(json_keys(feature->'properties')) FROM ({features})",
                params,
            ).fetchall()
        ]
    except duckdb.Error as exc:
        raise IngestError(f"{path.name}: not valid GeoJSON ({_first_line(exc)})") from None
    count = _execute(con, f"SELECT count(*) FROM ({features})", params).fetchone()
    if count is None or count[0] == 0:
        return _empty_source(profile, "the GeoJSON has no features")
    _check_columns(path, profile, sorted(keys))
    key_params: dict[str, str] = {}

    def property_of(column: str) -> str:
        name = f"key_{len(key_params)}"
        key_params[name] = column
        return f"(feature->'properties'->>${name})"

    raw = _raw_text(profile, property_of)
    if profile.coordinates is not None and profile.coordinates.from_geometry:
        raw["r_geometry_type"] = "(feature->'geometry'->>'type')"
        raw["r_x"] = "(feature->'geometry'->'coordinates'->>0)"
        raw["r_y"] = "(feature->'geometry'->'coordinates'->>1)"
    return _Source(
        f"({features})", raw, {**params, **key_params, **_null_params(profile)}, streamed=False
    )


def _empty_source(profile: Profile, warning: str) -> _Source:
    """A source with no records (and the columns a real one would have)."""
    raw = {alias: "CAST(NULL AS VARCHAR)" for alias, _, _ in _mapped_columns(profile)}
    if profile.coordinates is not None and profile.coordinates.from_geometry:
        raw.update(dict.fromkeys(("r_geometry_type", "r_x", "r_y"), "CAST(NULL AS VARCHAR)"))
    return _Source(
        "(SELECT 1 AS nothing WHERE false)",
        raw,
        _null_params(profile),
        empty=True,
        warnings=[warning],
    )


#: A named parameter, or a quoted string or identifier (whose ``$`` is text, not a parameter:
#: a kept column may be called "$kind").
_PARAMETER = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$([A-Za-z_][A-Za-z0-9_]*)")


def _execute(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Run SQL with the named parameters it uses (DuckDB refuses unused ones)."""
    used = {name for name in _PARAMETER.findall(sql) if name}
    missing = used - set(params or {})
    if missing:
        raise KeyError(f"SQL parameters not given: {sorted(missing)}")
    return con.execute(sql, {k: v for k, v in (params or {}).items() if k in used})


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@dataclass(frozen=True)
class _Check:
    """One row check: an SQL condition, its reason code, the file column and offending text."""

    condition: str
    reason: str
    column: str
    value: str


class _Ingestion:
    """The SQL of one ingestion run, on one DuckDB connection.

    The input is read once, in file order, into `records` (so ``rowid + 1`` is the row
    number), which keeps only what the later steps need, small enough to stay in memory:
    ``code``, the first failed check (NULL for a row that passes; later also set for failed
    projections, duplicate candidates and duplicates); ``detail``, the offending text of a
    rejected row, or the local times of a row that may fall in a daylight-saving change;
    ``h``, the hash duplicates are looked for by; the clean text written out (as an ENUM
    where a column has few values); and the parsed times and location. The Parquet file is
    then written from `records` in parallel, the row numbers coming from its rowid: numbering
    the rows of a CSV while reading it (a window function, WITH ORDINALITY or a POSITIONAL
    JOIN) makes DuckDB read it, and everything after, on one thread.

    What `records` cannot answer for a few rows (the times and coordinates as written, for
    duplicate candidates; the coordinates of a failed projection) is read again: by content,
    in parallel, where that settles it, else lined up with `records` by a POSITIONAL JOIN. A
    CSV reader only checks the columns a query uses (a byte that is not UTF-8 in a column
    left unread is no error), so a lined-up read uses every mapped column, and its malformed
    lines are compared with the first read's.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        profile: Profile,
        source: _Source,
        *,
        sample_size: int,
    ) -> None:
        self.con = con
        self.profile = profile
        self.source = source
        self.sample_size = sample_size
        self.header = source.header
        coordinates = profile.coordinates
        bbox = coordinates.bbox if coordinates is not None else None
        self.projected = coordinates is not None and not coordinates.is_wgs84
        self.checks = self._checks()
        # Codes beyond the checks' own (1 .. number of checks).
        self.out_of_range = len(self.checks) + 1
        self.projection_failed = len(self.checks) + 2
        self.candidate = len(self.checks) + 3
        self.duplicate = len(self.checks) + 4
        if coordinates is None:
            coordinate_columns = ""
        elif coordinates.from_geometry:
            coordinate_columns = "geometry"
        else:
            coordinate_columns = f"{coordinates.x} / {coordinates.y}"
        self.params: dict[str, Any] = {
            **source.params,
            "tz": profile.timezone,
            "iso_offset": _ISO_OFFSET,
            "iso_local": _ISO_LOCAL,
            "earliest": _EARLIEST,
            "latest": _LATEST,
            "has_bbox": bbox is not None,
            "west": bbox[0] if bbox else 0.0,
            "south": bbox[1] if bbox else 0.0,
            "east": bbox[2] if bbox else 0.0,
            "north": bbox[3] if bbox else 0.0,
            "kind": profile.kind,
            "officer": list(profile.initiated_officer),
            "public": list(profile.initiated_public),
            "known": [*profile.initiated_officer, *profile.initiated_public],
            "keep_names": list(profile.keep_columns),
            "reason_names": [check.reason for check in self.checks]
            + ["coordinates_out_of_range"] * 2,
            "reason_columns": [check.column for check in self.checks] + [coordinate_columns] * 2,
            "last_rejection": self.projection_failed,
        }
        self.times = {
            name: self._time_expressions(name) for name in TIME_FIELDS if name in profile.columns
        }
        self.dictionaries: dict[str, str] = {}
        self.literal_values = False  # see `_value`
        # Time field -> SQL settling its ISO 8601 offset test for common endings (see
        # `_offset_sql`); set from a sample when reading.
        self.offset_shortcuts: dict[str, str] = {}
        # Daylight-saving changes are looked up only when some time is read as local time.
        self.transitions: tuple[_Transition, ...] = ()
        if any(local is not None for local, _, _ in self.times.values()):
            self.transitions = _dst_transitions(profile.timezone)
        if self.transitions:
            days, start = _dst_days(self.transitions)
            self.params.update(
                dst_days=days,
                dst_base=start,
                dst_from=dt.datetime.combine(start, dt.time()),
                dst_to=dt.datetime.combine(start + dt.timedelta(days=len(days)), dt.time()),
            )

    def _value(self, name: str) -> str:
        """A parameter in SQL: ``$name``, or its value as a literal while `relation_sql`
        writes a view (which cannot take parameters)."""
        return _sql_literal(self.params[name]) if self.literal_values else f"${name}"

    def _param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def _scan(
        self, sql: str, name: str, extra: Mapping[str, Any] | None = None
    ) -> duckdb.DuckDBPyConnection:
        """Run SQL that reads the source; a CSV's malformed lines go to csv_rejects_<name>."""
        rejects = {"rejects_table": f"csv_rejects{name}", "rejects_scan": f"csv_scans{name}"}
        return _execute(self.con, sql, {**self.params, **rejects, **(extra or {})})

    def _check_aligned(self, name: str) -> None:
        """Raise unless a later read of a CSV skipped the same malformed lines as the first."""
        if self.header is None:
            return
        counts = _execute(
            self.con,
            "SELECT (SELECT count(DISTINCT line) FROM csv_rejects), "
            f"(SELECT count(DISTINCT line) FROM csv_rejects{name})",
        ).fetchone()
        if counts is None or counts[0] != counts[1]:  # pragma: no cover (a DuckDB change)
            raise RuntimeError(
                f"the CSV reader skipped other lines on a second read ({counts}); "
                "the rows cannot be lined up"
            )

    # -- checks ----------------------------------------------------------------------------

    def _checks(self) -> list[_Check]:
        """The row checks in the order they are applied (the first failing one decides)."""
        profile = self.profile
        checks = [
            _Check(f"r_{name} IS NULL", "missing_required_field", profile.columns[name], "NULL")
            for name in profile.required
        ]
        checks += [
            _Check(
                f"r_{name} IS NOT NULL AND t_{name} IS NULL",
                "unparseable_timestamp",
                profile.columns[name],
                f"r_{name}",
            )
            for name in TIME_FIELDS
            if name in profile.columns
        ]
        coordinates = profile.coordinates
        if coordinates is not None:
            label = "geometry"
            if coordinates.from_geometry:
                checks.append(
                    _Check(
                        "r_geometry_type IS NOT NULL AND r_geometry_type <> 'Point'",
                        "geometry_not_point",
                        "geometry",
                        "r_geometry_type",
                    )
                )
            else:
                label = f"{coordinates.x} / {coordinates.y}"
            checks.append(
                _Check("(r_x IS NULL) <> (r_y IS NULL)", "incomplete_coordinates", label, _PAIR)
            )
            checks.append(
                _Check(
                    "r_x IS NOT NULL AND r_y IS NOT NULL AND (x_num IS NULL OR y_num IS NULL)",
                    "unparseable_coordinates",
                    label,
                    _PAIR,
                )
            )
        return checks

    def _time_expressions(self, time_field: Field) -> tuple[str | None, str | None, str | None]:
        """SQL for (the naive local time, the absolute time, the offset test) of a time field.

        Local-time formats are tried first, in the profile's order, then the formats that
        carry their own offset (epoch_ms, epoch_s, %z, ISO 8601 with Z or +hh:mm). Both are
        short-circuited: a later format is only tried on text the earlier ones did not read.
        The ISO 8601 offset test is computed once (as ``o_<field>``) and used by both. None
        stands for no format of that kind.
        """
        raw = f"r_{time_field}"
        formats = list(self.profile.formats_for(time_field))
        if time_field in self.source.temporal_fields and "iso8601" not in formats:
            formats.append("iso8601")
        locals_, absolutes = [], []
        offset = None
        for fmt in formats:
            if fmt in ("epoch_ms", "epoch_s"):
                scale = "1000.0" if fmt == "epoch_ms" else "1.0"
                limit = "1e14" if fmt == "epoch_ms" else "1e11"  # about the year 5000
                number = f"try_cast({raw} AS DOUBLE)"
                absolutes.append(
                    f"CASE WHEN abs({number}) < {limit} THEN to_timestamp({number} / {scale}) END"
                )
            elif fmt == "iso8601":
                offset = f"regexp_matches({raw}, $iso_offset)"
                locals_.append(
                    f"CASE WHEN NOT o_{time_field} AND regexp_full_match({raw}, $iso_local) "
                    f"THEN try_cast({raw} AS TIMESTAMP) END"
                )
                absolutes.append(
                    f"CASE WHEN o_{time_field} THEN try_cast({raw} AS TIMESTAMPTZ) END"
                )
            elif "%z" in fmt or "%Z" in fmt:
                absolutes.append(f"try_strptime({raw}, {self._param(fmt)})")
            else:
                locals_.append(f"try_strptime({raw}, {self._param(fmt)})")

        def first(terms: list[str]) -> str | None:
            if not terms:
                return None
            return terms[0] if len(terms) == 1 else f"coalesce({', '.join(terms)})"

        return first(locals_), first(absolutes), offset

    def _location_sql(self) -> str:
        """SQL for lon, lat, coordinates_swapped (state-plane rows are filled in by project)."""
        usable = "(x_num IS NOT NULL AND y_num IS NOT NULL AND NOT (x_num = 0 AND y_num = 0))"
        if self.projected:
            # NaN or infinite x/y cannot be projected: an infinite longitude marks them out
            # of range; `project` fills in the rest.
            infinite = (
                f"CASE WHEN {usable} AND NOT (isfinite(x_num) AND isfinite(y_num)) "
                "THEN 'Infinity'::DOUBLE END"
            )
            return f"{infinite} AS lon, {infinite} AS lat, false AS coordinates_swapped"
        inside = "({} BETWEEN $west AND $east AND {} BETWEEN $south AND $north)"
        swap = (
            f"({usable} AND ((abs(y_num) > 90 AND abs(x_num) <= 90) OR ($has_bbox AND NOT "
            f"{inside.format('x_num', 'y_num')} AND {inside.format('y_num', 'x_num')})))"
        )
        return (
            f"CASE WHEN NOT {usable} THEN NULL WHEN {swap} THEN y_num ELSE x_num END AS lon, "
            f"CASE WHEN NOT {usable} THEN NULL WHEN {swap} THEN x_num ELSE y_num END AS lat, "
            f"coalesce({swap}, false) AS coordinates_swapped"
        )

    # -- reading -------------------------------------------------------------------------

    def _raw_columns(self) -> list[str]:
        """Every working column, in the order duplicates are compared by."""
        return list(self.source.raw)

    def _stored_text(self) -> list[str]:
        """The working columns whose clean text `records` keeps: those written out as text."""
        text = [f"r_{name}" for name in _TEXT_FIELDS if name in self.profile.columns]
        return text + [f"k_{i}" for i in range(len(self.profile.keep_columns))]

    def _cleaned(self, from_sql: str | None = None) -> str:
        """SELECT of the source's records with every working column's clean text (``r_*``).

        Cleaning is done in layers so that each value is trimmed once (DuckDB does not share a
        subexpression repeated inside one CASE).
        """
        raw = self.source.raw
        first = ", ".join(f"{raw[alias]} AS w_{alias}" for alias in raw)
        second = ", ".join(f"{_trimmed(f'w_{alias}')} AS u_{alias}" for alias in raw)
        third = ", ".join(
            f"{_null_checked(f'u_{alias}', _null_param(alias))} AS {alias}" for alias in raw
        )
        return (
            f"SELECT {third} FROM (SELECT {second} FROM "
            f"(SELECT {first} FROM {from_sql or self.source.from_sql}) AS raw) AS trimmed"
        )

    def _checked_rows(self, from_sql: str | None = None) -> str:
        """SELECT of every record (of `from_sql`, by default the source's) with its clean text,
        parsed values and ``code``."""
        profile = self.profile
        offsets = [
            f"{self._offset_sql(name, test)} AS o_{name}"
            for name, (_, _, test) in self.times.items()
            if test
        ]
        parsed = []
        for name, (local, absolute, _) in self.times.items():
            parsed += [
                f"{local or 'CAST(NULL AS TIMESTAMP)'} AS l_{name}",
                f"{absolute or 'CAST(NULL AS TIMESTAMPTZ)'} AS a_{name}",
            ]
        located = [
            f"coalesce(timezone($tz, l_{name}), a_{name}) AS t_{name}" for name in self.times
        ]
        if profile.coordinates is not None:
            parsed += ["try_cast(r_x AS DOUBLE) AS x_num", "try_cast(r_y AS DOUBLE) AS y_num"]
            located.append(self._location_sql())
        whens = [f"WHEN {check.condition} THEN {code}" for code, check in enumerate(self.checks, 1)]
        if profile.coordinates is not None:
            out_of_range = (
                "lon IS NOT NULL AND NOT (isfinite(lon) AND isfinite(lat) "
                "AND lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90)"
            )
            whens.append(f"WHEN {out_of_range} THEN {self.out_of_range}")
        code = (
            f"CAST(CASE {' '.join(whens)} END AS UTINYINT)" if whens else "CAST(NULL AS UTINYINT)"
        )
        sql = self._cleaned(from_sql)
        for columns in (offsets, parsed, located):
            if columns:
                sql = f"SELECT *, {', '.join(columns)} FROM ({sql}) AS s"
        if self.times:
            # A time outside the plausible years is no time: the row's check then finds it
            # unparseable, like text that is no time at all.
            plausible = ", ".join(
                f"CASE WHEN t_{name} >= $earliest AND t_{name} < $latest THEN t_{name} END "
                f"AS t_{name}"
                for name in self.times
            )
            sql = f"SELECT * REPLACE ({plausible}) FROM ({sql}) AS s"
        return f"SELECT *, {code} AS code FROM ({sql}) AS s"

    def _hash_sql(self) -> str:
        """SQL: the hash duplicates are grouped by, for rows that pass the checks.

        By source id, the id's hash, or the whole row's for a row without an id; by full row,
        the whole row's.
        """
        every = ", ".join(self._raw_columns())
        if self.profile.deduplicate_on == "source_id":
            return (
                "CASE WHEN code IS NULL THEN CASE WHEN r_source_id IS NOT NULL "
                f"THEN hash(r_source_id) ELSE hash({every}) END END"
            )
        return f"CASE WHEN code IS NULL THEN hash({every}) END"

    def _detail_sql(self) -> str:
        """SQL: a rejected row's offending text, or the local times of a row near a DST change.

        A row passing the checks keeps its local times (as text) only when one falls on a day
        with a daylight-saving change: `_dst_counts` then needs them, and such days are few.
        """
        whens = " ".join(
            f"WHEN {code} THEN {check.value}" for code, check in enumerate(self.checks, 1)
        )
        pair = _PAIR if self.profile.coordinates is not None else "NULL"
        whens += f" WHEN {self.out_of_range} THEN {pair}"
        rejected = f"left(CASE code {whens} END, {_VALUE_LIMIT})"
        locals_ = [f"l_{name}" for name, (local, _, _) in self.times.items() if local is not None]
        if not (self.transitions and locals_):
            return f"CASE WHEN code IS NOT NULL THEN {rejected} END"
        near = " OR ".join(
            f"(CASE WHEN {local} >= $dst_from AND {local} < $dst_to THEN get_bit("
            f"CAST($dst_days AS BIT), CAST(CAST({local} AS DATE) - $dst_base AS INTEGER)) = 1 END)"
            for local in locals_
        )
        return (
            f"CASE WHEN code IS NOT NULL THEN {rejected} "
            f"WHEN {near} THEN CAST(list_value({', '.join(locals_)}) AS VARCHAR) END"
        )

    def _offset_sql(self, time_field: str, test: str) -> str:
        """SQL: the ISO 8601 offset test `test` of a time field, short-cut for common endings.

        The regular expression costs more than reading the text (RE2's set-up for every
        value), and a column's values mostly end alike (``-08:00``, ``-07:00``, or ``M`` of
        ``PM`` where no offset is written). An ending that settles the test for every text
        (`_offset_decided`) is checked first with ends_with(), about a tenth of the cost;
        the rest still go through the regular expression, so the result is the same.
        """
        shortcut = self.offset_shortcuts.get(time_field)
        return f"CASE {shortcut} ELSE {test} END" if shortcut else test

    def _sampled_columns(self) -> tuple[list[str], list[str]]:
        """The working columns the sample reads: (text for `_dictionaries`, times for
        `_offset_shortcuts`)."""
        text = [alias for alias in self._stored_text() if alias != "r_source_id"]
        times = [f"r_{name}" for name, (_, _, test) in self.times.items() if test]
        return text, times

    def _sample(self) -> bool:
        """Read the first records' clean text into `text_sample`; False when none is read.

        The sample costs milliseconds; what is decided from it (`_dictionaries`,
        `_offset_shortcuts`) changes how fast `records` is filled, never what it holds.
        """
        if self.source.empty or not self.source.streamed:
            return False  # GeoJSON is parsed whole: a sample would cost a second parse
        text, times = self._sampled_columns()
        if not text and not times:
            return False
        self._scan(
            f"CREATE TEMP TABLE text_sample AS SELECT {', '.join(text + times)} "
            f"FROM ({self._cleaned()}) AS s LIMIT {_SAMPLE_ROWS}",
            "_sample",
        )
        return True

    def _offset_shortcuts(self) -> dict[str, str]:
        """WHEN clauses settling the ISO 8601 offset test for a time field's common endings.

        From `text_sample`: the endings (up to 6 characters, the longest text the test looks
        at) that settle the test (`_offset_decided`) and end at least
        `_OFFSET_SHORTCUT_SHARE` of the sampled values, the commonest first. The sample is
        the file's first records, often one season: where it shows the profile zone's
        offsets (``-08:00``), the zone's other offsets in the sampled years (``-07:00``)
        are added.
        """
        times = self._sampled_columns()[1]
        if not times:
            return {}
        endings = " UNION ALL ".join(
            f"SELECT {i} AS k, right({alias}, 6) AS ending, year(try_cast({alias} AS TIMESTAMPTZ)) "
            f"AS year FROM (SELECT {alias} FROM text_sample LIMIT {_OFFSET_SAMPLE_ROWS}) "
            f"WHERE {alias} IS NOT NULL"
            for i, alias in enumerate(times)
        )
        found = _execute(
            self.con,
            "SELECT k, ending, count(*), min(year), max(year) FROM "
            f"({endings}) GROUP BY k, ending ORDER BY k, ending",
        ).fetchall()
        shortcuts = {}
        for i, alias in enumerate(times):
            rows = [row[1:] for row in found if row[0] == i]
            counts: dict[str, int] = {}
            for ending, count, _, _ in rows:
                for size in range(1, len(ending) + 1):
                    counts[ending[-size:]] = counts.get(ending[-size:], 0) + count
            total = sum(row[1] for row in rows)
            # The shortest of equally common endings: a longer one only ends fewer values.
            common = sorted(counts.items(), key=lambda item: (-item[1], len(item[0]), item[0]))
            chosen: list[str] = []
            for ending, count in common:
                if len(chosen) == _OFFSET_SHORTCUTS or count < _OFFSET_SHORTCUT_SHARE * total:
                    break
                if _offset_decided(ending) is not None and not ending.endswith(tuple(chosen)):
                    chosen.append(ending)
            years = [year for row in rows for year in row[2:] if year is not None]
            if years:
                zone = _zone_offsets(self.profile.timezone, min(years), max(years))
                if any(ending in zone for ending in chosen):
                    extra = [o for o in zone if o not in chosen and _offset_decided(o)]
                    chosen += extra[: max(_OFFSET_SHORTCUTS - len(chosen), 0)]
            whens = [
                f"WHEN ends_with({alias}, {self._param(ending)}) THEN "
                + ("true" if _offset_decided(ending) else "false")
                for ending in chosen
            ]
            if whens:
                shortcuts[alias[2:]] = " ".join(whens)
        return shortcuts

    def _dictionaries(self) -> dict[str, str]:
        """ENUM types for the text columns with few distinct values: working name -> type.

        Such columns (call types, dispositions ...) are most of `records`' size as text; as
        an ENUM each takes a byte or two. The values come from the first records
        (`text_sample`); a value the sample missed is kept as text beside the ENUM
        (``o_<name>``), so nothing is lost, only less memory saved.
        """
        columns = self._sampled_columns()[0]
        if not columns:
            return {}
        counts = _execute(
            self.con,
            "SELECT "
            + ", ".join(f"count(DISTINCT {a}), avg(strlen({a}))" for a in columns)
            + " FROM text_sample",
        ).fetchone()
        assert counts is not None  # noqa: S101 (an aggregate always returns a row)
        types = {}
        for i, alias in enumerate(columns):
            distinct, length = counts[2 * i], counts[2 * i + 1]
            # Short text costs about as little as an ENUM and its (empty) overflow column.
            if 0 < distinct <= _DICTIONARY_LIMIT and (length or 0) >= _DICTIONARY_MIN_LENGTH:
                name = f"text_values_{i}"
                _execute(
                    self.con,
                    f"CREATE TYPE {name} AS ENUM (SELECT DISTINCT {alias} FROM text_sample "
                    f"WHERE {alias} IS NOT NULL ORDER BY {alias})",
                )
                types[alias] = name
        return types

    def _stored_sql(self, alias: str) -> str:
        """SQL reading a stored text column back from `records` (ENUM and overflow, or text)."""
        if alias in self.dictionaries:
            return f"coalesce(CAST(e_{alias} AS VARCHAR), o_{alias})"
        return alias

    def _records_sql(self, where: str = "true", enums: Sequence[str] = ()) -> str:
        """SELECT of `records` (the rows `where` picks) with its row number and text, and
        the ENUM columns (``e_<alias>``) of the `enums` aliases kept as ENUMs."""
        hidden = [f"e_{a}, o_{a}" for a in self.dictionaries]
        exclude = f" EXCLUDE ({', '.join(hidden)})" if hidden else ""
        text = "".join(f", {self._stored_sql(a)} AS {a}" for a in self.dictionaries)
        text += "".join(f", e_{a}" for a in dict.fromkeys(enums) if a in self.dictionaries)
        return f"SELECT rowid + 1 AS row_number, *{exclude}{text} FROM records WHERE {where}"

    def read(self) -> None:
        """Read the source once into `records` (see the class docstring)."""
        try:
            self._create_records()
        except duckdb.Error as exc:
            raise IngestError(f"cannot read the input: {_first_line(exc)}") from None

    def _create_records(self) -> None:
        if self._sample():
            self.dictionaries = self._dictionaries()
            self.offset_shortcuts = self._offset_shortcuts()
        columns = ["code", f"{self._detail_sql()} AS detail"]
        if self.profile.deduplicate_on != "none":
            columns.append(f"{self._hash_sql()} AS h")
        for alias in self._stored_text():
            if alias in self.dictionaries:
                columns += [
                    f"e_{alias}",
                    f"CASE WHEN e_{alias} IS NULL THEN {alias} END AS o_{alias}",
                ]
            else:
                columns.append(alias)
        columns += [f"t_{name}" for name in self.times]
        if self.profile.coordinates is not None:
            columns += ["lon", "lat", "coordinates_swapped"]
        if self.projected:
            columns += ["x_num", "y_num"]
        checked = self._checked_rows()
        if self.dictionaries:
            enums = ", ".join(
                f"TRY_CAST({alias} AS {name}) AS e_{alias}"
                for alias, name in self.dictionaries.items()
            )
            checked = f"SELECT *, {enums} FROM ({checked}) AS e"
        self._scan(f"CREATE TABLE records AS SELECT {', '.join(columns)} FROM ({checked}) AS c", "")

    def _fetch_sql(self, select: str, where: str) -> str:
        """SQL reading the source again, lined up with `records`, for the rows `where` picks.

        `select` may use ``row_number`` and the raw columns (``w_r_*``), `where` `records` as
        ``n``; `select` is computed only for the rows picked. The lining up makes this read
        single-threaded, so it is kept for the few rows nothing else can answer. Every raw
        column is used (in ``touched``) so that the reader skips the lines the first read did.
        """
        raw = self.source.raw
        columns = ", ".join(f"{expression} AS w_{alias}" for alias, expression in raw.items())
        touched = " AND ".join(f"w_{alias} IS NULL" for alias in raw) or "true"
        return (
            f"SELECT {select}, {touched} AS touched FROM ("
            "SELECT n.rowid + 1 AS row_number, s.* FROM "
            f"(SELECT {columns} FROM {self.source.from_sql}) AS s POSITIONAL JOIN records AS n "
            f"WHERE {where}) AS chosen"
        )

    # -- coordinates ---------------------------------------------------------------------

    def project(self, batch_size: int) -> None:
        """Project state-plane x/y to longitude/latitude with pyproj, in batches.

        Each distinct (x, y) pair is projected once (block-level geomasking makes pairs
        repeat many times), in batches of `batch_size` pairs, and the results are joined back.
        """
        coordinates = self.profile.coordinates
        assert coordinates is not None  # noqa: S101 (only called with coordinates)
        transformer = pyproj.Transformer.from_crs(coordinates.crs, "EPSG:4326", always_xy=True)
        use = pyproj.CRS.from_user_input(coordinates.crs).area_of_use
        area = (
            (
                use.west - _AREA_MARGIN,
                use.south - _AREA_MARGIN,
                use.east + _AREA_MARGIN,
                use.north + _AREA_MARGIN,
            )
            if use is not None
            else None
        )
        _execute(
            self.con,
            "CREATE TABLE pairs AS SELECT DISTINCT x_num AS x, y_num AS y FROM records "
            "WHERE code IS NULL AND isfinite(x_num) AND isfinite(y_num) "
            "AND NOT (x_num = 0 AND y_num = 0)",
        )
        _execute(
            self.con,
            "CREATE TABLE projected (x DOUBLE, y DOUBLE, lon DOUBLE, lat DOUBLE, "
            "swapped BOOLEAN, failed BOOLEAN)",
        )
        (total,) = _execute(self.con, "SELECT count(*) FROM pairs").fetchall()[0]
        for start in range(0, int(total), batch_size):
            batch = _execute(
                self.con,
                "SELECT x, y FROM pairs WHERE rowid >= $start AND rowid < $stop",
                {"start": start, "stop": start + batch_size},
            ).fetchnumpy()
            x = np.asarray(batch["x"], dtype=np.float64)
            y = np.asarray(batch["y"], dtype=np.float64)
            lon, lat = _transform(transformer, x, y)
            swapped = np.zeros(x.size, dtype=bool)
            if coordinates.bbox is not None:
                outside = ~_inside(lon, lat, coordinates.bbox)
                if outside.any():
                    lon2, lat2 = _transform(transformer, y[outside], x[outside])
                    fits = _inside(lon2, lat2, coordinates.bbox)
                    index = np.flatnonzero(outside)[fits]
                    lon[index], lat[index] = lon2[fits], lat2[fits]
                    swapped[index] = True
            # Far outside the projection's area of use the formulas still return numbers,
            # but meaningless ones: those points are out of range, like non-finite results.
            failed = ~(np.isfinite(lon) & np.isfinite(lat))
            if area is not None:
                failed |= ~_inside(lon, lat, area)
            lon[failed], lat[failed] = 0.0, 0.0
            chunk = {"x": x, "y": y, "lon": lon, "lat": lat, "swapped": swapped, "failed": failed}
            self.con.register("projected_chunk", chunk)
            try:
                _execute(self.con, "INSERT INTO projected SELECT * FROM projected_chunk")
            finally:
                self.con.unregister("projected_chunk")
        _execute(
            self.con,
            # A failed projection, or a result outside longitude/latitude, is out of range.
            "UPDATE records SET lon = q.lon, lat = q.lat, coordinates_swapped = q.swapped, "
            "code = CASE WHEN q.failed OR NOT (isfinite(q.lon) AND isfinite(q.lat) "
            "AND q.lon BETWEEN -180 AND 180 AND q.lat BETWEEN -90 AND 90) THEN $failed END "
            "FROM projected q WHERE records.code IS NULL "
            "AND records.x_num = q.x AND records.y_num = q.y",
            {"failed": self.projection_failed},
        )

    # -- duplicates ----------------------------------------------------------------------

    def find_duplicates(self) -> None:
        """Fill `duplicates` and mark them in `records` (code `duplicate`).

        Candidates are found with a hash aggregate over `records`: rows whose hash occurs more
        than once. The exact comparison of every column then runs on those few (see
        `_candidates` for the text `records` does not keep).
        """
        profile = self.profile
        _execute(
            self.con,
            "CREATE TABLE duplicates (row_number BIGINT, reason VARCHAR, first_row BIGINT)",
        )
        if profile.deduplicate_on == "none":
            return
        # By an 8-byte hash, not the text. A collision only adds a candidate, which the
        # exact partitions below then find unrepeated.
        repeated = self._repeated_hashes()
        if not repeated.size:
            return
        self.con.register("csas_repeated_hashes", {"h": repeated})
        try:
            _execute(
                self.con,
                "CREATE TEMP TABLE repeated_hashes AS SELECT h FROM csas_repeated_hashes",
            )
        finally:
            self.con.unregister("csas_repeated_hashes")
        # Candidates are marked in `records`: a plain filter finds them again in order.
        _execute(
            self.con,
            "UPDATE records SET code = $candidate WHERE code IS NULL "
            "AND h IN (SELECT h FROM repeated_hashes)",
            {"candidate": self.candidate},
        )
        self._candidates()
        partition = ", ".join(self._raw_columns())
        by_id = profile.deduplicate_on == "source_id"
        id_rank = (
            "CASE WHEN r_source_id IS NULL THEN 1 ELSE row_number() OVER "
            "(PARTITION BY r_source_id ORDER BY row_number) END"
            if by_id
            else "1"
        )
        id_first = "min(row_number) OVER (PARTITION BY r_source_id)" if by_id else "NULL"
        _execute(
            self.con,
            "INSERT INTO duplicates SELECT row_number, "
            "CASE WHEN full_rank > 1 THEN 'duplicate_row' ELSE 'duplicate_source_id' END, "
            "CASE WHEN full_rank > 1 THEN full_first ELSE id_first END "
            "FROM (SELECT row_number, "
            f"row_number() OVER (PARTITION BY {partition} ORDER BY row_number) AS full_rank, "
            f"min(row_number) OVER (PARTITION BY {partition}) AS full_first, "
            f"{id_rank} AS id_rank, {id_first} AS id_first "
            "FROM candidates) "
            "WHERE full_rank > 1 OR id_rank > 1",
        )
        _execute(
            self.con,
            "UPDATE records SET code = CASE WHEN rowid + 1 IN (SELECT row_number FROM "
            "duplicates) THEN $duplicate END WHERE code = $candidate",
            {"candidate": self.candidate, "duplicate": self.duplicate},
        )

    def _repeated_hashes(self) -> npt.NDArray[np.uint64]:
        """The hashes (``h``) that more than one kept row has, sorted.

        Sorted in numpy, a slice of the hash space at a time (`_HASHES_PER_SLICE` rows' worth
        on average, so memory stays bounded): numpy sorts 10 million hashes in a tenth of a
        second, where DuckDB's GROUP BY h HAVING count(*) > 1 needed seconds for its hash
        table of 10 million groups (evicting `records` from memory to make room for it).
        """
        ((kept,),) = _execute(
            self.con, "SELECT count(*) FROM records WHERE code IS NULL"
        ).fetchall()
        bits = max(0, math.ceil(math.log2(max(int(kept), 1) / _HASHES_PER_SLICE)))
        found = []
        for part in range(1 << bits):
            where = f"h >> {64 - bits} = {part}" if bits else "true"
            data = self.con.sql(
                f"SELECT h FROM records WHERE code IS NULL AND {where}"
            ).fetchnumpy()
            hashes = np.asarray(data["h"], dtype=np.uint64)
            del data
            hashes.sort()
            twice = hashes[1:][hashes[1:] == hashes[:-1]]
            found.append(np.unique(twice))
        return np.concatenate(found) if found else np.zeros(0, dtype=np.uint64)

    def _candidates(self) -> None:
        """The temporary table `candidates`: each candidate's row number and clean text.

        `records` keeps only the text written out; the text of the times and coordinates (and
        a GeoJSON geometry's type) as given is read again. Lining the second read up with
        `records` by position would make it single-threaded, so the source is read in
        parallel for the records whose hash is a candidate's, and each is matched back to
        its row by everything `records` holds for it (hash, text, times, location). That
        settles every row unless two records agree on all of it but not on the text read
        again; only then are the rows lined up by position, on one thread.
        """
        stored = self._stored_text()
        reread = [alias for alias in self._raw_columns() if alias not in stored]
        chosen = f"({self._records_sql('code = $candidate')})"
        if not reread:
            _execute(
                self.con,
                f"CREATE TEMP TABLE candidates AS SELECT row_number, {', '.join(stored)} "
                f"FROM {chosen}",
                {"candidate": self.candidate},
            )
            return
        key = ["h", *stored, *(f"t_{name}" for name in self.times)]
        if self.projected:
            key += ["x_num", "y_num"]
        elif self.profile.coordinates is not None:
            key += ["lon", "lat", "coordinates_swapped"]
        # The source's records whose hash repeats; the clean text is computed for those only.
        raw = self.source.raw
        every = ", ".join(_clean(raw[alias], _null_param(alias)) for alias in raw)
        if self.profile.deduplicate_on == "source_id":
            identifier = _clean(raw["r_source_id"], "null_values")
            hashed = (
                f"CASE WHEN {identifier} IS NOT NULL THEN hash({identifier}) ELSE hash({every}) END"
            )
        else:
            hashed = f"hash({every})"
        filtered = (
            f"(SELECT * FROM {self.source.from_sql} "
            f"WHERE {hashed} IN (SELECT h FROM repeated_hashes)) AS filtered"
        )
        # DuckDB may build the semi-join's hash table on the (large) source side; here the
        # repeated hashes are always the small side.
        _execute(self.con, "SET disabled_optimizers = 'build_side_probe_side'")
        try:
            self._scan(
                f"CREATE TEMP TABLE reread AS SELECT DISTINCT {', '.join(key + reread)} FROM "
                f"(SELECT *, {self._hash_sql()} AS h FROM ({self._checked_rows(filtered)}) AS c) "
                "WHERE h IS NOT NULL",
                "_duplicates",
            )
        finally:
            _execute(self.con, "RESET disabled_optimizers")
        matched = " AND ".join(f"r.{column} IS NOT DISTINCT FROM c.{column}" for column in key)
        row = _execute(
            self.con,
            f"SELECT count(*) = (SELECT count(*) FROM (SELECT DISTINCT {', '.join(key)} "
            "FROM reread)) FROM reread",
        ).fetchone()
        if row and row[0]:
            _execute(
                self.con,
                "CREATE TEMP TABLE candidates AS SELECT r.row_number, "
                + ", ".join([f"r.{alias}" for alias in stored] + [f"c.{a}" for a in reread])
                + f" FROM {chosen} AS r JOIN reread AS c ON {matched}",
                {"candidate": self.candidate},
            )
            row = _execute(
                self.con,
                "SELECT (SELECT count(*) FROM candidates) = "
                "(SELECT count(*) FROM records WHERE code = $candidate)",
                {"candidate": self.candidate},
            ).fetchone()
            if row and row[0]:
                return
            _execute(self.con, "DROP TABLE candidates")
        # Some records cannot be told apart: line the second read up with `records`.
        cleaned = ", ".join(
            f"{_clean(f'w_{alias}', _null_param(alias))} AS {alias}" for alias in reread
        )
        self._scan(
            "CREATE TEMP TABLE lined_up AS "
            + self._fetch_sql(f"row_number, {cleaned}", "n.code = $candidate"),
            "_lined_up",
            {"candidate": self.candidate},
        )
        self._check_aligned("_lined_up")
        _execute(
            self.con,
            "CREATE TEMP TABLE candidates AS SELECT c.row_number, "
            + ", ".join([f"r.{alias}" for alias in stored] + [f"c.{a}" for a in reread])
            + f" FROM lined_up c JOIN {chosen} r USING (row_number)",
            {"candidate": self.candidate},
        )

    # -- output --------------------------------------------------------------------------

    def _checked_select(self) -> str:
        """SELECT of every record for the write, with its row number."""
        return self._records_sql(enums=["r_initiated_by"])

    def output_sql(self, records: str, extra_columns: str = "") -> str:
        """The SELECT of the kept rows in the normalised schema, in file order, from
        `records` (a FROM item named ``checked``), with `extra_columns` (``, a AS b ...``)
        after the schema's."""
        profile = self.profile
        mapped = profile.columns
        parts = ["row_number", f"CAST({self._value('kind')} AS VARCHAR) AS source_kind"]
        for column in NORMALISED_COLUMNS[2:]:
            name = column.name
            if name in TIME_FIELDS:
                parts.append(
                    f"t_{name} AS {name}"
                    if name in mapped
                    else f"CAST(NULL AS TIMESTAMPTZ) AS {name}"
                )
            elif name == "initiated_by":
                parts.append(f"{self._initiated_of_records()} AS initiated_by")
            elif name == "initiated_raw":
                parts.append(
                    "r_initiated_by AS initiated_raw"
                    if "initiated_by" in mapped
                    else "CAST(NULL AS VARCHAR) AS initiated_raw"
                )
            elif name in _TEXT_FIELDS:
                parts.append(
                    f"r_{name} AS {name}" if name in mapped else f"CAST(NULL AS VARCHAR) AS {name}"
                )
            elif name in ("x", "y"):
                parts.append(
                    f"{name}_num AS {name}" if self.projected else f"CAST(NULL AS DOUBLE) AS {name}"
                )
            elif name in ("lon", "lat", "coordinates_swapped"):
                if profile.coordinates is not None:
                    parts.append(name)
                elif name == "coordinates_swapped":
                    parts.append("false AS coordinates_swapped")
                else:
                    parts.append(f"CAST(NULL AS DOUBLE) AS {name}")
            elif name == "extra":
                if profile.keep_columns:
                    # struct_pack's field names are the file's column names, quoted.
                    members = ", ".join(
                        f"{_quote_identifier(column)} := k_{i}"
                        for i, column in enumerate(profile.keep_columns)
                    )
                    parts.append(f"CAST(to_json(struct_pack({members})) AS JSON) AS extra")
                else:
                    parts.append("CAST(NULL AS JSON) AS extra")
        # No ORDER BY: with preserve_insertion_order, a filtered scan keeps file order.
        return f"SELECT {', '.join(parts)}{extra_columns} FROM {records} WHERE code IS NULL"

    def _initiated_of_records(self) -> str:
        """`_initiated_sql` for `_records_sql`'s rows: where the text is an ENUM, the answer
        for each of its values is worked out once (by the same SQL) and looked up by code,
        instead of upper-casing and searching every row's text."""
        alias = "r_initiated_by"
        if alias not in self.dictionaries:
            return self._initiated_sql()
        if "initiated_of_enum" not in self.params:
            enum = self.dictionaries[alias]
            ((answers,),) = _execute(
                self.con,
                f"SELECT list({self._initiated_sql()} ORDER BY k) FROM (SELECT "
                f"CAST(v AS VARCHAR) AS {alias}, enum_code(CAST(v AS {enum})) AS k "
                f"FROM (SELECT unnest(enum_range(NULL::{enum})) AS v))",
                self.params,
            ).fetchall()
            self.params["initiated_of_enum"] = list(answers)
        return (
            f"CASE WHEN e_{alias} IS NOT NULL THEN "
            f"{self._value('initiated_of_enum')}[CAST(enum_code(e_{alias}) AS INTEGER) + 1] "
            f"ELSE {self._initiated_sql()} END"
        )

    def _initiated_sql(self) -> str:
        if "initiated_by" not in self.profile.columns:
            return "'unknown'"
        return (
            f"CASE WHEN list_contains({self._value('officer')}, upper(r_initiated_by)) "
            "THEN 'officer' "
            f"WHEN list_contains({self._value('public')}, upper(r_initiated_by)) THEN 'public' "
            "ELSE 'unknown' END"
        )

    def write(self, output_path: Path) -> None:
        """Write the kept rows to `output_path` through a temporary file and a rename."""
        sql = self.output_sql(f"({self._checked_select()}) AS checked")
        _write_atomically(self.con, sql, self.params, output_path)

    def relation_sql(self) -> str:
        """The SELECT `write` writes, with its parameters as literals (for a view), and
        ``_synthetic``: whether the row's kept column ``synthetic`` is ``yes``."""
        keep = self.profile.keep_columns
        synthetic = f"k_{keep.index('synthetic')} = 'yes'" if "synthetic" in keep else "false"
        enums = self._relation_enums()
        records = f"({self._records_sql(enums=['r_initiated_by', *enums.values()])}) AS checked"
        hidden = "".join(f", e_{alias} AS {name}" for name, alias in enums.items())
        self._initiated_of_records()  # (its parameter, before the literals are asked for)
        self.literal_values = True
        try:
            return self.output_sql(records, f", {synthetic} AS _synthetic{hidden}")
        finally:
            self.literal_values = False

    #: Normalised text columns `relation_sql` can also give as ENUMs: column -> (the
    #: working column, the ENUM's name in the relation).
    _ENUM_COLUMNS: Mapping[str, tuple[str, str]] = MappingProxyType(
        {
            "call_type": ("r_call_type", "_enum_call_type"),
            "initiated_raw": ("r_initiated_by", "_enum_initiated"),
            "initiated_by": ("r_initiated_by", "_enum_initiated"),
        }
    )

    def _relation_enums(self) -> dict[str, str]:
        """The ENUM columns `relation_sql` adds: name in the relation -> working column."""
        found = {}
        for column, (alias, name) in self._ENUM_COLUMNS.items():
            mapped = "initiated_by" if column.startswith("initiated") else column
            if mapped in self.profile.columns and alias in self.dictionaries:
                found[name] = alias
        return found

    def enum_columns(self) -> dict[str, EnumCodes]:
        """`Ingested.enum_columns`: the normalised text columns `relation_sql` also gives as
        ENUMs, with the text of each ENUM value in that column."""
        relation = self._relation_enums()
        found = {}
        for column, (alias, name) in self._ENUM_COLUMNS.items():
            if name not in relation:
                continue
            if column == "initiated_by":
                # What `_initiated_sql` says of each value, as in the output.
                self._initiated_of_records()
                found[column] = EnumCodes(name, tuple(self.params["initiated_of_enum"]))
            else:
                enum = self.dictionaries[alias]
                ((values,),) = _execute(self.con, f"SELECT enum_range(NULL::{enum})").fetchall()
                found[column] = EnumCodes(name, tuple(values))
        return found

    @staticmethod
    def synthetic_sql() -> str:
        """The condition on `relation_sql`'s rows equal to ``extra->>'synthetic' = 'yes'``."""
        return "_synthetic"

    # -- report --------------------------------------------------------------------------

    def _malformed(self) -> tuple[int, list[RowProblem], bool]:
        """CSV lines the reader rejected: (count, samples, whether any was an encoding error)."""
        if self.header is None:
            return 0, [], False
        row = _execute(self.con, "SELECT count(DISTINCT line) FROM csv_rejects").fetchone()
        count = int(row[0]) if row else 0
        rows = _execute(
            self.con,
            "SELECT line, any_value(column_name ORDER BY column_idx), "
            "string_agg(DISTINCT error_type, '; ' ORDER BY error_type), any_value(csv_line) "
            "FROM csv_rejects GROUP BY line ORDER BY line LIMIT $n",
            {"n": self.sample_size},
        ).fetchall()
        samples = []
        for line, column_name, error_type, csv_line in rows:
            column = None
            if isinstance(column_name, str) and column_name.startswith("c"):
                with contextlib.suppress(ValueError, IndexError):
                    column = self.header[int(column_name[1:])]
            text = f"{error_type}: {csv_line}" if csv_line is not None else str(error_type)
            samples.append(RowProblem(int(line), "malformed_record", column, text[:_VALUE_LIMIT]))
        encoding_row = _execute(
            self.con,
            "SELECT count(*) FROM csv_rejects WHERE error_type ILIKE '%unicode%' "
            "OR error_type ILIKE '%encoding%'",
        ).fetchone()
        return count, samples, bool(encoding_row and encoding_row[0])

    def _rejected_samples(self) -> list[RowProblem]:
        """Up to `sample_size` rejected rows per reason, in file order.

        A row whose projection failed has no offending text in `records`; its coordinates'
        text is read again for the few sampled.
        """
        rows = _execute(
            self.con,
            "SELECT row_number, reason, reason_column, code, detail FROM ("
            "SELECT rowid + 1 AS row_number, code, detail, $reason_names[code] AS reason, "
            "$reason_columns[code] AS reason_column, row_number() OVER "
            "(PARTITION BY $reason_names[code] ORDER BY rowid) AS k "
            "FROM records WHERE code <= $last_rejection) "
            "WHERE k <= $n ORDER BY reason, row_number",
            {**self.params, "n": self.sample_size},
        ).fetchall()
        refetch = [int(r[0]) for r in rows if r[3] == self.projection_failed]
        pairs: dict[int, str | None] = {}
        if refetch:
            pair = _pair(_clean("w_r_x", "coordinate_nulls"), _clean("w_r_y", "coordinate_nulls"))
            sql = self._fetch_sql(
                f"row_number, left({pair}, {_VALUE_LIMIT})",
                "list_contains($refetch, n.rowid + 1)",
            )
            fetched = self._scan(sql, "_pairs", {"refetch": refetch}).fetchall()
            pairs = {int(r[0]): r[1] for r in fetched}
            self._check_aligned("_pairs")
        return [
            RowProblem(
                int(number),
                str(reason),
                column,
                pairs.get(int(number)) if code == self.projection_failed else detail,
            )
            for number, reason, column, code, detail in rows
        ]

    def _dst_counts(self) -> tuple[int, int]:
        """Kept rows with a local time in a repeated (ambiguous) or skipped hour.

        Which changes count depends on the years of every local time read (rejected rows
        included): those of the rows near a change settle it unless a change falls close to
        a new year, when the source is read again for the earliest and latest local time.
        """
        if not self.transitions:
            return 0, 0
        _execute(
            self.con,
            "CREATE TEMP TABLE dst_windows "
            "(day TIMESTAMP, start TIMESTAMP, stop TIMESTAMP, kind VARCHAR)",
        )
        self.con.executemany("INSERT INTO dst_windows VALUES (?, ?, ?, ?)", self.transitions)
        _execute(
            self.con,
            "CREATE TEMP TABLE dst_locals AS SELECT row_number, unnest(locals) AS l FROM "
            "(SELECT rowid + 1 AS row_number, CAST(detail AS TIMESTAMP[]) AS locals "
            "FROM records WHERE code IS NULL AND detail IS NOT NULL)",
        )
        hits = _execute(
            self.con,
            "SELECT DISTINCT c.row_number, w.day, w.kind FROM dst_locals c "
            "JOIN dst_windows w ON c.l >= w.start AND c.l < w.stop",
        ).fetchall()
        if not hits:
            return 0, 0
        bounds = _execute(self.con, "SELECT min(l), max(l) FROM dst_locals").fetchone()
        assert bounds is not None  # noqa: S101 (an aggregate always returns a row)
        # Every local time read lies between the earliest and latest ones; a change counts
        # when found from 1 January of the first year to 1 January after the last year.
        first, last = max(bounds[0].year, 1900), min(bounds[1].year, 2100)
        if first > last or any(
            not dt.date(first, 1, 1) <= day.date() <= dt.date(last + 1, 1, 1) for _, day, _ in hits
        ):
            first, last = self._local_years()
        counted: dict[str, set[int]] = {"ambiguous": set(), "nonexistent": set()}
        for number, day, kind in hits:
            if first <= last and dt.date(first, 1, 1) <= day.date() <= dt.date(last + 1, 1, 1):
                counted[kind].add(number)
        return len(counted["ambiguous"]), len(counted["nonexistent"])

    def _local_years(self) -> tuple[int, int]:
        """The years of the earliest and latest local time read (within 1900-2100)."""
        names = [f"l_{name}" for name, (local, _, _) in self.times.items() if local is not None]
        aggregates = ", ".join(f"min({n}), max({n})" for n in names)
        # Every column is used, so that the reader skips the lines the first read did.
        touched = " AND ".join(f"{alias} IS NULL" for alias in self._raw_columns())
        sql = f"SELECT {aggregates}, count(*) FILTER ({touched}) FROM ({self._checked_rows()})"
        # fetchall: the reader writes its malformed lines when the result has been read.
        (row,) = self._scan(sql, "_dst").fetchall()
        self._check_aligned("_dst")
        values = [v for v in row[:-1] if v is not None]
        return max(min(values).year, 1900), min(max(values).year, 2100)

    def report(
        self,
        source_path: Path,
        output_path: Path | None,
        fmt: str,
        seconds: float,
        warnings: list[str],
    ) -> IngestReport:
        profile = self.profile
        malformed, malformed_samples, encoding_errors = self._malformed()
        parsed_row = _execute(self.con, "SELECT count(*) FROM records").fetchone()
        parsed = int(parsed_row[0]) if parsed_row else 0

        counted = dict(
            _execute(
                self.con,
                "SELECT $reason_names[code] AS reason, count(*) FROM records "
                "WHERE code <= $last_rejection GROUP BY reason",
                self.params,
            ).fetchall()
        )
        if malformed:
            counted["malformed_record"] = malformed
        rejected = {k: int(counted[k]) for k in REJECTION_REASONS if k in counted}
        counted = dict(
            _execute(self.con, "SELECT reason, count(*) FROM duplicates GROUP BY reason").fetchall()
        )
        duplicates = {k: int(counted[k]) for k in DUPLICATE_REASONS if k in counted}

        samples = list(malformed_samples)
        samples += self._rejected_samples()
        for row_number, reason, first_row in _execute(
            self.con,
            "SELECT row_number, reason, first_row FROM (SELECT *, row_number() OVER "
            "(PARTITION BY reason ORDER BY row_number) AS k FROM duplicates) "
            "WHERE k <= $n ORDER BY reason, row_number",
            {"n": self.sample_size},
        ).fetchall():
            column = profile.columns.get("source_id") if reason == "duplicate_source_id" else None
            samples.append(
                RowProblem(int(row_number), str(reason), column, f"repeats row {int(first_row)}")
            )

        if profile.coordinates is not None:
            located = (
                "count(*) FILTER (lon IS NULL), count(*) FILTER (coordinates_swapped), "
                "count(*) FILTER ($has_bbox AND lon IS NOT NULL AND isfinite(lon) "
                "AND isfinite(lat) AND NOT (lon BETWEEN $west AND $east "
                "AND lat BETWEEN $south AND $north))"
            )
        else:
            located = "count(*), 0, 0"
        received = "t_received_at" if "received_at" in self.times else "NULL"
        stats = _execute(
            self.con,
            f"SELECT count(*), {located}, min({received}), max({received}) "
            "FROM records WHERE code IS NULL",
            self.params,
        ).fetchone()
        assert stats is not None  # noqa: S101 (an aggregate always returns a row)
        kept = int(stats[0])
        dst_ambiguous, dst_nonexistent = self._dst_counts()
        initiated = {"officer": 0, "public": 0, "unknown": 0}
        unrecognised: list[tuple[str, int]] = []
        if "initiated_by" in profile.columns:
            # One scan of the kept rows counts each initiated_by text; both tallies below
            # read those (few) counts.
            _execute(
                self.con,
                "CREATE TEMP TABLE initiated_values AS SELECT r_initiated_by, count(*) AS n "
                f"FROM ({self._records_sql('code IS NULL')}) GROUP BY r_initiated_by",
            )
            for who, n in _execute(
                self.con,
                f"SELECT {self._initiated_sql()} AS who, sum(n) FROM initiated_values GROUP BY who",
                self.params,
            ).fetchall():
                initiated[str(who)] = int(n)
            unrecognised = [
                (str(v), int(n))
                for v, n in _execute(
                    self.con,
                    "SELECT r_initiated_by, n FROM initiated_values "
                    "WHERE r_initiated_by IS NOT NULL "
                    "AND NOT list_contains($known, upper(r_initiated_by)) "
                    "ORDER BY n DESC, r_initiated_by LIMIT 20",
                    self.params,
                ).fetchall()
            ]
        else:
            initiated["unknown"] = kept

        rejected_total = sum(rejected.values())
        duplicate_total = sum(duplicates.values())
        input_rows = parsed + malformed
        if kept + rejected_total + duplicate_total != input_rows:  # pragma: no cover
            raise RuntimeError(
                f"row accounting failed: {input_rows} rows in, {kept} kept + {rejected_total} "
                f"rejected + {duplicate_total} duplicates"
            )
        warnings = list(warnings)
        warnings += self._warnings(input_rows, kept, rejected, int(stats[2]), unrecognised)
        if malformed:
            warnings.append(
                f"{malformed} malformed line(s) were skipped: a malformed_record's row number is "
                "its line in the file, and other row numbers count only the records read"
            )
        if encoding_errors:
            warnings.append(
                f"some lines are not {profile.csv.encoding} text: if many are, set "
                "input.encoding in the profile (utf-8, utf-16 or latin-1)"
            )
        return IngestReport(
            input_path=str(source_path),
            output_path=None if output_path is None else str(output_path),
            profile=profile.name,
            input_format=fmt,
            input_rows=input_rows,
            kept_rows=kept,
            rejected_rows=rejected_total,
            duplicate_rows=duplicate_total,
            rejected_by_reason=MappingProxyType(rejected),
            duplicates_by_reason=MappingProxyType(duplicates),
            samples=tuple(samples),
            kept_without_coordinates=int(stats[1]),
            coordinates_swapped=int(stats[2]),
            outside_bbox=int(stats[3]),
            dst_ambiguous=dst_ambiguous,
            dst_nonexistent=dst_nonexistent,
            initiated_by=MappingProxyType(initiated),
            unrecognised_initiated_values=tuple(unrecognised),
            received_from=stats[4].isoformat() if stats[4] is not None else None,
            received_to=stats[5].isoformat() if stats[5] is not None else None,
            warnings=tuple(warnings),
            seconds=round(seconds, 3),
        )

    def _warnings(
        self,
        input_rows: int,
        kept: int,
        rejected: Mapping[str, int],
        swapped: int,
        unrecognised: Sequence[tuple[str, int]],
    ) -> list[str]:
        warnings = []
        if input_rows == 0 and not self.source.empty:
            warnings.append("the file has a header but no data rows")
        if input_rows and kept == 0:
            warnings.append("no row was kept: check the profile against the file")
        for reason, n in rejected.items():
            if input_rows and n / input_rows > 0.5:
                hint = {
                    "unparseable_timestamp": ": the profile's time_formats may not match the file",
                    "malformed_record": ": check input.delimiter, quote and encoding",
                }.get(reason, "")
                warnings.append(f"{n} of {input_rows} rows rejected as {reason}{hint}")
        if kept and swapped / kept > 0.5:
            warnings.append(
                f"{swapped} of {kept} kept rows had longitude and latitude exchanged: the "
                "profile's coordinates.x and coordinates.y may be the wrong way round"
            )
        if unrecognised:
            shown = ", ".join(f"{v!r} ({n})" for v, n in unrecognised[:5])
            warnings.append(f"initiated_by values not in the profile (counted as unknown): {shown}")
        return warnings


#: A daylight-saving change: (the UTC day it was found on, as naive UTC; the first and the
#: last-plus-one minute of the local times it skips or repeats; 'nonexistent' or 'ambiguous').
_Transition = tuple[dt.datetime, dt.datetime, dt.datetime, str]
#: The years whose daylight-saving changes are ever counted.
_DST_YEARS = (1900, 2100)


def _offset_decided(ending: str) -> bool | None:
    """Whether `_ISO_OFFSET` matches every text ending in `ending` (True), none (False), or
    it depends on the text before (None).

    The expression matches the end of a text in one of `_OFFSET_FORMS`. Every text ending
    in `ending` ends in a form when `ending`'s last characters are one; none does when no
    form's last characters (as many as `ending` has, or all of a shorter form's) fit it.
    """

    def fits(form: tuple[str, ...]) -> bool:
        size = min(len(form), len(ending))
        return all(ending[-i] in form[-i] for i in range(1, size + 1))

    if any(len(form) <= len(ending) and fits(form) for form in _OFFSET_FORMS):
        return True
    if not any(fits(form) for form in _OFFSET_FORMS):
        return False
    return None


def _zone_offsets(zone: str, first_year: int, last_year: int) -> list[str]:
    """A zone's UTC offsets (``-08:00``) on 1 January and 1 July of some years (at most 5,
    within 1900-2100), as ISO 8601 writes them; whole minutes only."""
    tz = zoneinfo.ZoneInfo(zone)
    first = max(first_year, _DST_YEARS[0])
    last = min(last_year, first + 4, _DST_YEARS[1])
    offsets = []
    for year in range(first, last + 1):
        for month in (1, 7):
            offset = dt.datetime(year, month, 1, 12, tzinfo=tz).utcoffset()
            if offset is None or offset.total_seconds() % 60:
                continue
            minutes = int(offset.total_seconds()) // 60
            text = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
            if text not in offsets:
                offsets.append(text)
    return offsets


@functools.lru_cache(maxsize=16)
def _dst_transitions(zone: str) -> tuple[_Transition, ...]:
    """Local-time windows that are repeated ('ambiguous') or skipped ('nonexistent').

    Found with the standard library's zoneinfo by comparing UTC offsets day by day (from
    1 January 1900 to 1 January 2101, UTC) and then recordsing each change to the minute.
    Each is found on the same day and recordsed to the same minute as a search over fewer
    years would, so the windows of some years are those found on their days. Cached: it
    takes about a tenth of a second per zone.
    """
    tz = zoneinfo.ZoneInfo(zone)
    utc = dt.UTC
    windows = []
    day = dt.datetime(_DST_YEARS[0], 1, 1, tzinfo=utc)
    end = dt.datetime(_DST_YEARS[1] + 1, 1, 2, tzinfo=utc)
    step = dt.timedelta(days=1)
    while day < end:
        before, after = day.astimezone(tz).utcoffset(), (day + step).astimezone(tz).utcoffset()
        if before != after and before is not None and after is not None:
            low, high = day, day + step
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            instant = high.replace(tzinfo=None)  # the first minute under the new offset, UTC
            start, stop = sorted((instant + before, instant + after))
            kind = "nonexistent" if after > before else "ambiguous"
            windows.append((day.replace(tzinfo=None), start, stop, kind))
        day += step
    return tuple(windows)


def _dst_days(transitions: Sequence[_Transition]) -> tuple[str, dt.date]:
    """The local days touched by a window, as a bit string ('0'/'1') from the returned day.

    The first and last bits are 0, so a day outside the string's range is never touched.
    """
    touched = set()
    for _, start, stop, _ in transitions:
        day = start.date()
        while day <= (stop - dt.timedelta(microseconds=1)).date():
            touched.add(day)
            day += dt.timedelta(days=1)
    first = min(touched) - dt.timedelta(days=1)
    size = (max(touched) - first).days + 2
    bits = "".join("1" if first + dt.timedelta(days=i) in touched else "0" for i in range(size))
    return bits, first


def _pair(x: str, y: str) -> str:
    """SQL: a coordinate pair's text as it is reported ('x, y', an empty side for NULL)."""
    return f"concat_ws(', ', coalesce({x}, ''), coalesce({y}, ''))"


_PAIR = _pair("r_x", "r_y")


def _transform(
    transformer: pyproj.Transformer, x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    lon, lat = transformer.transform(x, y, errcheck=False)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _inside(
    lon: np.ndarray[Any, Any], lat: np.ndarray[Any, Any], bbox: tuple[float, float, float, float]
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    west, south, east, north = bbox
    with np.errstate(invalid="ignore"):
        inside: np.ndarray[Any, np.dtype[np.bool_]] = (
            (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
        )
    return inside


#: Parquet 2 pages (delta and byte-stream-split encodings) with zstd level 1: at a million
#: calls, faster to write and to read than Parquet 1 with zstd level 3, and no larger.
_PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARQUET_VERSION v2"


def _sql_literal(value: Any) -> str:
    """A SQL literal of a parameter's value (text, numbers, booleans, lists of those)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"'{value!r}'::DOUBLE"  # (a bare 1.5 is a DECIMAL; nan and inf need quotes)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_sql_literal(v) for v in value) + "]"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def _write_atomically(
    con: duckdb.DuckDBPyConnection, select_sql: str, params: dict[str, Any], output: Path
) -> None:
    partial = output.with_name(f".{output.name}.{uuid.uuid4().hex}.partial")
    try:
        _execute(
            con,
            f"COPY ({select_sql}) TO $target ({_PARQUET_OPTIONS})",
            {**params, "target": str(partial)},
        )
        os.replace(partial, output)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def normalised_schema_sql() -> str:
    """A DuckDB column list (``name TYPE, ...``) of the normalised table, for CREATE TABLE."""
    return ", ".join(f"{c.name} {c.type}" for c in NORMALISED_COLUMNS)


__all__ = [
    "DUPLICATE_REASONS",
    "NORMALISED_COLUMNS",
    "REJECTION_REASONS",
    "EnumCodes",
    "IngestError",
    "IngestReport",
    "Ingested",
    "MissingColumnError",
    "NormalisedColumn",
    "RowProblem",
    "check_memory_limit",
    "ingest",
    "ingested",
    "normalised_schema_sql",
]
