"""Benchmark: the safety pipeline end to end (issue 5), against a floor and an analyst's baseline.

    .venv/bin/python benchmarks/bench_safety_pipeline.py                # 10,000,000 calls
    .venv/bin/python benchmarks/bench_safety_pipeline.py --quick        # 200,000 calls
    .venv/bin/python benchmarks/bench_safety_pipeline.py --rows 1000000 --baseline-rows 0

Writes N synthetic calls with `csas.analysis.safety.synthetic.generate_calls` (seed 1, year
2024, the CSV that the ``tacoma-synthetic`` profile reads), or reuses the file of an earlier
run from the cache folder (``--cache-dir``, default ``/tmp/csas-bench``; never committed), then
times, in the same run:

* floor: DuckDB alone reading the CSV and grouping it by call type (the issue's floor; it
  reads one column), before and after the csas run, the faster of the two counting;
* csas: `run` (what ``csas safety run`` does: ingest the CSV, then geography, rates,
  response times with bootstrap intervals, eligibility, time-of-day profile, Gi* hot spots,
  files written, in one fresh process with the normalised rows kept in DuckDB's memory):
  the headline figure; then, unless ``--skip-two-step``, `ingest` (CSV -> normalised
  Parquet) and `analyze` each in its own fresh process, as the two CLI commands run. Both
  with the library's defaults (``--n-boot`` and ``--permutations`` change them; say so when
  quoting a figure); time measured inside the processes (imports left out; the process
  times with imports are printed too), with each process's peak resident memory;
* baseline: `baseline_pandas_geopandas.run_baseline`, the pandas + geopandas ``sjoin``
  pipeline an analyst would write, in a fresh process. By default it reads the first
  1,000,000 rows only when N is larger, and its time is scaled linearly to N (printed as
  "scaled"): at 10 million rows it would hold every column of every row as pandas objects.
  ``--baseline-rows 0`` runs it on all N rows. When scaled, only the steps whose work grows
  with the calls are multiplied (populations and Gi* on 169 block groups count once); the
  plain linear figure is printed too. Skipped, with a message, without geopandas.

Prints seconds, rows/s, csas / floor, baseline / csas and peak memory, plus the csas steps.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline_pandas_geopandas import geopandas_available, run_baseline

DEFAULT_ROWS = 10_000_000
QUICK_ROWS = 200_000
#: Baseline steps whose work does not grow with the number of calls (not scaled).
FIXED_BASELINE_STEPS = frozenset({"populations", "hot spots"})
SEED = 1
YEAR = 2024


def synthetic_csv(rows: int, cache_dir: Path) -> tuple[Path, float | None]:
    """The cached synthetic CSV of `rows` calls, written first if missing: (path, seconds)."""
    from csas.analysis.safety.synthetic import generate_calls

    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"calls_{rows}_seed{SEED}_{YEAR}.csv"
    if path.is_file():
        return path, None
    started = time.perf_counter()
    generate_calls(rows, seed=SEED, year=YEAR, out_path=path)
    return path, time.perf_counter() - started


def floor(path: Path) -> float:
    """The issue's floor: DuckDB reading the CSV and grouping it by call type."""
    with duckdb.connect(config={"memory_limit": "2GB"}) as con:
        con.execute("SET enable_progress_bar = false")
        started = time.perf_counter()
        con.execute(
            "SELECT initial_call_type, count(*) FROM read_csv($path, header = true) GROUP BY 1",
            {"path": str(path)},
        ).fetchall()
        return time.perf_counter() - started


def floor_every_column(path: Path) -> float:
    """Not the issue's floor, for context: DuckDB alone reading every column of the CSV as
    text and parsing the four times and two coordinates (counting what parses)."""
    with duckdb.connect(config={"memory_limit": "2GB"}) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET TimeZone = 'UTC'")
        times = ("received_at", "dispatched_at", "arrived_at", "cleared_at")
        parsed = [f"count(try_cast({c} AS TIMESTAMPTZ))" for c in times]
        parsed += [f"count(try_cast({c} AS DOUBLE))" for c in ("longitude", "latitude")]
        text = (
            "synthetic",
            "event_id",
            "initial_call_type",
            "final_call_type",
            "priority",
            "disposition",
            "call_source",
        )
        counted = [f"count(DISTINCT {c})" if c != "event_id" else f"count({c})" for c in text]
        started = time.perf_counter()
        con.execute(
            f"SELECT {', '.join(parsed + counted)} "  # noqa: S608 (the script's own names)
            "FROM read_csv($path, header = true, all_varchar = true)",
            {"path": str(path)},
        ).fetchall()
        return time.perf_counter() - started


def _peak_mb() -> float:
    """This process's peak resident memory in MiB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_ingest(csv_path: Path, work: Path) -> dict[str, Any]:
    """Run in a fresh process: `ingest`, with the time of each step."""
    from csas.analysis.safety.ingest import ingest

    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    ingest(
        csv_path,
        profile="tacoma-synthetic",
        output=work / "calls.parquet",
        temp_directory=work,
        progress=lambda step: marks.append((f"ingest: {step}", time.perf_counter())),
    )
    return _timed(started, marks) | {"parquet_mb": (work / "calls.parquet").stat().st_size / 1e6}


def _analysis_options(n_boot: int | None, permutations: int | None) -> dict[str, Any]:
    """The analysis options given on the command line (none: the library's defaults)."""
    given = {"n_boot": n_boot, "permutations": permutations}
    return {name: value for name, value in given.items() if value is not None}


def child_analyze(work: Path, n_boot: int | None, permutations: int | None) -> dict[str, Any]:
    """Run in a fresh process: `analyze` with the library's defaults (or the options given)."""
    from csas.analysis.safety.pipeline import analyze

    options = _analysis_options(n_boot, permutations)
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    result = analyze(
        work / "calls.parquet",
        out_dir=work / "out",
        progress=lambda step: marks.append((f"analyze: {step}", time.perf_counter())),
        **options,
    )
    return _timed(started, marks) | {"calls": result.calls}


def child_run(
    csv_path: Path, work: Path, n_boot: int | None, permutations: int | None
) -> dict[str, Any]:
    """Run in a fresh process: `run` (ingest and analyze in one, no Parquet between)."""
    from csas.analysis.safety.pipeline import run

    options = _analysis_options(n_boot, permutations)
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    result = run(
        csv_path,
        profile="tacoma-synthetic",
        out_dir=work / "out-run",
        temp_directory=work,
        progress=lambda step: marks.append((f"run: {step}", time.perf_counter())),
        **options,
    )
    return _timed(started, marks) | {"calls": result.analysis.calls}


def _timed(started: float, marks: list[tuple[str, float]]) -> dict[str, Any]:
    finished = time.perf_counter()
    marks.append(("", finished))
    steps = {name: t1 - t0 for (name, t0), (_, t1) in itertools.pairwise(marks)}
    return {"seconds": finished - started, "steps": steps, "peak_mb": _peak_mb()}


def child_baseline(csv_path: Path, nrows: int | None, permutations: int) -> dict[str, Any]:
    """Run in a fresh process: the pandas + geopandas baseline."""
    import warnings

    warnings.simplefilter("ignore")  # geopandas' overlay warns about dropped line pieces
    result = run_baseline(csv_path, nrows=nrows, permutations=permutations)
    result["peak_mb"] = _peak_mb()
    return result


def in_child(kind: str, **kwargs: Any) -> tuple[dict[str, Any], float]:
    """Run `child_<kind>` in a fresh Python; return its JSON result and the process's wall time."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (this script, with arguments it built)
        [sys.executable, __file__, "--child", kind, json.dumps(kwargs)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "csas-bench"
    )
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=1_000_000,
        help="rows the baseline reads when fewer than --rows (then scaled); 0: all rows",
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--skip-two-step", action="store_true", help="time `run` only, not ingest then analyze"
    )
    parser.add_argument("--n-boot", type=int, default=None, help="default: analyze's (200)")
    parser.add_argument("--permutations", type=int, default=None, help="default: analyze's (9999)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, raw = args.child
        kwargs = json.loads(raw)
        if kind == "ingest":
            out = child_ingest(Path(kwargs["csv_path"]), Path(kwargs["work"]))
        elif kind == "analyze":
            out = child_analyze(Path(kwargs["work"]), kwargs["n_boot"], kwargs["permutations"])
        elif kind == "run":
            out = child_run(
                Path(kwargs["csv_path"]),
                Path(kwargs["work"]),
                kwargs["n_boot"],
                kwargs["permutations"],
            )
        else:
            out = child_baseline(Path(kwargs["csv_path"]), kwargs["nrows"], kwargs["permutations"])
        print(json.dumps(out))
        return 0

    rows = QUICK_ROWS if args.quick else args.rows
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"DuckDB {duckdb.__version__}"
    )
    print(f"before: {load()}")
    csv_path, wrote = synthetic_csv(rows, args.cache_dir)
    size_mb = csv_path.stat().st_size / 1e6
    how = f"written in {wrote:.1f} s" if wrote is not None else "cached"
    print(f"input: {csv_path} ({rows:,} rows, {size_mb:,.0f} MB, {how})")

    floors = [floor(csv_path)]
    analysis = {"n_boot": args.n_boot, "permutations": args.permutations}
    with tempfile.TemporaryDirectory(prefix="csas-bench-pipeline-", dir=args.cache_dir) as folder:
        # `csas safety run`: one process, the normalised rows kept in memory.
        ran, run_wall = in_child("run", csv_path=str(csv_path), work=folder, **analysis)
        # As `csas safety ingest` and `csas safety analyze` run: one process each.
        ingested, ingest_wall = None, 0.0
        if not args.skip_two_step:
            ingested, ingest_wall = in_child("ingest", csv_path=str(csv_path), work=folder)
            analysed, analyze_wall = in_child("analyze", work=folder, **analysis)
    floors.append(floor(csv_path))
    floor_s = min(floors)
    every_s = floor_every_column(csv_path)
    csas_s = ran["seconds"]
    print(
        f"floor  DuckDB read_csv + GROUP BY call type: {floor_s:8.2f} s  "
        f"(runs: {', '.join(f'{f:.2f}' for f in floors)})"
    )
    print(
        f"(context, not the floor: DuckDB reading all 13 columns, parsing 4 times and 2 "
        f"coordinates, counting: {every_s:.2f} s; csas run is {csas_s / every_s:.1f}x that)"
    )
    print(
        f"csas   run (ingest + analyze, one process): {csas_s:8.2f} s  "
        f"{csas_s / floor_s:6.1f}x the floor  peak RSS {ran['peak_mb']:,.0f} MiB "
        f"(process {run_wall:.1f} s with imports)"
    )
    for name, seconds in ran["steps"].items():
        print(f"         {name:<28} {seconds:8.2f} s")
    if ingested is not None:
        two_step = ingested["seconds"] + analysed["seconds"]
        print(
            f"csas   ingest, then analyze (two processes, Parquet between): {two_step:.2f} s "
            f"{two_step / floor_s:.1f}x the floor  peak RSS ingest "
            f"{ingested['peak_mb']:,.0f}, analyze {analysed['peak_mb']:,.0f} MiB"
        )
        print(
            f"         ingest {ingested['seconds']:.2f} s, analyze {analysed['seconds']:.2f} s "
            f"(processes {ingest_wall:.1f} + {analyze_wall:.1f} s with imports); "
            f"Parquet {ingested['parquet_mb']:.0f} MB"
        )
        for name, seconds in (ingested["steps"] | analysed["steps"]).items():
            print(f"         {name:<28} {seconds:8.2f} s")
    options = []
    if args.n_boot is not None:
        options.append(f"n_boot={args.n_boot}")
    if args.permutations is not None:
        options.append(f"permutations={args.permutations}")
    print(f"         analyze options: {', '.join(options) or 'library defaults'}")

    if args.skip_baseline:
        print("baseline: skipped (--skip-baseline)")
    elif not geopandas_available():
        print("baseline: SKIPPED: geopandas (and esda) are not installed; pip install geopandas")
    else:
        nrows = (
            None if args.baseline_rows <= 0 or args.baseline_rows >= rows else args.baseline_rows
        )
        base, _ = in_child(
            "baseline",
            csv_path=str(csv_path),
            nrows=nrows,
            permutations=9999 if args.permutations is None else args.permutations,
        )
        # Steps whose work grows with the calls are scaled to N; reading the four layers,
        # moving populations and Gi* on 169 block groups do not grow, and count once.
        scale = rows / base["rows"]
        steps = {
            name: seconds * (1.0 if name in FIXED_BASELINE_STEPS else scale)
            for name, seconds in base["steps"].items()
        }
        base_s = sum(steps.values())
        label = (
            f"SCALED from {base['rows']:,} rows ({base['seconds']:.2f} s; per-call steps "
            f"x{scale:.2f}, fixed steps as measured; all steps x{scale:.2f}: "
            f"{base['seconds'] * scale:.2f} s)"
            if nrows
            else "all rows"
        )
        print(
            f"base   pandas + geopandas sjoin:            {base_s:8.2f} s  {label}; "
            f"peak RSS {base['peak_mb']:,.0f} MiB at {base['rows']:,} rows"
        )
        for name, seconds in steps.items():
            print(f"         {name:<28} {seconds:8.2f} s")
        print(f"speed-up over the baseline: {base_s / csas_s:.2f}x (run)", end="")
        if ingested is not None:
            print(f", {base_s / two_step:.2f}x (ingest, then analyze)", end="")
        print()
    print(f"after: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
