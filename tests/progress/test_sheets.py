"""The quarterly update sheet: export, fill in offline, import every row or none."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from csas.progress import services, sheets
from csas.progress.models import (
    ActionMilestone,
    ActionUpdate,
    ReportingPeriod,
    UpdateSheetImport,
)
from csas.progress.services import update_save_draft, update_submit
from csas.strategy.models import Action
from tests.conftest import make_user

HEADER = list(sheets.COLUMNS)


@pytest.fixture
def period(tpd_action: Action) -> ReportingPeriod:
    """A period open today, so that My updates offers its sheet."""
    today = timezone.localdate()
    return ReportingPeriod.objects.create(
        strategy=tpd_action.version.strategy,
        label="2026 Q1",
        starts_on=today - dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=30),
        due_on=today + dt.timedelta(days=45),
    )


@pytest.fixture
def milestone(tpd_action: Action) -> ActionMilestone:
    return ActionMilestone.objects.create(
        action=tpd_action, title="Pilot design", planned_end=dt.date(2026, 6, 30)
    )


@pytest.fixture
def editor(user_for: Any) -> Any:
    """A police department editor: writes action 3.6 only."""
    return user_for("department_editor")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _csv(*rows: dict[str, Any], header: list[str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = header or HEADER
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode("utf-8")


def _import(period: ReportingPeriod, user: Any, data: bytes, name: str = "sheet.csv") -> Any:
    return sheets.sheet_import(period=period, user=user, data=data, filename=name)


def _errors(result: Any) -> list[tuple[int | None, str]]:
    return [(error.row, error.column) for error in result.errors]


def _draft(action: Action, period: ReportingPeriod, author: Any, **kwargs: Any) -> ActionUpdate:
    values = {"status": "on_track", "narrative": "Pilot scoped with partners."} | kwargs
    return update_save_draft(action=action, period=period, author=author, **values)


# --- round trips -------------------------------------------------------------------------------


def test_an_xlsx_sheet_filled_in_excel_style_becomes_draft_updates(
    tpd_action: Action, period: ReportingPeriod, milestone: ActionMilestone, editor: Any
) -> None:
    workbook = load_workbook(io.BytesIO(sheets.sheet_xlsx(period=period, user=editor)))
    assert workbook.sheetnames == ["Instructions", "Updates"]
    sheet = workbook["Updates"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    # The editor's one action, then its milestone.
    assert [(row[0], row[3]) for row in rows[1:]] == [("3.6", None), ("3.6", milestone.pk)]
    assert rows[1][2] == "No update yet"
    sheet["G2"] = "On track"
    sheet["H2"] = "Hiring under way;\nfirst cohort in May."
    sheet["I3"] = 40
    filled = io.BytesIO()
    workbook.save(filled)

    result = _import(period, editor, filled.getvalue(), "2026-q1-updates.xlsx")

    assert result.errors == ()
    update = ActionUpdate.objects.get(action=tpd_action, period=period)
    assert update.state == "draft"
    assert update.status == "on_track"
    assert update.narrative == "Hiring under way;\nfirst cohort in May."
    assert update.milestone_progress == {str(milestone.pk): 40}
    assert update.author == editor
    record = UpdateSheetImport.objects.get()
    assert record.status == "applied"
    assert (record.rows_total, record.rows_applied, record.rows_unchanged) == (2, 2, 0)
    assert record.original_name == "2026-q1-updates.xlsx"
    assert len(record.sha256) == 64
    assert record.created_by == editor
    assert record.errors == []


def test_a_csv_sheet_round_trips_into_draft_updates(
    tpd_action: Action, period: ReportingPeriod, milestone: ActionMilestone, editor: Any
) -> None:
    exported = sheets.sheet_csv(period=period, user=editor)
    assert exported.startswith(b"\xef\xbb\xbf")  # the BOM, so that Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert [row["milestone_id"] for row in rows] == ["", str(milestone.pk)]
    rows[0]["status"] = "at risk"  # an English label in any case
    rows[0]["narrative"] = "Vacancies: 3 of 8 posts filled. Señal de alerta."
    rows[1]["percent_complete"] = "75%"

    result = _import(period, editor, _csv(*rows), "updates.csv")

    assert result.applied
    update = ActionUpdate.objects.get(action=tpd_action, period=period)
    assert (update.state, update.status) == ("draft", "at_risk")
    assert update.narrative == "Vacancies: 3 of 8 posts filled. Señal de alerta."
    assert update.milestone_progress == {str(milestone.pk): 75}
    assert (result.rows_total, result.rows_applied, result.rows_unchanged) == (2, 2, 0)


def test_a_draft_is_exported_filled_in_and_reimporting_it_unchanged_writes_nothing(
    tpd_action: Action, period: ReportingPeriod, milestone: ActionMilestone, editor: Any
) -> None:
    draft = _draft(
        tpd_action, period, editor, status="off_track", milestone_progress={str(milestone.pk): 10}
    )
    history_before = draft.history.count()
    exported = sheets.sheet_csv(period=period, user=editor)
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows[0]["current_state"] == "Draft"
    assert rows[0]["status"] == "Off track"
    assert rows[0]["narrative"] == "Pilot scoped with partners."
    assert rows[1]["percent_complete"] == "10"

    result = _import(period, editor, exported)

    assert result.applied
    assert (result.rows_total, result.rows_applied, result.rows_unchanged) == (2, 0, 2)
    draft.refresh_from_db()
    assert draft.history.count() == history_before


def test_rows_left_blank_are_counted_as_unchanged(
    tpd_action: Action, tfd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    office = user_for("strategy_staff")
    data = _csv(
        {"action_code": "3.6", "status": "complete", "narrative": "Done."},
        {"action_code": "3.2"},
        {"action_code": "1.1"},
    )

    result = _import(period, office, data)

    assert result.applied
    assert (result.rows_total, result.rows_applied, result.rows_unchanged) == (3, 1, 2)
    assert list(ActionUpdate.objects.values_list("action__code", "status")) == [("3.6", "complete")]


def test_a_sheet_replaces_the_milestone_progress_of_a_draft(
    tpd_action: Action, period: ReportingPeriod, milestone: ActionMilestone, editor: Any
) -> None:
    _draft(tpd_action, period, editor, milestone_progress={str(milestone.pk): 10})
    data = _csv(
        {"action_code": "3.6", "status": "on_track", "narrative": "Moving."},
        {"action_code": "3.6", "milestone_id": milestone.pk, "percent_complete": ""},
    )

    assert _import(period, editor, data).applied

    assert ActionUpdate.objects.get().milestone_progress == {}


def test_the_import_saves_drafts_and_never_sends_them_for_review(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    _import(period, editor, _csv({"action_code": "3.6", "status": "on_track", "narrative": "x"}))
    update = ActionUpdate.objects.get()
    assert update.state == "draft"
    assert update.submitted_at is None
    assert not update.events.exists()


def test_an_action_whose_code_is_shared_is_exported_and_imported_by_its_slug(
    period: ReportingPeriod, user_for: Any
) -> None:
    office = user_for("strategy_staff")
    codes = [row["action_code"] for row in _rows(sheets.sheet_csv(period=period, user=office))]
    # The bundled strategy numbers two actions 3.1.
    assert "3-1-enhance" in codes
    assert "3-1-provide" in codes
    assert "3.1" not in codes

    ambiguous = _import(
        period, office, _csv({"action_code": "3.1", "status": "on_track", "narrative": "x"})
    )
    assert _errors(ambiguous) == [(2, "action_code")]
    assert "3-1-enhance" in ambiguous.errors[0].message

    result = _import(
        period, office, _csv({"action_code": "3-1-provide", "status": "on_track", "narrative": "x"})
    )
    assert result.applied
    assert ActionUpdate.objects.get().action.slug == "3-1-provide"


def _rows(exported: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))


def test_a_semicolon_windows_1252_csv_from_a_european_excel_is_read(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    text = ";".join(HEADER) + "\r\n" + "3.6;;;;;;on_track;Reunión con vecinos;\r\n"

    result = _import(period, editor, text.encode("cp1252"))

    assert result.applied
    assert ActionUpdate.objects.get().narrative == "Reunión con vecinos"


def test_a_workbook_saved_from_the_csv_with_one_sheet_of_another_name_is_read(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "2026-q1-updates"
    sheet.append(HEADER)
    sheet.append(["3.6", "", "", None, "", None, "Complete", "All done.", None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    assert _import(period, editor, buffer.getvalue(), "saved.xlsx").applied
    assert ActionUpdate.objects.get().status == "complete"


# --- the XLSX is made for filling in ---------------------------------------------------------


def test_the_xlsx_offers_the_statuses_as_a_drop_down_and_checks_percents(
    tpd_action: Action, period: ReportingPeriod, milestone: ActionMilestone, editor: Any
) -> None:
    workbook = load_workbook(io.BytesIO(sheets.sheet_xlsx(period=period, user=editor)))
    validations = {str(v.sqref): v for v in workbook["Updates"].data_validations.dataValidation}
    assert validations["G2:G3"].type == "list"
    assert validations["G2:G3"].formula1 == (
        '"Not started,On track,At risk,Off track,Complete,Deferred"'
    )
    assert (validations["I2:I3"].type, validations["I2:I3"].formula2) == ("whole", "100")
    instructions = [row[0] for row in workbook["Instructions"].iter_rows(values_only=True)]
    assert instructions[0].startswith("Quarterly update sheet for 2026 Q1")
    assert any("milestone_id" in text for text in instructions)


def test_text_cells_are_formula_neutralised_on_export_and_restored_on_import(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    formula = '=HYPERLINK("http://evil.example","click")'
    _draft(tpd_action, period, editor, narrative=formula)

    csv_rows = _rows(sheets.sheet_csv(period=period, user=editor))
    assert csv_rows[0]["narrative"] == "'" + formula
    workbook = load_workbook(io.BytesIO(sheets.sheet_xlsx(period=period, user=editor)))
    cell = workbook["Updates"]["H2"]
    assert cell.value == "'" + formula
    assert cell.data_type == "s"

    csv_rows[0]["narrative"] = "'- hired two staff"
    assert _import(period, editor, _csv(*csv_rows)).applied
    assert ActionUpdate.objects.get().narrative == "- hired two staff"


def test_action_titles_are_neutralised_too(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    tpd_action.title = "+1 officer per shift"
    tpd_action.save()
    assert _rows(sheets.sheet_csv(period=period, user=editor))[0]["action_title"] == (
        "'+1 officer per shift"
    )


# --- every problem, with its row and column; nothing applied --------------------------------


def test_an_unknown_action_code_is_an_error_in_its_row(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    result = _import(
        period,
        editor,
        _csv(
            {"action_code": "3.6", "status": "on_track", "narrative": "Fine."},
            {"action_code": "9.9", "status": "on_track", "narrative": "Typo."},
        ),
    )
    assert _errors(result) == [(3, "action_code")]
    assert "9.9" in result.errors[0].message
    assert not ActionUpdate.objects.exists()


def test_a_row_without_an_action_code_is_an_error(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    result = _import(period, editor, _csv({"status": "on_track", "narrative": "Whose?"}))
    assert _errors(result) == [(2, "action_code")]


def test_a_department_editor_cannot_import_rows_for_another_departments_action(
    tpd_action: Action, tfd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    result = _import(
        period,
        editor,
        _csv(
            {"action_code": "3.6", "status": "on_track", "narrative": "Ours."},
            {"action_code": "3.2", "status": "off_track", "narrative": "The fire department's."},
        ),
    )
    assert not result.applied
    assert _errors(result) == [(3, "action_code")]
    assert "may not write" in result.errors[0].message
    assert not ActionUpdate.objects.exists()


def test_a_submitted_update_is_not_overwritten_from_a_sheet(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    update = update_submit(update=_draft(tpd_action, period, editor), by=editor)
    result = _import(
        period, editor, _csv({"action_code": "3.6", "status": "deferred", "narrative": "New."})
    )
    assert _errors(result) == [(2, "status")]
    assert "Department review" in result.errors[0].message
    update.refresh_from_db()
    assert (update.state, update.status) == ("department_review", "on_track")
    assert update.narrative == "Pilot scoped with partners."


def test_a_published_update_is_not_overwritten_and_its_row_is_exported_empty(
    tpd_action: Action, period: ReportingPeriod, milestone: ActionMilestone, editor: Any
) -> None:
    office = make_user("strategy_staff", username="office-1")
    colleague = make_user("department_editor", username="tpd-2")
    update = _draft(tpd_action, period, editor, milestone_progress={str(milestone.pk): 30})
    services.update_submit(update=update, by=editor)
    services.update_review(update=update, by=colleague)
    services.update_approve(update=update, by=office)
    exported = _rows(sheets.sheet_csv(period=period, user=editor))
    assert exported[0]["current_state"].startswith("Published")
    assert (exported[0]["status"], exported[0]["narrative"]) == ("", "")
    assert exported[1]["percent_complete"] == ""
    assert exported[1]["percent_published"] == "30"
    # Re-importing the export as it is changes nothing and is fine.
    assert _import(period, editor, _csv(*exported)).rows_unchanged == 2

    exported[1]["percent_complete"] = "90"
    result = _import(period, editor, _csv(*exported))

    assert _errors(result) == [(3, "percent_complete")]
    update.refresh_from_db()
    assert update.milestone_progress == {str(milestone.pk): 30}


@pytest.mark.parametrize("status", ["green", "on-track", "5"])
def test_an_invalid_status_is_an_error_in_the_status_column(
    tpd_action: Action, period: ReportingPeriod, editor: Any, status: str
) -> None:
    result = _import(
        period, editor, _csv({"action_code": "3.6", "status": status, "narrative": "x"})
    )
    assert _errors(result) == [(2, "status")]
    assert "On track" in result.errors[0].message


def test_a_status_without_a_narrative_is_an_error_in_the_narrative_column(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    result = _import(
        period, editor, _csv({"action_code": "3.6", "status": "on_track", "narrative": "  "})
    )
    assert _errors(result) == [(2, "narrative")]


def test_a_narrative_without_a_status_is_an_error_in_the_status_column(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    result = _import(period, editor, _csv({"action_code": "3.6", "narrative": "Forgot status."}))
    assert _errors(result) == [(2, "status")]


def test_a_milestone_of_another_action_is_an_error(
    tpd_action: Action, tfd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    elsewhere = ActionMilestone.objects.create(
        action=tfd_action, title="Station", planned_end=dt.date(2026, 9, 30)
    )
    result = _import(
        period,
        editor,
        _csv(
            {"action_code": "3.6", "status": "on_track", "narrative": "x"},
            {"action_code": "3.6", "milestone_id": elsewhere.pk, "percent_complete": "50"},
            {"action_code": "3.6", "milestone_id": "999999", "percent_complete": "50"},
            {"action_code": "3.6", "milestone_id": "first", "percent_complete": "50"},
        ),
    )
    assert _errors(result) == [(3, "milestone_id"), (4, "milestone_id"), (5, "milestone_id")]
    assert f"Milestone {elsewhere.pk} is not a milestone of action 3.6" in (
        result.errors[0].message
    )


@pytest.mark.parametrize("percent", ["101", "-1", "half", "40.5", "1000"])
def test_a_percent_outside_0_to_100_is_an_error(
    tpd_action: Action,
    period: ReportingPeriod,
    milestone: ActionMilestone,
    editor: Any,
    percent: str,
) -> None:
    result = _import(
        period,
        editor,
        _csv(
            {"action_code": "3.6", "status": "on_track", "narrative": "x"},
            {"action_code": "3.6", "milestone_id": milestone.pk, "percent_complete": percent},
        ),
    )
    assert _errors(result) == [(3, "percent_complete")]
    assert not ActionUpdate.objects.exists()


@pytest.mark.parametrize("percent", ["0", "100", "55%", "55.0"])
def test_percents_are_read_as_whole_numbers(
    tpd_action: Action,
    period: ReportingPeriod,
    milestone: ActionMilestone,
    editor: Any,
    percent: str,
) -> None:
    _import(
        period,
        editor,
        _csv(
            {"action_code": "3.6", "status": "on_track", "narrative": "x"},
            {"action_code": "3.6", "milestone_id": milestone.pk, "percent_complete": percent},
        ),
    )
    expected = int(percent.rstrip("%").split(".")[0])
    assert ActionUpdate.objects.get().milestone_progress == {str(milestone.pk): expected}


def test_a_percent_without_the_actions_status_is_an_error(
    tpd_action: Action, period: ReportingPeriod, milestone: ActionMilestone, editor: Any
) -> None:
    result = _import(
        period,
        editor,
        _csv(
            {"action_code": "3.6"},
            {"action_code": "3.6", "milestone_id": milestone.pk, "percent_complete": "20"},
        ),
    )
    assert _errors(result) == [(3, "percent_complete")]


def test_values_in_the_wrong_kind_of_row_are_errors(
    tpd_action: Action, period: ReportingPeriod, milestone: ActionMilestone, editor: Any
) -> None:
    result = _import(
        period,
        editor,
        _csv(
            {"action_code": "3.6", "status": "on_track", "narrative": "x", "percent_complete": "5"},
            {"action_code": "3.6", "milestone_id": milestone.pk, "status": "on_track"},
        ),
    )
    assert _errors(result) == [(2, "percent_complete"), (3, "status")]


def test_duplicate_action_and_milestone_rows_are_errors_in_the_later_row(
    tpd_action: Action, period: ReportingPeriod, milestone: ActionMilestone, editor: Any
) -> None:
    result = _import(
        period,
        editor,
        _csv(
            {"action_code": "3.6", "status": "on_track", "narrative": "First."},
            {"action_code": "3.6", "milestone_id": milestone.pk, "percent_complete": "10"},
            {"action_code": "3.6", "status": "at_risk", "narrative": "Second."},
            {"action_code": "3.6", "milestone_id": milestone.pk, "percent_complete": "20"},
        ),
    )
    assert _errors(result) == [(4, "action_code"), (5, "milestone_id")]
    assert "row 2" in result.errors[0].message
    assert "row 3" in result.errors[1].message


def test_an_unknown_and_a_missing_column_are_errors_in_the_header_row(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    header = [column for column in HEADER if column != "narrative"] + ["comments"]
    result = _import(
        period, editor, _csv({"action_code": "3.6", "status": "on_track"}, header=header)
    )
    assert _errors(result) == [(1, "narrative"), (1, "comments")]
    assert (result.rows_total, result.rows_rejected) == (1, 1)
    assert not ActionUpdate.objects.exists()


def test_the_read_only_columns_may_be_left_out(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    header = ["Action_Code", "milestone_id", "status", "narrative", "percent_complete"]
    data = _csv({"Action_Code": "3.6", "status": "on_track", "narrative": "x"}, header=header)
    assert _import(period, editor, data).applied


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"%PDF-1.7 ...", "sheet.pdf", "This is not a CSV or XLSX file"),
        (b"action_code,status\n", "sheet.txt", "This is not a CSV or XLSX file"),
        (b"%PDF-1.7 ...", "sheet.csv", "PDF"),
        (b"PK\x03\x04 not really a zip", "sheet.xlsx", "damaged"),
        (b"", "sheet.csv", "empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "sheet.csv", "empty"),
        (",".join(HEADER).encode() + b"\r\n", "sheet.csv", "no data rows"),
    ],
)
def test_a_file_that_is_not_a_sheet_is_rejected_as_a_whole(
    period: ReportingPeriod, editor: Any, data: bytes, name: str, expected: str
) -> None:
    result = _import(period, editor, data, name)
    assert not result.applied
    assert len(result.errors) == 1
    assert result.errors[0].row in (None, 1)
    assert expected in result.errors[0].message
    record = UpdateSheetImport.objects.get()
    assert (record.status, record.original_name) == ("rejected", name)
    assert record.errors[0]["message"] == result.errors[0].message


def test_one_bad_row_among_good_ones_applies_nothing_and_is_recorded(
    tpd_action: Action,
    tfd_action: Action,
    period: ReportingPeriod,
    milestone: ActionMilestone,
    user_for: Any,
) -> None:
    office = user_for("strategy_staff")
    _draft(tpd_action, period, office, narrative="Before the sheet.")
    data = _csv(
        {"action_code": "3.6", "status": "complete", "narrative": "Changed by the sheet."},
        {"action_code": "3.6", "milestone_id": milestone.pk, "percent_complete": "100"},
        {"action_code": "3.2", "status": "on_track", "narrative": "New."},
        {"action_code": "1.1", "status": "sideways", "narrative": "Bad status."},
        {"action_code": "1.2"},
    )

    result = _import(period, office, data, "office.csv")

    assert not result.applied
    assert _errors(result) == [(5, "status")]
    assert list(ActionUpdate.objects.values_list("action__code", "narrative")) == [
        ("3.6", "Before the sheet.")
    ]
    record = UpdateSheetImport.objects.get()
    assert record.status == "rejected"
    assert (record.rows_total, record.rows_applied, record.rows_unchanged) == (5, 0, 4)
    assert (result.rows_rejected, result.rows_unchanged) == (1, 4)
    assert record.errors == [{"row": 5, "column": "status", "message": result.errors[0].message}]


def test_a_failure_while_writing_rolls_back_the_updates_already_written(
    tpd_action: Action,
    tfd_action: Action,
    period: ReportingPeriod,
    user_for: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.exceptions import ValidationError

    office = user_for("strategy_staff")
    real = services.update_save_draft
    calls: list[str] = []

    def fails_the_second_time(**kwargs: Any) -> ActionUpdate:
        calls.append(kwargs["action"].code)
        if len(calls) == 2:
            raise ValidationError("This update is in review or published.")
        return real(**kwargs)

    monkeypatch.setattr(services, "update_save_draft", fails_the_second_time)
    data = _csv(
        {"action_code": "3.2", "status": "on_track", "narrative": "First."},
        {"action_code": "3.6", "status": "on_track", "narrative": "Second."},
    )

    result = _import(period, office, data)

    assert calls == ["3.2", "3.6"]
    assert not result.applied
    assert _errors(result) == [(3, "action_code")]
    assert not ActionUpdate.objects.exists()
    assert UpdateSheetImport.objects.get().status == "rejected"


def test_every_problem_of_a_sheet_is_reported_at_once(
    tpd_action: Action, period: ReportingPeriod, milestone: ActionMilestone, editor: Any
) -> None:
    result = _import(
        period,
        editor,
        _csv(
            {"action_code": "3.6", "status": "wrong", "narrative": ""},
            {"action_code": "3.6", "milestone_id": milestone.pk, "percent_complete": "250"},
            {"action_code": "nope", "status": "on_track", "narrative": "x"},
        ),
    )
    assert _errors(result) == [
        (2, "status"),
        (2, "narrative"),
        (3, "percent_complete"),
        (4, "action_code"),
    ]
    assert (result.rows_total, result.rows_rejected, result.rows_unchanged) == (3, 3, 0)


# --- the screens --------------------------------------------------------------------------------


def test_my_updates_links_the_sheet_of_the_open_period(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    closed = ReportingPeriod.objects.create(
        strategy=period.strategy,
        label="2020 Q1",
        starts_on=dt.date(2020, 1, 1),
        ends_on=dt.date(2020, 3, 31),
        due_on=dt.date(2020, 4, 15),
    )
    page = _client(editor).get("/manage/updates/").content.decode()
    assert f"/manage/updates/periods/{period.pk}/sheet.xlsx" in page
    assert f"/manage/updates/periods/{period.pk}/sheet.csv" in page
    assert f"/manage/updates/periods/{period.pk}/sheet/import/" in page
    assert f"/manage/updates/periods/{closed.pk}/sheet" not in page


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("csv", "text/csv; charset=utf-8"), ("xlsx", sheets.CONTENT_TYPES["xlsx"])],
)
def test_the_sheet_downloads_as_an_attachment(
    tpd_action: Action, period: ReportingPeriod, editor: Any, fmt: str, content_type: str
) -> None:
    response = _client(editor).get(f"/manage/updates/periods/{period.pk}/sheet.{fmt}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="2026-q1-updates.{fmt}"'
    if fmt == "csv":
        assert [row["action_code"] for row in _rows(response.content)] == ["3.6"]
    else:
        updates = load_workbook(io.BytesIO(response.content))["Updates"]
        assert [cell.value for cell in updates["A"]] == ["action_code", "3.6"]


@pytest.mark.parametrize("role", ["department_editor", "strategy_staff", "admin"])
def test_people_with_actions_to_update_may_export_and_import(
    tpd_action: Action, period: ReportingPeriod, user_for: Any, role: str
) -> None:
    client = _client(user_for(role))
    for url in (
        f"/manage/updates/periods/{period.pk}/sheet.csv",
        f"/manage/updates/periods/{period.pk}/sheet.xlsx",
        f"/manage/updates/periods/{period.pk}/sheet/import/",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "url",
    ["/manage/updates/periods/{pk}/sheet.csv", "/manage/updates/periods/{pk}/sheet/import/"],
)
def test_anonymous_visitors_are_sent_to_sign_in(period: ReportingPeriod, url: str) -> None:
    response = Client().get(url.format(pk=period.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["public", "partner"])
@pytest.mark.parametrize(
    "url",
    [
        "/manage/updates/periods/{pk}/sheet.csv",
        "/manage/updates/periods/{pk}/sheet.xlsx",
        "/manage/updates/periods/{pk}/sheet/import/",
    ],
)
def test_public_accounts_and_partners_without_actions_are_forbidden(
    tpd_action: Action, period: ReportingPeriod, role: str, url: str
) -> None:
    client = _client(make_user(role, username=f"{role}-account"))
    assert client.get(url.format(pk=period.pk)).status_code == 403


def test_a_partner_posting_a_sheet_is_forbidden_and_nothing_is_recorded(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    data = _csv({"action_code": "3.6", "status": "on_track", "narrative": "x"})
    response = _client(user_for("partner")).post(
        f"/manage/updates/periods/{period.pk}/sheet/import/",
        {"file": SimpleUploadedFile("sheet.csv", data)},
    )
    assert response.status_code == 403
    assert not UpdateSheetImport.objects.exists()
    assert not ActionUpdate.objects.exists()


def test_a_partner_who_owns_an_action_may_use_the_sheet(
    tpd_action: Action, period: ReportingPeriod, user_for: Any
) -> None:
    from csas.progress.models import ActionOwner

    partner = user_for("partner")
    ActionOwner.objects.create(action=tpd_action, user=partner)
    rows = _rows(_client(partner).get(f"/manage/updates/periods/{period.pk}/sheet.csv").content)
    assert [row["action_code"] for row in rows] == ["3.6"]


@pytest.mark.parametrize(
    "url",
    [
        "/manage/updates/periods/{pk}/sheet.pdf",
        "/manage/updates/periods/{pk}/sheet.CSV",
        "/manage/updates/periods/999999/sheet.csv",
        "/manage/updates/periods/999999/sheet/import/",
    ],
)
def test_unknown_formats_and_periods_are_not_found(
    tpd_action: Action, period: ReportingPeriod, editor: Any, url: str
) -> None:
    assert _client(editor).get(url.format(pk=period.pk)).status_code == 404


def test_the_import_page_shows_what_was_saved(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    data = _csv({"action_code": "3.6", "status": "on_track", "narrative": "Hired."})
    response = _client(editor).post(
        f"/manage/updates/periods/{period.pk}/sheet/import/",
        {"file": SimpleUploadedFile("q1.csv", data, content_type="text/csv")},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sheet imported" in page
    assert "1 row saved as draft updates." in page
    assert f"/manage/updates/actions/{tpd_action.pk}/periods/{period.pk}/" in page
    assert ActionUpdate.objects.get().narrative == "Hired."


def test_the_import_page_lists_every_problem_and_says_nothing_changed(
    tpd_action: Action, tfd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    data = _csv(
        {"action_code": "3.6", "status": "on_track", "narrative": "Fine."},
        {"action_code": "3.2", "status": "on_track", "narrative": "Not ours."},
    )
    response = _client(editor).post(
        f"/manage/updates/periods/{period.pk}/sheet/import/",
        {"file": SimpleUploadedFile("q1.csv", data, content_type="text/csv")},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was changed" in page
    assert "<td>3</td><td>action_code</td><td>You may not write updates on action 3.2.</td>" in page
    assert not ActionUpdate.objects.exists()
    assert UpdateSheetImport.objects.get().status == "rejected"


def test_a_sheet_over_5_mb_is_refused_with_a_message(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    big = SimpleUploadedFile("huge.csv", b"x" * (sheets.MAX_BYTES + 1), content_type="text/csv")
    response = _client(editor).post(
        f"/manage/updates/periods/{period.pk}/sheet/import/", {"file": big}
    )
    assert response.status_code == 400
    assert "the largest sheet that can be imported is 5 MB" in response.content.decode()
    assert not UpdateSheetImport.objects.exists()


def test_posting_without_a_file_shows_the_form_again(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    response = _client(editor).post(f"/manage/updates/periods/{period.pk}/sheet/import/", {})
    assert response.status_code == 400
    assert not UpdateSheetImport.objects.exists()


def test_the_import_needs_the_csrf_token(
    tpd_action: Action, period: ReportingPeriod, editor: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    data = _csv({"action_code": "3.6", "status": "on_track", "narrative": "x"})
    response = client.post(
        f"/manage/updates/periods/{period.pk}/sheet/import/",
        {"file": SimpleUploadedFile("q1.csv", data)},
    )
    assert response.status_code == 403
    assert not ActionUpdate.objects.exists()


def test_exporting_every_action_takes_a_fixed_number_of_queries(
    tpd_action: Action,
    period: ReportingPeriod,
    user_for: Any,
    django_assert_max_num_queries: Any,
) -> None:
    office = user_for("strategy_staff")
    for action in Action.objects.filter(version=tpd_action.version)[:5]:
        ActionMilestone.objects.create(action=action, title="Step", planned_end=dt.date(2026, 6, 1))
        _draft(action, period, office)
    client = _client(office)
    with django_assert_max_num_queries(8):
        response = client.get(f"/manage/updates/periods/{period.pk}/sheet.csv")
    assert (
        len(_rows(response.content))
        == Action.objects.filter(version=tpd_action.version).count() + 5
    )
