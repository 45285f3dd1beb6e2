"""Read and check a strategy file (YAML or JSON) before anything touches the database.

`read_strategy_file` returns a `StrategyDocument`: the file's content with every `based_on`
version expanded, every geography layer read, and every problem found reported at once as a
`StrategyFileError` naming the file, the field path and what was expected.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import string
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Problem:
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class StrategyFileError(Exception):
    """The strategy file cannot be loaded; `problems` lists every reason found."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"{path.name}: {problem}" for problem in problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class GeographyFeature:
    code: str
    name: str
    population: int | None
    attributes: dict[str, Any]
    geometry: dict[str, Any]


@dataclass(frozen=True)
class GeographyLayer:
    kind: str
    source: str
    features: list[GeographyFeature]


@dataclass(frozen=True)
class StrategyDocument:
    path: Path
    data: dict[str, Any]
    versions: list[dict[str, Any]]
    geography: list[GeographyLayer] = field(default_factory=list)


class _StringDateLoader(yaml.SafeLoader):
    """YAML loader that keeps dates as text so the schema checks one representation."""


_StringDateLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def schema() -> dict[str, Any]:
    text = resources.files("csas.data").joinpath("strategies/strategy.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def bundled_strategy_path(name: str = "tacoma") -> Path:
    return Path(str(resources.files("csas.data").joinpath(f"strategies/{name}.yaml")))


def field_location(path: Any) -> str:
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if parts else str(part))
    return "".join(parts) or "(top level)"


def parse_data_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StrategyFileError(path, [Problem("", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise StrategyFileError(
            path, [Problem("", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")]
        ) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=_StringDateLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise StrategyFileError(path, [Problem(where, f"not valid YAML: {exc.problem}")]) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise StrategyFileError(path, [Problem(where, f"not valid JSON: {exc.msg}")]) from None


def schema_problems(data: Any, json_schema: dict[str, Any]) -> list[Problem]:
    """Every place `data` breaks `json_schema`, as problems a person can act on."""
    validator = jsonschema.Draft202012Validator(json_schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        message = error.message
        if error.validator == "additionalProperties":
            message = f"unknown field ({error.message})"
        elif error.validator == "pattern":
            pattern = error.schema.get("pattern")
            message = f"{error.instance!r} does not have the expected form ({pattern})"
        elif error.validator == "enum":
            message = f"{error.instance!r} is not one of {error.validator_value}"
        elif error.validator == "type":
            message = f"expected {error.validator_value}, found {error.instance!r}"
        problems.append(Problem(field_location(error.absolute_path), message))
    return problems


def _merge_goals(
    base: list[dict[str, Any]], override: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    merged = {goal["number"]: copy.deepcopy(goal) for goal in base}
    for goal in override:
        merged.setdefault(goal["number"], {}).update(copy.deepcopy(goal))
    return [merged[number] for number in sorted(merged)]


def _expand_versions(data: dict[str, Any], problems: list[Problem]) -> list[dict[str, Any]]:
    """Resolve `based_on`: a version starts as a copy of an earlier one, then overrides."""
    expanded: dict[str, dict[str, Any]] = {}
    result = []
    for index, version in enumerate(data["versions"]):
        where = f"versions[{index}]"
        if version["key"] in expanded:
            problems.append(Problem(f"{where}.key", f"{version['key']!r} is used twice"))
            continue
        full = copy.deepcopy(version)
        base_key = version.get("based_on")
        if base_key is not None:
            if base_key not in expanded:
                problems.append(
                    Problem(f"{where}.based_on", f"{base_key!r} is not an earlier version's key")
                )
                continue
            base = expanded[base_key]
            full = copy.deepcopy(base)
            full["translations"] = {}
            for key, value in version.items():
                if key == "goals":
                    full["goals"] = _merge_goals(base.get("goals", []), value)
                else:
                    full[key] = copy.deepcopy(value)
            full.pop("based_on", None)
            full.setdefault("published", False)
            if "published" not in version:
                full["published"] = False
        full["_index"] = index
        expanded[version["key"]] = full
        result.append(full)
    return result


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter written like ``2024-Q3``."""
    year, q = int(quarter[:4]), int(quarter[-1])
    start = dt.date(year, 3 * (q - 1) + 1, 1)
    end_month = 3 * q
    next_month = dt.date(year + (end_month // 12), end_month % 12 + 1, 1)
    return start, next_month - dt.timedelta(days=1)


def _check_version(
    version: dict[str, Any], departments: set[str], partners: set[str], problems: list[Problem]
) -> None:
    where = f"versions[{version['_index']}] ({version['key']})"
    numbers = Counter(goal["number"] for goal in version.get("goals", []))
    for number, count in numbers.items():
        if count > 1:
            problems.append(
                Problem(f"{where}.goals", f"goal number {number} is used {count} times")
            )
    slugs: Counter[str] = Counter()
    codes: dict[str, list[dict[str, Any]]] = {}
    for g_index, goal in enumerate(version.get("goals", [])):
        g_where = f"{where}.goals[{g_index}]"
        for required in ("short_name", "title"):
            if required not in goal:
                problems.append(Problem(g_where, f"goal {goal['number']} needs a {required}"))
        objective_codes = {objective["code"] for objective in goal.get("objectives", [])}
        for a_index, action in enumerate(goal.get("actions", [])):
            a_where = f"{g_where}.actions[{a_index}]"
            action.setdefault("slug", action["code"].replace(".", "-"))
            slugs[action["slug"]] += 1
            codes.setdefault(action["code"], []).append(action)
            if not action["code"].startswith(f"{goal['number']}."):
                problems.append(
                    Problem(
                        f"{a_where}.code",
                        f"{action['code']!r} does not start with goal number {goal['number']}",
                    )
                )
            lead = action.get("lead_department")
            if lead is not None and lead not in departments:
                problems.append(
                    Problem(
                        f"{a_where}.lead_department",
                        f"{lead!r} is not a department slug in departments",
                    )
                )
            for dep in action.get("supporting_departments", []):
                if dep not in departments:
                    problems.append(
                        Problem(
                            f"{a_where}.supporting_departments",
                            f"{dep!r} is not a department slug in departments",
                        )
                    )
            for link in action.get("partners", []):
                if link["partner"] not in partners:
                    problems.append(
                        Problem(
                            f"{a_where}.partners",
                            f"{link['partner']!r} is not a partner slug in partners",
                        )
                    )
            objective = action.get("objective")
            if objective is not None and objective not in objective_codes:
                problems.append(
                    Problem(
                        f"{a_where}.objective",
                        f"{objective!r} is not an objective code of this goal",
                    )
                )
    for slug, count in slugs.items():
        if count > 1:
            problems.append(
                Problem(
                    f"{where}.goals",
                    f"action slug {slug!r} is used {count} times; give each action a distinct slug",
                )
            )
    for code, actions in codes.items():
        if len(actions) > 1 and not all("duplicate_code_note" in action for action in actions):
            problems.append(
                Problem(
                    f"{where}.goals",
                    f"action code {code!r} is used {len(actions)} times; "
                    "renumber, or give each a distinct slug and a duplicate_code_note",
                )
            )
    for w_index, workstream in enumerate(version.get("workstreams", [])):
        for m_index, milestone in enumerate(workstream.get("milestones", [])):
            until = milestone.get("until")
            if until is not None and until < milestone["quarter"]:
                problems.append(
                    Problem(
                        f"{where}.workstreams[{w_index}].milestones[{m_index}].until",
                        f"{until!r} is before the start quarter {milestone['quarter']!r}",
                    )
                )
    try:
        dt.date.fromisoformat(version["dated"])
    except ValueError:
        problems.append(Problem(f"{where}.dated", f"{version['dated']!r} is not a real date"))


def _fill(template: str, properties: dict[str, Any]) -> str:
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    missing = [name for name in names if properties.get(name) in (None, "")]
    if missing:
        raise KeyError(missing[0])
    return template.format_map(properties)


def _read_geography(
    path: Path, index: int, layer: dict[str, Any], problems: list[Problem]
) -> GeographyLayer | None:
    where = f"geography[{index}]"
    geo_path = (path.parent / layer["file"]).resolve()
    try:
        collection = json.loads(geo_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(f"{where}.file", f"{layer['file']!r} not found next to the file"))
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(f"{where}.file", f"{layer['file']!r} is not GeoJSON: {exc}"))
        return None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        problems.append(Problem(f"{where}.file", f"{layer['file']!r} is not a FeatureCollection"))
        return None
    features = []
    seen: set[str] = set()
    for f_index, feature in enumerate(collection.get("features", [])):
        f_where = f"{layer['file']} features[{f_index}]"
        properties = feature.get("properties") or {}
        geometry = feature.get("geometry")
        if not geometry or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
            problems.append(Problem(f_where, "expected a Polygon or MultiPolygon geometry"))
            continue
        try:
            code = _fill(layer["code"], properties)
            name = _fill(layer["name"], properties)
        except KeyError as exc:
            problems.append(Problem(f_where, f"property {exc.args[0]!r} is missing or empty"))
            continue
        if code in seen:
            problems.append(Problem(f_where, f"code {code!r} appears twice in the layer"))
            continue
        seen.add(code)
        population = None
        if "population" in layer:
            raw = properties.get(layer["population"])
            if not isinstance(raw, int | float) or raw < 0 or int(raw) != raw:
                problems.append(Problem(f_where, f"population {raw!r} is not a whole number"))
                continue
            population = int(raw)
        attributes = {}
        for name_ in layer.get("attributes", []):
            if name_ not in properties:
                problems.append(Problem(f_where, f"attribute {name_!r} is missing"))
                break
            attributes[name_] = properties[name_]
        features.append(GeographyFeature(code, name, population, attributes, geometry))
    return GeographyLayer(kind=layer["kind"], source=layer["source"], features=features)


def read_strategy_file(path: Path) -> StrategyDocument:
    """Parse and check a strategy file; raise `StrategyFileError` listing every problem."""
    path = Path(path)
    data = parse_data_file(path)
    problems = schema_problems(data, schema())
    if problems:
        raise StrategyFileError(path, problems)
    departments = {department["slug"] for department in data.get("departments", [])}
    partners = {partner["slug"] for partner in data.get("partners", [])}
    for section, slugs in (
        ("departments", data.get("departments", [])),
        ("partners", data.get("partners", [])),
    ):
        for slug, count in Counter(item["slug"] for item in slugs).items():
            if count > 1:
                problems.append(Problem(section, f"slug {slug!r} is used {count} times"))
    versions = _expand_versions(data, problems)
    for version in versions:
        _check_version(version, departments, partners, problems)
    published = [version["key"] for version in versions if version.get("published")]
    if len(published) > 1:
        problems.append(
            Problem("versions", f"only one version may be published, found {published}")
        )
    kinds = Counter(layer["kind"] for layer in data.get("geography", []))
    for kind, count in kinds.items():
        if count > 1:
            problems.append(Problem("geography", f"kind {kind!r} is given {count} times"))
    layers = []
    for index, layer in enumerate(data.get("geography", [])):
        read = _read_geography(path, index, layer, problems)
        if read is not None:
            layers.append(read)
    if problems:
        raise StrategyFileError(path, problems)
    return StrategyDocument(path=path, data=data, versions=versions, geography=layers)
