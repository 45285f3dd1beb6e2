"""Hot spots: Getis-Ord Gi* with permutation inference and false-discovery-rate control.

Gi* (Getis & Ord 1992; Ord & Getis 1995) asks, for each unit (a grid cell or a block
group), whether the unit together with its neighbours holds more (a hot spot) or less (a
cold spot) of the citywide total than chance would give. The "star" means each unit counts
in its own neighbourhood. For unit i with weights w_ij (w_ii included) and values y >= 0:

    G*_i = sum_j w_ij y_j / sum_j y_j

and, under random placement of the values, with W_i = sum_j w_ij, n units, mean ybar and
population variance s^2 of y:

    E[G*_i] = W_i / n,    Var[G*_i] = W_i (n - W_i) / (n - 1) * s^2 / (n^2 ybar^2),
    z_i = (G*_i - E[G*_i]) / sqrt(Var[G*_i]).

Weights are binary contiguity (queen or rook on a grid, queen or rook between polygons, or
a distance band), with two transforms, as in PySAL esda's ``G_Local(star=True)``:

``"B"`` (binary)
    w_ij = 1 for the unit itself and each neighbour: Getis and Ord's Gi* with its exact
    moments under random placement.
``"R"`` (row-standardised)
    w_ij = 1 / (k_i + 1) for the unit and its k_i neighbours, so W_i = 1, and the moments
    above are applied with W_i = 1, exactly as esda does (esda's default transform). The
    exact variance needs sum_j w_ij^2 where the formula has W_i; the two agree for binary
    weights only (here sum_j w_ij^2 = 1 / (k_i + 1)). So "R" z-scores are not the exact
    randomisation z-scores and differ from "B" (exact z-scores would not change when a
    row's weights are scaled); use "R" only to reproduce esda's default output.

There is no default transform: the caller says which. ``tests/analysis/safety/
test_hotspots.py`` checks G* and z against esda 2.9 for both, to 1e-6.

Inference. ``p_analytic`` is the two-sided normal p-value of z (twice esda's one-sided
``p_norm``). ``p_permutation`` comes from conditional randomisation: unit i keeps its own
value, and its k_i neighbour values are replaced by k_i values drawn at random without
replacement from the other n - 1 units, `permutations` times (``seed=`` makes it
reproducible). The p-value is two-sided, ``min(1, 2 (min(n_ge, n_le) + 1) / (P + 1))``,
where n_ge and n_le count the draws whose neighbourhood sum is at least (at most) the
observed one, ties counting on both sides; it is about twice esda's folded one-sided
``p_sim``. The chosen p-values (``inference=``) are adjusted for testing every unit at once
with the Benjamini-Hochberg procedure; a unit is a hot (cold) spot when its adjusted
p-value is at most `alpha` and z is positive (negative).

A permutation p-value cannot fall below 2 / (permutations + 1), and with m units the
Benjamini-Hochberg procedure needs the j-th smallest p-value at most j * alpha / m. On a
grid of many cells the default 999 draws can therefore find nothing even where the
analytic z-scores are huge: use about 2 m / alpha draws or more (``min_attainable_p`` and
the method text report the floor), or ``inference="analytic"``.

Example: a 10 x 10 grid of ones with a 3 x 3 cluster of twenties in it. The cells at the
cluster's centre and the middle of its sides are hot spots (cells are numbered row by row).

>>> import numpy as np
>>> counts = np.ones((10, 10))
>>> counts[3:6, 3:6] = 20
>>> result = gi_star_grid(counts, rule="queen", transform="B", permutations=9999, seed=7)
>>> np.flatnonzero(result.classification == "hot").tolist(), result.n_cold
([34, 43, 44, 45, 54], 0)
>>> round(float(result.z[44]), 2)
9.95
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Transform = Literal["B", "R"]
ContiguityRule = Literal["queen", "rook"]
Inference = Literal["permutation", "analytic"]

HOT = "hot"
COLD = "cold"
NOT_SIGNIFICANT = "not significant"

_DRAWS_PER_BLOCK = 1 << 22  # random draws held at once in the permutation test (32 MB)


@dataclass(frozen=True)
class Neighbours:
    """Which units are neighbours: symmetric, binary, nobody their own neighbour.

    Stored in compressed sparse row form: the neighbours of unit i are
    ``indices[indptr[i]:indptr[i + 1]]`` (sorted when built by `from_pairs` and the
    functions below). Construction checks the structure: offsets consistent, unit numbers
    in range, nobody their own neighbour, no pair listed twice, every pair both ways.

    Fields:
        indptr: n + 1 offsets into `indices`.
        indices: neighbour unit numbers, row by row.
        rule: how the neighbours were found (for the result's method description).
    """

    indptr: IntArray
    indices: IntArray
    rule: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "indptr", np.asarray(self.indptr, dtype=np.int64))
        object.__setattr__(self, "indices", np.asarray(self.indices, dtype=np.int64))
        if self.indptr.ndim != 1 or self.indptr.size < 1 or self.indptr[0] != 0:
            raise ValueError("indptr must be a 1-D array of offsets starting at 0")
        if np.any(np.diff(self.indptr) < 0) or self.indptr[-1] != self.indices.size:
            raise ValueError("indptr must be non-decreasing and end at len(indices)")
        rows = np.repeat(np.arange(self.n), self.cardinalities)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= self.n):
            raise ValueError(f"neighbour numbers must lie in 0..{self.n - 1}")
        if np.any(rows == self.indices):
            first = int(rows[rows == self.indices][0])
            raise ValueError(f"unit {first} is listed as its own neighbour")
        forward = rows * self.n + self.indices
        if np.unique(forward).size != forward.size:
            raise ValueError("a neighbour is listed twice")
        backward = np.sort(self.indices * self.n + rows)
        one_way = np.flatnonzero(~np.isin(forward, backward, assume_unique=True))
        if one_way.size:
            i, j = int(rows[one_way[0]]), int(self.indices[one_way[0]])
            raise ValueError(f"neighbours must be symmetric: {j} is a neighbour of {i} only")

    @property
    def n(self) -> int:
        """Number of units."""
        return int(self.indptr.size - 1)

    @property
    def cardinalities(self) -> IntArray:
        """Number of neighbours of each unit (itself not included)."""
        return np.diff(self.indptr)

    @property
    def n_islands(self) -> int:
        """Units without any neighbour (Gi* then sees only the unit itself)."""
        return int((self.cardinalities == 0).sum())

    def of(self, unit: int) -> IntArray:
        """The neighbours of one unit."""
        return self.indices[self.indptr[unit] : self.indptr[unit + 1]]

    def as_sets(self) -> tuple[frozenset[int], ...]:
        """Each unit's neighbours as a set (for comparisons and inspection)."""
        return tuple(frozenset(self.of(i).tolist()) for i in range(self.n))

    @classmethod
    def from_pairs(
        cls, n: int, first: npt.ArrayLike, second: npt.ArrayLike, rule: str
    ) -> Neighbours:
        """Neighbours from pairs of unit numbers (each pair in either or both orders).

        >>> Neighbours.from_pairs(3, [0, 1], [1, 2], "a chain").as_sets()
        (frozenset({1}), frozenset({0, 2}), frozenset({1}))
        """
        a = np.asarray(first, dtype=np.int64).ravel()
        b = np.asarray(second, dtype=np.int64).ravel()
        if a.size != b.size:
            raise ValueError(f"got {a.size} first units but {b.size} second units")
        if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n):
            raise ValueError(f"unit numbers must lie in 0..{n - 1}")
        distinct = a != b
        rows = np.concatenate([a[distinct], b[distinct]])
        columns = np.concatenate([b[distinct], a[distinct]])
        unique = np.unique(rows * n + columns)
        rows, columns = np.divmod(unique, n)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
        return cls(indptr=indptr, indices=columns.astype(np.int64), rule=rule)


def grid_neighbours(n_rows: int, n_columns: int, *, rule: ContiguityRule = "queen") -> Neighbours:
    """Contiguity between the cells of a regular grid, numbered row by row.

    Cell (r, c) is unit ``r * n_columns + c``. Rook neighbours share an edge (up to 4);
    queen neighbours share an edge or a corner (up to 8).

    >>> grid_neighbours(2, 3, rule="rook").of(0).tolist()
    [1, 3]
    >>> grid_neighbours(2, 3, rule="queen").of(1).tolist()
    [0, 2, 3, 4, 5]
    """
    _check_choice("rule", rule, ContiguityRule)
    for name, size in (("n_rows", n_rows), ("n_columns", n_columns)):
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"{name} must be a positive integer, got {size!r}")
    cells = np.arange(n_rows * n_columns, dtype=np.int64).reshape(n_rows, n_columns)
    steps = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if rule == "queen" else [])
    first: list[IntArray] = []
    second: list[IntArray] = []
    for row_step, column_step in steps:
        here = cells[: n_rows - row_step, max(0, -column_step) : n_columns - max(0, column_step)]
        there = cells[row_step:, max(0, column_step) : n_columns + min(0, column_step)]
        first.append(here.ravel())
        second.append(there.ravel())
    return Neighbours.from_pairs(
        n_rows * n_columns,
        np.concatenate(first),
        np.concatenate(second),
        f"{rule} contiguity on a {n_rows} x {n_columns} grid",
    )


def polygon_neighbours(
    geometries: Sequence[BaseGeometry],
    *,
    rule: ContiguityRule = "queen",
    tolerance: float = 0.0,
) -> Neighbours:
    """Contiguity between polygons from their shared boundary vertices.

    Rule, the same as libpysal's ``Queen``/``Rook.from_iterable``: two polygons are queen
    neighbours when a vertex of one coincides with a vertex of the other, and rook
    neighbours when they share an edge (two consecutive vertices of both). With
    ``tolerance=0`` vertices must be exactly equal, which holds for layers cut from one
    topology (census block groups, districts). A positive `tolerance` (in coordinate
    units) treats vertices closer than that as one, chaining transitively, for layers with
    small digitising gaps. A vertex of one polygon lying in the middle of another's edge
    does not make them neighbours.

    >>> from shapely.geometry import box
    >>> squares = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(1, 1, 2, 2), box(5, 5, 6, 6)]
    >>> [sorted(s) for s in polygon_neighbours(squares).as_sets()]
    [[1, 2], [0, 2], [0, 1], []]
    >>> [sorted(s) for s in polygon_neighbours(squares, rule="rook").as_sets()]
    [[1], [0, 2], [1], []]
    """
    _check_choice("rule", rule, ContiguityRule)
    if not np.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a non-negative number, got {tolerance!r}")
    geoms = np.asarray(list(geometries), dtype=object)
    if geoms.size == 0:
        raise ValueError("geometries: no polygons given")
    for position, geom in enumerate(geoms):
        kind = getattr(geom, "geom_type", type(geom).__name__)
        if kind not in ("Polygon", "MultiPolygon") or geom.is_empty:
            raise ValueError(f"geometries[{position}] is {kind}, expected a non-empty polygon")
    parts, polygon_of_part = shapely.get_parts(geoms, return_index=True)
    rings, part_of_ring = shapely.get_rings(parts, return_index=True)
    coords, ring_of_vertex = shapely.get_coordinates(rings, return_index=True)
    polygon_of_vertex = polygon_of_part[part_of_ring[ring_of_vertex]]

    if tolerance == 0:
        _, vertex_class = np.unique(coords, axis=0, return_inverse=True)
        vertex_class = vertex_class.ravel()
    else:
        close = cKDTree(coords).query_pairs(r=tolerance, output_type="ndarray")
        graph = sparse.coo_matrix(
            (np.ones(len(close)), (close[:, 0], close[:, 1])), shape=(len(coords),) * 2
        )
        _, vertex_class = connected_components(graph, directed=False)
    vertex_class = vertex_class.astype(np.int64)

    if rule == "queen":
        keys, owners = vertex_class, polygon_of_vertex
    else:
        same_ring = ring_of_vertex[1:] == ring_of_vertex[:-1]
        start, end = vertex_class[:-1][same_ring], vertex_class[1:][same_ring]
        real_edge = start != end
        low = np.minimum(start, end)[real_edge]
        high = np.maximum(start, end)[real_edge]
        keys = low * (int(vertex_class.max()) + 1) + high
        owners = polygon_of_vertex[:-1][same_ring][real_edge]
    first, second = _pairs_sharing_a_key(keys, owners)
    description = f"{rule} contiguity between polygons (shared " + (
        "vertices" if rule == "queen" else "edges"
    )
    description += ", exact)" if tolerance == 0 else f", vertices within {tolerance} merged)"
    return Neighbours.from_pairs(geoms.size, first, second, description)


def distance_band_neighbours(x: npt.ArrayLike, y: npt.ArrayLike, *, threshold: float) -> Neighbours:
    """Units whose points (e.g. grid-cell or polygon centres, in a projected CRS) lie within
    `threshold` of each other (distance <= threshold, as libpysal's ``DistanceBand``).

    >>> distance_band_neighbours([0, 1, 3], [0, 0, 0], threshold=1.5).as_sets()
    (frozenset({1}), frozenset({0}), frozenset())
    """
    px = _finite_1d("x", x)
    py = _finite_1d("y", y)
    if px.size != py.size:
        raise ValueError(f"x has {px.size} values but y has {py.size}; they must match")
    if not np.isfinite(threshold) or threshold <= 0:
        raise ValueError(f"threshold must be a positive distance, got {threshold!r}")
    pairs = cKDTree(np.column_stack([px, py])).query_pairs(r=threshold, output_type="ndarray")
    return Neighbours.from_pairs(
        px.size, pairs[:, 0], pairs[:, 1], f"distance band (within {threshold})"
    )


@dataclass(frozen=True)
class HotSpotResult:
    """Gi* for every unit, with analytic and permutation inference and FDR control.

    Arrays are per unit, in the order of the input values (row by row for a grid).

    Fields:
        values: the variable analysed (counts, rates...).
        g: the G*_i statistic, the weighted share of the total in i's neighbourhood
            (esda's ``Gs``).
        expected_g: E[G*_i] under random placement (esda's ``EGs``).
        variance_g: Var[G*_i] under random placement (esda's ``VGs``).
        z: the standardised statistic (esda's ``Zs``); positive for hot, negative for cold.
        p_analytic: two-sided normal p-value of z.
        p_permutation: two-sided conditional-permutation pseudo p-value, or None when
            `permutations` is 0.
        q: Benjamini-Hochberg adjusted p-values of the p-values chosen by `inference`.
        significant: q <= alpha.
        classification: "hot", "cold" or "not significant" per unit.
        n: number of units.
        n_neighbours: neighbours of each unit, itself not included.
        transform: "B" (binary) or "R" (row-standardised); see the module docstring.
        inference: which p-values were FDR-adjusted: "permutation" or "analytic".
        permutations: random draws per unit (0: none).
        seed: the seed of the permutation draws (None when there were none).
        alpha: the false discovery rate controlled.
        grid_shape: (rows, columns) when the units are grid cells, else None.
        method: a sentence describing the analysis, for reports.
    """

    values: FloatArray
    g: FloatArray
    expected_g: FloatArray
    variance_g: FloatArray
    z: FloatArray
    p_analytic: FloatArray
    p_permutation: FloatArray | None
    q: FloatArray
    significant: npt.NDArray[np.bool_]
    classification: npt.NDArray[np.str_]
    n: int
    n_neighbours: IntArray
    transform: Transform
    inference: Inference
    permutations: int
    seed: int | None
    alpha: float
    grid_shape: tuple[int, int] | None
    method: str

    @property
    def min_attainable_p(self) -> float:
        """The smallest permutation p-value possible, 2 / (permutations + 1) (0: none run)."""
        return 2.0 / (self.permutations + 1) if self.permutations else 0.0

    @property
    def n_hot(self) -> int:
        """Units classified as hot spots."""
        return int((self.classification == HOT).sum())

    @property
    def n_cold(self) -> int:
        """Units classified as cold spots."""
        return int((self.classification == COLD).sum())


def gi_star(
    values: npt.ArrayLike,
    neighbours: Neighbours,
    *,
    transform: Transform,
    permutations: int = 999,
    seed: int | None = None,
    alpha: float = 0.05,
    inference: Inference = "permutation",
) -> HotSpotResult:
    """Getis-Ord Gi* hot and cold spots with FDR control (see the module docstring).

    Args:
        values: one non-negative number per unit (a count or rate); not all equal.
        neighbours: the units' contiguity (`grid_neighbours`, `polygon_neighbours`,
            `distance_band_neighbours`), with as many units as `values`.
        transform: "B" for binary weights (Getis and Ord's Gi*), "R" for esda's
            row-standardised variant. No default, because esda's default is "R".
        permutations: conditional-permutation draws per unit; 0 skips them (then
            `inference` must be "analytic").
        seed: seed of the permutation draws; required when `permutations` > 0.
        alpha: false discovery rate for the Benjamini-Hochberg procedure.
        inference: which p-values decide significance.

    >>> import numpy as np
    >>> line = Neighbours.from_pairs(6, [0, 1, 2, 3, 4], [1, 2, 3, 4, 5], "a street")
    >>> result = gi_star(
    ...     np.array([9.0, 8, 1, 1, 0, 1]), line, transform="B", permutations=0,
    ...     inference="analytic",
    ... )
    >>> np.round(result.z, 2).tolist()
    [2.22, 1.62, 0.0, -1.62, -1.62, -1.22]
    """
    y = _finite_1d("values", values)
    _check_choice("transform", transform, Transform)
    _check_choice("inference", inference, Inference)
    if not isinstance(neighbours, Neighbours):
        raise ValueError(f"neighbours must be a Neighbours, got {type(neighbours).__name__}")
    if y.size != neighbours.n:
        raise ValueError(f"values has {y.size} units but neighbours has {neighbours.n}")
    if y.size < 3:
        raise ValueError(f"Gi* needs at least 3 units, got {y.size}")
    negative = np.flatnonzero(y < 0)
    if negative.size:
        raise ValueError(
            f"values[{int(negative[0])}] is {y[negative[0]]}: Gi* needs non-negative values "
            f"(counts or rates); {negative.size} are negative"
        )
    if not y.sum() > 0 or np.all(y == y[0]):
        raise ValueError("values are all equal (or all zero): there is no pattern to test")
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer):
        raise ValueError(f"permutations must be an integer, got {permutations!r}")
    if permutations < 0:
        raise ValueError(f"permutations must be 0 or more, got {permutations}")
    if inference == "permutation" and permutations == 0:
        raise ValueError('inference="permutation" needs permutations > 0 (999 is usual)')
    if permutations > 0 and seed is None:
        raise ValueError("permutation inference is random: pass seed= to make it reproducible")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")

    n = y.size
    k = neighbours.cardinalities
    neighbour_sum = np.add.reduceat(
        np.concatenate([y[neighbours.indices], [0.0]]), neighbours.indptr[:-1]
    )
    neighbour_sum[k == 0] = 0.0  # reduceat returns the next element for empty rows
    if transform == "B":
        row_weight = np.ones(n)
        weight_sum = (k + 1).astype(np.float64)
    else:
        row_weight = 1.0 / (k + 1)
        weight_sum = np.ones(n)
    total = y.sum()
    g = row_weight * (y + neighbour_sum) / total
    mean = total / n
    variance = float(np.mean(y**2) - mean**2)
    expected_g = weight_sum / n
    variance_g = weight_sum * (n - weight_sum) / (n - 1) / n**2 * variance / mean**2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (g - expected_g) / np.sqrt(variance_g)
    z = np.where(variance_g > 0, z, 0.0)  # a unit neighbouring everyone has no variation
    p_analytic = np.minimum(1.0, 2.0 * stats.norm.sf(np.abs(z)))

    p_permutation: FloatArray | None = None
    if permutations > 0 and seed is not None:  # seed was checked above
        p_permutation = _permutation_p_values(y, neighbours, neighbour_sum, permutations, seed)
    chosen = (
        p_permutation if inference == "permutation" and p_permutation is not None else p_analytic
    )
    q = benjamini_hochberg(chosen)
    significant = q <= alpha
    classification = np.full(n, NOT_SIGNIFICANT, dtype=object)
    classification[significant & (z > 0)] = HOT
    classification[significant & (z < 0)] = COLD
    weights = "binary weights" if transform == "B" else "row-standardised weights (esda's moments)"
    test = (
        f"conditional permutation test ({permutations} draws, seed {seed}; smallest "
        f"attainable p {2 / (permutations + 1):.2g})"
        if inference == "permutation"
        else "normal approximation"
    )
    method = (
        f"Getis-Ord Gi* (each unit in its own neighbourhood) on {neighbours.rule}, {weights}; "
        f"two-sided p-values from the {test}; Benjamini-Hochberg false discovery rate "
        f"{alpha:g}"
    )
    arrays = [y, g, expected_g, variance_g, z, p_analytic, q, significant]
    if p_permutation is not None:
        arrays.append(p_permutation)
    labels = classification.astype(str)
    for array in [*arrays, labels]:
        array.flags.writeable = False
    return HotSpotResult(
        values=y,
        g=g,
        expected_g=expected_g,
        variance_g=variance_g,
        z=z,
        p_analytic=p_analytic,
        p_permutation=p_permutation,
        q=q,
        significant=significant,
        classification=labels,
        n=n,
        n_neighbours=k,
        transform=transform,
        inference=inference,
        permutations=int(permutations),
        seed=seed if permutations > 0 else None,
        alpha=alpha,
        grid_shape=None,
        method=method,
    )


def gi_star_grid(
    counts: npt.ArrayLike,
    *,
    rule: ContiguityRule = "queen",
    transform: Transform,
    permutations: int = 999,
    seed: int | None = None,
    alpha: float = 0.05,
    inference: Inference = "permutation",
) -> HotSpotResult:
    """Gi* on a regular grid of counts (rows x columns), with grid contiguity.

    The result's arrays run row by row; ``result.z.reshape(result.grid_shape)`` gives the
    grid back. Every cell of the rectangle is a unit, so cells outside the study area
    (water, other cities) count as zeros; trim the grid to the study area first, or build
    `Neighbours` for the cells inside it and call `gi_star`.

    >>> import numpy as np
    >>> result = gi_star_grid(
    ...     np.arange(12.0).reshape(3, 4), transform="B", permutations=0, inference="analytic"
    ... )
    >>> result.grid_shape, result.classification.shape
    ((3, 4), (12,))
    """
    grid = np.asarray(counts, dtype=np.float64)
    if grid.ndim != 2:
        raise ValueError(f"counts must be a 2-D grid (rows x columns), got shape {grid.shape}")
    neighbours = grid_neighbours(grid.shape[0], grid.shape[1], rule=rule)
    result = gi_star(
        grid.ravel(),
        neighbours,
        transform=transform,
        permutations=permutations,
        seed=seed,
        alpha=alpha,
        inference=inference,
    )
    return replace(result, grid_shape=(grid.shape[0], grid.shape[1]))


def benjamini_hochberg(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order.

    q_(i) = min over j >= i of p_(j) * m / j for the sorted p-values p_(1) <= ... <= p_(m),
    capped at 1. Rejecting every test with q <= alpha controls the false discovery rate at
    alpha (for independent or positively dependent tests). The same as
    ``scipy.stats.false_discovery_control(p, method="bh")``.

    >>> benjamini_hochberg([0.01, 0.03, 0.02, 0.50]).tolist()
    [0.04, 0.04, 0.04, 0.5]
    """
    p = _finite_1d("p_values", p_values)
    if p.size == 0:
        raise ValueError("p_values: no p-values given")
    outside = np.flatnonzero((p < 0) | (p > 1))
    if outside.size:
        raise ValueError(f"p_values[{int(outside[0])}] is {p[outside[0]]}, not in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(adjusted, 1.0)
    return q


def _permutation_p_values(
    y: FloatArray,
    neighbours: Neighbours,
    neighbour_sum: FloatArray,
    permutations: int,
    seed: int,
) -> FloatArray:
    """Two-sided conditional-permutation p-values (see the module docstring).

    Within a row the weights of the neighbours are equal (both transforms), so G*_i is an
    increasing function of the sum of the neighbour values; comparing sums is enough.
    Units are handled in groups with the same number of neighbours, in blocks that keep
    the random draws within `_DRAWS_PER_BLOCK`.
    """
    rng = np.random.default_rng(seed)
    n = y.size
    k = neighbours.cardinalities
    p = np.ones(n)  # an island's neighbourhood is itself alone: nothing to permute
    tolerance = 1e-9 * float(np.abs(y).max()) * max(1, int(k.max(initial=0)))
    for size in np.unique(k[k > 0]).tolist():
        units = np.flatnonzero(k == size)
        block = max(1, _DRAWS_PER_BLOCK // (permutations * size))
        for start in range(0, units.size, block):
            chunk = units[start : start + block]
            draws = _sample_without_replacement(rng, n - 1, size, (chunk.size, permutations))
            # Draws number the other n - 1 units; skip over the unit itself.
            draws += draws >= chunk[None, :, None]
            simulated = y[draws].sum(axis=0)
            observed = neighbour_sum[chunk][:, None]
            at_least = (simulated >= observed - tolerance).sum(axis=1)
            at_most = (simulated <= observed + tolerance).sum(axis=1)
            p[chunk] = np.minimum(
                1.0, 2.0 * (np.minimum(at_least, at_most) + 1) / (permutations + 1)
            )
    return p


def _sample_without_replacement(
    rng: np.random.Generator, population: int, size: int, shape: tuple[int, int]
) -> IntArray:
    """`shape` independent uniform samples of `size` distinct integers from range(population).

    Returns an array of shape ``(size, *shape)``: sample members run along the first axis,
    so that each member is one contiguous array. Small samples from a large population are
    drawn with replacement and any sample with a repeat is drawn again whole (which keeps
    every sample uniform). When repeats would be common (size near the square root of the
    population or more), each sample is the `size` smallest of `population` random keys,
    computed a slice at a time to bound memory.
    """
    if size * (size - 1) <= population:  # then at least ~60% of samples have no repeat
        draws = rng.integers(0, population, size=(size, *shape), dtype=np.int64)
        while True:
            repeated = _has_repeat(draws)
            if not repeated.any():
                return draws
            draws[:, repeated] = rng.integers(
                0, population, size=(size, int(repeated.sum())), dtype=np.int64
            )
    flat = np.empty((shape[0] * shape[1], size), dtype=np.int64)
    rows_per_slice = max(1, _DRAWS_PER_BLOCK // population)
    for start in range(0, flat.shape[0], rows_per_slice):
        stop = min(start + rows_per_slice, flat.shape[0])
        keys = rng.random((stop - start, population))
        flat[start:stop] = np.argpartition(keys, size - 1, axis=-1)[:, :size]
    return np.ascontiguousarray(flat.T).reshape(size, *shape)


def _has_repeat(draws: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each sample (along the first axis) holds some number twice."""
    size = draws.shape[0]
    if size > 16:  # sorting beats comparing every pair
        ordered = np.sort(draws, axis=0)
        repeated: npt.NDArray[np.bool_] = (ordered[1:] == ordered[:-1]).any(axis=0)
        return repeated
    repeated = np.zeros(draws.shape[1:], dtype=bool)
    for first in range(size):
        for second in range(first + 1, size):
            repeated |= draws[first] == draws[second]
    return repeated


def _pairs_sharing_a_key(keys: IntArray, owners: IntArray) -> tuple[IntArray, IntArray]:
    """All pairs of distinct owners that hold the same key (a vertex or an edge)."""
    combined = np.unique(np.column_stack([keys, owners]), axis=0)
    keys, owners = combined[:, 0], combined[:, 1]
    first: list[IntArray] = []
    second: list[IntArray] = []
    offset = 1
    while offset < keys.size:
        same = keys[offset:] == keys[:-offset]
        if not same.any():
            break
        first.append(owners[:-offset][same])
        second.append(owners[offset:][same])
        offset += 1
    if not first:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(first), np.concatenate(second)


def _finite_1d(name: str, values: npt.ArrayLike) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numbers ({error})") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(
            f"{name}[{int(bad[0])}] is {array[bad[0]]}; every value must be a finite number "
            f"({bad.size} are not)"
        )
    return array


def _check_choice(name: str, value: object, options: object) -> None:
    allowed = get_args(options)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
