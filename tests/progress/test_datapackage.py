"""The open data package: published data only, valid for the Frictionless validator."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import factory
import frictionless
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from csas.progress.datapackage import (
    datapackage_contents,
    datapackage_files,
    datapackage_zip_bytes,
    datapackage_zip_cached,
)
from csas.progress.models import (
    ActionMilestone,
    ActionUpdate,
    FundingLine,
    Indicator,
    Observation,
    ReportingPeriod,
    UpdateState,
)
from csas.strategy.models import Action, City, Department, Geography, StrategyVersion
from tests.factories import UserFactory

CREATED = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)

# The open data page: the site's strategy, its published version, the boundary layers and one
# COUNT per table but the one-row strategy table (seven of them the safety tables; the eighth,
# the trends, reads the published analysis's summary), however many rows there are.
PAGE_QUERIES = 22
# A download the cache already holds: the site's strategy, its published version and the
# seven queries of the fingerprint that shows nothing has changed.
CACHED_DOWNLOAD_QUERIES = 9


class ReportingPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportingPeriod
        django_get_or_create = ("strategy", "label")

    label = "2026 Q1"
    starts_on = dt.date(2026, 1, 1)
    ends_on = dt.date(2026, 3, 31)
    due_on = dt.date(2026, 4, 15)


class ActionUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionUpdate

    period = factory.LazyAttribute(
        lambda o: ReportingPeriodFactory(strategy=o.action.version.strategy)
    )
    status = "on_track"
    narrative = factory.Sequence(lambda n: f"Progress note {n}.")
    state = UpdateState.PUBLISHED
    author = factory.SubFactory(UserFactory, role="department_editor")
    published_at = factory.LazyFunction(timezone.now)


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    slug = factory.Sequence(lambda n: f"indicator-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    kind = "population"
    unit = "percent"
    direction = "increase"
    is_public = True


class ObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Observation

    period_start = dt.date(2024, 1, 1)
    period_end = dt.date(2024, 12, 31)
    value = 61.0
    n = 905
    created_by = "staff-integration-key"


@pytest.fixture
def progress_data(tpd_action: Action, tfd_action: Action) -> dict[str, Any]:
    """Published and unpublished progress data on two actions of the published version."""
    strategy = tpd_action.version.strategy
    published = ActionUpdateFactory(
        action=tpd_action,
        narrative="Community service officers answered 770 calls.",
        author=UserFactory(role="department_editor", username="update-author-jane"),
    )
    draft = ActionUpdateFactory(
        action=tfd_action,
        narrative="Draft: not ready for the public.",
        state=UpdateState.OFFICE_APPROVAL,
        published_at=None,
    )
    ActionMilestone.objects.create(
        action=tpd_action, title="Pilot launched", planned_end=dt.date(2026, 9, 30)
    )
    FundingLine.objects.create(
        action=tpd_action,
        source="BJA grant",
        amount=Decimal("963000.00"),
        status="funded",
        fiscal_year="2025",
        note="Internal: ask finance about the match.",
    )
    feel_safe = IndicatorFactory(strategy=strategy, slug="feel-safe", name="Feel safe")
    feel_safe.actions.add(tpd_action)
    ObservationFactory(indicator=feel_safe, value=61.0, n=905)
    ObservationFactory(
        indicator=feel_safe,
        value=12.5,
        n=6,
        margin_of_error=9.1,
        dimension="council_district",
        group="5",
        suppressed=True,
    )
    private = IndicatorFactory(strategy=strategy, slug="staff-only-measure", is_public=False)
    ObservationFactory(indicator=private, value=3.0)
    return {"published": published, "draft": draft, "public": feel_safe, "private": private}


def _zip(version: StrategyVersion) -> bytes:
    return datapackage_zip_bytes(datapackage_contents(version), created=CREATED)


def _files(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def _rows(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files[f"data/{name}.csv"].decode("utf-8"))))


def _validate(path: Path) -> frictionless.Report:
    return frictionless.validate(str(path))


def test_the_package_validates_with_frictionless(
    published_version: StrategyVersion, progress_data: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "package.zip"
    path.write_bytes(_zip(published_version))
    report = _validate(path)
    assert report.valid, report.flatten(["type", "title", "message"])
    descriptor = json.loads(_files(path.read_bytes())["datapackage.json"])
    assert len(report.tasks) == len(descriptor["resources"])
    assert all(task.valid for task in report.tasks)
    assert report.stats["errors"] == 0


def test_the_descriptor_names_licence_sources_version_and_a_schema_for_every_csv(
    published_version: StrategyVersion,
) -> None:
    descriptor = json.loads(_files(_zip(published_version))["datapackage.json"])
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["created"] == "2026-05-01T12:00:00Z"
    assert descriptor["version"] == "1.2.0+2025-12-adopted"
    assert descriptor["title"].startswith("Tacoma")
    csvs = [r for r in descriptor["resources"] if r["format"] == "csv"]
    assert {r["name"] for r in csvs} >= {
        "strategy",
        "goals",
        "objectives",
        "actions",
        "milestones",
        "funding",
        "updates",
        "indicators",
        "observations",
    }
    assert all(r["schema"]["fields"] for r in csvs)
    actions = next(r for r in csvs if r["name"] == "actions")
    assert actions["schema"]["primaryKey"] == ["slug"]
    geo = [r for r in descriptor["resources"] if r["format"] == "geojson"]
    assert {r["path"] for r in geo} == {
        "geo/block_group.geojson",
        "geo/council_district.geojson",
        "geo/neighborhood_council_district.geojson",
        "geo/police_district.geojson",
    }
    council = next(r for r in geo if r["path"] == "geo/council_district.geojson")
    assert council["sources"] == [{"title": "City of Tacoma open data, City Council Districts"}]
    assert council["licenses"][0]["name"] == "other-at"


def test_geojson_resources_hold_the_stored_boundaries_without_demographics(
    published_version: StrategyVersion,
) -> None:
    files = _files(_zip(published_version))
    council = json.loads(files["geo/council_district.geojson"])
    assert council["type"] == "FeatureCollection"
    assert len(council["features"]) == 5
    assert council["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    block_groups = json.loads(files["geo/block_group.geojson"])
    assert len(block_groups["features"]) == 169
    assert set(block_groups["features"][0]["properties"]) == {"kind", "code", "name", "population"}


def test_drafts_unpublished_updates_and_private_indicators_are_left_out(
    published_version: StrategyVersion, progress_data: dict[str, Any]
) -> None:
    files = _files(_zip(published_version))
    everything = b"\n".join(files.values()).decode("utf-8")
    assert "2024-04-draft" not in everything
    assert "Co-create" not in everything  # wording only the April 2024 draft uses
    assert "Draft: not ready for the public." not in everything
    assert "staff-only-measure" not in everything
    assert "update-author-jane" not in everything
    assert "staff-integration-key" not in everything
    assert "ask finance" not in everything
    updates = _rows(files, "updates")
    assert [(u["action"], u["period"], u["status"]) for u in updates] == [
        ("3-6", "2026 Q1", "on_track")
    ]
    assert updates[0]["narrative"] == "Community service officers answered 770 calls."
    assert [i["slug"] for i in _rows(files, "indicators")] == ["feel-safe"]
    assert {o["indicator"] for o in _rows(files, "observations")} == {"feel-safe"}
    assert len(_rows(files, "actions")) == 22


def test_suppressed_observations_have_no_value(
    published_version: StrategyVersion, progress_data: dict[str, Any]
) -> None:
    rows = _rows(_files(_zip(published_version)), "observations")
    overall = next(r for r in rows if r["dimension"] == "")
    assert (overall["value"], overall["n"], overall["suppressed"]) == ("61.0", "905", "false")
    hidden = next(r for r in rows if r["suppressed"] == "true")
    assert (hidden["value"], hidden["n"], hidden["margin_of_error"]) == ("", "", "")
    assert hidden["group"] == "5"


def test_foreign_keys_resolve(
    published_version: StrategyVersion, progress_data: dict[str, Any]
) -> None:
    files = _files(_zip(published_version))
    action_slugs = {a["slug"] for a in _rows(files, "actions")}
    goal_numbers = {g["number"] for g in _rows(files, "goals")}
    assert {a["goal"] for a in _rows(files, "actions")} <= goal_numbers
    for table in ("updates", "milestones", "funding", "indicator-actions"):
        rows = _rows(files, table)
        assert rows, table
        assert {r["action"] for r in rows} <= action_slugs, table
    periods = {p["label"] for p in _rows(files, "reporting-periods")}
    assert {u["period"] for u in _rows(files, "updates")} <= periods


def test_the_validator_catches_a_broken_foreign_key(
    published_version: StrategyVersion, progress_data: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "package"
    for name, data in _files(_zip(published_version)).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    descriptor = json.loads((folder / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        resource.pop("hash"), resource.pop("bytes")  # the edit below changes both
    (folder / "datapackage.json").write_text(json.dumps(descriptor))
    updates = folder / "data/updates.csv"
    updates.write_bytes(updates.read_bytes().replace(b"\r\n3-6,", b"\r\nno-such-action,"))
    report = _validate(folder / "datapackage.json")
    assert not report.valid
    assert {error.type for task in report.tasks for error in task.errors} == {"foreign-key"}


def test_the_command_writes_the_same_content(
    published_version: StrategyVersion, progress_data: dict[str, Any], tmp_path: Path
) -> None:
    def without_created(files: dict[str, bytes]) -> dict[str, Any]:
        comparable: dict[str, Any] = dict(files)
        descriptor = json.loads(files["datapackage.json"])
        del descriptor["created"]
        comparable["datapackage.json"] = descriptor
        return comparable

    expected = without_created(
        dict(datapackage_files(datapackage_contents(published_version), created=CREATED))
    )
    call_command("export_datapackage", str(tmp_path / "out.zip"), verbosity=0)
    assert without_created(_files((tmp_path / "out.zip").read_bytes())) == expected
    call_command("export_datapackage", str(tmp_path / "out"), "--folder", verbosity=0)
    written = {
        str(p.relative_to(tmp_path / "out")): p.read_bytes()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    }
    assert without_created(written) == expected
    assert _validate(tmp_path / "out" / "datapackage.json").valid


def test_the_command_refuses_to_overwrite_without_force(
    published_version: StrategyVersion, tmp_path: Path
) -> None:
    target = tmp_path / "out.zip"
    target.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="already exists"):
        call_command("export_datapackage", str(target), verbosity=0)
    assert target.read_bytes() == b"keep me"
    call_command("export_datapackage", str(target), "--force", verbosity=0)
    assert zipfile.is_zipfile(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.zip"]  # no temporary files left


def test_the_command_names_an_unknown_strategy(db: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no strategy 'atlantis'"):
        call_command("export_datapackage", str(tmp_path / "x.zip"), "--strategy", "atlantis")


def test_the_download_is_a_zip_attachment(
    published_version: StrategyVersion, progress_data: dict[str, Any]
) -> None:
    response = Client().get("/data/csas-datapackage.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="tacoma-csas-datapackage.zip"'
    files = _files(response.content)
    assert next(iter(files)) == "datapackage.json"
    assert "data/updates.csv" in files


def test_the_open_data_page_counts_the_rows_of_each_resource(
    published_version: StrategyVersion,
    progress_data: dict[str, Any],
    django_assert_num_queries: Any,
) -> None:
    with django_assert_num_queries(PAGE_QUERIES):
        response = Client().get("/data/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "/data/csas-datapackage.zip" in body
    assert "/api/v1/openapi.json" in body
    assert "CC-BY-4.0" in body
    assert '<th scope="row"><code>data/actions.csv</code></th><td>Actions</td><td>22</td>' in body
    assert "<code>data/updates.csv</code></th><td>Published progress updates</td><td>1</td>" in body
    assert (
        "<code>geo/block_group.geojson</code></th><td>Census block group</td><td>169</td>" in body
    )


def _page_counts(body: str) -> dict[str, int]:
    """Each resource's path and count as the open data page lists them."""
    found = re.findall(r"<code>([^<]+)</code></th><td>[^<]*</td><td>(\d+)</td>", body)
    return {path: int(count) for path, count in found}


def _package_counts(files: dict[str, bytes]) -> dict[str, int]:
    """Each resource's path and its CSV rows or GeoJSON features, as the package holds them."""
    counts = {}
    for resource in json.loads(files["datapackage.json"])["resources"]:
        data = files[resource["path"]].decode("utf-8")
        if resource["format"] == "csv":
            counts[resource["path"]] = len(list(csv.DictReader(io.StringIO(data))))
        else:
            counts[resource["path"]] = len(json.loads(data)["features"])
    return counts


def test_the_open_data_page_counts_exactly_what_the_package_holds(
    published_version: StrategyVersion, progress_data: dict[str, Any], tfd_action: Action
) -> None:
    # Rows the publication rules leave out sit beside every kind of row that goes in: a
    # draft update (progress_data), a private indicator's observation, an update of a
    # draft version's action, a multi-line narrative.
    draft_action = Action.objects.exclude(version=published_version).first()
    assert draft_action is not None
    ActionUpdateFactory(action=draft_action, narrative="Of a draft version.")
    ActionUpdateFactory(
        action=tfd_action,
        period=ReportingPeriodFactory(
            strategy=published_version.strategy,
            label="2026 Q2",
            starts_on=dt.date(2026, 4, 1),
            ends_on=dt.date(2026, 6, 30),
        ),
        narrative="Two lines,\nwith a comma.",
    )
    counts = _page_counts(Client().get("/data/").content.decode())
    expected = _package_counts(_files(Client().get("/data/csas-datapackage.zip").content))
    assert counts == expected
    assert counts["data/updates.csv"] == 2
    assert counts["data/observations.csv"] == 2


def test_the_open_data_page_counts_without_reading_the_rows(
    published_version: StrategyVersion,
    progress_data: dict[str, Any],
    django_assert_num_queries: Any,
) -> None:
    client = Client()
    with django_assert_num_queries(PAGE_QUERIES):
        client.get("/data/")
    indicator = progress_data["public"]
    for year in range(2000, 2020):
        ObservationFactory(
            indicator=indicator,
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
        )
    for action in Action.objects.filter(version=published_version)[:8]:
        ActionUpdateFactory(action=action, period=progress_data["published"].period)
    with django_assert_num_queries(PAGE_QUERIES):
        body = client.get("/data/").content.decode()
    assert "<code>data/observations.csv</code></th><td>Observations</td><td>22</td>" in body


def test_the_download_is_built_once_for_the_same_data(
    published_version: StrategyVersion,
    progress_data: dict[str, Any],
    django_assert_num_queries: Any,
) -> None:
    client = Client()
    first = client.get("/data/csas-datapackage.zip")
    with django_assert_num_queries(CACHED_DOWNLOAD_QUERIES):
        second = client.get("/data/csas-datapackage.zip")
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    for year in range(2000, 2020):
        ObservationFactory(
            indicator=progress_data["public"],
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
        )
    client.get("/data/csas-datapackage.zip")
    with django_assert_num_queries(CACHED_DOWNLOAD_QUERIES):
        client.get("/data/csas-datapackage.zip")


def test_the_cached_download_validates_with_frictionless(
    published_version: StrategyVersion, progress_data: dict[str, Any], tmp_path: Path
) -> None:
    client = Client()
    client.get("/data/csas-datapackage.zip")
    path = tmp_path / "package.zip"
    path.write_bytes(client.get("/data/csas-datapackage.zip").content)
    report = _validate(path)
    assert report.valid, report.flatten(["type", "title", "message"])


def test_a_client_that_has_the_package_is_told_it_has_not_changed(
    published_version: StrategyVersion, progress_data: dict[str, Any]
) -> None:
    client = Client()
    etag = client.get("/data/csas-datapackage.zip")["ETag"]
    response = client.get("/data/csas-datapackage.zip", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    progress_data["published"].narrative = "Edited after publication."
    progress_data["published"].save()
    response = client.get("/data/csas-datapackage.zip", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def _district(version: StrategyVersion) -> Geography:
    district = (
        Geography.objects.filter(city_id=version.strategy.city_id, kind="council_district")
        .order_by("code")
        .first()
    )
    assert district is not None
    return district


def _rename_geography(version: StrategyVersion) -> str:
    Geography.objects.filter(pk=_district(version).pk).update(name="Renamed District")
    return "Renamed District"


def _redraw_boundary(version: StrategyVersion) -> str:
    square = [[[-122.5, 47.2], [-122.4, 47.2], [-122.4, 47.3], [-122.5, 47.3], [-122.5, 47.2]]]
    Geography.objects.filter(pk=_district(version).pk).update(
        geometry={"type": "Polygon", "coordinates": square}
    )
    return "[-122.5,47.2],[-122.4,47.2]"


def _rewrite_observation(version: StrategyVersion) -> str:
    # As a feed or the API does: in place, same row, no history.
    Observation.objects.filter(indicator__slug="feel-safe", dimension="").update(value=63.25)
    return "63.25"


def _relabel_period(version: StrategyVersion) -> str:
    ReportingPeriod.objects.filter(strategy=version.strategy).update(label="First quarter 2026")
    return "First quarter 2026"


def _complete_milestone(version: StrategyVersion) -> str:
    # As approving an update does: without history.
    ActionMilestone.objects.filter(action__version=version).update(percent_complete=85)
    return ",85,"


def _edit_narrative(version: StrategyVersion) -> str:
    update = ActionUpdate.objects.get(state=UpdateState.PUBLISHED)
    update.narrative = "Corrected: 771 calls."
    update.save()
    return "Corrected: 771 calls."


def _retitle_action(version: StrategyVersion) -> str:
    action = Action.objects.get(version=version, slug="3-6")
    action.title = "A retitled action"
    action.save()
    return "A retitled action"


def _rename_department(version: StrategyVersion) -> str:
    department = Department.objects.get(slug="tpd")
    department.name = "Renamed Police Department"
    department.save()
    return "Renamed Police Department"


def _link_indicator(version: StrategyVersion) -> str:
    Indicator.objects.get(slug="feel-safe").actions.add(
        Action.objects.get(version=version, slug="3-2")
    )
    return "feel-safe,3-2"


def _publish_indicator(version: StrategyVersion) -> str:
    indicator = Indicator.objects.get(slug="staff-only-measure")
    indicator.is_public = True
    indicator.save()
    return "staff-only-measure"


def _rename_city(version: StrategyVersion) -> str:
    City.objects.filter(pk=version.strategy.city_id).update(region="Washington State")
    return "Washington State"


@pytest.mark.parametrize(
    "change",
    [
        _rewrite_observation,
        _relabel_period,
        _complete_milestone,
        _rename_geography,
        _redraw_boundary,
        _rename_city,
        _edit_narrative,
        _retitle_action,
        _rename_department,
        _link_indicator,
        _publish_indicator,
    ],
)
def test_the_download_is_rebuilt_after_any_change(
    published_version: StrategyVersion,
    progress_data: dict[str, Any],
    change: Callable[[StrategyVersion], str],
) -> None:
    client = Client()
    before = client.get("/data/csas-datapackage.zip")
    shown = change(published_version)
    after = client.get("/data/csas-datapackage.zip")
    assert after["ETag"] != before["ETag"]
    everything = b"\n".join(_files(after.content).values()).decode("utf-8")
    assert shown in everything
    assert shown not in b"\n".join(_files(before.content).values()).decode("utf-8")


def test_nothing_is_offered_when_no_version_is_published(
    published_version: StrategyVersion,
) -> None:
    StrategyVersion.objects.update(is_published=False)
    assert Client().get("/data/").status_code == 404
    assert Client().get("/data/csas-datapackage.zip").status_code == 404


def test_a_draft_version_cannot_be_packaged(draft_version: StrategyVersion) -> None:
    with pytest.raises(ValueError, match="not published"):
        datapackage_contents(draft_version)
    with pytest.raises(ValueError, match="not published"):
        datapackage_zip_cached(draft_version)
