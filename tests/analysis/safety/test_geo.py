from __future__ import annotations

import doctest
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from csas.analysis.safety import geo
from csas.analysis.safety.geo import (
    MISSING,
    OUTSIDE,
    TACOMA_GEO,
    Area,
    areal_interpolate,
    areas_from_geojson,
    assign_points,
    assign_points_layers,
    detect_swapped_coordinates,
)

SQUARES = (Area("west", box(0, 0, 1, 1)), Area("east", box(1, 0, 2, 1)))


@pytest.fixture(scope="module")
def neighbourhoods() -> tuple[Area, ...]:
    return areas_from_geojson(
        TACOMA_GEO / "Neighborhood_Council_Districts.geojson", code_property="name"
    )


@pytest.fixture(scope="module")
def block_groups() -> tuple[Area, ...]:
    return areas_from_geojson(TACOMA_GEO / "Equity_Index_2024.geojson", code_property="geoid20")


@pytest.fixture(scope="module")
def block_group_population() -> np.ndarray:
    data = json.loads((TACOMA_GEO / "Equity_Index_2024.geojson").read_text())
    return np.array([f["properties"]["population"] for f in data["features"]], dtype=float)


@pytest.fixture(scope="module")
def council_districts() -> tuple[Area, ...]:
    return areas_from_geojson(
        TACOMA_GEO / "City_Council_Districts.geojson", code_property="district"
    )


def reference_assignment(x: np.ndarray, y: np.ndarray, areas: tuple[Area, ...]) -> np.ndarray:
    """One shapely `covers` test per point and area, first area wins: slow and obvious."""
    result = np.full(x.size, OUTSIDE)
    for i, (px, py) in enumerate(zip(x, y, strict=True)):
        if not (np.isfinite(px) and np.isfinite(py)):
            result[i] = MISSING
            continue
        point = Point(px, py)
        for index, area in enumerate(areas):
            if area.geometry.covers(point):
                result[i] = index
                break
    return result


def tricky_points(areas: tuple[Area, ...], n_random: int, seed: int) -> tuple[np.ndarray, ...]:
    """Random points over the areas plus vertices, edge midpoints, near-border jitter,
    missing coordinates and points far away."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.total_bounds([a.geometry for a in areas])
    pad = 0.01
    xs = [rng.uniform(minx - pad, maxx + pad, n_random)]
    ys = [rng.uniform(miny - pad, maxy + pad, n_random)]
    rings = shapely.get_rings(shapely.get_parts([a.geometry for a in areas]))
    vertices, ring = shapely.get_coordinates(rings, return_index=True)
    on_vertex = vertices[rng.choice(len(vertices), 400, replace=False)]
    same_ring = np.flatnonzero(ring[1:] == ring[:-1])
    edge = rng.choice(same_ring, 400, replace=False)
    on_edge = (vertices[edge] + vertices[edge + 1]) / 2  # on the edge up to rounding
    near_vertex = on_vertex + rng.normal(scale=1e-9, size=on_vertex.shape)
    for extra in (on_vertex, on_edge, near_vertex):
        xs.append(extra[:, 0])
        ys.append(extra[:, 1])
    xs.append(np.array([np.nan, 0.0, np.inf, -122.45, 170.0, np.nan]))
    ys.append(np.array([47.2, np.nan, 47.2, -47.25, 10.0, np.nan]))
    return np.concatenate(xs), np.concatenate(ys)


def test_module_docstring_examples_run() -> None:
    failures, tests = doctest.testmod(geo)
    assert tests >= 5
    assert failures == 0


def test_assign_points_equals_a_plain_shapely_test_on_tacoma_neighbourhoods(
    neighbourhoods: tuple[Area, ...],
) -> None:
    x, y = tricky_points(neighbourhoods, n_random=3000, seed=11)
    result = assign_points(x, y, neighbourhoods)
    np.testing.assert_array_equal(result.area_index, reference_assignment(x, y, neighbourhoods))
    assert result.n_exact_tests < x.size


def test_assign_points_is_exact_on_points_lying_exactly_on_shared_edges(
    neighbourhoods: tuple[Area, ...],
) -> None:
    # Points interpolated along boundary edges lie on them up to rounding, on both sides.
    rng = np.random.default_rng(5)
    boundary = shapely.union_all([a.geometry.boundary for a in neighbourhoods])
    points = shapely.line_interpolate_point(boundary, rng.uniform(0, 1, 1500), normalized=True)
    x, y = shapely.get_x(points), shapely.get_y(points)
    result = assign_points(x, y, neighbourhoods, grid_size=300)
    np.testing.assert_array_equal(result.area_index, reference_assignment(x, y, neighbourhoods))


@pytest.mark.parametrize("grid_size", [1, 3, 40, 900])
def test_assign_points_does_not_depend_on_the_grid_size(
    neighbourhoods: tuple[Area, ...], grid_size: int
) -> None:
    x, y = tricky_points(neighbourhoods, n_random=800, seed=3)
    default = assign_points(x, y, neighbourhoods)
    resized = assign_points(x, y, neighbourhoods, grid_size=grid_size)
    np.testing.assert_array_equal(resized.area_index, default.area_index)


def test_assign_points_accounts_for_every_point(neighbourhoods: tuple[Area, ...]) -> None:
    x, y = tricky_points(neighbourhoods, n_random=1000, seed=8)
    result = assign_points(x, y, neighbourhoods)
    assert result.n_assigned + result.n_missing + result.n_outside == result.n_total == x.size
    assert result.n_missing == 4  # NaN, NaN, inf, and the NaN pair
    assert result.n_outside >= 2  # the southern-hemisphere and Pacific points at least
    assert sum(result.count_by_code().values()) == result.n_assigned
    assert "first area listed wins" in result.method


def bounds_points(layers: list[tuple[Area, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """Points on, and one floating-point step either side of, each layer's bounding box,
    where a grid's cell arithmetic is most likely to round the wrong way."""
    xs, ys = [], []
    for areas in layers:
        minx, miny, maxx, maxy = shapely.total_bounds([a.geometry for a in areas])
        middle_x, middle_y = (minx + maxx) / 2, (miny + maxy) / 2
        for x in (minx, maxx):
            for value in (np.nextafter(x, -np.inf), x, np.nextafter(x, np.inf)):
                xs += [value, value, value]
                ys += [miny, middle_y, maxy]
        for y in (miny, maxy):
            for value in (np.nextafter(y, -np.inf), y, np.nextafter(y, np.inf)):
                xs += [minx, middle_x, maxx]
                ys += [value, value, value]
    return np.array(xs), np.array(ys)


def assert_same_assignment(found: geo.Assignment, expected: geo.Assignment) -> None:
    np.testing.assert_array_equal(found.area_index, expected.area_index)
    np.testing.assert_array_equal(found.counts, expected.counts)
    assert found.area_index.dtype == expected.area_index.dtype == np.int64
    assert found.counts.dtype == expected.counts.dtype
    assert not found.area_index.flags.writeable
    for name in (
        "codes",
        "n_total",
        "n_missing",
        "n_outside",
        "n_exact_tests",
        "grid_shape",
        "method",
    ):
        assert getattr(found, name) == getattr(expected, name), name


@pytest.mark.parametrize("grid_size", [None, 1, 2, 7, 300])
def test_assign_points_layers_equals_assign_points_per_layer(
    neighbourhoods: tuple[Area, ...],
    block_groups: tuple[Area, ...],
    council_districts: tuple[Area, ...],
    grid_size: int | None,
) -> None:
    layers = [block_groups, council_districts, neighbourhoods, neighbourhoods[::-1]]
    x, y = tricky_points(block_groups, n_random=2000, seed=17)
    edge_x, edge_y = bounds_points(layers)
    x, y = np.concatenate([x, edge_x]), np.concatenate([y, edge_y])
    together = assign_points_layers(x, y, layers, grid_size=grid_size)
    assert len(together) == len(layers)
    for areas, found in zip(layers, together, strict=True):
        expected = assign_points(x, y, areas, grid_size=grid_size)
        assert_same_assignment(found, expected)
        np.testing.assert_array_equal(found.area_index, reference_assignment(x, y, areas))


def test_assign_points_layers_is_exact_on_points_on_every_layer_s_edges(
    neighbourhoods: tuple[Area, ...], council_districts: tuple[Area, ...]
) -> None:
    rng = np.random.default_rng(23)
    layers = [neighbourhoods, council_districts]
    boundary = shapely.union_all(
        [a.geometry.boundary for a in (*neighbourhoods, *council_districts)]
    )
    points = shapely.line_interpolate_point(boundary, rng.uniform(0, 1, 1500), normalized=True)
    x, y = shapely.get_x(points), shapely.get_y(points)
    for areas, found in zip(layers, assign_points_layers(x, y, layers), strict=True):
        assert_same_assignment(found, assign_points(x, y, areas))


def test_assign_points_layers_handles_small_and_awkward_layers() -> None:
    ring = Area(
        "ring", Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    )
    # Many small squares: more areas than a one-byte table holds.
    squares = tuple(
        Area(f"s{i}-{j}", box(i * 0.1, j * 0.1, i * 0.1 + 0.1, j * 0.1 + 0.1))
        for i in range(20)
        for j in range(20)
    )
    layers = [SQUARES, [ring], squares, SQUARES[::-1]]
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-1, 5, 3000), [0, 1, 2, 2.0000001, np.nan, np.inf, 1e300]])
    y = np.concatenate([rng.uniform(-1, 5, 3000), [0, 0.5, 1, 1, 0.5, 0.5, -1e300]])
    for grid_size in (None, 1, 3, 50):
        together = assign_points_layers(x, y, layers, grid_size=grid_size)
        for areas, found in zip(layers, together, strict=True):
            assert_same_assignment(found, assign_points(x, y, areas, grid_size=grid_size))


def test_assign_points_layers_gives_area_numbers_in_the_type_asked_for(
    block_groups: tuple[Area, ...], council_districts: tuple[Area, ...]
) -> None:
    layers = [block_groups, council_districts]
    x, y = tricky_points(block_groups, n_random=1000, seed=29)
    wide = assign_points_layers(x, y, layers)
    narrow = assign_points_layers(x, y, layers, index_type=np.int16)
    for found, expected in zip(narrow, wide, strict=True):
        assert found.area_index.dtype == np.int16
        np.testing.assert_array_equal(found.area_index, expected.area_index)
        assert found.point_codes().tolist() == expected.point_codes().tolist()
        assert (found.method, found.n_outside) == (expected.method, expected.n_outside)
    # 169 block groups need more than int8; a type must be a signed integer.
    for kind in (np.int8, np.uint16, np.float64):
        with pytest.raises(ValueError, match="index_type must be a signed integer type"):
            assign_points_layers(x, y, layers, index_type=kind)  # type: ignore[arg-type]
    (small,) = assign_points_layers(x, y, [council_districts], index_type=np.int8)
    assert small.area_index.dtype == np.int8


def test_assign_points_layers_without_layers_or_points() -> None:
    assert assign_points_layers([0.5], [0.5], []) == ()
    (empty,) = assign_points_layers([], [], [SQUARES])
    assert (empty.n_total, empty.n_assigned, empty.n_outside) == (0, 0, 0)
    assert empty.area_index.dtype == np.int64


def test_assign_points_layers_names_the_layer_with_a_problem() -> None:
    with pytest.raises(ValueError, match=r"layers\[1\]: areas 0 and 1 share the code 'west'"):
        assign_points_layers([0.5], [0.5], [SQUARES, [SQUARES[0], SQUARES[0]]])
    with pytest.raises(ValueError, match=r"layers\[0\]: no areas given"):
        assign_points_layers([0.5], [0.5], [[]])
    with pytest.raises(ValueError, match="grid_size must be a positive integer"):
        assign_points_layers([0.5], [0.5], [SQUARES], grid_size=0)
    with pytest.raises(ValueError, match="they must match"):
        assign_points_layers([0.5, 0.6], [0.5], [SQUARES])


def test_a_point_on_a_shared_border_goes_to_the_first_area_listed() -> None:
    forward = assign_points([1.0], [0.5], SQUARES)
    backward = assign_points([1.0], [0.5], SQUARES[::-1])
    assert forward.point_codes().tolist() == ["west"]
    assert backward.point_codes().tolist() == ["east"]


def test_a_point_on_the_outer_boundary_counts_as_inside() -> None:
    result = assign_points([0.0, 2.0, 2.0 + 1e-12], [0.0, 1.0, 1.0], SQUARES)
    assert result.point_codes(outside="-").tolist() == ["west", "east", "-"]


def test_overlapping_areas_give_the_point_to_the_first_that_contains_it() -> None:
    big = Area("big", box(0, 0, 10, 10))
    small = Area("small", box(2, 2, 3, 3))
    x, y = np.array([2.5, 5.0]), np.array([2.5, 5.0])
    assert assign_points(x, y, [small, big]).point_codes().tolist() == ["small", "big"]
    assert assign_points(x, y, [big, small]).point_codes().tolist() == ["big", "big"]


def test_a_polygon_with_a_hole_leaves_points_in_the_hole_outside() -> None:
    ring = Area(
        "ring", Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    )
    result = assign_points([2.0, 0.5, 1.0], [2.0, 0.5, 2.0], [ring], grid_size=50)
    assert result.area_index.tolist() == [OUTSIDE, 0, 0]


def test_missing_and_infinite_coordinates_are_counted_not_dropped() -> None:
    lon = np.array([0.5, None, 0.5, float("inf")], dtype=object)
    lat = np.array([0.5, 0.5, None, 0.5], dtype=object)
    result = assign_points(lon, lat, SQUARES)
    assert result.area_index.tolist() == [0, MISSING, MISSING, MISSING]
    assert (result.n_missing, result.n_outside, result.n_assigned) == (3, 0, 1)
    assert result.point_codes(missing="?").tolist() == ["west", "?", "?", "?"]


def test_assign_points_handles_no_points() -> None:
    result = assign_points([], [], SQUARES)
    assert (result.n_total, result.n_assigned) == (0, 0)


def test_assignment_arrays_are_read_only() -> None:
    result = assign_points([0.5], [0.5], SQUARES)
    with pytest.raises(ValueError, match="read-only"):
        result.area_index[0] = 1


def test_swapped_coordinates_are_detected_on_tacoma_points(
    neighbourhoods: tuple[Area, ...],
) -> None:
    rng = np.random.default_rng(2)
    inside = [a.geometry.representative_point() for a in neighbourhoods]
    lon = np.repeat([p.x for p in inside], 50) + rng.normal(scale=1e-4, size=400)
    lat = np.repeat([p.y for p in inside], 50) + rng.normal(scale=1e-4, size=400)
    swapped = detect_swapped_coordinates(lat, lon, neighbourhoods)
    as_given = detect_swapped_coordinates(lon, lat, neighbourhoods)
    assert swapped.likely_swapped
    assert swapped.share_inside_if_swapped > 0.95
    assert swapped.share_inside_as_given == 0.0
    assert not as_given.likely_swapped
    assert as_given.share_inside_as_given > 0.95


def test_points_outside_the_areas_either_way_are_not_called_swapped(
    neighbourhoods: tuple[Area, ...],
) -> None:
    check = detect_swapped_coordinates([2.35, 2.36], [48.85, 48.86], neighbourhoods)
    assert not check.likely_swapped
    assert check.share_inside_as_given == check.share_inside_if_swapped == 0.0


def test_swap_check_samples_evenly_and_deterministically() -> None:
    lon = np.full(25_000, 0.5)
    lat = np.full(25_000, 0.5)
    first = detect_swapped_coordinates(lon, lat, SQUARES, sample_size=1000)
    assert first.n_checked == 1000
    assert first == detect_swapped_coordinates(lon, lat, SQUARES, sample_size=1000)


def test_areal_interpolation_accounts_for_all_tacoma_block_group_population(
    block_groups: tuple[Area, ...],
    block_group_population: np.ndarray,
    council_districts: tuple[Area, ...],
) -> None:
    result = areal_interpolate(block_group_population, block_groups, council_districts)
    assert result.source_total == 241_349
    assert result.target_totals.sum() + result.outside == pytest.approx(241_349, abs=1e-6)
    # The Equity Index covers block groups that reach beyond the city limits: about
    # 22,000 people (17 block groups lie mostly outside) fall outside every district.
    assert 18_000 < result.outside < 26_000
    assert 12 <= int((result.outside_shares > 0.5).sum()) <= 20
    assert set(result.total_by_code()) == {"1", "2", "3", "4", "5"}
    assert all(40_000 < total < 47_000 for total in result.target_totals)
    # Council districts overlap by digitising slivers only.
    assert result.max_target_overlap_share < 0.002


def test_areal_interpolation_to_neighbourhoods_keeps_the_same_total(
    block_groups: tuple[Area, ...],
    block_group_population: np.ndarray,
    neighbourhoods: tuple[Area, ...],
) -> None:
    result = areal_interpolate(block_group_population, block_groups, neighbourhoods)
    assert result.target_totals.sum() + result.outside == pytest.approx(result.source_total)
    assert np.allclose(result.shares.sum(axis=1) + result.outside_shares, 1.0)


def test_areal_interpolation_barely_depends_on_the_equal_area_projection(
    block_groups: tuple[Area, ...],
    block_group_population: np.ndarray,
    council_districts: tuple[Area, ...],
) -> None:
    global_projection = areal_interpolate(block_group_population, block_groups, council_districts)
    state_plane = areal_interpolate(
        block_group_population, block_groups, council_districts, crs="EPSG:2927"
    )
    np.testing.assert_allclose(state_plane.target_totals, global_projection.target_totals, atol=1)
    assert state_plane.crs == "EPSG:2927"


def test_areal_interpolation_onto_the_same_areas_changes_nothing() -> None:
    sources = [Area("a", box(0, 0, 0.01, 0.01)), Area("b", box(0.01, 0, 0.03, 0.01))]
    result = areal_interpolate([100.0, 50.0], sources, sources)
    np.testing.assert_allclose(result.target_totals, [100.0, 50.0], rtol=1e-9)
    assert result.outside == pytest.approx(0.0, abs=1e-9)


def test_areal_interpolation_shares_out_a_small_overlap_instead_of_counting_it_twice() -> None:
    sources = [Area("s", box(0, 0, 0.02, 0.01))]
    targets = [Area("w", box(0, 0, 0.0101, 0.01)), Area("e", box(0.01, 0, 0.02, 0.01))]
    result = areal_interpolate([1000.0], sources, targets)
    assert result.target_totals.sum() + result.outside == pytest.approx(1000.0)
    assert result.max_target_overlap_share == pytest.approx(0.005, rel=1e-3)


def test_areas_from_geojson_reads_codes_as_strings(council_districts: tuple[Area, ...]) -> None:
    assert [a.code for a in council_districts] == ["1", "2", "3", "4", "5"]


# --- bad input -------------------------------------------------------------------------


def test_assign_points_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="lon has 2 values but lat has 1"):
        assign_points([0.5, 0.6], [0.5], SQUARES)


def test_assign_points_rejects_two_dimensional_coordinates() -> None:
    with pytest.raises(ValueError, match="lon: expected a one-dimensional array"):
        assign_points(np.zeros((2, 2)), np.zeros(4), SQUARES)


def test_assign_points_rejects_text_coordinates() -> None:
    with pytest.raises(ValueError, match="lat: coordinates must be numbers"):
        assign_points([0.5], ["north"], SQUARES)


def test_assign_points_rejects_no_areas() -> None:
    with pytest.raises(ValueError, match="areas: no areas given"):
        assign_points([0.5], [0.5], [])


def test_assign_points_rejects_duplicate_area_codes() -> None:
    with pytest.raises(ValueError, match="areas 0 and 1 share the code 'west'"):
        assign_points([0.5], [0.5], [SQUARES[0], Area("west", box(3, 3, 4, 4))])


def test_assign_points_rejects_something_that_is_not_an_area() -> None:
    with pytest.raises(ValueError, match=r"areas\[1\]: expected an Area, got Polygon"):
        assign_points([0.5], [0.5], [SQUARES[0], box(3, 3, 4, 4)])


@pytest.mark.parametrize("grid_size", [0, -5, True])
def test_assign_points_rejects_a_grid_size_that_is_not_positive(grid_size: int) -> None:
    with pytest.raises(ValueError, match="grid_size must be a positive integer"):
        assign_points([0.5], [0.5], SQUARES, grid_size=grid_size)


@pytest.mark.parametrize("code", ["", 7, None])
def test_area_rejects_a_code_that_is_not_a_non_empty_string(code: object) -> None:
    with pytest.raises(ValueError, match="area code must be a non-empty string"):
        Area(code, box(0, 0, 1, 1))  # type: ignore[arg-type]


def test_area_rejects_a_point_geometry() -> None:
    with pytest.raises(ValueError, match="area 'stop': geometry is a Point, expected a polygon"):
        Area("stop", Point(0, 0))


def test_area_rejects_an_empty_polygon() -> None:
    with pytest.raises(ValueError, match="area 'nothing': geometry is empty"):
        Area("nothing", Polygon())


def test_area_rejects_an_invalid_polygon_and_says_how_to_repair_it() -> None:
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(ValueError, match=r"area 'bowtie': geometry is invalid \(Self-intersection"):
        Area("bowtie", bowtie)
    with pytest.raises(ValueError, match="make_valid"):
        Area("bowtie", bowtie)


def test_swap_check_rejects_input_without_a_single_valid_point() -> None:
    with pytest.raises(ValueError, match="no point has both a finite longitude and latitude"):
        detect_swapped_coordinates([np.nan], [47.0], SQUARES)


@pytest.mark.parametrize(("option", "value"), [("sample_size", 0), ("min_share", 0.0)])
def test_swap_check_rejects_out_of_range_options(option: str, value: float) -> None:
    with pytest.raises(ValueError, match=option):
        detect_swapped_coordinates([0.5], [0.5], SQUARES, **{option: value})  # type: ignore[arg-type]


def test_areal_interpolation_rejects_a_value_count_that_does_not_match_the_sources() -> None:
    with pytest.raises(ValueError, match=r"source_values has shape \(3,\); expected one value per"):
        areal_interpolate([1.0, 2.0, 3.0], SQUARES, SQUARES)


def test_areal_interpolation_names_the_area_of_a_missing_value() -> None:
    with pytest.raises(ValueError, match=r"source_values\[1\] \(area 'east'\) is nan"):
        areal_interpolate([1.0, np.nan], SQUARES, SQUARES)


def test_areal_interpolation_rejects_targets_that_overlap_substantially() -> None:
    overlapping = [Area("a", box(0, 0, 1.5, 1)), Area("b", box(0.5, 0, 2, 1))]
    with pytest.raises(ValueError, match=r"target_areas overlap: 50\.00% of source area"):
        areal_interpolate([1.0, 1.0], SQUARES, overlapping)


def test_areal_interpolation_rejects_a_geographic_crs() -> None:
    with pytest.raises(ValueError, match="crs 'EPSG:4326' is geographic"):
        areal_interpolate([1.0, 1.0], SQUARES, SQUARES, crs="EPSG:4326")


def test_areal_interpolation_rejects_an_unknown_crs() -> None:
    with pytest.raises(ValueError, match="crs 'EPSG:0' is not a coordinate reference system"):
        areal_interpolate([1.0, 1.0], SQUARES, SQUARES, crs="EPSG:0")


def test_areal_interpolation_rejects_empty_target_areas() -> None:
    with pytest.raises(ValueError, match="target_areas: no areas given"):
        areal_interpolate([1.0, 1.0], SQUARES, [])


def test_areal_interpolation_rejects_an_overlap_tolerance_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="max_overlap_share must be in"):
        areal_interpolate([1.0, 1.0], SQUARES, SQUARES, max_overlap_share=1.5)


def write_geojson(path: Path, features: Sequence[Mapping[str, object]], **extra: object) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features, **extra}))
    return path


def feature(properties: dict[str, object]) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": box(0, 0, 1, 1).__geo_interface__,
    }


def test_areas_from_geojson_names_the_feature_missing_its_code(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "a.geojson", [feature({"name": "x"}), feature({})])
    with pytest.raises(ValueError, match="feature 1 has no 'name' property"):
        areas_from_geojson(path, code_property="name")


def test_areas_from_geojson_names_features_that_share_a_code(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "a.geojson", [feature({"id": 4}), feature({"id": 4})])
    with pytest.raises(ValueError, match="features 0 and 1 share id '4'"):
        areas_from_geojson(path, code_property="id")


def test_areas_from_geojson_rejects_a_projected_crs(tmp_path: Path) -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2927"}}
    path = write_geojson(tmp_path / "a.geojson", [feature({"id": 1})], crs=crs)
    with pytest.raises(ValueError, match="coordinates are in urn:ogc:def:crs:EPSG::2927"):
        areas_from_geojson(path, code_property="id")


def test_areas_from_geojson_rejects_a_file_without_features(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "a.geojson", [])
    with pytest.raises(ValueError, match="the file has no features"):
        areas_from_geojson(path, code_property="id")


def test_areas_from_geojson_rejects_something_other_than_a_feature_collection(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps(box(0, 0, 1, 1).__geo_interface__))
    with pytest.raises(ValueError, match="expected a GeoJSON FeatureCollection"):
        areas_from_geojson(path, code_property="id")


def test_areas_from_geojson_names_the_feature_with_a_bad_geometry(tmp_path: Path) -> None:
    line = {
        "type": "Feature",
        "properties": {"id": 1},
        "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
    }
    path = write_geojson(tmp_path / "a.geojson", [line])
    with pytest.raises(ValueError, match="feature 0: area '1': geometry is a LineString"):
        areas_from_geojson(path, code_property="id")


def test_areas_from_geojson_names_a_feature_without_geometry(tmp_path: Path) -> None:
    empty = {"type": "Feature", "properties": {"id": "x"}, "geometry": None}
    path = write_geojson(tmp_path / "a.geojson", [empty])
    with pytest.raises(ValueError, match="feature 0 \\(id 'x'\\) has no geometry"):
        areas_from_geojson(path, code_property="id")


def test_areas_from_geojson_rejects_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "a.geojson"
    path.write_text("district,name\n1,North\n")
    with pytest.raises(ValueError, match=r"a\.geojson: not a UTF-8 JSON file"):
        areas_from_geojson(path, code_property="district")
