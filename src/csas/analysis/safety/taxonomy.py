"""Call-type taxonomy: local call type -> category -> alternative-response tier, plus flags.

Every city names its call types its own way ("SERVICE - WELFARE CHECK", "Patrol Request").
csas classifies them in two reviewable layers, each a data file in ``csas/data/safety/``:

1. ``call_type_crosswalk.csv``: local call type -> shared category, seeded from the Vera
   Institute / Two Sigma Data Clinic mapping of 3,227 call types of five cities (rebuilt by
   ``scripts/build_call_type_crosswalk.py``; a few csas overrides are marked in it).
2. ``category_tiers.csv``: category -> tier, csas's default judgement of who could respond,
   for the city to review: ``community-only``, ``community-led``, ``co-response``, ``police``,
   or ``not-assessed`` (administrative and unknown-nature categories, and unmapped types).

Screening flags (``weapon``, ``violence``, ``injury``, ``in_progress``) come from keyword rules
on the call type's own text (``screening_rules.yaml``). Who started the call comes from the
normalised table's ``initiated_by`` (set by the ingestion profile) or, where that is unknown,
from Vera's ``SelfInitiated`` mapping (``self_initiated.csv``).

Matching uses a key: the text in upper case with every run of characters other than letters
and digits replaced by one space, so "SUSPICIOUS PERSON, VEHICLE, OR INCIDENT" finds Vera's
"SUSPICIOUS PERSON, VEHICLE OR INCIDENT". Vera cut some long types to about 45 characters
ending in "..."; those match any local type that starts with the same key.

>>> taxonomy = load_taxonomy()
>>> welfare = taxonomy.classify("SERVICE - WELFARE CHECK", city="Seattle")
>>> welfare.category, welfare.tier, welfare.screened_out
('Assisting the Public', 'community-only', False)
>>> fight = taxonomy.classify("FIGHT - IP - PHYSICAL (NO WEAPONS)", city="Seattle")
>>> fight.tier, fight.weapon, fight.violence, fight.in_progress
('police', False, True, True)
>>> taxonomy.classify("TOTALLY NEW TYPE", city="Seattle").match
'none'
"""

# SQL here is assembled from csas's own fragments; table names are quoted identifiers and
# values are bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Literal, get_args

import duckdb
import numpy as np
import yaml

Tier = Literal["community-only", "community-led", "co-response", "police", "not-assessed"]
Flag = Literal["weapon", "violence", "injury", "in_progress"]
Population = Literal["public", "public_and_unknown", "all"]
TypeField = Literal["call_type", "final_call_type"]
Match = Literal["exact", "prefix", "none"]
Initiation = Literal["officer", "public", "unknown"]
InitiationSource = Literal["profile", "vera", "unknown"]

#: The tiers, from least to most police involvement, then "not-assessed".
TIERS: tuple[Tier, ...] = get_args(Tier)
#: The screening flags.
FLAGS: tuple[Flag, ...] = get_args(Flag)
#: Tiers counted as eligible for an alternative response unless told otherwise.
DEFAULT_ELIGIBLE_TIERS: tuple[Tier, ...] = ("community-only", "community-led")

_FLAG_WORDS = {
    "weapon": "a weapon",
    "violence": "violence or a threat",
    "injury": "an injury or medical emergency",
    "in_progress": "an event in progress",
}


class TaxonomyError(ValueError):
    """A taxonomy data file is malformed; the message names the file, row and column."""


def call_type_key(text: str) -> str:
    """The matching key: upper case, every run of non-alphanumerics replaced by one space.

    >>> call_type_key("--ASLT - IP/JO - DV ")
    'ASLT IP JO DV'
    """
    return re.sub(r"[^A-Z0-9]+", " ", text.upper()).strip()


def _data_path(name: str) -> Path:
    return Path(str(resources.files("csas.data").joinpath(f"safety/{name}")))


@dataclass(frozen=True)
class CrosswalkEntry:
    """One local call type in the crosswalk.

    Fields:
        city: the city whose data the type comes from (``Seattle``).
        source_column: the column of that city's data (``Initial Call Type``).
        call_type: the local call type as written.
        key: its matching key (`call_type_key`); for a truncated type, the prefix.
        truncated: whether the source cut the text (it then matches as a prefix).
        calls: calls of that type in the source's data (Vera's count; indicative).
        category: the shared category, or None when nobody decided one.
        category_source: ``vera``, ``csas-override`` or ``none``.
        tier_override: a tier set directly for this call type (a city's review), or None.
        row: the entry's line in the CSV file (2 = first data row).
    """

    city: str
    source_column: str
    call_type: str
    key: str
    truncated: bool
    calls: int
    category: str | None
    category_source: str
    tier_override: Tier | None
    row: int


@dataclass(frozen=True)
class TierRule:
    """A category's tier and the reason for it (one row of ``category_tiers.csv``)."""

    category: str
    tier: Tier
    rationale: str


@dataclass(frozen=True)
class ScreeningRule:
    """Keyword rule setting one screening flag.

    Fields:
        flag: which flag it sets.
        description: what the flag means, in words.
        patterns: regular expressions; the flag is set when any matches the key...
        unless: ...after every match of these phrases has been removed from the key.
    """

    flag: Flag
    description: str
    patterns: tuple[str, ...]
    unless: tuple[str, ...]

    @cached_property
    def _compiled(self) -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]:
        return (
            tuple(re.compile(p) for p in self.patterns),
            tuple(re.compile(p) for p in self.unless),
        )

    def applies_to(self, key: str) -> bool:
        """Whether the flag is set for a call type with this key."""
        patterns, unless = self._compiled
        for phrase in unless:
            key = phrase.sub(" ", key)
        return any(p.search(key) for p in patterns)


@dataclass(frozen=True)
class SelfInitiatedEntry:
    """A value of a city's "who started the call" column, as Vera coded it."""

    city: str
    source_column: str
    value: str
    self_initiated: bool


@dataclass(frozen=True)
class CallTypeClass:
    """How one local call type is classified.

    Fields:
        call_type: the local call type (None when the call had none).
        category: the shared category, or None when unmapped or undecided.
        tier: the alternative-response tier (``not-assessed`` when unmapped).
        match: ``exact``, ``prefix`` (a truncated crosswalk entry) or ``none`` (unmapped).
        entry: the crosswalk entry used, or None.
        weapon, violence, injury, in_progress: the screening flags.
    """

    call_type: str | None
    category: str | None
    tier: Tier
    match: Match
    entry: CrosswalkEntry | None
    weapon: bool
    violence: bool
    injury: bool
    in_progress: bool

    @property
    def screened_out(self) -> bool:
        """Whether any screening flag is set."""
        return self.weapon or self.violence or self.injury or self.in_progress


@dataclass(frozen=True)
class Taxonomy:
    """The crosswalk, tier rules, screening rules and self-initiated mapping together.

    Fields:
        entries: the crosswalk's entries.
        tier_rules: category -> `TierRule`.
        screening: the screening rules, one per flag.
        self_initiated: Vera's self-initiated mapping.
        sources: the files read, for the record.
    """

    entries: tuple[CrosswalkEntry, ...]
    tier_rules: Mapping[str, TierRule]
    screening: tuple[ScreeningRule, ...]
    self_initiated: tuple[SelfInitiatedEntry, ...] = ()
    sources: tuple[str, ...] = field(default=())

    @property
    def own_files(self) -> dict[str, str]:
        """The files given in place of csas's defaults, by role (``crosswalk``,
        ``category_tiers``, ``screening_rules``, ``self_initiated``): their names only."""
        roles = ("crosswalk", "category_tiers", "screening_rules", "self_initiated")
        defaults = (
            "call_type_crosswalk.csv",
            "category_tiers.csv",
            "screening_rules.yaml",
            "self_initiated.csv",
        )
        return {
            role: Path(source).name
            for role, default, source in zip(roles, defaults, self.sources, strict=False)
            if Path(source) != _data_path(default)
        }

    @cached_property
    def cities(self) -> tuple[str, ...]:
        """The cities in the crosswalk."""
        return tuple(sorted({e.city for e in self.entries}))

    @cached_property
    def _index(
        self,
    ) -> tuple[
        dict[tuple[str | None, str], CrosswalkEntry],
        dict[str | None, list[CrosswalkEntry]],
    ]:
        def better(new: CrosswalkEntry, old: CrosswalkEntry | None) -> bool:
            if old is None:
                return True
            rank_new = (new.category is not None, new.calls, -new.row)
            rank_old = (old.category is not None, old.calls, -old.row)
            return rank_new > rank_old

        exact: dict[tuple[str | None, str], CrosswalkEntry] = {}
        prefixes: dict[str | None, list[CrosswalkEntry]] = {}
        for entry in self.entries:
            for city in (entry.city.casefold(), None):
                if entry.truncated:
                    prefixes.setdefault(city, []).append(entry)
                elif better(entry, exact.get((city, entry.key))):
                    exact[(city, entry.key)] = entry
        for entries in prefixes.values():
            entries.sort(key=lambda e: (-len(e.key), e.category is None, -e.calls, e.row))
        return exact, prefixes

    def check_city(self, city: str | None) -> None:
        """Raise ValueError if the crosswalk has no call types for `city` (None: any city)."""
        self._city(city)

    def _city(self, city: str | None) -> str | None:
        if city is None:
            return None
        folded = city.casefold()
        if folded not in {c.casefold() for c in self.cities}:
            raise ValueError(
                f"the crosswalk has no call types for city {city!r} (it has "
                f"{', '.join(self.cities)}); pass city=None to match across all cities, "
                "or load a crosswalk with the city's own call types"
            )
        return folded

    def lookup(
        self, call_type: str | None, *, city: str | None = None
    ) -> tuple[CrosswalkEntry | None, Match]:
        """The crosswalk entry for a local call type, and how it matched."""
        if call_type is None:
            return None, "none"
        folded = self._city(city)
        exact, prefixes = self._index
        key = call_type_key(call_type)
        entry = exact.get((folded, key))
        if entry is not None:
            return entry, "exact"
        for candidate in prefixes.get(folded, []):
            if key.startswith(candidate.key):
                return candidate, "prefix"
        return None, "none"

    def tier_of(self, entry: CrosswalkEntry | None) -> Tier:
        """The tier of a crosswalk entry: its override, else its category's, else not-assessed."""
        if entry is None:
            return "not-assessed"
        if entry.tier_override is not None:
            return entry.tier_override
        if entry.category is None:
            return "not-assessed"
        return self.tier_rules[entry.category].tier

    def flags(self, call_type: str | None) -> dict[Flag, bool]:
        """The screening flags of a call type's text."""
        key = call_type_key(call_type) if call_type is not None else ""
        found: dict[Flag, bool] = dict.fromkeys(FLAGS, False)
        for rule in self.screening:
            found[rule.flag] = found[rule.flag] or rule.applies_to(key)
        return found

    def classify(self, call_type: str | None, *, city: str | None = None) -> CallTypeClass:
        """Classify one local call type (city None: match across every city's types)."""
        entry, match = self.lookup(call_type, city=city)
        flags = self.flags(call_type)
        return CallTypeClass(
            call_type=call_type,
            category=entry.category if entry is not None else None,
            tier=self.tier_of(entry),
            match=match,
            entry=entry,
            weapon=flags["weapon"],
            violence=flags["violence"],
            injury=flags["injury"],
            in_progress=flags["in_progress"],
        )

    def initiation(
        self, value: str | None, *, city: str | None = None
    ) -> Literal["officer", "public"] | None:
        """Who started a call, from Vera's SelfInitiated mapping of a raw value (None: unknown).

        Vera's placeholder value ``None`` is not used.
        """
        if value is None or value.strip().casefold() in {"", "none"}:
            return None
        folded = city.casefold() if city is not None else None
        text = value.strip().casefold()
        answers = {
            e.self_initiated
            for e in self.self_initiated
            if e.value.casefold() == text and (folded is None or e.city.casefold() == folded)
        }
        if len(answers) != 1:
            return None
        return "officer" if answers.pop() else "public"


# -- loading ---------------------------------------------------------------------------


def _read_csv(path: Path, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise TaxonomyError(
                    f"{path.name}: missing column(s) {missing}; expected {list(required)}"
                )
            return [(number, row) for number, row in enumerate(reader, start=2)]
    except FileNotFoundError:
        raise TaxonomyError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{path.name}: not UTF-8 text (byte {exc.start})") from None


def _tier(value: str, where: str) -> Tier:
    for tier in TIERS:
        if value == tier:
            return tier
    raise TaxonomyError(f"{where}: tier {value!r} is not one of {list(TIERS)}")


def load_tier_rules(path: str | os.PathLike[str] | None = None) -> dict[str, TierRule]:
    """Read a category -> tier table (columns category, tier, rationale)."""
    source = Path(path) if path is not None else _data_path("category_tiers.csv")
    rules: dict[str, TierRule] = {}
    for number, row in _read_csv(source, ["category", "tier", "rationale"]):
        where = f"{source.name}, row {number}"
        category = row["category"].strip()
        if not category:
            raise TaxonomyError(f"{where}, column category: empty")
        if category in rules:
            raise TaxonomyError(f"{where}, column category: {category!r} appears twice")
        if not row["rationale"].strip():
            raise TaxonomyError(f"{where}, column rationale: give the reason for the tier")
        rules[category] = TierRule(
            category, _tier(row["tier"].strip(), f"{where}, column tier"), row["rationale"]
        )
    return rules


def load_crosswalk(path: str | os.PathLike[str] | None = None) -> tuple[CrosswalkEntry, ...]:
    """Read a crosswalk CSV (the shipped one by default; see the build script's docstring)."""
    source = Path(path) if path is not None else _data_path("call_type_crosswalk.csv")
    rows = _read_csv(source, ["city", "source_column", "call_type", "calls", "category"])
    entries = []
    for number, row in rows:
        where = f"{source.name}, row {number}"
        text = row["call_type"].strip()
        if not text:
            raise TaxonomyError(f"{where}, column call_type: empty")
        truncated = text.endswith("...")
        try:
            calls = int(row["calls"] or 0)
        except ValueError:
            raise TaxonomyError(
                f"{where}, column calls: {row['calls']!r} is not a whole number"
            ) from None
        override = (row.get("tier_override") or "").strip()
        category = row["category"].strip() or None
        entries.append(
            CrosswalkEntry(
                city=row["city"].strip(),
                source_column=row["source_column"].strip(),
                call_type=text,
                key=call_type_key(text[:-3] if truncated else text),
                truncated=truncated,
                calls=calls,
                category=category,
                category_source=(row.get("category_source") or "").strip()
                or ("none" if category is None else "city"),
                tier_override=_tier(override, f"{where}, column tier_override")
                if override
                else None,
                row=number,
            )
        )
    return tuple(entries)


def load_screening_rules(path: str | os.PathLike[str] | None = None) -> tuple[ScreeningRule, ...]:
    """Read the screening rules (YAML: flags -> description, patterns, unless)."""
    source = Path(path) if path is not None else _data_path("screening_rules.yaml")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaxonomyError(f"{source}: file not found") from None
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{source.name}: not valid YAML ({exc})") from None
    flags = data.get("flags") if isinstance(data, dict) else None
    if not isinstance(flags, dict):
        raise TaxonomyError(f"{source.name}: expected a mapping `flags:` of flag -> rule")
    rules = []
    for name, rule in flags.items():
        where = f"{source.name}, flags.{name}"
        if name not in FLAGS:
            raise TaxonomyError(f"{where}: unknown flag; expected one of {list(FLAGS)}")
        if not isinstance(rule, dict) or not rule.get("patterns"):
            raise TaxonomyError(f"{where}: expected `patterns:` (a list of regular expressions)")
        for part in ("patterns", "unless"):
            for index, pattern in enumerate(rule.get(part) or []):
                try:
                    re.compile(pattern)
                except (re.error, TypeError) as exc:
                    raise TaxonomyError(
                        f"{where}.{part}[{index}]: {pattern!r} is not a regular expression ({exc})"
                    ) from None
        rules.append(
            ScreeningRule(
                flag=name,
                description=str(rule.get("description", "")),
                patterns=tuple(rule["patterns"]),
                unless=tuple(rule.get("unless") or ()),
            )
        )
    return tuple(rules)


def load_self_initiated(
    path: str | os.PathLike[str] | None = None,
) -> tuple[SelfInitiatedEntry, ...]:
    """Read Vera's self-initiated mapping (city, source_column, value, self_initiated yes/no)."""
    source = Path(path) if path is not None else _data_path("self_initiated.csv")
    entries = []
    for number, row in _read_csv(source, ["city", "source_column", "value", "self_initiated"]):
        answer = row["self_initiated"].strip().lower()
        if answer not in ("yes", "no"):
            raise TaxonomyError(
                f"{source.name}, row {number}, column self_initiated: expected yes or no, "
                f"found {row['self_initiated']!r}"
            )
        entries.append(
            SelfInitiatedEntry(
                row["city"].strip(), row["source_column"].strip(), row["value"], answer == "yes"
            )
        )
    return tuple(entries)


def load_taxonomy(
    *,
    crosswalk: str | os.PathLike[str] | None = None,
    category_tiers: str | os.PathLike[str] | None = None,
    screening_rules: str | os.PathLike[str] | None = None,
    self_initiated: str | os.PathLike[str] | None = None,
) -> Taxonomy:
    """Load the default taxonomy, or a city's own files in place of any of them.

    Raises:
        TaxonomyError: a file is malformed, or a crosswalk category has no tier rule.
    """
    entries = load_crosswalk(crosswalk)
    rules = load_tier_rules(category_tiers)
    missing = sorted({e.category for e in entries if e.category and e.category not in rules})
    if missing:
        name = Path(category_tiers).name if category_tiers else "category_tiers.csv"
        raise TaxonomyError(
            f"{name}: no tier for the crosswalk's categories {missing}; add a row for each"
        )
    return Taxonomy(
        entries=entries,
        tier_rules=MappingProxyType(rules),
        screening=load_screening_rules(screening_rules),
        self_initiated=load_self_initiated(self_initiated),
        sources=tuple(
            str(p)
            for p in (
                crosswalk or _data_path("call_type_crosswalk.csv"),
                category_tiers or _data_path("category_tiers.csv"),
                screening_rules or _data_path("screening_rules.yaml"),
                self_initiated or _data_path("self_initiated.csv"),
            )
        ),
    )


# -- calls in DuckDB -------------------------------------------------------------------


def _quote_identifier(name: str) -> str:
    if not name:
        raise ValueError("a table name cannot be empty")
    return '"' + name.replace('"', '""') + '"'


def _fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Run SQL and read the whole result, so the caller's connection is left ready for more."""
    return con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    try:
        described = _fetch(con, f"DESCRIBE SELECT * FROM {_quote_identifier(table)}")
    except duckdb.CatalogException:
        raise ValueError(f"no table or view named {table!r} in this DuckDB connection") from None
    return {str(row[0]) for row in described}


def _require(con: duckdb.DuckDBPyConnection, table: str, needed: Iterable[str]) -> set[str]:
    present = _columns(con, table)
    missing = sorted(set(needed) - present)
    if missing:
        raise ValueError(
            f"table {table!r} lacks column(s) {missing}: expected the normalised call table "
            "written by csas.analysis.safety.ingest (or, for eligibility_range, the output of "
            "classify_calls)"
        )
    return present


@dataclass(frozen=True)
class ClassifiedCalls:
    """What `classify_calls` wrote.

    Fields:
        table: the new table's name.
        calls: calls classified (= rows of the input table).
        call_types: distinct call types among them.
        unmapped_types: of those, types with no crosswalk entry or no category.
        calls_by_tier: calls per tier (every tier present, zero when none).
        calls_unmapped: calls whose type is unmapped or has no category.
    """

    table: str
    calls: int
    call_types: int
    unmapped_types: int
    calls_by_tier: Mapping[str, int]
    calls_unmapped: int


def classify_calls(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    taxonomy: Taxonomy | None = None,
    city: str | None = None,
    type_field: TypeField = "call_type",
    into: str = "classified_calls",
) -> ClassifiedCalls:
    """Add category, tier, screening flags and who started each call, as a new table.

    The new table `into` has every column of `table` plus ``category``, ``tier``,
    ``taxonomy_match`` (exact/prefix/none), ``weapon``, ``violence``, ``injury``,
    ``in_progress``, ``screened_out``, ``initiation`` (officer/public/unknown) and
    ``initiation_source`` (``profile``: from the table's initiated_by; ``vera``: resolved
    from initiated_raw with Vera's SelfInitiated mapping; ``unknown``). `table` is not
    changed; `into` is replaced if it exists.

    Args:
        con: the DuckDB connection holding `table`.
        table: a normalised call table (see `csas.analysis.safety.ingest`).
        taxonomy: the taxonomy (default: `load_taxonomy()`).
        city: match only this city's crosswalk entries (None: every city's).
        type_field: classify on ``call_type`` (as first recorded, what dispatch knew: the
            default) or ``final_call_type``.
        into: the table to create.
    """
    if type_field not in get_args(TypeField):
        raise ValueError(f"type_field must be one of {get_args(TypeField)}, not {type_field!r}")
    taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
    taxonomy._city(city)  # fail early on an unknown city
    source, target = _quote_identifier(table), _quote_identifier(into)
    if source == target:
        raise ValueError("into must differ from table: the input table is never changed")
    _require(con, table, [type_field, "initiated_by", "initiated_raw"])
    field_sql = _quote_identifier(type_field)

    types = [row[0] for row in _fetch(con, f"SELECT DISTINCT {field_sql} FROM {source}")]
    classes = [taxonomy.classify(t, city=city) for t in types]
    type_table: dict[str, np.ndarray[Any, Any]] = {
        "call_type": np.array(types, dtype=object),
        "category": np.array([c.category for c in classes], dtype=object),
        "tier": np.array([c.tier for c in classes], dtype=object),
        "taxonomy_match": np.array([c.match for c in classes], dtype=object),
        **{flag: np.array([getattr(c, flag) for c in classes], dtype=bool) for flag in FLAGS},
    }
    raws = [row[0] for row in _fetch(con, f"SELECT DISTINCT initiated_raw FROM {source}")]
    resolved = [taxonomy.initiation(r, city=city) for r in raws]
    initiation_table = {
        "initiated_raw": np.array(raws, dtype=object),
        "resolved": np.array(resolved, dtype=object),
    }
    con.register("csas_call_types", type_table)
    con.register("csas_initiation", initiation_table)
    try:
        _fetch(
            con,
            f"CREATE OR REPLACE TABLE {target} AS SELECT t.*, "
            "CAST(k.category AS VARCHAR) AS category, CAST(k.tier AS VARCHAR) AS tier, "
            "CAST(k.taxonomy_match AS VARCHAR) AS taxonomy_match, "
            "k.weapon, k.violence, k.injury, k.in_progress, "
            "(k.weapon OR k.violence OR k.injury OR k.in_progress) AS screened_out, "
            "CASE WHEN t.initiated_by IN ('officer', 'public') THEN t.initiated_by "
            "WHEN i.resolved IS NOT NULL THEN CAST(i.resolved AS VARCHAR) "
            "ELSE 'unknown' END AS initiation, "
            "CASE WHEN t.initiated_by IN ('officer', 'public') THEN 'profile' "
            "WHEN i.resolved IS NOT NULL THEN 'vera' ELSE 'unknown' END AS initiation_source "
            f"FROM {source} t "
            f"LEFT JOIN csas_call_types k ON k.call_type IS NOT DISTINCT FROM t.{field_sql} "
            "LEFT JOIN csas_initiation i ON i.initiated_raw IS NOT DISTINCT FROM t.initiated_raw",
        )
    finally:
        con.unregister("csas_call_types")
        con.unregister("csas_initiation")
    by_tier: dict[str, int] = dict.fromkeys(TIERS, 0)
    for tier, n in _fetch(con, f"SELECT tier, count(*) FROM {target} GROUP BY tier"):
        by_tier[tier] = int(n)
    (unmapped_row,) = _fetch(con, f"SELECT count(*) FROM {target} WHERE category IS NULL")
    return ClassifiedCalls(
        table=into,
        calls=sum(by_tier.values()),
        call_types=len(types),
        unmapped_types=sum(1 for c in classes if c.category is None),
        calls_by_tier=MappingProxyType(by_tier),
        calls_unmapped=int(unmapped_row[0]),
    )


@dataclass(frozen=True)
class UnmappedCallType:
    """A local call type staff should map.

    Fields:
        call_type: the local call type (None: calls with no call type).
        calls: how many calls have it.
        reason: ``not in crosswalk``, ``no category`` (in the crosswalk, undecided) or
            ``no call type``.
    """

    call_type: str | None
    calls: int
    reason: str


def unmapped_call_types(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    taxonomy: Taxonomy | None = None,
    city: str | None = None,
    type_field: TypeField = "call_type",
) -> tuple[UnmappedCallType, ...]:
    """Call types without a category, commonest first (ties by text), for staff to map:
    the rows of `review_call_types` that are not mapped."""
    return tuple(
        UnmappedCallType(row.call_type, row.calls, row.status)
        for row in review_call_types(
            con, table, taxonomy=taxonomy, city=city, type_field=type_field
        )
        if row.status != "mapped"
    )


@dataclass(frozen=True)
class CallTypeReview:
    """One local call type as the taxonomy classifies it, for staff to review and map.

    Fields:
        call_type: the local call type (None: calls with no call type).
        calls: how many calls have it.
        status: ``mapped``, ``not in crosswalk``, ``no category`` (in the crosswalk,
            undecided) or ``no call type``.
        category, tier, match, weapon, violence, injury, in_progress: `CallTypeClass`.
    """

    call_type: str | None
    calls: int
    status: str
    category: str | None
    tier: Tier
    match: Match
    weapon: bool
    violence: bool
    injury: bool
    in_progress: bool

    HEADER: ClassVar[tuple[str, ...]] = (
        "call_type",
        "calls",
        "status",
        "category",
        "tier",
        "match",
        "weapon",
        "violence",
        "injury",
        "in_progress",
    )

    def cells(self) -> tuple[object, ...]:
        """The row as `HEADER` orders it."""
        return (
            self.call_type or "",
            self.calls,
            self.status,
            self.category or "",
            self.tier,
            self.match,
            *(
                "yes" if flag else "no"
                for flag in (self.weapon, self.violence, self.injury, self.in_progress)
            ),
        )


def review_call_types(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    taxonomy: Taxonomy | None = None,
    city: str | None = None,
    type_field: TypeField = "call_type",
) -> tuple[CallTypeReview, ...]:
    """Every call type of `table` with its calls and classification: the unmapped ones first
    (commonest first), then the mapped ones (commonest first), for staff to review the
    crosswalk. The rows name call types: a staff file, never published."""
    if type_field not in get_args(TypeField):
        raise ValueError(f"type_field must be one of {get_args(TypeField)}, not {type_field!r}")
    taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
    taxonomy.check_city(city)
    _require(con, table, [type_field])
    field_sql = _quote_identifier(type_field)
    counts = _fetch(
        con, f"SELECT {field_sql}, count(*) FROM {_quote_identifier(table)} GROUP BY {field_sql}"
    )
    rows = []
    for call_type, n in counts:
        found = taxonomy.classify(call_type, city=city)
        if call_type is None:
            status = "no call type"
        elif found.category is not None:
            status = "mapped"
        else:
            status = "no category" if found.entry is not None else "not in crosswalk"
        rows.append(
            CallTypeReview(
                call_type=call_type,
                calls=int(n),
                status=status,
                category=found.category,
                tier=found.tier,
                match=found.match,
                weapon=found.weapon,
                violence=found.violence,
                injury=found.injury,
                in_progress=found.in_progress,
            )
        )
    rows.sort(key=lambda r: (r.status == "mapped", -r.calls, r.call_type or ""))
    return tuple(rows)


@dataclass(frozen=True)
class InitiationSplit:
    """Calls by who started them, the first split to make before measuring demand.

    Fields:
        n: all calls.
        officer, public, unknown: calls started by an officer (on-view, proactive), by the
            public (911, non-emergency line, alarms, in person), or not known.
        officer_share, public_share, unknown_share: the same as shares of n (None if n = 0).
        resolved_with_vera: calls whose table value was unknown but whose raw value Vera's
            SelfInitiated mapping resolved.
        method: how the split was made.
    """

    n: int
    officer: int
    public: int
    unknown: int
    officer_share: float | None
    public_share: float | None
    unknown_share: float | None
    resolved_with_vera: int
    method: str


def initiation_split(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    taxonomy: Taxonomy | None = None,
    city: str | None = None,
) -> InitiationSplit:
    """Split calls into officer-, public- and unknown-initiated.

    ``initiated_by`` (from the ingestion profile) decides where it is officer or public;
    where it is unknown, ``initiated_raw`` is looked up in Vera's SelfInitiated mapping.
    """
    taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
    _require(con, table, ["initiated_by", "initiated_raw"])
    rows = _fetch(
        con,
        f"SELECT initiated_by, initiated_raw, count(*) FROM {_quote_identifier(table)} "
        "GROUP BY ALL",
    )
    return initiation_split_from_counts(rows, taxonomy=taxonomy, city=city)


def initiation_of(
    initiated_by: str | None,
    initiated_raw: str | None,
    *,
    taxonomy: Taxonomy,
    city: str | None = None,
) -> tuple[Initiation, InitiationSource]:
    """Who started a call, and where that answer came from, as `classify_calls` decides.

    ``initiated_by`` decides where it is officer or public (source ``profile``); otherwise
    ``initiated_raw`` is looked up in Vera's SelfInitiated mapping (source ``vera``), and a
    value it does not resolve leaves the call ``unknown``.

    >>> initiation_of("unknown", "ONVIEW", taxonomy=load_taxonomy(), city="Seattle")
    ('officer', 'vera')
    """
    if initiated_by == "officer":
        return "officer", "profile"
    if initiated_by == "public":
        return "public", "profile"
    resolved = taxonomy.initiation(initiated_raw, city=city)
    if resolved is None:
        return "unknown", "unknown"
    return resolved, "vera"


def initiation_split_from_counts(
    counts: Iterable[tuple[str | None, str | None, int]],
    *,
    taxonomy: Taxonomy | None = None,
    city: str | None = None,
) -> InitiationSplit:
    """`initiation_split` from calls already counted by (initiated_by, initiated_raw).

    Each item is ``(initiated_by, initiated_raw, calls)``; a pair may appear more than once
    (its calls add up). This lets a caller that has counted the calls its own way (with
    numpy, say) get the same split without a table.
    """
    taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
    split = {"officer": 0, "public": 0, "unknown": 0}
    resolved_with_vera = 0
    for who, raw, n in counts:
        initiation, source = initiation_of(who, raw, taxonomy=taxonomy, city=city)
        split[initiation] += int(n)
        if source == "vera":
            resolved_with_vera += int(n)
    total = sum(split.values())

    def share(part: int) -> float | None:
        return part / total if total else None

    return InitiationSplit(
        n=total,
        officer=split["officer"],
        public=split["public"],
        unknown=split["unknown"],
        officer_share=share(split["officer"]),
        public_share=share(split["public"]),
        unknown_share=share(split["unknown"]),
        resolved_with_vera=resolved_with_vera,
        method=(
            "initiated_by from the ingestion profile's mapping of the source's own field; "
            "where unknown, the raw value looked up in the Vera / Two Sigma Data Clinic "
            "SelfInitiated mapping" + (f" for {city}" if city else " (any city)")
        ),
    )


@dataclass(frozen=True)
class EligibilityRange:
    """The share of calls that could get an alternative response, as a range.

    Fields:
        n: calls in the population measured (e.g. public-initiated calls).
        population: ``public``, ``public_and_unknown`` or ``all``.
        eligible_tiers: the tiers counted as eligible.
        eligible_by_type: calls whose call type's tier is eligible (the upper end).
        eligible_after_screening: of those, calls with no screening flag (the lower end).
        not_assessed: calls whose type is unmapped or not assessed (counted in n, never
            eligible: the range is conservative by that much).
        share_by_type, share_after_screening, share_not_assessed: the counts over n
            (None when n = 0).
        left_out_officer, left_out_unknown: calls outside the population.
        rule: the rules in words, for the report.
    """

    n: int
    population: Population
    eligible_tiers: tuple[Tier, ...]
    eligible_by_type: int
    eligible_after_screening: int
    not_assessed: int
    share_by_type: float | None
    share_after_screening: float | None
    share_not_assessed: float | None
    left_out_officer: int
    left_out_unknown: int
    rule: str

    @property
    def low(self) -> float | None:
        """The lower end of the range (after screening)."""
        return self.share_after_screening

    @property
    def high(self) -> float | None:
        """The upper end of the range (by type alone)."""
        return self.share_by_type


def eligibility_range(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    eligible_tiers: Sequence[Tier] = DEFAULT_ELIGIBLE_TIERS,
    population: Population = "public",
) -> EligibilityRange:
    """Share of calls eligible for an alternative response: by type alone and after screening.

    Args:
        con: the DuckDB connection.
        table: a table written by `classify_calls`.
        eligible_tiers: tiers counted as eligible (default community-only and community-led;
            add co-response for a broader reading).
        population: ``public`` (default: demand from the public, officer-initiated and
            unknown calls left out), ``public_and_unknown`` or ``all``.
    """
    _check_eligibility(eligible_tiers, population)
    _require(con, table, ["tier", "screened_out", "initiation"])
    rows = _fetch(
        con,
        f"SELECT initiation, tier, screened_out, count(*) FROM {_quote_identifier(table)} "
        "GROUP BY ALL",
    )
    return eligibility_range_from_counts(rows, eligible_tiers=eligible_tiers, population=population)


def _check_eligibility(eligible_tiers: Sequence[Tier], population: Population) -> None:
    tiers = tuple(eligible_tiers)
    unknown_tiers = [t for t in tiers if t not in TIERS]
    if unknown_tiers or not tiers:
        raise ValueError(f"eligible_tiers must be a non-empty selection of {list(TIERS)}")
    if "not-assessed" in tiers:
        raise ValueError("'not-assessed' cannot be eligible: it means nobody judged the type")
    if population not in get_args(Population):
        raise ValueError(f"population must be one of {get_args(Population)}, not {population!r}")


def eligibility_range_from_counts(
    counts: Iterable[tuple[str | None, str | None, bool | None, int]],
    *,
    eligible_tiers: Sequence[Tier] = DEFAULT_ELIGIBLE_TIERS,
    population: Population = "public",
    own_files: Mapping[str, str] | None = None,
) -> EligibilityRange:
    """`eligibility_range` from calls already counted by (initiation, tier, screened_out).

    Each item is ``(initiation, tier, screened_out, calls)``, the columns `classify_calls`
    writes; a combination may appear more than once (its calls add up). A missing value
    (None) counts as SQL's NULL does in `eligibility_range`: in no population, no tier, and
    never as passing the screening. This lets a caller that has counted the calls its own
    way get the same range without a table. `own_files` (`Taxonomy.own_files`) names the
    city's own tier table and screening rules in the rule's words, where it used them.
    """
    _check_eligibility(eligible_tiers, population)
    tiers = tuple(eligible_tiers)
    included = {
        "public": ("public",),
        "public_and_unknown": ("public", "unknown"),
        "all": ("public", "unknown", "officer"),
    }[population]
    n = by_type = screened = not_assessed = officer = unknown = 0
    for initiation, tier, screened_out, calls in counts:
        calls = int(calls)
        if initiation in included:
            n += calls
            if tier in tiers:
                by_type += calls
                if screened_out is not None and not screened_out:
                    screened += calls
            if tier == "not-assessed":
                not_assessed += calls
        elif initiation == "officer":
            officer += calls
        elif initiation == "unknown":
            unknown += calls

    def share(part: int) -> float | None:
        return part / n if n else None

    who = {
        "public": "calls started by the public (officer-initiated and unknown-origin calls "
        "left out)",
        "public_and_unknown": "calls started by the public or of unknown origin "
        "(officer-initiated calls left out)",
        "all": "all calls, whoever started them",
    }[population]
    words = [_FLAG_WORDS[f] for f in FLAGS]
    flags = "; ".join(words[:-1]) + "; or " + words[-1]
    own = dict(own_files or {})
    screening_file = own.get("screening_rules", "screening_rules.yaml")
    tiers_from = (
        f"the city's own category-to-tier table ({own['category_tiers']})"
        if "category_tiers" in own
        else "csas's default category-to-tier table (category_tiers.csv), a judgement for the "
        "city to review"
    )
    crosswalk = (
        f" Call types are matched to categories with the city's own crosswalk ({own['crosswalk']})."
        if "crosswalk" in own
        else ""
    )
    rule = (
        f"Population: {who}; n = {n}. By type alone: calls whose call type's tier is "
        f"{' or '.join(tiers)}. After screening: those calls less any whose call-type text "
        f"mentions {flags} (keyword rules in {screening_file}). Tiers come from {tiers_from}."
        f"{crosswalk} Calls of unmapped or not-assessed types count in n and are never eligible."
    )
    return EligibilityRange(
        n=n,
        population=population,
        eligible_tiers=tiers,
        eligible_by_type=by_type,
        eligible_after_screening=screened,
        not_assessed=not_assessed,
        share_by_type=share(by_type),
        share_after_screening=share(screened),
        share_not_assessed=share(not_assessed),
        left_out_officer=officer,
        left_out_unknown=unknown,
        rule=rule,
    )


__all__ = [
    "DEFAULT_ELIGIBLE_TIERS",
    "FLAGS",
    "TIERS",
    "CallTypeClass",
    "ClassifiedCalls",
    "CrosswalkEntry",
    "EligibilityRange",
    "InitiationSplit",
    "ScreeningRule",
    "SelfInitiatedEntry",
    "Taxonomy",
    "TaxonomyError",
    "TierRule",
    "UnmappedCallType",
    "call_type_key",
    "classify_calls",
    "eligibility_range",
    "eligibility_range_from_counts",
    "initiation_of",
    "initiation_split",
    "initiation_split_from_counts",
    "load_crosswalk",
    "load_screening_rules",
    "load_self_initiated",
    "load_taxonomy",
    "load_tier_rules",
    "unmapped_call_types",
]
