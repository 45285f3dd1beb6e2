"""The bulk open data download: published content as a Frictionless Data Package.

One zip holds ``datapackage.json`` and, under ``data/``, a CSV per table (the published strategy
version, its goals, objectives and actions, implementation milestones, funding, reporting
periods, published updates, public indicators and their observations, geographies, and the
published safety analysis: calls per area and month, response times, the alternative-response
range by area and by hour, hot spots) and,
under ``geo/``, one GeoJSON file per geography kind built from the stored boundaries.
Every CSV has a Table Schema (types, constraints, primary and foreign keys) so that the
Frictionless validator and other tools can check it.

Each table is read from one queryset, which the open data page counts (`datapackage_summary`)
without reading the rows. The download is built once for the same data and kept in the cache
under the data's fingerprint (`datapackage_zip_cached`), so it is never stale.

Only what the public pages and the API already show goes in: the published version (never a
draft), published updates (never an author or reviewer), public indicators, observations with
suppressed cells emptied, geography outlines without the block-group demographic attributes.

Licence: no city or strategy setting names one, so the package is offered under Creative
Commons Attribution 4.0 (``CC-BY-4.0``), chosen over a public-domain dedication because the
vendored boundaries come with an attribution requirement (``data/SOURCES.md``). Each GeoJSON
resource carries its own ``sources`` and an attribution licence naming the stored source.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import pickle
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, Model, Prefetch, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from csas.progress.models import (
    ActionMilestone,
    ActionUpdate,
    Direction,
    FundingLine,
    FundingStatus,
    Indicator,
    IndicatorKind,
    Observation,
    ReportingPeriod,
    UpdateState,
    UpdateStatus,
    too_few,
)
from csas.strategy.models import (
    Action,
    ActionStatus,
    CodeOrigin,
    Department,
    Geography,
    GeographyKind,
    Goal,
    Horizon,
    Objective,
    Strategy,
    StrategyVersion,
    VersionStatus,
)

# The layout of the package (file names, columns). Bump the major number when a column is
# removed or renamed, the minor number when one is added.
FORMAT_VERSION = "1.2.0"  # 1.1: the safety tables; 1.2: the analysis's dates, not times; trends

DATA_LICENSE: dict[str, str] = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0 International",
}

ColumnType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
Cell = str | int | float | bool | Decimal | dt.date | dt.datetime | None


@dataclass(frozen=True)
class Column:
    """One CSV column and its Table Schema field."""

    name: str
    type: ColumnType
    description: str
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def descriptor(self) -> dict[str, Any]:
        field: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "description": self.description,
        }
        if self.type == "datetime":
            field["format"] = "%Y-%m-%dT%H:%M:%SZ"
        constraints: dict[str, Any] = {}
        if self.required:
            constraints["required"] = True
        if self.unique:
            constraints["unique"] = True
        if self.enum:
            constraints["enum"] = list(self.enum)
        if self.minimum is not None:
            constraints["minimum"] = self.minimum
        if self.maximum is not None:
            constraints["maximum"] = self.maximum
        if constraints:
            field["constraints"] = constraints
        return field


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference: tuple[str, ...]

    def descriptor(self) -> dict[str, Any]:
        return {
            "fields": list(self.fields),
            "reference": {"resource": self.resource, "fields": list(self.reference)},
        }


@dataclass(frozen=True)
class Table:
    """One CSV resource: its schema and where its rows come from.

    Fields:
        records: what the rows are read from: a queryset, read only when the rows are
            written (the one-row strategy table holds its record itself; the safety trends
            are a sequence read from the published analysis when first asked for).
        row: one record as cells, in column order.

    The open data page counts `records` (`count`) and the package writes `rows` from the
    very same queryset, with the same publication filters, so the two cannot disagree.
    """

    name: str
    title: str | Promise
    description: str
    columns: tuple[Column, ...]
    records: QuerySet[Any, Any] | Sequence[Any]
    row: Callable[[Any], tuple[Cell, ...]]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def path(self) -> str:
        return f"data/{self.name}.csv"

    def rows(self) -> Iterator[tuple[Cell, ...]]:
        """The rows, read from the database now (in chunks, never kept all at once)."""
        records = self.records
        if isinstance(records, QuerySet):
            return (self.row(record) for record in records.iterator(chunk_size=2000))
        return (self.row(record) for record in records)

    def count(self) -> int:
        """How many rows `rows` gives, as one COUNT query."""
        if isinstance(self.records, QuerySet):
            return self.records.count()
        return len(self.records)


@dataclass(frozen=True)
class GeoLayer:
    """One GeoJSON resource: the stored boundaries of one geography kind."""

    kind: str
    title: str | Promise
    features: int
    sources: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.kind.replace('_', '-')}-boundaries"

    @property
    def path(self) -> str:
        return f"geo/{self.kind}.geojson"


@dataclass(frozen=True)
class PackageContents:
    """Everything the package holds: its tables (read when written) and boundary layers."""

    version: StrategyVersion
    tables: tuple[Table, ...]
    layers: tuple[GeoLayer, ...]

    @property
    def name(self) -> str:
        return _package_name(self.version)

    @property
    def filename(self) -> str:
        return _package_filename(self.version)


def _package_name(version: StrategyVersion) -> str:
    return version.strategy.slug.lower()


def _package_filename(version: StrategyVersion) -> str:
    return f"{_package_name(version)}-datapackage.zip"


@dataclass(frozen=True)
class ResourceSummary:
    """What the open data page lists for one resource."""

    name: str
    title: str | Promise
    path: str
    format: Literal["csv", "geojson"]
    rows: int


def _values(choices: Iterable[str]) -> tuple[str, ...]:
    return tuple(value for value in choices if value)


def _strategy_table(version: StrategyVersion) -> Table:
    strategy = version.strategy
    return Table(
        name="strategy",
        title=_("The strategy and its published version"),
        description="One row: the strategy, its city and the version the public sees.",
        columns=(
            Column("strategy", "string", "Stable identifier of the strategy.", required=True),
            Column("name", "string", "Name of the strategy."),
            Column("city", "string", "The city that runs the strategy."),
            Column("region", "string", "State or province of the city."),
            Column("owner_office", "string", "The office that owns the strategy."),
            Column("version", "string", "Stable identifier of the published version."),
            Column("version_label", "string", "Name of the published version."),
            Column(
                "version_status",
                "string",
                "Status of the published version.",
                enum=_values(VersionStatus.values),
            ),
            Column("version_dated", "date", "Date of the version's wording."),
            Column("vision", "string", "The strategy's vision."),
            Column("safety_definition", "string", "The community's definition of safety."),
            Column("summary", "string", "Summary of the strategy."),
            Column("source_note", "string", "Where the version's wording comes from."),
        ),
        records=(version,),
        row=lambda v: (
            strategy.slug,
            strategy.name,
            strategy.city.name,
            strategy.city.region,
            strategy.owner_office,
            v.key,
            v.label,
            v.status,
            v.dated,
            v.vision,
            v.safety_definition,
            v.summary,
            v.source_note,
        ),
        primary_key=("strategy",),
    )


def _goals_table(version: StrategyVersion) -> Table:
    goals = Goal.objects.filter(version=version).order_by("number")
    return Table(
        name="goals",
        title=_("Goals"),
        description="The goals of the published version.",
        columns=(
            Column("number", "integer", "Goal number.", required=True, minimum=0),
            Column("short_name", "string", "Short name, e.g. PLACES.", unique=True),
            Column("title", "string", "Title of the goal."),
            Column("statement", "string", "Goal statement."),
        ),
        records=goals,
        row=lambda g: (g.number, g.short_name, g.title, g.statement),
        primary_key=("number",),
    )


def _objectives_table(version: StrategyVersion) -> Table:
    objectives = (
        Objective.objects.filter(goal__version=version)
        .select_related("goal")
        .order_by("goal__number", "order", "code")
    )
    return Table(
        name="objectives",
        title=_("Objectives"),
        description="Objectives under each goal; a code is unique within its goal.",
        columns=(
            Column("goal", "integer", "Number of the goal (goals.number).", required=True),
            Column("code", "string", "Objective code within the goal.", required=True),
            Column("title", "string", "Title of the objective."),
            Column("description", "string", "Description of the objective."),
            Column("order", "integer", "Position within the goal.", minimum=0),
        ),
        records=objectives,
        row=lambda o: (o.goal.number, o.code, o.title, o.description, o.order),
        primary_key=("goal", "code"),
        foreign_keys=(ForeignKey(("goal",), "goals", ("number",)),),
    )


def _actions_table(version: StrategyVersion) -> Table:
    actions = (
        Action.objects.filter(version=version)
        .select_related("goal", "objective__goal", "lead_department")
        .prefetch_related(
            Prefetch("supporting_departments", queryset=Department.objects.order_by("name"))
        )
        .order_by("goal__number", "order", "code", "slug")
    )

    def row(a: Action) -> tuple[Cell, ...]:
        objective = a.objective
        return (
            a.slug,
            a.code,
            a.code_origin,
            a.goal.number,
            objective.goal.number if objective else None,
            objective.code if objective else None,
            a.title,
            a.description,
            a.horizon,
            a.status,
            a.lead_department.name if a.lead_department else None,
            "; ".join(d.name for d in a.supporting_departments.all()),
            a.order,
            a.data_note,
        )

    return Table(
        name="actions",
        title=_("Actions"),
        description=(
            "Actions of the published version. The slug identifies an action; the code is "
            "the human-readable number, which a source document may use twice (see data_note)."
        ),
        columns=(
            Column("slug", "string", "Identifier of the action.", required=True, unique=True),
            Column("code", "string", "Human-readable code, e.g. 3.6.", required=True),
            Column(
                "code_origin",
                "string",
                "source: numbered in the source document; assigned: by the strategy office.",
                enum=_values(CodeOrigin.values),
            ),
            Column("goal", "integer", "Number of the goal (goals.number).", required=True),
            Column(
                "objective_goal",
                "integer",
                "With objective_code, the objective (objectives.goal); empty when none.",
            ),
            Column(
                "objective_code",
                "string",
                "With objective_goal, the objective (objectives.code); empty when none.",
            ),
            Column("title", "string", "Title of the action."),
            Column("description", "string", "Description of the action."),
            Column(
                "horizon",
                "string",
                "near_term, long_term or supporting; empty when the source states none.",
                enum=_values(Horizon.values),
            ),
            Column("status", "string", "Status of the action.", enum=_values(ActionStatus.values)),
            Column("lead_department", "string", "Name of the lead department, if assigned."),
            Column("supporting_departments", "string", "Names of supporting departments, '; '."),
            Column("order", "integer", "Position within the goal.", minimum=0),
            Column("data_note", "string", "A flag about the data itself."),
        ),
        records=actions,
        row=row,
        primary_key=("slug",),
        foreign_keys=(
            ForeignKey(("goal",), "goals", ("number",)),
            ForeignKey(("objective_goal", "objective_code"), "objectives", ("goal", "code")),
        ),
    )


ACTION_KEY = Column("action", "string", "The action (actions.slug).", required=True)
ACTION_CODE = Column("action_code", "string", "The action's human-readable code.")
ACTION_FOREIGN_KEY = ForeignKey(("action",), "actions", ("slug",))


def _milestones_table(version: StrategyVersion) -> Table:
    milestones = (
        ActionMilestone.objects.filter(action__version=version)
        .order_by("action__goal__number", "action__order", "action__slug", "order", "planned_end")
        .values_list(
            "action__slug",
            "action__code",
            "title",
            "planned_start",
            "planned_end",
            "actual_end",
            "percent_complete",
            "order",
        )
    )
    return Table(
        name="milestones",
        title=_("Implementation milestones"),
        description="Dated implementation milestones of each action.",
        columns=(
            ACTION_KEY,
            ACTION_CODE,
            Column("title", "string", "What the milestone is."),
            Column("planned_start", "date", "Planned start, if set."),
            Column("planned_end", "date", "Planned completion.", required=True),
            Column("actual_end", "date", "Actual completion; empty until done."),
            Column("percent_complete", "integer", "Percent complete.", minimum=0, maximum=100),
            Column("order", "integer", "Position within the action.", minimum=0),
        ),
        records=milestones,
        row=tuple,
        foreign_keys=(ACTION_FOREIGN_KEY,),
    )


def _funding_table(version: StrategyVersion) -> Table:
    lines = (
        FundingLine.objects.filter(action__version=version)
        .order_by("action__goal__number", "action__order", "action__slug", "fiscal_year", "source")
        .values_list("action__slug", "action__code", "source", "amount", "status", "fiscal_year")
    )
    return Table(
        name="funding",
        title=_("Funding"),
        description="Funding lines of each action, in US dollars.",
        columns=(
            ACTION_KEY,
            ACTION_CODE,
            Column("source", "string", "Funding source, e.g. General Fund."),
            Column("amount", "number", "Amount in US dollars.", required=True, minimum=0),
            Column("status", "string", "Funding status.", enum=_values(FundingStatus.values)),
            Column("fiscal_year", "string", "Fiscal year, as the City writes it."),
        ),
        records=lines,
        row=tuple,
        foreign_keys=(ACTION_FOREIGN_KEY,),
    )


def _periods_table(version: StrategyVersion) -> Table:
    periods = ReportingPeriod.objects.filter(strategy_id=version.strategy_id).order_by(
        "starts_on", "label"
    )
    return Table(
        name="reporting-periods",
        title=_("Reporting periods"),
        description="The periods progress updates are written for.",
        columns=(
            Column("label", "string", "Name of the period, e.g. 2026 Q1.", required=True),
            Column("starts_on", "date", "First day of the period.", required=True),
            Column("ends_on", "date", "Last day of the period.", required=True),
            Column("due_on", "date", "Updates are due by this date."),
        ),
        records=periods,
        row=lambda p: (p.label, p.starts_on, p.ends_on, p.due_on),
        primary_key=("label",),
    )


def _updates_table(version: StrategyVersion) -> Table:
    updates = (
        ActionUpdate.objects.filter(action__version=version, state=UpdateState.PUBLISHED)
        .order_by("period__starts_on", "action__goal__number", "action__order", "action__slug")
        .values_list(
            "action__slug", "action__code", "period__label", "status", "narrative", "published_at"
        )
    )
    return Table(
        name="updates",
        title=_("Published progress updates"),
        description="Published quarterly updates on each action (one per action and period).",
        columns=(
            ACTION_KEY,
            ACTION_CODE,
            Column(
                "period", "string", "Reporting period (reporting-periods.label).", required=True
            ),
            Column("status", "string", "Reported status.", enum=_values(UpdateStatus.values)),
            Column("narrative", "string", "What happened, in the owner's words."),
            Column("published_at", "datetime", "When the update was published (UTC)."),
        ),
        records=updates,
        row=tuple,
        primary_key=("action", "period"),
        foreign_keys=(ACTION_FOREIGN_KEY, ForeignKey(("period",), "reporting-periods", ("label",))),
    )


def _public_indicators(version: StrategyVersion) -> QuerySet[Indicator]:
    return Indicator.objects.filter(strategy_id=version.strategy_id, is_public=True).order_by(
        "slug"
    )


def _indicators_table(version: StrategyVersion) -> Table:
    return Table(
        name="indicators",
        title=_("Indicators"),
        description="Public indicators: survey-based population indicators and performance "
        "measures (counts per period), with baseline and target.",
        columns=(
            Column("slug", "string", "Identifier of the indicator.", required=True),
            Column("name", "string", "Name of the indicator."),
            Column("description", "string", "What it measures."),
            Column(
                "kind", "string", "population or performance.", enum=_values(IndicatorKind.values)
            ),
            Column("unit", "string", "Unit, e.g. percent, calls."),
            Column("direction", "string", "Which way is better.", enum=_values(Direction.values)),
            Column("baseline_value", "number", "Baseline value."),
            Column("baseline_year", "integer", "Year of the baseline."),
            Column("target_value", "number", "Target value."),
            Column("target_year", "integer", "Year of the target."),
            Column("source", "string", "Where the figures come from."),
        ),
        records=_public_indicators(version),
        row=lambda i: (
            i.slug,
            i.name,
            i.description,
            i.kind,
            i.unit,
            i.direction,
            i.baseline_value,
            i.baseline_year,
            i.target_value,
            i.target_year,
            i.source,
        ),
        primary_key=("slug",),
    )


def _indicator_actions_table(version: StrategyVersion) -> Table:
    links = (
        Indicator.actions.through.objects.filter(
            indicator__strategy_id=version.strategy_id,
            indicator__is_public=True,
            action__version=version,
        )
        .order_by("indicator__slug", "action__slug")
        .values_list("indicator__slug", "action__slug")
    )
    return Table(
        name="indicator-actions",
        title=_("Which actions each indicator tracks"),
        description="Links between public indicators and the actions they track.",
        columns=(
            Column("indicator", "string", "The indicator (indicators.slug).", required=True),
            ACTION_KEY,
        ),
        records=links,
        row=tuple,
        primary_key=("indicator", "action"),
        foreign_keys=(
            ForeignKey(("indicator",), "indicators", ("slug",)),
            ACTION_FOREIGN_KEY,
        ),
    )


def _observations_table(version: StrategyVersion) -> Table:
    observations = (
        Observation.objects.filter(indicator__in=_public_indicators(version))
        .order_by("indicator__slug", "period_start", "period_end", "dimension", "group")
        .values_list(
            "indicator__slug",
            "period_start",
            "period_end",
            "value",
            "n",
            "margin_of_error",
            "wave",
            "dimension",
            "group",
            "suppressed",
        )
    )

    def row(o: tuple[Any, ...]) -> tuple[Cell, ...]:
        slug, start, end, value, n, margin_of_error, wave, dimension, group, hidden = o
        # A suppressed cell describes too few people or events to publish: no figures at all.
        hidden = hidden or too_few(n)
        if hidden:
            value = n = margin_of_error = None
        return (slug, start, end, value, n, margin_of_error, wave, dimension, group, hidden)

    return Table(
        name="observations",
        title=_("Observations"),
        description=(
            "Values of the public indicators per period, overall (empty dimension) or for one "
            "group of a breakdown. Suppressed rows have no value, n or margin of error. "
            "Indicator, period, dimension and group identify a row."
        ),
        columns=(
            Column("indicator", "string", "The indicator (indicators.slug).", required=True),
            Column("period_start", "date", "First day of the period.", required=True),
            Column("period_end", "date", "Last day of the period.", required=True),
            Column("value", "number", "The value; empty when suppressed."),
            Column("n", "integer", "Respondents (surveys); empty when suppressed.", minimum=0),
            Column("margin_of_error", "number", "Margin of error; empty when suppressed."),
            Column("wave", "string", "Survey wave."),
            Column("dimension", "string", "Breakdown, e.g. council_district; empty: overall."),
            Column("group", "string", "Group within the breakdown; empty: overall."),
            Column("suppressed", "boolean", "Too few people or events to publish."),
        ),
        records=observations,
        row=row,
        foreign_keys=(ForeignKey(("indicator",), "indicators", ("slug",)),),
    )


def _geographies_table(version: StrategyVersion) -> Table:
    geographies = (
        Geography.objects.filter(city_id=version.strategy.city_id)
        .order_by("kind", "code")
        .values_list("kind", "code", "name", "population")
    )
    return Table(
        name="geographies",
        title=_("Geographies"),
        description="Areas of the city; boundaries are in the GeoJSON resources. Kinds do not "
        "nest.",
        columns=(
            Column(
                "kind", "string", "Kind of area.", required=True, enum=_values(GeographyKind.values)
            ),
            Column("code", "string", "Code of the area within its kind.", required=True),
            Column("name", "string", "Name of the area."),
            Column("population", "integer", "Residents, where known.", minimum=0),
        ),
        records=geographies,
        row=tuple,
        primary_key=("kind", "code"),
    )


def _geo_layers(version: StrategyVersion) -> tuple[GeoLayer, ...]:
    counts = (
        Geography.objects.filter(city_id=version.strategy.city_id, geometry__isnull=False)
        .values("kind", "source")
        .annotate(features=Count("pk"))
        .order_by("kind", "source")
    )
    by_kind: dict[str, tuple[int, list[str]]] = {}
    for row in counts:
        total, sources = by_kind.get(row["kind"], (0, []))
        if row["source"]:
            sources.append(row["source"])
        by_kind[row["kind"]] = (total + row["features"], sources)
    labels = dict(GeographyKind.choices)
    return tuple(
        GeoLayer(
            kind=kind,
            title=labels.get(kind, kind),
            features=features,
            sources=tuple(sources),
        )
        for kind, (features, sources) in sorted(by_kind.items())
    )


def datapackage_contents(version: StrategyVersion) -> PackageContents:
    """What the package of `version` holds: each table's schema and the queryset its rows are
    read from, and the boundary layers (one query). The rows and the geometry are read on
    write; `datapackage_summary` counts the same querysets.

    `version` must be the published version: callers get it from `version_get_published`.
    """
    _require_published(version)
    return PackageContents(version=version, tables=_tables(version), layers=_geo_layers(version))


def _require_published(version: StrategyVersion) -> None:
    if not version.is_published:
        raise ValueError(f"version {version.key!r} is not published; only published data goes out")


def _tables(version: StrategyVersion) -> tuple[Table, ...]:
    return (
        _strategy_table(version),
        _goals_table(version),
        _objectives_table(version),
        _actions_table(version),
        _milestones_table(version),
        _funding_table(version),
        _periods_table(version),
        _updates_table(version),
        _indicators_table(version),
        _indicator_actions_table(version),
        _observations_table(version),
        _geographies_table(version),
        *safety_tables(version),
    )


def safety_tables(version: StrategyVersion) -> tuple[Table, ...]:
    """The published safety analysis's tables (`csas.safetylab.datapackage`)."""
    from csas.safetylab.datapackage import safety_tables as tables

    return tables(version)


def datapackage_summary(contents: PackageContents) -> list[ResourceSummary]:
    """Each resource with its row (CSV) or feature (GeoJSON) count: one COUNT query per
    table but the one-row strategy table, on the querysets the package is written from."""
    summaries = [
        ResourceSummary(t.name, t.title, t.path, "csv", t.count()) for t in contents.tables
    ]
    summaries += [
        ResourceSummary(layer.name, layer.title, layer.path, "geojson", layer.features)
        for layer in contents.layers
    ]
    return summaries


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_bytes(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.name for column in table.columns])
    for row in table.rows():
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _geojson_bytes(version: StrategyVersion, layer: GeoLayer) -> bytes:
    geographies = (
        Geography.objects.filter(
            city_id=version.strategy.city_id, kind=layer.kind, geometry__isnull=False
        )
        .order_by("code")
        .only("kind", "code", "name", "population", "geometry")
    )
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": g.code,
                "geometry": g.geometry,
                "properties": {
                    "kind": g.kind,
                    "code": g.code,
                    "name": g.name,
                    "population": g.population,
                },
            }
            for g in geographies
        ],
    }
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _integrity(data: bytes) -> dict[str, Any]:
    return {"bytes": len(data), "hash": f"sha256:{hashlib.sha256(data).hexdigest()}"}


def _table_resource(table: Table, data: bytes) -> dict[str, Any]:
    schema: dict[str, Any] = {"fields": [column.descriptor() for column in table.columns]}
    if table.primary_key:
        schema["primaryKey"] = list(table.primary_key)
    if table.foreign_keys:
        schema["foreignKeys"] = [key.descriptor() for key in table.foreign_keys]
    return {
        "name": table.name,
        "path": table.path,
        "profile": "tabular-data-resource",
        "title": str(table.title),
        "description": table.description,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        **_integrity(data),
        "schema": schema,
    }


def _geo_resource(layer: GeoLayer, data: bytes) -> dict[str, Any]:
    return {
        "name": layer.name,
        "path": layer.path,
        "title": f"{layer.title} boundaries",
        "description": (
            f"{layer.features} {layer.title} boundaries as a GeoJSON FeatureCollection in "
            "WGS84 longitude/latitude; each feature's code matches geographies.code."
        ),
        "format": "geojson",
        "mediatype": "application/geo+json",
        "encoding": "utf-8",
        **_integrity(data),
        "sources": [{"title": source} for source in layer.sources],
        "licenses": [
            {
                # Open Definition's "Other (Attribution)": the publisher's open data terms,
                # which ask to be cited by the name recorded as the source.
                "name": "other-at",
                "title": f"Attribution required: cite “{source}”",
            }
            for source in layer.sources
        ]
        or [DATA_LICENSE],
    }


def _package_descriptor(
    contents: PackageContents, resources: list[dict[str, Any]], created: dt.datetime
) -> dict[str, Any]:
    version = contents.version
    strategy = version.strategy
    city = strategy.city
    build = version.key.replace("_", "-")
    sources = [{"title": f"{city.name}: {strategy.name}, {version.label}"}]
    sources += [{"title": source} for layer in contents.layers for source in layer.sources]
    descriptor: dict[str, Any] = {
        "profile": "data-package",
        "name": contents.name,
        "title": f"{city.name} {strategy.name}: open data",
        "description": (
            f"The published version of {city.name}'s {strategy.name} ({version.label}) with "
            "its implementation progress, public indicators and geographies. Only published "
            "content: no drafts, no unpublished updates, no personal data; suppressed "
            "observations carry no value."
        ),
        "version": f"{FORMAT_VERSION}+{build}",
        "created": created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "keywords": ["community safety", city.name, strategy.name],
        "licenses": [DATA_LICENSE],
        "sources": sources,
        "strategy_version": {
            "key": version.key,
            "label": version.label,
            "status": version.status,
            "dated": version.dated.isoformat(),
        },
        "resources": resources,
    }
    if strategy.owner_office:
        descriptor["contributors"] = [{"title": strategy.owner_office, "role": "publisher"}]
    return descriptor


def datapackage_files(
    contents: PackageContents, *, created: dt.datetime | None = None
) -> list[tuple[str, bytes]]:
    """The package's files, ``datapackage.json`` first, as (path inside the package, bytes).

    `created` defaults to now; pass it to get byte-identical output for the same data.
    """
    created = (created or timezone.now()).replace(microsecond=0)
    files: list[tuple[str, bytes]] = []
    resources: list[dict[str, Any]] = []
    with translation.override("en"):
        for table in contents.tables:
            data = _csv_bytes(table)
            files.append((table.path, data))
            resources.append(_table_resource(table, data))
        for layer in contents.layers:
            data = _geojson_bytes(contents.version, layer)
            files.append((layer.path, data))
            resources.append(_geo_resource(layer, data))
        descriptor = _package_descriptor(contents, resources, created)
    manifest = json.dumps(descriptor, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    return [("datapackage.json", manifest), *files]


def datapackage_write_zip(
    contents: PackageContents, target: IO[bytes], *, created: dt.datetime | None = None
) -> None:
    """Write the package as a zip with ``datapackage.json`` at its root."""
    created = (created or timezone.now()).replace(microsecond=0)
    stamp = created.astimezone(dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in datapackage_files(contents, created=created):
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def datapackage_zip_bytes(
    contents: PackageContents, *, created: dt.datetime | None = None
) -> bytes:
    buffer = io.BytesIO()
    datapackage_write_zip(contents, buffer, created=created)
    return buffer.getvalue()


# --- the download, cached -----------------------------------------------------------------------

#: Every save and delete of these leaves a history row (simple_history), so the newest history
#: row of each moves whenever one of them changes. (Milestones keep history too, but approving
#: an update sets their percent complete without it: their content is read instead.)
_WITH_HISTORY: tuple[type[Model], ...] = (
    Strategy,
    StrategyVersion,
    Goal,
    Objective,
    Department,
    Action,
    FundingLine,
    ActionUpdate,
    Indicator,
)
#: Link rows are only ever added or removed, never edited, and ids are never reused, so the
#: count and the largest id of these tables move with every change.
_LINKS: tuple[type[Model], ...] = (
    Indicator.actions.through,
    Action.supporting_departments.through,
)


@functools.cache
def _code_digest() -> str:
    """This module's code: a release that changes the package never serves an older zip."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _digest_rows(digest: Any, label: str, queryset: QuerySet[Any, Any]) -> None:
    """Feed `label` and the rows of `queryset` into `digest` as the database driver returns
    them: no model instances and no Django conversions (JSON stays text).

    The rows are pickled, which is several times faster than ``repr``. Equal rows can pickle
    differently only where the driver shares objects differently (back references), which
    costs a rebuild, never a stale package: different rows never pickle alike.
    """
    digest.update(f"\n{label}\n".encode())
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        return
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5000):
            digest.update(pickle.dumps(rows, protocol=5))


def datapackage_fingerprint(version: StrategyVersion) -> str:
    """A digest that changes whenever anything the package of `version` is built from may
    have changed, read in seven queries (a few milliseconds at Tacoma's size, about 0.15 s
    with 25,000 observations, against seconds to build the package).

    It covers the strategy, city and version as loaded, the newest history row of every
    table whose every change leaves one (`_WITH_HISTORY`), the count and largest id of the
    link tables (`_LINKS`), and the full content of what is edited in place without history:
    reporting periods, milestones, geographies with their boundaries, and the public
    indicators' observations (feeds and the API rewrite an observation where it is). A
    change to this module changes it too.
    """
    tables = _tables(version)
    with translation.override("en"):
        # The layout, whose enums and labels come partly from the models.
        layout = [
            (table.name, str(table.title), [column.descriptor() for column in table.columns])
            for table in tables
        ]
        kinds = [(kind, str(label)) for kind, label in GeographyKind.choices]
    strategy = tables[0]
    digest = hashlib.sha256(
        repr(
            (
                FORMAT_VERSION,
                _code_digest(),
                # What is suppressed depends on the threshold, not only on the data.
                settings.SUPPRESSION_THRESHOLD,
                layout,
                kinds,
                version.pk,
                [strategy.row(record) for record in strategy.records],
            )
        ).encode()
    )
    newest = {
        f"history_{index}": Subquery(
            model.history.order_by("-history_id").values("history_id")[:1]  # type: ignore[attr-defined]
        )
        for index, model in enumerate(_WITH_HISTORY)
    }
    newest |= {
        f"link_{index}": Subquery(link._default_manager.order_by("-pk").values("pk")[:1])
        for index, link in enumerate(_LINKS)
    }
    # The published safety analysis: its rows are written once, when it is loaded, so which
    # analysis is published says whether the safety tables changed.
    from csas.safetylab.datapackage import published_analysis

    newest["safety_analysis"] = published_analysis(version)
    marks = StrategyVersion.objects.filter(pk=version.pk).annotate(**newest).values_list(*newest)
    digest.update(repr(list(marks)).encode())
    for link in _LINKS:
        digest.update(repr(link._default_manager.aggregate(rows=Count("pk"))).encode())
    _digest_rows(
        digest,
        "reporting periods",
        ReportingPeriod.objects.filter(strategy_id=version.strategy_id)
        .order_by("pk")
        .values_list("pk", "label", "starts_on", "ends_on", "due_on"),
    )
    _digest_rows(
        digest,
        "milestones",
        ActionMilestone.objects.filter(action__version=version)
        .order_by("pk")
        .values_list(
            "pk",
            "action_id",
            "title",
            "planned_start",
            "planned_end",
            "actual_end",
            "percent_complete",
            "order",
        ),
    )
    _digest_rows(
        digest,
        "geographies",
        Geography.objects.filter(city_id=version.strategy.city_id)
        .order_by("pk")
        .values_list("pk", "kind", "code", "name", "population", "source", "geometry"),
    )
    _digest_rows(
        digest,
        "observations",
        Observation.objects.filter(indicator__in=_public_indicators(version))
        .order_by("pk")
        # Dates as the stored text: SQLite's driver would parse every one (a third of the time).
        .annotate(starts=Cast("period_start", TextField()), ends=Cast("period_end", TextField()))
        .values_list(
            "pk",
            "indicator_id",
            "starts",
            "ends",
            "value",
            "n",
            "margin_of_error",
            "wave",
            "dimension",
            "group",
            "suppressed",
        ),
    )
    return digest.hexdigest()


@dataclass(frozen=True)
class BuiltPackage:
    """The package as a zip, with the fingerprint of the data it was built from.

    Fields:
        filename: the name to download it as.
        fingerprint: `datapackage_fingerprint` of its version when it was built.
        data: the zip.
    """

    filename: str
    fingerprint: str
    data: bytes


#: How long a built package stays in the cache when nothing changes (a change replaces it).
PACKAGE_CACHE_SECONDS = 7 * 24 * 3600


def datapackage_zip_cached(version: StrategyVersion) -> BuiltPackage:
    """The zip of `version`'s package, built at most once for the same data.

    The cache (shared by the server's processes) holds one zip per version with the
    fingerprint of the data it was built from; it is served while the fingerprint of the
    data now is the same, and rebuilt (and replaced) otherwise, so it is never stale. Its
    ``created`` date is when it was built.
    """
    _require_published(version)
    fingerprint = datapackage_fingerprint(version)
    key = f"csas:datapackage:{version.pk}"
    # Plain values in the cache: they read back whatever this module's classes become.
    cached = cache.get(key)
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == fingerprint:
        return BuiltPackage(_package_filename(version), fingerprint, cached[1])
    data = datapackage_zip_bytes(datapackage_contents(version))
    cache.set(key, (fingerprint, data), timeout=PACKAGE_CACHE_SECONDS)
    return BuiltPackage(_package_filename(version), fingerprint, data)


def datapackage_write_folder(
    contents: PackageContents, folder: Path, *, created: dt.datetime | None = None
) -> list[Path]:
    """Write the package's files under `folder` (which must be empty or absent)."""
    written = []
    for path, data in datapackage_files(contents, created=created):
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written
