"""Loading `csas safety analyze` folders: all or nothing, aggregates only, idempotent demo."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from csas.safetylab import models
from csas.safetylab.models import (
    SafetyAnalysis,
    SafetyAreaEligibility,
    SafetyAreaRate,
    SafetyBlockGroupHotspot,
    SafetyCallsWithoutArea,
    SafetyDistrictHourCell,
    SafetyResponseTime,
    SafetyTimeProfileCell,
)
from csas.safetylab.services import (
    DEMO_TITLE,
    SafetyLoadError,
    safety_analysis_load,
    safety_demo_load,
)
from csas.strategy.models import Geography, GeographyKind, Strategy

ROW_MODELS = (
    SafetyAreaRate,
    SafetyCallsWithoutArea,
    SafetyResponseTime,
    SafetyTimeProfileCell,
    SafetyBlockGroupHotspot,
    SafetyAreaEligibility,
    SafetyDistrictHourCell,
)


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _nothing_stored() -> bool:
    return not SafetyAnalysis.objects.exists() and not any(
        model.objects.exists() for model in ROW_MODELS
    )


def _set_cell(folder: Path, name: str, line: int, column: str, value: str) -> None:
    rows = _rows(folder / name)
    rows[line - 1][rows[0].index(column)] = value
    _write_rows(folder / name, rows)


def _first_published_line(folder: Path, name: str) -> int:
    rows = _rows(folder / name)
    return next(i + 1 for i, row in enumerate(rows[1:], start=1) if row[-1] == "False")


# --- all or nothing ---------------------------------------------------------------------------


def test_safety_analysis_load_stores_every_row_of_every_table(
    strategy: Strategy, analyze_folder: Path
) -> None:
    analysis = safety_analysis_load(strategy=strategy, out_dir=analyze_folder, title="T")
    summary = json.loads((analyze_folder / "summary.json").read_text(encoding="utf-8"))
    assert analysis.summary == summary
    assert analysis.eligibility == json.loads(
        (analyze_folder / "eligibility.json").read_text(encoding="utf-8")
    )
    assert analysis.is_synthetic is True
    assert analysis.is_published is False
    assert analysis.received_from is not None
    assert analysis.received_from.isoformat() == summary["input"]["received_from"]
    rates = sum(
        len(_rows(analyze_folder / f"rates_{key}.csv")) - 1
        for key in ("council_district", "neighborhood_council", "police_district")
    )
    assert SafetyAreaRate.objects.filter(analysis=analysis).count() == rates
    for model, name in (
        (SafetyCallsWithoutArea, "calls_without_area.csv"),
        (SafetyResponseTime, "response_times.csv"),
        (SafetyTimeProfileCell, "eligible_time_profile.csv"),
        (SafetyBlockGroupHotspot, "hotspots_block_groups.csv"),
    ):
        assert (
            model.objects.filter(analysis=analysis).count() == len(_rows(analyze_folder / name)) - 1
        )


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda f: (f / "response_times.csv").unlink(), "response_times.csv"),
        (lambda f: (f / "summary.json").write_text("{not json", encoding="utf-8"), "summary.json"),
        (
            lambda f: (f / "eligibility.json").write_text("[]", encoding="utf-8"),
            "eligibility.json",
        ),
        (
            lambda f: _set_cell(f, "rates_police_district.csv", 1, "rate_per_1000", "rate"),
            "rates_police_district.csv",
        ),
        (
            lambda f: _set_cell(f, "hotspots_block_groups.csv", 3, "classification", "lukewarm"),
            "hotspots_block_groups.csv",
        ),
        (
            lambda f: _set_cell(f, "response_times.csv", 2, "median_min", "fast"),
            "response_times.csv",
        ),
        (
            lambda f: _set_cell(f, "eligible_time_profile.csv", 2, "hour", "25"),
            "eligible_time_profile.csv",
        ),
        (
            lambda f: _set_cell(f, "calls_without_area.csv", 2, "geography", "county"),
            "calls_without_area.csv",
        ),
    ],
    ids=[
        "file missing",
        "summary not JSON",
        "eligibility not an object",
        "header changed",
        "unknown hot-spot class",
        "median not a number",
        "hour out of range",
        "unknown geography",
    ],
)
def test_a_damaged_folder_stores_nothing_and_names_the_file(
    strategy: Strategy, folder_copy: Path, damage: Any, named: str
) -> None:
    damage(folder_copy)
    with pytest.raises(SafetyLoadError, match=named.replace(".", r"\.")):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T")
    assert _nothing_stored()


def test_a_bad_value_deep_in_the_last_file_stores_nothing(
    strategy: Strategy, folder_copy: Path
) -> None:
    # Every earlier file is fine and would load; the last row of the last file is not.
    rows = _rows(folder_copy / "hotspots_block_groups.csv")
    rows[-1][rows[0].index("z")] = "NaN"
    rows[-1][rows[0].index("suppressed")] = "False"
    rows[-1][rows[0].index("count")] = "50"
    _write_rows(folder_copy / "hotspots_block_groups.csv", rows)
    with pytest.raises(SafetyLoadError, match=rf"line {len(rows)}, column 'z'"):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T")
    assert _nothing_stored()


def test_a_count_under_10_that_was_not_withheld_is_refused(
    strategy: Strategy, folder_copy: Path
) -> None:
    line = _first_published_line(folder_copy, "rates_council_district.csv")
    _set_cell(folder_copy, "rates_council_district.csv", line, "count", "7")
    with pytest.raises(SafetyLoadError, match=r"rates_council_district\.csv.*at least 10"):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T")
    assert _nothing_stored()


def test_a_withheld_row_that_carries_a_figure_is_refused(
    strategy: Strategy, folder_copy: Path
) -> None:
    rows = _rows(folder_copy / "eligible_time_profile.csv")
    line = next(i + 1 for i, row in enumerate(rows) if row[5] == "True")
    _set_cell(folder_copy, "eligible_time_profile.csv", line, "count", "3")
    with pytest.raises(SafetyLoadError, match="empty on a withheld row"):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T")
    assert _nothing_stored()


def test_a_repeated_row_is_refused(strategy: Strategy, folder_copy: Path) -> None:
    rows = _rows(folder_copy / "response_times.csv")
    _write_rows(folder_copy / "response_times.csv", [*rows, rows[1]])
    with pytest.raises(SafetyLoadError, match=r"response_times\.csv, line .*a second row"):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T")
    assert _nothing_stored()


def test_a_missing_folder_is_refused(strategy: Strategy, tmp_path: Path) -> None:
    with pytest.raises(SafetyLoadError, match="no such folder"):
        safety_analysis_load(strategy=strategy, out_dir=tmp_path / "nowhere", title="T")
    assert _nothing_stored()


# --- nothing below block group ----------------------------------------------------------------


def test_an_area_smaller_than_a_block_group_is_refused(
    strategy: Strategy, folder_copy: Path
) -> None:
    rows = _rows(folder_copy / "hotspots_block_groups.csv")
    block = rows[1][1] + "001"  # a 15-digit census block GEOID inside the block group
    _set_cell(folder_copy, "hotspots_block_groups.csv", 2, "geoid", block)
    with pytest.raises(SafetyLoadError, match="12-digit 2020 census block group"):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="T")
    assert _nothing_stored()


def test_nothing_below_block_group_is_stored(published: SafetyAnalysis) -> None:
    geoids = set(published.hotspots.values_list("geoid", flat=True))
    block_groups = set(
        Geography.objects.filter(kind=GeographyKind.BLOCK_GROUP).values_list("code", flat=True)
    )
    assert geoids
    assert geoids <= block_groups
    assert set(published.rates.values_list("kind", flat=True)) == {
        GeographyKind.COUNCIL_DISTRICT,
        GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT,
        GeographyKind.POLICE_DISTRICT,
    }


def test_no_model_has_a_field_that_could_hold_a_point_or_a_call() -> None:
    forbidden = {"lat", "lon", "latitude", "longitude", "point", "geometry", "event_id"}
    forbidden |= {"call_type", "address", "narrative", "x", "y"}
    for model in (SafetyAnalysis, *ROW_MODELS):
        names = {f.name for f in model._meta.get_fields()}
        assert not names & forbidden, model.__name__
    assert models.SafetyBlockGroupHotspot._meta.get_field("geoid").max_length == 12


# --- the demo ---------------------------------------------------------------------------------


def test_safety_demo_load_replaces_the_earlier_demo_and_gives_the_same_figures(
    strategy: Strategy, analyze_folder: Path
) -> None:
    other = safety_analysis_load(strategy=strategy, out_dir=analyze_folder, title="Kept")
    first = safety_demo_load(strategy, calls=2_000, n_boot=10, permutations=99)
    first_counts = [model.objects.filter(analysis=first).count() for model in ROW_MODELS]
    second = safety_demo_load(strategy, calls=2_000, n_boot=10, permutations=99)
    demos = SafetyAnalysis.objects.filter(title=DEMO_TITLE)
    assert list(demos) == [second]
    assert not SafetyAnalysis.objects.filter(pk=first.pk).exists()
    assert not SafetyAreaRate.objects.filter(analysis_id=first.pk).exists()
    assert second.is_synthetic
    assert second.is_published
    assert "Synthetic demo data" in second.title
    # The title (and the pages' banner) say "synthetic"; the source says how they were made.
    assert re.fullmatch(
        r"2,000 calls for \d{4} written by csas safety synth \(seed \d+\)", second.source
    )
    assert [model.objects.filter(analysis=second).count() for model in ROW_MODELS] == first_counts
    # Same arguments, same figures (the input file's name is a temporary one).
    assert {k: v for k, v in second.summary.items() if k != "input"} == {
        k: v for k, v in first.summary.items() if k != "input"
    }
    assert SafetyAnalysis.objects.filter(pk=other.pk).exists()


def test_a_failed_demo_load_keeps_the_earlier_demo(
    strategy: Strategy, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = safety_demo_load(strategy, calls=1_000, n_boot=10, permutations=99)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("csas.analysis.safety.pipeline.run", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        safety_demo_load(strategy, calls=1_000, n_boot=10, permutations=99)
    assert list(SafetyAnalysis.objects.all()) == [first]


# --- commands ---------------------------------------------------------------------------------


def test_safety_load_command_loads_a_draft_unless_told_to_publish(
    strategy: Strategy, analyze_folder: Path
) -> None:
    call_command("safety_load", out_dir=str(analyze_folder), title="Draft", verbosity=0)
    call_command(
        "safety_load", out_dir=str(analyze_folder), title="Public", publish=True, verbosity=0
    )
    assert dict(SafetyAnalysis.objects.values_list("title", "is_published")) == {
        "Draft": False,
        "Public": True,
    }


def test_safety_load_command_reports_a_damaged_folder(strategy: Strategy, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such folder"):
        call_command("safety_load", out_dir=str(tmp_path / "none"), title="T", verbosity=0)
    assert _nothing_stored()


def test_safety_load_command_refuses_an_unknown_strategy(
    strategy: Strategy, analyze_folder: Path
) -> None:
    with pytest.raises(CommandError, match="no such strategy"):
        call_command(
            "safety_load", out_dir=str(analyze_folder), title="T", strategy="nope", verbosity=0
        )
    assert _nothing_stored()


def test_district_eligibility_and_hours_are_stored_as_written(
    strategy: Strategy, analyze_folder: Path
) -> None:
    analysis = safety_analysis_load(strategy=strategy, out_dir=analyze_folder, title="T")
    written = _rows(analyze_folder / "eligibility_by_area.csv")
    assert SafetyAreaEligibility.objects.filter(analysis=analysis).count() == len(written) - 1
    header = written[0]
    for values in written[1:]:
        row = dict(zip(header, values, strict=True))
        stored = SafetyAreaEligibility.objects.get(
            analysis=analysis, kind=DISTRICT_KIND[row["geography"]], area_code=row["area"]
        )
        assert stored.calls == (int(row["calls"]) if row["calls"] else None)
        assert stored.suppressed == (row["suppressed"] == "True")
    hours = _rows(analyze_folder / "eligible_time_by_district.csv")
    assert SafetyDistrictHourCell.objects.filter(analysis=analysis).count() == len(hours) - 1


DISTRICT_KIND = {
    "council_district": GeographyKind.COUNCIL_DISTRICT,
    "neighborhood_council": GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT,
    "police_district": GeographyKind.POLICE_DISTRICT,
}


@pytest.mark.parametrize("name", ["eligibility_by_area.csv", "eligible_time_by_district.csv"])
def test_a_folder_from_an_older_analyze_is_refused_with_advice(
    strategy: Strategy, folder_copy: Path, name: str
) -> None:
    (folder_copy / name).unlink()
    with pytest.raises(
        SafetyLoadError, match=r"older csas safety analyze.*run csas safety analyze"
    ):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="Old")
    assert _nothing_stored()


def test_a_small_district_count_that_was_not_withheld_is_refused(
    strategy: Strategy, folder_copy: Path
) -> None:
    _set_cell(folder_copy, "eligibility_by_area.csv", 2, "calls", "7")
    with pytest.raises(SafetyLoadError, match=r"eligibility_by_area.csv, line 2, column 'calls'"):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="Bad")
    assert _nothing_stored()


def test_a_district_hour_count_under_the_threshold_is_refused(
    strategy: Strategy, folder_copy: Path
) -> None:
    _set_cell(folder_copy, "eligible_time_by_district.csv", 2, "count", "3")
    _set_cell(folder_copy, "eligible_time_by_district.csv", 2, "suppressed", "False")
    with pytest.raises(SafetyLoadError, match=r"eligible_time_by_district\.csv, line 2"):
        safety_analysis_load(strategy=strategy, out_dir=folder_copy, title="Bad")
    assert _nothing_stored()
