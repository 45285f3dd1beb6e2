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
    assert f"{data['input_rows']:,} rows read" in result.stderr


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


def test_the_cli_offers_the_safety_data_lab_verbs() -> None:
    parser = build_parser()
    synth = parser.parse_args(
        ["safety", "synth", "--rows", "5", "--seed", "1", "--year", "2024", "x.csv"]
    )
    assert (synth.safety_verb, synth.rows, synth.seed, synth.year, synth.output) == (
        "synth",
        5,
        1,
        2024,
        "x.csv",
    )
    analyze = parser.parse_args(["safety", "analyze", "calls.parquet", "--out", "out"])
    assert (analyze.safety_verb, analyze.input, analyze.out, analyze.threshold) == (
        "analyze",
        "calls.parquet",
        "out",
        10,
    )
    assert parser.parse_args(["safety", "report", "out"]).folder == "out"


def test_safety_synth_ingest_analyze_report_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv
    import json

    from csas.cli import main

    calls, normalised, out = tmp_path / "calls.csv", tmp_path / "calls.parquet", tmp_path / "out"
    synth = ["safety", "synth", "--rows", "20000", "--seed", "5", "--year", "2024", str(calls)]
    assert main(synth) == 0
    assert "20,000 SYNTHETIC calls" in capsys.readouterr().err
    ingest = ["safety", "ingest", str(calls), "--profile", "tacoma-synthetic"]
    assert main([*ingest, "--output", str(normalised)]) == 0
    assert "20,000 rows read: 20,000 kept" in capsys.readouterr().err
    analyze = ["safety", "analyze", str(normalised), "--out", str(out)]
    assert main([*analyze, "--permutations", "999", "--n-boot", "50"]) == 0
    assert "(SYNTHETIC input)" in capsys.readouterr().err
    assert main(["safety", "report", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "SYNTHETIC DATA" in printed
    assert "Share of calls eligible for an alternative response" in printed
    assert (out / "report.md").read_text(encoding="utf-8").count("SYNTHETIC DATA") == 1
    assert (out / "report.html").is_file()
    # Aggregates only: every published count is 10 or more.
    for path in out.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                for column in {"count", "n"} & set(row):
                    assert row[column] == "" or int(row[column]) >= 10, (path.name, row)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"]["calls"] == 20000
    public = summary["eligibility"]["public"]
    assert 0 < public["share_after_screening"] <= public["share_by_type"] < 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["safety", "analyze", "{tmp}/nope.parquet", "--out", "{tmp}/out"],
            "nope.parquet: no such file",
        ),
        (["safety", "report", "{tmp}"], "no summary.json"),
        (
            ["safety", "synth", "--rows", "-1", "--seed", "1", "--year", "2024", "{tmp}/x.csv"],
            "n (rows)",
        ),
        (
            ["safety", "synth", "--rows", "5", "--seed", "1", "--year", "2024", "{tmp}/no/x.csv"],
            "no such folder",
        ),
        (
            ["safety", "ingest", "{fixture}", "--profile", "seattle-spd", "--output", "{tmp}"],
            "is a folder; give a file name",
        ),
        (
            [
                "safety",
                "ingest",
                "{fixture}",
                "--profile",
                "seattle-spd",
                "--output",
                "{tmp}/x.parquet",
                "--report",
                "{tmp}/no/r.json",
            ],
            "/no does not exist",
        ),
        (
            ["safety", "call-types", "{fixture}", "--out", "{tmp}/types.csv"],
            "not a Parquet file",
        ),
        (["safety", "call-types", "{fixture}", "--out", "{tmp}/no/t.csv"], "/no does not exist"),
        (
            [
                "safety",
                "run",
                "{fixture}",
                "--profile",
                "seattle-spd",
                "--out",
                "{tmp}/out",
                "--permutations",
                "0",
            ],
            "permutations must be a positive whole number",
        ),
    ],
)
def test_safety_commands_explain_bad_input_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    from csas.cli import main

    fixture = Path(__file__).parent / "analysis" / "safety" / "fixtures" / "spd_calls.csv"
    filled = [
        a.replace("{tmp}", str(tmp_path)).replace("{fixture}", str(fixture)) for a in arguments
    ]
    assert main(filled) == 1
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error
    assert "LINE 1" not in error  # no SQL
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "x.parquet").exists()  # refused before anything was read


def test_safety_ingest_shows_the_reports_warnings_and_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from csas.cli import main

    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    command = ["safety", "ingest", str(empty), "--profile", "seattle-spd"]
    assert main([*command, "--output", str(tmp_path / "e.parquet")]) == 0
    error = capsys.readouterr().err
    assert "0 rows read" in error
    assert "Warning:" in error
    assert "empty" in error
    # Every row's coordinates swapped: the terminal says so.
    fixture = Path(__file__).parent / "analysis" / "safety" / "fixtures" / "spd_calls.csv"
    lines = fixture.read_text(encoding="utf-8").splitlines()
    swapped = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if len(cells) == 13 and cells[-1] and cells[-2]:
            cells[-1], cells[-2] = cells[-2], cells[-1]
        swapped.append(",".join(cells))
    source = tmp_path / "swapped.csv"
    source.write_text("\n".join(swapped) + "\n", encoding="utf-8")
    command = ["safety", "ingest", str(source), "--profile", "seattle-spd"]
    assert main([*command, "--output", str(tmp_path / "s.parquet")]) == 0
    error = capsys.readouterr().err
    assert "kept, longitude and latitude swapped back: " in error


def test_safety_analyze_warns_when_no_call_lies_on_tacomas_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from csas.cli import main

    fixture = Path(__file__).parent / "analysis" / "safety" / "fixtures" / "spd_calls.csv"
    command = ["safety", "run", str(fixture), "--profile", "seattle-spd", "--out"]
    assert main([*command, str(tmp_path / "out"), "--n-boot", "5", "--threshold", "10"]) == 0
    assert "no call (or fewer than the threshold) lies in one of Tacoma's block groups" in (
        capsys.readouterr().err
    )


def test_safety_run_ingests_and_analyses_in_one_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from csas.cli import main

    calls, out = tmp_path / "calls.csv", tmp_path / "out"
    synth = ["safety", "synth", "--rows", "5000", "--seed", "3", "--year", "2024", str(calls)]
    assert main([*synth, "--bad-rows", "0.05"]) == 0
    capsys.readouterr()
    command = ["safety", "run", str(calls), "--profile", "tacoma-synthetic", "--out", str(out)]
    extra = ["--report", str(tmp_path / "report.json"), "--n-boot", "20", "--permutations", "99"]
    assert main([*command, *extra]) == 0
    error = capsys.readouterr().err
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["output_path"] is None
    kept, rejected = report["kept_rows"], report["rejected_rows"]
    assert f"5,000 rows read: {kept:,} kept, {rejected:,} rejected" in error
    # Each reason with its first row, so the terminal says what to look at.
    first = report["samples"][0]
    assert f"rejected, {first['reason']}: " in error
    assert f"(first: row {first['row_number']:,}" in error
    assert f"Analysed {report['kept_rows']:,} calls (SYNTHETIC input)" in error
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"]["file"] == "calls.csv"
    assert summary["parameters"]["n_boot"] == 20
    # No normalised file unless asked for; with --normalised, there it is.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv", "out", "report.json"]
    assert main([*command, "--normalised", str(tmp_path / "calls.parquet")]) == 0
    assert f"-> {tmp_path / 'calls.parquet'}" in capsys.readouterr().err
    assert (tmp_path / "calls.parquet").is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["{tmp}/nope.csv", "--profile", "seattle-spd"], "nope.csv: no such file"),
        (["{fixture}", "--profile", "portland"], "seattle-spd"),
        (["{fixture}", "--profile", "seattle-spd", "--n-boot", "0"], "n_boot must be"),
        (["{fixture}", "--profile", "seattle-spd", "--memory-limit", "2XB"], "memory_limit '2XB'"),
    ],
)
def test_safety_run_explains_bad_input_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    from csas.cli import main

    fixture = Path(__file__).parent / "analysis" / "safety" / "fixtures" / "spd_calls.csv"
    filled = [
        a.replace("{tmp}", str(tmp_path)).replace("{fixture}", str(fixture)) for a in arguments
    ]
    assert main(["safety", "run", *filled, "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error
    assert not (tmp_path / "out").exists()


def _answers(port: int) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=1):
            pass
    except urllib.error.HTTPError:
        return True  # an answer all the same
    except OSError:
        return False
    return True


def test_a_stop_signal_to_serve_stops_the_web_server_too(tmp_path: Path) -> None:
    import signal
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CSAS_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [*CSAS, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert server.poll() is None, "the server stopped by itself"
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.5)
        server.send_signal(signal.SIGTERM)  # what a service manager or `kill` sends
        server.wait(timeout=30)
        deadline = time.monotonic() + 10
        while _answers(port) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _answers(port), "a web server outlived the csas process"
    finally:
        if server.poll() is None:
            server.kill()
