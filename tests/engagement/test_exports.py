from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from csas.engagement.exports import neutralise, responses_csv
from csas.engagement.models import Survey
from tests.engagement.test_answering import _complete


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (5, 5),
    ],
)
def test_export_cells_cannot_run_as_formulas(value: Any, expected: Any) -> None:
    assert neutralise(value) == expected


def test_export_has_one_row_per_response_with_personal_data_redacted(
    small_survey: Survey,
) -> None:
    _complete(Client(), small_survey)
    rows = list(csv.reader(io.StringIO(responses_csv(small_survey))))
    header, row = rows
    assert header[:6] == [
        "response",
        "submitted_at",
        "language",
        "channel",
        "neighbourhood",
        "council_district",
    ]
    record = dict(zip(header, row, strict=True))
    assert record["feel_day"] == "unsafe"
    assert record["goal_rank"] == "goal_3>goal_1"
    assert record["neighbourhood"] == "Central"
    assert "253-555-0142" not in record["comments"]
    raw = dict(
        zip(
            *list(csv.reader(io.StringIO(responses_csv(small_survey, include_personal_data=True)))),
            strict=True,
        )
    )
    assert "253-555-0142" in raw["comments"]


def test_only_admins_may_export_unredacted_text(small_survey: Survey, user_for: Any) -> None:
    url = f"/manage/engagement/surveys/{small_survey.pk}/responses.csv"
    staff = Client()
    staff.force_login(user_for("strategy_staff"))
    assert staff.get(url).status_code == 200
    assert staff.get(url + "?personal=1").status_code == 403
    admin = Client()
    admin.force_login(user_for("admin"))
    assert admin.get(url + "?personal=1").status_code == 200


def test_xlsx_export_keeps_a_formula_like_comment_as_text(
    small_survey: Survey, user_for: Any
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from csas.engagement.exports import responses_xlsx
    from csas.engagement.models import Answer, FeedbackItem

    _complete(Client(), small_survey)
    answer = Answer.objects.get(question__key="comments")
    answer.value = {"text": '=HYPERLINK("http://evil","click")'}
    answer.save()
    FeedbackItem.objects.filter(answer=answer).update(redacted_text=answer.value["text"])
    sheet = load_workbook(BytesIO(responses_xlsx(small_survey))).active
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("comments") + 1)
    assert cell.data_type == "s"
    assert cell.value == '\'=HYPERLINK("http://evil","click")'
    staff = Client()
    staff.force_login(user_for("strategy_staff"))
    response = staff.get(f"/manage/engagement/surveys/{small_survey.pk}/responses.csv?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_dashboard_shows_responses_per_week(small_survey: Survey, user_for: Any) -> None:
    _complete(Client(), small_survey)
    staff = Client()
    staff.force_login(user_for("strategy_staff"))
    body = staff.get("/manage/engagement/").content.decode()
    assert "Responses submitted per week" in body
