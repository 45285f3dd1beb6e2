from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from csas.cli import build_parser

CSAS = [sys.executable, "-m", "csas.cli"]


def _csas(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CSAS_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [*CSAS, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_cli_offers_the_documented_verbs() -> None:
    parser = build_parser()
    for verb in ["demo", "serve", "createadmin", "load-strategy", "check", "manage"]:
        assert parser.parse_args([verb, "x"] if verb == "load-strategy" else [verb]).verb == verb


def test_load_strategy_reports_a_bad_file_and_exits_nonzero(tmp_path: Path) -> None:
    bad = tmp_path / "city.yaml"
    bad.write_text("schema_version: 1\ncity: {slug: Bad Slug, name: X}\nstrategy: {}\n")
    assert _csas(tmp_path, "manage", "migrate", "-v", "0").returncode == 0
    result = _csas(tmp_path, "load-strategy", str(bad))
    assert result.returncode == 1
    assert "Nothing was loaded." in result.stderr
    assert "city.yaml: city.slug: 'Bad Slug' does not have the expected form" in result.stderr
    assert "city.yaml: (top level): 'versions' is a required property" in result.stderr


@pytest.mark.parametrize("verb", ["check"])
def test_check_tells_when_migrations_are_missing(tmp_path: Path, verb: str) -> None:
    result = _csas(tmp_path, verb)
    assert result.returncode == 1
    assert "unapplied migrations" in result.stderr
    assert _csas(tmp_path, "manage", "migrate", "-v", "0").returncode == 0
    result = _csas(tmp_path, verb)
    assert result.returncode == 0, result.stderr
    assert "in order" in result.stdout


def test_insight_code_writes_goals_and_confidence_for_every_row(tmp_path: Path) -> None:
    import csv

    source = tmp_path / "comments.csv"
    source.write_text(
        "id,comment\n"
        "1,The streetlights on our block are broken and it is dark at night\n"
        "2,We need mental health crisis responders instead of police for these calls\n"
        "3,\n",
        encoding="utf-8-sig",
    )
    output = tmp_path / "coded.csv"
    result = _csas(
        tmp_path,
        "insight",
        "code",
        "--input",
        str(source),
        "--text-column",
        "comment",
        "--output",
        str(output),
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert [row["id"] for row in rows] == ["1", "2", "3"]
    assert "PLACES" in rows[0]["goals"].split("|")
    assert "RESPONSE" in rows[1]["goals"].split("|")
    assert rows[2]["goals"] == ""
    assert rows[2]["confidence"] == ""
    assert 0.5 <= float(rows[0]["confidence"]) <= 1


def test_insight_code_names_a_missing_column(tmp_path: Path) -> None:
    source = tmp_path / "comments.csv"
    source.write_text("id,text\n1,hello\n", encoding="utf-8")
    result = _csas(
        tmp_path,
        "insight",
        "code",
        "--input",
        str(source),
        "--text-column",
        "comment",
        "--output",
        str(tmp_path / "out.csv"),
    )
    assert result.returncode == 1
    assert "comment" in result.stderr
    assert "text" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_safety_ingest_accounts_for_every_row_and_writes_a_report(tmp_path: Path) -> None:
    import json

    fixture = Path(__file__).parent / "analysis" / "safety" / "fixtures" / "spd_calls.csv"
    output = tmp_path / "calls.parquet"
    report = tmp_path / "report.json"
    result = _csas(
        tmp_path,
        "safety",
        "ingest",
        str(fixture),
        "--profile",
        "seattle-spd",
        "--output",
        str(output),
        "--report",
        str(report),
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["input_rows"] == data["kept_rows"] + data["rejected_rows"] + data["duplicate_rows"]
    assert output.exists()
    assert f"{data['input_rows']} rows read" in result.stderr


def test_safety_ingest_refuses_an_unknown_profile(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "analysis" / "safety" / "fixtures" / "spd_calls.csv"
    result = _csas(
        tmp_path,
        "safety",
        "ingest",
        str(fixture),
        "--profile",
        "portland",
        "--output",
        str(tmp_path / "x.parquet"),
    )
    assert result.returncode == 1
    assert "seattle-spd" in result.stderr
    assert not (tmp_path / "x.parquet").exists()
