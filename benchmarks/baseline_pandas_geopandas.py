"""Baseline for the safety pipeline benchmark: what a city analyst writes with pandas + geopandas.

    .venv/bin/python benchmarks/baseline_pandas_geopandas.py CALLS.csv [--nrows 1000000]

Reads the synthetic calls CSV that `csas safety synth` writes and computes, the
straightforward way, the same families of figures `csas safety analyze` publishes:

1. ``pd.read_csv``, the three times parsed with ``pd.to_datetime(format="ISO8601", utc=True)``,
   coordinates made numeric, points with ``gpd.points_from_xy`` (EPSG:4326, the layers' CRS);
2. ``gpd.sjoin(predicate="within")`` of the points with the block groups and the three
   district layers (first match kept where areas overlap on a boundary);
3. district populations by areal interpolation of block-group populations
   (``gpd.overlay`` in Washington State Plane South);
4. calls per district and local month, rate per 1,000 residents with an exact Poisson
   interval (``scipy.stats.chi2``);
5. median and 90th percentile minutes to dispatch and arrival by priority and council
   district for calls not started by an officer (no bootstrap intervals: csas adds those);
6. the share of public calls eligible by type, joining the call-type crosswalk and the
   category tiers that csas ships (no screening rules: csas adds those);
7. Getis-Ord Gi* of calls per block group with esda (queen contiguity, binary weights,
   9,999 permutations).

No suppression and no files written: the baseline is the arithmetic only. It needs geopandas
(not a csas dependency); `geopandas_available()` says whether it can run.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path
from typing import Any

TACOMA_GEO = Path(__file__).resolve().parents[1] / "src" / "csas" / "data" / "geo" / "tacoma"
SAFETY_DATA = Path(__file__).resolve().parents[1] / "src" / "csas" / "data" / "safety"
LAYERS = {
    "block_group": ("Equity_Index_2024.geojson", "geoid20"),
    "council_district": ("City_Council_Districts.geojson", "district"),
    "neighborhood_council": ("Neighborhood_Council_Districts.geojson", "name"),
    "police_district": ("Police_Districts.geojson", "sector_district"),
}
OFFICER_SOURCES = ["ONVIEW", "PROACTIVE (OFFICER INITIATED)"]
ELIGIBLE_TIERS = ["community-only", "community-led"]


def geopandas_available() -> bool:
    """Whether geopandas (and esda, for Gi*) can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("geopandas", "esda"))


def run_baseline(
    csv_path: str | Path, *, nrows: int | None = None, permutations: int = 9999
) -> dict[str, Any]:
    """Run the analyst's pipeline on `csv_path` (its first `nrows` rows); return step timings."""
    import esda
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from libpysal.weights import Queen
    from scipy import stats

    timings: dict[str, float] = {}
    started = last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        timings[name] = now - last
        last = now

    # 1. Read and parse.
    calls = pd.read_csv(csv_path, nrows=nrows, low_memory=False)
    for column in ("received_at", "dispatched_at", "arrived_at"):
        calls[column] = pd.to_datetime(calls[column], format="ISO8601", utc=True, errors="coerce")
    calls["longitude"] = pd.to_numeric(calls["longitude"], errors="coerce")
    calls["latitude"] = pd.to_numeric(calls["latitude"], errors="coerce")
    lap("read and parse")
    points = gpd.GeoDataFrame(
        calls, geometry=gpd.points_from_xy(calls["longitude"], calls["latitude"]), crs="EPSG:4326"
    )
    lap("points")

    # 2. Spatial joins.
    layers = {}
    for key, (file, code) in LAYERS.items():
        layer = gpd.read_file(TACOMA_GEO / file)
        if layer.crs is not None and layer.crs != points.crs:
            layer = layer.to_crs(points.crs)
        layers[key] = layer
        joined = gpd.sjoin(
            points[["geometry"]], layer[[code, "geometry"]], how="left", predicate="within"
        )
        joined = joined[~joined.index.duplicated(keep="first")]
        points[key] = joined[code].astype("string")
    lap("spatial joins")

    # 3. Populations: block groups' residents moved to districts by area.
    projected = {key: layer.to_crs("EPSG:2927") for key, layer in layers.items()}
    block_groups = projected["block_group"][["geoid20", "population", "geometry"]].copy()
    block_groups["bg_area"] = block_groups.geometry.area
    populations = {}
    for key in ("council_district", "neighborhood_council", "police_district"):
        code = LAYERS[key][1]
        pieces = gpd.overlay(block_groups, projected[key][[code, "geometry"]], how="intersection")
        pieces["moved"] = pieces["population"].fillna(0) * pieces.geometry.area / pieces["bg_area"]
        populations[key] = pieces.groupby(code)["moved"].sum()
    lap("populations")

    # 4. Rates by district and local month.
    month = points["received_at"].dt.tz_convert("America/Los_Angeles").dt.strftime("%Y-%m")
    rates = {}
    for key in ("council_district", "neighborhood_council", "police_district"):
        counts = points.groupby([points[key], month]).size().rename("count").reset_index()
        counts["population"] = counts[key].map(populations[key].rename(index=str))
        k = counts["count"].to_numpy()
        low = np.where(k > 0, stats.chi2.ppf(0.025, 2 * k) / 2, 0.0)
        high = stats.chi2.ppf(0.975, 2 * (k + 1)) / 2
        counts["rate"] = 1000 * k / counts["population"]
        counts["rate_low"] = 1000 * low / counts["population"]
        counts["rate_high"] = 1000 * high / counts["population"]
        rates[key] = counts
    lap("rates")

    # 5. Response times of calls not started by an officer.
    public = points[~points["call_source"].isin(OFFICER_SOURCES)]
    response = {}
    for end in ("dispatched_at", "arrived_at"):
        minutes = (public[end] - public["received_at"]).dt.total_seconds() / 60
        frame = pd.DataFrame(
            {
                "priority": public["priority"],
                "district": public["council_district"],
                "minutes": minutes,
            }
        )
        frame = frame[frame["minutes"] >= 0]
        response[end] = frame.groupby(["priority", "district"], dropna=False)["minutes"].agg(
            median="median", p90=lambda m: m.quantile(0.9), n="size"
        )
    lap("response times")

    # 6. Share of public calls eligible by type.
    crosswalk = pd.read_csv(
        SAFETY_DATA / "call_type_crosswalk.csv", usecols=["call_type", "category"]
    )
    crosswalk["key"] = (
        crosswalk["call_type"].str.upper().str.replace(r"[^A-Z0-9]+", " ", regex=True).str.strip()
    )
    tiers = pd.read_csv(SAFETY_DATA / "category_tiers.csv", usecols=["category", "tier"])
    lookup = crosswalk.drop_duplicates("key").merge(tiers, on="category", how="left")[
        ["key", "tier"]
    ]
    types = pd.DataFrame({"call_type": public["initial_call_type"].dropna().unique()})
    types["key"] = (
        types["call_type"].str.upper().str.replace(r"[^A-Z0-9]+", " ", regex=True).str.strip()
    )
    types = types.merge(lookup, on="key", how="left")
    tiered = public[["initial_call_type"]].merge(
        types[["call_type", "tier"]], left_on="initial_call_type", right_on="call_type", how="left"
    )
    eligible_share = float(tiered["tier"].isin(ELIGIBLE_TIERS).mean())
    lap("eligibility")

    # 7. Gi* hot spots of calls per block group.
    bg = layers["block_group"][["geoid20", "geometry"]].copy()
    bg["calls"] = bg["geoid20"].map(points["block_group"].value_counts()).fillna(0).to_numpy()
    weights = Queen.from_dataframe(bg, use_index=False)
    weights.transform = "B"
    hot = esda.G_Local(
        bg["calls"].to_numpy(dtype=float),
        weights,
        transform="B",
        star=True,
        permutations=permutations,
        seed=0,
    )
    n_hot = int(((hot.p_sim < 0.05) & (hot.Zs > 0)).sum())
    lap("hot spots")

    return {
        "rows": len(points),
        "seconds": time.perf_counter() - started,
        "steps": timings,
        "eligible_share_by_type": eligible_share,
        "hot_block_groups": n_hot,
        "rate_cells": {key: len(table) for key, table in rates.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", help="a CSV written by `csas safety synth`")
    parser.add_argument("--nrows", type=int, default=None, help="read only the first NROWS rows")
    parser.add_argument("--permutations", type=int, default=9999)
    args = parser.parse_args()
    if not geopandas_available():
        raise SystemExit("geopandas (and esda) are not installed: the baseline cannot run")
    result = run_baseline(args.csv, nrows=args.nrows, permutations=args.permutations)
    print(f"{result['rows']:,} rows in {result['seconds']:.1f} s")
    for name, seconds in result["steps"].items():
        print(f"  {name:<16} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
