"""Figures about fewer people or events than the threshold are never published, whoever wrote
them and whether or not they were marked suppressed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from typing import Any

import pytest
from django.test import Client

from csas.progress import apikeys
from csas.progress.datapackage import datapackage_contents, datapackage_zip_bytes
from csas.progress.models import Indicator, Observation, ReportingPeriod
from csas.progress.reports import report_quarterly
from csas.strategy.models import Action, StrategyVersion
from tests.conftest import make_user

START, END = dt.date(2026, 1, 1), dt.date(2026, 3, 31)


@pytest.fixture
def indicator(published_version: StrategyVersion, tpd_action: Action) -> Indicator:
    made = Indicator.objects.create(
        strategy=published_version.strategy,
        slug="feel-safe-park",
        name="Residents who feel safe in parks",
        kind="population",
        unit="percent",
        direction="increase",
    )
    made.actions.add(tpd_action)
    return made


def _stored_unmarked(indicator: Indicator, n: int, value: float) -> Observation:
    """An observation of `n` people stored without the suppressed flag, as rows written before
    the rule (or before the threshold was raised) are: the flag is cleared behind save()."""
    observation = Observation.objects.create(
        indicator=indicator, period_start=START, period_end=END, value=value, n=n
    )
    Observation.objects.filter(pk=observation.pk).update(suppressed=False)
    return observation


def test_saving_an_observation_of_too_few_people_marks_it_suppressed(
    indicator: Indicator, settings: Any
) -> None:
    small = Observation.objects.create(
        indicator=indicator, period_start=START, period_end=END, value=83.3, n=9
    )
    assert small.suppressed
    enough = Observation.objects.create(
        indicator=indicator, period_start=START, period_end=END, value=61.0, n=10, group="x"
    )
    assert not enough.suppressed
    counted = Observation.objects.create(
        indicator=indicator, period_start=START, period_end=END, value=3, group="count"
    )
    assert not counted.suppressed  # no n: not a figure about a number of people
    settings.SUPPRESSION_THRESHOLD = 20
    enough.save(update_fields=["value"])
    enough.refresh_from_db()
    assert enough.suppressed


def test_an_api_write_of_too_few_people_is_stored_suppressed(indicator: Indicator) -> None:
    _, secret = apikeys.apikey_create(
        name="survey vendor", created_by=make_user("strategy_staff"), indicators=[indicator]
    )
    response = Client().post(
        f"/api/v1/indicators/{indicator.slug}/observations",
        data=json.dumps(
            {"period_start": "2026-01-01", "period_end": "2026-03-31", "value": 83.3, "n": 6}
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.content
    assert Observation.objects.get(indicator=indicator).suppressed


def test_an_unmarked_small_figure_is_hidden_by_every_public_reader(
    published_version: StrategyVersion, indicator: Indicator
) -> None:
    _stored_unmarked(indicator, n=6, value=83.3)

    [row] = Client().get(f"/api/v1/indicators/{indicator.slug}/observations").json()["items"]
    assert (row["value"], row["n"], row["suppressed"]) == (None, None, True)

    page = Client().get(f"/indicators/{indicator.slug}/").content.decode()
    assert "83.3" not in page
    assert "Suppressed – too few to publish" in page
    assert "83.3" not in Client().get("/indicators/").content.decode()

    archive = datapackage_zip_bytes(datapackage_contents(published_version))
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        text = opened.read("data/observations.csv").decode()
    [published] = [r for r in csv.DictReader(io.StringIO(text)) if r["indicator"] == indicator.slug]
    assert (published["value"], published["n"], published["suppressed"]) == ("", "", "true")

    period = ReportingPeriod.objects.create(
        strategy=published_version.strategy,
        label="2026 Q1",
        starts_on=START,
        ends_on=END,
        due_on=END + dt.timedelta(days=15),
    )
    report = report_quarterly(published_version, period)
    lines = [line for goal in report.goals for line in goal.indicators]
    [line] = [line for line in lines if line.indicator.slug == indicator.slug]
    assert [(p.value, p.n, p.suppressed) for p in line.series] == [(None, None, True)]


def test_a_raised_threshold_hides_figures_stored_before(
    indicator: Indicator, settings: Any
) -> None:
    _stored_unmarked(indicator, n=15, value=47.5)
    assert "47.5" in Client().get(f"/indicators/{indicator.slug}/").content.decode()
    settings.SUPPRESSION_THRESHOLD = 20
    assert "47.5" not in Client().get(f"/indicators/{indicator.slug}/").content.decode()
    [row] = Client().get(f"/api/v1/indicators/{indicator.slug}/observations").json()["items"]
    assert row["value"] is None


def test_a_raised_threshold_reaches_the_cached_download_and_reports(
    published_version: StrategyVersion, indicator: Indicator, settings: Any
) -> None:
    from csas.progress.datapackage import datapackage_zip_cached
    from csas.progress.reports import report_data_version

    _stored_unmarked(indicator, n=15, value=47.5)
    before = datapackage_zip_cached(published_version)
    reports_before = report_data_version(published_version)
    settings.SUPPRESSION_THRESHOLD = 20
    after = datapackage_zip_cached(published_version)
    assert after.fingerprint != before.fingerprint
    assert report_data_version(published_version) != reports_before
    with zipfile.ZipFile(io.BytesIO(after.data)) as opened:
        text = opened.read("data/observations.csv").decode()
    [row] = [r for r in csv.DictReader(io.StringIO(text)) if r["indicator"] == indicator.slug]
    assert row["value"] == ""
