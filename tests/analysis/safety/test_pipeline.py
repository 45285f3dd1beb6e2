"""The analysis pipeline: normalised calls in, suppressed aggregates and a report out."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from csas.analysis.safety import pipeline
from csas.analysis.safety.ingest import ingest
from csas.analysis.safety.pipeline import (
    OUTPUT_FILES,
    SUMMARY_COUNT_KEYS,
    PipelineError,
    analyze,
    load_summary,
    write_report,
)
from csas.analysis.safety.synthetic import SYNTHETIC_PROFILE, generate_calls, load_model
from csas.analysis.safety.taxonomy import (
    Population,
    classify_calls,
    eligibility_range,
    initiation_split,
    load_taxonomy,
)

FIXTURES = Path(__file__).parent / "fixtures"
THRESHOLD = 10
#: Columns that hold a count of calls (the summary's keys: `SUMMARY_COUNT_KEYS`).
COUNT_COLUMNS = {"count", "n"}
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
    elif key in SUMMARY_COUNT_KEYS and not isinstance(value, str):
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
    assert summary["input"]["kind"] == "calls"
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


def test_a_file_out_of_row_order_gives_the_same_outputs(
    analysed: tuple[Path, Path], tmp_path: Path
) -> None:
    # The bootstrap depends on the order of the calls: it must be the row order, whatever
    # the order of the rows in the file.
    normalised, out = analysed
    shuffled = tmp_path / "shuffled.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT * FROM read_parquet($source) ORDER BY hash(row_number)) TO $target "
            "(FORMAT parquet)",
            {"source": str(normalised), "target": str(shuffled)},
        )
        first = con.execute("SELECT row_number FROM read_parquet(?) LIMIT 3", [str(shuffled)])
        assert [r[0] for r in first.fetchall()] != [1, 2, 3]
    run_analysis(shuffled, tmp_path / "out")
    for name in OUTPUT_FILES:
        expected = (out / name).read_bytes().replace(b"calls.parquet", b"shuffled.parquet")
        assert (tmp_path / "out" / name).read_bytes() == expected, name


def read_calls(normalised: Path, city: str | None, timezone: str, tiers: tuple[Any, ...]) -> Any:
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return pipeline._read_calls(
            con,
            f"read_parquet('{normalised}')",
            taxonomy=load_taxonomy(),
            city=city,
            timezone=timezone,
            eligible_tiers=tiers,
        )


@pytest.mark.parametrize(
    ("city", "timezone", "tiers", "max_codes", "max_hours"),
    [
        (None, "America/Los_Angeles", ("community-only", "community-led"), None, None),
        ("Seattle", "Asia/Kathmandu", ("community-led", "co-response"), 1, 1),
        (None, "Australia/Lord_Howe", ("community-only",), None, None),
    ],
)
def test_reading_the_calls_matches_classifying_them_in_a_table(
    analysed: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    city: str | None,
    timezone: str,
    tiers: tuple[Any, ...],
    max_codes: int | None,
    max_hours: int | None,
) -> None:
    """The per-call arrays and the counts equal what `classify_calls` and SQL give (the way
    the pipeline used to read them), also through the slower paths for unusual inputs."""
    normalised, _ = analysed
    if max_codes is not None:
        monkeypatch.setattr(pipeline, "_MAX_CODES", max_codes)
    if max_hours is not None:
        monkeypatch.setattr(pipeline, "_MAX_HOURS", max_hours)
    calls, overview = read_calls(normalised, city, timezone, tiers)
    taxonomy = load_taxonomy()
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.read_parquet(str(normalised)).create_view("calls")
        classified = classify_calls(con, "calls", taxonomy=taxonomy, city=city)
        priorities = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT priority FROM calls WHERE priority IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
        expected = con.execute(
            "SELECT received_at, dispatched_at, arrived_at, "
            "coalesce(list_position($priorities, priority), 0) AS priority_code, "
            "coalesce(year(timezone($tz, received_at)) * 12 "
            "+ month(timezone($tz, received_at)) - 1, -1) AS month_code, "
            "initiation = 'officer' AS officer, initiation = 'public' AS public, "
            "initiation = 'public' AND list_contains($tiers, tier) AS by_type, "
            "initiation = 'public' AND list_contains($tiers, tier) AND NOT screened_out "
            "AS after_screening, lon, lat FROM classified_calls ORDER BY row_number",
            {"tz": timezone, "priorities": priorities, "tiers": list(tiers)},
        ).fetchnumpy()
        populations: tuple[Population, ...] = ("public", "all")
        ranges = {
            population: eligibility_range(
                con, "classified_calls", eligible_tiers=tiers, population=population
            )
            for population in populations
        }
        split = initiation_split(con, "calls", taxonomy=taxonomy, city=city)
        (row,) = con.execute(
            "SELECT count(*), count(*) FILTER (received_at IS NULL), min(received_at), "
            "max(received_at) FROM calls"
        ).fetchall()

    nat = np.datetime64("NaT", "us")
    for name, found in (
        ("received_at", calls.received),
        ("dispatched_at", calls.dispatched),
        ("arrived_at", calls.arrived),
    ):
        want = np.ma.filled(expected[name], nat).astype("datetime64[us]")
        np.testing.assert_array_equal(found, want)
    np.testing.assert_array_equal(calls.lon, np.ma.filled(expected["lon"], np.nan))
    np.testing.assert_array_equal(calls.lat, np.ma.filled(expected["lat"], np.nan))
    np.testing.assert_array_equal(calls.priority_code, expected["priority_code"])
    assert calls.priorities == (None, *priorities)
    for name, found in (
        ("officer", calls.officer),
        ("public", calls.public),
        ("by_type", calls.eligible_by_type),
        ("after_screening", calls.eligible_after_screening),
    ):
        np.testing.assert_array_equal(found, np.ma.filled(expected[name], False), err_msg=name)
    month_code = np.ma.filled(expected["month_code"], -1)
    labels = np.array([f"{m // 12:04d}-{m % 12 + 1:02d}" for m in month_code.tolist()])
    assert calls.months == tuple(sorted(set(labels[month_code >= 0].tolist())))
    months = np.array([*calls.months, ""])
    np.testing.assert_array_equal(months[calls.month_index], np.where(month_code >= 0, labels, ""))

    assert overview.ranges == ranges
    assert overview.split == split
    assert dict(overview.calls_by_tier) == dict(classified.calls_by_tier)
    assert overview.n_calls == row[0] == calls.received.size
    assert overview.n_no_time == row[1]
    assert (overview.received_from, overview.received_to) == (
        row[2].isoformat(),
        row[3].isoformat(),
    )


def test_calls_are_read_in_row_order_with_rows_without_a_number_last(tmp_path: Path) -> None:
    path = tmp_path / "calls.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT row_number, TIMESTAMPTZ '2024-05-01 12:00:00+00' AS received_at, "
            "NULL::TIMESTAMPTZ AS dispatched_at, NULL::TIMESTAMPTZ AS arrived_at, "
            "NULL::VARCHAR AS call_type, NULL::VARCHAR AS priority, 'public' AS initiated_by, "
            "NULL::VARCHAR AS initiated_raw, lon, NULL::DOUBLE AS lat, NULL::JSON AS extra, "
            "'calls' AS source_kind "
            "FROM (VALUES (30, 3.0), (NULL, 10.0), (10, 1.0), (NULL, 11.0), (20, 2.0)) "
            "v(row_number, lon)) TO $path (FORMAT parquet)",
            {"path": str(path)},
        )
    calls, overview = read_calls(path, None, "UTC", ("community-only",))
    assert calls.lon.tolist() == [1.0, 2.0, 3.0, 10.0, 11.0]
    assert np.isnan(calls.lat).all()
    assert np.isnat(calls.dispatched).all()
    assert calls.months == ("2024-05",)
    assert (overview.n_calls, overview.n_synthetic, overview.n_no_time) == (5, 0, 0)
    assert overview.kind == "calls"
    assert calls.public.all()
    assert not calls.eligible_by_type.any()


@pytest.mark.parametrize("timezone", ["America/Los_Angeles", "Australia/Lord_Howe", "Asia/Kolkata"])
@pytest.mark.parametrize("max_hours", [None, 1])
def test_local_months_match_duckdb_call_by_call_around_every_change(
    monkeypatch: pytest.MonkeyPatch, timezone: str, max_hours: int | None
) -> None:
    # Moments within a microsecond, a second and an hour of every local midnight on the
    # first of a month and of every change of the clocks in 2023-2024, some before 1970.
    if max_hours is not None:
        monkeypatch.setattr(pipeline, "_MAX_HOURS", max_hours)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        changes = [
            int(r[0])
            for r in con.execute(
                "SELECT DISTINCT epoch_us(timezone($tz, make_timestamp(y, m, 1, 0, 0, 0))) "
                "FROM range(2023, 2025) a(y), range(1, 13) b(m)",
                {"tz": timezone},
            ).fetchall()
        ]
        hour = 3_600_000_000
        changes += list(range(1_672_531_200_000_000, 1_735_689_600_000_000, 24 * hour))
        steps = np.array([-hour, -1_000_000, -1, 0, 1, 1_000_000, hour], dtype=np.int64)
        times = (np.array(changes, dtype=np.int64)[:, None] + steps).ravel()
        times = np.concatenate([times, [-1_000_000_000_000_000, pipeline._NAT]])
        np.random.default_rng(0).shuffle(times)
        valid = times[times != pipeline._NAT]
        month_index, months = pipeline._local_months(
            con, times, int(valid.min()), int(valid.max()), timezone
        )
        expected = con.execute(
            "SELECT u, year(l) * 12 + month(l) - 1 AS m FROM (SELECT u, "
            "timezone($tz, make_timestamp(u)::TIMESTAMPTZ) AS l FROM (SELECT unnest($u) AS u))",
            {"tz": timezone, "u": valid.tolist()},
        ).fetchall()
    code_of = dict(expected)
    labels = [
        f"{code_of[t] // 12:04d}-{code_of[t] % 12 + 1:02d}" if t != pipeline._NAT else ""
        for t in times.tolist()
    ]
    assert months == tuple(sorted(set(labels) - {""}))
    assert [months[i] if i >= 0 else "" for i in month_index.tolist()] == labels


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


def test_the_summary_and_report_say_which_kind_of_data_was_analysed(tmp_path: Path) -> None:
    # Tacoma 311 requests (the profile's kind: requests), the fixture's three kept rows.
    ingest(FIXTURES / "tacoma_311.csv", profile="tacoma-311", output=tmp_path / "r.parquet")
    result = run_analysis(tmp_path / "r.parquet", tmp_path / "out")
    assert result.summary["input"]["kind"] == "requests"
    markdown = Path(write_report(tmp_path / "out").markdown_path).read_text(encoding="utf-8")
    assert "| Kind of data | service requests (311) |" in markdown
    # Rows of two kinds put together (two profiles' files, one folder) are "mixed".
    ingest(FIXTURES / "spd_calls.csv", profile="seattle-spd", output=tmp_path / "c.parquet")
    with duckdb.connect() as con:
        con.read_parquet(
            [str(tmp_path / "r.parquet"), str(tmp_path / "c.parquet")], union_by_name=True
        ).write_parquet(str(tmp_path / "both.parquet"))
    mixed = run_analysis(tmp_path / "both.parquet", tmp_path / "mixed", threshold=20)
    assert mixed.summary["input"]["kind"] == "mixed"
    # No rows at all: no kind.
    assert pipeline._source_kind(None) is None
    assert pipeline._source_kind(["calls", "calls"]) == "calls"


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


# ---- run: ingest and analyse in one go --------------------------------------------------------


def _same_outputs(first: Path, second: Path) -> None:
    """Every output file byte for byte the same, but the input's name in summary.json."""
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in second.iterdir())
    for path in first.iterdir():
        if path.name == "summary.json":
            one, two = (
                json.loads(p.read_text(encoding="utf-8")) for p in (path, second / path.name)
            )
            one["input"].pop("file")
            two["input"].pop("file")
            assert one == two
        else:
            assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def _report_without_paths(report: Any) -> dict[str, Any]:
    found: dict[str, Any] = report.to_dict()
    for key in ("seconds", "output_path"):
        found.pop(key)
    return found


@pytest.mark.parametrize(
    ("source", "profile", "options"),
    [
        ("synthetic", SYNTHETIC_PROFILE, {}),
        ("spd_calls.csv", "seattle-spd", {"city": "Seattle", "threshold": 2}),
        ("tpd_crime.geojson", "tacoma-tpd-crime", {"threshold": 1}),
    ],
)
def test_run_writes_what_ingest_then_analyze_write(
    tmp_path: Path, source: str, profile: str, options: dict[str, Any]
) -> None:
    if source == "synthetic":
        path = tmp_path / "calls.csv"
        generate_calls(8_000, seed=4, year=2024, out_path=path, bad_share=0.05)
    else:
        path = FIXTURES / source
    report = ingest(path, profile=profile, output=tmp_path / "two-step.parquet")
    two_step = run_analysis(tmp_path / "two-step.parquet", tmp_path / "two-step", **options)
    steps: list[str] = []
    result = pipeline.run(
        path,
        profile=profile,
        out_dir=tmp_path / "run",
        normalised=tmp_path / "run.parquet",
        permutations=199,
        n_boot=30,
        progress=steps.append,
        **options,
    )
    _same_outputs(tmp_path / "two-step", tmp_path / "run")
    assert result.analysis.summary["input"]["file"] == path.name
    assert result.analysis.calls == two_step.calls == report.kept_rows
    assert result.analysis.synthetic_rows == two_step.synthetic_rows
    assert _report_without_paths(result.ingest) == _report_without_paths(report)
    assert result.ingest.output_path == str(tmp_path / "run.parquet")
    with duckdb.connect() as con:
        differing = con.execute(
            "SELECT count(*) FROM (SELECT * FROM read_parquet($a) EXCEPT ALL "
            "SELECT * FROM read_parquet($b))",
            {"a": str(tmp_path / "two-step.parquet"), "b": str(tmp_path / "run.parquet")},
        ).fetchone()
    assert differing == (0,)
    assert steps[0] == "read"
    assert "write normalised" in steps
    assert steps[-1] == "write"


def test_run_writes_no_normalised_file_unless_asked(tmp_path: Path) -> None:
    generate_calls(3_000, seed=2, year=2024, out_path=tmp_path / "calls.csv")
    result = pipeline.run(
        tmp_path / "calls.csv",
        profile=SYNTHETIC_PROFILE,
        out_dir=tmp_path / "out",
        permutations=99,
        n_boot=10,
    )
    assert result.ingest.output_path is None
    assert json.loads(result.ingest.to_json())["output_path"] is None
    assert result.analysis.synthetic_rows == result.analysis.calls == 3_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv", "out"]
    assert sorted(Path(f).name for f in result.analysis.files) == sorted(OUTPUT_FILES)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_boot": 0}, "n_boot must be a positive integer"),
        ({"permutations": -1}, "permutations must be a positive whole number"),
        ({"alpha": 1.0}, "alpha must be between 0 and 1"),
        ({"threshold": 0}, "threshold must be a positive whole number"),
        ({"timezone": "Mars/Olympus"}, "'Mars/Olympus' is not an IANA time zone"),
        ({"timezone": "localtime"}, "'localtime' is not an IANA time zone"),
        ({"eligible_tiers": ("community-only", "anyone")}, r"unknown tier\(s\) \['anyone'\]"),
        ({"seed": -1}, "seed must be a whole number, 0 or more"),
        ({"city": "Atlantis"}, "no call types for city 'Atlantis'"),
    ],
)
def test_run_checks_its_parameters_before_reading_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any], message: str
) -> None:
    def no_reading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the input was read")

    monkeypatch.setattr(pipeline, "ingested", no_reading)
    with pytest.raises(ValueError, match=message):
        pipeline.run(
            FIXTURES / "spd_calls.csv",
            profile="seattle-spd",
            out_dir=tmp_path / "out",
            **options,
        )
    assert not (tmp_path / "out").exists()


def test_analyze_checks_the_same_parameters(analysed: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_boot must be a positive integer"):
        analyze(analysed[0], out_dir=tmp_path / "out", n_boot=0)
    assert not (tmp_path / "out").exists()


def test_run_names_a_missing_or_unreadable_input_and_writes_nothing(tmp_path: Path) -> None:
    from csas.analysis.safety.ingest import IngestError

    with pytest.raises(IngestError, match=r"nope\.csv: no such file"):
        pipeline.run(tmp_path / "nope.csv", profile="seattle-spd", out_dir=tmp_path / "out")
    with pytest.raises(IngestError, match="the output would overwrite the input"):
        pipeline.run(
            FIXTURES / "spd_calls.csv",
            profile="seattle-spd",
            out_dir=tmp_path / "out",
            normalised=FIXTURES / "spd_calls.csv",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("sample_rows", [50_000, 200, 1])
def test_run_reads_enum_columns_as_numbers_and_the_values_they_miss_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_rows: int
) -> None:
    """The ENUMs are built from the first records; values they miss are kept as text
    beside them, and read as text (the fewer records sampled, the more). Same outputs."""
    from csas.analysis.safety import ingest as ingest_module

    path = tmp_path / "calls.csv"
    generate_calls(6_000, seed=8, year=2024, out_path=path, bad_share=0.03)
    ingest(path, profile=SYNTHETIC_PROFILE, output=tmp_path / "calls.parquet")
    run_analysis(tmp_path / "calls.parquet", tmp_path / "two-step")
    monkeypatch.setattr(ingest_module, "_SAMPLE_ROWS", sample_rows)
    with ingest_module.ingested(path, profile=SYNTHETIC_PROFILE) as session:
        coded = dict(session.enum_columns)
        assert "call_type" in coded
        missed = session.con.execute(
            f"SELECT count(*) FILTER ({coded['call_type'].sql} IS NULL) "  # noqa: S608
            f"FROM {session.relation}"
        ).fetchall()[0][0]
    if sample_rows == 50_000:
        assert set(coded) == {"call_type", "initiated_by", "initiated_raw"}
        assert set(coded["initiated_by"].values) <= {"officer", "public", "unknown"}
        assert missed == 0
    elif sample_rows == 1:
        assert len(coded["call_type"].values) == 1
        assert missed > 3_000  # every other call type is read as text
    pipeline.run(
        path, profile=SYNTHETIC_PROFILE, out_dir=tmp_path / "run", permutations=199, n_boot=30
    )
    _same_outputs(tmp_path / "two-step", tmp_path / "run")


def test_parts_of_a_published_whole_are_never_withheld_alone() -> None:
    # The calls started by the public, by an officer and by no one known add up to every
    # call, which the summary gives: a lone withheld part would be the difference.
    assert pipeline._parts([11_624, 7_782, 5], THRESHOLD) == [11_624, None, None]
    assert pipeline._parts([11_624, 7_782, 15], THRESHOLD) == [11_624, 7_782, 15]
    assert pipeline._parts([100, 50, 0], THRESHOLD) == [100, 50, None]  # a zero tells nothing
    assert pipeline._parts([4, 3, 200], THRESHOLD) == [None, None, 200]


def test_block_group_counts_withheld_alone_would_be_a_difference(tmp_path: Path) -> None:
    generate_calls(2_500, seed=5, year=2024, out_path=tmp_path / "calls.parquet", fmt="parquet")
    ingest(tmp_path / "calls.parquet", profile=SYNTHETIC_PROFILE, output=tmp_path / "n.parquet")
    result = run_analysis(tmp_path / "n.parquet", tmp_path / "out")
    rows = csv_rows(tmp_path / "out" / "hotspots_block_groups.csv")
    assigned = result.summary["geography"]["block_group"]["assigned"]
    for measure in ("all_calls",):
        mine = [r for r in rows if r["measure"] == measure]
        withheld = [r for r in mine if r["suppressed"] == "True"]
        shown = sum(int(r["count"]) for r in mine if r["suppressed"] == "False")
        assert len(withheld) != 1 or assigned - shown == 0
    # Each layer's districts and the calls with no area add up to the month's calls.
    with duckdb.connect() as con:
        months = dict(
            con.execute(
                "SELECT strftime(timezone('America/Los_Angeles', received_at), '%Y-%m'), "
                "count(*) FROM read_parquet(?) WHERE received_at IS NOT NULL GROUP BY 1",
                [str(tmp_path / "n.parquet")],
            ).fetchall()
        )
    without = csv_rows(tmp_path / "out" / "calls_without_area.csv")
    for key in ("council_district", "neighborhood_council", "police_district"):
        rates = csv_rows(tmp_path / "out" / f"rates_{key}.csv")
        for month, calls in months.items():
            cells = [r for r in rates if r["month"] == month] + [
                r for r in without if r["geography"] == key and r["month"] == month
            ]
            shown = sum(int(r["count"]) for r in cells if r["suppressed"] == "False")
            if sum(r["suppressed"] == "True" for r in cells) == 1:
                assert calls - shown == 0  # only a withheld zero may stand alone
    # (the input is small enough that some cells are withheld)
    police = csv_rows(tmp_path / "out" / "rates_police_district.csv")
    assert any(r["suppressed"] == "True" for r in police)


def test_run_reads_months_in_the_profiles_time_zone_unless_told(tmp_path: Path) -> None:
    from csas.analysis.safety.profiles import bundled_profiles

    text = bundled_profiles()["seattle-spd"].read_text(encoding="utf-8")
    assert "timezone: America/Los_Angeles" in text
    profile = tmp_path / "eastern.yaml"
    profile.write_text(
        text.replace("timezone: America/Los_Angeles", "timezone: America/New_York"),
        encoding="utf-8",
    )
    fixture = FIXTURES / "spd_calls.csv"
    common = {"n_boot": 5, "permutations": 9, "threshold": 20}
    found = pipeline.run(fixture, profile=profile, out_dir=tmp_path / "a", **common)
    assert found.analysis.summary["parameters"]["timezone"] == "America/New_York"
    told = pipeline.run(fixture, profile=profile, out_dir=tmp_path / "b", timezone="UTC", **common)
    assert told.analysis.summary["parameters"]["timezone"] == "UTC"


def test_the_trend_compares_the_last_three_complete_months_with_the_three_before(
    analysed: tuple[Path, Path],
) -> None:
    from csas.analysis.safety.measures import period_change

    normalised, out = analysed
    trends = load_summary(out)["trends"]
    assert trends["current"] == {"from": "2024-10", "to": "2024-12", "days": 92}
    assert trends["previous"] == {"from": "2024-07", "to": "2024-09", "days": 92}
    with duckdb.connect() as con:
        by_month = dict(
            con.execute(
                "SELECT strftime(timezone('America/Los_Angeles', received_at), '%Y-%m'), "
                "count(*) FROM read_parquet(?) WHERE received_at IS NOT NULL GROUP BY 1",
                [str(normalised)],
            ).fetchall()
        )
    now = sum(by_month[m] for m in ("2024-10", "2024-11", "2024-12"))
    before = sum(by_month[m] for m in ("2024-07", "2024-08", "2024-09"))
    (expected,) = period_change(
        {"c": now}, {"c": before}, exposure_current=92, exposure_previous=92
    ).changes
    city = trends["city"]
    assert (city["current"], city["previous"]) == (now, before)
    assert city["ratio"] == pytest.approx(expected.ratio, abs=5e-4)
    assert city["ratio_low"] == pytest.approx(expected.ratio_low, abs=5e-4)
    # A district's row is published only when all six of its months are.
    rates = csv_rows(out / "rates_police_district.csv")
    months = {"2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12"}
    for row in trends["areas"]["police_district"]:
        mine = [r for r in rates if r["area"] == row["area"] and r["month"] in months]
        complete = all(r["suppressed"] == "False" for r in mine)
        assert (row["current"] is not None) == complete
        if complete:
            assert row["current"] == sum(int(r["count"]) for r in mine if r["month"] >= "2024-10")


def test_no_trend_without_six_complete_months(tmp_path: Path) -> None:
    ingest(FIXTURES / "spd_calls.csv", profile="seattle-spd", output=tmp_path / "s.parquet")
    result = run_analysis(tmp_path / "s.parquet", tmp_path / "out", city="Seattle", threshold=20)
    trends = result.summary["trends"]
    assert trends["current"] is None
    assert "complete months: no trend" in trends["note"]
