"""Staff list the call types the crosswalk does not map, map them in the city's own copy of
the files, and analyse with that copy: `csas safety call-types`, then `analyze --crosswalk`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from csas.analysis.safety.ingest import ingest
from csas.analysis.safety.synthetic import SYNTHETIC_PROFILE, generate_calls
from csas.analysis.safety.taxonomy import _data_path
from csas.cli import main

CROSSWALK = _data_path("call_type_crosswalk.csv")


@pytest.fixture(scope="module")
def normalised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("call-types")
    generate_calls(20_000, seed=1, year=2024, out_path=folder / "calls.csv")
    ingest(folder / "calls.csv", profile=SYNTHETIC_PROFILE, output=folder / "calls.parquet")
    return folder / "calls.parquet"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _city_crosswalk(tmp_path: Path, call_type: str, category: str) -> Path:
    """The shipped crosswalk with `call_type` mapped to `category`, as a city would edit it."""
    rows = _rows(CROSSWALK)
    for row in rows:
        if row["call_type"] == call_type:
            row["category"] = category
            row["category_source"] = "city"
    path = tmp_path / "tacoma_crosswalk.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_every_call_type_is_listed_with_its_calls_unmapped_first(
    normalised: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import duckdb

    out = tmp_path / "types.csv"
    assert main(["safety", "call-types", str(normalised), "--out", str(out)]) == 0
    rows = _rows(out)
    ((calls,),) = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{normalised}')"  # noqa: S608
    ).fetchall()
    assert sum(int(r["calls"]) for r in rows) == calls  # every call is in one row
    statuses = [r["status"] for r in rows]
    first_mapped = statuses.index("mapped")
    assert first_mapped > 0
    assert "mapped" not in statuses[:first_mapped]
    assert all(s == "mapped" for s in statuses[first_mapped:])
    unmapped = rows[:first_mapped]
    assert [int(r["calls"]) for r in unmapped] == sorted(
        (int(r["calls"]) for r in unmapped), reverse=True
    )
    assert all(r["tier"] == "not-assessed" for r in unmapped)
    demonstrations = next(r for r in rows if r["call_type"] == "DEMONSTRATIONS")
    assert demonstrations["status"] == "no category"
    said = capsys.readouterr()
    assert "DEMONSTRATIONS" in said.out
    assert "unmapped" in said.err
    assert "not for publication" in said.err


def test_a_city_crosswalk_maps_a_type_in_the_review_and_the_analysis(
    normalised: Path, tmp_path: Path
) -> None:
    own = _city_crosswalk(tmp_path, "DEMONSTRATIONS", "Other (Not Crime)")
    out = tmp_path / "types.csv"
    assert (
        main(["safety", "call-types", str(normalised), "--out", str(out), "--crosswalk", str(own)])
        == 0
    )
    demonstrations = next(r for r in _rows(out) if r["call_type"] == "DEMONSTRATIONS")
    assert (demonstrations["status"], demonstrations["category"]) == ("mapped", "Other (Not Crime)")
    assert demonstrations["tier"] == "community-only"

    default, city = tmp_path / "default", tmp_path / "city"
    fast = ["--n-boot", "10", "--permutations", "99"]
    assert main(["safety", "analyze", str(normalised), "--out", str(default), *fast]) == 0
    assert (
        main(
            [
                "safety",
                "analyze",
                str(normalised),
                "--out",
                str(city),
                "--crosswalk",
                str(own),
                *fast,
            ]
        )
        == 0
    )
    before = json.loads((default / "summary.json").read_text())
    after = json.loads((city / "summary.json").read_text())
    assert "taxonomy_files" not in before["parameters"]
    assert after["parameters"]["taxonomy_files"] == {"crosswalk": "tacoma_crosswalk.csv"}
    rule = after["eligibility"]["all"]["rule"]
    assert "with the city's own crosswalk (tacoma_crosswalk.csv)" in rule
    assert "category_tiers.csv), a judgement" in rule  # the tiers are still csas's defaults
    assert "category_tiers.csv), a judgement" in before["eligibility"]["all"]["rule"]
    assert "own crosswalk" not in before["eligibility"]["all"]["rule"]
    # the demonstrations calls moved from not assessed to community-only
    moved = int(demonstrations["calls"])
    assert (
        after["calls_by_tier"]["community-only"]
        == before["calls_by_tier"]["community-only"] + moved
    )
    assert after["calls_by_tier"]["not-assessed"] == before["calls_by_tier"]["not-assessed"] - moved


def test_a_broken_city_file_is_named_and_nothing_is_written(
    normalised: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "tiers.csv"
    broken.write_text("category,tier\nBehavioral Health,sometimes\n", encoding="utf-8")
    out = tmp_path / "types.csv"
    code = main(
        [
            "safety",
            "call-types",
            str(normalised),
            "--out",
            str(out),
            "--category-tiers",
            str(broken),
        ]
    )
    assert code == 1
    assert "tiers.csv" in capsys.readouterr().err
    assert not out.exists()
    analysed = tmp_path / "out"
    args = ["safety", "analyze", str(normalised), "--out", str(analysed)]
    assert main([*args, "--category-tiers", str(broken)]) == 1
    assert not (analysed / "summary.json").exists()
