"""Writes for the safety data lab: loading `csas safety analyze` output folders.

`safety_analysis_load` reads every file of an output folder, checks it, and stores it as one
`SafetyAnalysis` with its rows, or stores nothing: a missing file, a changed header, a value
that is not a number, or a count under the threshold that was not withheld stops the load
with a message naming the file, the row and the column. Only aggregates are read (the
library writes nothing else); an area code finer than a 2020 census block group is refused.

`safety_demo_load` makes the demo's year of data: it writes synthetic Tacoma calls with the
library (`csas.analysis.safety.synthetic`), ingests and analyses them in a temporary folder,
and loads the result, labelled "Synthetic demo data", in place of the earlier demo load.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from csas.analysis.safety.pipeline import (
    ADDED_FILES,
    ELIGIBILITY_BY_AREA_HEADER,
    OUTPUT_FILES,
    SUMMARY_COUNT_KEYS,
    TIME_BY_DISTRICT_HEADER,
    PipelineError,
    load_summary,
)
from csas.safetylab.models import (
    DISTRICT_KINDS,
    DataKind,
    SafetyAnalysis,
    SafetyAreaEligibility,
    SafetyAreaRate,
    SafetyBlockGroupHotspot,
    SafetyCallsWithoutArea,
    SafetyDistrictHourCell,
    SafetyResponseTime,
    SafetyTimeProfileCell,
)
from csas.strategy.models import Strategy

#: The demo's size: about a year of calls for service in a city of Tacoma's size
#: (some 220,000 residents), small enough to synthesise, ingest and analyse in seconds.
DEMO_CALLS = 250_000
DEMO_SEED = 1
DEMO_YEAR = 2024
DEMO_TITLE = "Synthetic demo data: a year of made-up Tacoma calls for service"

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DEFINITIONS = ("by_type", "after_screening")
INTERVALS = ("dispatch", "arrival")
POPULATIONS = ("public", "all")
# A 2020 census block group GEOID: state (2) + county (3) + tract (6) + block group (1).
BLOCK_GROUP_GEOID = re.compile(r"\d{12}")

RATE_HEADER = ("area", "month", "count", "rate_per_1000", "rate_low", "rate_high", "suppressed")
WITHOUT_AREA_HEADER = ("geography", "month", "count", "suppressed")
RESPONSE_HEADER = (
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
)
PROFILE_HEADER = ("definition", "weekday", "hour", "count", "share", "suppressed", "suppression")
HOTSPOT_HEADER = ("measure", "geoid", "count", "z", "p", "q", "classification", "suppressed")
ELIGIBILITY_KEYS = (
    "population",
    "n",
    "eligible_by_type",
    "eligible_after_screening",
    "not_assessed",
    "share_by_type",
    "share_after_screening",
    "share_not_assessed",
    "rule",
)
SUMMARY_KEYS = (
    "synthetic",
    "input",
    "parameters",
    "geography",
    "eligibility",
    "initiation",
    "time_profile",
    "rates",
    "response_times",
    "hotspots",
)

ProgressCallback = Callable[[str], None]


class SafetyLoadError(ValueError):
    """An output folder cannot be loaded; the message names the file, row and column."""


# --------------------------------------------------------------------------------------------
# Reading one folder


@dataclass
class _Folder:
    """Everything read from one output folder, checked, not yet stored."""

    summary: dict[str, Any]
    eligibility: dict[str, Any]
    rates: list[SafetyAreaRate] = field(default_factory=list)
    without_area: list[SafetyCallsWithoutArea] = field(default_factory=list)
    response_times: list[SafetyResponseTime] = field(default_factory=list)
    profile: list[SafetyTimeProfileCell] = field(default_factory=list)
    hotspots: list[SafetyBlockGroupHotspot] = field(default_factory=list)
    area_eligibility: list[SafetyAreaEligibility] = field(default_factory=list)
    district_hours: list[SafetyDistrictHourCell] = field(default_factory=list)


class _Row:
    """One CSV row with typed readers whose errors name the file, line and column."""

    def __init__(self, path: Path, line: int, values: dict[str, str]) -> None:
        self.path = path
        self.line = line
        self.values = values

    def error(self, column: str, found: str, expected: str) -> SafetyLoadError:
        return SafetyLoadError(
            f"{self.path.name}, line {self.line}, column {column!r}: found {found!r}, "
            f"expected {expected}"
        )

    def text(self, column: str, choices: Sequence[str] | None = None) -> str:
        value = self.values[column]
        if choices is not None and value not in choices:
            raise self.error(column, value, "one of " + ", ".join(choices))
        if not value:
            raise self.error(column, value, "a value")
        return value

    def count(self, column: str) -> int | None:
        value = self.values[column]
        if value == "":
            return None
        if not value.isdigit():
            raise self.error(column, value, "a whole number of 0 or more, or empty (withheld)")
        return int(value)

    def number(self, column: str) -> float | None:
        value = self.values[column]
        if value == "":
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.error(column, value, "a number, or empty (withheld)") from None
        if not math.isfinite(number):
            raise self.error(column, value, "a finite number")
        return number

    def flag(self, column: str) -> bool:
        value = self.values[column]
        if value not in ("True", "False"):
            raise self.error(column, value, "True or False")
        return value == "True"

    def withheld(self, count_column: str, figures: Sequence[str], threshold: int) -> bool:
        """Check the row's suppression: withheld rows carry no figure, shown ones no small count.

        A count under the threshold that is not withheld would publish a small number, so it
        stops the load rather than being stored.
        """
        suppressed = self.flag("suppressed")
        count = self.count(count_column)
        if suppressed:
            for column in (count_column, *figures):
                if self.values[column] != "":
                    raise self.error(column, self.values[column], "empty on a withheld row")
        elif count is not None and count < threshold:
            raise self.error(
                count_column,
                str(count),
                f"a count of at least {threshold}, or the row withheld (suppressed = True)",
            )
        elif count is None:
            raise self.error(count_column, "", "a count on a row that is not withheld")
        return suppressed


def _read_csv(folder: Path, name: str, header: Sequence[str]) -> list[_Row]:
    path = folder / name
    if not path.is_file():
        raise SafetyLoadError(f"{path}: missing; expected every file `csas safety analyze` writes")
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            found = next(reader, None)
            if found is None or tuple(found) != tuple(header):
                raise SafetyLoadError(f"{name}: the header is {found!r}; expected {list(header)}")
            rows = []
            for values in reader:
                if len(values) != len(header):
                    raise SafetyLoadError(
                        f"{name}, line {reader.line_num}: found {len(values)} values, "
                        f"expected {len(header)}"
                    )
                rows.append(_Row(path, reader.line_num, dict(zip(header, values, strict=True))))
    except UnicodeDecodeError as error:
        raise SafetyLoadError(f"{name}: not UTF-8 text ({error})") from None
    except csv.Error as error:
        raise SafetyLoadError(f"{name}: not a readable CSV file ({error})") from None
    return rows


def _read_json(folder: Path, name: str) -> dict[str, Any]:
    path = folder / name
    if not path.is_file():
        raise SafetyLoadError(f"{path}: missing; expected every file `csas safety analyze` writes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SafetyLoadError(f"{name}: not a JSON file ({error})") from None
    if not isinstance(data, dict):
        raise SafetyLoadError(f"{name}: found {type(data).__name__}, expected a JSON object")
    return data


def _read_summary(folder: Path) -> dict[str, Any]:
    try:
        summary = load_summary(folder)
    except PipelineError as error:
        raise SafetyLoadError(str(error)) from None
    missing = [key for key in SUMMARY_KEYS if key not in summary]
    if missing:
        raise SafetyLoadError(
            f"summary.json: key(s) {missing} missing; run csas safety analyze again"
        )
    kind = summary["input"].get("kind")
    if kind == "mixed":
        raise SafetyLoadError(
            "summary.json, input.kind: the analysed rows are of more than one kind (calls for "
            "service, crime incidents, 311 requests); analyse each kind on its own"
        )
    if kind is not None and kind not in DataKind.values:
        raise SafetyLoadError(
            f"summary.json, input.kind: found {kind!r}, expected one of "
            f"{', '.join(DataKind.values)}"
        )
    for key in ("received_from", "received_to"):
        value = summary["input"].get(key)
        if value is not None:
            try:
                moment = dt.datetime.fromisoformat(str(value))
            except ValueError:
                raise SafetyLoadError(
                    f"summary.json, input.{key}: found {value!r}, expected an ISO 8601 time"
                ) from None
            if moment.tzinfo is None:
                raise SafetyLoadError(
                    f"summary.json, input.{key}: found {value!r}, expected a UTC offset"
                )
    return summary


def _threshold(summary: dict[str, Any]) -> int:
    """The analysis's suppression threshold: at least the site's (CSAS_SUPPRESSION_THRESHOLD),
    so that an analysis run with a lower one can never put smaller counts on public pages."""
    value = summary.get("parameters", {}).get("threshold")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SafetyLoadError(
            f"summary.json, parameters.threshold: found {value!r}, expected a positive whole number"
        )
    floor = settings.SUPPRESSION_THRESHOLD
    if value < floor:
        raise SafetyLoadError(
            f"summary.json, parameters.threshold: the analysis withheld counts under {value}, "
            f"but this site publishes no count under {floor} (CSAS_SUPPRESSION_THRESHOLD); run "
            f"csas safety analyze again with --threshold {floor} or more"
        )
    _check_summary_counts(summary, value)
    return int(value)


def _check_summary_counts(value: Any, threshold: int, where: str = "summary.json") -> None:
    """Refuse a count under the threshold anywhere in the summary (a key `analyze` uses for
    a count of calls or areas' calls; a withheld count is null)."""
    if isinstance(value, dict):
        for key, item in value.items():
            place = f"{where}, {key}"
            if key in SUMMARY_COUNT_KEYS and _small_count(item, threshold):
                raise SafetyLoadError(
                    f"{place}: found {item!r}, expected null (withheld) or at least {threshold}"
                )
            _check_summary_counts(item, threshold, place)
    elif isinstance(value, list):
        for number, item in enumerate(value):
            _check_summary_counts(item, threshold, f"{where}[{number}]")


def _small_count(value: Any, threshold: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value < threshold


def _read_eligibility(folder: Path) -> dict[str, Any]:
    data = _read_json(folder, "eligibility.json")
    for population in POPULATIONS:
        found = data.get(population)
        if not isinstance(found, dict):
            raise SafetyLoadError(
                f"eligibility.json: no {population!r} entry; expected {list(POPULATIONS)}"
            )
        missing = [key for key in ELIGIBILITY_KEYS if key not in found]
        if missing:
            raise SafetyLoadError(f"eligibility.json, {population}: key(s) {missing} missing")
        for key in ("share_by_type", "share_after_screening", "share_not_assessed"):
            share = found[key]
            if share is not None and not (
                isinstance(share, int | float) and not isinstance(share, bool) and 0 <= share <= 1
            ):
                raise SafetyLoadError(
                    f"eligibility.json, {population}.{key}: found {share!r}, expected a share "
                    "between 0 and 1 or null (withheld)"
                )
    return data


def _read_folder(folder: Path) -> _Folder:
    if not folder.is_dir():
        raise SafetyLoadError(
            f"{folder}: no such folder; give the folder csas safety analyze wrote"
        )
    missing = [name for name in OUTPUT_FILES if not (folder / name).is_file()]
    if missing and set(missing) <= set(ADDED_FILES):
        raise SafetyLoadError(
            f"{folder}: file(s) {missing} missing: this folder was written by an older "
            "csas safety analyze, before district eligibility and the district time profile; "
            "run csas safety analyze again on the normalised calls and load the new folder"
        )
    if missing:
        raise SafetyLoadError(
            f"{folder}: file(s) {missing} missing; expected every file csas safety analyze writes"
        )
    summary = _read_summary(folder)
    threshold = _threshold(summary)
    read = _Folder(summary=summary, eligibility=_read_eligibility(folder))

    for key, kind in DISTRICT_KINDS.items():
        seen: set[tuple[str, ...]] = set()
        for row in _read_csv(folder, f"rates_{key}.csv", RATE_HEADER):
            area, month = row.text("area"), _month(row)
            _once(row, seen, ("area", "month"))
            suppressed = row.withheld(
                "count", ("rate_per_1000", "rate_low", "rate_high"), threshold
            )
            read.rates.append(
                SafetyAreaRate(
                    kind=kind,
                    area_code=area,
                    month=month,
                    calls=row.count("count"),
                    rate_per_1000=row.number("rate_per_1000"),
                    rate_low=row.number("rate_low"),
                    rate_high=row.number("rate_high"),
                    suppressed=suppressed,
                )
            )
    seen = set()
    for row in _read_csv(folder, "calls_without_area.csv", WITHOUT_AREA_HEADER):
        key = row.text("geography", tuple(DISTRICT_KINDS))
        _once(row, seen, ("geography", "month"))
        read.without_area.append(
            SafetyCallsWithoutArea(
                kind=DISTRICT_KINDS[key],
                month=_month(row),
                calls=row.count("count"),
                suppressed=row.withheld("count", (), threshold),
            )
        )
    figures = RESPONSE_HEADER[4:13]
    seen = set()
    for row in _read_csv(folder, "response_times.csv", RESPONSE_HEADER):
        district = row.text("council_district")
        _once(row, seen, ("priority", "council_district", "interval"))
        suppressed = row.withheld("n", figures, threshold)
        values = {name: row.number(name) for name in figures}
        read.response_times.append(
            SafetyResponseTime(
                priority=row.text("priority"),
                council_district="" if district == "citywide" else district,
                interval=row.text("interval", INTERVALS),
                n=row.count("n"),
                suppressed=suppressed,
                **values,
            )
        )
    seen = set()
    for row in _read_csv(folder, "eligible_time_profile.csv", PROFILE_HEADER):
        _once(row, seen, ("definition", "weekday", "hour"))
        hour_text = row.values["hour"]
        if hour_text == "all":
            hour = None
        elif hour_text.isdigit() and int(hour_text) < 24:
            hour = int(hour_text)
        else:
            raise row.error("hour", hour_text, "an hour 0-23 or 'all'")
        suppressed = row.withheld("count", ("share",), threshold)
        read.profile.append(
            SafetyTimeProfileCell(
                definition=row.text("definition", DEFINITIONS),
                weekday=row.text("weekday", (*WEEKDAYS, "all")),
                hour=hour,
                calls=row.count("count"),
                share=row.number("share"),
                suppressed=suppressed,
                suppression=row.values["suppression"],
            )
        )
    seen = set()
    for row in _read_csv(folder, "hotspots_block_groups.csv", HOTSPOT_HEADER):
        _once(row, seen, ("measure", "geoid"))
        geoid = row.values["geoid"]
        if not BLOCK_GROUP_GEOID.fullmatch(geoid):
            raise row.error(
                "geoid",
                geoid,
                "a 12-digit 2020 census block group GEOID (nothing smaller is stored)",
            )
        suppressed = row.withheld("count", ("z", "p", "q"), threshold)
        read.hotspots.append(
            SafetyBlockGroupHotspot(
                measure=row.text("measure"),
                geoid=geoid,
                calls=row.count("count"),
                z=row.number("z"),
                p=row.number("p"),
                q=row.number("q"),
                classification=row.text("classification", ("hot", "cold", "not significant")),
                suppressed=suppressed,
            )
        )
    _read_added(folder, read, threshold)
    return read


def _share_value(row: _Row, column: str) -> float | None:
    value = row.number(column)
    if value is not None and not 0 <= value <= 1:
        raise row.error(column, row.values[column], "a share between 0 and 1, or empty")
    return value


def _read_added(folder: Path, read: _Folder, threshold: int) -> None:
    """District eligibility and the council districts' eligible calls by hour of the week."""
    seen: set[tuple[str, ...]] = set()
    counts = ("calls", "eligible_by_type", "eligible_after_screening")
    for row in _read_csv(folder, "eligibility_by_area.csv", ELIGIBILITY_BY_AREA_HEADER):
        key = row.text("geography", tuple(DISTRICT_KINDS))
        _once(row, seen, ("geography", "area"))
        values = {c: row.count(c) for c in counts}
        for column, value in values.items():
            if value is not None and value < threshold:
                raise row.error(
                    column, str(value), f"a count of at least {threshold}, or empty (withheld)"
                )
        shares = {
            "share_by_type": _share_value(row, "share_by_type"),
            "share_after_screening": _share_value(row, "share_after_screening"),
        }
        for share, part in (
            ("share_by_type", "eligible_by_type"),
            ("share_after_screening", "eligible_after_screening"),
        ):
            if shares[share] is not None and (values[part] is None or values["calls"] is None):
                raise row.error(share, row.values[share], "empty where a count is withheld")
        suppressed = row.flag("suppressed")
        if suppressed != any(row.values[c] == "" for c in ELIGIBILITY_BY_AREA_HEADER[2:7]):
            raise row.error(
                "suppressed", row.values["suppressed"], "True exactly where a figure is empty"
            )
        read.area_eligibility.append(
            SafetyAreaEligibility(
                kind=DISTRICT_KINDS[key],
                area_code=row.text("area"),
                suppressed=suppressed,
                **values,
                **shares,
            )
        )
    seen = set()
    for row in _read_csv(folder, "eligible_time_by_district.csv", TIME_BY_DISTRICT_HEADER):
        _once(row, seen, ("definition", "council_district", "hour_of_week"))
        hour = row.count("hour_of_week")
        if hour is None or hour >= 168:
            raise row.error("hour_of_week", row.values["hour_of_week"], "an hour 0-167")
        suppressed = row.withheld("count", (), threshold)
        read.district_hours.append(
            SafetyDistrictHourCell(
                definition=row.text("definition", DEFINITIONS),
                council_district=row.text("council_district"),
                hour_of_week=hour,
                calls=row.count("count"),
                suppressed=suppressed,
                suppression=row.values["suppression"],
            )
        )


def _once(row: _Row, seen: set[tuple[str, ...]], columns: Sequence[str]) -> None:
    """Stop at a repeated row: each file has one row per key."""
    key = tuple(row.values[c] for c in columns)
    if key in seen:
        found = dict(zip(columns, key, strict=True))
        raise SafetyLoadError(f"{row.path.name}, line {row.line}: a second row for {found}")
    seen.add(key)


def _month(row: _Row) -> str:
    month = row.values["month"]
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise row.error("month", month, "a month written YYYY-MM")
    return month


def _moment(value: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(value)) if value else None


# --------------------------------------------------------------------------------------------
# Storing


def _store(
    *, strategy: Strategy, read: _Folder, title: str, publish: bool, source: str
) -> SafetyAnalysis:
    summary = read.summary
    analysis = SafetyAnalysis(
        strategy=strategy,
        title=title,
        is_synthetic=bool(summary["synthetic"]),
        # Summaries written before kinds were recorded (csas before 2026-11-29) are of calls:
        # the public pages were the only use, and they spoke of calls.
        kind=summary["input"].get("kind") or DataKind.CALLS,
        source=source or f"csas safety analyze output of {summary['input'].get('file', '?')}",
        received_from=_moment(summary["input"].get("received_from")),
        received_to=_moment(summary["input"].get("received_to")),
        is_published=publish,
        summary=summary,
        eligibility=read.eligibility,
    )
    try:
        analysis.full_clean()
    except ValidationError as error:
        raise SafetyLoadError(
            "; ".join(f"{name}: {' '.join(texts)}" for name, texts in error.message_dict.items())
        ) from None
    analysis.save()
    groups: tuple[tuple[type[Any], list[Any]], ...] = (
        (SafetyAreaRate, read.rates),
        (SafetyCallsWithoutArea, read.without_area),
        (SafetyResponseTime, read.response_times),
        (SafetyTimeProfileCell, read.profile),
        (SafetyBlockGroupHotspot, read.hotspots),
        (SafetyAreaEligibility, read.area_eligibility),
        (SafetyDistrictHourCell, read.district_hours),
    )
    for model, rows in groups:
        for row in rows:
            row.analysis = analysis
            # The analysis was just saved, and uniqueness is the database's job: checking
            # either row by row would cost a query per row.
            row.full_clean(exclude=["analysis"], validate_unique=False, validate_constraints=False)
        model.objects.bulk_create(rows, batch_size=500)
    return analysis


def safety_analysis_load(
    *,
    strategy: Strategy,
    out_dir: str | os.PathLike[str],
    title: str,
    publish: bool = False,
    source: str = "",
) -> SafetyAnalysis:
    """Store a `csas safety analyze` output folder as a new analysis, all or nothing.

    Raises:
        SafetyLoadError: the folder, a file, a row or a value is not what analyze writes
            (the message names the file, line and column); nothing is stored.
    """
    read = _read_folder(Path(out_dir))
    with transaction.atomic():
        return _store(strategy=strategy, read=read, title=title, publish=publish, source=source)


@transaction.atomic
def safety_analysis_set_published(*, analysis: SafetyAnalysis, published: bool) -> SafetyAnalysis:
    """Publish an analysis (its pages become public) or take it back.

    Raises:
        ValidationError: publishing an analysis that is not of calls for service.
    """
    analysis.is_published = published
    analysis.full_clean()
    analysis.save(update_fields=["is_published"])
    return analysis


def safety_demo_load(
    strategy: Strategy,
    *,
    calls: int = DEMO_CALLS,
    seed: int = DEMO_SEED,
    year: int = DEMO_YEAR,
    n_boot: int = 200,
    permutations: int = 9999,
    progress: ProgressCallback | None = None,
) -> SafetyAnalysis:
    """Synthesise, ingest, analyse and load a year of made-up Tacoma calls, published.

    The earlier demo analysis of the strategy is replaced in the same transaction, so
    running it again leaves one demo analysis (the same figures for the same arguments).
    """
    from csas.analysis.safety.pipeline import run
    from csas.analysis.safety.synthetic import SYNTHETIC_PROFILE, generate_calls

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    with tempfile.TemporaryDirectory(prefix="csas-safety-demo-") as work:
        folder = Path(work)
        step(f"synthesising {calls:,} calls")
        generate_calls(
            calls, seed=seed, year=year, out_path=folder / "calls.parquet", fmt="parquet"
        )
        step("ingesting and analysing")
        run(
            folder / "calls.parquet",
            profile=SYNTHETIC_PROFILE,
            out_dir=folder / "out",
            seed=seed,
            n_boot=n_boot,
            permutations=permutations,
        )
        step("loading")
        read = _read_folder(folder / "out")
    if not read.summary["synthetic"]:
        raise SafetyLoadError("the demo's calls are not marked synthetic; refusing to load them")
    # The title and the pages' banner already say the data are synthetic: the source says
    # how they were made.
    source = f"{calls:,} calls for {year} written by csas safety synth (seed {seed})"
    with transaction.atomic():
        SafetyAnalysis.objects.filter(
            strategy=strategy, is_synthetic=True, title=DEMO_TITLE
        ).delete()
        return _store(strategy=strategy, read=read, title=DEMO_TITLE, publish=True, source=source)
