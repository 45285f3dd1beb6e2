"""Small-cell suppression that also holds when published tables are subtracted from each other.

A published count of fewer than ``threshold`` respondents (default 10) can single people out,
so such a cell is never shown (*primary* suppression). Hiding it is not enough when the cell
can be *computed* from what is shown: a row total minus the other cells of the row, or one
filter minus an overlapping one ("all respondents in District 3" minus "District 3 women"
gives "District 3 non-women", a cell nobody published). :func:`find_disclosures` lists the
derived counts a set of tables would reveal; :func:`protect_tables` hides further cells
(*complementary* suppression) or withholds whole tables until none is computable;
:func:`protect_partition` does the same for one breakdown given as counts.

The model. Each published count is a set of respondents (ids, or a boolean mask over one
respondent list). Respondents are grouped into *atoms*: the regions of the Venn diagram of all
the cells, i.e. respondents that belong to exactly the same cells. Every cell is a union of
atoms, and its count is the sum of its atoms' counts. A derived set (also a union of atoms) is
*computable* when its atom indicator is a linear combination of the published cells'
indicators: then its count is the same combination of published counts. This covers sums,
differences and any chain of them across any number of tables, not only pairs.

The guarantee. After :func:`protect_tables`, none of the following sets has a count that is
computable from the published counts while being between 1 and ``threshold - 1`` (nor is
any cell hidden on request, ``suppress=``, computable), except the sets listed in
:attr:`SuppressionResult.exposed`, which tables published earlier reveal on their own:

1. every cell and table total, published or not;
2. every atom (the finest region any combination of the filters can isolate);
3. ``A - B`` and ``A & B`` for every ordered pair of cells or totals ``A``, ``B``;
4. for each table, the union of its unpublished cells (so two suppressed cells of 2 and 3 in a
   row with a published total are not left summing to a known 5).

Its limits, precisely:

* Other unions of atoms (say ``(A - B) | (C - D)`` from four different tables) are not
  enumerated; in practice they are caught through family 2 or 3, but that is not proven.
  Checking every union of atoms is exponential.
* Only exact recovery is prevented, not bounds: that a suppressed cell is "1 to 9" is what
  suppression announces, and two suppressed cells of a row still have a known sum of at least
  ``threshold``.
* Computability is decided with floating-point linear algebra: the rank of the published
  cells' 0/1 matrix by singular value decomposition (cut-off 1e-9 of the largest singular
  value) and a residual test (1e-7). For 0/1 matrices of tens of tables this is exact in
  practice; the tests check it against an exact brute force over every union of atoms.
* Which extra cells to hide is chosen greedily (smallest count first), so the pattern is safe
  but not necessarily the smallest possible; optimal complementary suppression is NP-hard.
* It knows the tables it is given. Tables published earlier must be passed too, marked
  ``already_published=True`` (their cells are then never hidden); a disclosure that those
  alone allow is reported in :attr:`SuppressionResult.exposed`, since hiding new cells cannot
  undo it.
* A reader is assumed to know which atoms are non-empty (which combinations of filters
  occur); that overstates what a reader knows, so the protection errs on the side of hiding
  more.

Zero counts are published. The threshold protects against singling out respondents, and an
empty cell singles out nobody. Common practice suppresses *sampling* zeros (as opposed to
structural ones) against attribute disclosure ("none of the District 3 women who answered
feels safe"), but a membership model cannot tell the two apart: the empty set is a union of no
atoms, so any derived set that happens to be empty ("District 3 minus District 3 women" when
every District 3 respondent is a woman) is "computable" from nothing, and a promise to hide
sampling zeros could not be kept across overlapping filters. The same attribute disclosure
also comes from a 100% cell of any size, which no count threshold prevents. Derived sets of
size 0 are therefore not treated as disclosive either.

Example: "District 3" and "District 3 women" differ by 3 respondents; the later table is
withheld rather than let anyone compute that 3.

>>> district_3 = set(range(40))
>>> women = set(range(37))
>>> result = protect_tables(
...     [
...         Table("District 3", {"all": district_3}, publish_total=False),
...         Table("District 3 women", {"all": women}, publish_total=False),
...     ],
...     strategy="tables",
... )
>>> result.published_count("District 3", "all"), result.published_count("District 3 women", "all")
(40, None)
>>> result.withheld_tables
('District 3 women',)
>>> [derived.description for derived in result.protected]
['District 3 / all minus District 3 women / all']
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

import numpy as np
import numpy.typing as npt

TOTAL: Final = "(total)"
"""The cell name under which a table's total is reported."""

Strategy = Literal["cells", "tables"]
CellStatusName = Literal["published", "primary", "requested", "complementary", "withheld"]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_TOLERANCE: Final = 1e-9


@dataclass(frozen=True)
class Table:
    """A table to publish: a count of respondents in each cell.

    Fields:
        name: the table's name, unique among the tables passed together.
        cells: cell name -> the respondents counted in it, as a collection of respondent ids
            or as a numpy boolean mask over one list of respondents (then every cell of every
            table must be a mask of the same length). Cells may overlap (multi-select answers).
        publish_total: whether the table's total (respondents in any of its cells, reported
            under the cell name :data:`TOTAL`) is published as well.
        already_published: the table is public already (an earlier release); its cells are
            never chosen for complementary suppression.
    """

    name: str
    cells: Mapping[str, Collection[Hashable] | BoolArray]
    publish_total: bool = True
    already_published: bool = False


@dataclass(frozen=True)
class CellStatus:
    """What happens to one cell.

    Fields:
        table, cell: which cell (``cell`` is :data:`TOTAL` for a table total).
        count: the true count. For staff only: never show it when ``published`` is False.
        published: whether the count may be shown.
        status: ``published``; ``primary`` (between 1 and threshold - 1); ``requested``
            (hidden because the caller asked, ``suppress=``); ``complementary`` (hidden so
            that another count cannot be computed); ``withheld`` (its whole table was
            withheld, strategy ``tables``).
        reason: why, in words, without any hidden count.
    """

    table: str
    cell: str
    count: int
    published: bool
    status: CellStatusName
    reason: str

    @property
    def published_count(self) -> int | None:
        """The count to show, or None when it is suppressed."""
        return self.count if self.published else None


@dataclass(frozen=True)
class DerivedSet:
    """A set of respondents whose count the published tables would reveal.

    Fields: description (how it is formed from the cells, e.g. ``"A / x minus B / y"``);
    size (its true count, for staff only).
    """

    description: str
    size: int


@dataclass(frozen=True)
class SuppressionResult:
    """The publication decision for every cell.

    Fields:
        cells: one :class:`CellStatus` per cell and per table total, in input order.
        threshold: counts from 1 to threshold - 1 are never shown or computable.
        strategy: ``cells`` (hide individual extra cells) or ``tables`` (withhold tables).
        withheld_tables: tables withheld whole (strategy ``tables``).
        protected: derived sets that were computable before complementary suppression and
            no longer are.
        exposed: derived sets below the threshold that the already-published tables reveal on
            their own; nothing done here can hide them.
        n_atoms: the number of distinct respondent regions the cells define.
        method: how the decision was made.
    """

    cells: tuple[CellStatus, ...]
    threshold: int
    strategy: Strategy
    withheld_tables: tuple[str, ...]
    protected: tuple[DerivedSet, ...]
    exposed: tuple[DerivedSet, ...]
    n_atoms: int
    method: str

    def status(self, table: str, cell: str = TOTAL) -> CellStatus:
        """The status of one cell (a table total when ``cell`` is omitted)."""
        for status in self.cells:
            if status.table == table and status.cell == cell:
                return status
        raise KeyError(f"no cell {cell!r} in table {table!r}")

    def published_count(self, table: str, cell: str = TOTAL) -> int | None:
        """The count to show for a cell, or None when it is suppressed."""
        return self.status(table, cell).published_count

    @property
    def suppressed(self) -> tuple[tuple[str, str], ...]:
        """(table, cell) of every cell that is not published."""
        return tuple((s.table, s.cell) for s in self.cells if not s.published)


@dataclass
class _Problem:
    """Cells as rows of a 0/1 matrix over atoms."""

    keys: list[tuple[str, str]]
    table_of: IntArray
    locked: BoolArray
    matrix: BoolArray  # cells x atoms
    atom_sizes: IntArray
    table_names: list[str]
    keep: BoolArray | None = None  # cells to hide only when nothing else will do

    @property
    def sizes(self) -> IntArray:
        sizes: IntArray = (self.matrix.astype(np.int64) @ self.atom_sizes).astype(np.int64)
        return sizes

    def label(self, index: int) -> str:
        table, cell = self.keys[index]
        return f"{table} / {cell}"


def _check_threshold(threshold: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer):
        raise ValueError(f"threshold must be a whole number, got {threshold!r}")
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")


def _check_strategy(strategy: str) -> None:
    if strategy not in get_args(Strategy):
        raise ValueError(f"strategy must be one of {get_args(Strategy)}, got {strategy!r}")


def _build(tables: Sequence[Table]) -> _Problem:
    if not tables:
        raise ValueError("tables: nothing to publish (no tables given)")
    names = [table.name for table in tables]
    if duplicates := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"tables: names must be unique, repeated: {duplicates}")
    mask_length: int | None = None
    uses_ids = False
    keys: list[tuple[str, str]] = []
    table_of: list[int] = []
    locked: list[bool] = []
    members: list[frozenset[Hashable]] = []
    for index, table in enumerate(tables):
        if not table.name:
            raise ValueError(f"tables[{index}]: the table has no name")
        if not table.cells:
            raise ValueError(f"table {table.name!r}: no cells")
        union: set[Hashable] = set()
        for cell, content in table.cells.items():
            if cell == TOTAL:
                raise ValueError(f"table {table.name!r}: {TOTAL!r} is reserved for the total")
            if isinstance(content, np.ndarray) and content.dtype == np.bool_:
                if content.ndim != 1:
                    raise ValueError(f"table {table.name!r}, cell {cell!r}: mask must be 1-D")
                if mask_length is None:
                    mask_length = content.size
                elif content.size != mask_length:
                    raise ValueError(
                        f"table {table.name!r}, cell {cell!r}: mask of length {content.size}, "
                        f"expected {mask_length} like the other masks"
                    )
                ids: frozenset[Hashable] = frozenset(np.flatnonzero(content).tolist())
            elif isinstance(content, str | bytes):
                raise ValueError(
                    f"table {table.name!r}, cell {cell!r}: expected respondent ids or a "
                    f"boolean mask, got the string {content!r}"
                )
            else:
                uses_ids = True
                ids = frozenset(content.tolist() if isinstance(content, np.ndarray) else content)
            keys.append((table.name, cell))
            table_of.append(index)
            locked.append(table.already_published)
            members.append(ids)
            union |= ids
        if table.publish_total:
            keys.append((table.name, TOTAL))
            table_of.append(index)
            locked.append(table.already_published)
            members.append(frozenset(union))
    if uses_ids and mask_length is not None:
        raise ValueError("tables: cells mix boolean masks and respondent ids; use one or the other")
    respondents = sorted(set().union(*members), key=repr)
    column = {respondent: position for position, respondent in enumerate(respondents)}
    membership = np.zeros((len(members), len(respondents)), dtype=np.bool_)
    for row, ids in enumerate(members):
        membership[row, [column[respondent] for respondent in ids]] = True
    if respondents:
        atoms, atom_sizes = np.unique(membership.T, axis=0, return_counts=True)
        matrix = np.ascontiguousarray(atoms.T)
    else:
        matrix = np.zeros((len(members), 0), dtype=np.bool_)
        atom_sizes = np.zeros(0, dtype=np.int64)
    return _Problem(
        keys=keys,
        table_of=np.array(table_of, dtype=np.int64),
        locked=np.array(locked, dtype=np.bool_),
        matrix=matrix,
        atom_sizes=atom_sizes.astype(np.int64),
        table_names=names,
    )


def _candidates(
    problem: _Problem, published: BoolArray, threshold: int, forced: BoolArray | None = None
) -> list[tuple[BoolArray, str, int]]:
    """Sets (as atom indicators) whose count would disclose if computable: families 1-4,
    plus the ``forced`` cells (hidden on request) whatever their size."""
    matrix = problem.matrix
    sizes = problem.sizes
    weighted = matrix.astype(np.int64) * problem.atom_sizes
    both = weighted @ matrix.T.astype(np.int64)  # |A & B|
    only = sizes[:, None] - both  # |A - B|
    found: list[tuple[BoolArray, str, int]] = []

    def small(size: int) -> bool:
        return 0 < size < threshold

    for row in range(matrix.shape[0]):
        if small(int(sizes[row])) or (forced is not None and forced[row] and sizes[row] > 0):
            found.append((matrix[row], problem.label(row), int(sizes[row])))
    rows, cols = np.nonzero((only > 0) & (only < threshold))
    for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
        if a != b:
            vector = matrix[a] & ~matrix[b]
            found.append((vector, f"{problem.label(a)} minus {problem.label(b)}", int(only[a, b])))
    rows, cols = np.nonzero((both > 0) & (both < threshold))
    for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
        if a < b:
            vector = matrix[a] & matrix[b]
            found.append(
                (vector, f"both {problem.label(a)} and {problem.label(b)}", int(both[a, b]))
            )
    for table_index, table_name in enumerate(problem.table_names):
        hidden = np.flatnonzero((problem.table_of == table_index) & ~published)
        if hidden.size >= 2:
            vector = np.any(matrix[hidden], axis=0)
            size = int(problem.atom_sizes[vector].sum())
            if small(size):
                names = ", ".join(problem.keys[row][1] for row in hidden)
                found.append((vector, f"{table_name}: the hidden cells {names} together", size))
    for atom in np.flatnonzero((problem.atom_sizes > 0) & (problem.atom_sizes < threshold)):
        vector = np.zeros(matrix.shape[1], dtype=np.bool_)
        vector[atom] = True
        inside = [problem.label(row) for row in np.flatnonzero(matrix[:, atom]).tolist()]
        found.append(
            (vector, "respondents in exactly: " + "; ".join(inside), int(problem.atom_sizes[atom]))
        )
    unique: dict[bytes, tuple[BoolArray, str, int]] = {}
    for vector, description, size in found:
        unique.setdefault(np.packbits(vector).tobytes(), (vector, description, size))
    return sorted(unique.values(), key=lambda item: (item[2], item[1]))


def _determined(vectors: FloatArray, rows: FloatArray) -> BoolArray:
    """Whether each vector lies in the row space of ``rows`` (is computable from them)."""
    if vectors.shape[0] == 0:
        return np.zeros(0, dtype=np.bool_)
    if rows.shape[0] == 0:
        return np.zeros(vectors.shape[0], dtype=np.bool_)
    _, singular, right = np.linalg.svd(rows, full_matrices=False)
    rank = int(np.sum(singular > _TOLERANCE * singular[0])) if singular.size else 0
    basis = right[:rank]
    residual = vectors - (vectors @ basis.T) @ basis
    norms = np.linalg.norm(residual, axis=1)
    result: BoolArray = norms <= 1e-7 * np.maximum(1.0, np.linalg.norm(vectors, axis=1))
    return result


def _rows_to_hide(problem: _Problem, published: BoolArray, vector: FloatArray) -> list[int]:
    """Published, unlocked rows worth hiding to stop ``vector`` being computable, best first.

    Write the published rows as P (rows x atoms). ``vector`` is computable when P^T a = vector
    has a solution a; a row is *essential* when its coefficient is the same non-zero number in
    every solution (hiding it alone stops the computation). If no row is essential, the rows
    with a non-zero coefficient in the minimum-norm solution are offered instead.
    """
    rows = np.flatnonzero(published)
    matrix = problem.matrix[rows].astype(np.float64)
    left, singular, right = np.linalg.svd(matrix, full_matrices=False)
    rank = int(np.sum(singular > _TOLERANCE * singular[0])) if singular.size else 0
    coefficients = left[:, :rank] @ ((right[:rank] @ vector) / singular[:rank])
    # A row's coefficient varies between solutions when its unit vector has a component in
    # the null space of P^T, i.e. outside the column space spanned by left[:, :rank].
    varies = 1.0 - np.sum(left[:, :rank] ** 2, axis=1) > 1e-7
    used = np.abs(coefficients) > 1e-7
    essential = used & ~varies
    sizes = problem.sizes
    # Hiding an empty cell protects nothing (it adds no respondent to what stays hidden).
    choices = [
        (
            0 if essential[position] else 1,
            int(sizes[row]) == 0,
            problem.keep is not None and bool(problem.keep[row]),
            int(sizes[row]),
            -int(problem.table_of[row]),
            row,
        )
        for position, row in enumerate(rows.tolist())
        if used[position] and not problem.locked[row]
    ]
    return [row for *_, row in sorted(choices)]


def _table_to_withhold(problem: _Problem, published: BoolArray, vector: FloatArray) -> int:
    """The unlocked table to withhold so that ``vector`` stops being computable: one whose
    withholding alone does it if any, else one that helps compute it; the latest first."""
    involved = {int(problem.table_of[row]) for row in _rows_to_hide(problem, published, vector)}
    ranked = []
    for table_index in involved:
        remaining = published & (problem.table_of != table_index)
        alone = not _determined(vector[None, :], problem.matrix[remaining].astype(np.float64))[0]
        ranked.append((0 if alone else 1, -table_index))
    return -min(ranked)[1]


def _single_table(problem: _Problem, published: BoolArray, vector: FloatArray) -> int | None:
    """An unlocked table whose own published counts compute ``vector``, if there is one."""
    for table_index in range(len(problem.table_names)):
        rows = published & (problem.table_of == table_index) & ~problem.locked
        if rows.any() and _determined(vector[None, :], problem.matrix[rows].astype(np.float64))[0]:
            return table_index
    return None


def _primary(problem: _Problem, threshold: int) -> BoolArray:
    sizes = problem.sizes
    result: BoolArray = (sizes > 0) & (sizes < threshold)
    return result


def find_disclosures(
    tables: Sequence[Table],
    *,
    threshold: int = 10,
    suppressed: Collection[tuple[str, str]] = (),
) -> tuple[DerivedSet, ...]:
    """Derived sets below the threshold that the tables reveal if published as they stand.

    Every cell is taken as published except those under the threshold (primary suppression)
    and the (table, cell) pairs in ``suppressed``. Returns the sets of the module's families
    1-4 that are computable with a count from 1 to threshold - 1, smallest first; empty when
    publishing is safe in the sense of the module docstring.
    """
    _check_threshold(threshold)
    problem = _build(tables)
    published = ~_primary(problem, threshold) & ~_forced(problem, suppressed, "suppressed")
    candidates = _candidates(problem, published, threshold)
    if not candidates:
        return ()
    vectors = np.array([vector for vector, _, _ in candidates], dtype=np.float64)
    computable = _determined(vectors, problem.matrix[published].astype(np.float64))
    return tuple(
        DerivedSet(description, size)
        for (_, description, size), hit in zip(candidates, computable, strict=True)
        if hit
    )


def protect_tables(
    tables: Sequence[Table],
    *,
    threshold: int = 10,
    strategy: Strategy = "cells",
    suppress: Collection[tuple[str, str]] = (),
) -> SuppressionResult:
    """Decide which counts of ``tables`` may be published so none below ``threshold`` leaks.

    1. Primary: every cell or total counting 1 to threshold - 1 respondents is hidden.
    2. Complementary: while some set of the module's families 1-4 is computable from the
       published counts with a count from 1 to threshold - 1, hide more. With
       ``strategy="cells"`` one cell at a time: a cell needed for every way of computing it,
       if there is one, else one that some way uses; the smallest such cell, from the latest
       table on ties. With ``strategy="tables"`` whole tables, the latest first: the earlier
       table stays and the later one is refused; a leak within one table (its total minus
       its other cells) is still fixed by hiding a cell of that table.

    ``suppress`` lists (table, cell) pairs to hide whatever their count (status
    ``requested``), protected like primary cells: no other count may give them away.
    Tables marked ``already_published`` are never hidden; what they reveal on their own is
    listed in ``exposed``. Zero counts are published (see the module docstring).
    """
    _check_threshold(threshold)
    _check_strategy(strategy)
    problem = _build(tables)
    return _protect(problem, threshold, strategy, _forced(problem, suppress, "suppress"))


def _forced(problem: _Problem, keys: Collection[tuple[str, str]], name: str) -> BoolArray:
    if isinstance(keys, str) or any(not isinstance(key, tuple) for key in keys):
        raise ValueError(f"{name}: expected (table, cell) pairs, got {keys!r}")
    if unknown := sorted(set(keys) - set(problem.keys)):
        raise ValueError(f"{name}: no such (table, cell) {unknown}")
    forced = np.zeros(len(problem.keys), dtype=np.bool_)
    for key in keys:
        forced[problem.keys.index(key)] = True
    return forced


def _protect(
    problem: _Problem, threshold: int, strategy: Strategy, forced: BoolArray
) -> SuppressionResult:
    primary = _primary(problem, threshold)
    status: list[CellStatusName] = [
        "primary" if hit else "requested" if wanted else "published"
        for hit, wanted in zip(primary, forced, strict=True)
    ]
    reasons = [
        f"fewer than {threshold} respondents"
        if hit
        else "suppressed on request (protection across tables)"
        if wanted
        else ""
        for hit, wanted in zip(primary, forced, strict=True)
    ]
    published = ~primary & ~forced
    protected: dict[bytes, DerivedSet] = {}
    exposed: dict[bytes, DerivedSet] = {}
    withheld: list[int] = []
    while True:
        candidates = [
            item
            for item in _candidates(problem, published, threshold, forced)
            if np.packbits(item[0]).tobytes() not in exposed
        ]
        if not candidates:
            break
        vectors = np.array([vector for vector, _, _ in candidates], dtype=np.float64)
        computable = _determined(vectors, problem.matrix[published].astype(np.float64))
        hits = np.flatnonzero(computable)
        if hits.size == 0:
            break
        vector, description, size = candidates[int(hits[0])]
        key = np.packbits(vector).tobytes()
        target = vector.astype(np.float64)
        locked_rows = problem.matrix[published & problem.locked].astype(np.float64)
        if _determined(target[None, :], locked_rows)[0]:
            exposed[key] = DerivedSet(description, size)
            continue
        protected.setdefault(key, DerivedSet(description, size))
        why = f"{description} ({'fewer than ' + str(threshold) if size < threshold else 'hidden'})"
        own_table = _single_table(problem, published, target) if strategy == "tables" else None
        if strategy == "cells" or own_table is not None:
            # Strategy "tables" still hides cells when one table alone gives the count away
            # (a row total minus the other cells): withholding is for differencing of tables.
            allowed = (
                published if own_table is None else published & (problem.table_of == own_table)
            )
            choices = _rows_to_hide(problem, allowed, target)
            if not choices:  # only numerically possible: treat as beyond our reach
                exposed[key] = DerivedSet(description, size)
                continue
            row = choices[0]
            published[row] = False
            status[row] = "complementary"
            reasons[row] = f"complementary: with it published, {why} could be computed"
        else:
            table_index = _table_to_withhold(problem, published, target)
            withheld.append(table_index)
            for row in np.flatnonzero(problem.table_of == table_index).tolist():
                if published[row]:
                    published[row] = False
                    status[row] = "withheld"
                    reasons[row] = f"table withheld: with it published, {why} could be computed"
    sizes = problem.sizes
    cells = tuple(
        CellStatus(
            table=table,
            cell=cell,
            count=int(sizes[row]),
            published=bool(published[row]),
            status=status[row],
            reason=reasons[row] or "published",
        )
        for row, (table, cell) in enumerate(problem.keys)
    )
    return SuppressionResult(
        cells=cells,
        threshold=threshold,
        strategy=strategy,
        withheld_tables=tuple(problem.table_names[index] for index in withheld),
        protected=tuple(protected.values()),
        exposed=tuple(exposed.values()),
        n_atoms=int(problem.atom_sizes.size),
        method=(
            "primary suppression of counts 1 to threshold - 1; complementary "
            f"{'cell' if strategy == 'cells' else 'table'} suppression until no cell, atom, "
            "pairwise difference or intersection, or union of a table's hidden cells below "
            "the threshold is a linear combination of published counts"
        ),
    )


def protect_partition(
    counts: Mapping[str, int],
    *,
    threshold: int = 10,
    name: str = "table",
    total_published: bool = True,
    suppress: Collection[str] = (),
    keep: Collection[str] = (),
) -> SuppressionResult:
    """Suppression for one table whose cells do not overlap (a partition), from counts alone.

    The usual case of one breakdown (respondents by group) whose total is public. Equivalent
    to :func:`protect_tables` on one table with disjoint cells of these sizes; the total is
    reported under :data:`TOTAL` and treated as already published when ``total_published``.
    ``suppress`` names cells to hide whatever their count (status ``requested``); ``keep``
    names cells to choose for complementary suppression only when no other cell will do
    (a comparison's reference group, say).

    >>> result = protect_partition({"a": 50, "b": 30, "c": 4})
    >>> [(s.cell, s.status) for s in result.cells]
    [('a', 'published'), ('b', 'complementary'), ('c', 'primary'), ('(total)', 'published')]
    """
    _check_threshold(threshold)
    if not counts:
        raise ValueError("counts: no cells")
    for cell, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise ValueError(f"counts[{cell!r}]: {count!r} is not a count (a whole number >= 0)")
        if cell == TOTAL:
            raise ValueError(f"counts: {TOTAL!r} is reserved for the total")
    keys = [(name, cell) for cell in counts]
    matrix = np.eye(len(counts), dtype=np.bool_)
    table_of = [0] * len(counts)
    if total_published:
        keys.append((name, TOTAL))
        matrix = np.vstack([matrix, np.ones((1, len(counts)), dtype=np.bool_)])
        table_of.append(-1)  # the public total: locked, outside the table's hidden-cell union
    problem = _Problem(
        keys=keys,
        table_of=np.array(table_of, dtype=np.int64),
        locked=np.array([index < 0 for index in table_of], dtype=np.bool_),
        matrix=matrix,
        atom_sizes=np.array([int(count) for count in counts.values()], dtype=np.int64),
        table_names=[name],
        keep=np.array([key[1] in set(keep) for key in keys], dtype=np.bool_),
    )
    for argument, value in (("suppress", suppress), ("keep", keep)):
        if isinstance(value, str):
            raise ValueError(f"{argument}: expected a collection of cell names, got {value!r}")
    return _protect(
        problem,
        threshold,
        "cells",
        _forced(problem, [(name, cell) for cell in suppress], "suppress"),
    )
