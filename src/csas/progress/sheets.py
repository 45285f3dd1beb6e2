"""The quarterly update sheet: export a reporting period's updates, fill them in offline, import.

The sheet is one table, the same in CSV and in XLSX (where an Instructions sheet comes first and
the table is the "Updates" sheet). Header row 1 holds the column names in `COLUMNS`. Below it,
each action the person may write has one *action row* (``milestone_id`` empty), followed by
one *milestone row* per milestone of that action:

============  =========  ==============================================================
column        filled in  holds
============  =========  ==============================================================
action_code   key        the action's code (its slug where the version shares the code)
action_title  read-only  for the person filling the sheet; never read back
current_state read-only  where the period's update stands (no update, draft, in review...)
milestone_id  key        empty on the action row; the milestone on a milestone row
milestone...  read-only  ``milestone_title`` and ``percent_published`` (what the public sees)
status        action row one of `UpdateStatus`: its value ("on_track") or English label
narrative     action row what happened this quarter
percent_...   milestone  ``percent_complete``: a whole number 0-100
============  =========  ==============================================================

An action row with a status and a narrative becomes the period's *draft* update of that
action, with the percents of its milestone rows as milestone progress: the sheet replaces the
draft. A row whose status, narrative and percent are all empty is "unchanged", and so is a
row that repeats the draft as it stands. The import writes drafts only, through
`services.update_save_draft`; it never sends anything for review.

`sheet_import` checks every row first and collects every problem as a `SheetError` (row as a
spreadsheet program numbers it, header = row 1; column; message). If there is any problem,
nothing is applied. Otherwise every update is written in one transaction. Either way the
attempt is recorded as an `UpdateSheetImport`, and every non-blank row is accounted for:
``rows_total == rows_applied + rows_unchanged + rows_rejected``. Completely empty rows (as
spreadsheets leave below the data) are no rows at all.

Text cells are formula-neutralised on export (`csas.engagement.exports.neutralise`); the
apostrophe this adds in front of text such as "- hired two staff" is removed again on import.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from csas.engagement.exports import FORMULA_STARTS, neutralise
from csas.engagement.importing import ImportFileError, Table, TableRow, read_table
from csas.progress import selectors, services
from csas.progress.models import (
    ActionMilestone,
    ActionUpdate,
    ReportingPeriod,
    SheetImportStatus,
    UpdateSheetImport,
    UpdateState,
    UpdateStatus,
)
from csas.strategy.models import Action

SheetFormat = Literal["csv", "xlsx"]
FORMATS: Final[tuple[SheetFormat, ...]] = ("csv", "xlsx")
MAX_BYTES: Final = 5 * 1024 * 1024
MAX_ROWS: Final = 5_000
MAX_NARRATIVE: Final = 5_000  # the same limit as the update form
UPDATES_SHEET: Final = "Updates"
INSTRUCTIONS_SHEET: Final = "Instructions"
CONTENT_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

COLUMNS: Final = (
    "action_code",
    "action_title",
    "current_state",
    "milestone_id",
    "milestone_title",
    "percent_published",
    "status",
    "narrative",
    "percent_complete",
)
READ_ONLY_COLUMNS: Final = frozenset(
    {"action_title", "current_state", "milestone_title", "percent_published"}
)
REQUIRED_COLUMNS: Final = tuple(column for column in COLUMNS if column not in READ_ONLY_COLUMNS)
PERCENT: Final = re.compile(r"^(\d{1,3})(?:[.,]0+)?\s*%?$")


# --- export ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    """One row of the sheet as exported; `cells` gives it in `COLUMNS` order."""

    action_code: str
    action_title: str
    current_state: str = ""
    milestone_id: int | None = None
    milestone_title: str = ""
    percent_published: int | None = None
    status: str = ""
    narrative: str = ""
    percent_complete: int | None = None

    def cells(self) -> list[Any]:
        """The row's cells, text formula-neutralised, empty numbers as None."""
        return [neutralise(getattr(self, column)) for column in COLUMNS]


def sheet_actions(*, period: ReportingPeriod, user: Any) -> QuerySet[Action]:
    """The published actions of the period's strategy that `user` may write updates for."""
    return selectors.actions_writable(user).filter(version__strategy_id=period.strategy_id)


def status_labels_en() -> dict[str, str]:
    """Each `UpdateStatus` value and its English label, as the sheet writes it."""
    with translation.override("en"):
        return {str(value): str(label) for value, label in UpdateStatus.choices}


def _shared_codes(actions: Sequence[Action]) -> set[tuple[int, str]]:
    version_ids = {action.version_id for action in actions}
    counts = Counter(
        Action.objects.filter(version_id__in=version_ids).values_list("version_id", "code")
    )
    return {key for key, n in counts.items() if n > 1}


def action_key(action: Action, shared: set[tuple[int, str]]) -> str:
    """What the sheet writes in action_code: the code, or the slug where the code is shared
    by several actions of the version (the bundled strategy numbers two actions 3.1)."""
    return action.slug if (action.version_id, action.code) in shared else action.code


def _state_text(update: ActionUpdate | None) -> str:
    if update is None:
        return _("No update yet")
    if update.state == UpdateState.DRAFT:
        return _("Draft")
    return _("%(state)s: cannot be changed from a sheet") % {"state": update.get_state_display()}


def sheet_rows(*, period: ReportingPeriod, user: Any) -> list[SheetRow]:
    """The update sheet of `period` for `user`: an action row per writable action, then a row
    per milestone. Drafts are filled in as they stand; updates beyond draft are left empty."""
    actions = list(sheet_actions(period=period, user=user))
    shared = _shared_codes(actions)
    updates = {
        update.action_id: update
        for update in ActionUpdate.objects.filter(period=period, action__in=actions)
    }
    milestones: dict[int, list[ActionMilestone]] = {}
    for milestone in ActionMilestone.objects.filter(action__in=actions):
        milestones.setdefault(milestone.action_id, []).append(milestone)
    labels = status_labels_en()
    rows: list[SheetRow] = []
    for action in actions:
        code = action_key(action, shared)
        update = updates.get(action.pk)
        draft = update if update is not None and update.state == UpdateState.DRAFT else None
        rows.append(
            SheetRow(
                action_code=code,
                action_title=action.title,
                current_state=_state_text(update),
                status=labels.get(draft.status, draft.status) if draft else "",
                narrative=draft.narrative if draft else "",
            )
        )
        progress = draft.milestone_progress if draft else {}
        for milestone in milestones.get(action.pk, []):
            reported = progress.get(str(milestone.pk))
            rows.append(
                SheetRow(
                    action_code=code,
                    action_title=action.title,
                    milestone_id=milestone.pk,
                    milestone_title=milestone.title,
                    percent_published=milestone.percent_complete,
                    percent_complete=None if reported is None else int(reported),
                )
            )
    return rows


def sheet_csv(*, period: ReportingPeriod, user: Any) -> bytes:
    """The sheet as CSV: UTF-8 with a byte order mark, so that Excel reads the accents."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in sheet_rows(period=period, user=user):
        writer.writerow(row.cells())
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def sheet_instructions(period: ReportingPeriod) -> list[str]:
    """How to fill the sheet in, one paragraph each (the Instructions sheet and the import
    page show the same text)."""
    labels = status_labels_en()
    return [
        _("Quarterly update sheet for %(period)s, due %(due)s.")
        % {"period": period.label, "due": period.due_on.isoformat()},
        _(
            "Each action has one row with an empty milestone_id. To write its update, choose a "
            "status and write the narrative (what happened this quarter). Leave both empty to "
            "leave the action as it is."
        ),
        _("Status is one of: %(labels)s (or the codes %(codes)s).")
        % {"labels": ", ".join(labels.values()), "codes": ", ".join(labels)},
        _(
            "Below each action, one row per milestone: write percent_complete as a whole number "
            "from 0 to 100, or leave it empty. Milestone progress is saved together with the "
            "action's status and narrative."
        ),
        _(
            "Do not change action_code or milestone_id: they say which action and milestone a "
            "row is about. You may sort or delete rows. The columns action_title, "
            "current_state, milestone_title and percent_published are for your information "
            "and are not read back."
        ),
        _(
            "Importing saves drafts only, and the sheet replaces each draft it fills in. Send "
            "the updates for review from My quarterly updates. Updates already sent for review "
            "or published cannot be changed from a sheet."
        ),
        _(
            "If any row has a problem, nothing is saved: you get every problem with its row and "
            "column. Fix them and import the whole sheet again."
        ),
        _(
            "Text that starts with =, +, - or @ is exported with an apostrophe in front so that "
            "spreadsheet programs do not run it as a formula; the apostrophe is removed again "
            "on import."
        ),
        _("Save the sheet as .xlsx or as CSV (UTF-8). The largest file taken is %(mb)s MB.")
        % {"mb": MAX_BYTES // (1024 * 1024)},
    ]


def _xlsx_text(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # Control characters a narrative may carry cannot be stored in XLSX at all.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def sheet_xlsx(*, period: ReportingPeriod, user: Any) -> bytes:
    """The sheet as an Excel workbook: Instructions, then Updates with drop-down statuses."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    instructions = workbook.active
    assert instructions is not None  # noqa: S101 (a new workbook has one sheet; narrowing)
    instructions.title = INSTRUCTIONS_SHEET
    instructions.column_dimensions["A"].width = 110
    for paragraph in sheet_instructions(period):
        instructions.append([_xlsx_text(neutralise(paragraph))])
        instructions.cell(instructions.max_row, 1).alignment = Alignment(wrap_text=True)
    instructions.cell(1, 1).font = Font(bold=True)

    sheet = workbook.create_sheet(UPDATES_SHEET)
    sheet.append(list(COLUMNS))
    rows = sheet_rows(period=period, user=user)
    for row in rows:
        sheet.append([_xlsx_text(cell) for cell in row.cells()])
    last = max(len(rows) + 1, 2)
    grey = PatternFill("solid", fgColor="EEEEEE")
    widths = {"action_title": 50, "current_state": 28, "milestone_title": 40, "narrative": 70}
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.cell(1, index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = widths.get(column, 16)
        if column in READ_ONLY_COLUMNS:
            for (cell,) in sheet.iter_rows(min_row=2, max_row=last, min_col=index, max_col=index):
                cell.fill = grey
        if column == "narrative":
            for (cell,) in sheet.iter_rows(min_row=2, max_row=last, min_col=index, max_col=index):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    letters = {column: get_column_letter(COLUMNS.index(column) + 1) for column in COLUMNS}
    statuses = DataValidation(
        type="list",
        formula1='"' + ",".join(status_labels_en().values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("Status"),
        error=_("Choose a status from the list."),
    )
    statuses.add(f"{letters['status']}2:{letters['status']}{last}")
    percents = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("Percent complete"),
        error=_("A whole number from 0 to 100."),
    )
    percents.add(f"{letters['percent_complete']}2:{letters['percent_complete']}{last}")
    sheet.add_data_validation(statuses)
    sheet.add_data_validation(percents)
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_export(*, period: ReportingPeriod, user: Any, fmt: SheetFormat) -> bytes:
    if fmt == "csv":
        return sheet_csv(period=period, user=user)
    if fmt == "xlsx":
        return sheet_xlsx(period=period, user=user)
    raise ValueError(f"unknown sheet format {fmt!r}; expected one of {FORMATS}")


# --- import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetError:
    """One problem: `row` as a spreadsheet program numbers it (header = 1; None for the file
    as a whole), the column it is in ("" for the whole row or file), and what to do."""

    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class SheetImportResult:
    """What an import did. Every counted row is applied, unchanged or rejected."""

    record: UpdateSheetImport
    errors: tuple[SheetError, ...]
    rows_total: int
    rows_applied: int
    rows_unchanged: int
    rows_rejected: int
    updates: tuple[ActionUpdate, ...] = ()

    def __post_init__(self) -> None:
        accounted = self.rows_applied + self.rows_unchanged + self.rows_rejected
        if accounted != self.rows_total:
            raise ValueError(f"{self.rows_total} rows read but {accounted} accounted for")

    @property
    def applied(self) -> bool:
        return self.record.status == SheetImportStatus.APPLIED


@dataclass
class _Row:
    number: int
    action: Action | None = None
    milestone_id: int | None = None
    status: str = ""  # an UpdateStatus value once checked
    narrative: str = ""
    percent: int | None = None
    filled: bool = False  # status, narrative or percent given
    errors: list[SheetError] = field(default_factory=list)

    @property
    def is_action_row(self) -> bool:
        return self.milestone_id is None

    def fail(self, column: str, message: str) -> None:
        self.errors.append(SheetError(self.number, column, message))


@dataclass(frozen=True)
class _Draft:
    action: Action
    status: str
    narrative: str
    milestone_progress: dict[str, int]
    rows: tuple[int, ...]


@dataclass
class _Context:
    period: ReportingPeriod
    by_code: dict[str, list[Action]]
    by_slug: dict[str, Action]
    writable: set[int]
    updates: dict[int, ActionUpdate]
    milestone_action: dict[int, int]
    statuses: dict[str, str]


def _unneutralise(text: str) -> str:
    """Undo `neutralise`: the apostrophe it put in front of formula-like text."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def _normal_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _context(period: ReportingPeriod, user: Any) -> _Context:
    actions = list(
        Action.objects.filter(version__strategy_id=period.strategy_id, version__is_published=True)
    )
    by_code: dict[str, list[Action]] = {}
    for action in actions:
        by_code.setdefault(action.code.casefold(), []).append(action)
    statuses: dict[str, str] = {}
    for value, label in status_labels_en().items():
        statuses[value.casefold()] = value
        statuses[label.casefold()] = value
    return _Context(
        period=period,
        by_code=by_code,
        by_slug={action.slug.casefold(): action for action in actions},
        writable=set(sheet_actions(period=period, user=user).values_list("pk", flat=True)),
        updates={update.action_id: update for update in ActionUpdate.objects.filter(period=period)},
        milestone_action=dict(
            ActionMilestone.objects.filter(action__in=actions).values_list("pk", "action_id")
        ),
        statuses=statuses,
    )


def _read(data: bytes, filename: str) -> Table:
    if not filename.lower().endswith((".csv", ".xlsx")):
        raise ImportFileError(
            filename,
            _("this is not a CSV or XLSX file; upload the sheet saved as .xlsx or .csv"),
        )
    sheet = UPDATES_SHEET
    if data[:4] == b"PK\x03\x04":
        sheet = _updates_sheet_name(data)
    return read_table(data, filename=filename, sheet=sheet, max_bytes=MAX_BYTES, max_rows=MAX_ROWS)


def _updates_sheet_name(data: bytes) -> str:
    """The "Updates" sheet, or the only sheet of a workbook saved from the CSV."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    except Exception:  # damaged files fail in many ways; read_table reports them properly
        return UPDATES_SHEET
    try:
        names: list[str] = [str(name) for name in book.sheetnames]
    finally:
        book.close()
    if UPDATES_SHEET not in names and len(names) == 1:
        return names[0]
    return UPDATES_SHEET


def _header_errors(table: Table) -> list[SheetError]:
    errors = []
    present = {name.casefold() for name in table.columns}
    for name in table.columns:
        if name.casefold() not in COLUMNS:
            errors.append(
                SheetError(
                    1,
                    name,
                    _("Unknown column “%(name)s”; the sheet's columns are %(columns)s.")
                    % {"name": name, "columns": ", ".join(COLUMNS)},
                )
            )
    for name in REQUIRED_COLUMNS:
        if name not in present:
            errors.append(
                SheetError(
                    1,
                    name,
                    _("The column %(name)s is missing from the header row.") % {"name": name},
                )
            )
    return errors


def _resolve(code: str, context: _Context) -> tuple[Action | None, str]:
    candidates = context.by_code.get(code.casefold(), [])
    if len(candidates) == 1:
        return candidates[0], ""
    if len(candidates) > 1:
        keys = ", ".join(sorted(action.slug for action in candidates))
        return None, _(
            "Several actions have the code “%(code)s”; write the one you mean as %(keys)s."
        ) % {"code": code, "keys": keys}
    action = context.by_slug.get(code.casefold())
    if action is not None:
        return action, ""
    return None, _(
        "There is no action “%(code)s” in the published strategy; copy the code from an exported "
        "sheet."
    ) % {"code": code}


def _parse_percent(text: str) -> int | None:
    match = PERCENT.match(text)
    if match is None:
        return None
    value = int(match.group(1))
    return value if value <= 100 else None


def _check_row(table_row: TableRow, columns: dict[str, int], context: _Context) -> _Row:
    def cell(name: str) -> str:
        return _unneutralise(table_row.cells[columns[name]].strip())

    row = _Row(number=table_row.number)
    code = cell("action_code")
    milestone_text = cell("milestone_id")
    status_text = cell("status")
    narrative = _normal_text(cell("narrative"))
    percent_text = cell("percent_complete")
    row.filled = bool(status_text or narrative or percent_text)

    if not code:
        row.fail("action_code", _("The action code is empty; every row needs its action's code."))
    else:
        row.action, problem = _resolve(code, context)
        if problem:
            row.fail("action_code", problem)
    shown = row.action.code if row.action else code

    if milestone_text:
        number = milestone_text.removesuffix(".0")
        if not number.isdigit():
            row.fail(
                "milestone_id",
                _("“%(value)s” is not a milestone id; milestone ids are whole numbers.")
                % {"value": milestone_text},
            )
            row.milestone_id = -1  # still a milestone row, for the checks below
        else:
            row.milestone_id = int(number)
            owner = context.milestone_action.get(row.milestone_id)
            if row.action is not None and owner != row.action.pk:
                row.fail(
                    "milestone_id",
                    _("Milestone %(id)s is not a milestone of action %(code)s.")
                    % {"id": row.milestone_id, "code": shown},
                )

    if row.is_action_row:
        if percent_text:
            row.fail(
                "percent_complete",
                _(
                    "percent_complete belongs on a milestone's row; the action's row takes the "
                    "status and narrative."
                ),
            )
        if status_text:
            status = context.statuses.get(status_text.casefold())
            if status is None:
                row.fail(
                    "status",
                    _("“%(value)s” is not a status; use one of %(labels)s.")
                    % {"value": status_text, "labels": ", ".join(status_labels_en().values())},
                )
            else:
                row.status = status
            if not narrative:
                row.fail(
                    "narrative",
                    _("The narrative is empty; say what happened this quarter."),
                )
        elif narrative:
            row.fail("status", _("The status is empty; choose one for this narrative."))
        if len(narrative) > MAX_NARRATIVE:
            row.fail(
                "narrative",
                _("The narrative has %(n)s characters; at most %(max)s fit.")
                % {"n": len(narrative), "max": MAX_NARRATIVE},
            )
        row.narrative = narrative
    else:
        for column, text in (("status", status_text), ("narrative", narrative)):
            if text:
                row.fail(
                    column,
                    _(
                        "A milestone's row takes only percent_complete; write the %(column)s on "
                        "the action's row (the one with an empty milestone_id)."
                    )
                    % {"column": column},
                )
        if percent_text:
            row.percent = _parse_percent(percent_text)
            if row.percent is None:
                row.fail(
                    "percent_complete",
                    _("“%(value)s” is not a percent; write a whole number from 0 to 100.")
                    % {"value": percent_text},
                )

    if row.action is not None and row.filled:
        update = context.updates.get(row.action.pk)
        column = "status" if row.is_action_row else "percent_complete"
        if row.action.pk not in context.writable:
            row.fail(
                "action_code",
                _("You may not write updates on action %(code)s.") % {"code": shown},
            )
        elif update is not None and update.state != UpdateState.DRAFT:
            row.fail(
                column,
                _(
                    "The update on %(code)s for %(period)s is %(state)s; an update sent for "
                    "review or published cannot be changed from a sheet."
                )
                % {
                    "code": shown,
                    "period": context.period.label,
                    "state": update.get_state_display(),
                },
            )
    return row


def _plan(rows: list[_Row], context: _Context) -> list[_Draft]:
    """Cross-row checks (duplicates, milestones without their action) and the drafts to write,
    leaving out those the sheet repeats unchanged."""
    action_rows: dict[int, _Row] = {}
    milestone_rows: dict[int, _Row] = {}
    by_action: dict[int, list[_Row]] = {}
    for row in rows:
        if row.action is None:
            continue
        shown = row.action.code
        if row.is_action_row:
            first = action_rows.setdefault(row.action.pk, row)
            if first is not row:
                row.fail(
                    "action_code",
                    _("Action %(code)s already has a row (row %(first)s); keep one row each.")
                    % {"code": shown, "first": first.number},
                )
                continue
        elif row.milestone_id is not None and row.milestone_id > 0:
            first = milestone_rows.setdefault(row.milestone_id, row)
            if first is not row:
                row.fail(
                    "milestone_id",
                    _("Milestone %(id)s already has a row (row %(first)s); keep one row each.")
                    % {"id": row.milestone_id, "first": first.number},
                )
                continue
        by_action.setdefault(row.action.pk, []).append(row)

    drafts = []
    for action_pk, group in by_action.items():
        head = action_rows.get(action_pk)
        milestones = [row for row in group if not row.is_action_row]
        if head is None or not head.filled:
            for row in milestones:
                if row.percent is not None and not row.errors:
                    row.fail(
                        "percent_complete",
                        _(
                            "Milestone progress is saved with the action's update: give "
                            "action %(code)s a status and narrative on its own row, or leave "
                            "this percent empty."
                        )
                        % {"code": row.action.code if row.action else ""},
                    )
            continue
        if any(row.errors for row in group):
            continue
        progress = {
            str(row.milestone_id): row.percent for row in milestones if row.percent is not None
        }
        existing = context.updates.get(action_pk)
        if (
            existing is not None
            and existing.status == head.status
            and _normal_text(existing.narrative) == head.narrative
            and {str(k): int(v) for k, v in existing.milestone_progress.items()} == progress
        ):
            continue  # the sheet repeats the draft as it stands
        assert head.action is not None  # noqa: S101 (grouped by action; narrowing)
        drafts.append(
            _Draft(
                action=head.action,
                status=head.status,
                narrative=head.narrative,
                milestone_progress=progress,
                rows=tuple(row.number for row in group),
            )
        )
    return drafts


def _record(
    *,
    period: ReportingPeriod,
    user: Any,
    filename: str,
    digest: str,
    status: str,
    total: int,
    applied: int,
    unchanged: int,
    errors: Sequence[SheetError],
) -> UpdateSheetImport:
    record = UpdateSheetImport(
        period=period,
        original_name=filename[:300],
        sha256=digest,
        status=status,
        rows_total=total,
        rows_applied=applied,
        rows_unchanged=unchanged,
        errors=[error.as_dict() for error in errors],
        created_by=user,
    )
    record.full_clean()
    record.save()
    return record


def _reader_message(problem: str, value: str | None) -> str:
    """A problem the file reader found, written as a sentence like the sheet's own."""
    found = f" (found “{value}”)" if value else ""
    return problem[:1].upper() + problem[1:] + found + "."


def _sorted(errors: list[SheetError]) -> tuple[SheetError, ...]:
    order = {name: index for index, name in enumerate(COLUMNS)}
    return tuple(
        sorted(errors, key=lambda e: (e.row or 0, order.get(e.column, len(order)), e.column))
    )


def sheet_import(
    *, period: ReportingPeriod, user: Any, data: bytes, filename: str
) -> SheetImportResult:
    """Check a filled-in sheet and apply it as draft updates: every row, or none.

    Returns the result with the recorded `UpdateSheetImport`. Raises nothing for bad input:
    every problem is a `SheetError` in the result (and in the record).
    """
    digest = hashlib.sha256(data).hexdigest()

    def rejected(errors: list[SheetError], total: int, unchanged: int = 0) -> SheetImportResult:
        ordered = _sorted(errors)
        record = _record(
            period=period,
            user=user,
            filename=filename,
            digest=digest,
            status=SheetImportStatus.REJECTED,
            total=total,
            applied=0,
            unchanged=unchanged,
            errors=ordered,
        )
        return SheetImportResult(
            record=record,
            errors=ordered,
            rows_total=total,
            rows_applied=0,
            rows_unchanged=unchanged,
            rows_rejected=total - unchanged,
        )

    try:
        table = _read(data, filename)
    except ImportFileError as error:
        message = _reader_message(error.problem, error.value)
        return rejected([SheetError(error.row, error.column or "", message)], 0)

    read_errors = [
        SheetError(error.row, error.column, _reader_message(error.problem, error.value))
        for error in table.errors
    ]
    header_errors = _header_errors(table)
    if header_errors:
        return rejected(header_errors + read_errors, table.n_rows)

    context = _context(period, user)
    columns = {name.casefold(): index for index, name in enumerate(table.columns)}
    rows = [_check_row(table_row, columns, context) for table_row in table.rows]
    drafts = _plan(rows, context)
    row_errors = [error for row in rows for error in row.errors]
    if read_errors or row_errors:
        clean = sum(1 for row in rows if not row.errors)
        return rejected(read_errors + row_errors, table.n_rows, unchanged=clean)

    applied_rows = {number for draft in drafts for number in draft.rows}
    unchanged = len(rows) - len(applied_rows)
    current: _Draft | None = None
    try:
        with transaction.atomic():
            written = []
            for current in drafts:
                written.append(
                    services.update_save_draft(
                        action=current.action,
                        period=period,
                        author=user,
                        status=current.status,
                        narrative=current.narrative,
                        milestone_progress=current.milestone_progress,
                    )
                )
            record = _record(
                period=period,
                user=user,
                filename=filename,
                digest=digest,
                status=SheetImportStatus.APPLIED,
                total=table.n_rows,
                applied=len(applied_rows),
                unchanged=unchanged,
                errors=[],
            )
    except (ValidationError, PermissionDenied) as error:
        # Someone changed an update between the check and the write; nothing was kept.
        reason = "; ".join(error.messages) if isinstance(error, ValidationError) else ""
        number = current.rows[0] if current else None
        message = _("This update could not be saved (%(reason)s); nothing was applied.") % {
            "reason": reason or _("not allowed")
        }
        failed = set(current.rows) if current else set()
        return rejected(
            [SheetError(number, "action_code", message)],
            table.n_rows,
            unchanged=table.n_rows - len(failed),
        )
    return SheetImportResult(
        record=record,
        errors=(),
        rows_total=table.n_rows,
        rows_applied=len(applied_rows),
        rows_unchanged=unchanged,
        rows_rejected=0,
        updates=tuple(written),
    )
