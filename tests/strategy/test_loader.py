from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from csas.strategy.loader import StrategyFileError, bundled_strategy_path, read_strategy_file
from csas.strategy.models import (
    Action,
    FocusPopulation,
    Geography,
    Goal,
    Milestone,
    Strategy,
    StrategyVersion,
    Workstream,
)
from csas.strategy.services import strategy_load_file

BUNDLED = bundled_strategy_path()


def _copy_bundle(tmp_path: Path) -> Path:
    """A writable copy of the bundled strategy file with its geography beside it."""
    shutil.copytree(BUNDLED.parent.parent, tmp_path / "data")
    return tmp_path / "data" / "strategies" / "tacoma.yaml"


def _edit(path: Path, change: Any) -> Path:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def _snapshot() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Strategy,
            StrategyVersion,
            Goal,
            Action,
            FocusPopulation,
            Workstream,
            Milestone,
            Geography,
        )
    }


def test_bundled_tacoma_file_loads_four_goals_in_each_version(db: Any) -> None:
    for version in StrategyVersion.objects.all():
        assert list(version.goals.values_list("number", flat=True)) == [1, 2, 3, 4]


def test_bundled_tacoma_file_has_the_decks_actions_with_both_3_1_wordings(db: Any) -> None:
    version = StrategyVersion.objects.get(key="2024-04-draft")
    codes = Counter(version.actions.values_list("code", flat=True))
    expected = (
        {f"1.{n}" for n in range(1, 9)}
        | {f"3.{n}" for n in range(1, 7)}
        | {f"4.{n}" for n in range(1, 8)}
    )
    assert set(codes) == expected
    assert len(codes) == 21
    assert codes["3.1"] == 2
    titles = set(version.actions.filter(code="3.1").values_list("title", flat=True))
    assert titles == {"Enhance Immediate Incident response.", "Provide Immediate Incident Response"}
    assert all(a.data_note for a in version.actions.filter(code="3.1"))
    assert not version.actions.exclude(code="3.1").exclude(data_note="").exists()


def test_repair_actions_carry_codes_assigned_by_the_strategy_office(db: Any) -> None:
    version = StrategyVersion.objects.get(key="2024-04-draft")
    repair = version.actions.filter(goal__number=4)
    assert repair.count() == 7
    assert set(repair.values_list("code_origin", flat=True)) == {"assigned"}
    assert set(version.actions.filter(goal__number=1).values_list("code_origin", flat=True)) == {
        "source"
    }


def test_goal_two_has_eight_focus_populations(db: Any) -> None:
    for version in StrategyVersion.objects.all():
        assert FocusPopulation.objects.filter(goal__version=version, goal__number=2).count() == 8


def test_milestones_cover_four_workstreams_from_q3_2023_to_q4_2024(db: Any) -> None:
    version = StrategyVersion.objects.get(key="2024-04-draft")
    assert list(version.workstreams.values_list("name", flat=True)) == [
        "Communications",
        "Engagement & Feedback",
        "Writing Document",
        "Implementation",
    ]
    milestones = Milestone.objects.filter(workstream__version=version)
    assert milestones.count() == 16
    assert min(m.starts_on for m in milestones).isoformat() == "2023-07-01"
    assert max(m.ends_on for m in milestones).isoformat() == "2024-12-31"


def test_adopted_version_renames_goals_and_is_the_published_one(db: Any) -> None:
    adopted = StrategyVersion.objects.get(is_published=True)
    assert adopted.key == "2025-12-adopted"
    assert adopted.status == "adopted"
    assert list(adopted.goals.values_list("title", flat=True)) == [
        "Safe PLACES and Neighborhoods",
        "PEOPLE Receive the Right Services at the Right Time",
        "Effective RESPONSE with Respect and Care",
        "Community REPAIR",
    ]
    assert list(adopted.goals.values_list("short_name", flat=True)) == [
        "PLACES",
        "PEOPLE",
        "RESPONSE",
        "REPAIR",
    ]
    draft = StrategyVersion.objects.get(key="2024-04-draft")
    assert not draft.is_published
    assert draft.goals.get(number=1).title == "Co-create Healthy PLACES and Neighborhoods"
    # Goal 4 keeps the draft's statement where the adopted wording was not available.
    assert adopted.goals.get(number=4).statement == draft.goals.get(number=4).statement


def test_real_geography_is_loaded_with_population(db: Any) -> None:
    kinds = Counter(Geography.objects.values_list("kind", flat=True))
    assert kinds == {
        "neighborhood_council_district": 8,
        "council_district": 5,
        "police_district": 16,
        "block_group": 169,
        "city": 1,
    }
    block_group = Geography.objects.get(kind="block_group", code="530530602001")
    assert block_group.population == 1792
    assert block_group.attributes["equityindex"] == "Low"
    assert block_group.attributes["blackorafricanamerican"] == pytest.approx(0.08370536)
    total = sum(Geography.objects.filter(kind="block_group").values_list("population", flat=True))
    assert Geography.objects.get(kind="city").population == total
    names = set(
        Geography.objects.filter(kind="neighborhood_council_district").values_list(
            "name", flat=True
        )
    )
    assert names == {
        "West End",
        "North East",
        "North End",
        "Central",
        "South Tacoma",
        "South End",
        "Eastside",
        "New Tacoma",
    }


def test_loading_the_same_file_again_changes_nothing(db: Any) -> None:
    before = _snapshot()
    history_before = Action.history.count()
    report = strategy_load_file(path=BUNDLED)
    assert report.summary() == "nothing changed"
    assert _snapshot() == before
    assert Action.history.count() == history_before


def test_reloading_an_edited_file_records_the_change_in_history(db: Any, tmp_path: Path) -> None:
    def rename(data: dict[str, Any]) -> None:
        data["versions"][0]["goals"][0]["actions"][1]["title"] = "Improve gathering places."

    path = _edit(_copy_bundle(tmp_path), rename)
    report = strategy_load_file(path=path)
    assert report.updated.get("Action") == 2  # the draft and the adopted copy of action 1.2
    action = Action.objects.get(version__key="2024-04-draft", slug="1-2")
    assert action.title == "Improve gathering places."
    assert action.history.first().title == "Improve gathering places."
    assert action.history.all()[1].title == "Improve access to safe, vibrant gathering places."


def test_malformed_yaml_names_file_and_line_and_loads_nothing(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("schema_version: 1\ncity: [unclosed\n")
    before = _snapshot()
    with pytest.raises(StrategyFileError) as error:
        strategy_load_file(path=path)
    assert str(error.value).startswith("broken.yaml: line ")
    assert "not valid YAML" in str(error.value)
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["versions"][0]["goals"][0]["actions"][0].update(code=1.1),
            "versions[0].goals[0].actions[0].code: expected string, found 1.1",
        ),
        (
            lambda d: d["versions"][0].update(status="final"),
            "versions[0].status: 'final' is not one of ['draft', 'adopted', 'superseded']",
        ),
        (
            lambda d: d["versions"][0]["goals"][1].update(colour="red"),
            "versions[0].goals[1]: unknown field",
        ),
        (lambda d: d["city"].pop("name"), "city: 'name' is a required property"),
        (
            lambda d: d["versions"][0]["workstreams"][0]["milestones"][0].update(quarter="Q3 2023"),
            "versions[0].workstreams[0].milestones[0].quarter: 'Q3 2023' does not have the "
            "expected form",
        ),
    ],
)
def test_schema_problems_name_the_field_path(
    db: Any, tmp_path: Path, change: Any, expected: str
) -> None:
    path = _edit(_copy_bundle(tmp_path), change)
    with pytest.raises(StrategyFileError) as error:
        read_strategy_file(path)
    assert f"tacoma.yaml: {expected}" in str(error.value)


def test_a_repeated_action_code_without_a_note_is_refused(db: Any, tmp_path: Path) -> None:
    def duplicate(data: dict[str, Any]) -> None:
        data["versions"][0]["goals"][0]["actions"][1]["code"] = "1.1"

    path = _edit(_copy_bundle(tmp_path), duplicate)
    with pytest.raises(StrategyFileError, match=r"action code '1.1' is used 2 times; renumber"):
        read_strategy_file(path)


def test_unknown_department_and_unknown_base_version_are_reported_together(
    db: Any, tmp_path: Path
) -> None:
    def break_refs(data: dict[str, Any]) -> None:
        data["versions"][0]["goals"][0]["actions"][0]["lead_department"] = "parks"
        data["versions"][1]["based_on"] = "2019-draft"

    path = _edit(_copy_bundle(tmp_path), break_refs)
    with pytest.raises(StrategyFileError) as error:
        read_strategy_file(path)
    message = str(error.value)
    assert (
        "versions[0] (2024-04-draft).goals[0].actions[0].lead_department: 'parks' is not a "
        "department slug" in message
    )
    assert "versions[1].based_on: '2019-draft' is not an earlier version's key" in message
    assert len(error.value.problems) == 2


def test_two_published_versions_are_refused(db: Any, tmp_path: Path) -> None:
    path = _edit(_copy_bundle(tmp_path), lambda d: d["versions"][0].update(published=True))
    with pytest.raises(StrategyFileError, match="only one version may be published"):
        read_strategy_file(path)


def test_a_broken_geography_layer_loads_nothing_at_all(db: Any, tmp_path: Path) -> None:
    path = _copy_bundle(tmp_path)
    layer = path.parent.parent / "geo" / "tacoma" / "City_Council_Districts.geojson"
    layer.write_text(layer.read_text().replace('"district": 3,', '"district": null,', 1))

    def rename_goal(data: dict[str, Any]) -> None:
        data["versions"][0]["goals"][0]["title"] = "Renamed goal"

    _edit(path, rename_goal)
    before = _snapshot()
    with pytest.raises(StrategyFileError) as error:
        strategy_load_file(path=path)
    assert "City_Council_Districts.geojson features[" in str(error.value)
    assert "property 'district' is missing or empty" in str(error.value)
    assert _snapshot() == before
    assert Goal.objects.get(version__key="2024-04-draft", number=1).title != "Renamed goal"


def test_a_missing_file_is_reported_plainly(tmp_path: Path) -> None:
    with pytest.raises(StrategyFileError, match=r"nothing\.yaml: file not found"):
        read_strategy_file(tmp_path / "nothing.yaml")


def test_a_json_strategy_file_works_like_yaml(db: Any, tmp_path: Path) -> None:
    import json

    path = _copy_bundle(tmp_path)
    data = yaml.safe_load(path.read_text())
    for version in data["versions"]:
        version["dated"] = str(version["dated"])
    json_path = path.with_suffix(".json")
    json_path.write_text(json.dumps(data))
    document = read_strategy_file(json_path)
    assert [v["key"] for v in document.versions] == ["2024-04-draft", "2025-12-adopted"]
