from __future__ import annotations

import doctest
import json
import warnings

import esda
import libpysal
import numpy as np
import pytest
from scipy import stats
from shapely.geometry import Point, box

from csas.analysis.safety import hotspots
from csas.analysis.safety.geo import TACOMA_GEO, areas_from_geojson
from csas.analysis.safety.hotspots import (
    Neighbours,
    benjamini_hochberg,
    distance_band_neighbours,
    gi_star,
    gi_star_grid,
    grid_neighbours,
    polygon_neighbours,
)

TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def block_groups() -> tuple[list[object], list[dict[str, object]]]:
    areas = areas_from_geojson(TACOMA_GEO / "Equity_Index_2024.geojson", code_property="geoid20")
    data = json.loads((TACOMA_GEO / "Equity_Index_2024.geojson").read_text())
    return [a.geometry for a in areas], [f["properties"] for f in data["features"]]


@pytest.fixture(scope="module")
def block_group_queen(block_groups: tuple[list[object], list[dict[str, object]]]) -> Neighbours:
    return polygon_neighbours(block_groups[0])  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def libpysal_queen(
    block_groups: tuple[list[object], list[dict[str, object]]],
) -> libpysal.weights.W:
    return libpysal.weights.Queen.from_iterable(block_groups[0])


def variable(props: list[dict[str, object]], name: str) -> np.ndarray:
    return np.array([p[name] for p in props], dtype=float)


def planted_cluster_grid(seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(2.0, size=(20, 20)).astype(float)
    counts[8:12, 8:12] = rng.poisson(12.0, size=(4, 4))
    return counts


def esda_gi_star(y: np.ndarray, w: libpysal.weights.W, transform: str, **options: object) -> object:
    # esda warns that it fills the diagonal itself when star=True meets a zero diagonal,
    # and about its own upcoming changes; neither concerns the comparison.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return esda.G_Local(y, w, transform=transform, star=True, **options)


def neighbour_sets(w: libpysal.weights.W) -> tuple[frozenset[int], ...]:
    return tuple(frozenset(w.neighbors[i]) for i in w.id_order)


def test_module_docstring_examples_run() -> None:
    failures, tests = doctest.testmod(hotspots)
    assert tests >= 10
    assert failures == 0


@pytest.mark.parametrize("transform", ["B", "R"])
def test_gi_star_equals_esda_on_a_grid_with_a_planted_cluster(transform: str) -> None:
    counts = planted_cluster_grid()
    ours = gi_star_grid(counts, transform=transform, permutations=0, inference="analytic")  # type: ignore[arg-type]
    theirs = esda_gi_star(
        counts.ravel(), libpysal.weights.lat2W(20, 20, rook=False), transform, permutations=0
    )
    assert np.abs(ours.z - theirs.Zs).max() <= TOLERANCE
    assert np.abs(ours.g - theirs.Gs).max() <= TOLERANCE
    assert np.abs(ours.expected_g - theirs.EGs).max() <= TOLERANCE
    assert np.abs(ours.variance_g - theirs.VGs).max() <= TOLERANCE
    np.testing.assert_allclose(ours.p_analytic, 2 * theirs.p_norm, atol=TOLERANCE)


@pytest.mark.parametrize("name", ["tacomapropertycrime", "populationdensity"])
@pytest.mark.parametrize("transform", ["B", "R"])
def test_gi_star_equals_esda_on_tacoma_block_groups(
    block_groups: tuple[list[object], list[dict[str, object]]],
    block_group_queen: Neighbours,
    libpysal_queen: libpysal.weights.W,
    name: str,
    transform: str,
) -> None:
    y = variable(block_groups[1], name)
    ours = gi_star(y, block_group_queen, transform=transform, permutations=0, inference="analytic")  # type: ignore[arg-type]
    theirs = esda_gi_star(y, libpysal_queen, transform, permutations=0)
    assert ours.n == 169
    assert np.abs(ours.z - theirs.Zs).max() <= TOLERANCE
    assert np.abs(ours.g - theirs.Gs).max() <= TOLERANCE
    np.testing.assert_allclose(ours.p_analytic, 2 * theirs.p_norm, atol=TOLERANCE)


def test_binary_and_row_standardised_transforms_give_the_same_statistic_but_different_z(
    block_groups: tuple[list[object], list[dict[str, object]]], block_group_queen: Neighbours
) -> None:
    y = variable(block_groups[1], "tacomapropertycrime")
    binary = gi_star(y, block_group_queen, transform="B", permutations=0, inference="analytic")
    rows = gi_star(y, block_group_queen, transform="R", permutations=0, inference="analytic")
    np.testing.assert_allclose(rows.g * (block_group_queen.cardinalities + 1), binary.g)
    assert not np.allclose(rows.z, binary.z)
    assert "esda's moments" in rows.method


def test_queen_contiguity_of_tacoma_block_groups_equals_libpysal(
    block_group_queen: Neighbours, libpysal_queen: libpysal.weights.W
) -> None:
    assert block_group_queen.as_sets() == neighbour_sets(libpysal_queen)
    assert block_group_queen.n_islands == 0


def test_rook_contiguity_of_tacoma_block_groups_equals_libpysal(
    block_groups: tuple[list[object], list[dict[str, object]]],
) -> None:
    ours = polygon_neighbours(block_groups[0], rule="rook")  # type: ignore[arg-type]
    theirs = libpysal.weights.Rook.from_iterable(block_groups[0])
    assert ours.as_sets() == neighbour_sets(theirs)


def test_a_tiny_tolerance_does_not_change_tacoma_block_group_contiguity(
    block_groups: tuple[list[object], list[dict[str, object]]], block_group_queen: Neighbours
) -> None:
    tolerant = polygon_neighbours(block_groups[0], tolerance=1e-9)  # type: ignore[arg-type]
    assert tolerant.as_sets() == block_group_queen.as_sets()


def test_a_tolerance_joins_polygons_separated_by_a_small_gap() -> None:
    squares = [box(0, 0, 1, 1), box(1.0001, 0, 2, 1)]
    assert polygon_neighbours(squares).as_sets() == (frozenset(), frozenset())
    joined = polygon_neighbours(squares, tolerance=0.001, rule="rook")
    assert joined.as_sets() == (frozenset({1}), frozenset({0}))


@pytest.mark.parametrize(("rows", "columns"), [(15, 20), (1, 7), (6, 1), (3, 3)])
@pytest.mark.parametrize("rule", ["queen", "rook"])
def test_grid_contiguity_equals_libpysal_lat2w(rows: int, columns: int, rule: str) -> None:
    ours = grid_neighbours(rows, columns, rule=rule)  # type: ignore[arg-type]
    theirs = libpysal.weights.lat2W(rows, columns, rook=rule == "rook")
    assert ours.as_sets() == neighbour_sets(theirs)


def test_distance_band_contiguity_equals_libpysal() -> None:
    rng = np.random.default_rng(9)
    points = rng.uniform(0, 100, size=(150, 2))
    ours = distance_band_neighbours(points[:, 0], points[:, 1], threshold=12.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # libpysal warns about islands
        theirs = libpysal.weights.DistanceBand(points, threshold=12.0, binary=True)
    assert ours.as_sets() == neighbour_sets(theirs)


def test_permutation_p_values_agree_with_esda_on_tacoma_block_groups(
    block_groups: tuple[list[object], list[dict[str, object]]],
    block_group_queen: Neighbours,
    libpysal_queen: libpysal.weights.W,
) -> None:
    y = variable(block_groups[1], "populationdensity")
    permutations = 1999
    ours = gi_star(y, block_group_queen, transform="B", permutations=permutations, seed=20)
    theirs = esda_gi_star(y, libpysal_queen, "B", permutations=permutations, seed=21)
    # esda's p_sim is one-sided (folded); ours is two-sided, so about twice it.
    esda_two_sided = np.minimum(1.0, 2 * theirs.p_sim)
    assert ours.p_permutation is not None
    difference = np.abs(ours.p_permutation - esda_two_sided)
    # Two independent Monte Carlo estimates: allow 5 standard errors of their difference.
    p = np.clip(esda_two_sided, 0.01, 0.99)
    allowed = 5 * 2 * np.sqrt(2 * (p / 2) * (1 - p / 2) / permutations) + 2 / (permutations + 1)
    assert (difference <= allowed).all()
    esda_significant = benjamini_hochberg(esda_two_sided) <= 0.05
    assert (ours.significant == esda_significant).mean() >= 0.97
    assert ours.significant.sum() >= 5


def test_permutation_p_values_are_valid_when_there_is_no_spatial_pattern() -> None:
    counts = np.random.default_rng(12).poisson(5.0, size=(30, 30)).astype(float)
    result = gi_star_grid(counts, transform="B", permutations=199, seed=13)
    assert result.p_permutation is not None
    for level in (0.05, 0.1, 0.2, 0.5):
        share = float((result.p_permutation <= level).mean())
        assert share <= level + 0.03
        assert share >= level - 0.06  # ties make the test a little conservative, not useless
    assert result.n_hot + result.n_cold <= 2  # FDR control: next to no false discoveries


def test_the_planted_cluster_is_found_and_nothing_far_from_it() -> None:
    # 400 cells under FDR control need p-values below 2 / (999 + 1): use more draws.
    result = gi_star_grid(planted_cluster_grid(), transform="B", permutations=4999, seed=4)
    hot = (result.classification == "hot").reshape(result.grid_shape)
    near_cluster = np.zeros((20, 20), dtype=bool)
    near_cluster[7:13, 7:13] = True
    assert hot[9:11, 9:11].all()
    assert not (hot & ~near_cluster).any()
    assert result.n_cold == 0
    assert "4999 draws, seed 4" in result.method


def test_the_same_seed_gives_the_same_p_values_and_another_seed_does_not() -> None:
    counts = planted_cluster_grid()
    first = gi_star_grid(counts, transform="B", permutations=99, seed=1)
    again = gi_star_grid(counts, transform="B", permutations=99, seed=1)
    other = gi_star_grid(counts, transform="B", permutations=99, seed=2)
    assert first.p_permutation is not None
    assert other.p_permutation is not None
    np.testing.assert_array_equal(first.p_permutation, again.p_permutation)
    assert not np.array_equal(first.p_permutation, other.p_permutation)


def test_analytic_inference_without_permutations_leaves_no_permutation_p_values() -> None:
    result = gi_star_grid(
        planted_cluster_grid(), transform="B", permutations=0, inference="analytic"
    )
    assert result.p_permutation is None
    assert result.seed is None
    np.testing.assert_array_equal(result.q, benjamini_hochberg(result.p_analytic))


def test_an_island_is_its_own_neighbourhood_and_never_significant_by_permutation() -> None:
    neighbours = Neighbours.from_pairs(5, [0, 1, 2], [1, 2, 3], "a chain and an island")
    result = gi_star([1.0, 2, 3, 4, 50], neighbours, transform="B", permutations=99, seed=3)
    assert result.p_permutation is not None
    assert result.p_permutation[4] == 1.0
    assert result.expected_g[4] == pytest.approx(1 / 5)
    assert result.n_neighbours.tolist() == [1, 2, 2, 1, 0]


def test_permutation_sampling_works_when_neighbourhoods_cover_most_units() -> None:
    # Every unit neighbours nearly every other: samples come from a tiny pool.
    points = np.arange(8.0)
    neighbours = distance_band_neighbours(points, np.zeros(8), threshold=6.0)
    result = gi_star(
        [5.0, 1, 2, 3, 4, 5, 6, 9], neighbours, transform="B", permutations=199, seed=0
    )
    assert result.p_permutation is not None
    assert ((result.p_permutation > 0) & (result.p_permutation <= 1)).all()


def test_benjamini_hochberg_equals_scipy() -> None:
    p = np.random.default_rng(0).uniform(size=500) ** 3
    np.testing.assert_allclose(benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"))


def test_benjamini_hochberg_matches_a_hand_computation() -> None:
    # sorted p: .001 .008 .039 .041 .042 .06 (m = 6); p * m / rank:
    # .006 .024 .078 .0615 .0504 .06 -> running minimum from the top: .006 .024 .0504 ...
    p = [0.042, 0.001, 0.06, 0.039, 0.008, 0.041]
    expected = [0.0504, 0.006, 0.06, 0.0504, 0.024, 0.0504]
    np.testing.assert_allclose(benjamini_hochberg(p), expected)


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("transform", ["r", "W", "", None])
def test_gi_star_rejects_an_unknown_transform(transform: object) -> None:
    with pytest.raises(ValueError, match="transform must be one of 'B', 'R', got"):
        gi_star_grid(np.eye(3), transform=transform, permutations=0, inference="analytic")  # type: ignore[arg-type]


def test_gi_star_rejects_an_unknown_inference() -> None:
    with pytest.raises(ValueError, match="inference must be one of 'permutation', 'analytic'"):
        gi_star_grid(np.eye(3), transform="B", seed=1, inference="bootstrap")  # type: ignore[arg-type]


def test_gi_star_rejects_an_unknown_contiguity_rule() -> None:
    with pytest.raises(ValueError, match="rule must be one of 'queen', 'rook', got 'bishop'"):
        gi_star_grid(np.eye(3), rule="bishop", transform="B", seed=1)  # type: ignore[arg-type]


def test_gi_star_rejects_values_that_do_not_match_the_neighbours() -> None:
    with pytest.raises(ValueError, match="values has 4 units but neighbours has 9"):
        gi_star([1.0, 2, 3, 4], grid_neighbours(3, 3), transform="B", seed=1)


def test_gi_star_names_the_first_missing_value_in_tacoma_personal_crime(
    block_groups: tuple[list[object], list[dict[str, object]]], block_group_queen: Neighbours
) -> None:
    y = variable(block_groups[1], "tacomapersonalcrime")  # six block groups have no value
    with pytest.raises(ValueError, match=r"values\[14\] is nan; .* \(6 are not\)"):
        gi_star(y, block_group_queen, transform="B", seed=1)


def test_gi_star_rejects_negative_values() -> None:
    with pytest.raises(ValueError, match=r"values\[2\] is -1.0: Gi\* needs non-negative values"):
        gi_star_grid(np.array([[1.0, 2, -1], [0, 1, 2]]), transform="B", seed=1)


def test_gi_star_rejects_values_that_are_all_equal() -> None:
    with pytest.raises(ValueError, match="values are all equal"):
        gi_star_grid(np.full((3, 3), 4.0), transform="B", seed=1)


def test_gi_star_rejects_values_that_are_all_zero() -> None:
    with pytest.raises(ValueError, match="all zero"):
        gi_star_grid(np.zeros((3, 3)), transform="B", seed=1)


def test_gi_star_rejects_fewer_than_three_units() -> None:
    with pytest.raises(ValueError, match="at least 3 units, got 2"):
        gi_star_grid(np.array([[1.0, 2.0]]), transform="B", seed=1)


def test_gi_star_requires_a_seed_for_permutation_inference() -> None:
    with pytest.raises(ValueError, match="pass seed= to make it reproducible"):
        gi_star_grid(np.eye(3), transform="B")


def test_gi_star_rejects_permutation_inference_without_permutations() -> None:
    with pytest.raises(ValueError, match=r'inference="permutation" needs permutations > 0'):
        gi_star_grid(np.eye(3), transform="B", permutations=0)


@pytest.mark.parametrize("permutations", [-1, 9.5, True])
def test_gi_star_rejects_a_permutation_count_that_is_not_a_natural_number(
    permutations: object,
) -> None:
    with pytest.raises(ValueError, match="permutations must be"):
        gi_star_grid(np.eye(3), transform="B", permutations=permutations, seed=1)  # type: ignore[arg-type]


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1])
def test_gi_star_rejects_an_alpha_outside_zero_to_one(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        gi_star_grid(np.eye(3), transform="B", seed=1, alpha=alpha)


def test_gi_star_rejects_neighbours_of_the_wrong_type() -> None:
    with pytest.raises(ValueError, match="neighbours must be a Neighbours, got dict"):
        gi_star([1.0, 2, 3], {0: [1]}, transform="B", seed=1)  # type: ignore[arg-type]


def test_gi_star_grid_rejects_counts_that_are_not_a_grid() -> None:
    with pytest.raises(ValueError, match=r"counts must be a 2-D grid .* got shape \(9,\)"):
        gi_star_grid(np.ones(9), transform="B", seed=1)


@pytest.mark.parametrize(("rows", "columns"), [(0, 3), (3, -1), (2.5, 3)])
def test_grid_contiguity_rejects_a_size_that_is_not_a_positive_integer(
    rows: object, columns: object
) -> None:
    with pytest.raises(ValueError, match="must be a positive integer"):
        grid_neighbours(rows, columns)  # type: ignore[arg-type]


def test_polygon_contiguity_rejects_no_polygons() -> None:
    with pytest.raises(ValueError, match="geometries: no polygons given"):
        polygon_neighbours([])


def test_polygon_contiguity_names_a_geometry_that_is_not_a_polygon() -> None:
    with pytest.raises(ValueError, match=r"geometries\[1\] is Point, expected a non-empty polygon"):
        polygon_neighbours([box(0, 0, 1, 1), Point(3, 3)])


def test_polygon_contiguity_rejects_a_negative_tolerance() -> None:
    with pytest.raises(ValueError, match="tolerance must be a non-negative number"):
        polygon_neighbours([box(0, 0, 1, 1)], tolerance=-1.0)


def test_distance_band_rejects_a_threshold_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="threshold must be a positive distance"):
        distance_band_neighbours([0.0, 1.0], [0.0, 0.0], threshold=0.0)


def test_distance_band_rejects_mismatched_coordinates() -> None:
    with pytest.raises(ValueError, match="x has 2 values but y has 3"):
        distance_band_neighbours([0.0, 1.0], [0.0, 0.0, 1.0], threshold=1.0)


def test_distance_band_names_a_missing_coordinate() -> None:
    with pytest.raises(ValueError, match=r"y\[1\] is nan"):
        distance_band_neighbours([0.0, 1.0], [0.0, np.nan], threshold=1.0)


def test_neighbours_reject_a_one_way_neighbour() -> None:
    with pytest.raises(
        ValueError, match="neighbours must be symmetric: 1 is a neighbour of 0 only"
    ):
        Neighbours(np.array([0, 1, 1, 1]), np.array([1]), "one way")


def test_neighbours_reject_a_unit_that_neighbours_itself() -> None:
    with pytest.raises(ValueError, match="unit 0 is listed as its own neighbour"):
        Neighbours(np.array([0, 1]), np.array([0]), "selfish")


def test_neighbours_reject_a_neighbour_listed_twice() -> None:
    with pytest.raises(ValueError, match="a neighbour is listed twice"):
        Neighbours(np.array([0, 2, 4]), np.array([1, 1, 0, 0]), "doubled")


def test_neighbours_reject_unit_numbers_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"unit numbers must lie in 0\.\.2"):
        Neighbours.from_pairs(3, [0], [3], "too far")


def test_benjamini_hochberg_rejects_a_p_value_above_one() -> None:
    with pytest.raises(ValueError, match=r"p_values\[1\] is 1.5, not in \[0, 1\]"):
        benjamini_hochberg([0.2, 1.5])


def test_benjamini_hochberg_rejects_no_p_values() -> None:
    with pytest.raises(ValueError, match="no p-values given"):
        benjamini_hochberg([])


def test_benjamini_hochberg_names_a_missing_p_value() -> None:
    with pytest.raises(ValueError, match=r"p_values\[0\] is nan"):
        benjamini_hochberg([np.nan, 0.1])
