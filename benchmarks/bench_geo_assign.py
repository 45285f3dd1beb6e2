"""Point-in-polygon assignment: csas's grid lookup against a plain shapely STRtree query.

Usage:
    .venv/bin/python benchmarks/bench_geo_assign.py [N] [--layer block-groups|neighbourhoods]

N random points (default 1,000,000, seeded) are drawn uniformly over the bounding box of
one of Tacoma's boundary layers and assigned twice in the same process:

* baseline: ``shapely.points`` then ``STRtree(areas).query(points, predicate="within")``,
  keeping the first area listed for each point (what an analyst writes with shapely 2,
  and what geopandas' ``sjoin`` does underneath);
* csas: ``csas.analysis.safety.geo.assign_points``, grid construction included.

It checks that both give the same area for every point and prints both times and their
ratio. Record the figures in docs/benchmarks.md with the command that produced them.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import shapely

from csas.analysis.safety.geo import OUTSIDE, TACOMA_GEO, Area, areas_from_geojson, assign_points

LAYERS = {
    "block-groups": ("Equity_Index_2024.geojson", "geoid20"),
    "neighbourhoods": ("Neighborhood_Council_Districts.geojson", "name"),
}


def baseline(lon: np.ndarray, lat: np.ndarray, areas: tuple[Area, ...]) -> np.ndarray:
    """STRtree bulk query, first listed area per point, OUTSIDE where none."""
    tree = shapely.STRtree([area.geometry for area in areas])
    points = shapely.points(lon, lat)
    point_index, area_index = tree.query(points, predicate="within")
    result = np.full(lon.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(result, point_index, area_index)
    result[result == np.iinfo(np.int64).max] = OUTSIDE
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="number of points")
    parser.add_argument("--layer", choices=sorted(LAYERS), default="block-groups")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()

    file_name, code_property = LAYERS[options.layer]
    areas = areas_from_geojson(TACOMA_GEO / file_name, code_property=code_property)
    minx, miny, maxx, maxy = shapely.total_bounds([area.geometry for area in areas])
    rng = np.random.default_rng(options.seed)
    lon = rng.uniform(minx, maxx, options.n)
    lat = rng.uniform(miny, maxy, options.n)

    start = time.perf_counter()
    expected = baseline(lon, lat, areas)
    baseline_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = assign_points(lon, lat, areas)
    csas_seconds = time.perf_counter() - start
    mismatches = int((result.area_index != expected).sum())

    print(
        f"python {platform.python_version()}, shapely {shapely.__version__}, numpy {np.__version__}"
    )
    print(f"{options.n:,} points over {len(areas)} {options.layer} ({result.n_assigned:,} inside)")
    print(f"baseline (shapely STRtree within): {baseline_seconds:8.3f} s")
    print(f"csas assign_points:                {csas_seconds:8.3f} s")
    print(
        f"  grid {result.grid_shape[0]} x {result.grid_shape[1]}, exact tests "
        f"{result.n_exact_tests:,} ({result.n_exact_tests / max(options.n, 1):.1%} of points)"
    )
    print(f"speed-up (baseline / csas):        {baseline_seconds / csas_seconds:8.1f}x")
    print(f"points assigned differently:       {mismatches}")
    if mismatches:
        raise SystemExit("assign_points disagrees with the baseline")


if __name__ == "__main__":
    main()
