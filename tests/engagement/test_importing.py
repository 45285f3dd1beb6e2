"""The parsing layer of bulk feedback intake: files in, frozen plans out, nothing written."""

from __future__ import annotations

import csv
import dataclasses
import doctest
import hashlib
import io
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from csas.engagement import importing
from csas.engagement.answers import AnswerError, QuestionSpec, clean_answer
from csas.engagement.importing import (
    ImportFileError,
    MappingError,
    RowCounts,
    RowError,
    Table,
    parse_timestamp,
    plan_feedback_import,
    plan_wide_survey_import,
    read_polis_export,
    read_table,
    suggest_mapping,
)

FIXTURES = Path(__file__).parent / "import_fixtures"
POLIS = FIXTURES / "polis" / "london.youth.policing"
MAP_CATEGORIES = {
    "feels_unsafe": "Feels unsafe",
    "feels_safe": "Feels safe",
    "lighting": "Lighting",
    "traffic": "Traffic",
    "gathering_place": "Gathering place",
    "cleanliness": "Cleanliness",
    "other": "Other",
}
UKRAINIAN = "Добре освітлення"
SAFETY = ("very_safe", "safe", "unsafe", "very_unsafe")
SAFETY_LABELS = {"very_safe": "Very safe", "safe": "Safe", "unsafe": "Unsafe"}
SAFETY_LABELS["very_unsafe"] = "Very unsafe"
QUESTIONS = (
    QuestionSpec("feel_day", "likert", required=True, options=SAFETY),
    QuestionSpec(
        "first", "multiple_choice", options=("lighting", "youth", "mental_health", "other")
    ),
    QuestionSpec("goals", "ranking", options=("goal_a", "goal_b", "goal_c", "goal_d")),
    QuestionSpec("overall", "rating", minimum=1, maximum=5),
    QuestionSpec("transit", "single_choice", options=("yes", "no")),
    QuestionSpec(
        "feel_transit",
        "likert",
        required=True,
        options=SAFETY,
        show_if={"question": "transit", "any_of": ["yes"]},
    ),
    QuestionSpec("comments", "open_text", max_length=200),
)
LABELS = {
    "feel_day": SAFETY_LABELS,
    "feel_transit": SAFETY_LABELS,
    "first": {
        "lighting": "Lighting, sidewalks and crossings",
        "youth": "Youth programs",
        "mental_health": "Mental health response",
        "other": "Other",
    },
    "goals": {"goal_a": "Goal A", "goal_b": "Goal B", "goal_c": "Goal C", "goal_d": "Goal D"},
    "transit": {"yes": "Yes", "no": "No"},
}


def _csv(text: str, **options: Any) -> Table:
    return read_table(text.encode("utf-8"), filename="upload.csv", **options)


def _xlsx(sheets: dict[str, list[list[Any]]], *, active: int = 0) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.active = active
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_stored_result(data: bytes, formula: str, result: str) -> bytes:
    """What a spreadsheet program writes: the formula and the result it computed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                pattern = rf"<f>{re.escape(formula)}</f><v\s*/>".encode()
                content = re.sub(pattern, f"<f>{formula}</f><v>{result}</v>".encode(), content)
            target.writestr(info, content)
    return out.getvalue()


def _errors_at(errors: tuple[RowError, ...], row: int) -> list[RowError]:
    return [error for error in errors if error.row == row]


def _accounted(counts: RowCounts) -> int:
    return counts.ok + counts.rejected + counts.duplicate + counts.superseded


# --- reading: encodings ------------------------------------------------------------------


def test_read_table_reads_a_plain_utf8_csv_and_hashes_the_bytes_received() -> None:
    data = "Comment,Language\nMás luz,es\n".encode()
    table = read_table(data, filename="c.csv")
    assert table.kind == "csv"
    assert table.encoding == "utf-8"
    assert table.columns == ("Comment", "Language")
    assert table.rows[0].number == 2
    assert list(table.records()) == [{"Comment": "Más luz", "Language": "es"}]
    assert table.sha256 == hashlib.sha256(data).hexdigest()
    assert table.size_bytes == len(data)


def test_read_table_strips_a_utf8_bom_from_the_first_header() -> None:
    table = read_table(FIXTURES / "comments_utf8_bom.csv", filename="bom.csv")
    assert table.encoding == "utf-8-sig"
    assert table.columns[0] == "Comentario"
    assert table.value(table.rows[0], "Comentario") == "Añadir más iluminación en el parque"


def test_read_table_strips_a_bom_written_inside_the_header_too() -> None:
    table = read_table("\ufeff\ufeffComment,Language\nx,en\n".encode(), filename="c.csv")
    assert table.columns == ("Comment", "Language")


def test_read_table_decodes_latin1_spanish_text() -> None:
    table = read_table(FIXTURES / "comments_latin1.csv", filename="latin1.csv")
    # Windows-1252 agrees with Latin-1 on every printable character, so it reads the same.
    assert table.encoding in {"windows-1252", "latin-1"}
    texts = [table.value(row, "Comentario") for row in table.rows]
    assert texts == [
        "Añadir más iluminación en el parque",
        "¿Por qué no hay policía comunitaria? ¡Necesitamos diálogo!",
    ]


def test_read_table_decodes_windows1252_smart_quotes_and_semicolons() -> None:
    table = read_table(FIXTURES / "comments_windows1252.csv", filename="excel.csv")
    assert table.encoding == "windows-1252"
    assert table.delimiter == ";"
    texts = [table.value(row, "Comentario") for row in table.rows]
    assert texts == [
        "“Más luz” en la parada – por favor",
        "El niño dijo: ‘no es seguro’…",
    ]


def test_read_table_falls_back_to_latin1_for_bytes_windows1252_lacks() -> None:
    # 0x81 is undefined in Windows-1252; Latin-1 accepts every byte, so nothing crashes.
    table = read_table(b"Comment\nA\x81b \xe9\n", filename="odd.csv")
    assert table.encoding == "latin-1"
    assert table.value(table.rows[0], "Comment") == "A\x81b é"


def test_read_table_names_the_line_of_a_bad_byte_when_told_the_encoding() -> None:
    data = "Comment\nok\nMás\n".encode("cp1252")
    with pytest.raises(ImportFileError) as caught:
        read_table(data, filename="c.csv", encoding="utf-8")
    assert caught.value.line == 3
    assert "0xe1 is not valid utf-8" in caught.value.message


def test_read_table_reads_excel_unicode_text_in_utf16() -> None:
    data = f"Comment\tLanguage\n{UKRAINIAN}\tuk\n".encode("utf-16")
    table = read_table(data, filename="unicode.txt")
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.value(table.rows[0], "Comment") == UKRAINIAN


def test_read_table_refuses_an_unknown_encoding_name() -> None:
    with pytest.raises(ImportFileError, match="unknown encoding 'klingon'"):
        read_table(b"a\n1\n", filename="c.csv", encoding="klingon")


# --- reading: CSV structure --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ('Comment,Language\n"Lights; please",en\n', ","),
        ('Comment;Language\n"Lights, please";en\n', ";"),
        ("Comment\tLanguage\nLights, please; now\ten\n", "\t"),
    ],
)
def test_read_table_sniffs_the_delimiter(text: str, delimiter: str) -> None:
    table = _csv(text)
    assert table.delimiter == delimiter
    assert table.columns == ("Comment", "Language")
    assert table.rows[0].cells[1] == "en"


def test_read_table_keeps_a_quoted_multiline_cell_as_one_row() -> None:
    table = _csv('Comment,Language\n"Line one\nline two\nline three",en\nNext,es\n')
    assert [row.number for row in table.rows] == [2, 3]
    assert table.rows[0].cells[0] == "Line one\nline two\nline three"


def test_read_table_refuses_an_unterminated_quote_naming_its_line() -> None:
    with pytest.raises(ImportFileError) as caught:
        read_table(FIXTURES / "malformed_unterminated_quote.csv", filename="bad.csv")
    error = caught.value
    assert error.line == 3
    assert "bad.csv, line 3" in error.message
    assert "never closed" in error.message


def test_read_table_names_the_starting_line_of_a_quote_left_open_after_multiline_rows() -> None:
    text = 'Comment,Language\n"two\nlines",en\n"open,en\nmore,en\n'
    with pytest.raises(ImportFileError) as caught:
        _csv(text)
    assert (caught.value.line, caught.value.row) == (4, 3)
    assert "line 4 (row 3)" in caught.value.message


def test_read_table_refuses_text_after_a_closing_quote() -> None:
    with pytest.raises(ImportFileError, match=r"line 2: a closing quote is followed by"):
        _csv('Comment,Language\n"Lights" now,en\n')


def test_read_table_rejects_ragged_rows_and_keeps_reading_the_others() -> None:
    table = _csv(
        "Comment,Language,Area\nok,en,Hilltop\nshort,en\nlong,en,Hilltop,extra\nfine,es,\n"
    )
    assert table.n_rows == 4
    assert [row.number for row in table.rows] == [2, 5]
    short, long = table.errors
    assert (short.row, short.column) == (3, "Area")
    assert "2 cells but the header names 3 columns" in short.problem
    assert (long.row, long.value) == (4, "extra")
    assert table.rejected_rows == {3, 4}


def test_read_table_accepts_empty_cells_trailing_past_the_header() -> None:
    table = _csv("Comment,Language,,\nok,en,,\nalso,es,,,\n")
    assert table.columns == ("Comment", "Language")
    assert [row.cells for row in table.rows] == [("ok", "en"), ("also", "es")]


def test_read_table_refuses_duplicate_column_names() -> None:
    with pytest.raises(ImportFileError) as caught:
        _csv("Comment,Language,Area,Comment\nx,en,y,z\n")
    assert "'Comment' (columns 1 and 4)" in caught.value.message
    assert caught.value.row == 1


def test_read_table_refuses_a_column_without_a_name() -> None:
    with pytest.raises(ImportFileError, match="column 2 has no name"):
        _csv("Comment,,Language\nx,y,en\n")


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\n  \n"])
def test_read_table_refuses_an_empty_file(data: bytes) -> None:
    with pytest.raises(ImportFileError, match="the file is empty"):
        read_table(data, filename="empty.csv")


def test_read_table_refuses_a_header_only_file_unless_allowed() -> None:
    with pytest.raises(ImportFileError, match="a header row but no data rows"):
        _csv("Comment,Language\n")
    table = _csv("Comment,Language\n", allow_no_rows=True)
    assert (table.n_rows, table.rows) == (0, ())


def test_read_table_refuses_a_first_row_that_is_blank() -> None:
    with pytest.raises(ImportFileError, match="the first row is empty"):
        _csv(",,\nx,y,z\n")


def test_read_table_skips_and_counts_blank_rows() -> None:
    table = _csv("Comment,Language\nx,en\n\n,\n  ,  \ny,es\n")
    assert (table.n_rows, table.blank_rows) == (2, 3)
    assert [row.number for row in table.rows] == [2, 6]


def test_read_table_keeps_formula_like_text_as_text() -> None:
    # Neutralised on export, not on import: what people wrote is stored as they wrote it.
    table = _csv('Comment,Note\n"=HYPERLINK(""http://x.example"",""click"")",+1 555 0100\n')
    assert table.rows[0].cells == ('=HYPERLINK("http://x.example","click")', "+1 555 0100")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Comment\nok\x00\n", "NUL bytes"),
        (b"%PDF-1.7 ...", "this is a PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old-style Excel .xls"),
    ],
)
def test_read_table_refuses_files_that_are_not_tables(data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        read_table(data, filename="upload.csv")


def test_read_table_reads_surveymonkey_two_row_headers() -> None:
    table = read_table(FIXTURES / "surveymonkey_survey.csv", filename="sm.csv", header_rows=2)
    assert table.columns[0] == "Respondent ID"
    assert table.columns[6] == "Which should the city do first? | Lighting, sidewalks and crossings"
    assert table.columns[9] == "Which should the city do first? | Other (please specify)"
    assert table.rows[0].number == 3


# --- reading: limits ---------------------------------------------------------------------


def test_read_table_refuses_a_200_mb_upload_from_its_size_alone(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: nothing is written or read
    started = time.perf_counter()
    with pytest.raises(ImportFileError) as caught:
        read_table(big, filename="big.csv")
    # Refused from its size alone: reading 200 MB would take far longer than this generous bound.
    assert time.perf_counter() - started < 10
    assert "200.0 MB" in caught.value.message
    assert "the largest file that can be imported is 50.0 MB" in caught.value.message


def test_read_table_refuses_bytes_over_the_limit() -> None:
    with pytest.raises(ImportFileError, match="is 2,000 bytes; the largest"):
        read_table(b"x" * 2000, filename="c.csv", max_bytes=1000)


class _EndlessUpload(io.RawIOBase):
    """A file object that never ends, like a client streaming forever."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "must never ask for everything"
        self.served += size
        return b"a" * size


def test_read_table_reads_at_most_the_limit_from_a_file_object() -> None:
    upload = _EndlessUpload()
    with pytest.raises(ImportFileError, match="larger than 1,000 bytes"):
        read_table(upload, filename="stream.csv", max_bytes=1000)
    assert upload.served == 1001


def test_read_table_stops_at_the_row_limit_while_streaming() -> None:
    text = "Comment\n" + "".join(f"comment {n}\n" for n in range(1000))
    with pytest.raises(ImportFileError, match="more than 5 data rows"):
        _csv(text, max_rows=5)
    assert _csv(text, max_rows=1000).n_rows == 1000


def test_read_table_refuses_a_sheet_of_mostly_blank_rows() -> None:
    text = "Comment\nx\n" + ",\n" * 30
    assert _csv(text, max_rows=10).blank_rows == 30
    with pytest.raises(ImportFileError, match="more than 50 blank rows; delete the empty rows"):
        _csv(text + ",\n" * 30, max_rows=10)


def test_read_table_refuses_too_many_columns() -> None:
    with pytest.raises(ImportFileError, match="the header has 30 columns; at most 20"):
        _csv(",".join(f"c{n}" for n in range(30)) + "\n" + "x," * 29 + "x\n", max_columns=20)


def test_read_table_leaves_the_source_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    shutil.copy(FIXTURES / "map_comments_export.csv", path)
    before = path.read_bytes()
    table = read_table(path, filename="map.csv")
    plan_feedback_import(table, {"text": "Comment"})
    assert path.read_bytes() == before
    assert table.sha256 == hashlib.sha256(before).hexdigest()


# --- reading: XLSX -----------------------------------------------------------------------


def test_read_table_reads_the_first_sheet_of_a_workbook_not_the_active_one() -> None:
    data = _xlsx(
        {"Comments": [["Comment", "Language"], ["Lights", "en"]], "Notes": [["Other"], ["x"]]},
        active=1,
    )
    table = read_table(data, filename="book.xlsx")
    assert (table.kind, table.sheet, table.sheet_names) == (
        "xlsx",
        "Comments",
        ("Comments", "Notes"),
    )
    assert table.encoding is None
    assert table.rows[0].cells == ("Lights", "en")


def test_read_table_reads_a_named_sheet_and_lists_the_sheets_when_it_is_missing() -> None:
    data = _xlsx({"Comments": [["Comment"], ["a"]], "Workshop": [["Note"], ["b"]]})
    assert read_table(data, filename="book.xlsx", sheet="Workshop").rows[0].cells == ("b",)
    with pytest.raises(ImportFileError, match=r"no sheet 'Summary'; its sheets are \['Comments'"):
        read_table(data, filename="book.xlsx", sheet="Summary")


def test_read_table_reports_a_formula_without_a_stored_value_as_a_row_error() -> None:
    data = _xlsx({"Sheet": [["Comment", "Score"], ["ok", 3], ["computed", "=B2*2"], ["fine", 4]]})
    table = read_table(data, filename="book.xlsx")
    assert [row.number for row in table.rows] == [2, 4]
    (error,) = table.errors
    assert (error.file, error.row, error.column) == ("book.xlsx", 3, "Score")
    assert "formula without a stored value (=B2*2); export values" in error.problem


def test_read_table_uses_the_result_a_spreadsheet_program_stored_with_a_formula() -> None:
    data = _xlsx({"Sheet": [["Comment", "Score"], ["computed", "=1+1"]]})
    table = read_table(_with_stored_result(data, "1+1", "2"), filename="book.xlsx")
    assert table.errors == ()
    assert table.rows[0].cells == ("computed", "2")
    assert table.formula_results_used == 1


def test_read_table_reports_spreadsheet_error_values() -> None:
    table = read_table(_xlsx({"S": [["Comment", "Ratio"], ["x", "#DIV/0!"]]}), filename="b.xlsx")
    (error,) = table.errors
    assert (error.row, error.column, error.value) == (2, "Ratio", "#DIV/0!")
    assert "spreadsheet error" in error.problem


def test_read_table_keeps_formula_like_xlsx_text_as_text() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Comment"])
    sheet["A2"].value = "=HYPERLINK(1)"
    sheet["A2"].data_type = "s"  # typed as text, as when a person enters '=HYPERLINK(1)
    buffer = io.BytesIO()
    book.save(buffer)
    table = read_table(buffer.getvalue(), filename="b.xlsx")
    assert table.errors == ()
    assert table.rows[0].cells == ("=HYPERLINK(1)",)


def test_read_table_shows_xlsx_numbers_dates_and_booleans_as_people_see_them() -> None:
    rows: list[list[Any]] = [
        ["Score", "When", "Day", "Tick", "Lat"],
        # spreadsheet cells hold naive times
        [4.0, datetime(2024, 3, 5, 14, 22), datetime(2024, 3, 5), True, 47.2529],  # noqa: DTZ001
    ]
    table = read_table(_xlsx({"S": rows}), filename="b.xlsx")
    assert table.rows[0].cells == ("4", "2024-03-05 14:22:00", "2024-03-05", "TRUE", "47.2529")


def test_read_table_pads_short_xlsx_rows_and_flags_values_without_a_header() -> None:
    rows = [["Comment", "Language"], ["short"], ["extra", "en", "stray"], [], ["last", "es"]]
    table = read_table(_xlsx({"S": rows}), filename="b.xlsx")
    assert [row.cells for row in table.rows] == [("short", ""), ("last", "es")]
    (error,) = table.errors
    assert (error.row, error.column, error.value) == (3, "(unnamed column C)", "stray")
    assert table.blank_rows == 1


def test_read_table_names_xlsx_columns_by_letter_in_header_problems() -> None:
    with pytest.raises(ImportFileError, match=r"'Comment' \(columns A and C\)"):
        read_table(_xlsx({"S": [["Comment", "Language", "Comment"], [1, 2, 3]]}), filename="b.xlsx")


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"content.xml": b"<x/>", "mimetype": b"application/vnd.oasis"}, "OpenDocument"),
        ({"word/document.xml": b"<x/>"}, "a Word document"),
        ({"notes.txt": b"hello"}, "a ZIP archive, not an XLSX workbook"),
    ],
)
def test_read_table_tells_other_zip_files_from_xlsx(
    members: dict[str, bytes], message: str
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(ImportFileError, match=message):
        read_table(buffer.getvalue(), filename="upload.xlsx")


def test_read_table_refuses_a_damaged_xlsx() -> None:
    data = _xlsx({"S": [["Comment"], ["x"]]})
    with pytest.raises(ImportFileError, match="damaged or cut short"):
        read_table(data[: len(data) // 2], filename="cut.xlsx")


def test_read_table_refuses_an_xlsx_that_unpacks_to_far_more_than_the_limit() -> None:
    data = _xlsx({"S": [["Comment"], ["x"]]})
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr(
            zipfile.ZipInfo("xl/media/padding.bin"), b"\0" * 3_000_000, zipfile.ZIP_DEFLATED
        )
    packed = buffer.getvalue()
    assert len(packed) < 100_000
    with pytest.raises(ImportFileError, match=r"unpacks to 2\.9 MB"):
        read_table(packed, filename="bomb.xlsx", max_bytes=100_000)


# --- suggesting a mapping ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Comment", "text"),
        ("comment-body", "text"),
        ("Your comments", "text"),
        ("Language", "language"),
        ("Neighborhood", "neighbourhood"),
        ("Latitude", "lat"),
        ("lat", "lat"),
        ("y", "lat"),
        ("Longitude", "lon"),
        ("lon", "lon"),
        ("lng", "lon"),
        ("x", "lon"),
        ("Submitted", "submitted_at"),
        ("Timestamp", "submitted_at"),
        ("Respondent ID", "external_id"),
        ("Category", "category"),
    ],
)
def test_suggest_mapping_recognises_common_export_headers(header: str, field: str) -> None:
    mapping = suggest_mapping([header, "Unrelated column"])
    assert mapping.fields == {field: header}
    assert mapping.unmapped_columns == ("Unrelated column",)


def test_suggest_mapping_maps_each_column_once_and_lists_what_is_left() -> None:
    mapping = suggest_mapping(["Comment ID", "Comment", "Email Address", "lat"])
    assert mapping.fields["external_id"] == "Comment ID"
    assert mapping.fields["text"] == "Comment"
    assert mapping.unmapped_columns == ("Email Address",)
    assert "lon" in mapping.unmapped_fields
    assert mapping.scores["text"] == 1.0


def test_suggest_mapping_reads_a_whole_map_comment_export() -> None:
    table = read_table(FIXTURES / "map_comments_export.csv", filename="map.csv")
    mapping = suggest_mapping(table)
    assert mapping.unmapped_columns == ()
    assert mapping.unmapped_fields == ()
    assert mapping.fields["neighbourhood"] == "Neighborhood"


def test_suggest_mapping_matches_survey_questions_by_their_text() -> None:
    table = read_table(FIXTURES / "google_forms_survey.csv", filename="gf.csv")
    mapping = suggest_mapping(
        table,
        {
            "feel_day": ["How safe do you feel in your neighborhood during the day"],
            "goals": ["Rank the 4 goals"],
            "pets": ["Do you own a pet?"],
        },
    )
    assert mapping.fields == {
        "feel_day": "How safe do you feel in your neighbourhood during the day?",
        "goals": "Rank the four goals",
    }
    assert mapping.unmapped_fields == ("pets",)


# --- planning a one-comment-per-row import ------------------------------------------------


def _map_plan(**options: Any) -> importing.FeedbackImportPlan:
    table = read_table(FIXTURES / "map_comments_export.csv", filename="map.csv")
    defaults: dict[str, Any] = {
        "categories": MAP_CATEGORIES,
        "languages": ["en", "es"],
        "timezone": "America/Los_Angeles",
    }
    return plan_feedback_import(table, suggest_mapping(table), **(defaults | options))


def test_plan_feedback_import_accounts_for_every_row_of_a_map_comment_export() -> None:
    plan = _map_plan()
    assert plan.counts == RowCounts(
        file="map.csv", rows=10, ok=4, rejected=5, duplicate=1, blank_skipped=1
    )
    assert [row.row for row in plan.rows_ok] == [2, 3, 4, 10]
    assert sorted({error.row for error in plan.errors}) == [5, 6, 7, 8, 12]


def test_plan_feedback_import_normalises_each_kept_row() -> None:
    first, second, third, formula = _map_plan().rows_ok
    assert first == importing.FeedbackRow(
        row=2,
        text="The streetlight at the bus stop has been out for weeks",
        category="lighting",
        lat=47.2529,
        lon=-122.4443,
        language="en",
        neighbourhood="Hilltop",
        submitted_at=datetime(2024, 3, 6, 2, 30, tzinfo=UTC),  # 18:30 in Tacoma
        external_id="MC-001",
    )
    assert second.text == "Cars speed here every night.\nPlease add a crosswalk."
    assert (second.category, second.language, second.address) == (
        "traffic",
        "en",
        "S 19th St & Union Ave",
    )
    assert second.submitted_at == datetime(2024, 3, 6, 15, 15, tzinfo=UTC)
    assert third.submitted_at == datetime(2024, 3, 7, 17, 0, tzinfo=UTC)  # its own -08:00
    assert formula.text == '=HYPERLINK("http://example.com","click")'


def test_plan_feedback_import_reports_row_column_value_and_problem() -> None:
    errors = {(error.row, error.column): error for error in _map_plan().errors}
    assert errors[(5, "Comment")].problem == "the comment text is empty"
    assert errors[(6, "Category")].value == "Graffiti"
    assert errors[(6, "Category")].problem.startswith("unknown category; expected one of")
    assert "are latitude and longitude swapped?" in errors[(7, "Latitude")].problem
    assert errors[(8, "Submitted")].value == "yesterday"
    assert "expected a date and time like" in errors[(8, "Submitted")].problem
    assert errors[(12, "Language")].problem == "language 'xx' is not one of en, es"
    assert (
        str(errors[(5, "Comment")]) == "map.csv, row 5, column 'Comment': the comment text is empty"
    )


def test_plan_feedback_import_finds_repeated_ids_and_previously_imported_ones() -> None:
    (duplicate,) = _map_plan().duplicates
    assert (duplicate.row, duplicate.duplicate_of) == (9, 2)
    plan = _map_plan(known_external_ids={"MC-003"})
    assert [(d.row, d.duplicate_of) for d in plan.duplicates] == [(4, None), (9, 2)]
    assert "imported before" in plan.duplicates[0].reason
    assert _accounted(plan.counts) == plan.counts.rows


def test_plan_feedback_import_treats_the_same_text_at_the_same_time_as_a_duplicate() -> None:
    table = _csv(
        "Comment,When\nMore lights,2024-03-05 18:30\nmore  LIGHTS,3/5/2024 6:30 PM\n"
        "More lights,2024-03-06 18:30\nMore lights,\nMore lights,\n"
    )
    plan = plan_feedback_import(table, {"text": "Comment", "submitted_at": "When"})
    assert [(d.row, d.duplicate_of) for d in plan.duplicates] == [(3, 2)]
    assert [row.row for row in plan.rows_ok] == [2, 4, 5, 6]


def test_plan_feedback_import_checks_text_length_against_the_limit() -> None:
    table = _csv(f"Comment\n{'a' * 30}\n{'b' * 31}\n")
    plan = plan_feedback_import(table, {"text": "Comment"}, max_text_length=30)
    (error,) = plan.errors
    assert error.row == 3
    assert error.problem == "the text has 31 characters; at most 30 are allowed"
    assert error.value == "b" * 31


def test_row_errors_show_at_most_80_characters_of_the_value() -> None:
    table = _csv(f"Comment\n{'é' * 500}\n")
    (error,) = plan_feedback_import(table, {"text": "Comment"}, max_text_length=100).errors
    assert len(error.value) == 80
    assert error.value.endswith("…")


@pytest.mark.parametrize(
    ("lat", "lon", "column", "problem"),
    [
        ("91", "-122.4", "lat", "the latitude 91 is outside -90 to 90"),
        ("47.2", "-190", "lon", "the longitude -190 is outside -180 to 180"),
        ("north", "-122.4", "lat", "the latitude is not a number"),
        ("47.2", "", "lon", "the longitude is empty but the latitude is given"),
        ("nan", "-122.4", "lat", "the latitude is not a number"),
    ],
)
def test_plan_feedback_import_rejects_unusable_coordinates(
    lat: str, lon: str, column: str, problem: str
) -> None:
    table = _csv(f"text,lat,lon\nDark corner,{lat},{lon}\n")
    (error,) = plan_feedback_import(table, {"text": "text", "lat": "lat", "lon": "lon"}).errors
    assert error.column == column
    assert error.problem.startswith(problem)


def test_plan_feedback_import_reads_decimal_commas_and_blank_locations() -> None:
    table = _csv('text;lat;lon\nDark corner;"47,2529";"-122,4443"\nNo pin;;\n')
    plan = plan_feedback_import(table, {"text": "text", "lat": "lat", "lon": "lon"})
    assert [(row.lat, row.lon) for row in plan.rows_ok] == [(47.2529, -122.4443), (None, None)]


def test_plan_feedback_import_fills_blank_categories_only_with_a_default() -> None:
    table = _csv("text,type\nDark,\nBright,feels-safe\n")
    mapping = {"text": "text", "category": "type"}
    plan = plan_feedback_import(table, mapping, categories=MAP_CATEGORIES)
    assert [error.problem.split(";")[0] for error in plan.errors] == ["the category is empty"]
    plan = plan_feedback_import(table, mapping, categories=MAP_CATEGORIES, default_category="other")
    assert [row.category for row in plan.rows_ok] == ["other", "feels_safe"]


def test_plan_feedback_import_matches_language_names_and_codes() -> None:
    table = _csv("text,lang\na,Spanish\nb,es-MX\nc,Español\nd,한국어\ne,Klingon\n")
    plan = plan_feedback_import(table, {"text": "text", "language": "lang"})
    assert [row.language for row in plan.rows_ok] == ["es", "es", "es", "ko"]
    (error,) = plan.errors
    assert (error.row, error.value) == (6, "Klingon")


def test_plan_feedback_import_matches_neighbourhood_names_when_given() -> None:
    table = _csv("text,area\na,hilltop\nb,  NORTH end \nc,Atlantis\n")
    plan = plan_feedback_import(
        table, {"text": "text", "neighbourhood": "area"}, neighbourhoods=["Hilltop", "North End"]
    )
    assert [row.neighbourhood for row in plan.rows_ok] == ["Hilltop", "North End"]
    assert plan.errors[0].problem.startswith("unknown neighbourhood; expected one of Hilltop")


def test_plan_feedback_import_counts_rows_the_reader_rejected() -> None:
    table = _csv("Comment,Language\nok,en\nragged\n\nfine,es\n")
    plan = plan_feedback_import(table, {"text": "Comment", "language": "Language"})
    assert plan.counts == RowCounts(
        file="upload.csv", rows=3, ok=2, rejected=1, duplicate=0, blank_skipped=1
    )
    assert plan.errors[0].row == 3


def test_plan_feedback_import_counts_a_row_with_several_problems_once() -> None:
    table = _csv("text,lat,lon,when\n,200,500,soon\n")
    plan = plan_feedback_import(
        table, {"text": "text", "lat": "lat", "lon": "lon", "submitted_at": "when"}
    )
    assert len(plan.errors) == 4
    assert plan.counts.rejected == 1


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ({"language": "Language"}, "map a column to 'text'"),
        ({"text": "Comments"}, "there is no column 'Comments'"),
        ({"text": "Comment", "lat": "Language"}, "map both 'lat' and 'lon'"),
        ({"text": "Comment", "mood": "Language"}, "'mood' is not a feedback field"),
        ({"text": "Comment", "category": "Language"}, "no allowed categories were given"),
    ],
)
def test_plan_feedback_import_refuses_an_unusable_mapping(
    mapping: dict[str, str], problem: str
) -> None:
    with pytest.raises(MappingError, match=re.escape(problem)):
        plan_feedback_import(_csv("Comment,Language\nx,en\n"), mapping)


def test_plan_feedback_import_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(MappingError, match="unknown time zone 'Mars/Olympus'"):
        plan_feedback_import(_csv("Comment\nx\n"), {"text": "Comment"}, timezone="Mars/Olympus")


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2024-03-05", "MDY", datetime(2024, 3, 5, tzinfo=UTC)),
        ("2024-03-05T14:22:01Z", "MDY", datetime(2024, 3, 5, 14, 22, 1, tzinfo=UTC)),
        ("2024-03-05 16:22:01+02:00", "MDY", datetime(2024, 3, 5, 14, 22, 1, tzinfo=UTC)),
        ("3/5/2024 14:22:01", "MDY", datetime(2024, 3, 5, 14, 22, 1, tzinfo=UTC)),
        ("03/05/2024 02:22:01 PM", "MDY", datetime(2024, 3, 5, 14, 22, 1, tzinfo=UTC)),
        ("03/05/2024 12:05 am", "MDY", datetime(2024, 3, 5, 0, 5, tzinfo=UTC)),
        ("05/03/2024 14:22", "DMY", datetime(2024, 3, 5, 14, 22, tzinfo=UTC)),
        ("5.3.24", "DMY", datetime(2024, 3, 5, tzinfo=UTC)),
        ("2024/03/05 14:22", "DMY", datetime(2024, 3, 5, 14, 22, tzinfo=UTC)),
        ("3/5/2024 14:22:01 GMT-7", "MDY", datetime(2024, 3, 5, 21, 22, 1, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_reads_the_formats_exports_use(
    text: str, order: importing.DateOrder, expected: datetime
) -> None:
    assert parse_timestamp(text, date_order=order) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("13/25/2024", "not a real date or time"),
        ("2/30/2024", "not a real date or time"),
        ("1/1/1066", "the year 1066 is not plausible"),
        ("next Tuesday", "the date cannot be read"),
        ("13:00 PM 1/1/2024", "the date cannot be read"),
    ],
)
def test_parse_timestamp_says_why_a_date_cannot_be_read(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_timestamp(text)


def test_parse_timestamp_puts_naive_times_in_the_given_zone_across_daylight_saving() -> None:
    from zoneinfo import ZoneInfo

    tacoma = ZoneInfo("America/Los_Angeles")
    assert parse_timestamp("2024-01-15 12:00", timezone=tacoma).hour == 20
    assert parse_timestamp("2024-07-15 12:00", timezone=tacoma).hour == 19


# --- planning a wide survey import ----------------------------------------------------------


def _google_forms_plan(**options: Any) -> importing.SurveyImportPlan:
    table = read_table(FIXTURES / "google_forms_survey.csv", filename="gf.csv")
    c = table.columns
    mapping = {
        "feel_day": c[1],
        "first": c[2],
        "goals": c[3],
        "overall": c[4],
        "transit": c[5],
        "feel_transit": c[6],
        "comments": c[7],
    }
    defaults: dict[str, Any] = {
        "option_labels": LABELS,
        "meta": {"submitted_at": "Timestamp", "language": "Language"},
        "timezone": "America/Los_Angeles",
    }
    return plan_wide_survey_import(table, mapping, QUESTIONS, **(defaults | options))


def test_plan_wide_survey_import_turns_a_google_forms_export_into_stored_answer_shapes() -> None:
    plan = _google_forms_plan()
    assert plan.counts == RowCounts(file="gf.csv", rows=6, ok=2, rejected=4, duplicate=0)
    first, second = plan.responses
    assert first.answers == {
        "feel_day": {"choice": "very_safe"},
        "first": {"choices": ["lighting", "youth"]},  # a label containing ", " still matches
        "goals": {"ranking": ["goal_b", "goal_a", "goal_d", "goal_c"]},
        "overall": {"number": 4},
        "transit": {"choice": "yes"},
        "feel_transit": {"choice": "unsafe"},
        "comments": {"text": "More buses at night"},
    }
    assert first.submitted_at == datetime(2024, 3, 5, 22, 22, 1, tzinfo=UTC)
    assert first.language == "es"
    assert second.answers["feel_day"] == {"choice": "unsafe"}


def test_plan_wide_survey_import_drops_answers_to_questions_hidden_by_their_condition() -> None:
    second = _google_forms_plan().responses[1]
    assert "feel_transit" not in second.answers  # answered "Very safe", but rides no transit
    assert second.ignored == ("feel_transit",)


def test_plan_wide_survey_import_drops_even_invalid_answers_to_hidden_questions() -> None:
    table = _csv("transit,feel\nNo,Terrible\nYes,Terrible\n")
    plan = plan_wide_survey_import(
        table, {"transit": "transit", "feel_transit": "feel"}, QUESTIONS[4:6], option_labels=LABELS
    )
    (kept,) = plan.responses
    assert (kept.row, kept.answers, kept.ignored) == (
        2,
        {"transit": {"choice": "no"}},
        ("feel_transit",),
    )
    assert [(error.row, error.column, error.value) for error in plan.errors] == [
        (3, "feel", "Terrible")
    ]


def test_plan_wide_survey_import_reports_bad_answers_with_row_column_value_and_question() -> None:
    errors = {(error.row, error.column): error for error in _google_forms_plan().errors}
    day = "How safe do you feel in your neighbourhood during the day?"
    assert errors[(4, day)].value == "Somewhat safe"
    assert errors[(4, day)].problem.startswith("question 'feel_day': not one of the answers (Very")
    first = errors[(5, "Which should the city do first?")]
    assert first.problem.startswith("question 'first': 'Free wifi' is not one of the answers")
    assert errors[(5, "How would you rate safety overall?")].problem == (
        "question 'overall': Give a number from 1 to 5."
    )
    assert errors[(6, day)].problem == "question 'feel_day': This question needs an answer."
    # shown because this respondent rides transit, and required
    assert errors[(7, "How safe do you feel on transit?")].value == ""


def test_plan_wide_survey_import_reads_surveymonkey_option_columns() -> None:
    table = read_table(FIXTURES / "surveymonkey_survey.csv", filename="sm.csv", header_rows=2)
    c = table.columns
    plan = plan_wide_survey_import(
        table,
        {"feel_day": c[5], "first": c[6:9], "goals": c[10:14], "comments": c[14]},
        QUESTIONS,
        option_labels=LABELS,
        meta={"external_id": "Respondent ID", "submitted_at": "End Date"},
    )
    assert plan.counts == RowCounts(file="sm.csv", rows=4, ok=2, rejected=1, duplicate=1)
    first, second = plan.responses
    assert (first.row, first.external_id) == (3, "114001")
    assert first.answers == {
        "feel_day": {"choice": "very_safe"},
        "first": {"choices": ["lighting", "mental_health"]},
        "goals": {"ranking": ["goal_b", "goal_a", "goal_d", "goal_c"]},
        "comments": {"text": "Thank you"},
    }
    assert first.submitted_at == datetime(2024, 3, 5, 14, 22, 1, tzinfo=UTC)
    assert second.answers["first"] == {"choices": ["youth"]}
    (error,) = plan.errors
    assert (error.row, error.column) == (5, "Rank the four goals | Goal A")
    assert error.problem == "question 'goals': Give each rank to only one item."
    assert plan.duplicates[0].reason == "same id '114001' as row 3"


def test_plan_wide_survey_import_reads_ticks_in_option_columns() -> None:
    table = _csv("Lighting,Youth,Mental health response\n1,,x\nTRUE,0,\n,yes,no\nmaybe,,\n")
    plan = plan_wide_survey_import(
        table, {"first": table.columns}, QUESTIONS[1:2], option_labels=LABELS
    )
    assert [response.answers["first"] for response in plan.responses] == [
        {"choices": ["lighting", "mental_health"]},
        {"choices": ["lighting"]},
        {"choices": ["youth"]},
    ]
    (error,) = plan.errors
    assert (error.row, error.column, error.value) == (5, "Lighting", "maybe")
    assert "a tick (1, x, yes, TRUE) or a blank" in error.problem


def test_plan_wide_survey_import_splits_cells_on_the_separators_given() -> None:
    table = _csv('first\n"Youth programs;Other"\n"Youth programs, Other"\n')
    question = QUESTIONS[1:2]
    plan = plan_wide_survey_import(table, {"first": "first"}, question, option_labels=LABELS)
    assert [r.answers["first"] for r in plan.responses] == [{"choices": ["youth", "other"]}] * 2
    plan = plan_wide_survey_import(
        table, {"first": "first"}, question, option_labels=LABELS, separators=(";",)
    )
    assert [error.row for error in plan.errors] == [3]


def test_plan_wide_survey_import_matches_labels_ignoring_case_accents_and_quote_style() -> None:
    question = QuestionSpec("know", "single_choice", options=("dont_know", "yes"))
    labels = {"know": {"dont_know": "Don’t know", "yes": "Sí"}}
    table = _csv("know\nDON'T KNOW\nsi\ndont_know\n")
    plan = plan_wide_survey_import(table, {"know": "know"}, [question], option_labels=labels)
    assert [r.answers["know"] for r in plan.responses] == [
        {"choice": "dont_know"},
        {"choice": "yes"},
        {"choice": "dont_know"},
    ]


def test_plan_wide_survey_import_uses_label_aliases() -> None:
    table = _csv("feel\nExtremely safe\nPretty safe\n")
    plan = plan_wide_survey_import(
        table,
        {"feel_day": "feel"},
        QUESTIONS[:1],
        option_labels=LABELS,
        label_aliases={"feel_day": {"Extremely safe": "very_safe"}},
    )
    assert plan.responses[0].answers["feel_day"] == {"choice": "very_safe"}
    assert [error.value for error in plan.errors] == ["Pretty safe"]


def test_plan_wide_survey_import_accepts_spreadsheet_numbers_for_ratings() -> None:
    table = _csv("score\n4.0\nfour\n4.5\n")
    plan = plan_wide_survey_import(table, {"overall": "score"}, QUESTIONS[3:4])
    assert plan.responses[0].answers["overall"] == {"number": 4}
    assert [error.problem for error in plan.errors] == [
        "question 'overall': Give a whole number."
    ] * 2


def test_plan_wide_survey_import_applies_the_web_forms_rules_to_each_answer() -> None:
    top_two = QuestionSpec("pick", "top_n", options=("a", "b", "c"), choose=2)
    no_answer = QuestionSpec("who", "multiple_choice", options=("me", "none"))
    no_answer = dataclasses.replace(no_answer, exclusive=frozenset({"none"}))
    long_text = QuestionSpec("say", "open_text", max_length=10)
    table = _csv('pick,who,say\n"a;b;c","me;none",this is far too long\n"a;b",me,short\n')
    plan = plan_wide_survey_import(
        table, {"pick": "pick", "who": "who", "say": "say"}, [top_two, no_answer, long_text]
    )
    problems = [error.problem for error in plan.errors]
    for question, raw in ((top_two, ["a", "b", "c"]), (no_answer, ["me", "none"])):
        with pytest.raises(AnswerError) as caught:
            clean_answer(question, raw)
        assert f"question {question.key!r}: {caught.value.message}" in problems
    assert any(problem.startswith("question 'say': Please shorten") for problem in problems)
    assert plan.responses[0].answers == {
        "pick": {"choices": ["a", "b"]},
        "who": {"choices": ["me"]},
        "say": {"text": "short"},
    }


def test_plan_wide_survey_import_rejects_a_response_with_no_answers() -> None:
    table = _csv("id,feel\n1,\n2,Safe\n")
    plan = plan_wide_survey_import(
        table,
        {"overall": "feel"},
        QUESTIONS[3:4],
        meta={"external_id": "id"},
    )
    assert (plan.errors[0].row, plan.errors[0].problem) == (
        2,
        "the response answers none of the mapped questions",
    )
    assert plan.counts.rejected == 2  # "Safe" is not a number either


def test_plan_wide_survey_import_finds_previously_imported_respondents() -> None:
    table = _csv("id,feel\n7,Safe\n8,Safe\n")
    plan = plan_wide_survey_import(
        table,
        {"feel_day": "feel"},
        QUESTIONS[:1],
        option_labels=LABELS,
        meta={"external_id": "id"},
        known_external_ids={"7"},
    )
    assert [(d.row, d.duplicate_of) for d in plan.duplicates] == [(2, None)]
    assert [r.external_id for r in plan.responses] == ["8"]


@pytest.mark.parametrize(
    ("mapping", "meta", "problem"),
    [
        ({"feel_day": "feel", "pets": "feel"}, {}, "no question with key 'pets'"),
        ({"overall": "feel"}, {}, "required question 'feel_day' has no column"),
        ({"feel_day": "feel", "comments": ["feel", "id"]}, {}, "takes one column, not 2"),
        ({"feel_day": "missing"}, {}, "there is no column 'missing'"),
        ({"feel_day": "feel"}, {"email": "id"}, "'email' is not one of"),
        ({"feel_day": "feel", "goals": ["feel", "id"]}, {}, "column 'id' of ranking question"),
    ],
)
def test_plan_wide_survey_import_refuses_an_unusable_mapping(
    mapping: dict[str, Any], meta: dict[str, str], problem: str
) -> None:
    with pytest.raises(MappingError, match=re.escape(problem)):
        plan_wide_survey_import(
            _csv("id,feel\n1,Safe\n"), mapping, QUESTIONS, option_labels=LABELS, meta=meta
        )


def test_plan_wide_survey_import_reads_an_xlsx_export_the_same_way_as_csv() -> None:
    rows: list[list[Any]] = [
        ["Respondent", "Safety", "Score"],
        [1, "Very safe", 4.0],
        [2, "Unsafe", "=2+2"],
    ]
    table = read_table(_xlsx({"Responses": rows}), filename="gf.xlsx")
    plan = plan_wide_survey_import(
        table,
        {"feel_day": "Safety", "overall": "Score"},
        QUESTIONS,
        option_labels=LABELS,
        meta={"external_id": "Respondent"},
    )
    assert plan.responses[0].answers == {
        "feel_day": {"choice": "very_safe"},
        "overall": {"number": 4},
    }
    assert plan.errors[0].problem.startswith("formula without a stored value")
    assert plan.counts.rejected == 1


# --- Polis -----------------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_vendored_polis_conversation_is_the_unchanged_shared_copy() -> None:
    source = (POLIS / "SOURCE.md").read_text()
    assert "CC BY 4.0 with Attribution to The Computational Democracy Project" in source
    for name in ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv"):
        digest = hashlib.sha256((POLIS / name).read_bytes()).hexdigest()
        assert f"{digest}  {name}" in source


def test_read_polis_export_accounts_for_every_row_of_the_vendored_conversation() -> None:
    comments = _rows(POLIS / "comments.csv")
    votes = _rows(POLIS / "votes.csv")
    participants = _rows(POLIS / "participants-votes.csv")
    pairs = Counter((row["voter-id"], row["comment-id"]) for row in votes)

    export = read_polis_export(POLIS)

    assert export.errors == ()
    assert export.count("comments.csv") == RowCounts("comments.csv", len(comments), 39, 0, 0)
    assert export.count("votes.csv") == RowCounts(
        "votes.csv",
        rows=len(votes),
        ok=len(pairs),
        rejected=0,
        duplicate=0,
        superseded=len(votes) - len(pairs),
    )
    assert (len(votes), len(pairs)) == (640, 638)
    assert export.count("participants-votes.csv").ok == len(participants) == 26
    assert len(export.votes) == 638
    assert len(export.participants) == len({row["voter-id"] for row in votes}) == 26
    assert {file.name: file.sha256 for file in export.files}["votes.csv"] == hashlib.sha256(
        (POLIS / "votes.csv").read_bytes()
    ).hexdigest()


def test_read_polis_export_keeps_the_latest_vote_of_each_voter_on_each_comment() -> None:
    latest: dict[tuple[int, int], tuple[int, int]] = {}
    for row in _rows(POLIS / "votes.csv"):
        key = (int(row["voter-id"]), int(row["comment-id"]))
        stamp = int(row["timestamp"])
        if key not in latest or stamp >= latest[key][0]:
            latest[key] = (stamp, int(row["vote"]))
    export = read_polis_export(POLIS)
    assert {(v.voter_id, v.comment_id): v.vote for v in export.votes} == {
        key: vote for key, (_, vote) in latest.items()
    }
    assert Counter(v.vote for v in export.votes) == Counter(vote for _, vote in latest.values())


def test_read_polis_export_marks_moderated_out_comments_but_keeps_them() -> None:
    export = read_polis_export(POLIS)
    moderated_out = [c.comment_id for c in export.comments if c.moderated_out]
    expected = [
        int(r["comment-id"]) for r in _rows(POLIS / "comments.csv") if r["moderated"] == "-1"
    ]
    assert sorted(moderated_out) == sorted(expected) == [0, 2, 3]
    assert len(export.comments) == 39
    assert sum(not c.moderated_out for c in export.comments) == int(export.summary["comments"])
    comment = next(c for c in export.comments if c.comment_id == 16)
    typed = "Involve them more in training.   Involve them more in spaces were policy’s are made."
    assert comment.body == typed
    assert comment.created_at == datetime.fromtimestamp(1658933932974 / 1000, tz=UTC)


def test_read_polis_export_keeps_polis_groups_and_unclustered_participants() -> None:
    export = read_polis_export(POLIS)
    groups = {p.participant_id: p.group_id for p in export.participants}
    expected = {
        int(row["participant"]): int(row["group-id"]) if row["group-id"] else None
        for row in _rows(POLIS / "participants-votes.csv")
    }
    assert groups == expected
    assert sorted(pid for pid, group in groups.items() if group is None) == [13, 24]
    assert set(groups.values()) == {0, 1, 2, None}


def test_read_polis_export_finds_the_vote_matrix_consistent_with_the_votes() -> None:
    export = read_polis_export(POLIS)
    assert export.warnings == ()
    assert export.matrix_cells_checked == 26 * 36  # moderated-out comments have no column
    assert export.summary["topic"].startswith("What is the best way to engage")


def test_read_polis_export_reads_a_zip_or_named_files_alike(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as target:
        for path in POLIS.glob("*.csv"):
            target.write(path, f"london.youth.policing/{path.name}")
    from_folder = read_polis_export(POLIS)
    from_zip = read_polis_export(archive)
    from_bytes = read_polis_export(archive.read_bytes())
    from_files = read_polis_export({p.name: p.read_bytes() for p in POLIS.glob("*.csv")})
    assert from_folder == from_zip == from_bytes == from_files


def _broken_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(POLIS, folder)
    comments = (folder / "comments.csv").read_text(encoding="utf-8").splitlines()
    # row 3 (comment 38): an impossible moderation value
    comments[2] = comments[2].replace(",3,0,1,Why", ",3,0,maybe,Why")
    comments.append("1658934700000,x,99,23,0,0,1,")  # row 41: no text
    comments.append(comments[1])  # row 42: repeats row 2 exactly
    (folder / "comments.csv").write_text("\n".join(comments) + "\n", encoding="utf-8")
    with (folder / "votes.csv").open("a", encoding="utf-8") as votes:
        votes.write("1658934800000,x,77,1,1\n")  # row 642: unknown comment
        votes.write("1658934800001,x,1,1,2\n")  # row 643: not a vote
        votes.write("1658934800002,x,1,someone,1\n")  # row 644: voter id not a number
        votes.write("1658934800003,x,1,1\n")  # row 645: ragged
        votes.write("1758934800003,x,1,2,1\n")  # row 646: voter 2 changes their mind later
    participants = (folder / "participants-votes.csv").read_text(encoding="utf-8").splitlines()
    participants[1] = participants[1].replace("1,,1,0,12", "1,,one,0,12", 1)
    (folder / "participants-votes.csv").write_text("\n".join(participants) + "\n")
    return folder


def test_read_polis_export_reports_broken_rows_by_file_row_and_column(tmp_path: Path) -> None:
    export = read_polis_export(_broken_copy(tmp_path))
    found = {(e.file, e.row, e.column): e for e in export.errors}
    assert found[("comments.csv", 3, "moderated")].problem == "expected a whole number"
    assert found[("comments.csv", 3, "moderated")].value == "maybe"
    assert found[("comments.csv", 41, "comment-body")].problem == "the comment has no text"
    assert (
        found[("votes.csv", 642, "comment-id")].problem == "no comment with id 77 in comments.csv"
    )
    assert found[("votes.csv", 643, "vote")].problem == "expected one of -1, 0, 1"
    assert found[("votes.csv", 644, "voter-id")].value == "someone"
    assert "the header names 5 columns" in found[("votes.csv", 645, "vote")].problem
    assert found[("participants-votes.csv", 2, "group-id")].problem == "expected a whole number"
    votes_on_38 = [r for r in _rows(POLIS / "votes.csv") if r["comment-id"] == "38"]
    rejected_votes = [
        e for e in export.errors if e.file == "votes.csv" and e.column == "comment-id"
    ]
    assert len(rejected_votes) == len(votes_on_38) + 1
    assert "comment 38 was rejected in comments.csv (row 3)" in {e.problem for e in rejected_votes}
    assert str(found[("votes.csv", 642, "comment-id")]) == (
        "votes.csv, row 642, column 'comment-id': no comment with id 77 in comments.csv "
        "(found '77')"
    )


def test_read_polis_export_still_accounts_for_every_row_of_a_broken_copy(tmp_path: Path) -> None:
    export = read_polis_export(_broken_copy(tmp_path))
    for counts in export.counts:
        assert _accounted(counts) == counts.rows
    assert export.count("comments.csv") == RowCounts("comments.csv", 41, 38, 2, 1)
    votes_on_38 = sum(r["comment-id"] == "38" for r in _rows(POLIS / "votes.csv"))
    votes = export.count("votes.csv")
    assert (votes.rows, votes.rejected) == (645, votes_on_38 + 4)
    assert votes.superseded == 3  # the two in the export, and voter 2's change of mind
    assert next(v for v in export.votes if (v.voter_id, v.comment_id) == (2, 1)).row == 646
    # participant 1's row was rejected, but they voted, so they are still a participant
    assert next(p for p in export.participants if p.participant_id == 1).row is None
    (mismatch,) = [w for w in export.warnings if "votes.csv has" in w.problem]
    assert (mismatch.row, mismatch.column, mismatch.value) == (3, "1", "-1")
    assert mismatch.problem == "votes.csv has +1 for participant 2 on comment 1"


def test_read_polis_export_breaks_ties_in_time_by_the_later_row() -> None:
    comments = b"comment-id,comment-body,moderated\n1,Lights,1\n"
    votes = (
        b"timestamp,comment-id,voter-id,vote\n"
        b"300,1,5,1\n"  # latest by time, although not last in the file
        b"100,1,5,-1\n"
        b"200,1,6,0\n"
        b"200,1,6,1\n"  # same time: the later row wins
    )
    export = read_polis_export({"comments.csv": comments, "votes.csv": votes})
    assert [(v.voter_id, v.vote, v.row) for v in export.votes] == [(5, 1, 2), (6, 1, 5)]
    assert export.count("votes.csv").superseded == 2
    assert [p.group_id for p in export.participants] == [None, None]


def test_read_polis_export_names_the_missing_files() -> None:
    with pytest.raises(ImportFileError, match=r"missing: votes\.csv"):
        read_polis_export({"comments.csv": (POLIS / "comments.csv").read_bytes()})


def test_read_polis_export_asks_for_the_export_when_given_one_csv(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="expected a Polis export: its folder, a ZIP"):
        read_polis_export(POLIS / "comments.csv")
    with pytest.raises(ImportFileError, match="cannot be opened"):
        read_polis_export(tmp_path / "nothing-here.zip")


def test_read_polis_export_refuses_files_that_are_not_polis_files() -> None:
    with pytest.raises(ImportFileError) as caught:
        read_polis_export(
            {
                "comments.csv": b"Comment,Language\nx,en\n",
                "votes.csv": (POLIS / "votes.csv").read_bytes(),
            }
        )
    assert caught.value.file == "comments.csv"
    assert "columns ['comment-id', 'comment-body', 'moderated'] are missing" in caught.value.message


def test_read_polis_export_warns_about_matrix_columns_for_unknown_comments() -> None:
    export = read_polis_export(
        {
            "comments.csv": b"comment-id,comment-body,moderated\n1,Lights,1\n",
            "votes.csv": b"timestamp,comment-id,voter-id,vote\n100,1,5,1\n",
            "participants-votes.csv": b"participant,group-id,1,2\n5,0,1,\n6,,-1,\n",
        }
    )
    (unknown, no_vote) = export.warnings
    assert (unknown.row, unknown.column) == (1, "2")
    assert "comment 2, which is not among the comments kept" in unknown.problem
    assert no_vote.problem == "votes.csv has no vote for participant 6 on comment 1"
    assert [(p.participant_id, p.group_id) for p in export.participants] == [(5, 0), (6, None)]


# --- the module itself -------------------------------------------------------------------


def test_row_counts_refuse_numbers_that_do_not_add_up() -> None:
    with pytest.raises(ValueError, match="does not add up"):
        RowCounts(file="x.csv", rows=10, ok=5, rejected=2, duplicate=1)


def test_results_are_frozen() -> None:
    table = _csv("Comment\nx\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.n_rows = 5  # type: ignore[misc]
    plan = plan_feedback_import(table, {"text": "Comment"})
    with pytest.raises(TypeError):
        plan.mapping["text"] = "Other"  # type: ignore[index]


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(importing).failed == 0


def test_the_module_imports_without_django() -> None:
    code = (
        "import sys, csas.engagement.importing as m; "
        "m.read_polis_export(sys.argv[1]); "
        "assert not [n for n in sys.modules if n.startswith('django')], 'django imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(POLIS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
