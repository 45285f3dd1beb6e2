"""Imports through the staff pages: preview, row-level errors, all-or-nothing commit."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from csas.engagement.import_services import (
    ImportRefused,
    import_check,
    import_commit,
    import_upload,
)
from csas.engagement.models import (
    FeedbackItem,
    ImportBatch,
    MapComment,
    PolisParticipant,
    Response,
    Survey,
    Vote,
)
from csas.strategy.models import Strategy

FIXTURES = Path(__file__).parent / "import_fixtures"
POLIS = FIXTURES / "polis" / "london.youth.policing"

GOOD_MAP_CSV = (
    b"ID,Comment,Category,Latitude,Longitude,Language,Neighborhood\n"
    b"A1,Streetlight out by the bus stop,Lighting,47.2529,-122.4443,en,Central\n"
    b"A2,Cars speed here,traffic,47.2401,-122.4590,en,Central\n"
    b"A1,Streetlight out by the bus stop,Lighting,47.2529,-122.4443,en,Central\n"
)


@pytest.fixture
def staff(user_for: Any) -> Client:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    return client


def _upload(staff: Client, name: str, data: bytes, kind: str, **extra: Any) -> Any:
    return staff.post(
        "/manage/engagement/imports/",
        {"kind": kind, "file": SimpleUploadedFile(name, data), **extra},
    )


def test_a_map_comment_export_is_previewed_then_imported_with_duplicates_skipped(
    staff: Client, strategy: Strategy
) -> None:
    response = _upload(staff, "map.csv", GOOD_MAP_CSV, "map_comments")
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    preview = staff.get(response["Location"]).content.decode()
    assert "Import these rows" in preview
    assert not MapComment.objects.exists()  # a preview writes nothing
    staff.post(response["Location"], {"commit": "1"})
    batch.refresh_from_db()
    assert batch.status == "committed"
    assert (batch.rows_total, batch.rows_imported, batch.report["counts"]["duplicate"]) == (3, 2, 1)
    assert MapComment.objects.count() == 2
    assert set(FeedbackItem.objects.values_list("status", flat=True)) == {"pending"}
    assert MapComment.objects.first().neighbourhood.name == "Central"
    with batch.stored_file.open("rb") as handle:
        assert handle.read() == GOOD_MAP_CSV  # kept unchanged


def test_a_file_with_row_errors_is_never_imported_half_way(
    staff: Client, strategy: Strategy
) -> None:
    data = (FIXTURES / "map_comments_export.csv").read_bytes()
    response = _upload(staff, "map_comments_export.csv", data, "map_comments")
    page = staff.get(response["Location"]).content.decode()
    assert "problems to fix" in page
    assert "Import these rows" not in page
    batch = ImportBatch.objects.get()
    with pytest.raises(ImportRefused, match="row\\(s\\) have problems"):
        import_commit(batch=batch, user=None)
    assert not MapComment.objects.exists()
    assert not FeedbackItem.objects.exists()
    errors = batch.report["errors"]
    assert {"row", "column", "value", "problem"} <= set(errors[0])
    assert any(e["column"] == "Category" and e["value"] == "Graffiti" for e in errors)


def test_a_map_pin_outside_the_city_is_a_row_error_and_nothing_is_imported(
    staff: Client, strategy: Strategy
) -> None:
    data = GOOD_MAP_CSV.replace(
        b"A2,Cars speed here,traffic,47.2401,-122.4590",  # Tacoma
        b"A2,Cars speed here,traffic,47.6097,-122.3331",  # downtown Seattle
    )
    response = _upload(staff, "map.csv", data, "map_comments")
    page = staff.get(response["Location"]).content.decode()
    assert "Import these rows" not in page
    batch = ImportBatch.objects.get()
    (error,) = batch.report["errors"]
    assert (error["row"], error["column"]) == (3, "Latitude")
    assert "(latitude 47.6097, longitude -122.333) is outside Tacoma&#x27;s districts" in page
    assert "is outside Tacoma's districts; correct it" in error["problem"]
    with pytest.raises(ImportRefused):
        import_commit(batch=batch, user=None)
    assert not MapComment.objects.exists()
    assert not FeedbackItem.objects.exists()


def test_a_malformed_csv_gets_a_message_naming_the_line(staff: Client, strategy: Strategy) -> None:
    data = (FIXTURES / "malformed_unterminated_quote.csv").read_bytes()
    response = _upload(staff, "bad.csv", data, "feedback")
    assert response.status_code == 400
    assert "line" in response.content.decode()
    assert not FeedbackItem.objects.exists()


def test_an_oversized_upload_is_refused_with_a_message(
    staff: Client, strategy: Strategy, settings: Any
) -> None:
    settings.IMPORT_MAX_MB = 1
    response = _upload(staff, "big.csv", b"Comment\n" + b"x" * (1024 * 1024 + 10), "feedback")
    assert response.status_code == 400
    assert "the limit is 1 MB" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_accented_text_in_windows_1252_is_imported_correctly(
    strategy: Strategy, user_for: Any
) -> None:
    data = "Comentario;Idioma\n“Más luz” en la parada – por favor;es\n".encode("cp1252")
    batch = import_upload(
        strategy=strategy,
        kind="feedback",
        filename="c.csv",
        data=data,
        user=user_for("strategy_staff"),
    )
    preview = import_check(batch=batch, mapping={"text": "Comentario", "language": "Idioma"})
    assert preview.encoding == "windows-1252"
    import_commit(batch=batch, user=None)
    assert FeedbackItem.objects.get().text == "“Más luz” en la parada – por favor"


def _polis_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in POLIS.glob("*.csv"):
            archive.write(path, path.name)
    return buffer.getvalue()


def test_a_polis_conversation_imports_with_votes_groups_and_moderation(
    strategy: Strategy, user_for: Any
) -> None:
    batch = import_upload(
        strategy=strategy,
        kind="polis",
        filename="polis.zip",
        data=_polis_zip(),
        user=user_for("strategy_staff"),
    )
    preview = import_check(batch=batch)
    assert preview.can_commit
    import_commit(batch=batch, user=None)
    items = FeedbackItem.objects.filter(source="polis")
    assert items.count() == 39
    assert items.filter(status="rejected").count() == 3  # removed by Polis moderators
    assert Vote.objects.count() == 638  # 640 rows, 2 superseded by later votes
    assert PolisParticipant.objects.filter(batch=batch).count() == 26
    assert set(PolisParticipant.objects.values_list("polis_group", flat=True)) == {
        "0",
        "1",
        "2",
        "",
    }
    batch.refresh_from_db()
    assert batch.report["counts"]["superseded"] == 2


def test_importing_the_same_file_twice_adds_nothing_the_second_time(
    strategy: Strategy, user_for: Any
) -> None:
    for _round in range(2):
        batch = import_upload(
            strategy=strategy,
            kind="map_comments",
            filename="m.csv",
            data=GOOD_MAP_CSV,
            user=user_for("strategy_staff"),
        )
        preview = import_check(batch=batch)
        if preview.can_commit:
            import_commit(batch=batch, user=None)
    assert MapComment.objects.count() == 2


def test_a_wide_survey_export_becomes_submitted_responses(
    small_survey: Survey, user_for: Any
) -> None:
    data = b"Respondent,How safe by day,Anything else\nR1,Safe,More lights please\nR2,unsafe,\n"
    batch = import_upload(
        strategy=small_survey.strategy,
        kind="survey_wide",
        filename="s.csv",
        data=data,
        user=user_for("strategy_staff"),
        survey=small_survey,
    )
    preview = import_check(
        batch=batch,
        mapping={
            "feel_day": "How safe by day",
            "comments": "Anything else",
            "meta:external_id": "Respondent",
        },
    )
    assert preview.can_commit, preview.errors
    import_commit(batch=batch, user=None)
    responses = Response.objects.filter(survey=small_survey).order_by("external_id")
    assert [r.external_id for r in responses] == ["R1", "R2"]
    assert all(r.status == "submitted" and r.channel == "import" for r in responses)
    assert responses[0].answers.get(question__key="feel_day").value == {"choice": "safe"}
    assert FeedbackItem.objects.get(import_batch=batch).text == "More lights please"


@pytest.mark.parametrize("role", ["partner", "department_editor"])
def test_imports_are_for_the_strategy_office_only(
    user_for: Any, strategy: Strategy, role: str
) -> None:
    client = Client()
    client.force_login(user_for(role))
    response = client.post(
        "/manage/engagement/imports/",
        {"kind": "feedback", "file": SimpleUploadedFile("a.csv", b"Comment\nx\n")},
    )
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_an_imported_place_is_redacted_before_it_can_be_published(
    staff: Client, strategy: Strategy
) -> None:
    data = (
        b"ID,Comment,Category,Location description,Language\n"
        b"B1,Broken light,Lighting,in front of 4502 N 26th St,en\n"
    )
    response = _upload(staff, "places.csv", data, "map_comments")
    staff.post(response["Location"], {"commit": "1"})
    comment = MapComment.objects.get()
    assert comment.address == "in front of 4502 N 26th St"
    assert "4502" not in comment.redacted_address
    assert "place:personal_data:street_address" in comment.review_reasons


def test_an_imported_pin_without_a_neighbourhood_is_placed_by_its_coordinates(
    staff: Client, strategy: Strategy
) -> None:
    data = b"ID,Comment,Category,Latitude,Longitude\nC1,Dark corner,Lighting,47.2457,-122.4668\n"
    response = _upload(staff, "pins.csv", data, "map_comments")
    staff.post(response["Location"], {"commit": "1"})
    comment = MapComment.objects.get()
    assert comment.neighbourhood is not None
    assert comment.neighbourhood.name == "Central"
    assert FeedbackItem.objects.get(map_comment=comment).geography == comment.neighbourhood
