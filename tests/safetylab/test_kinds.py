"""What kind of data an analysis is of (calls, incidents, 311 requests), and who sees it.

The public safety pages speak of calls for service (dispatch, arrival, alternative
responses), so only an analysis of calls is ever published; the others stay with staff.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from csas.safetylab.models import DataKind, SafetyAnalysis
from csas.safetylab.services import (
    SafetyLoadError,
    safety_analysis_load,
    safety_analysis_set_published,
)
from csas.strategy.models import Strategy

MANAGE = "/manage/safety/"


def _set_kind(folder: Path, kind: object) -> None:
    path = folder / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    if kind is ...:
        del summary["input"]["kind"]
    else:
        summary["input"]["kind"] = kind
    path.write_text(json.dumps(summary), encoding="utf-8")


@pytest.fixture
def requests_folder(folder_copy: Path) -> Path:
    """The calls folder relabelled as an analysis of 311 requests."""
    _set_kind(folder_copy, "requests")
    return folder_copy


def test_an_analysis_of_calls_is_stored_as_calls(published: SafetyAnalysis) -> None:
    assert published.summary["input"]["kind"] == "calls"
    assert published.kind == DataKind.CALLS


def test_a_summary_from_before_kinds_were_recorded_is_of_calls(
    strategy: Strategy, folder_copy: Path
) -> None:
    _set_kind(folder_copy, ...)
    analysis = safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="Old")
    assert analysis.kind == DataKind.CALLS


@pytest.mark.parametrize(
    ("kind", "message"),
    [("mixed", "more than one kind"), ("tickets", "found 'tickets', expected one of calls")],
)
def test_a_mixed_or_unknown_kind_is_refused(
    strategy: Strategy, folder_copy: Path, kind: str, message: str
) -> None:
    _set_kind(folder_copy, kind)
    with pytest.raises(SafetyLoadError, match=rf"summary\.json, input\.kind: .*{message}"):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T")
    assert not SafetyAnalysis.objects.exists()


def test_a_311_analysis_loads_as_a_draft_but_cannot_be_published(
    strategy: Strategy, requests_folder: Path
) -> None:
    with pytest.raises(SafetyLoadError, match="is_published: Only an analysis of calls"):
        safety_analysis_load(strategy=strategy, out_dir=requests_folder, title="311", publish=True)
    assert not SafetyAnalysis.objects.exists()  # all or nothing
    draft = safety_analysis_load(strategy=strategy, out_dir=requests_folder, title="311")
    assert draft.kind == DataKind.REQUESTS
    with pytest.raises(ValidationError, match="service requests \\(311\\)"):
        safety_analysis_set_published(analysis=draft, published=True)
    draft.refresh_from_db()
    assert draft.is_published is False
    with pytest.raises(CommandError, match="Only an analysis of calls"):
        call_command(
            "safety_load", "--out-dir", str(requests_folder), "--title", "311", "--publish"
        )


def test_staff_are_told_why_a_311_analysis_is_not_published(
    staff: Client, strategy: Strategy, requests_folder: Path
) -> None:
    draft = safety_analysis_load(strategy=strategy, out_dir=requests_folder, title="Potholes")
    page = staff.get(MANAGE).content.decode()
    assert "Service requests (311)" in page
    assert "Staff only: the public pages show calls for service" in page
    assert f'action="/manage/safety/{draft.pk}/publish/"' in page  # still listed, no button
    response = staff.post(f"/manage/safety/{draft.pk}/publish/", {"published": "1"}, follow=True)
    assert "Only an analysis of calls for service can be published" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_published is False


def test_a_311_analysis_marked_published_outside_the_services_stays_hidden(
    strategy: Strategy, requests_folder: Path, analyze_folder: Path
) -> None:
    draft = safety_analysis_load(strategy=strategy, out_dir=requests_folder, title="Potholes")
    SafetyAnalysis.objects.filter(pk=draft.pk).update(is_published=True)  # e.g. in the admin
    client = Client()
    assert client.get("/safety/").status_code == 404
    assert client.get("/api/v1/safety").status_code == 404
    assert 'href="/safety/"' not in client.get("/").content.decode()
    # A published analysis of calls is what the pages show, even when the 311 one is newer.
    calls = safety_analysis_load(
        strategy=strategy, out_dir=analyze_folder, title="Calls 2024", publish=True
    )
    later = calls.created_at + dt.timedelta(days=1)
    SafetyAnalysis.objects.filter(pk=draft.pk).update(created_at=later)
    assert 'href="/safety/"' in client.get("/").content.decode()
    page = client.get("/safety/").content.decode()
    assert '<span lang="en">Calls 2024</span>' in page
    assert "Potholes" not in page
    assert client.get("/api/v1/safety").json()["title"] == "Calls 2024"


def test_every_kind_has_a_label_for_the_staff_page(db: Any) -> None:
    assert [str(label) for label in DataKind.labels] == [
        "Calls for service",
        "Crime incidents",
        "Service requests (311)",
    ]


# --- what may be published at all -------------------------------------------------------------


def _edit_summary(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    change(summary)
    path.write_text(json.dumps(summary), encoding="utf-8")


def test_an_analysis_with_a_lower_threshold_than_the_site_is_refused(
    strategy: Strategy, folder_copy: Path, settings: Any
) -> None:
    settings.SUPPRESSION_THRESHOLD = 11  # the folder was analysed withholding counts under 10
    with pytest.raises(SafetyLoadError, match=r"no count under 11 \(CSAS_SUPPRESSION_THRESH"):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T", publish=True)
    assert not SafetyAnalysis.objects.exists()


@pytest.mark.parametrize(
    ("path", "value"),
    [(("initiation", "public"), 5), (("input", "calls"), 9), (("calls_by_tier", "police"), 0)],
)
def test_a_small_count_in_the_summary_is_refused(
    strategy: Strategy, folder_copy: Path, path: tuple[str, str], value: int
) -> None:
    _edit_summary(folder_copy, lambda summary: summary[path[0]].__setitem__(path[1], value))
    with pytest.raises(
        SafetyLoadError, match=rf"summary\.json, {path[0]}, {path[1]}: found {value}, expected"
    ):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T")
    assert not SafetyAnalysis.objects.exists()


def test_an_analysis_of_fewer_calls_than_the_threshold_cannot_be_published(
    strategy: Strategy, folder_copy: Path
) -> None:
    _edit_summary(folder_copy, lambda summary: summary["input"].__setitem__("calls", None))
    with pytest.raises(SafetyLoadError, match="fewer than 10 calls: every figure in it"):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T", publish=True)
    draft = safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T")
    with pytest.raises(ValidationError, match="nothing to publish"):
        safety_analysis_set_published(analysis=draft, published=True)
