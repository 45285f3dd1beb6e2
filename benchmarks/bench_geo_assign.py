"""Point-in-polygon assignment: csas's grid lookup against a plain shapely STRtree query.

Usage:
    .venv/bin/python benchmarks/bench_geo_assign.py [N] [--layer block-groups|neighbourhoods|all]

N random points (default 1,000,000, seeded) are drawn uniformly over the bounding box of
one of Tacoma's boundary layers and assigned twice in the same process:

* baseline: ``shapely.points`` then ``STRtree(areas).query(points, predicate="within")``,
  keeping the first area listed for each point (what an analyst writes with shapely 2,
  and what geopandas' ``sjoin`` does underneath);
* csas: ``csas.analysis.safety.geo.assign_points``, grid construction included.

With ``--layer all`` the points are drawn over the block groups' box and assigned to the
four layers the safety pipeline uses (block groups, council districts, neighbourhood
council districts, police districts): the baseline and ``assign_points`` once per layer,
then ``assign_points_layers`` for the four at once, as the pipeline calls it.

It checks that both give the same area for every point and prints both times and their
ratio. Record the figures in docs/benchmarks.md with the command that produced them.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import shapely

from csas.analysis.safety.geo import (
    OUTSIDE,
    TACOMA_GEO,
    Area,
    areas_from_geojson,
    assign_points,
    assign_points_layers,
)

LAYERS = {
    "block-groups": ("Equity_Index_2024.geojson", "geoid20"),
    "neighbourhoods": ("Neighborhood_Council_Districts.geojson", "name"),
}
#: The layers `--layer all` assigns to, in the pipeline's order.
ALL_LAYERS = {
    **LAYERS,
    "council-districts": ("City_Council_Districts.geojson", "district"),
    "police-districts": ("Police_Districts.geojson", "sector_district"),
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
    parser.add_argument("--layer", choices=[*sorted(LAYERS), "all"], default="block-groups")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    if options.layer == "all":
        all_layers(options.n, options.seed)
        return

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


def all_layers(n: int, seed: int) -> None:
    """Every pipeline layer: per-layer baseline and assign_points, then assign_points_layers."""
    layers = {
        name: areas_from_geojson(TACOMA_GEO / file_name, code_property=code_property)
        for name, (file_name, code_property) in ALL_LAYERS.items()
    }
    minx, miny, maxx, maxy = shapely.total_bounds(
        [area.geometry for area in layers["block-groups"]]
    )
    rng = np.random.default_rng(seed)
    lon = rng.uniform(minx, maxx, n)
    lat = rng.uniform(miny, maxy, n)

    start = time.perf_counter()
    expected = [baseline(lon, lat, areas) for areas in layers.values()]
    baseline_seconds = time.perf_counter() - start
    start = time.perf_counter()
    one_by_one = [assign_points(lon, lat, areas) for areas in layers.values()]
    single_seconds = time.perf_counter() - start
    start = time.perf_counter()
    together = assign_points_layers(lon, lat, list(layers.values()))
    layers_seconds = time.perf_counter() - start
    mismatches = sum(
        int((found.area_index != want).sum()) + int((single.area_index != want).sum())
        for found, single, want in zip(together, one_by_one, expected, strict=True)
    )

    print(
        f"python {platform.python_version()}, shapely {shapely.__version__}, numpy {np.__version__}"
    )
    print(f"{n:,} points over the block groups' box, {len(layers)} layers")
    print(f"baseline (shapely STRtree within):  {baseline_seconds:8.3f} s")
    print(f"csas assign_points, once per layer: {single_seconds:8.3f} s")
    print(f"csas assign_points_layers:          {layers_seconds:8.3f} s")
    print(f"speed-up (per layer / layers):      {single_seconds / layers_seconds:8.1f}x")
    print(f"points assigned differently:        {mismatches}")
    if mismatches:
        raise SystemExit("assign_points_layers disagrees with the baseline")


if __name__ == "__main__":
    main()
