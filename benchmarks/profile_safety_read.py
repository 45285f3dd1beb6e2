"""Profile: where the CPU of ingest's one read of a CSV goes, operator by operator (issue 5).

    .venv/bin/python benchmarks/profile_safety_read.py               # 2,000,000 calls
    .venv/bin/python benchmarks/profile_safety_read.py --rows 10000000

The read (`ingest`'s ``CREATE TABLE records AS ...``: the CSV read as text, trimmed, null
values found, times and coordinates parsed, rows checked, text looked up in ENUMs, the kept
columns written to DuckDB's working table) is most of `csas safety run`'s time. This runs
`ingest` on the benchmark's synthetic CSV (the same cached file as
``bench_safety_pipeline.py``) with DuckDB's JSON profiling switched on for that one statement,
and prints each operator's time (CPU summed over DuckDB's threads, so the total exceeds the
wall time on two cores) beside the issue's floor (reading the CSV and grouping it by call
type), its CPU the same way. Ratios only mean something within one run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_safety_pipeline import synthetic_csv

import csas.analysis.safety.ingest as ingest_module

#: What each projection of the read does, recognised by the columns it adds to its input's.
LAYERS = (
    ("e_", "text looked up in the ENUMs"),
    ("code", "row checks (the reject code)"),
    ("t_", "local times to UTC, coordinates checked"),
    ("l_", "times and coordinates parsed"),
    ("x_num", "times and coordinates parsed"),
    ("o_", "ISO 8601 offset test"),
    ("r_", "null values found"),
    ("k_", "null values found"),
    ("u_", "trim (only values that may need it go through trim())"),
)


def _label(node: dict[str, Any]) -> str:
    kind = str(node.get("name", "?"))
    info = node.get("extra_info", {})
    if info.get("Function") == "READ_CSV":
        return "CSV reader (every column as text)"
    if "CREATE_TABLE_AS" in kind:
        return "working table written"
    if kind != "PROJECTION":
        return kind
    made = [str(p) for p in info.get("Projections", [])]
    if made and made[0] == "code":
        return "kept columns, hash, detail"
    below = set()
    for child in node.get("children", []):
        below |= {str(p) for p in child.get("extra_info", {}).get("Projections", [])}
    added = [p for p in made if p not in below]
    if any(p.startswith("strlen(") for p in added):
        return "null values found (lengths)"
    for prefix, label in LAYERS:
        if any(p.startswith(prefix) for p in added):
            return label
    return "coordinates (shared tests)"


def _operators(node: dict[str, Any], found: list[tuple[str, float]]) -> None:
    if "name" in node and node.get("timing") is not None:
        found.append((_label(node), float(node["timing"])))
    for child in node.get("children", []):
        _operators(child, found)


def _profiled(con: duckdb.DuckDBPyConnection, run: Any, output: Path) -> list[tuple[str, float]]:
    con.execute("PRAGMA enable_profiling = 'json'")
    con.execute(f"PRAGMA profiling_output = '{output}'")
    try:
        run()
    finally:
        con.execute("PRAGMA disable_profiling")
    found: list[tuple[str, float]] = []
    for root in json.loads(output.read_text())["operator"]:
        _operators(root, found)
    return [(label, seconds) for label, seconds in found if label != "RESULT_COLLECTOR"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "csas-bench"
    )
    args = parser.parse_args()
    csv_path, written = synthetic_csv(args.rows, args.cache_dir)
    print(f"input: {csv_path} ({args.rows:,} rows{', written now' if written else ''})")

    with tempfile.TemporaryDirectory(prefix="csas-profile-") as work:
        folder = Path(work)
        with duckdb.connect(config={"memory_limit": "2GB"}) as con:
            con.execute("SET enable_progress_bar = false")
            started = time.perf_counter()
            floor = _profiled(
                con,
                lambda: con.execute(
                    "SELECT initial_call_type, count(*) FROM read_csv($path, header = true) "
                    "GROUP BY 1",
                    {"path": str(csv_path)},
                ).fetchall(),
                folder / "floor.json",
            )
            floor_wall = time.perf_counter() - started

        read: list[tuple[str, float]] = []
        wall: list[float] = []
        real_execute = ingest_module._execute

        def execute(con: Any, sql: str, params: Any = None) -> Any:
            if not sql.startswith("CREATE TABLE records AS"):
                return real_execute(con, sql, params)
            result: list[Any] = []
            began = time.perf_counter()
            read.extend(
                _profiled(
                    con,
                    lambda: result.append(real_execute(con, sql, params)),
                    folder / "read.json",
                )
            )
            wall.append(time.perf_counter() - began)
            return result[0]

        ingest_module._execute = execute
        try:
            ingest_module.ingest(
                csv_path,
                profile="tacoma-synthetic",
                output=folder / "calls.parquet",
                temp_directory=folder,
            )
        finally:
            ingest_module._execute = real_execute

    floor_cpu = sum(seconds for _, seconds in floor)
    read_cpu = sum(seconds for _, seconds in read)
    print(f"floor: {floor_wall:.2f} s wall, {floor_cpu:.2f} s of operator time")
    print(
        f"read:  {wall[0]:.2f} s wall ({wall[0] / floor_wall:.1f}x the floor), "
        f"{read_cpu:.2f} s of operator time ({read_cpu / floor_cpu:.1f}x the floor's)"
    )
    for label, seconds in read:
        print(f"  {seconds:7.2f} s  {seconds / read_cpu:5.1%}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
