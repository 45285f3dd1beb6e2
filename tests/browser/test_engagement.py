"""Engagement in a real browser: the Community Safety Survey, the safety map, and staff.

A resident answers the bundled survey in Spanish on a phone (tapping the Leaflet pin map) and
staff see the response on their dashboard; every survey page and the safety map are audited
with axe-core in Spanish and English; a map comment with a phone number goes through
moderation and is published without it; and the survey can be completed with JavaScript off.

The helpers (CSP and script-error checks, the axe-core audit) come from test_public_site.py;
the fixtures (one chromium, a fresh context per page, console errors recorded) from
conftest.py.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
import yaml
from django.core.cache import cache as django_cache
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import Locator, Page, expect

from csas.engagement.models import (
    Answer,
    MapComment,
    ModerationStatus,
    Option,
    Response,
    ResponseStatus,
    Survey,
)
from csas.engagement.survey_file import bundled_survey_path
from tests.browser.test_public_site import (
    BLOCKING_IMPACTS,
    assert_page_healthy,
    format_violations,
    path_of,
    run_axe,
)
from tests.conftest import make_user
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SLUG = "community-safety-survey"
SECTION_COUNT = 7
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# Tacoma, roughly: every point of the city lies inside this box.
TACOMA_LON = (-122.6, -122.3)
TACOMA_LAT = (47.1, 47.35)
LON_LAT = re.compile(r"^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$")

PIN_MAP_PATHS = ".pin-map path.leaflet-interactive"
# The safety map draws the district outlines as non-interactive paths (clicks reach the map).
COMMENT_MAP_PATHS = "#comment-map .leaflet-overlay-pane path"


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_rate_limits_left_over() -> None:
    """Empty the rate-limit counters: the file cache outlives a test run (as in
    tests/engagement/conftest.py), and every test here starts surveys or sends comments from
    the same address."""
    django_cache.clear()


@pytest.fixture
def survey(published_strategy: None) -> Survey:
    """The bundled survey, open. Loaded after the strategy (its options come from it), and
    again for every test, since pytest-django empties the tables after each one."""
    call_command("load_survey", open=True, verbosity=0)
    return Survey.objects.get(slug=SLUG)


# --- helpers ----------------------------------------------------------------------------------


@cache
def _survey_file() -> dict[str, Any]:
    with bundled_survey_path().open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


def _question(key: str) -> dict[str, Any]:
    for section in _survey_file()["sections"]:
        for question in section["questions"]:
            if question["key"] == key:
                return question  # type: ignore[no-any-return]
    raise KeyError(key)


def question_text(key: str, language: str) -> str:
    """A question's wording as the survey shows it in `language` (from the survey file)."""
    if language != "en":
        translated = _survey_file()["translations"][language].get(f"questions.{key}.text")
        if translated:
            return str(translated)
    return " ".join(str(_question(key)["text"]).split())


def option_label(key: str, value: str, language: str) -> str:
    """An option's label in `language`: its own, or its scale's, from the survey file."""
    question = _question(key)
    texts = _survey_file()["translations"].get(language, {}) if language != "en" else {}
    if "scale" in question:
        scale = question["scale"]
        if texts.get(f"scales.{scale}.{value}"):
            return str(texts[f"scales.{scale}.{value}"])
        options = _survey_file()["scales"][scale]
    else:
        if texts.get(f"questions.{key}.options.{value}"):
            return str(texts[f"questions.{key}.options.{value}"])
        options = question["options"]
    return " ".join(str(next(o["label"] for o in options if o["value"] == value)).split())


def stored_option_label(key: str, value: str) -> str:
    """The label of an option built from the strategy or the city (not in the survey file)."""
    return Option.objects.get(question__key=key, value=value).label


def gettext_in(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def question_group(page: Page, key: str, language: str) -> Locator:
    """The fieldset of a choice question, found by its accessible name (its legend)."""
    return page.get_by_role("group", name=question_text(key, language), exact=True)


def tick(group: Locator, label: str) -> None:
    """Tap an answer's label, as a person does, and check that it took."""
    group.locator("label").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).click()
    expect(group.get_by_label(label, exact=True)).to_be_checked()


def continue_to(page: Page, language: str, url_end: str) -> None:
    page.get_by_role("button", name=gettext_in(language, "Save and continue"), exact=True).click()
    page.wait_for_url(re.compile(re.escape(url_end) + "$"))


def start_survey(page: Page, base_url: str, language: str) -> str:
    """Open the start page and press Start; return the first section's URL."""
    prefix = "" if language == "en" else f"/{language}"
    page.goto(f"{base_url}{prefix}/surveys/{SLUG}/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.get_by_role("button", name=gettext_in(language, "Start the survey"), exact=True).click()
    page.wait_for_url(re.compile(rf"{prefix}/surveys/{SLUG}/r/[0-9a-f-]+/1/$"))
    return page.url


def wait_for_pin_maps(page: Page) -> None:
    """Wait until survey.js has drawn the district outlines on every pin map and the map
    has settled at the city's extent (fitBounds animates the zoom)."""
    expect(page.locator(PIN_MAP_PATHS).first).to_be_attached()
    for pin_map in page.locator(".pin-map").all():
        expect(pin_map).to_be_visible()
        expect(pin_map.locator("path.leaflet-interactive").first).to_be_attached()
    expect(page.locator(".pin-map .leaflet-map-pane.leaflet-zoom-anim")).to_have_count(0)


def wait_for_comment_map(page: Page) -> None:
    expect(page.locator(COMMENT_MAP_PATHS).first).to_be_attached()
    expect(page.locator("#comment-map .leaflet-map-pane.leaflet-zoom-anim")).to_have_count(0)


def lon_lat(value: str) -> tuple[float, float]:
    match = LON_LAT.match(value)
    assert match, f"expected 'lon,lat', got {value!r}"
    return float(match.group(1)), float(match.group(2))


def assert_in_tacoma(lon: float, lat: float) -> None:
    assert TACOMA_LON[0] < lon < TACOMA_LON[1], f"longitude {lon} is not in Tacoma"
    assert TACOMA_LAT[0] < lat < TACOMA_LAT[1], f"latitude {lat} is not in Tacoma"


def assert_no_blocking_violations(page: Page, what: str) -> None:
    violations = run_axe(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe-core found serious or critical WCAG violations on {what} ({path_of(page)}):\n"
        + format_violations(blocking)
    )


def log_in_as_staff(new_page: Any, base_url: str) -> Page:
    """A strategy-office account, signed in through the login form in a separate context."""
    user = make_user("strategy_staff", username="office-staff")
    page: Page = new_page()
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def reach_row_responses(page: Page, neighbourhood: str) -> Locator:
    """The "Responses" cell of a neighbourhood's row in the dashboard's reach table."""
    table = page.get_by_role("table", name=re.compile(r"^Reach by neighborhood"))
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    column = headers.index("Responses")
    row = table.locator("tbody tr").filter(
        has=page.get_by_role("rowheader", name=neighbourhood, exact=True)
    )
    expect(row).to_have_count(1)
    return row.locator("th, td").nth(column)


# --- 1. a resident answers the survey in Spanish on a phone -----------------------------------


def test_resident_completes_the_survey_in_spanish_on_a_phone(
    live_server: Any, new_page: Any, survey: Survey
) -> None:
    es = "es"
    page = new_page(locale="es-US", **PHONE)
    section_url = start_survey(page, live_server.url, es)
    base = section_url.removesuffix("1/")

    # Page 1: how safe do you feel, with two map-pin questions.
    expect(page.locator("progress")).to_have_attribute("value", "1")
    tick(
        question_group(page, "safety_neighbourhood_day", es),
        option_label("safety_neighbourhood_day", "somewhat_safe", es),
    )
    tick(
        question_group(page, "safety_neighbourhood_dark", es),
        option_label("safety_neighbourhood_dark", "somewhat_unsafe", es),
    )
    tick(question_group(page, "safety_overall", es), "6")
    wait_for_pin_maps(page)
    pin_input = page.get_by_label(question_text("unsafe_place_pin", es), exact=True)
    expect(pin_input).to_have_value("")
    pin_map = page.locator("#q-unsafe_place_pin .pin-map")
    pin_map.scroll_into_view_if_needed()
    pin_map.tap()  # the middle of the map: inside the city once the map fits the districts
    expect(pin_input).to_have_value(LON_LAT)
    expect(pin_map.locator(".leaflet-marker-icon")).to_have_count(1)
    pin = lon_lat(pin_input.input_value())
    assert_in_tacoma(*pin)
    continue_to(page, es, "/2/")

    # Page 2: your community.
    tick(
        question_group(page, "neighbours_look_out", es),
        option_label("neighbours_look_out", "somewhat_agree", es),
    )
    continue_to(page, es, "/3/")

    # Page 3: experiences; the follow-up questions appear as they apply.
    follow_up = question_group(page, "contacted_for_help", es)
    expect(follow_up).to_be_hidden()
    tick(
        question_group(page, "experienced_harm", es),
        option_label("experienced_harm", "theft_or_damage", es),
    )
    expect(follow_up).to_be_visible()
    tick(follow_up, option_label("contacted_for_help", "city_311", es))
    respect = question_group(page, "treated_with_respect", es)
    expect(respect).to_be_visible()
    tick(respect, option_label("treated_with_respect", "yes", es))
    expect(question_group(page, "why_not_contacted", es)).to_be_hidden()
    continue_to(page, es, "/4/")

    # Page 4: priorities: rank two goals, tick an action.
    ranking = question_group(page, "rank_goals", es)
    ranking.get_by_label(stored_option_label("rank_goals", "goal_3"), exact=True).select_option("1")
    ranking.get_by_label(stored_option_label("rank_goals", "goal_1"), exact=True).select_option("2")
    tick(
        question_group(page, "top_actions_places", es),
        stored_option_label("top_actions_places", "action_1_2"),
    )
    continue_to(page, es, "/5/")

    # Page 5: ideas, in words.
    page.get_by_label(question_text("ideas_for_safety", es), exact=True).fill(
        "Más luz en las paradas de autobús."
    )
    continue_to(page, es, "/6/")

    # Page 6: about you. Tapping a district on the neighbourhood map ticks its answer; the
    # list stays the accessible way to answer, and the resident settles it there.
    neighbourhood = question_group(page, "home_neighbourhood", es)
    pick_map = page.locator("#q-home_neighbourhood .pick-map")
    expect(pick_map.locator("path.leaflet-interactive").first).to_be_attached()
    expect(neighbourhood.get_by_role("radio", checked=True)).to_have_count(0)
    pick_map.tap()  # the middle of the city
    expect(neighbourhood.get_by_role("radio", checked=True)).to_have_count(1)
    tick(neighbourhood, "Central")
    tick(question_group(page, "age_group", es), option_label("age_group", "age_35_44", es))
    continue_to(page, es, "/7/")

    # Page 7: stay involved: no thanks (so no contact page).
    tick(
        question_group(page, "follow_up_opt_in", es),
        option_label("follow_up_opt_in", "no", es),
    )
    page.get_by_role("button", name=gettext_in(es, "Save and review"), exact=True).click()
    page.wait_for_url(base + "review/")

    expect(page.get_by_role("heading", level=1)).to_have_text(gettext_in(es, "Check your answers"))
    main = page.locator("main")
    expect(main).to_contain_text(gettext_in(es, "A point on the map"))
    expect(main).to_contain_text("Más luz en las paradas de autobús.")
    expect(main).to_contain_text(option_label("age_group", "age_35_44", es))
    page.get_by_role("button", name=gettext_in(es, "Submit my answers"), exact=True).click()
    page.wait_for_url(f"{live_server.url}/es/surveys/{SLUG}/thanks/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(gettext_in(es, "Thank you"))
    expect(main).to_contain_text(_survey_file()["translations"]["es"]["thanks"])
    assert_page_healthy(page)

    # What was stored.
    response = Response.objects.get(survey=survey)
    assert response.language == "es"
    assert response.status == ResponseStatus.SUBMITTED
    assert response.neighbourhood is not None
    assert response.neighbourhood.name == "Central"
    answers = {a.question.key: a.value for a in Answer.objects.filter(response=response)}
    stored_pin = answers["unsafe_place_pin"]["point"]
    assert tuple(stored_pin) == pytest.approx(pin)
    assert_in_tacoma(*stored_pin)
    assert "safe_place_pin" not in answers
    assert answers["rank_goals"] == {"ranking": ["goal_3", "goal_1"]}
    assert answers["top_actions_places"] == {"choices": ["action_1_2"]}
    assert answers["contacted_for_help"] == {"choices": ["city_311"]}
    assert answers["follow_up_opt_in"] == {"choice": "no"}

    # Staff see it on the dashboard, in a browser of their own.
    staff = log_in_as_staff(new_page, live_server.url)
    staff.goto(live_server.url + "/manage/engagement/")
    card = staff.locator("section.card").filter(
        has=staff.get_by_role("heading", name=re.compile(re.escape(survey.title)))
    )
    expect(card).to_contain_text("1 submitted, 0 started but not finished.")
    expect(reach_row_responses(staff, "Central")).to_have_text("1")
    expect(reach_row_responses(staff, "Eastside")).to_have_text("0")
    assert_page_healthy(staff)
    assert_page_healthy(page)


# --- 2. accessibility of every survey page and the safety map ---------------------------------


@pytest.mark.parametrize("language", ["es", "en"])
def test_survey_pages_have_no_serious_accessibility_violations(
    live_server: Any, new_page: Any, survey: Survey, language: str
) -> None:
    page = new_page(locale="es-US" if language == "es" else "en-US", **PHONE)
    start_url = f"{live_server.url}{'' if language == 'en' else '/' + language}/surveys/{SLUG}/"
    page.goto(start_url)
    assert_no_blocking_violations(page, f"the survey start page ({language})")

    section_url = start_survey(page, live_server.url, language)
    base = section_url.removesuffix("1/")
    for number in range(1, SECTION_COUNT + 1):
        expect(page.locator("progress")).to_have_attribute("value", str(number))
        expect(page.locator("html")).to_have_attribute("lang", language)
        if number == 1:
            # Audit the pin maps as drawn, with a pin dropped on one of them.
            wait_for_pin_maps(page)
            page.locator(".pin-map").first.tap()
            expect(page.locator(".pin-map .leaflet-marker-icon")).to_have_count(1)
        if number == 6:
            # The neighbourhood picker map, drawn (it is hidden from assistive technology).
            expect(page.locator(".pick-map path.leaflet-interactive").first).to_be_attached()
        if number == 3:
            # Audit the conditional questions shown as well as hidden.
            assert_no_blocking_violations(page, f"survey page 3, follow-ups hidden ({language})")
            tick(
                question_group(page, "experienced_harm", language),
                option_label("experienced_harm", "physical_violence", language),
            )
            tick(
                question_group(page, "contacted_for_help", language),
                option_label("contacted_for_help", "no_one", language),
            )
            expect(question_group(page, "why_not_contacted", language)).to_be_visible()
        assert_no_blocking_violations(page, f"survey page {number} ({language})")
        assert_page_healthy(page)
        button = "Save and continue" if number < SECTION_COUNT else "Save and review"
        page.get_by_role("button", name=gettext_in(language, button), exact=True).click()
        page.wait_for_url(base + (f"{number + 1}/" if number < SECTION_COUNT else "review/"))

    expect(page.get_by_role("heading", level=1)).to_have_text(
        gettext_in(language, "Check your answers")
    )
    assert_no_blocking_violations(page, f"the review page ({language})")
    assert_page_healthy(page)


@pytest.mark.parametrize("language", ["es", "en"])
def test_safety_map_has_no_serious_accessibility_violations(
    live_server: Any, new_page: Any, published_strategy: None, language: str
) -> None:
    page = new_page(locale="es-US" if language == "es" else "en-US", **PHONE)
    page.goto(f"{live_server.url}{'' if language == 'en' else '/' + language}/map/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    wait_for_comment_map(page)
    assert_no_blocking_violations(page, f"the safety map ({language})")
    assert_page_healthy(page)


# --- 3. the safety map: a pin, moderation, publication ----------------------------------------


def test_resident_drops_a_pin_on_the_safety_map_and_staff_publish_it(
    live_server: Any, new_page: Any, published_strategy: None
) -> None:
    comment = "The bus stop corner is very dark at night"
    phone_number = "253-555-0199"
    page = new_page()
    page.goto(live_server.url + "/map/")
    wait_for_comment_map(page)
    expect(page.locator("#comment-map .leaflet-marker-icon")).to_have_count(0)

    location = page.locator("#id_location")
    expect(location).to_have_value("")
    page.locator("#comment-map").click()  # the middle of the map: inside the city
    expect(page.locator("#pin-status")).to_have_text("Pin placed on the map.")
    expect(location).to_have_value(LON_LAT)
    assert_in_tacoma(*lon_lat(location.input_value()))
    expect(page.locator("#comment-map .leaflet-marker-icon")).to_have_count(1)

    page.get_by_label("What is it about?").select_option(label="Lighting")
    page.get_by_label("Your comment").fill(f"{comment}, call me at {phone_number}")
    page.get_by_role("button", name="Send for review").click()
    page.wait_for_url(live_server.url + "/map/?sent=1")
    expect(page.get_by_role("status")).to_have_text(
        "Thank you. Your comment will appear after review."
    )
    listing = page.locator("ul.comment-list")
    expect(listing).not_to_contain_text(comment)
    expect(page.get_by_role("heading", name="0 published comments")).to_be_visible()
    assert_page_healthy(page)

    stored = MapComment.objects.get()
    assert stored.status == ModerationStatus.PENDING
    assert stored.lon is not None
    assert stored.lat is not None
    assert_in_tacoma(stored.lon, stored.lat)
    assert stored.neighbourhood is not None

    staff = log_in_as_staff(new_page, live_server.url)
    staff.goto(live_server.url + "/manage/engagement/moderation/")
    item = staff.locator("article.card").filter(has_text=comment)
    expect(item).to_have_count(1)
    expect(item.locator("blockquote")).to_contain_text(phone_number)  # as received
    to_publish = item.get_by_label("Text to publish")
    expect(to_publish).to_have_value(re.compile(re.escape(comment)))
    expect(to_publish).not_to_have_value(re.compile(re.escape(phone_number)))
    item.get_by_role("button", name="Publish", exact=True).click()
    staff.wait_for_url(live_server.url + "/manage/engagement/moderation/")
    expect(staff.get_by_text("Published.", exact=True)).to_be_visible()
    expect(staff.locator("article.card").filter(has_text=comment)).to_have_count(0)
    assert_page_healthy(staff)

    page.goto(live_server.url + "/map/")
    expect(page.get_by_role("heading", name="1 published comment")).to_be_visible()
    expect(listing.locator("li")).to_have_count(1)
    expect(listing).to_contain_text(comment)
    expect(listing).to_contain_text("Lighting")
    expect(listing).not_to_contain_text(phone_number)
    expect(listing).not_to_contain_text("555")
    wait_for_comment_map(page)
    # The published pin: a marker, or a cluster icon when markers are grouped.
    expect(page.locator("#comment-map .leaflet-marker-icon").first).to_be_visible()
    assert_page_healthy(page)
    stored.refresh_from_db()
    assert stored.status == ModerationStatus.PUBLISHED


# --- 4. the survey without JavaScript ---------------------------------------------------------


def test_survey_works_without_javascript(live_server: Any, new_page: Any, survey: Survey) -> None:
    en = "en"
    place = "Wright Park near the conservatory"  # no comma: see the next test
    page = new_page(java_script_enabled=False)
    section_url = start_survey(page, live_server.url, en)
    base = section_url.removesuffix("1/")

    # No map: the pin question takes a place described in words.
    expect(page.locator(".pin-map").first).to_be_hidden()
    tick(
        question_group(page, "safety_downtown", en),
        option_label("safety_downtown", "neither", en),
    )
    page.get_by_label(question_text("unsafe_place_pin", en), exact=True).fill(place)
    continue_to(page, en, "/2/")

    tick(
        question_group(page, "help_comes_in_time", en),
        option_label("help_comes_in_time", "somewhat_disagree", en),
    )
    continue_to(page, en, "/3/")

    # Without the script every follow-up question is on the page; answering one that does
    # not apply is not stored.
    tick(
        question_group(page, "experienced_harm", en),
        option_label("experienced_harm", "none_of_these", en),
    )
    tick(
        question_group(page, "contacted_for_help", en),
        option_label("contacted_for_help", "police_911", en),
    )
    continue_to(page, en, "/4/")

    question_group(page, "rank_goals", en).get_by_label(
        stored_option_label("rank_goals", "goal_2"), exact=True
    ).select_option("1")
    continue_to(page, en, "/5/")
    continue_to(page, en, "/6/")
    tick(question_group(page, "home_neighbourhood", en), "Eastside")
    continue_to(page, en, "/7/")
    page.get_by_role("button", name="Save and review", exact=True).click()
    page.wait_for_url(base + "review/")

    expect(page.locator("main")).to_contain_text(place)
    page.get_by_role("button", name="Submit my answers", exact=True).click()
    page.wait_for_url(f"{live_server.url}/surveys/{SLUG}/thanks/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert_page_healthy(page)

    response = Response.objects.get(survey=survey)
    assert response.status == ResponseStatus.SUBMITTED
    assert response.language == "en"
    assert response.neighbourhood is not None
    assert response.neighbourhood.name == "Eastside"
    answers = {a.question.key: a.value for a in Answer.objects.filter(response=response)}
    assert answers["unsafe_place_pin"] == {"place": place}
    assert answers["experienced_harm"] == {"choices": ["none_of_these"]}
    assert answers["rank_goals"] == {"ranking": ["goal_2"]}
    assert "contacted_for_help" not in answers


# A place described in words may contain commas (it is a point only when both parts are numbers).


def test_a_place_described_with_a_comma_is_accepted_without_javascript(
    live_server: Any, new_page: Any, survey: Survey
) -> None:
    place = "S 38th St and Pacific Ave, by the bus stop"
    page = new_page(java_script_enabled=False)
    section_url = start_survey(page, live_server.url, "en")
    page.get_by_label(question_text("safe_place_pin", "en"), exact=True).fill(place)
    page.get_by_role("button", name="Save and continue", exact=True).click()
    page.wait_for_load_state()
    expect(page).to_have_url(section_url.removesuffix("1/") + "2/")
    response = Response.objects.get(survey=survey)
    answer = Answer.objects.get(response=response, question__key="safe_place_pin")
    assert answer.value == {"place": place}
