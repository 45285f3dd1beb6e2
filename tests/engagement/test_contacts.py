from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.http import Http404
from django.test import Client

from csas.engagement.contacts import (
    ContactError,
    clean_contact,
    contact_read_for_user,
    contact_store,
    contacts_purge,
)
from csas.engagement.models import ContactDetail, Response, Survey
from csas.engagement.services import survey_load_file, survey_set_status
from csas.strategy.models import Strategy
from tests.engagement.conftest import SMALL_SURVEY


@pytest.fixture
def opt_in_survey(strategy: Strategy, tmp_path: Any) -> Survey:
    text = SMALL_SURVEY.read_text().replace(
        "  - key: about\n",
        "  - key: stay\n    title: Stay in touch\n    questions:\n"
        "      - key: follow_up_opt_in\n        kind: single_choice\n"
        "        text: Would you like to hear about results?\n        options:\n"
        '          - {value: "yes", label: "Yes"}\n          - {value: "no", label: "No"}\n'
        "  - key: about\n",
    )
    path = tmp_path / "optin.yaml"
    path.write_text(text)
    return survey_set_status(survey=survey_load_file(path=path, strategy=strategy), status="open")


def _answer_all(client: Client, survey: Survey, opt_in: str) -> str:
    page = client.post(f"/surveys/{survey.slug}/", {"code": ""})["Location"]
    for data in ({"feel_day": "safe"}, {}, {"follow_up_opt_in": opt_in}, {}):
        page = client.post(page, data)["Location"]
    return client.post(page)["Location"]


def test_people_who_opt_in_are_asked_for_contact_details_stored_encrypted_apart(
    opt_in_survey: Survey, user_for: Any
) -> None:
    client = Client()
    contact_page = _answer_all(client, opt_in_survey, "yes")
    assert contact_page.endswith("/contact/")
    result = client.post(contact_page, {"email": "resident@example.org", "name": "Ana"})
    assert result.status_code == 302
    contact = ContactDetail.objects.get()
    assert "resident@example.org" not in contact.ciphertext
    assert contact.response == Response.objects.get()
    assert "resident@example.org" not in str(Response.objects.get().demographics)
    details = contact_read_for_user(user_for("strategy_staff"), contact.pk)
    assert details == {"email": "resident@example.org", "name": "Ana", "language": "en"}


def test_people_who_do_not_opt_in_are_never_asked(opt_in_survey: Survey) -> None:
    client = Client()
    assert _answer_all(client, opt_in_survey, "no").endswith("/thanks/")
    token = Response.objects.get().public_id
    assert client.get(f"/surveys/{opt_in_survey.slug}/r/{token}/contact/").status_code == 404


@pytest.mark.parametrize("role", ["public", "partner", "department_editor"])
def test_contact_details_are_not_found_outside_the_strategy_office(
    opt_in_survey: Survey, user_for: Any, role: str
) -> None:
    response = Response.objects.create(survey=opt_in_survey, language="en")
    contact = contact_store(details={"email": "a@b.org"}, response=response)
    user = user_for(role)
    with pytest.raises(Http404):
        contact_read_for_user(user or _anonymous(), contact.pk)


def _anonymous() -> Any:
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Give an e-mail address or a phone number."),
        ({"email": "not-an-address"}, "That e-mail address does not look right."),
        ({"phone": "call me maybe"}, "That phone number does not look right."),
    ],
)
def test_bad_contact_details_are_refused(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ContactError, match=message):
        clean_contact(**fields)


def test_contacts_are_purged_after_the_retention_period(
    opt_in_survey: Survey, settings: Any
) -> None:
    settings.CONTACT_RETENTION_DAYS = 30
    response = Response.objects.create(survey=opt_in_survey, language="en")
    contact_store(details={"phone": "253 555 0100"}, response=response, today=dt.date(2026, 1, 1))
    assert contacts_purge(today=dt.date(2026, 1, 31)) == 0
    assert contacts_purge(today=dt.date(2026, 2, 1)) == 1
    assert not ContactDetail.objects.exists()
    assert Response.objects.filter(pk=response.pk).exists()
