"""Exports of survey responses for analysts: personal data out by default, formula-safe cells.

A spreadsheet program runs a cell that starts with =, +, -, @ (or a tab or carriage return)
as a formula; every exported text cell that could be read that way is prefixed with an
apostrophe, so a resident's comment like ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from csas.engagement.models import FeedbackItem, Response, ResponseStatus, Survey

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Make a cell value safe to open in a spreadsheet (numbers pass unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: dict[str, Any] | None, *, text_override: str | None = None) -> Any:
    if value is None:
        return ""
    if "choice" in value:
        return value["choice"]
    if "choices" in value:
        return ";".join(value["choices"])
    if "ranking" in value:
        return ">".join(value["ranking"])
    if "number" in value:
        return value["number"]
    if "text" in value:
        return text_override if text_override is not None else value["text"]
    if "place" in value:
        return value["place"]
    if "point" in value:
        return f"{value['point'][0]},{value['point'][1]}"
    return ""


def response_rows(survey: Survey, *, include_personal_data: bool = False) -> Iterator[list[Any]]:
    """Header, then one row per submitted response.

    Open answers are exported as moderated (personal data redacted) unless
    `include_personal_data` is set; contact details are never exported here.
    """
    questions = list(survey.questions.order_by("order"))
    yield [
        "response",
        "submitted_at",
        "language",
        "channel",
        "neighbourhood",
        "council_district",
        *[question.key for question in questions],
    ]
    redacted = dict(
        FeedbackItem.objects.filter(answer__response__survey=survey).values_list(
            "answer_id", "redacted_text"
        )
    )
    responses = (
        Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED)
        .select_related("neighbourhood", "council_district")
        .prefetch_related("answers")
        .order_by("submitted_at", "pk")
    )
    for number, response in enumerate(responses, start=1):
        answers = {answer.question_id: answer for answer in response.answers.all()}
        row: list[Any] = [
            number,
            response.submitted_at.isoformat() if response.submitted_at else "",
            response.language,
            response.channel,
            response.neighbourhood.name if response.neighbourhood else "",
            response.council_district.name if response.council_district else "",
        ]
        for question in questions:
            answer = answers.get(question.pk)
            override = None
            if answer is not None and not include_personal_data:
                override = redacted.get(answer.pk)
            row.append(_cell(answer.value if answer else None, text_override=override))
        yield [neutralise(value) for value in row]


def responses_csv(survey: Survey, *, include_personal_data: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in response_rows(survey, include_personal_data=include_personal_data):
        writer.writerow(row)
    return buffer.getvalue()


def responses_xlsx(survey: Survey, *, include_personal_data: bool = False) -> bytes:
    """The same rows as `responses_csv`, as an Excel workbook (cells formula-neutralised)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="responses")
    for row in response_rows(survey, include_personal_data=include_personal_data):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
