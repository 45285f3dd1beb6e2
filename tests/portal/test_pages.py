from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from csas.strategy.models import Action, Goal, StrategyVersion


@pytest.fixture
def client() -> Client:
    return Client()


def test_home_shows_the_vision_and_four_goals(client: Client, db: Any) -> None:
    body = client.get("/").content.decode()
    assert "we collaborate to make healthy and vibrant neighborhoods" in body
    for number, title in enumerate(
        [
            "Safe PLACES and Neighborhoods",
            "PEOPLE Receive the Right Services at the Right Time",
            "Effective RESPONSE with Respect and Care",
            "Community REPAIR",
        ],
        start=1,
    ):
        assert title in body
        assert f'href="/goals/{number}/"' in body
    assert "The 4 goals" in body


def test_goal_pages_list_all_21_action_codes_and_8_focus_populations(
    client: Client, db: Any
) -> None:
    links = set()
    for number in (1, 3, 4):
        body = client.get(f"/goals/{number}/").content.decode()
        links |= {part.split('"')[0] for part in body.split('href="/actions/')[1:]}
    assert len(links) == 22  # 21 codes; 3.1 appears twice in the source
    body = client.get("/goals/2/").content.decode()
    assert body.count("<li>", body.index("Focus populations")) >= 8
    for name in [
        "Youth and Young Adults",
        "Residents Experiencing Homelessness",
        "Businesses",
        "Neighborhood-specific Approaches",
    ]:
        assert name in body


def test_duplicate_code_is_flagged_on_the_goal_and_action_pages(client: Client, db: Any) -> None:
    assert "Code used twice in the source" in client.get("/goals/3/").content.decode()
    body = client.get("/actions/3-1-provide/").content.decode()
    assert "Provide Immediate Incident Response" in body
    assert "Note about this data" in body


def test_action_page_shows_status_lead_and_partners(client: Client, tpd_action: Action) -> None:
    body = client.get("/actions/3-6/").content.decode()
    assert "Promote alternatives to (traditional) commissioned public safety responses" in body
    assert "Not started" in body
    assert "Tacoma Police Department" in body
    assert "Partners" in body


def test_action_page_never_shows_partner_contact_details(
    client: Client, tpd_action: Action
) -> None:
    from csas.strategy.models import ActionPartner, Partner

    partner = Partner.objects.get(slug="tacoma-ceasefire")
    partner.contact_email = "someone@example.org"
    partner.contact_name = "A Person"
    partner.save()
    ActionPartner.objects.create(action=tpd_action, partner=partner, role="Trauma response")
    body = client.get("/actions/3-6/").content.decode()
    assert (
        '<a href="/partners/#tacoma-ceasefire">Tacoma Ceasefire</a>: '
        '<span lang="en">Trauma response</span>'
    ) in body
    assert "someone@example.org" not in body
    assert "A Person" not in body
    body = client.get("/partners/").content.decode()
    assert "Trauma response" in body
    assert "someone@example.org" not in body
    assert "A Person" not in body


def test_partners_page_lists_each_partner_with_its_published_actions_only(
    client: Client, tpd_action: Action, draft_version: StrategyVersion
) -> None:
    from csas.strategy.models import ActionPartner, Partner

    ceasefire = Partner.objects.get(slug="tacoma-ceasefire")
    ActionPartner.objects.create(action=tpd_action, partner=ceasefire, role="Trauma response")
    draft_action = Action.objects.get(version=draft_version, slug="3-2")
    ActionPartner.objects.create(action=draft_action, partner=ceasefire, role="DRAFT ROLE")
    collaborative = Partner.objects.get(slug="tacoma-safety-collaborative")
    collaborative.website = "javascript:alert(1)"
    collaborative.save()
    response = client.get("/partners/")
    assert response.status_code == 200
    body = response.content.decode()
    section = body[body.index('<section id="tacoma-ceasefire"') :]
    section = section[: section.index("</section>")]
    assert 'href="/actions/3-6/"' in section
    assert '<span lang="en">Trauma response</span>' in section
    assert "DRAFT ROLE" not in body
    assert "javascript:" not in body  # only an http(s) website is linked
    collaborative_section = body[body.index('<section id="tacoma-safety-collaborative"') :]
    assert (
        "No action of the published strategy names this partner yet."
        in (collaborative_section[: collaborative_section.index("</section>")])
    )
    assert body.index("Tacoma Ceasefire") < body.index("Tacoma Community Safety Collaborative")


def test_plan_draws_the_gantt_chart_with_a_table_alternative(client: Client, db: Any) -> None:
    body = client.get("/plan/").content.decode()
    assert "<svg" in body
    assert 'role="img"' in body
    assert "<table" in body
    for quarter in ["Q3 2023", "Q4 2023", "Q1 2024", "Q2 2024", "Q3 2024", "Q4 2024"]:
        assert quarter in body
    for workstream in [
        "Communications",
        "Engagement &amp; Feedback",
        "Writing Document",
        "Implementation",
    ]:
        assert workstream in body
    assert body.count("<tr>") == 16 + 1  # one row per milestone plus the header
    assert "What groups or organizations can you help connect with?" in body


def test_neighborhoods_lists_8_neighborhood_and_5_council_districts(
    client: Client, db: Any
) -> None:
    body = client.get("/neighborhoods/").content.decode()
    assert "Neighborhood council district (8)" in body
    assert "Council district (5)" in body
    for name in ["West End", "New Tacoma", "Council District 5"]:
        assert name in body


def test_district_geojson_has_outlines_but_no_block_group_data(client: Client, db: Any) -> None:
    data = json.loads(client.get("/neighborhoods/neighborhood-council-districts.geojson").content)
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 8
    assert set(data["features"][0]["properties"]) == {"code", "name", "kind"}


def test_every_language_serves_the_home_page(client: Client, db: Any) -> None:
    for code in ["es", "vi", "km", "ko", "ru", "uk"]:
        response = client.get(f"/{code}/")
        assert response.status_code == 200
        assert f'<html lang="{code}"' in response.content.decode()


def test_untranslated_content_falls_back_to_english_with_a_note(client: Client, db: Any) -> None:
    body = client.get("/es/goals/1/").content.decode()
    assert '<span lang="en">Safe PLACES and Neighborhoods</span>' in body
    with translation.override("es"):
        note = translation.gettext(
            "Some of this page's strategy content has not been "
            "translated into your language yet and is shown in English."
        )
    assert note in body


def test_translated_content_is_shown_in_the_readers_language(
    client: Client, published_version: StrategyVersion
) -> None:
    goal = Goal.objects.get(version=published_version, number=1)
    goal.translations = {"es": {"title": "Lugares y vecindarios seguros"}}
    goal.save()
    body = client.get("/es/goals/1/").content.decode()
    assert "<h1>Lugares y vecindarios seguros</h1>" in body
    assert client.get("/goals/1/").content.decode().count("Lugares y vecindarios") == 0


def test_unknown_urls_get_a_friendly_404_without_a_traceback(client: Client, db: Any) -> None:
    for url in ["/no/such/page/", "/actions/9-9/", "/goals/0/", "/es/nada/"]:
        response = client.get(url)
        assert response.status_code == 404, url
        body = response.content.decode()
        assert "We could not find that page" in body or "es" in url
        assert "Traceback" not in body


def test_pages_use_a_fixed_number_of_queries(
    client: Client, db: Any, django_assert_max_num_queries: Any
) -> None:
    for url in ["/", "/goals/3/", "/actions/3-6/", "/plan/", "/neighborhoods/"]:
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200


def test_the_site_has_an_icon_that_browsers_find(db: Any) -> None:
    from django.contrib.staticfiles import finders

    page = Client().get("/plan/").content.decode()
    assert 'rel="icon" href="/static/csas/favicon.svg"' in page
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/csas/favicon.svg"
    found = finders.find("csas/favicon.svg")
    assert found is not None
    assert "<svg" in Path(found).read_text()


@pytest.mark.parametrize("language", ["es", "vi", "km", "ru", "uk"])
def test_the_plan_chart_coordinates_are_numbers_in_every_language(db: Any, language: str) -> None:
    import re
    import xml.etree.ElementTree as ET

    page = Client().get(f"/{language}/plan/").content.decode()
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg)  # noqa: S314 - our own page
    for element in root.iter():
        for name in ("x", "y", "width", "height", "x1", "x2", "y1", "y2"):
            value = element.get(name)
            if value is not None:
                assert re.fullmatch(r"-?\d+(\.\d+)?", value), (element.tag, name, value)
