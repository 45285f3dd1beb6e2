"""Geography for the safety data lab: points into areas, and populations between geographies.

Three tools, all on plain arrays and shapely geometries in WGS84 longitude/latitude:

``assign_points``
    Puts each point (a call for service, an incident, a 311 request) into the area that
    contains it: block group, neighbourhood council district, council district, police
    district. It is built for millions of points. A regular grid is laid over the areas;
    every grid cell that no area boundary passes through lies wholly inside one area (or
    outside all of them), so its points are assigned by a table lookup. Only the points in
    cells that a boundary crosses get an exact shapely test. Every input point is accounted
    for: assigned, missing (NaN, None or infinite coordinate) or outside every area.

``detect_swapped_coordinates``
    Checks whether latitude and longitude look swapped, by comparing the share of points
    that fall inside the areas as given with the share when the two columns are exchanged.

``areal_interpolate``
    Moves an extensive quantity (population, households, a count) from one set of polygons
    to another that does not nest in it, in proportion to the overlapping area, measured in
    an equal-area projection. Whatever falls outside every target is reported, not lost.

Example: two side-by-side squares and four points (one on the shared border, one outside,
one missing).

>>> import numpy as np
>>> from shapely.geometry import box
>>> areas = [Area("west", box(0, 0, 1, 1)), Area("east", box(1, 0, 2, 1))]
>>> result = assign_points(
...     np.array([0.5, 1.0, 5.0, np.nan]), np.array([0.5, 0.5, 5.0, 0.5]), areas
... )
>>> result.point_codes().tolist()
['west', 'west', '', '']
>>> result.count_by_code(), result.n_outside, result.n_missing
({'west': 2, 'east': 0}, 1, 1)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from scipy import ndimage
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: Area numbers per point: int64 unless a smaller type was asked for (`assign_points_layers`).
AreaIndexArray = npt.NDArray[np.signedinteger[Any]]

#: `Assignment.area_index` value for a point with a valid position inside no area.
OUTSIDE = -1
#: `Assignment.area_index` value for a point whose longitude or latitude is missing.
MISSING = -2

#: The equal-area projection `areal_interpolate` measures areas in unless told otherwise.
EQUAL_AREA_CRS = "EPSG:6933"

#: Tacoma's boundary layers shipped with csas: block groups with the 2024 Equity Index,
#: council districts, neighbourhood council districts and police districts (City of Tacoma
#: open data, WGS84).
TACOMA_GEO = Path(__file__).resolve().parents[2] / "data" / "geo" / "tacoma"

#: Points looked up at a time: small enough for a block's temporary arrays to stay in the
#: processor's cache while every layer reads them.
_BLOCK = 1 << 16
_BORDER = -3  # cell class: a boundary passes through this cell, points need an exact test
_EDGE = -4  # cell class of the lookup table's frame: points there are checked exactly
#: The lookup table holds class + _SHIFT, never negative (the lowest class is _EDGE): its
#: entries can be counted as they are, and an unsigned type holds them.
_SHIFT = -_EDGE


@dataclass(frozen=True)
class Area:
    """One named area: a code (GEOID, district name...) and its polygon in WGS84 lon/lat.

    Fields:
        code: the area's identifier, unique within a set of areas.
        geometry: a shapely Polygon or MultiPolygon with longitude as x and latitude as y.
            It must be valid (``shapely.make_valid`` repairs most digitising errors) and
            have a positive area.
    """

    code: str
    geometry: BaseGeometry

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code:
            raise ValueError(f"area code must be a non-empty string, got {self.code!r}")
        kind = getattr(self.geometry, "geom_type", type(self.geometry).__name__)
        if kind not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"area {self.code!r}: geometry is a {kind}, expected a polygon")
        if self.geometry.is_empty:
            raise ValueError(f"area {self.code!r}: geometry is empty")
        if not shapely.is_valid(self.geometry):
            reason = shapely.is_valid_reason(self.geometry)
            raise ValueError(
                f"area {self.code!r}: geometry is invalid ({reason}); "
                "repair it with shapely.make_valid"
            )
        if not self.geometry.area > 0:
            raise ValueError(f"area {self.code!r}: geometry has no area")


def areas_from_geojson(path: str | Path, *, code_property: str) -> tuple[Area, ...]:
    """Read the polygons of a GeoJSON FeatureCollection as areas, coded by one property.

    The file must be in WGS84 longitude/latitude, as RFC 7946 requires (a legacy ``crs``
    member naming anything other than CRS84 or EPSG:4326 is rejected). Codes are the
    property's values as strings (``3`` becomes ``"3"``) and must be present and unique.

    >>> from csas.analysis.safety.geo import TACOMA_GEO
    >>> districts = areas_from_geojson(
    ...     TACOMA_GEO / "City_Council_Districts.geojson", code_property="district"
    ... )
    >>> [area.code for area in districts]
    ['1', '2', '3', '4', '5']
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a UTF-8 JSON file ({error})") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValueError(f"{path}: expected a GeoJSON FeatureCollection")
    crs_name = str(data.get("crs", {}).get("properties", {}).get("name", "CRS84"))
    if not crs_name.upper().endswith(("CRS84", "4326")):
        raise ValueError(f"{path}: coordinates are in {crs_name}, expected WGS84 (CRS84)")
    areas: list[Area] = []
    seen: dict[str, int] = {}
    for number, feature in enumerate(data.get("features", [])):
        properties = feature.get("properties") or {}
        value = properties.get(code_property)
        if value is None or value == "":
            raise ValueError(f"{path}: feature {number} has no {code_property!r} property")
        code = str(value)
        if code in seen:
            raise ValueError(
                f"{path}: features {seen[code]} and {number} share {code_property} {code!r}"
            )
        seen[code] = number
        if not feature.get("geometry"):
            raise ValueError(f"{path}: feature {number} ({code_property} {code!r}) has no geometry")
        try:
            areas.append(Area(code, shape(feature["geometry"])))
        except ValueError as error:
            raise ValueError(f"{path}: feature {number}: {error}") from None
    if not areas:
        raise ValueError(f"{path}: the file has no features")
    return tuple(areas)


@dataclass(frozen=True)
class Assignment:
    """Where each point fell. Every input point is counted exactly once.

    Fields:
        codes: the area codes, in the order the areas were given.
        area_index: per point, the index into `codes` of its area, or `OUTSIDE` (-1) for a
            valid position in no area, or `MISSING` (-2) for a missing or non-finite
            longitude or latitude (int64, or the type asked of `assign_points_layers`).
        counts: points per area, aligned with `codes`.
        n_total: points given.
        n_missing: points with a missing (NaN, None) or infinite coordinate.
        n_outside: points with valid coordinates inside no area.
        n_exact_tests: points that needed an exact point-in-polygon test (the rest were
            settled by the grid lookup); a measure of how much work the grid saved.
        grid_shape: (rows, columns) of the lookup grid.
        method: how points were assigned, including the rules for borders and overlaps.
    """

    codes: tuple[str, ...]
    area_index: AreaIndexArray
    counts: IntArray
    n_total: int
    n_missing: int
    n_outside: int
    n_exact_tests: int
    grid_shape: tuple[int, int]
    method: str

    def __post_init__(self) -> None:
        if self.n_assigned + self.n_missing + self.n_outside != self.n_total:
            raise AssertionError("assignment lost points: assigned + missing + outside != total")

    @property
    def n_assigned(self) -> int:
        """Points inside some area."""
        return int(self.counts.sum())

    def count_by_code(self) -> dict[str, int]:
        """Points per area code, in the order the areas were given."""
        return dict(zip(self.codes, (int(c) for c in self.counts), strict=True))

    def point_codes(self, *, outside: str = "", missing: str = "") -> npt.NDArray[np.str_]:
        """Each point's area code, with `outside` and `missing` for unassigned points."""
        labels = np.array([*self.codes, missing, outside])  # -2 -> missing, -1 -> outside
        return labels[self.area_index]


def assign_points(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    areas: Sequence[Area],
    *,
    grid_size: int | None = None,
) -> Assignment:
    """Assign each point to the area that contains it.

    Rules:
        * A point on an area's boundary counts as inside it (shapely ``intersects``), so a
          point on the border of two areas is never lost between them.
        * Where areas overlap (or share a border), the point goes to the first area in
          `areas` that contains it.
        * A point whose longitude or latitude is NaN, None or infinite is counted in
          `n_missing`; a point with valid coordinates in no area is counted in `n_outside`.

    Method: a grid of ``grid_size`` cells along its longer side (default: about the square
    root of the number of points, between 64 and 4096) is laid over the areas' bounds. Every
    area boundary is cut into pieces no longer than a cell and the cells they touch (with a
    small margin for rounding) are marked. The unmarked cells form connected pieces that no
    boundary crosses, so each piece lies inside one fixed set of areas; one point per piece
    is tested exactly. Points in unmarked cells are then assigned by looking up their cell;
    points in marked cells are tested exactly with ``shapely.intersects_xy`` against the
    areas whose bounding box holds them. The result equals a per-point shapely test.

    To assign the same points to several sets of areas, `assign_points_layers` gives the
    same answers with less work.

    Args:
        lon, lat: longitudes and latitudes (WGS84 degrees), same length.
        areas: the areas, with unique codes, in priority order.
        grid_size: cells along the grid's longer side (at least 1); None chooses.

    >>> import numpy as np
    >>> from shapely.geometry import box
    >>> result = assign_points(
    ...     np.array([0.2, 0.7, 3.0]), np.array([0.2, 0.7, 3.0]), [Area("a", box(0, 0, 1, 1))]
    ... )
    >>> result.area_index.tolist(), result.n_outside
    ([0, 0, -1], 1)
    """
    x, y = _coordinate_arrays(lon, lat)
    area_list = _checked_areas(areas)
    _check_grid_size(grid_size)
    return _assign_layers(x, y, [area_list], grid_size, np.int64)[0]


def assign_points_layers(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    layers: Sequence[Sequence[Area]],
    *,
    grid_size: int | None = None,
    index_type: type[np.signedinteger[Any]] = np.int64,
) -> tuple[Assignment, ...]:
    """Assign each point to its area in each of several layers (block groups, districts...).

    The result is exactly ``tuple(assign_points(lon, lat, areas, grid_size=grid_size) for
    areas in layers)``, every field included, so a caller can switch between the two. It is
    cheaper for millions of points: the coordinates are checked once, layers whose grids
    coincide share each point's cell, and the points are walked in blocks, one grid at a
    time, so that the arithmetic's temporary arrays and much of the grid's table stay in
    the processor's cache (see `_look_up`).

    Args:
        lon, lat: longitudes and latitudes (WGS84 degrees), same length.
        layers: one sequence of areas per layer (unique codes within a layer, in priority
            order); the layers need not cover the same ground.
        grid_size: cells along each grid's longer side (at least 1); None chooses, as
            `assign_points` does.
        index_type: the signed integer type of each `Assignment.area_index` (default
            int64, as `assign_points` gives). A smaller one (np.int16) holds the same
            numbers in a quarter of the memory, which for millions of points also saves
            the time of getting that memory; it must hold every layer's area numbers.

    >>> import numpy as np
    >>> from shapely.geometry import box
    >>> halves = [Area("west", box(0, 0, 1, 2)), Area("east", box(1, 0, 2, 2))]
    >>> bands = [Area("south", box(0, 0, 2, 1)), Area("north", box(0, 1, 2, 2))]
    >>> by_half, by_band = assign_points_layers([0.5, 1.5, 9.0], [1.5, 0.5, 9.0], [halves, bands])
    >>> by_half.point_codes().tolist(), by_band.point_codes().tolist()
    (['west', 'east', ''], ['north', 'south', ''])
    """
    x, y = _coordinate_arrays(lon, lat)
    area_lists = [
        _checked_areas(areas, role=f"layers[{number}]") for number, areas in enumerate(layers)
    ]
    _check_grid_size(grid_size)
    kind = np.dtype(index_type)
    largest = max((len(areas) for areas in area_lists), default=0)
    if kind.kind != "i" or largest - 1 > np.iinfo(kind).max:
        raise ValueError(
            f"index_type must be a signed integer type holding area numbers up to "
            f"{largest - 1}, got {index_type!r}"
        )
    return _assign_layers(x, y, area_lists, grid_size, kind.type)


def _check_grid_size(grid_size: int | None) -> None:
    if grid_size is not None and (isinstance(grid_size, bool) or grid_size < 1):
        raise ValueError(f"grid_size must be a positive integer, got {grid_size!r}")


def _assign_layers(
    x: FloatArray,
    y: FloatArray,
    area_lists: Sequence[list[Area]],
    grid_size: int | None,
    index_type: type[np.signedinteger[Any]],
) -> tuple[Assignment, ...]:
    """The work of `assign_points_layers`, on checked coordinates and areas."""
    n = x.size
    n_valid = sum(
        int(
            np.count_nonzero(
                np.isfinite(x[start : start + _BLOCK]) & np.isfinite(y[start : start + _BLOCK])
            )
        )
        for start in range(0, n, _BLOCK)
    )
    if grid_size is None:
        grid_size = int(np.clip(np.sqrt(max(n_valid, 1)), 64, 4096))
    grids = []
    scratch = _Scratch()
    for area_list in area_lists:
        geometries = np.array([area.geometry for area in area_list], dtype=object)
        shapely.prepare(geometries)
        grids.append(_LookupGrid(geometries, grid_size, scratch))
    del scratch
    area_indexes: list[AreaIndexArray] = [np.empty(n, dtype=index_type) for _ in grids]
    tallies, unsettled = _look_up(x, y, grids, area_indexes)

    results = []
    for area_list, grid, area_index, tally, positions in zip(
        area_lists, grids, area_indexes, tallies, unsettled, strict=True
    ):
        n_exact = grid.settle(x, y, positions, area_index, tally)
        counts = tally[_SHIFT:].astype(np.int64)
        area_index.flags.writeable = False
        counts.flags.writeable = False
        rows, columns = grid.shape
        method = (
            f"grid lookup ({rows} x {columns} cells over the areas' bounds; points in cells a "
            f"boundary crosses tested exactly with shapely.intersects_xy: {n_exact} of {n}); "
            "a point on a boundary counts as inside; where areas overlap or touch, the first "
            "area listed wins"
        )
        results.append(
            Assignment(
                codes=tuple(area.code for area in area_list),
                area_index=area_index,
                counts=counts,
                n_total=n,
                n_missing=n - n_valid,
                n_outside=int(tally[_SHIFT + OUTSIDE]),
                n_exact_tests=n_exact,
                grid_shape=grid.shape,
                method=method,
            )
        )
    return tuple(results)


def _look_up(
    x: FloatArray, y: FloatArray, grids: Sequence[_LookupGrid], out: Sequence[AreaIndexArray]
) -> tuple[list[IntArray], list[IntArray]]:
    """Fill each grid's `out` with its table's answer for every point, block by block.

    Returns, per grid, the tally of the answers (at `_SHIFT` + class) and the positions
    of the points the table could not settle (on a boundary cell, on or past the grid's
    edge, or without valid coordinates), for `_LookupGrid.settle`. Grids with the same
    placement (layers with the same bounds) share each point's cell; one grid's table is
    read for all points before the next one's, so that it stays in the processor's cache.
    """
    n = x.size
    tallies = [np.zeros(grid.n_areas + _SHIFT, dtype=np.int64) for grid in grids]
    unsettled: list[list[IntArray]] = [[] for _ in grids]
    by_placement: dict[tuple[float | int, ...], list[int]] = {}
    for number, grid in enumerate(grids):
        by_placement.setdefault(grid.placement, []).append(number)
    size = min(n, _BLOCK)
    column_buffer, row_buffer = np.empty(size), np.empty(size)
    largest = max((grid.padded.size for grid in grids), default=0)
    index_type: type[np.signedinteger[Any]] = (
        np.int32 if largest <= np.iinfo(np.int32).max else np.int64
    )
    column_index: npt.NDArray[np.signedinteger[Any]] = np.empty(size, index_type)
    cell_index: npt.NDArray[np.signedinteger[Any]] = np.empty(size, index_type)
    for numbers in by_placement.values():
        placed = grids[numbers[0]]
        for start in range(0, n, _BLOCK):
            stop = min(start + _BLOCK, n)
            m = stop - start
            cell = placed.padded_cell(
                x[start:stop],
                y[start:stop],
                column_buffer[:m],
                row_buffer[:m],
                column_index[:m],
                cell_index[:m],
            )
            for number in numbers:
                found = grids[number].padded[cell]
                np.subtract(
                    found, _SHIFT, out=out[number][start:stop], dtype=np.int64, casting="unsafe"
                )
                tallies[number] += np.bincount(found, minlength=tallies[number].size)
                unsettled[number].append(np.flatnonzero(found < OUTSIDE + _SHIFT) + start)
    empty = np.zeros(0, dtype=np.int64)
    return tallies, [np.concatenate(parts) if parts else empty for parts in unsettled]


class _Scratch:
    """Working arrays handed from one grid's construction to the next.

    Each grid needs tens of megabytes of them for a moment. Memory a process has not
    touched lately is slow to get (the system must find and clear every page, and on a
    virtual machine the host may have to supply it too), so one set is reused.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, npt.NDArray[Any]] = {}

    def array(self, name: str, shape: tuple[int, int], dtype: type[np.generic]) -> npt.NDArray[Any]:
        """An uninitialised array of this shape, sharing memory with the last one so named."""
        size = shape[0] * shape[1]
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < size or buffer.dtype != np.dtype(dtype):
            buffer = np.empty(size, dtype=dtype)
            self._buffers[name] = buffer
        return buffer[:size].reshape(shape)


class _LookupGrid:
    """A grid over the areas' bounds: each cell holds an area index, OUTSIDE, or _BORDER.

    The table is kept as `padded`, flattened, with a frame of `_EDGE` cells around it that
    also covers the grid's last row and column (see `padded_cell`); the true classes of
    those two are kept in `last_row` and `last_column`, for `cell_class`.
    """

    def __init__(
        self, geometries: npt.NDArray[np.object_], grid_size: int, scratch: _Scratch | None = None
    ) -> None:
        self.geometries = geometries
        self.n_areas = len(geometries)
        self.bounds = shapely.bounds(geometries)  # per area: minx, miny, maxx, maxy
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geometries))
        width, height = maxx - minx, maxy - miny
        cell = max(width, height) / grid_size
        self.columns = max(1, int(np.ceil(width / cell)))
        self.rows = max(1, int(np.ceil(height / cell)))
        self.x0, self.y0, self.x1, self.y1 = minx, miny, maxx, maxy
        self.dx, self.dy = width / self.columns, height / self.rows
        # A point computed into a cell may sit a few ulps outside it; widen each cell by
        # far more than that when deciding whether a boundary touches it.
        self.margin_x, self.margin_y = self.dx * 1e-6, self.dy * 1e-6
        self.padded, self.last_row, self.last_column = self._classify_cells(scratch or _Scratch())

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.columns)

    @property
    def placement(self) -> tuple[float | int, ...]:
        """Everything that decides which cell a point falls in."""
        return (self.x0, self.y0, self.x1, self.y1, self.dx, self.dy, self.rows, self.columns)

    def _cell_of(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, IntArray]:
        column = np.floor((x - self.x0) / self.dx).astype(np.int64)
        row = np.floor((y - self.y0) / self.dy).astype(np.int64)
        np.clip(column, 0, self.columns - 1, out=column)
        np.clip(row, 0, self.rows - 1, out=row)
        return row, column

    def _classify_cells(
        self, scratch: _Scratch
    ) -> tuple[
        npt.NDArray[np.unsignedinteger[Any]],
        npt.NDArray[np.unsignedinteger[Any]],
        npt.NDArray[np.unsignedinteger[Any]],
    ]:
        """The padded table, and the true classes of the last row and column."""
        free = scratch.array("free", self.shape, np.bool_)
        free.fill(True)
        rings = shapely.get_rings(shapely.get_parts(self.geometries))
        rings = shapely.segmentize(rings, max_segment_length=min(self.dx, self.dy))
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        same_ring = ring_of[1:] == ring_of[:-1]
        start, end = coords[:-1][same_ring], coords[1:][same_ring]
        low_x = np.minimum(start[:, 0], end[:, 0]) - self.margin_x
        high_x = np.maximum(start[:, 0], end[:, 0]) + self.margin_x
        low_y = np.minimum(start[:, 1], end[:, 1]) - self.margin_y
        high_y = np.maximum(start[:, 1], end[:, 1]) + self.margin_y
        first_row, first_column = self._cell_of(low_x, low_y)
        last_row, last_column = self._cell_of(high_x, high_y)
        # Pieces are at most one cell long, so each spans at most three cells per axis.
        span = int(
            max((last_row - first_row).max(initial=0), (last_column - first_column).max(initial=0))
        )
        for row_step in range(span + 1):
            for column_step in range(span + 1):
                row, column = first_row + row_step, first_column + column_step
                inside = (row <= last_row) & (column <= last_column)
                free[row[inside], column[inside]] = False  # a boundary passes: marked

        # Edge-connected unmarked cells are joined by paths no boundary crosses, so one
        # exact test per connected piece settles every cell in it.
        pieces = scratch.array("pieces", self.shape, np.int32)
        n_pieces = int(ndimage.label(free, output=pieces))
        first = _first_cell_of_each_piece(pieces, n_pieces)
        row, column = np.divmod(first, self.columns)
        centre_x = (self.x0 + (column + 0.5) * self.dx).astype(np.float64)
        centre_y = (self.y0 + (row + 0.5) * self.dy).astype(np.float64)
        # Piece 0 is the marked cells themselves.
        classes = np.concatenate([[_BORDER], self._exact(centre_x, centre_y)]) + _SHIFT
        piece_class: npt.NDArray[np.unsignedinteger[Any]] = classes.astype(self._class_type)
        padded: npt.NDArray[np.unsignedinteger[Any]] = np.full(
            (self.rows + 2, self.columns + 2), _EDGE + _SHIFT, self._class_type
        )
        cells = padded[1 : self.rows + 1, 1 : self.columns + 1]
        np.take(piece_class, pieces, out=cells, mode="clip")  # (labels are all in range)
        final_row, final_column = cells[-1].copy(), cells[:, -1].copy()
        # A point computed into the last row or column may lie just past the bounds.
        cells[-1] = _EDGE + _SHIFT
        cells[:, -1] = _EDGE + _SHIFT
        return padded.ravel(), final_row, final_column

    @property
    def _class_type(self) -> type[np.unsignedinteger[Any]]:
        """The smallest type holding every table entry: lookups into a smaller table are
        quicker, as more of it stays in the processor's cache."""
        for kind in (np.uint8, np.uint16):
            if self.n_areas - 1 + _SHIFT <= np.iinfo(kind).max:
                return kind
        return np.uint32

    def cell_class(self, row: IntArray, column: IntArray) -> IntArray:
        """The class of each cell (as `_cell_of` gives them): area, OUTSIDE or _BORDER."""
        found = self.padded.reshape(self.rows + 2, self.columns + 2)[row + 1, column + 1]
        last = row == self.rows - 1
        found[last] = self.last_row[column[last]]
        last = column == self.columns - 1
        found[last] = self.last_column[row[last]]
        return found.astype(np.int64) - _SHIFT

    def padded_cell(
        self,
        x: FloatArray,
        y: FloatArray,
        column_buffer: FloatArray,
        row_buffer: FloatArray,
        column_index: npt.NDArray[np.signedinteger[Any]],
        cell_index: npt.NDArray[np.signedinteger[Any]],
    ) -> npt.NDArray[np.signedinteger[Any]]:
        """Each point's place in `padded`, computed in the given buffers (returns one).

        Column and row come from the same arithmetic as `_cell_of`, so a point inside the
        frame gets the cell `_cell_of` gives it; they are clamped to one cell beyond the
        grid before being rounded down to integers (``fmax`` and ``fmin`` also put NaN in
        the frame). So every point lands in the table. A point in the frame may lie
        outside the areas' bounds, on them, or have a coordinate that is not a number: it
        is checked exactly (`settle`). Inside the frame, a point is within the bounds
        without checking: whatever rounding does, a coordinate past the bounds computes
        to the last cell or beyond, which is why the last row and column are in the frame.
        """
        for values, origin, step, count, target, index in (
            (x, self.x0, self.dx, self.columns, column_buffer, column_index),
            (y, self.y0, self.dy, self.rows, row_buffer, cell_index),
        ):
            np.subtract(values, origin, out=target)
            np.divide(target, step, out=target)
            np.fmax(target, -1.0, out=target)
            np.fmin(target, float(count), out=target)
            np.floor(target, out=index, casting="unsafe")
        width = self.columns + 2
        cell_index *= width
        cell_index += column_index
        cell_index += width + 1
        return cell_index

    def settle(
        self,
        x: FloatArray,
        y: FloatArray,
        positions: IntArray,
        out: AreaIndexArray,
        tally: IntArray,
    ) -> int:
        """Settle the points at `positions` the table left open; return the exact tests.

        These are the points `_look_up` found on a boundary cell or in the frame: each is
        given MISSING, OUTSIDE, its cell's area, or the answer of an exact test, as
        `assign_points` defines them, and `tally` is moved from the table's answer to it.
        """
        if not positions.size:
            return 0
        tally -= np.bincount(out[positions] + _SHIFT, minlength=tally.size)
        px, py = x[positions], y[positions]
        valid = np.isfinite(px) & np.isfinite(py)
        with np.errstate(invalid="ignore"):
            in_box = (px >= self.x0) & (px <= self.x1) & (py >= self.y0) & (py <= self.y1)
        result = np.where(valid, OUTSIDE, MISSING).astype(np.int64)
        inside = np.flatnonzero(in_box & valid)
        row, column = self._cell_of(px[inside], py[inside])
        found = self.cell_class(row, column)
        border = found == _BORDER
        if border.any():
            found[border] = self._exact(px[inside[border]], py[inside[border]])
        result[inside] = found
        out[positions] = result
        tally += np.bincount(result + _SHIFT, minlength=tally.size)
        return int(border.sum())

    def _exact(self, x: FloatArray, y: FloatArray) -> IntArray:
        """First area (in the given order) whose closure holds each point, else OUTSIDE.

        Points are sorted by cell, so the candidates for an area (the points in the cells
        under its bounding box) are one contiguous run per grid row: the work grows with
        the number of candidate pairs, not with points times areas.
        """
        result = np.full(x.size, OUTSIDE, dtype=np.int64)
        row, column = self._cell_of(x, y)
        cell = row * self.columns + column
        order = np.argsort(cell, kind="stable")
        sorted_cell = cell[order]
        low_row, low_column = self._cell_of(self.bounds[:, 0], self.bounds[:, 1])
        high_row, high_column = self._cell_of(self.bounds[:, 2], self.bounds[:, 3])
        for index, geometry in enumerate(self.geometries):
            rows = np.arange(low_row[index], high_row[index] + 1)
            starts = np.searchsorted(sorted_cell, rows * self.columns + low_column[index])
            stops = np.searchsorted(
                sorted_cell, rows * self.columns + high_column[index], side="right"
            )
            candidates = order[_concatenated_ranges(starts, stops)]
            candidates = candidates[result[candidates] == OUTSIDE]
            if candidates.size:
                hit = shapely.intersects_xy(geometry, x[candidates], y[candidates])
                result[candidates[hit]] = index
        return result


@dataclass(frozen=True)
class SwapCheck:
    """Whether longitude and latitude look swapped.

    Fields:
        likely_swapped: True when exchanging the columns puts at least `min_share` of the
            checked points inside the areas and more of them than as given.
        share_inside_as_given: share of checked points inside some area, as given.
        share_inside_if_swapped: the same share with longitude and latitude exchanged.
        n_checked: points checked (a deterministic, evenly spaced sample of valid points).
        min_share: the share the swapped reading had to reach.
    """

    likely_swapped: bool
    share_inside_as_given: float
    share_inside_if_swapped: float
    n_checked: int
    min_share: float


def detect_swapped_coordinates(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    areas: Sequence[Area],
    *,
    sample_size: int = 10_000,
    min_share: float = 0.5,
) -> SwapCheck:
    """Check whether the longitude and latitude columns look exchanged.

    The check takes up to `sample_size` valid points, evenly spaced through the input (no
    randomness, so the answer is reproducible), and assigns them to `areas` twice: as given
    and with the two columns exchanged. It reports swapped when the exchanged reading puts
    at least `min_share` of them inside an area and more than the reading as given. A file
    whose points mostly lie outside the areas either way is not called swapped; the
    assignment's `n_outside` reports that problem.

    >>> import numpy as np
    >>> from shapely.geometry import box
    >>> city = [Area("city", box(-122.6, 47.1, -122.3, 47.4))]
    >>> check = detect_swapped_coordinates(np.array([47.2, 47.3]), np.array([-122.5, -122.4]), city)
    >>> check.likely_swapped, check.share_inside_if_swapped
    (True, 1.0)
    """
    x, y = _coordinate_arrays(lon, lat)
    if isinstance(sample_size, bool) or sample_size < 1:
        raise ValueError(f"sample_size must be a positive integer, got {sample_size!r}")
    if not 0.0 < min_share <= 1.0:
        raise ValueError(f"min_share must be in (0, 1], got {min_share!r}")
    valid = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if not valid.size:
        raise ValueError("no point has both a finite longitude and latitude to check")
    step = max(1, valid.size // sample_size)
    sample = valid[::step][:sample_size]
    as_given = assign_points(x[sample], y[sample], areas)
    swapped = assign_points(y[sample], x[sample], areas)
    share_given = as_given.n_assigned / sample.size
    share_swapped = swapped.n_assigned / sample.size
    return SwapCheck(
        likely_swapped=bool(share_swapped >= min_share and share_swapped > share_given),
        share_inside_as_given=share_given,
        share_inside_if_swapped=share_swapped,
        n_checked=int(sample.size),
        min_share=min_share,
    )


@dataclass(frozen=True)
class ArealInterpolation:
    """An extensive quantity moved from source areas to target areas by area share.

    Fields:
        target_codes: the target area codes, in the order given.
        target_totals: the amount given to each target.
        outside: the amount that fell outside every target (source area not covered by any).
        source_total: the sum of the source values; ``target_totals.sum() + outside`` equals
            it up to floating-point rounding.
        source_codes: the source area codes, in the order given.
        shares: (sources x targets) share of each source's area lying in each target.
        outside_shares: per source, the share of its area outside every target.
        max_target_overlap_share: the largest share of a source's area covered by two or
            more targets at once (digitising slivers). Each source's pieces are scaled
            down in proportion so that they add up to its area covered by the union of the
            targets, so nothing is counted twice.
        crs: the equal-area projection the areas were measured in.
        method: how the amount was apportioned.
    """

    target_codes: tuple[str, ...]
    target_totals: FloatArray
    outside: float
    source_total: float
    source_codes: tuple[str, ...]
    shares: FloatArray
    outside_shares: FloatArray
    max_target_overlap_share: float
    crs: str
    method: str

    def total_by_code(self) -> dict[str, float]:
        """The amount per target code, in the order the targets were given."""
        return dict(zip(self.target_codes, (float(v) for v in self.target_totals), strict=True))


def areal_interpolate(
    source_values: npt.ArrayLike,
    source_areas: Sequence[Area],
    target_areas: Sequence[Area],
    *,
    crs: str = EQUAL_AREA_CRS,
    max_overlap_share: float = 0.01,
) -> ArealInterpolation:
    """Move an extensive quantity (population, households) from source to target areas.

    Each source's value is split among the targets in proportion to the share of the
    source's area inside each target (areal weighting: the quantity is assumed spread
    evenly over each source). The share outside every target goes to `outside`, so
    ``sum(target_totals) + outside == sum(source_values)``.

    Areas are measured after projecting to `crs`, by default EPSG:6933 (WGS 84 / NSIDC
    EASE-Grid 2.0 Global, a cylindrical equal-area projection): shares of area are then
    true shares of ground area anywhere on Earth. A local projection such as Washington
    State Plane South (EPSG:2927, a conformal projection) gives the same shares to about
    one part in ten thousand over a city.

    Targets should not overlap. Where slivers do (digitising errors), each source's pieces
    are scaled down in proportion to add up to its area covered by the targets' union, so
    nothing is counted twice; an overlap of more than `max_overlap_share` of any
    source's area is an error, because it means the targets are not one partition.

    Args:
        source_values: the quantity per source area (finite numbers), same length as
            `source_areas`.
        source_areas, target_areas: the two geographies, each with unique codes.
        crs: an equal-area (or local) projected CRS understood by pyproj.
        max_overlap_share: the largest tolerated share of a source lying in two targets.

    >>> from shapely.geometry import box
    >>> sources = [Area("tract", box(0, 0, 0.02, 0.01))]
    >>> targets = [Area("west", box(0, 0, 0.01, 0.01)), Area("east", box(0.01, 0, 0.015, 0.01))]
    >>> result = areal_interpolate([1000.0], sources, targets)
    >>> {code: round(total) for code, total in result.total_by_code().items()}
    {'west': 500, 'east': 250}
    >>> round(result.outside)
    250
    """
    sources = _checked_areas(source_areas, role="source_areas")
    targets = _checked_areas(target_areas, role="target_areas")
    values = _finite_values(source_values, sources)
    if not 0.0 <= max_overlap_share < 1.0:
        raise ValueError(f"max_overlap_share must be in [0, 1), got {max_overlap_share!r}")
    try:
        transformer = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    except pyproj.exceptions.CRSError as error:
        raise ValueError(f"crs {crs!r} is not a coordinate reference system: {error}") from None
    if pyproj.CRS.from_user_input(crs).is_geographic:
        raise ValueError(f"crs {crs!r} is geographic (degrees); give a projected equal-area CRS")

    def project(areas: list[Area]) -> npt.NDArray[np.object_]:
        geometries = np.array([area.geometry for area in areas], dtype=object)
        projected: npt.NDArray[np.object_] = shapely.transform(
            geometries, transformer.transform, interleaved=False
        )
        return projected

    source_geoms = project(sources)
    target_geoms = project(targets)
    source_area = shapely.area(source_geoms)
    tree = shapely.STRtree(target_geoms)
    pairs = tree.query(source_geoms, predicate="intersects")
    overlap_area = np.zeros((len(sources), len(targets)))
    if pairs.size:
        pieces = shapely.intersection(source_geoms[pairs[0]], target_geoms[pairs[1]])
        overlap_area[pairs[0], pairs[1]] = shapely.area(pieces)
    covered_area = shapely.area(shapely.intersection(source_geoms, shapely.union_all(target_geoms)))
    covered_area = np.minimum(covered_area, source_area)
    double_counted = overlap_area.sum(axis=1) - covered_area
    overlap_share = np.clip(double_counted / source_area, 0.0, None)
    worst = int(np.argmax(overlap_share))
    if overlap_share[worst] > max_overlap_share:
        raise ValueError(
            f"target_areas overlap: {overlap_share[worst]:.2%} of source area "
            f"{sources[worst].code!r} lies in more than one target (allowed: "
            f"{max_overlap_share:.2%}); the targets must partition the territory"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        # Scale each source's pieces so they add up to its covered area exactly: overlap
        # slivers are then shared out instead of counted twice.
        scale = np.where(overlap_area.sum(axis=1) > 0, covered_area / overlap_area.sum(axis=1), 0.0)
    shares = overlap_area * scale[:, None] / source_area[:, None]
    outside_shares = np.clip(1.0 - shares.sum(axis=1), 0.0, 1.0)
    target_totals = values @ shares
    outside = float(values @ outside_shares)
    for array in (shares, outside_shares, target_totals):
        array.flags.writeable = False
    return ArealInterpolation(
        target_codes=tuple(a.code for a in targets),
        target_totals=target_totals,
        outside=outside,
        source_total=float(values.sum()),
        source_codes=tuple(a.code for a in sources),
        shares=shares,
        outside_shares=outside_shares,
        max_target_overlap_share=float(overlap_share.max(initial=0.0)),
        crs=crs,
        method=(
            f"areal weighting: each source's value split by the share of its area in each "
            f"target, areas measured in {crs}; the rest reported as outside"
        ),
    )


def _coordinate_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    arrays = []
    for name, values in (("lon", lon), ("lat", lat)):
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}: coordinates must be numbers or None ({error})") from None
        if array.ndim != 1:
            raise ValueError(f"{name}: expected a one-dimensional array, got shape {array.shape}")
        arrays.append(array)
    x, y = arrays
    if x.size != y.size:
        raise ValueError(f"lon has {x.size} values but lat has {y.size}; they must match")
    return x, y


def _checked_areas(areas: Sequence[Area], *, role: str = "areas") -> list[Area]:
    area_list = list(areas)
    if not area_list:
        raise ValueError(f"{role}: no areas given")
    seen: dict[str, int] = {}
    for position, area in enumerate(area_list):
        if not isinstance(area, Area):
            raise ValueError(f"{role}[{position}]: expected an Area, got {type(area).__name__}")
        if area.code in seen:
            raise ValueError(
                f"{role}: areas {seen[area.code]} and {position} share the code {area.code!r}"
            )
        seen[area.code] = position
    return area_list


def _finite_values(values: npt.ArrayLike, sources: list[Area]) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"source_values must be numbers ({error})") from None
    if array.ndim != 1 or array.size != len(sources):
        raise ValueError(
            f"source_values has shape {array.shape}; expected one value per source area "
            f"({len(sources)})"
        )
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        first = int(bad[0])
        raise ValueError(
            f"source_values[{first}] (area {sources[first].code!r}) is {array[first]}; "
            f"every value must be a finite number ({bad.size} are not)"
        )
    return array


def _concatenated_ranges(starts: IntArray, stops: IntArray) -> IntArray:
    """``np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)])``, vectorised."""
    lengths = np.maximum(stops - starts, 0)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total)


def _first_cell_of_each_piece(labels: npt.NDArray[np.int32], n_pieces: int) -> IntArray:
    """Position of the first cell (in raster order) of each label 1..n_pieces in a label grid.

    ``find_objects`` gives each label's bounding rows and columns in one pass over the grid;
    the label's first cell is in the first of those rows, so only that short stretch of one
    row is searched per label.
    """
    columns = labels.shape[1]
    first = np.zeros(n_pieces, dtype=np.int64)
    for number, found in enumerate(ndimage.find_objects(labels, max_label=n_pieces)):
        if found is None:  # a label scipy did not use (never happens for its own labels)
            continue
        rows, span = found
        stretch = labels[rows.start, span] == number + 1
        first[number] = rows.start * columns + span.start + int(np.argmax(stretch))
    return first
