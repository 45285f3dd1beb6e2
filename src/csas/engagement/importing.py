"""Read files exported by other tools and plan what importing them would do, writing nothing.

The parsing layer of bulk feedback intake (issue 3, item 4). Every function here is pure: it
takes bytes (or a path) plus explicit parameters and returns a frozen result, so the same call
serves the column-mapping preview, the dry run and the commit. No database, and no Django except
the translated answer messages `plan_wide_survey_import` borrows from `answers.py`.

1. `read_table` turns a CSV or XLSX file into a `Table` of text cells. It refuses a file that
   is too large before reading it, detects the encoding (UTF-8 with or without BOM, UTF-16 with
   BOM, then Windows-1252, then Latin-1) and the delimiter, and reports a row it cannot read
   (ragged row, formula without a stored value, spreadsheet error value) as a `RowError` while
   reading the rest. A problem with the whole file raises `ImportFileError`.
2. `suggest_mapping` proposes which column feeds which field, for staff to confirm.
3. `plan_feedback_import` (one comment per row: generic comments, map-comment exports) and
   `plan_wide_survey_import` (one response per row: SurveyMonkey / Google Forms style) check
   every row and return a plan: the rows ready to write, a row-level error report and counts in
   which every data row is accounted for (ok + rejected + duplicate == rows).
   `read_polis_export` does the same for a Polis conversation export.

Row numbers are the ones a spreadsheet program shows: the header is row 1 (rows 1 and 2 with a
two-row SurveyMonkey header), the first data row is row 2, and a CSV cell spanning several
lines still counts as one row. Completely blank rows are skipped and counted (`blank_rows`).

Formulas are never evaluated. An XLSX formula cell is imported through the result the
spreadsheet program stored with it; a formula without a stored result is a row error. Text
that merely looks like a formula ("=HYPERLINK(...)", "+1 555") is imported as the text it is:
inside csas it is inert, and CSV/XLSX exports neutralise it (issue 3, item 6), so the stored
text stays what the person wrote.

The uploaded bytes are never changed: `Table.sha256` identifies them, and the database layer
keeps the original file beside the import batch.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import math
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from csas.engagement.answers import QuestionSpec

DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024
DEFAULT_MAX_ROWS: Final = 200_000
DEFAULT_MAX_COLUMNS: Final = 5_000
DEFAULT_MAX_TEXT_LENGTH: Final = 10_000
# An XLSX file is a ZIP of XML; refuse one that unpacks to far more than any real export would.
XLSX_MAX_EXPANSION: Final = 20
VALUE_SHOWN: Final = 80
# Spreadsheets often carry formatted but empty rows below the data; tolerate some, not millions.
BLANK_ROWS_PER_ROW_ALLOWED: Final = 5
MAX_ADDRESS_LENGTH: Final = 300
MAX_EXTERNAL_ID_LENGTH: Final = 200
MAX_NEIGHBOURHOOD_LENGTH: Final = 200

TableKind = Literal["csv", "xlsx"]
DateOrder = Literal["MDY", "DMY"]


class Readable(Protocol):
    """A binary file object: an open file, io.BytesIO, Django's UploadedFile."""

    def read(self, size: int, /) -> bytes | None: ...


Source = bytes | bytearray | str | os.PathLike[str] | Readable

FEEDBACK_FIELDS: Final[tuple[str, ...]] = (
    "text",
    "category",
    "lat",
    "lon",
    "address",
    "language",
    "neighbourhood",
    "submitted_at",
    "external_id",
)
SURVEY_META_FIELDS: Final[tuple[str, ...]] = ("external_id", "submitted_at", "language")

# Header words that usually mean each field, in the exports csas meets (map-comment tools,
# SurveyMonkey, Google Forms, spreadsheets kept by hand). Compared after `_name_tokens`.
FIELD_SYNONYMS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "text": (
            "text",
            "comment",
            "comment body",
            "comment text",
            "your comment",
            "feedback",
            "message",
            "description",
            "body",
            "note",
            "statement",
            "response",
        ),
        "category": ("category", "type", "theme", "topic", "tag", "comment type", "pin type"),
        "lat": ("lat", "latitude", "y", "point y", "lat y"),
        "lon": ("lon", "lng", "long", "longitude", "x", "point x", "lon x"),
        "address": ("address", "location", "place", "street address", "location description"),
        "language": ("language", "lang", "locale", "idioma"),
        "neighbourhood": ("neighbourhood", "neighborhood", "area", "community", "barrio"),
        "submitted_at": (
            "submitted",
            "submitted at",
            "submitted on",
            "timestamp",
            "date",
            "date submitted",
            "created",
            "created at",
            "datetime",
            "date time",
            "end date",
            "time",
        ),
        "external_id": (
            "id",
            "external id",
            "response id",
            "respondent id",
            "comment id",
            "record id",
            "uuid",
        ),
    }
)

# Header words of personal data columns (e-mail, phone, IP address): never suggested for any
# field, so that personal data is imported only when staff map it on purpose.
PERSONAL_DATA_WORDS: Final = frozenset({"email", "mail", "phone", "telephone", "mobile", "ip"})

# Names people type for the languages csas ships, mapped to their codes (English name and
# the language's own name). Anything else must be given as a code.
LANGUAGE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "english": "en",
        "spanish": "es",
        "espanol": "es",
        "castellano": "es",
        "vietnamese": "vi",
        "tieng viet": "vi",
        "khmer": "km",
        "cambodian": "km",
        "ខ្មែរ": "km",
        "korean": "ko",
        "한국어": "ko",
        "russian": "ru",
        "русский": "ru",
        "ukrainian": "uk",
        "українська": "uk",
    }
)

TICKED: Final = frozenset({"1", "x", "yes", "y", "true", "✓", "✔", "checked", "selected"})
UNTICKED: Final = frozenset({"0", "no", "n", "false", "unchecked", "not selected"})
SINGLE_CHOICE_KINDS: Final = frozenset(
    {"single_choice", "likert", "neighbourhood", "council_district"}
)
MULTI_CHOICE_KINDS: Final = frozenset({"multiple_choice", "top_n"})
# kinds a wide export may spread over one column per option
OPTION_COLUMN_KINDS: Final = SINGLE_CHOICE_KINDS | MULTI_CHOICE_KINDS | {"ranking"}


# --- results and errors ----------------------------------------------------------------------


class ImportFileError(ValueError):
    """The whole file cannot be used; nothing from it is imported.

    `message` names the file and, where known, the line or row, the column and the value.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.file = file
        self.problem = problem
        self.line = line
        self.row = row
        self.column = column
        self.value = None if value is None else _clip(value)
        parts = [file]
        if line is not None:
            parts.append(f"line {line}" + (f" (row {row})" if row not in (None, line) else ""))
        elif row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column {column!r}")
        where = ", ".join(parts)
        found = f" (found {self.value!r})" if self.value else ""
        self.message = f"{where}: {problem}{found}"
        super().__init__(self.message)


class MappingError(ValueError):
    """The column mapping cannot be used; `problems` lists every reason at once."""

    def __init__(self, file: str, problems: Sequence[str]) -> None:
        self.file = file
        self.problems = tuple(problems)
        super().__init__(f"{file}: " + "; ".join(self.problems))


@dataclass(frozen=True)
class RowError:
    """One problem with one row: shown to staff in the error report, one line each.

    `row` is the row number a spreadsheet program shows (header = row 1); `value` is the cell
    as found, cut to 80 characters; `problem` says what is wrong and what was expected.
    """

    file: str
    row: int
    column: str
    value: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" + (
            f", column {self.column!r}" if self.column else ""
        )
        found = f" (found {self.value!r})" if self.value else ""
        return f"{where}: {self.problem}{found}"


@dataclass(frozen=True)
class TableRow:
    """A data row that could be read: its spreadsheet row number and one text per column."""

    number: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A CSV file or one XLSX sheet as text cells, with the facts a preview shows.

    `rows` holds the rows that could be read; rows that could not are in `errors` (one or more
    errors each). `n_rows` counts every non-blank data row, so
    `len(rows) + len(rejected_rows) == n_rows`; `blank_rows` counts the skipped blank ones.
    `encoding` and `delimiter` are None for XLSX; `sheet` and `sheet_names` None/() for CSV.
    `sha256` is the hash of the bytes exactly as received.
    """

    file: str
    kind: TableKind
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]
    errors: tuple[RowError, ...]
    n_rows: int
    blank_rows: int
    sha256: str
    size_bytes: int
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheet_names: tuple[str, ...] = ()
    header_rows: int = 1
    formula_results_used: int = 0

    @property
    def rejected_rows(self) -> frozenset[int]:
        """Row numbers that could not be read."""
        return frozenset(error.row for error in self.errors)

    def index(self, column: str) -> int:
        """Position of a column by its header name; KeyError names the columns there are."""
        try:
            return self.columns.index(column)
        except ValueError:
            raise KeyError(f"{self.file} has no column {column!r}; it has {self.columns}") from None

    def value(self, row: TableRow, column: str) -> str:
        """The text of one cell."""
        return row.cells[self.index(column)]

    def records(self) -> Iterator[dict[str, str]]:
        """The readable rows as {column: text} dicts (a fresh dict each, safe to change)."""
        for row in self.rows:
            yield dict(zip(self.columns, row.cells, strict=True))


@dataclass(frozen=True)
class ColumnMapping:
    """Which column feeds which field, as suggested (or confirmed by staff).

    `fields` maps a field (or question key) to a column header; `scores` gives the suggestion's
    confidence from 0 to 1 (1 = the header is one of the field's usual names).
    """

    fields: Mapping[str, str]
    scores: Mapping[str, float]
    unmapped_columns: tuple[str, ...]
    unmapped_fields: tuple[str, ...]


@dataclass(frozen=True)
class Duplicate:
    """A valid row not imported because it repeats another: `duplicate_of` is that row's
    number, or None when it repeats something imported before (`known_external_ids`)."""

    file: str
    row: int
    duplicate_of: int | None
    reason: str


@dataclass(frozen=True)
class RowCounts:
    """Where every data row of a file went: `rows == ok + rejected + duplicate`, always.

    For votes, `superseded` counts valid votes replaced by a later vote of the same voter on the
    same comment (then `rows == ok + superseded + rejected + duplicate`). Blank rows are not data
    rows; `blank_skipped` counts them.
    """

    file: str
    rows: int
    ok: int
    rejected: int
    duplicate: int
    superseded: int = 0
    blank_skipped: int = 0

    def __post_init__(self) -> None:
        if self.ok + self.rejected + self.duplicate + self.superseded != self.rows:
            raise ValueError(f"row accounting does not add up for {self.file}: {self}")


@dataclass(frozen=True)
class FeedbackRow:
    """One comment ready to be stored as a feedback item (and a map comment when located).

    `lat`/`lon` are both set or both None; `submitted_at` is timezone-aware (UTC) or None;
    `category` is one of the allowed values; text fields are stripped, "" when not given.
    """

    row: int
    text: str
    category: str = ""
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    language: str = ""
    neighbourhood: str = ""
    submitted_at: datetime | None = None
    external_id: str = ""


@dataclass(frozen=True)
class FeedbackImportPlan:
    """What importing a one-comment-per-row file would do: nothing is written by making it."""

    file: str
    sha256: str
    mapping: Mapping[str, str]
    rows_ok: tuple[FeedbackRow, ...]
    errors: tuple[RowError, ...]
    duplicates: tuple[Duplicate, ...]
    counts: RowCounts


@dataclass(frozen=True)
class SurveyResponseRow:
    """One survey response ready to be stored, answers in the shapes csas stores.

    `answers` maps question key to {"choice": v} | {"choices": [...]} | {"ranking": [...]} |
    {"number": n} | {"text": s} | {"point": [lon, lat]} | {"place": s}; `ignored` lists questions
    answered in the file but hidden by their condition (dropped, as the web form drops them).
    """

    row: int
    answers: Mapping[str, Mapping[str, Any]]
    external_id: str = ""
    submitted_at: datetime | None = None
    language: str = ""
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class SurveyImportPlan:
    """What importing a wide survey export would do: nothing is written by making it."""

    file: str
    sha256: str
    mapping: Mapping[str, tuple[str, ...]]
    responses: tuple[SurveyResponseRow, ...]
    errors: tuple[RowError, ...]
    duplicates: tuple[Duplicate, ...]
    counts: RowCounts


@dataclass(frozen=True)
class PolisComment:
    """A Polis statement. `moderated` is Polis's value: 1 accepted, 0 not yet moderated,
    -1 moderated out. A moderated-out comment is kept (its votes refer to it) but
    `moderated_out` is True and it must never be published."""

    row: int
    comment_id: int
    body: str
    moderated: int
    author_id: int | None = None
    created_at: datetime | None = None
    agrees: int | None = None
    disagrees: int | None = None

    @property
    def moderated_out(self) -> bool:
        return self.moderated == -1


@dataclass(frozen=True)
class PolisVote:
    """The latest vote of one voter on one comment: 1 agree, -1 disagree, 0 pass."""

    row: int
    voter_id: int
    comment_id: int
    vote: int
    voted_at: datetime


@dataclass(frozen=True)
class PolisParticipant:
    """A Polis participant; `group_id` is Polis's own opinion group (None = not clustered).

    `row` is None for a voter who appears only in votes.csv (no participants-votes.csv row).
    """

    participant_id: int
    group_id: int | None = None
    xid: str = ""
    row: int | None = None
    n_comments: int | None = None
    n_votes: int | None = None
    n_agree: int | None = None
    n_disagree: int | None = None


@dataclass(frozen=True)
class PolisFile:
    """One file of a Polis export as received."""

    name: str
    sha256: str
    size_bytes: int
    encoding: str | None


@dataclass(frozen=True)
class PolisExport:
    """A Polis conversation export, checked, with every row accounted for.

    `counts` has one `RowCounts` per CSV file read. `warnings` are inconsistencies that reject
    nothing (participants-votes.csv disagreeing with votes.csv, a matrix column for an unknown
    comment); `matrix_cells_checked` counts the participants-votes.csv cells compared with the
    latest votes.
    """

    comments: tuple[PolisComment, ...]
    votes: tuple[PolisVote, ...]
    participants: tuple[PolisParticipant, ...]
    errors: tuple[RowError, ...]
    duplicates: tuple[Duplicate, ...]
    warnings: tuple[RowError, ...]
    counts: tuple[RowCounts, ...]
    files: tuple[PolisFile, ...]
    summary: Mapping[str, str]
    matrix_cells_checked: int = 0

    def count(self, file: str) -> RowCounts:
        """The accounting of one file by name (comments.csv, votes.csv, ...)."""
        for counts in self.counts:
            if counts.file == file:
                return counts
        raise KeyError(file)


# --- reading a table ------------------------------------------------------------------------


@dataclass
class _RawRow:
    number: int
    line: int | None
    cells: list[str]
    problems: list[tuple[int, str]] = field(default_factory=list)


def read_table(
    source: Source,
    *,
    filename: str,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_rows: Literal[1, 2] = 1,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    allow_no_rows: bool = False,
) -> Table:
    """Read a CSV or XLSX file into a `Table`; raise `ImportFileError` for an unusable file.

    `source` is the file's bytes, a path (str or Path) or a binary file object; `filename` is
    the name shown in messages. The kind is told by content (XLSX is a ZIP), not by name.
    The size is checked before anything is read (a path's size from the file system, a file
    object read at most `max_bytes` + 1 bytes), and rows are counted while streaming, so a
    file over `max_bytes` or `max_rows` is refused without being parsed.

    CSV: `encoding` and `delimiter` override detection (`encoding` as Python names it, e.g.
    "cp1252"). XLSX: `sheet` picks a sheet by name (default: the first). `header_rows=2` reads
    SurveyMonkey's two header rows (question, then option) into names "Question | Option".
    A file with a header but no data rows is refused unless `allow_no_rows`.

    >>> table = read_table(b"Comment,Language\\nMore lights,en\\n", filename="c.csv")
    >>> table.columns, table.n_rows, table.encoding, table.delimiter
    (('Comment', 'Language'), 1, 'utf-8', ',')
    >>> table.rows[0]
    TableRow(number=2, cells=('More lights', 'en'))
    """
    data = _load_bytes(source, filename=filename, max_bytes=max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    kind = _detect_kind(data, filename)
    if kind == "xlsx":
        return _read_xlsx(
            data,
            filename=filename,
            sheet=sheet,
            header_rows=header_rows,
            max_bytes=max_bytes,
            max_rows=max_rows,
            max_columns=max_columns,
            allow_no_rows=allow_no_rows,
            digest=digest,
        )
    text, used_encoding = _decode(data, filename=filename, encoding=encoding)
    if text.strip() == "":
        raise ImportFileError(filename, "the file is empty (no header row and no data)")
    nul = text.find("\x00")
    if nul >= 0:
        raise ImportFileError(
            filename,
            "the file contains NUL bytes, so it is not a CSV text file; if it is a "
            "spreadsheet, save it as .xlsx or as CSV (UTF-8)",
            line=text.count("\n", 0, nul) + 1,
        )
    if delimiter is not None and delimiter not in {",", ";", "\t", "|"}:
        raise ImportFileError(filename, f"unsupported delimiter {delimiter!r}; use , ; tab or |")
    used_delimiter = delimiter or _sniff_delimiter(text)
    records = _csv_records(text, filename=filename, delimiter=used_delimiter)
    columns, rows, errors, n_rows, blank = _assemble(
        records,
        filename=filename,
        kind="csv",
        header_rows=header_rows,
        max_rows=max_rows,
        max_columns=max_columns,
        allow_no_rows=allow_no_rows,
    )
    return Table(
        file=filename,
        kind="csv",
        columns=columns,
        rows=rows,
        errors=errors,
        n_rows=n_rows,
        blank_rows=blank,
        sha256=digest,
        size_bytes=len(data),
        encoding=used_encoding,
        delimiter=used_delimiter,
        header_rows=header_rows,
    )


def _load_bytes(source: Source, *, filename: str, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray):
        size = len(source)
        if size > max_bytes:
            raise ImportFileError(filename, _too_large(size, max_bytes))
        return bytes(source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise ImportFileError(filename, _too_large(size, max_bytes))
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as error:
            raise ImportFileError(
                filename, f"the file cannot be opened ({error.strerror})"
            ) from None
    else:
        data = source.read(max_bytes + 1) or b""
    if len(data) > max_bytes:
        raise ImportFileError(filename, _too_large(None, max_bytes))
    return data


def _too_large(size: int | None, max_bytes: int) -> str:
    found = (
        f"is {_megabytes(size)}" if size is not None else f"is larger than {_megabytes(max_bytes)}"
    )
    return (
        f"the file {found}; the largest file that can be imported is {_megabytes(max_bytes)}. "
        "Split it into smaller files or export only the columns needed"
    )


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):,.1f} MB"


def _detect_kind(data: bytes, filename: str) -> TableKind:
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ImportFileError(
            filename,
            "this is an old-style Excel .xls file or a password-protected workbook; open it in "
            "a spreadsheet program and save it as .xlsx (without a password) or as CSV",
        )
    if data.startswith(b"%PDF"):
        raise ImportFileError(filename, "this is a PDF; export the data as CSV or XLSX instead")
    return "csv"


def _decode(data: bytes, *, filename: str, encoding: str | None) -> tuple[str, str]:
    """The text and the encoding used: UTF-8 (BOM or not), UTF-16 with BOM, else 1252/Latin-1.

    Windows-1252 is tried before Latin-1: they agree on every printable Latin-1 character, and
    1252 also has the smart quotes and dashes that spreadsheet programs write. Latin-1 (which
    accepts any byte) is the last resort, so decoding never fails without an explicit encoding.
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ImportFileError(filename, f"unknown encoding {encoding!r}") from None
        return _decode_strict(data, filename, encoding).removeprefix("\ufeff"), encoding
    if data.startswith(codecs.BOM_UTF8):
        return _decode_strict(data, filename, "utf-8-sig"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_strict(data, filename, "utf-16").removeprefix("\ufeff"), "utf-16"
    for candidate in ("utf-8", "windows-1252"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _decode_strict(data: bytes, filename: str, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1]
        raise ImportFileError(
            filename,
            f"byte 0x{bad.hex()} is not valid {encoding}; choose the encoding the file was "
            "saved in (UTF-8, Windows-1252, Latin-1) or save it again as CSV UTF-8",
            line=data.count(b"\n", 0, error.start) + 1,
        ) from None


def _sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab that splits the first rows into the same number of cells."""
    sample = text[:65536]
    cut = sample.rfind("\n")
    if 0 < cut < len(sample) - 1:
        sample = sample[:cut]
    best, best_score = ",", (0, 0.0, 0)
    for candidate in (",", ";", "\t"):
        records: list[list[str]] = []
        try:
            for record in csv.reader(io.StringIO(sample, newline=""), delimiter=candidate):
                if record:
                    records.append(record)
                if len(records) >= 30:
                    break
        except csv.Error:
            continue
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        consistent = sum(len(record) == width for record in records) / len(records)
        score = (1, consistent, width)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _csv_records(text: str, *, filename: str, delimiter: str) -> Iterator[_RawRow]:
    # strict=True so that a missing closing quote is an error at its line instead of the rest
    # of the file silently becoming one cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    while True:
        start_line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFileError(
                filename,
                _csv_problem(str(error), delimiter),
                line=start_line,
                row=number + 1,
            ) from None
        number += 1
        yield _RawRow(number=number, line=start_line, cells=cells)


def _csv_problem(message: str, delimiter: str) -> str:
    shown = "tab" if delimiter == "\t" else delimiter
    if "unexpected end of data" in message:
        return (
            'a quoted cell that starts in this row is never closed (a closing " is missing), so '
            "the rest of the file cannot be split into cells; the CSV is malformed"
        )
    if "expected after" in message:
        return (
            f"a closing quote is followed by other text instead of the delimiter {shown!r}; quote "
            'the whole cell and write a quote inside it as two quotes (""); the CSV is malformed'
        )
    if "field larger than field limit" in message:
        return (
            "a cell is longer than 131,072 characters, usually because a closing quote is "
            "missing; the CSV is malformed"
        )
    return f"the CSV is malformed ({message})"


def _read_xlsx(
    data: bytes,
    *,
    filename: str,
    sheet: str | None,
    header_rows: Literal[1, 2],
    max_bytes: int,
    max_rows: int,
    max_columns: int,
    allow_no_rows: bool,
    digest: str,
) -> Table:
    import openpyxl  # only XLSX reading needs it

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, EOFError):
        raise ImportFileError(
            filename,
            "the file starts like an XLSX workbook (a ZIP archive) but is damaged or cut short; "
            "save it again from the spreadsheet program",
        ) from None
    if "xl/workbook.xml" not in names:
        if "content.xml" in names:
            found = "an OpenDocument (.ods) spreadsheet"
        elif "word/document.xml" in names:
            found = "a Word document"
        else:
            found = "a ZIP archive, not an XLSX workbook"
        raise ImportFileError(filename, f"this is {found}; export the data as .xlsx or CSV")
    if expanded > max_bytes * XLSX_MAX_EXPANSION:
        raise ImportFileError(
            filename,
            f"the workbook unpacks to {_megabytes(expanded)}, more than "
            f"{XLSX_MAX_EXPANSION} times the {_megabytes(max_bytes)} limit; export only the "
            "sheet and columns needed",
        )
    try:
        values_book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formula_book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl fails on damaged files in many ways (XML, KeyError...)
        raise ImportFileError(
            filename,
            f"the XLSX workbook cannot be opened ({type(error).__name__}: {error}); open it in a "
            "spreadsheet program and save it again as .xlsx",
        ) from None
    try:
        sheet_names = tuple(values_book.sheetnames)
        worksheets = [ws for ws in values_book.worksheets if hasattr(ws, "iter_rows")]
        if not worksheets:
            raise ImportFileError(filename, "the workbook has no worksheet with cells")
        if sheet is None:
            values_sheet = worksheets[0]
        elif sheet in sheet_names:
            values_sheet = values_book[sheet]
        else:
            raise ImportFileError(
                filename, f"the workbook has no sheet {sheet!r}; its sheets are {list(sheet_names)}"
            )
        formula_sheet = formula_book[values_sheet.title]
        for ws in (values_sheet, formula_sheet):
            # Some writers store a wrong sheet size; read what is there instead.
            ws.reset_dimensions()
        counter = [0]
        records = _xlsx_records(values_sheet, formula_sheet, counter)
        columns, rows, errors, n_rows, blank = _assemble(
            records,
            filename=filename,
            kind="xlsx",
            header_rows=header_rows,
            max_rows=max_rows,
            max_columns=max_columns,
            allow_no_rows=allow_no_rows,
        )
        sheet_title = values_sheet.title
    finally:
        values_book.close()
        formula_book.close()
    return Table(
        file=filename,
        kind="xlsx",
        columns=columns,
        rows=rows,
        errors=errors,
        n_rows=n_rows,
        blank_rows=blank,
        sha256=digest,
        size_bytes=len(data),
        sheet=sheet_title,
        sheet_names=sheet_names,
        header_rows=header_rows,
        formula_results_used=counter[0],
    )


def _xlsx_records(values_sheet: Any, formula_sheet: Any, counter: list[int]) -> Iterator[_RawRow]:
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    pairs = zip(values_sheet.iter_rows(min_row=1), formula_sheet.iter_rows(min_row=1), strict=False)
    for number, (value_cells, formula_cells) in enumerate(pairs, start=1):
        record = _RawRow(number=number, line=None, cells=[])
        for index, value_cell in enumerate(value_cells):
            formula_cell = formula_cells[index] if index < len(formula_cells) else None
            formula = getattr(formula_cell, "value", None)
            is_formula = getattr(formula_cell, "data_type", None) == "f" or isinstance(
                formula, ArrayFormula | DataTableFormula
            )
            value = value_cell.value
            if value is None:
                record.cells.append("")
                if is_formula:
                    shown = formula.text if isinstance(formula, ArrayFormula) else str(formula)
                    record.problems.append(
                        (
                            index,
                            f"formula without a stored value ({_clip(shown)}); export values: "
                            "open the file in a spreadsheet program and save it again, or "
                            "paste values only",
                        )
                    )
                continue
            if is_formula:
                counter[0] += 1
            text = _cell_text(value)
            record.cells.append(text)
            if getattr(value_cell, "data_type", None) == "e":
                record.problems.append(
                    (index, f"the cell holds a spreadsheet error ({text}); fix it or export values")
                )
        yield record


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person sees (whole numbers without '.0')."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _assemble(
    records: Iterator[_RawRow],
    *,
    filename: str,
    kind: TableKind,
    header_rows: int,
    max_rows: int,
    max_columns: int,
    allow_no_rows: bool,
) -> tuple[tuple[str, ...], tuple[TableRow, ...], tuple[RowError, ...], int, int]:
    header_records: list[_RawRow] = []
    for record in records:
        header_records.append(record)
        if len(header_records) == header_rows:
            break
    if not header_records or all(not cell.strip() for cell in header_records[0].cells):
        raise ImportFileError(
            filename, "the first row is empty; it must hold the column names", row=1
        )
    if len(header_records) < header_rows:
        raise ImportFileError(filename, f"the file has fewer than {header_rows} header rows")
    columns = _header(header_records, filename=filename, kind=kind, max_columns=max_columns)
    width = len(columns)
    rows: list[TableRow] = []
    errors: list[RowError] = []
    n_rows = blank = 0
    for record in records:
        cells = record.cells
        if not record.problems and all(not cell.strip() for cell in cells):
            blank += 1
            if blank > BLANK_ROWS_PER_ROW_ALLOWED * max(max_rows, 1):
                raise ImportFileError(
                    filename,
                    f"the file has more than {blank - 1:,} blank rows; delete the empty rows "
                    "below the data (or export only the rows with data) and try again",
                )
            continue
        n_rows += 1
        if n_rows > max_rows:
            raise ImportFileError(
                filename,
                f"the file has more than {max_rows:,} data rows, the most one import takes; "
                "split it into smaller files",
            )
        row_errors = [
            RowError(filename, record.number, _column_name(columns, index, kind), cells[index], p)
            for index, p in record.problems
        ]
        if len(cells) > width:
            extra = [(i, cell) for i, cell in enumerate(cells) if i >= width and cell.strip()]
            if extra:
                index, cell = extra[0]
                problem = (
                    f"this row has {len(cells)} cells but the header names {width} columns; "
                    "a quote or delimiter may be misplaced"
                    if kind == "csv"
                    else "a value in a column that has no name in the header row"
                )
                row_errors.append(
                    RowError(
                        filename, record.number, _column_name(columns, index, kind), cell, problem
                    )
                )
            cells = cells[:width]
        elif len(cells) < width:
            if kind == "csv":
                row_errors.append(
                    RowError(
                        filename,
                        record.number,
                        columns[len(cells)],
                        "",
                        f"this row has {len(cells)} cells but the header names {width} columns; "
                        "a delimiter may be missing",
                    )
                )
            cells = cells + [""] * (width - len(cells))
        if row_errors:
            errors.extend(_clipped(error) for error in row_errors)
        else:
            rows.append(TableRow(number=record.number, cells=tuple(cells)))
    if n_rows == 0 and not allow_no_rows:
        raise ImportFileError(
            filename,
            "the file has a header row but no data rows"
            + (f" ({blank} blank rows)" if blank else ""),
        )
    return columns, tuple(rows), tuple(errors), n_rows, blank


def _header(
    records: list[_RawRow], *, filename: str, kind: TableKind, max_columns: int
) -> tuple[str, ...]:
    for record in records:
        if record.problems:
            index, problem = record.problems[0]
            raise ImportFileError(
                filename,
                f"the header cell in column {_letter(index, kind)}: {problem}",
                row=record.number,
            )
    if len(records) == 1:
        names = [_clean_name(cell) for cell in records[0].cells]
    else:
        top_cells, sub_cells = records[0].cells, records[1].cells
        width = max(len(top_cells), len(sub_cells))
        names, current = [], ""
        for index in range(width):
            top = _clean_name(top_cells[index]) if index < len(top_cells) else ""
            sub = _clean_name(sub_cells[index]) if index < len(sub_cells) else ""
            # SurveyMonkey writes a question once, above the first of its option columns.
            current = top or (current if sub else "")
            names.append(f"{current} | {sub}" if current and sub else current or sub)
    while names and names[-1] == "":
        names.pop()
    if len(names) > max_columns:
        raise ImportFileError(
            filename, f"the header has {len(names):,} columns; at most {max_columns:,} are read"
        )
    unnamed = [_letter(index, kind) for index, name in enumerate(names) if name == ""]
    if unnamed:
        raise ImportFileError(
            filename,
            f"column {', '.join(unnamed)} has no name in the header row; every column needs a "
            "unique name",
            row=1,
        )
    positions: dict[str, list[str]] = {}
    for index, name in enumerate(names):
        positions.setdefault(name, []).append(_letter(index, kind))
    repeated = [
        f"{name!r} (columns {' and '.join(at)})" for name, at in positions.items() if len(at) > 1
    ]
    if repeated:
        raise ImportFileError(
            filename,
            f"column names must be unique, but {'; '.join(repeated)} appear more than once; "
            "rename them in the header row",
            row=1,
        )
    return tuple(names)


def _clean_name(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").split())


def _letter(index: int, kind: TableKind) -> str:
    if kind == "csv":
        return str(index + 1)
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _column_name(columns: tuple[str, ...], index: int, kind: TableKind) -> str:
    if index < len(columns):
        return columns[index]
    return f"(unnamed column {_letter(index, kind)})"


def _clip(value: str) -> str:
    return value if len(value) <= VALUE_SHOWN else value[: VALUE_SHOWN - 1] + "…"


def _clipped(error: RowError) -> RowError:
    return RowError(error.file, error.row, error.column, _clip(error.value), error.problem)


# --- suggesting a mapping ---------------------------------------------------------------------


def suggest_mapping(
    table: Table | Sequence[str],
    target_fields: Sequence[str] | Mapping[str, Sequence[str]] = FEEDBACK_FIELDS,
    *,
    threshold: float = 0.6,
) -> ColumnMapping:
    """Suggest which column feeds each target field, by how alike the names are.

    `target_fields` is a list of field names (the usual header words for csas's own fields,
    `FIELD_SYNONYMS`, are added) or {field: [names it may go by]}, e.g. {question key:
    [question text]}. Each column feeds at most one field; the best matches are taken first.
    Columns whose header names personal data (e-mail, phone, IP address) are never suggested.

    >>> mapping = suggest_mapping(["Your comments", "lng", "lat", "Neighborhood", "Extra"])
    >>> dict(mapping.fields)
    {'lat': 'lat', 'lon': 'lng', 'neighbourhood': 'Neighborhood', 'text': 'Your comments'}
    >>> mapping.unmapped_columns
    ('Extra',)
    """
    columns = tuple(table.columns if isinstance(table, Table) else table)
    if isinstance(target_fields, Mapping):
        names = {key: (key, *target_fields[key]) for key in target_fields}
    else:
        names = {key: (key, *FIELD_SYNONYMS.get(key, ())) for key in target_fields}
    candidates: list[tuple[float, int, int, str, str]] = []
    column_tokens = [
        () if PERSONAL_DATA_WORDS & set(tokens) else tokens
        for tokens in (_name_tokens(column) for column in columns)
    ]
    for field_order, (key, aliases) in enumerate(names.items()):
        alias_tokens = [_name_tokens(alias) for alias in aliases]
        for column_order, tokens in enumerate(column_tokens):
            score = max((_name_score(tokens, alias) for alias in alias_tokens), default=0.0)
            if score >= threshold:
                candidates.append((-score, column_order, field_order, key, columns[column_order]))
    candidates.sort()
    chosen: dict[str, str] = {}
    scores: dict[str, float] = {}
    used: set[str] = set()
    for negative, _, _, key, column in candidates:
        if key in chosen or column in used:
            continue
        chosen[key] = column
        scores[key] = round(-negative, 2)
        used.add(column)
    ordered = dict(sorted(chosen.items()))
    return ColumnMapping(
        fields=MappingProxyType(ordered),
        scores=MappingProxyType(dict(sorted(scores.items()))),
        unmapped_columns=tuple(column for column in columns if column not in used),
        unmapped_fields=tuple(key for key in names if key not in chosen),
    )


def _name_tokens(name: str) -> tuple[str, ...]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    plain = _fold(spaced)
    tokens = re.findall(r"[^\W_]+", plain)
    return tuple(
        token[:-1] if len(token) > 3 and token.endswith("s") and not token.endswith("ss") else token
        for token in tokens
    )


def _name_score(header: tuple[str, ...], alias: tuple[str, ...]) -> float:
    if not header or not alias:
        return 0.0
    if header == alias:
        return 1.0
    if len(alias) == 1 and len(alias[0]) <= 2:
        return 0.0  # "x", "y", "id" only count as the whole header
    if set(alias) <= set(header):
        return max(0.5, 0.9 - 0.1 * (len(header) - len(alias)))
    ratio = difflib.SequenceMatcher(None, " ".join(header), " ".join(alias)).ratio()
    return 0.75 * ratio if ratio >= 0.8 else 0.0


def _fold(text: str) -> str:
    """Lower case without accents, smart quotes made straight, spaces collapsed."""
    text = text.replace("\u2018", "'").replace("\u2019", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"')
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(unicodedata.normalize("NFC", bare).split())


# --- one comment per row ------------------------------------------------------------------


def plan_feedback_import(
    table: Table,
    mapping: ColumnMapping | Mapping[str, str],
    *,
    categories: Mapping[str, str] | Collection[str] | None = None,
    default_category: str = "",
    languages: Collection[str] | None = None,
    default_language: str = "",
    neighbourhoods: Collection[str] | None = None,
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH,
    date_order: DateOrder = "MDY",
    timezone: str | tzinfo = "UTC",
    known_external_ids: Collection[str] = (),
    inside: Callable[[float, float], bool] | None = None,
    place_name: str = "the city",
) -> FeedbackImportPlan:
    """Check every row of a one-comment-per-row file and plan its import.

    `mapping` maps fields of `FEEDBACK_FIELDS` to columns; "text" is required, "lat" and "lon"
    go together. `categories` ({value: label} or values) is the allowed set when a category
    column is mapped: a cell matches a value or label ignoring case, spaces and accents; a blank
    cell takes `default_category` or is an error. `languages` and `neighbourhoods`, when given,
    are the accepted codes and names. Times without a zone are in `timezone` (pass the city's,
    settings.TIME_ZONE); "03/04/2024" is read as `date_order`. A row whose external id is in
    `known_external_ids` (imported before) or repeats an earlier row's id, or whose text and
    time repeat an earlier row's, is a duplicate. `inside(lon, lat)`, when given, says whether
    a pin lies in `place_name` (the city's districts): a pin outside is an error, as on the
    public map.

    >>> data = b"Comment,Submitted\\nMore lights,2024-03-05 18:30\\n,\\n"
    >>> table = read_table(data, filename="c.csv")
    >>> plan = plan_feedback_import(table, {"text": "Comment", "submitted_at": "Submitted"})
    >>> plan.rows_ok[0].text, plan.rows_ok[0].submitted_at.isoformat()
    ('More lights', '2024-03-05T18:30:00+00:00')
    >>> plan.counts.ok, plan.counts.blank_skipped
    (1, 1)
    """
    fields = dict(mapping.fields if isinstance(mapping, ColumnMapping) else mapping)
    problems = [
        f"{key!r} is not a feedback field {FEEDBACK_FIELDS}"
        for key in fields
        if key not in FEEDBACK_FIELDS
    ]
    problems += _missing_columns(table, fields.values())
    if "text" not in fields:
        problems.append("map a column to 'text' (the comment itself)")
    if ("lat" in fields) != ("lon" in fields):
        problems.append("map both 'lat' and 'lon', or neither")
    allowed = _allowed_categories(categories)
    if "category" in fields and allowed is None:
        problems.append("a category column is mapped but no allowed categories were given")
    if default_category and allowed is not None and default_category not in allowed.values():
        problems.append(f"default category {default_category!r} is not an allowed category")
    zone = _zone(timezone, problems)
    if problems:
        raise MappingError(table.file, problems)
    rules = _FeedbackRules(
        fields=fields,
        categories=allowed,
        default_category=default_category,
        languages=languages,
        default_language=default_language,
        neighbourhoods={_fold(name): name for name in neighbourhoods or ()}
        if neighbourhoods is not None
        else None,
        max_text_length=max_text_length,
        date_order=date_order,
        timezone=zone,
        inside=inside,
        place_name=place_name,
    )
    errors = list(table.errors)
    rows_ok: list[FeedbackRow] = []
    duplicates: list[Duplicate] = []
    seen_ids: dict[str, int] = {}
    seen_text_time: dict[tuple[str, datetime], int] = {}
    known = set(known_external_ids)
    rejected = set(table.rejected_rows)
    for row in table.rows:
        checked = _check_feedback_row(table, row, rules)
        if isinstance(checked, list):
            errors.extend(checked)
            rejected.add(row.number)
            continue
        duplicate = _duplicate_of(table.file, row.number, checked.external_id, known, seen_ids)
        if duplicate is None and checked.submitted_at is not None:
            key = (" ".join(checked.text.casefold().split()), checked.submitted_at)
            if key in seen_text_time:
                first = seen_text_time[key]
                duplicate = Duplicate(
                    table.file, row.number, first, f"same text and time as row {first}"
                )
            else:
                seen_text_time[key] = row.number
        if duplicate is not None:
            duplicates.append(duplicate)
        else:
            rows_ok.append(checked)
    counts = RowCounts(
        file=table.file,
        rows=table.n_rows,
        ok=len(rows_ok),
        rejected=len(rejected),
        duplicate=len(duplicates),
        blank_skipped=table.blank_rows,
    )
    return FeedbackImportPlan(
        file=table.file,
        sha256=table.sha256,
        mapping=MappingProxyType(fields),
        rows_ok=tuple(rows_ok),
        errors=tuple(sorted(errors, key=lambda e: e.row)),
        duplicates=tuple(duplicates),
        counts=counts,
    )


@dataclass(frozen=True)
class _FeedbackRules:
    fields: Mapping[str, str]
    categories: Mapping[str, str] | None
    default_category: str
    languages: Collection[str] | None
    default_language: str
    neighbourhoods: Mapping[str, str] | None
    max_text_length: int
    date_order: DateOrder
    timezone: tzinfo
    inside: Callable[[float, float], bool] | None = None
    place_name: str = "the city"


def _check_feedback_row(
    table: Table, row: TableRow, rules: _FeedbackRules
) -> FeedbackRow | list[RowError]:
    """The normalised row, or every problem found in it."""
    fields = rules.fields
    cell = {key: table.value(row, column) for key, column in fields.items()}
    found: list[RowError] = []

    def fail(key: str, problem: str) -> None:
        found.append(RowError(table.file, row.number, fields[key], _clip(cell[key]), problem))

    text = cell["text"].replace("\r\n", "\n").strip()
    if not text:
        fail("text", "the comment text is empty")
    elif len(text) > rules.max_text_length:
        fail(
            "text",
            f"the text has {len(text):,} characters; at most {rules.max_text_length:,} are allowed",
        )
    category = ""
    if "category" in fields and rules.categories is not None:
        if not cell["category"].strip():
            category = rules.default_category
            if not category:
                fail(
                    "category",
                    f"the category is empty; expected one of {_listed(rules.categories)}",
                )
        else:
            category = _match_category(cell["category"], rules.categories) or ""
            if not category:
                fail("category", f"unknown category; expected one of {_listed(rules.categories)}")
    lat = lon = None
    if "lat" in fields:
        lat, lon = _coordinates(cell["lat"], cell["lon"], fail)
        if lat is not None and lon is not None and rules.inside and not rules.inside(lon, lat):
            fail(
                "lat",
                f"the point (latitude {lat:g}, longitude {lon:g}) is outside "
                f"{rules.place_name}; correct it, or leave both coordinates empty",
            )
    address = cell.get("address", "").strip()
    if len(address) > MAX_ADDRESS_LENGTH:
        fail(
            "address",
            f"the address has {len(address)} characters; at most {MAX_ADDRESS_LENGTH} are allowed",
        )
    language = rules.default_language
    if cell.get("language", "").strip():
        language, problem = _language(cell["language"], rules.languages)
        if problem:
            fail("language", problem)
    neighbourhood = cell.get("neighbourhood", "").strip()
    if neighbourhood and rules.neighbourhoods is not None:
        matched = rules.neighbourhoods.get(_fold(neighbourhood))
        if matched is None:
            fail(
                "neighbourhood",
                f"unknown neighbourhood; expected one of {_listed(rules.neighbourhoods)}",
            )
        neighbourhood = matched or ""
    elif len(neighbourhood) > MAX_NEIGHBOURHOOD_LENGTH:
        fail(
            "neighbourhood",
            f"the neighbourhood name is longer than {MAX_NEIGHBOURHOOD_LENGTH} characters",
        )
    submitted_at = None
    if cell.get("submitted_at", "").strip():
        try:
            submitted_at = parse_timestamp(
                cell["submitted_at"], date_order=rules.date_order, timezone=rules.timezone
            )
        except ValueError as error:
            fail("submitted_at", str(error))
    external_id = cell.get("external_id", "").strip()
    if len(external_id) > MAX_EXTERNAL_ID_LENGTH:
        fail("external_id", f"the id is longer than {MAX_EXTERNAL_ID_LENGTH} characters")
    if found:
        return found
    return FeedbackRow(
        row=row.number,
        text=text,
        category=category,
        lat=lat,
        lon=lon,
        address=address,
        language=language,
        neighbourhood=neighbourhood,
        submitted_at=submitted_at,
        external_id=external_id,
    )


def _missing_columns(table: Table, columns: Iterable[str]) -> list[str]:
    return [
        f"there is no column {column!r} (columns: {list(table.columns)})"
        for column in columns
        if column not in table.columns
    ]


def _zone(timezone: str | tzinfo, problems: list[str]) -> tzinfo:
    if isinstance(timezone, tzinfo):
        return timezone
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"unknown time zone {timezone!r}")
        return UTC


def _allowed_categories(
    categories: Mapping[str, str] | Collection[str] | None,
) -> dict[str, str] | None:
    """{folded value or label: value}."""
    if categories is None:
        return None
    allowed: dict[str, str] = {}
    labels = categories.items() if isinstance(categories, Mapping) else ((v, v) for v in categories)
    for value, label in labels:
        allowed[_category_key(label)] = value
    for value in categories:
        allowed[_category_key(value)] = value
    return allowed


def _category_key(text: str) -> str:
    return "_".join(re.findall(r"[^\W_]+", _fold(text)))


def _match_category(text: str, allowed: Mapping[str, str]) -> str | None:
    return allowed.get(_category_key(text))


def _listed(values: Iterable[str] | Mapping[str, str], limit: int = 12) -> str:
    shown = sorted(set(values.values() if isinstance(values, Mapping) else values))
    more = f", … ({len(shown) - limit} more)" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def _coordinates(
    lat_text: str, lon_text: str, fail: Callable[[str, str], None]
) -> tuple[float | None, float | None]:
    if not lat_text.strip() and not lon_text.strip():
        return None, None
    values: dict[str, float] = {}
    for key, text, limit in (("lat", lat_text, 90.0), ("lon", lon_text, 180.0)):
        name = "latitude" if key == "lat" else "longitude"
        if not text.strip():
            other = "longitude" if key == "lat" else "latitude"
            fail(key, f"the {name} is empty but the {other} is given; give both or neither")
            continue
        number = _decimal(text)
        if number is None:
            fail(key, f"the {name} is not a number; expected decimal degrees like 47.2529")
        elif not -limit <= number <= limit:
            swapped = (
                " (are latitude and longitude swapped?)"
                if key == "lat" and abs(number) <= 180
                else ""
            )
            fail(key, f"the {name} {number:g} is outside -{limit:g} to {limit:g}{swapped}")
        else:
            values[key] = round(number, 6)
    if len(values) < 2:
        return None, None
    return values["lat"], values["lon"]


def _decimal(text: str) -> float | None:
    cleaned = text.strip()
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # decimal comma, as European exports write it
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _language(text: str, languages: Collection[str] | None) -> tuple[str, str]:
    """(code, problem): a code like "es" from "es", "es-MX", "es_MX", "Spanish" or "Español"."""
    allowed = {code.casefold() for code in languages} if languages is not None else None
    folded = _fold(text)
    code = LANGUAGE_NAMES.get(folded)
    if code is None and re.fullmatch(r"[a-z]{2,3}([-_][a-z0-9]{2,8})*", folded):
        code = re.split(r"[-_]", folded)[0]
    if code is None:
        return "", "expected a language code like 'es' or a name like 'Spanish'"
    if allowed is not None and code not in allowed:
        return "", f"language {code!r} is not one of {_listed(allowed)}"
    return code, ""


def _duplicate_of(
    file: str, row: int, external_id: str, known: set[str], seen: dict[str, int]
) -> Duplicate | None:
    if not external_id:
        return None
    if external_id in known:
        return Duplicate(file, row, None, f"id {external_id!r} was imported before")
    if external_id in seen:
        return Duplicate(
            file, row, seen[external_id], f"same id {external_id!r} as row {seen[external_id]}"
        )
    seen[external_id] = row
    return None


_DATE_PATTERN = re.compile(
    r"(?P<a>\d{1,4})[/.-](?P<b>\d{1,2})[/.-](?P<c>\d{2,4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    r"(?:\s*(?:GMT|UTC)(?P<offset>[+-]\d{1,2}(?::?\d{2})?)?)?"
)


def parse_timestamp(
    text: str, *, date_order: DateOrder = "MDY", timezone: tzinfo = UTC
) -> datetime:
    """A timezone-aware datetime (in UTC) from the ways exports write times; ValueError if none.

    ISO 8601 ("2024-03-05", "2024-03-05 14:22:01", "...T14:22:01Z", "...+02:00"), and slashed
    dates as SurveyMonkey and Google Forms write them ("3/5/2024 14:22:01", "03/05/2024
    02:22:01 PM"), day and month in `date_order`; a time without a zone is in `timezone`.

    >>> parse_timestamp("03/05/2024 02:22 PM").isoformat()
    '2024-03-05T14:22:00+00:00'
    >>> parse_timestamp("05/03/2024", date_order="DMY").date().isoformat()
    '2024-03-05'
    """
    cleaned = " ".join(text.split())
    expected = "expected a date and time like 2024-03-05 14:30 or 3/5/2024 2:30 PM"
    try:
        parsed = datetime.fromisoformat(
            cleaned.replace("Z", "+00:00") if cleaned.endswith("Z") else cleaned
        )
    except ValueError:
        parsed = _parse_slashed(cleaned, date_order, expected)
    if not 1900 <= parsed.year <= 2100:
        raise ValueError(f"the year {parsed.year} is not plausible; {expected}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone)
    return parsed.astimezone(UTC)


def _parse_slashed(text: str, date_order: DateOrder, expected: str) -> datetime:
    match = _DATE_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"the date cannot be read; {expected}")
    a, b, c = (match["a"], match["b"], match["c"])
    if len(a) == 4:
        year, month, day = int(a), int(b), int(c)
    elif len(c) in (2, 4):
        first, second = int(a), int(b)
        month, day = (first, second) if date_order == "MDY" else (second, first)
        year = int(c) + (2000 if len(c) == 2 else 0)
    else:
        raise ValueError(f"the date cannot be read; {expected}")
    hour = int(match["hour"] or 0)
    minute = int(match["minute"] or 0)
    second = int(match["second"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError(f"the hour {hour} does not fit AM/PM; {expected}")
        hour = hour % 12 + (12 if match["ampm"][0] in "Pp" else 0)
    zone: tzinfo | None = None
    if match["offset"]:
        sign = -1 if match["offset"][0] == "-" else 1
        digits = match["offset"][1:].replace(":", "")
        hours, minutes = (
            (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
        )
        from datetime import timezone as fixed

        zone = fixed(sign * timedelta(hours=hours, minutes=minutes))
    elif text.rstrip().endswith(("GMT", "UTC")):
        zone = UTC
    order = "month/day" if date_order == "MDY" else "day/month"
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as error:
        raise ValueError(
            f"not a real date or time ({error}; read as {order}/year); {expected}"
        ) from None


# --- one survey response per row -----------------------------------------------------------


def plan_wide_survey_import(
    table: Table,
    mapping: Mapping[str, str | Sequence[str]],
    questions: Sequence[QuestionSpec],
    *,
    option_labels: Mapping[str, Mapping[str, str]] | None = None,
    label_aliases: Mapping[str, Mapping[str, str]] | None = None,
    separators: Sequence[str] = (";", ","),
    meta: Mapping[str, str] | None = None,
    languages: Collection[str] | None = None,
    date_order: DateOrder = "MDY",
    timezone: str | tzinfo = "UTC",
    known_external_ids: Collection[str] = (),
) -> SurveyImportPlan:
    """Check every response of a wide survey export and plan its import.

    `mapping` maps a question key to its column, or for a choice question exported as one
    column per option (SurveyMonkey) to those columns. A choice cell is matched to an option by
    its value, its label (`option_labels[key][value]`) or an alias (`label_aliases[key][text] =
    value`), ignoring case, accents and quote style. In a single column, several choices are
    separated by any of `separators` (a label that itself contains one still matches). In an
    option column, a tick (1, x, yes, TRUE) selects the option the column header names, and the
    label itself selects that option. A ranking takes one column per option holding ranks, or one
    column listing options in order. Every answer then goes through `answers.clean_answer`, so
    imported answers obey exactly the web form's rules (required answers, limits, conditions).

    `meta` maps "external_id", "submitted_at" and "language" to columns. Columns not mapped are
    not read (keep e-mail and IP address columns out of the mapping).

    The answer rules live in `answers.py`, whose messages are translated with Django's gettext,
    so this function (unlike the rest of this module) needs Django settings to be configured.
    """
    # Imported here so that reading files and the other plans work without Django.
    from csas.engagement.answers import AnswerError, clean_answer, is_shown

    specs = {spec.key: spec for spec in questions}
    columns_of = {
        key: (value,) if isinstance(value, str) else tuple(value) for key, value in mapping.items()
    }
    meta_columns = dict(meta or {})
    labels = {key: dict(value) for key, value in (option_labels or {}).items()}
    aliases = {key: dict(value) for key, value in (label_aliases or {}).items()}
    problems = [f"no question with key {key!r}" for key in columns_of if key not in specs]
    problems += [
        f"{key!r} is not one of {SURVEY_META_FIELDS}"
        for key in meta_columns
        if key not in SURVEY_META_FIELDS
    ]
    problems += _missing_columns(table, [c for cols in columns_of.values() for c in cols])
    problems += _missing_columns(table, meta_columns.values())
    for spec in questions:
        if spec.required and spec.show_if is None and spec.key not in columns_of:
            problems.append(f"required question {spec.key!r} has no column")
    for key, cols in columns_of.items():
        mapped = specs.get(key)
        if mapped is None:
            continue
        if not cols:
            problems.append(f"question {key!r} is mapped to no column")
        if len(cols) > 1 and mapped.kind not in OPTION_COLUMN_KINDS:
            problems.append(f"question {key!r} ({mapped.kind}) takes one column, not {len(cols)}")
    zone = _zone(timezone, problems)
    matchers = {
        key: _OptionMatcher(spec, labels.get(key, {}), aliases.get(key, {}))
        for key, spec in specs.items()
    }
    column_options: dict[str, dict[str, str | None]] = {}
    for key, cols in columns_of.items():
        if key in specs and len(cols) > 1:
            column_options[key] = {col: matchers[key].for_column(col) for col in cols}
            if specs[key].kind == "ranking":
                problems += [
                    f"column {col!r} of ranking question {key!r} does not name one of its options"
                    for col, option in column_options[key].items()
                    if option is None
                ]
    if problems:
        raise MappingError(table.file, problems)
    errors = list(table.errors)
    rejected = set(table.rejected_rows)
    responses: list[SurveyResponseRow] = []
    duplicates: list[Duplicate] = []
    seen_ids: dict[str, int] = {}
    known = set(known_external_ids)
    for row in table.rows:
        found: list[RowError] = []
        question_cells = [table.value(row, col) for cols in columns_of.values() for col in cols]
        if all(not cell.strip() for cell in question_cells):
            found.append(
                RowError(
                    table.file,
                    row.number,
                    "",
                    "",
                    "the response answers none of the mapped questions",
                )
            )
        answers: dict[str, Mapping[str, Any]] = {}
        ignored: list[str] = []
        for spec in questions if not found else ():
            cols = columns_of.get(spec.key, ())
            shown = is_shown(spec, answers)
            raw, column, value, problem = _raw_answer(
                table, row, spec, cols, matchers[spec.key], column_options.get(spec.key), separators
            )
            cleaned = None
            if problem is None:
                try:
                    cleaned = clean_answer(spec, raw)
                except AnswerError as error:
                    problem = f"question {spec.key!r}: {error.message}"
            if not shown:
                # As in the web form: a hidden question's answer (valid or not) is dropped.
                if value or cleaned is not None:
                    ignored.append(spec.key)
            elif problem is not None:
                found.append(RowError(table.file, row.number, column, _clip(value), problem))
            elif cleaned is not None:
                answers[spec.key] = MappingProxyType(cleaned)
        external_id = submitted = language = ""
        submitted_at = None
        if "external_id" in meta_columns:
            external_id = table.value(row, meta_columns["external_id"]).strip()
        if "submitted_at" in meta_columns:
            submitted = table.value(row, meta_columns["submitted_at"])
            if submitted.strip():
                try:
                    submitted_at = parse_timestamp(submitted, date_order=date_order, timezone=zone)
                except ValueError as error:
                    found.append(
                        RowError(
                            table.file,
                            row.number,
                            meta_columns["submitted_at"],
                            _clip(submitted),
                            str(error),
                        )
                    )
        if "language" in meta_columns and table.value(row, meta_columns["language"]).strip():
            text = table.value(row, meta_columns["language"])
            language, problem = _language(text, languages)
            if problem:
                found.append(
                    RowError(table.file, row.number, meta_columns["language"], _clip(text), problem)
                )
        if found:
            errors.extend(found)
            rejected.add(row.number)
            continue
        duplicate = _duplicate_of(table.file, row.number, external_id, known, seen_ids)
        if duplicate is not None:
            duplicates.append(duplicate)
            continue
        responses.append(
            SurveyResponseRow(
                row=row.number,
                answers=MappingProxyType(answers),
                external_id=external_id,
                submitted_at=submitted_at,
                language=language,
                ignored=tuple(ignored),
            )
        )
    counts = RowCounts(
        file=table.file,
        rows=table.n_rows,
        ok=len(responses),
        rejected=len(rejected),
        duplicate=len(duplicates),
        blank_skipped=table.blank_rows,
    )
    return SurveyImportPlan(
        file=table.file,
        sha256=table.sha256,
        mapping=MappingProxyType(columns_of),
        responses=tuple(responses),
        errors=tuple(sorted(errors, key=lambda e: e.row)),
        duplicates=tuple(duplicates),
        counts=counts,
    )


class _OptionMatcher:
    """Finds the option value a piece of exported text stands for."""

    def __init__(
        self, spec: QuestionSpec, labels: Mapping[str, str], aliases: Mapping[str, str]
    ) -> None:
        self.spec = spec
        self.by_text: dict[str, str] = {}
        for value in spec.options:
            self.by_text.setdefault(_fold(labels.get(value, value)), value)
        for value in spec.options:
            self.by_text.setdefault(_fold(value), value)
        for text, value in aliases.items():
            self.by_text[_fold(text)] = value  # staff's explicit choice wins
        self.labels = labels

    def match(self, text: str) -> str | None:
        return self.by_text.get(_fold(text))

    def for_column(self, header: str) -> str | None:
        """The option a one-column-per-option header names ("Q | Lighting", "Q [Lighting]")."""
        candidates = []
        bracket = re.search(r"\[([^\]]+)\]\s*$", header)
        if bracket:
            candidates.append(bracket[1])
        for separator in (" | ", " - ", ": "):
            if separator in header:
                candidates.append(header.rsplit(separator, 1)[1])
        candidates.append(header)
        for candidate in candidates:
            value = self.match(candidate)
            if value is not None:
                return value
        return None

    def split(self, text: str, separators: Sequence[str]) -> tuple[list[str], str | None]:
        """Options in a cell listing several; (values, the first piece matching none)."""
        whole = self.match(text)
        if whole is not None:
            return [whole], None
        if not separators:
            return [], text
        pattern = "|".join(re.escape(separator) for separator in separators)
        pieces = re.split(f"({pattern})", text)
        words, glue = pieces[0::2], pieces[1::2]
        # best[i]: options for words[:i], found by joining neighbouring pieces back together so
        # that a label containing a separator ("Black, Black British") still matches.
        best: list[list[str] | None] = [[]] + [None] * len(words)
        for end in range(1, len(words) + 1):
            for start in range(end - 1, -1, -1):
                previous = best[start]
                if previous is None:
                    continue
                joined = words[start] + "".join(
                    g + w
                    for g, w in zip(glue[start : end - 1], words[start + 1 : end], strict=True)
                )
                if not joined.strip():
                    best[end] = previous
                    break
                value = self.match(joined)
                if value is not None:
                    best[end] = [*previous, value]
                    break
        result = best[len(words)]
        if result is not None:
            return result, None
        unknown = next((w.strip() for w in words if w.strip() and self.match(w) is None), text)
        return [], unknown

    def described(self) -> str:
        shown = [self.labels.get(value, value) for value in self.spec.options]
        return _listed(shown) if len(shown) > 12 else ", ".join(shown)


def _raw_answer(
    table: Table,
    row: TableRow,
    spec: QuestionSpec,
    columns: tuple[str, ...],
    matcher: _OptionMatcher,
    column_options: Mapping[str, str | None] | None,
    separators: Sequence[str],
) -> tuple[list[str], str, str, str | None]:
    """(the raw values `clean_answer` takes, column, cell shown in errors, problem or None)."""
    if not columns:
        return [], "", "", None
    if len(columns) > 1 and column_options is not None:
        return _raw_from_option_columns(table, row, spec, column_options, matcher)
    column = columns[0]
    cell = table.value(row, column).strip()
    if not cell:
        return [], column, cell, None
    kind = spec.kind
    if kind in SINGLE_CHOICE_KINDS:
        value = matcher.match(cell)
        if value is None:
            return (
                [],
                column,
                cell,
                f"question {spec.key!r}: not one of the answers ({matcher.described()})",
            )
        return [value], column, cell, None
    if kind in MULTI_CHOICE_KINDS or kind == "ranking":
        values, unknown = matcher.split(cell, separators)
        if unknown is not None:
            return (
                [],
                column,
                cell,
                f"question {spec.key!r}: {unknown!r} is not one of the answers "
                f"({matcher.described()})",
            )
        if kind == "ranking":
            if len(set(values)) != len(values):
                return [], column, cell, f"question {spec.key!r}: an item is ranked twice"
            return (
                [f"{value}={rank}" for rank, value in enumerate(values, start=1)],
                column,
                cell,
                None,
            )
        return values, column, cell, None
    if kind == "rating":
        return [_whole_number(cell)], column, cell, None
    return [cell], column, cell, None


def _raw_from_option_columns(
    table: Table,
    row: TableRow,
    spec: QuestionSpec,
    column_options: Mapping[str, str | None],
    matcher: _OptionMatcher,
) -> tuple[list[str], str, str, str | None]:
    raw: list[str] = []
    first_column, first_value = next(iter(column_options)), ""
    for column, option in column_options.items():
        cell = table.value(row, column).strip()
        if not cell:
            continue
        if not first_value:
            first_column, first_value = column, cell
        if spec.kind == "ranking":
            rank = re.match(r"\d+", _whole_number(cell))
            if rank is None:
                return (
                    [],
                    column,
                    cell,
                    f"question {spec.key!r}: expected a rank number (1, 2, 3 ...)",
                )
            raw.append(f"{option}={int(rank[0])}")
            continue
        folded = _fold(cell)
        named = matcher.match(cell)
        if option is not None and (named == option or folded in TICKED):
            raw.append(option)
        elif named is not None:
            raw.append(named)
        elif folded in UNTICKED:
            continue
        elif option is None:
            return (
                [],
                column,
                cell,
                (
                    f"question {spec.key!r}: the column header does not name an option, "
                    f"and the cell is not one of the answers ({matcher.described()})"
                ),
            )
        else:
            return (
                [],
                column,
                cell,
                (
                    f"question {spec.key!r}: expected the answer "
                    f"{matcher.labels.get(option, option)!r}, a tick (1, x, yes, TRUE) or a blank"
                ),
            )
    return raw, first_column, first_value, None


def _whole_number(text: str) -> str:
    """ "4.0" (a number that went through a spreadsheet) as "4"; anything else unchanged."""
    match = re.fullmatch(r"\s*(-?\d+)\.0*\s*", text)
    return match[1] if match else text.strip()


# --- Polis ----------------------------------------------------------------------------------

POLIS_FILES: Final = ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv")
POLIS_REQUIRED: Final = ("comments.csv", "votes.csv")
_POLIS_COUNT_COLUMNS: Final = {
    "participant",
    "xid",
    "group-id",
    "n-comments",
    "n-votes",
    "n-agree",
    "n-disagree",
}


def read_polis_export(
    source: str | os.PathLike[str] | bytes | Mapping[str, bytes | str | os.PathLike[str]],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH,
) -> PolisExport:
    """Read and cross-check a Polis conversation export (the compdemocracy openData layout).

    `source` is a folder, a ZIP file (path or bytes) holding the files (in any sub-folder), or
    {file name: bytes or path}. comments.csv and votes.csv are required; participants-votes.csv
    (Polis's opinion groups) and summary.csv are read when present. The vote kept for each
    (voter, comment) is the latest by timestamp (the later row on a tie); earlier ones count as
    superseded. A vote on a comment missing from comments.csv (or rejected there) is a row
    error. Comments with moderated = -1 are kept, marked `moderated_out`. Voters missing from
    participants-votes.csv become participants without a group; the participants-votes.csv
    matrix is compared with the kept votes and differences are `warnings`.
    """
    blobs = _polis_files(source, max_bytes=max_bytes)
    missing = [name for name in POLIS_REQUIRED if name not in blobs]
    if missing:
        raise ImportFileError(
            missing[0],
            f"a Polis export needs {' and '.join(POLIS_REQUIRED)}; missing: {', '.join(missing)} "
            f"(found: {', '.join(sorted(blobs)) or 'nothing'})",
        )
    tables: dict[str, Table] = {}
    for name in ("comments.csv", "votes.csv", "participants-votes.csv"):
        if name in blobs:
            tables[name] = read_table(
                blobs[name],
                filename=name,
                max_bytes=max_bytes,
                max_rows=max_rows,
                allow_no_rows=True,
                delimiter=",",
            )
    comments, comment_rows, comment_errors, comment_duplicates = _polis_comments(
        tables["comments.csv"], max_text_length
    )
    votes, superseded, vote_errors = _polis_votes(tables["votes.csv"], comments, comment_rows)
    errors = [*comment_errors, *vote_errors]
    duplicates = list(comment_duplicates)
    warnings: list[RowError] = []
    counts = [
        _counts(
            tables["comments.csv"],
            ok=len(comments),
            errors=comment_errors,
            duplicates=len(comment_duplicates),
        ),
        _counts(tables["votes.csv"], ok=len(votes), errors=vote_errors, superseded=superseded),
    ]
    participants: dict[int, PolisParticipant] = {}
    checked = 0
    if "participants-votes.csv" in tables:
        table = tables["participants-votes.csv"]
        participants, p_errors, p_duplicates, p_warnings, checked = _polis_participants(
            table, comments, votes
        )
        errors += p_errors
        duplicates += p_duplicates
        warnings += p_warnings
        counts.append(
            _counts(table, ok=len(participants), errors=p_errors, duplicates=len(p_duplicates))
        )
    for vote in votes:
        if vote.voter_id not in participants:
            participants[vote.voter_id] = PolisParticipant(participant_id=vote.voter_id)
    summary: dict[str, str] = {}
    if "summary.csv" in blobs:
        summary = _polis_summary(blobs["summary.csv"], max_bytes=max_bytes)
    files = tuple(
        PolisFile(name, table.sha256, table.size_bytes, table.encoding)
        for name, table in tables.items()
    )
    return PolisExport(
        comments=tuple(sorted(comments.values(), key=lambda c: c.comment_id)),
        votes=tuple(votes),
        participants=tuple(participants[key] for key in sorted(participants)),
        errors=tuple(errors),
        duplicates=tuple(duplicates),
        warnings=tuple(warnings),
        counts=tuple(counts),
        files=files,
        summary=MappingProxyType(summary),
        matrix_cells_checked=checked,
    )


def _polis_files(
    source: str | os.PathLike[str] | bytes | Mapping[str, bytes | str | os.PathLike[str]],
    *,
    max_bytes: int,
) -> dict[str, bytes | str | os.PathLike[str]]:
    if isinstance(source, Mapping):
        return {
            Path(str(name)).name: blob
            for name, blob in source.items()
            if Path(str(name)).name in POLIS_FILES
        }
    if isinstance(source, bytes):
        return _polis_zip(source, "upload.zip", max_bytes)
    path = Path(source)
    if path.is_dir():
        return {name: path / name for name in POLIS_FILES if (path / name).is_file()}
    data = _load_bytes(path, filename=path.name, max_bytes=max_bytes)
    return _polis_zip(data, path.name, max_bytes)


def _polis_zip(data: bytes, name: str, max_bytes: int) -> dict[str, bytes | str | os.PathLike[str]]:
    if not data.startswith(b"PK"):
        raise ImportFileError(
            name,
            "expected a Polis export: its folder, a ZIP of its CSV files, or the files "
            f"themselves ({', '.join(POLIS_FILES)})",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        found: dict[str, bytes | str | os.PathLike[str]] = {}
        for info in archive.infolist():
            base = Path(info.filename).name
            if base in POLIS_FILES and not info.is_dir():
                if info.file_size > max_bytes:
                    raise ImportFileError(base, _too_large(info.file_size, max_bytes))
                found[base] = archive.read(info)
    except (zipfile.BadZipFile, EOFError):
        raise ImportFileError(
            name, "expected a Polis export folder or a ZIP of its CSV files; this ZIP is damaged"
        ) from None
    return found


def _counts(
    table: Table, *, ok: int, errors: Sequence[RowError], duplicates: int = 0, superseded: int = 0
) -> RowCounts:
    return RowCounts(
        file=table.file,
        rows=table.n_rows,
        ok=ok,
        rejected=len(
            {
                error.row
                for error in errors
                if error.file == table.file and error.row > table.header_rows
            }
        ),
        duplicate=duplicates,
        superseded=superseded,
        blank_skipped=table.blank_rows,
    )


def _require_columns(table: Table, required: Sequence[str]) -> None:
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise ImportFileError(
            table.file,
            f"this is not a Polis {table.file}: columns {missing} are missing "
            f"(found {list(table.columns)})",
            row=1,
        )


class _RowChecker:
    """Reads typed cells of one row, collecting a RowError for each bad one."""

    def __init__(self, table: Table, row: TableRow) -> None:
        self.table, self.row = table, row
        self.errors: list[RowError] = []

    def text(self, column: str) -> str:
        return self.table.value(self.row, column).strip() if column in self.table.columns else ""

    def fail(self, column: str, problem: str) -> None:
        self.errors.append(
            RowError(self.table.file, self.row.number, column, _clip(self.text(column)), problem)
        )

    def integer(
        self,
        column: str,
        *,
        required: bool = True,
        allowed: Collection[int] | None = None,
        minimum: int | None = None,
    ) -> int | None:
        text = self.text(column)
        if not text:
            if required:
                self.fail(column, "the cell is empty; expected a whole number")
            return None
        try:
            number = int(_whole_number(text))
        except ValueError:
            self.fail(column, "expected a whole number")
            return None
        if allowed is not None and number not in allowed:
            self.fail(column, f"expected one of {', '.join(str(a) for a in sorted(allowed))}")
            return None
        if minimum is not None and number < minimum:
            self.fail(column, f"expected a number of at least {minimum}")
            return None
        return number

    def polis_time(self, column: str, *, required: bool) -> datetime | None:
        number = self.integer(column, required=required, minimum=0)
        if number is None:
            return None
        try:
            return datetime.fromtimestamp(number / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            self.fail(column, "expected a Polis timestamp (milliseconds since 1970)")
            return None


def _polis_comments(
    table: Table, max_text_length: int
) -> tuple[dict[int, PolisComment], dict[int, int], list[RowError], list[Duplicate]]:
    """(kept comments by id, row of every comment id seen (kept or not), errors, duplicates)."""
    _require_columns(table, ("comment-id", "comment-body", "moderated"))
    comments: dict[int, PolisComment] = {}
    rows_by_id: dict[int, int] = {}
    errors = list(table.errors)
    duplicates: list[Duplicate] = []
    for row in table.rows:
        check = _RowChecker(table, row)
        comment_id = check.integer("comment-id", minimum=0)
        body = table.value(row, "comment-body").strip()
        if not body:
            check.fail("comment-body", "the comment has no text")
        elif len(body) > max_text_length:
            check.fail(
                "comment-body",
                f"the text has {len(body):,} characters; at most {max_text_length:,} are allowed",
            )
        moderated = check.integer("moderated", allowed=(-1, 0, 1))
        created_at = check.polis_time("timestamp", required=False)
        author_id = check.integer("author-id", required=False, minimum=0)
        agrees = check.integer("agrees", required=False, minimum=0)
        disagrees = check.integer("disagrees", required=False, minimum=0)
        if comment_id is not None and comment_id in rows_by_id and not check.errors:
            first = rows_by_id[comment_id]
            earlier = comments.get(comment_id)
            if earlier is not None and earlier.body == body and earlier.moderated == moderated:
                duplicates.append(
                    Duplicate(
                        table.file, row.number, first, f"comment {comment_id} repeats row {first}"
                    )
                )
                continue
            check.fail(
                "comment-id",
                f"comment id {comment_id} is already used on row {first} for another comment",
            )
        if comment_id is not None:
            rows_by_id.setdefault(comment_id, row.number)
        # a None value always comes with an error; the test also tells the type checker
        if check.errors or comment_id is None or moderated is None:
            errors.extend(check.errors)
            continue
        comments[comment_id] = PolisComment(
            row=row.number,
            comment_id=comment_id,
            body=body,
            moderated=moderated,
            author_id=author_id,
            created_at=created_at,
            agrees=agrees,
            disagrees=disagrees,
        )
    return comments, rows_by_id, errors, duplicates


def _polis_votes(
    table: Table, comments: Mapping[int, PolisComment], comment_rows: Mapping[int, int]
) -> tuple[list[PolisVote], int, list[RowError]]:
    """(latest vote per (voter, comment) in file order of the kept row, superseded, errors)."""
    _require_columns(table, ("timestamp", "comment-id", "voter-id", "vote"))
    errors = list(table.errors)
    latest: dict[tuple[int, int], PolisVote] = {}
    valid = 0
    for row in table.rows:
        check = _RowChecker(table, row)
        voter_id = check.integer("voter-id", minimum=0)
        comment_id = check.integer("comment-id", minimum=0)
        vote = check.integer("vote", allowed=(-1, 0, 1))
        voted_at = check.polis_time("timestamp", required=True)
        if comment_id is not None and comment_id not in comments:
            if comment_id in comment_rows:
                check.fail(
                    "comment-id",
                    f"comment {comment_id} was rejected in comments.csv "
                    f"(row {comment_rows[comment_id]})",
                )
            else:
                check.fail("comment-id", f"no comment with id {comment_id} in comments.csv")
        if (
            check.errors
            or voter_id is None
            or comment_id is None
            or vote is None
            or voted_at is None
        ):
            errors.extend(check.errors)
            continue
        valid += 1
        key = (voter_id, comment_id)
        earlier = latest.get(key)
        if earlier is None or voted_at >= earlier.voted_at:
            latest[key] = PolisVote(
                row=row.number,
                voter_id=voter_id,
                comment_id=comment_id,
                vote=vote,
                voted_at=voted_at,
            )
    votes = sorted(latest.values(), key=lambda v: v.row)
    return votes, valid - len(votes), errors


def _polis_participants(
    table: Table, comments: Mapping[int, PolisComment], votes: Sequence[PolisVote]
) -> tuple[dict[int, PolisParticipant], list[RowError], list[Duplicate], list[RowError], int]:
    _require_columns(table, ("participant", "group-id"))
    errors = list(table.errors)
    warnings: list[RowError] = []
    duplicates: list[Duplicate] = []
    matrix: dict[str, int] = {}
    for column in table.columns:
        if column in _POLIS_COUNT_COLUMNS:
            continue
        if not re.fullmatch(r"\d+", column):
            warnings.append(
                RowError(
                    table.file, 1, column, column, "not a Polis column; its cells are not read"
                )
            )
        elif int(column) not in comments:
            warnings.append(
                RowError(
                    table.file,
                    1,
                    column,
                    column,
                    f"a vote column for comment {column}, which is not among the comments kept "
                    "from comments.csv; its cells are not compared",
                )
            )
        else:
            matrix[column] = int(column)
    latest = {(vote.voter_id, vote.comment_id): vote.vote for vote in votes}
    participants: dict[int, PolisParticipant] = {}
    checked = 0
    for row in table.rows:
        check = _RowChecker(table, row)
        participant_id = check.integer("participant", minimum=0)
        group_id = check.integer("group-id", required=False, minimum=0)
        numbers = {
            name: check.integer(name, required=False, minimum=0)
            for name in ("n-comments", "n-votes", "n-agree", "n-disagree")
        }
        cells: dict[str, int | None] = {}
        for column in matrix:
            text = check.text(column)
            if text and _whole_number(text) not in {"-1", "0", "1"}:
                check.fail(column, "expected a vote: 1 (agree), -1 (disagree), 0 (pass) or blank")
            else:
                cells[column] = int(_whole_number(text)) if text else None
        if participant_id is not None and participant_id in participants and not check.errors:
            first = participants[participant_id].row
            duplicates.append(
                Duplicate(
                    table.file,
                    row.number,
                    first,
                    f"participant {participant_id} already on row {first}",
                )
            )
            continue
        if check.errors or participant_id is None:
            errors.extend(check.errors)
            continue
        participants[participant_id] = PolisParticipant(
            participant_id=participant_id,
            group_id=group_id,
            xid=check.text("xid"),
            row=row.number,
            n_comments=numbers["n-comments"],
            n_votes=numbers["n-votes"],
            n_agree=numbers["n-agree"],
            n_disagree=numbers["n-disagree"],
        )
        for column, comment_id in matrix.items():
            checked += 1
            expected = latest.get((participant_id, comment_id))
            if cells[column] != expected:
                shown = "no vote" if expected is None else f"{expected:+d}"
                warnings.append(
                    RowError(
                        table.file,
                        row.number,
                        column,
                        check.text(column),
                        f"votes.csv has {shown} for participant {participant_id} "
                        f"on comment {comment_id}",
                    )
                )
    return participants, errors, duplicates, warnings, checked


def _polis_summary(blob: bytes | str | os.PathLike[str], *, max_bytes: int) -> dict[str, str]:
    data = _load_bytes(blob, filename="summary.csv", max_bytes=max_bytes)
    text, _ = _decode(data, filename="summary.csv", encoding=None)
    summary: dict[str, str] = {}
    try:
        for record in csv.reader(io.StringIO(text, newline="")):
            if record and record[0].strip():
                summary[record[0].strip()] = ",".join(record[1:]).strip()
    except csv.Error as error:
        raise ImportFileError("summary.csv", _csv_problem(str(error), ",")) from None
    return summary
