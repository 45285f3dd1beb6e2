"""The published safety analysis goes into the open data package, as aggregates only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import frictionless
from django.utils import timezone

from csas.progress.datapackage import (
    datapackage_contents,
    datapackage_fingerprint,
    datapackage_zip_bytes,
)
from csas.safetylab.models import (
    SafetyAnalysis,
    SafetyAreaRate,
    SafetyBlockGroupHotspot,
    SafetyResponseTime,
)
from csas.safetylab.services import safety_analysis_set_published
from csas.strategy.models import StrategyVersion

CREATED = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
SAFETY = (
    "safety-analysis",
    "safety-area-rates",
    "safety-calls-without-area",
    "safety-response-times",
    "safety-alternative-response",
    "safety-eligible-by-time",
    "safety-hot-spots",
    "safety-trends",
)


def _tables(version: StrategyVersion) -> dict[str, list[dict[str, str]]]:
    archive = datapackage_zip_bytes(datapackage_contents(version), created=CREATED)
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {
            name: list(csv.DictReader(io.StringIO(opened.read(f"data/{name}.csv").decode())))
            for name in SAFETY
        }


def _version() -> StrategyVersion:
    return StrategyVersion.objects.get(is_published=True)


def test_the_published_analysis_is_in_the_package_row_for_row(
    published: SafetyAnalysis,
) -> None:
    tables = _tables(_version())
    [about] = tables["safety-analysis"]
    assert about["title"] == "Test analysis"
    assert about["synthetic"] == "true"
    assert published.received_from is not None
    assert about["received_from"] == timezone.localdate(published.received_from).isoformat()
    assert (
        len(tables["safety-area-rates"])
        == SafetyAreaRate.objects.filter(analysis=published).count()
    )
    assert (
        len(tables["safety-response-times"])
        == SafetyResponseTime.objects.filter(analysis=published).count()
    )
    assert (
        len(tables["safety-hot-spots"])
        == SafetyBlockGroupHotspot.objects.filter(analysis=published).count()
    )
    stored = SafetyAreaRate.objects.filter(analysis=published, suppressed=False).first()
    assert stored is not None
    [row] = [
        r
        for r in tables["safety-area-rates"]
        if (r["kind"], r["area_code"], r["month"]) == (stored.kind, stored.area_code, stored.month)
    ]
    assert int(row["calls"]) == stored.calls
    assert float(row["rate_per_1000"]) == stored.rate_per_1000


def test_suppressed_safety_rows_carry_no_figure(published: SafetyAnalysis) -> None:
    tables = _tables(_version())
    withheld = [r for r in tables["safety-area-rates"] if r["suppressed"] == "true"]
    assert withheld  # the small fixture leaves some police districts' months under 10 calls
    assert all(r["calls"] == r["rate_per_1000"] == r["rate_low"] == "" for r in withheld)
    shown = [r for r in tables["safety-area-rates"] if r["suppressed"] == "false"]
    assert all(int(r["calls"]) >= 10 for r in shown)
    cells = [r for r in tables["safety-eligible-by-time"] if r["suppressed"] == "true"]
    assert cells
    assert all(r["calls"] == r["share"] == "" for r in cells)


def test_a_draft_analysis_stays_out_and_taking_one_back_empties_the_tables(
    published: SafetyAnalysis, draft: SafetyAnalysis
) -> None:
    version = _version()
    assert [r["title"] for r in _tables(version)["safety-analysis"]] == ["Test analysis"]
    before = datapackage_fingerprint(version)
    safety_analysis_set_published(analysis=published, published=False)
    assert datapackage_fingerprint(version) != before  # the cached download is rebuilt
    assert all(rows == [] for rows in _tables(version).values())


def test_the_trend_is_in_the_package_as_served_by_the_api(published: SafetyAnalysis) -> None:
    from django.test import Client

    rows = _tables(_version())["safety-trends"]
    served = Client().get("/api/v1/safety/trends?limit=1000").json()["items"]
    assert len(rows) == len(served) > 1
    for row, item in zip(rows, served, strict=True):
        assert (row["geography"], row["area_code"]) == (item["geography"], item["area_code"])
        expected = "" if item["calls_current"] is None else str(item["calls_current"])
        assert row["calls_current"] == expected
        assert row["suppressed"] == ("true" if item["suppressed"] else "false")


def test_the_package_with_safety_tables_validates(
    published: SafetyAnalysis, tmp_path: Path
) -> None:
    path = tmp_path / "package.zip"
    path.write_bytes(datapackage_zip_bytes(datapackage_contents(_version()), created=CREATED))
    report = frictionless.validate(str(path))
    assert report.valid, report.flatten(["type", "title", "message"])
