"""The analysis pipeline: normalised calls in, suppressed aggregates and a report out."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from csas.analysis.safety.ingest import ingest
from csas.analysis.safety.pipeline import (
    OUTPUT_FILES,
    PipelineError,
    analyze,
    load_summary,
    write_report,
)
from csas.analysis.safety.synthetic import SYNTHETIC_PROFILE, generate_calls, load_model
from csas.analysis.safety.taxonomy import classify_calls, eligibility_range

FIXTURES = Path(__file__).parent / "fixtures"
THRESHOLD = 10
#: Columns and keys that hold a count of calls (everything else is a label or a statistic).
COUNT_COLUMNS = {"count", "n"}
COUNT_KEYS = {
    "calls",
    "n",
    "count",
    "n_eligible",
    "assigned",
    "outside_every_area",
    "without_location",
    "synthetic_rows",
    "without_receipt_time",
    "officer",
    "public",
    "unknown",
    "eligible_by_type",
    "eligible_after_screening",
    "not_assessed",
    "left_out_officer",
    "left_out_unknown",
    "missing_received",
    "missing_end",
    "negative",
    *("community-only", "community-led", "co-response", "police", "not-assessed"),
}
ROW_LEVEL_COLUMNS = {"source_id", "event_id", "lon", "lat", "longitude", "latitude", "call_type"}


def run_analysis(normalised: Path, out: Path, **options: Any) -> Any:
    return analyze(normalised, out_dir=out, permutations=199, n_boot=30, **options)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """6,000 synthetic calls (2% bad rows), ingested and analysed once for the module."""
    folder = tmp_path_factory.mktemp("pipeline")
    generate_calls(6_000, seed=21, year=2024, out_path=folder / "calls.csv", bad_share=0.02)
    ingest(folder / "calls.csv", profile=SYNTHETIC_PROFILE, output=folder / "calls.parquet")
    run_analysis(folder / "calls.parquet", folder / "out")
    return folder / "calls.parquet", folder / "out"


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def counts_in_json(value: Any, key: str | None = None) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += counts_in_json(v, k)
    elif isinstance(value, list):
        for item in value:
            found += counts_in_json(item, key)
    elif key in COUNT_KEYS and not isinstance(value, str):
        found.append((key, value))
    return found


def test_analysis_writes_every_output_file(analysed: tuple[Path, Path]) -> None:
    _, out = analysed
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)


def test_no_published_count_is_under_ten(analysed: tuple[Path, Path]) -> None:
    _, out = analysed
    checked = 0
    for path in out.glob("*.csv"):
        for row in csv_rows(path):
            for column in COUNT_COLUMNS & set(row):
                if row[column] != "":
                    assert int(row[column]) >= THRESHOLD, (path.name, row)
                    checked += 1
    for path in out.glob("*.json"):
        for key, value in counts_in_json(json.loads(path.read_text(encoding="utf-8"))):
            assert value is None or value >= THRESHOLD, (path.name, key, value)
            checked += value is not None
    assert checked > 500


def test_withheld_cells_publish_no_derived_figures(analysed: tuple[Path, Path]) -> None:
    _, out = analysed
    rates = csv_rows(out / "rates_police_district.csv")
    assert any(r["suppressed"] == "True" for r in rates)
    for row in rates:
        if row["suppressed"] == "True":
            assert row["count"] == row["rate_per_1000"] == row["rate_low"] == ""
    for row in csv_rows(out / "response_times.csv"):
        if row["suppressed"] == "True":
            assert row["n"] == row["median_min"] == row["p90_min"] == ""
    for row in csv_rows(out / "eligible_time_profile.csv"):
        if row["suppressed"] == "True":
            assert row["count"] == row["share"] == ""
            assert row["suppression"] in ("primary", "complementary")
    for row in csv_rows(out / "hotspots_block_groups.csv"):
        if row["suppressed"] == "True":
            assert row["count"] == row["z"] == row["q"] == ""


def test_outputs_hold_no_row_level_data_and_no_call_type_text(
    analysed: tuple[Path, Path],
) -> None:
    _, out = analysed
    for path in out.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert not ROW_LEVEL_COLUMNS & set(header), path.name
    texts = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    model = load_model()
    for name, text in texts.items():
        assert "SYN-2024" not in text, name
        for call_type in model.type_names[:40]:
            assert call_type not in text, (name, call_type)


def test_the_eligible_share_matches_the_taxonomy_on_the_same_calls(
    analysed: tuple[Path, Path],
) -> None:
    normalised, out = analysed
    with duckdb.connect() as con:
        con.execute("CREATE TABLE calls AS SELECT * FROM read_parquet(?)", [str(normalised)])
        classify_calls(con, "calls")
        direct = eligibility_range(con, "classified_calls", population="public")
    published = json.loads((out / "eligibility.json").read_text(encoding="utf-8"))["public"]
    assert published["n"] == direct.n
    assert published["share_by_type"] == pytest.approx(direct.share_by_type, abs=1e-4)
    assert published["share_after_screening"] == pytest.approx(
        direct.share_after_screening, abs=1e-4
    )
    assert 0 < published["share_after_screening"] <= published["share_by_type"] < 1


def test_the_summary_accounts_for_the_input_and_says_it_is_synthetic(
    analysed: tuple[Path, Path],
) -> None:
    normalised, out = analysed
    summary = load_summary(out)
    with duckdb.connect() as con:
        row = con.execute("SELECT count(*) FROM read_parquet(?)", [str(normalised)]).fetchone()
    assert row is not None
    kept = row[0]
    assert summary["synthetic"] is True
    assert summary["input"]["calls"] == summary["input"]["synthetic_rows"] == kept
    block_groups = summary["geography"]["block_group"]
    assert block_groups["areas"] == 169
    assert block_groups["population"] == 241_349
    # Kept rows without coordinates (planted) are counted, not lost.
    assert block_groups["assigned"] + (block_groups["without_location"] or 0) <= kept
    assert summary["hotspots"]["all_calls"]["n_hot"] >= 0
    months = summary["rates"]["council_district"]["months"]
    assert (months[0], months[-1]) == ("2024-01", "2024-12")


def test_the_time_profile_is_published_for_both_definitions(analysed: tuple[Path, Path]) -> None:
    _, out = analysed
    rows = csv_rows(out / "eligible_time_profile.csv")
    assert {r["definition"] for r in rows} == {"by_type", "after_screening"}
    # 168 cells + 24 hours + 7 days, per definition.
    assert len(rows) == 2 * (168 + 24 + 7)
    by_hour = [r for r in rows if r["definition"] == "by_type" and r["weekday"] == "all"]
    assert [r["hour"] for r in by_hour] == [str(h) for h in range(24)]


def test_analysis_is_deterministic(analysed: tuple[Path, Path], tmp_path: Path) -> None:
    normalised, out = analysed
    run_analysis(normalised, tmp_path / "again")
    for name in OUTPUT_FILES:
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


def test_the_report_is_written_in_markdown_and_html_with_the_synthetic_banner(
    analysed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, out = analysed
    report = write_report(out)
    markdown = Path(report.markdown_path).read_text(encoding="utf-8")
    page = Path(report.html_path).read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in markdown.splitlines()[2]
    assert 'class="synthetic"' in page
    assert "Share of calls eligible for an alternative response" in markdown
    assert "<table>" in page
    assert "&lt;" not in markdown
    titles = [s.title for s in report.sections]
    assert "Hot spots on block groups (Gi*, FDR-controlled)" in titles
    for name in ("report.md", "report.html"):
        (out / name).unlink()


def test_real_data_outside_tacoma_is_analysed_without_a_synthetic_banner(tmp_path: Path) -> None:
    # The Seattle fixture's calls all lie outside Tacoma: nothing is lost and nothing fails.
    ingest(FIXTURES / "spd_calls.csv", profile="seattle-spd", output=tmp_path / "spd.parquet")
    result = run_analysis(tmp_path / "spd.parquet", tmp_path / "out", city="Seattle", threshold=20)
    assert result.synthetic_rows == 0
    summary = result.summary
    assert summary["synthetic"] is False
    assert summary["hotspots"] == {}
    assert summary["geography"]["block_group"]["assigned"] is None
    markdown = Path(write_report(tmp_path / "out").markdown_path).read_text(encoding="utf-8")
    assert "SYNTHETIC" not in markdown
    # A population of fewer than 10 calls is withheld in the rule's words too.
    public = json.loads((tmp_path / "out" / "eligibility.json").read_text(encoding="utf-8"))
    assert public["public"]["n"] is None
    assert "n withheld" in public["public"]["rule"]


def test_analysis_leaves_no_working_folder_behind(analysed: tuple[Path, Path]) -> None:
    _, out = analysed
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


# ---- errors ---------------------------------------------------------------------------------


def test_analysis_names_a_missing_input(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"nope\.parquet: no such file"):
        run_analysis(tmp_path / "nope.parquet", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_analysis_refuses_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"calls\.csv: not a readable Parquet file"):
        run_analysis(path, tmp_path / "out")


def test_analysis_refuses_a_parquet_file_that_was_not_ingested(tmp_path: Path) -> None:
    path = tmp_path / "raw.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT 1 AS id, 'x' AS call_type) TO $path (FORMAT parquet)", {"path": str(path)}
        )
    with pytest.raises(PipelineError, match=r"not a normalised call table: .*'received_at'"):
        run_analysis(path, tmp_path / "out")


def test_analysis_refuses_an_output_path_that_is_a_file(
    analysed: tuple[Path, Path], tmp_path: Path
) -> None:
    normalised, _ = analysed
    (tmp_path / "taken").write_text("", encoding="utf-8")
    with pytest.raises(PipelineError, match="not a folder"):
        run_analysis(normalised, tmp_path / "taken")


@pytest.mark.parametrize("threshold", [0, -5, 2.5])
def test_analysis_refuses_a_threshold_below_one(
    analysed: tuple[Path, Path], tmp_path: Path, threshold: Any
) -> None:
    with pytest.raises(ValueError, match="threshold"):
        run_analysis(analysed[0], tmp_path / "out", threshold=threshold)


def test_the_report_names_a_folder_without_a_summary(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"no summary\.json"):
        write_report(tmp_path)
    with pytest.raises(PipelineError, match="no such folder"):
        write_report(tmp_path / "missing")


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "not a JSON file"), ('{"schema_version": 99}', "schema version 1")],
)
def test_the_report_refuses_a_damaged_summary(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "summary.json").write_text(text, encoding="utf-8")
    with pytest.raises(PipelineError, match=message):
        write_report(tmp_path)


def test_the_report_names_an_incomplete_summary(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text('{"schema_version": 1}', encoding="utf-8")
    with pytest.raises(PipelineError, match="incomplete or damaged"):
        write_report(tmp_path)
    assert not (tmp_path / "report.md").exists()


def test_an_empty_table_is_analysed_with_everything_withheld(tmp_path: Path) -> None:
    generate_calls(0, seed=1, year=2024, out_path=tmp_path / "empty.csv")
    ingest(tmp_path / "empty.csv", profile=SYNTHETIC_PROFILE, output=tmp_path / "empty.parquet")
    result = run_analysis(tmp_path / "empty.parquet", tmp_path / "out")
    assert result.calls == 0
    assert result.summary["input"]["calls"] is None
    assert result.summary["rates"]["council_district"]["months"] == []
    assert Path(write_report(tmp_path / "out").html_path).is_file()
