"""Column-mapping profiles: how one source's export maps onto the normalised call table.

A profile is a data file (YAML or JSON) checked against ``profile.schema.json``; the format is
documented in ``docs/safety-profiles.md``. Two ship with csas (``seattle-spd-calls`` and
``tacoma-tpd-crime``, in ``csas/data/safety/profiles/``); `load_profile` takes one of their
names (or an alias such as ``seattle-spd``) or the path of a city's own file.

Every problem found in a profile is reported at once, as a `ProfileError` naming the file and
the profile field (``columns.received_at``, ``coordinates.crs`` ...) with what was expected.

>>> profile = load_profile("seattle-spd")
>>> profile.name, profile.kind, profile.timezone
('seattle-spd-calls', 'calls', 'America/Los_Angeles')
>>> profile.columns["received_at"]
'Original Time Queued'
"""

from __future__ import annotations

import json
import os
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

import duckdb
import jsonschema
import pyproj
import yaml

Kind = Literal["calls", "incidents", "requests"]
InputFormat = Literal["csv", "parquet", "geojson"]
Deduplication = Literal["source_id", "full_row", "none"]
Field = Literal[
    "source_id",
    "received_at",
    "dispatched_at",
    "arrived_at",
    "cleared_at",
    "call_type",
    "final_call_type",
    "priority",
    "disposition",
    "initiated_by",
]

#: Every field a profile can map, in the order of the normalised table.
FIELDS: tuple[Field, ...] = get_args(Field)
#: The fields holding a point in time.
TIME_FIELDS: tuple[Field, ...] = ("received_at", "dispatched_at", "arrived_at", "cleared_at")
#: Time formats with a meaning of their own (everything else is a DuckDB strptime format).
SPECIAL_TIME_FORMATS = ("epoch_ms", "epoch_s", "iso8601")
#: Required fields when a profile does not say.
DEFAULT_REQUIRED: tuple[Field, ...] = ("received_at", "call_type")
#: Text that always means "no value" (besides an empty cell), compared ignoring case.
DEFAULT_NULL_VALUES = ("NULL", "N/A")
WGS84 = "EPSG:4326"


class ProfileError(ValueError):
    """A profile cannot be used; ``problems`` lists every reason found, each naming a field."""

    def __init__(self, path: Path | str, problems: Sequence[str]) -> None:
        self.path = Path(path)
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{self.path.name}: {problem}" for problem in problems))


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is split into fields.

    Fields:
        delimiter: the field separator (one character).
        quote: the quoting character.
        escape: the character escaping a quote inside a quoted field (usually the quote itself).
        encoding: utf-8, utf-16 or latin-1 (the encodings DuckDB reads without extensions).
    """

    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    encoding: Literal["utf-8", "utf-16", "latin-1"] = "utf-8"


@dataclass(frozen=True)
class CoordinateMapping:
    """Where a row's location is and in which reference system.

    Fields:
        x: column with the longitude (or easting in a projected system); None with geometry.
        y: column with the latitude (or northing); None with geometry.
        from_geometry: take the point from a GeoJSON feature's geometry instead of columns.
        crs: ``EPSG:<code>`` of x/y; EPSG:4326 means longitude/latitude in degrees.
        bbox: the city's box in longitude/latitude (west, south, east, north), or None.
        missing_values: coordinate text meaning "location withheld" (upper case).
    """

    x: str | None
    y: str | None
    from_geometry: bool
    crs: str
    bbox: tuple[float, float, float, float] | None
    missing_values: tuple[str, ...]

    @property
    def is_wgs84(self) -> bool:
        return self.crs == WGS84


@dataclass(frozen=True)
class Profile:
    """A checked column-mapping profile (see docs/safety-profiles.md for each field's meaning).

    Fields:
        name: the profile's short name (``seattle-spd-calls``).
        title: a human title.
        kind: what one row is: ``calls``, ``incidents`` or ``requests``.
        timezone: IANA zone of the file's local times.
        columns: normalised field -> the file's column name.
        required: fields that must have a value on every row.
        time_formats: formats tried in order for every time field.
        time_formats_by_field: formats for one time field instead of ``time_formats``.
        null_values: text meaning "no value", upper case.
        initiated_officer / initiated_public: values of the ``initiated_by`` column (upper case)
            meaning officer- and public-initiated.
        coordinates: the location mapping, or None when the source has no locations.
        deduplicate_on: ``source_id``, ``full_row`` or ``none``.
        keep_columns: columns carried into the ``extra`` map.
        csv: how CSV files are split.
        input_format: the format the profile expects, or None to go by the file's extension.
        aliases: other names of the profile.
        source_url / source_notes: where the data comes from.
        path: the file the profile was read from (None when built from a mapping).
    """

    name: str
    title: str
    kind: Kind
    timezone: str
    columns: Mapping[Field, str]
    required: tuple[Field, ...]
    time_formats: tuple[str, ...]
    time_formats_by_field: Mapping[Field, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    null_values: tuple[str, ...] = DEFAULT_NULL_VALUES
    initiated_officer: tuple[str, ...] = ()
    initiated_public: tuple[str, ...] = ()
    coordinates: CoordinateMapping | None = None
    deduplicate_on: Deduplication = "full_row"
    keep_columns: tuple[str, ...] = ()
    csv: CsvDialect = CsvDialect()
    input_format: InputFormat | None = None
    aliases: tuple[str, ...] = ()
    source_url: str | None = None
    source_notes: str | None = None
    path: Path | None = None

    def formats_for(self, time_field: Field) -> tuple[str, ...]:
        """The formats tried, in order, for one time field."""
        return self.time_formats_by_field.get(time_field, self.time_formats)

    @property
    def label(self) -> str:
        """How errors name the profile: its file name, or its name when built in code."""
        return self.path.name if self.path is not None else f"profile {self.name}"


def profiles_directory() -> Path:
    """The folder holding the profiles that ship with csas."""
    return Path(str(resources.files("csas.data").joinpath("safety/profiles")))


def profile_schema() -> dict[str, Any]:
    """The JSON Schema every profile is checked against."""
    text = (profiles_directory() / "profile.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def bundled_profiles() -> dict[str, Path]:
    """Shipped profiles by name and by alias."""
    found: dict[str, Path] = {}
    for path in sorted(profiles_directory().glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            for name in [data.get("profile"), *(data.get("aliases") or [])]:
                if isinstance(name, str):
                    found[name] = path
    return found


def load_profile(name_or_path: str | os.PathLike[str]) -> Profile:
    """Read and check a profile: a shipped profile's name or alias, or a YAML/JSON file's path.

    Raises:
        ProfileError: the file is missing, is not YAML/JSON, or breaks a rule; the message
            names the file and every offending field.
    """
    text_name = os.fspath(name_or_path)
    bundled = bundled_profiles()
    if text_name in bundled:
        path = bundled[text_name]
    else:
        path = Path(text_name)
        if not path.exists() and path.suffix.lower() not in {".yaml", ".yml", ".json"}:
            known = ", ".join(sorted(bundled))
            raise ProfileError(
                path, [f"no profile of that name and no such file (profiles shipped: {known})"]
            )
    return profile_from_mapping(_parse_profile_file(path), path=path)


def _parse_profile_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(path, ["file not found"]) from None
    except UnicodeDecodeError as exc:
        raise ProfileError(path, [f"not UTF-8 text (byte {exc.start}); save it as UTF-8"]) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ProfileError(path, [f"{where}not valid YAML: {exc.problem}"]) from None
    except json.JSONDecodeError as exc:
        raise ProfileError(
            path, [f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"]
        ) from None


def _location(path: Sequence[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _schema_problems(data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(profile_schema())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        where = _location(list(error.absolute_path))
        if error.validator == "additionalProperties":
            message = f"unknown field ({error.message})"
        elif error.validator == "required":
            message = f"missing: {error.message}"
        elif error.validator == "enum":
            message = f"expected one of {error.validator_value}, found {error.instance!r}"
        elif error.validator == "type":
            message = f"expected {error.validator_value}, found {error.instance!r}"
        elif error.validator == "pattern":
            message = f"{error.instance!r} does not have the expected form {error.validator_value}"
        else:
            message = error.message
        problems.append(f"{where}: {message}")
    return problems


def _format_problems(formats: Sequence[str], where: str) -> list[str]:
    problems = []
    with duckdb.connect() as con:
        for index, fmt in enumerate(formats):
            if fmt in SPECIAL_TIME_FORMATS:
                continue
            if "%" not in fmt:
                problems.append(
                    f"{where}[{index}]: {fmt!r} is not a time format: expected a strptime "
                    f"format such as '%m/%d/%Y %I:%M:%S %p', or one of {SPECIAL_TIME_FORMATS}"
                )
                continue
            try:
                con.execute("SELECT try_strptime('', ?)", [fmt])
            except duckdb.Error as exc:
                reason = str(exc).splitlines()[0]
                problems.append(f"{where}[{index}]: {fmt!r} is not a valid time format ({reason})")
    return problems


def _semantic_problems(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    columns: dict[str, str] = data["columns"]
    try:
        zoneinfo.ZoneInfo(data["timezone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"timezone: {data['timezone']!r} is not an IANA time zone "
            "(expected a name such as 'America/Los_Angeles')"
        )
    for index, name in enumerate(data.get("required", DEFAULT_REQUIRED)):
        if name not in columns:
            problems.append(
                f"required[{index}]: {name!r} is required but columns.{name} is not mapped"
            )
    problems += _format_problems(data["time_formats"], "time_formats")
    for name, formats in (data.get("time_formats_by_field") or {}).items():
        if name not in columns:
            problems.append(f"time_formats_by_field.{name}: columns.{name} is not mapped")
        problems += _format_problems(formats, f"time_formats_by_field.{name}")
    if data.get("initiated_by") and "initiated_by" not in columns:
        problems.append("initiated_by: values are given but columns.initiated_by is not mapped")
    initiated = data.get("initiated_by") or {}
    both = {v.strip().upper() for v in initiated.get("officer", [])} & {
        v.strip().upper() for v in initiated.get("public", [])
    }
    if both:
        problems.append(
            f"initiated_by: {sorted(both)} listed as both officer- and public-initiated"
        )
    if data.get("deduplicate_on") == "source_id" and "source_id" not in columns:
        problems.append("deduplicate_on: 'source_id' needs columns.source_id to be mapped")
    coordinates = data.get("coordinates")
    if coordinates is not None:
        has_columns = "x" in coordinates or "y" in coordinates
        if coordinates.get("geometry"):
            if has_columns:
                problems.append("coordinates: give either x and y, or geometry: true, not both")
        elif not ("x" in coordinates and "y" in coordinates):
            problems.append(
                "coordinates: expected both x and y (the columns holding longitude/easting and "
                "latitude/northing), or geometry: true for a GeoJSON point"
            )
        try:
            crs = pyproj.CRS.from_user_input(coordinates["crs"])
        except pyproj.exceptions.CRSError:
            problems.append(f"coordinates.crs: {coordinates['crs']!r} is not a known EPSG code")
        else:
            if coordinates["crs"] != WGS84 and crs.is_geographic:
                problems.append(
                    f"coordinates.crs: {coordinates['crs']} is geographic but not EPSG:4326; "
                    "csas reads degrees only as EPSG:4326 longitude/latitude"
                )
        bbox = coordinates.get("bbox")
        if bbox is not None:
            west, south, east, north = bbox
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                problems.append(
                    f"coordinates.bbox: {bbox} is not [west, south, east, north] in "
                    "longitude/latitude with west < east and south < north"
                )
    return problems


def profile_from_mapping(data: Any, *, path: Path | str | None = None) -> Profile:
    """Check a profile given as parsed YAML/JSON and return it as a `Profile`.

    Raises:
        ProfileError: every rule the mapping breaks, each naming the profile field.
    """
    label = Path(path) if path is not None else Path("<profile>")
    problems = _schema_problems(data)
    if problems:
        raise ProfileError(label, problems)
    problems = _semantic_problems(data)
    if problems:
        raise ProfileError(label, problems)

    columns: dict[Field, str] = {cast(Field, k): v for k, v in data["columns"].items()}
    input_options = data.get("input") or {}
    coordinates = None
    if data.get("coordinates") is not None:
        raw = data["coordinates"]
        bbox = raw.get("bbox")
        coordinates = CoordinateMapping(
            x=raw.get("x"),
            y=raw.get("y"),
            from_geometry=bool(raw.get("geometry", False)),
            crs=raw["crs"],
            bbox=(float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3]))
            if bbox is not None
            else None,
            missing_values=tuple(v.strip().upper() for v in raw.get("missing_values", [])),
        )
    default_dedup: Deduplication = "source_id" if "source_id" in columns else "full_row"
    initiated = data.get("initiated_by") or {}
    source = data.get("source") or {}
    return Profile(
        name=data["profile"],
        title=data["title"],
        kind=data["kind"],
        timezone=data["timezone"],
        columns=MappingProxyType(columns),
        required=tuple(data.get("required", DEFAULT_REQUIRED)),
        time_formats=tuple(data["time_formats"]),
        time_formats_by_field=MappingProxyType(
            {cast(Field, k): tuple(v) for k, v in (data.get("time_formats_by_field") or {}).items()}
        ),
        null_values=tuple(
            dict.fromkeys(
                [*DEFAULT_NULL_VALUES, *(v.strip().upper() for v in data.get("null_values", []))]
            )
        ),
        initiated_officer=tuple(v.strip().upper() for v in initiated.get("officer", [])),
        initiated_public=tuple(v.strip().upper() for v in initiated.get("public", [])),
        coordinates=coordinates,
        deduplicate_on=data.get("deduplicate_on", default_dedup),
        keep_columns=tuple(data.get("keep_columns", [])),
        csv=CsvDialect(
            delimiter=input_options.get("delimiter", ","),
            quote=input_options.get("quote", '"'),
            escape=input_options.get("escape", '"'),
            encoding=input_options.get("encoding", "utf-8"),
        ),
        input_format=input_options.get("format"),
        aliases=tuple(data.get("aliases", [])),
        source_url=source.get("url"),
        source_notes=source.get("notes"),
        path=Path(path) if path is not None else None,
    )
