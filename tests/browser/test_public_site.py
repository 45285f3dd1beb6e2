"""The public site in a real browser (Debian's chromium through Playwright).

These tests click through the site as a resident would, audit every public page type with
axe-core, and check the things only a browser can tell: the Content-Security-Policy holds,
the Leaflet map draws its polygons with no tile server, the site works with JavaScript off,
and nothing overflows a phone-sized screen.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

AXE_JS = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

NEIGHBORHOOD_COUNCIL_DISTRICTS = {
    "West End",
    "North East",
    "North End",
    "Central",
    "South Tacoma",
    "South End",
    "Eastside",
    "New Tacoma",
}
MAP_PATHS = "#district-map path.leaflet-interactive"
# The first layer (neighborhood council districts) is the one map.js adds to the map; it is
# drawn in the first colour of map.js's palette.
FIRST_LAYER_COLOUR = "#1d4f91"


# --- helpers --------------------------------------------------------------------------------


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def assert_page_healthy(page: Page) -> None:
    """No CSP violation, no uncaught script error, no stylesheet/script/data that failed to load.

    The browser's own request for /favicon.ico is ignored: the site does not link one.
    """
    problems = []
    csp = [e for e in page.console_errors if "content security policy" in e.lower()]  # type: ignore[attr-defined]
    if csp:
        problems.append("Content-Security-Policy violations:\n  " + "\n  ".join(csp))
    if page.page_errors:  # type: ignore[attr-defined]
        problems.append("uncaught script errors:\n  " + "\n  ".join(page.page_errors))  # type: ignore[attr-defined]
    failed = [f for f in page.failed_subresources if not f.endswith("/favicon.ico")]  # type: ignore[attr-defined]
    if failed:
        problems.append("subresources that failed to load:\n  " + "\n  ".join(failed))
    assert not problems, "\n".join(problems)


def run_axe(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page and return its violations.

    Playwright's add_script_tag inserts an inline <script>, which the site's CSP
    (script-src 'self') rightly blocks. Evaluating the source through the DevTools protocol
    is not subject to the page's CSP, so the audit runs against the page exactly as served.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations",
        AXE_TAGS,
    )


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" [{violation['helpUrl']}]"
        )
        for node in violation["nodes"]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)


def wait_for_map(page: Page) -> None:
    """Wait until map.js has drawn polygons and finished loading every layer."""
    expect(page.locator(MAP_PATHS).first).to_be_attached()
    # The layers control is added once every layer's GeoJSON has been fetched.
    expect(page.locator("#district-map .leaflet-control-layers")).to_be_attached()


# --- 1. a resident's journey in Spanish -------------------------------------------------------


def test_resident_switches_to_spanish_and_follows_goal_to_action(
    live_server: Any, page: Page
) -> None:
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("ol.cards > li.card")).to_have_count(4)

    languages = page.locator("header nav.languages")
    languages.get_by_role("link", name="Español", exact=True).click()
    page.wait_for_url(re.compile(r"/es/"))
    assert path_of(page).startswith("/es/"), page.url
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("ol.cards > li.card")).to_have_count(4)
    expect(languages.locator('a[lang="es"]')).to_have_attribute("aria-current", "true")

    # Only when the Spanish catalogue translates "Home" can the navigation show it; the
    # catalogues are being filled in, so an untranslated string is not a failure.
    with translation.override("es"):
        spanish_home = translation.gettext("Home")
    if spanish_home != "Home":
        home_link = page.locator("header ul.nav > li").first.get_by_role("link")
        expect(home_link).to_have_text(spanish_home)
        assert home_link.inner_text().strip() != "Home"

    page.locator("ol.cards > li.card").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/es/goals/\d+/$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("main h1")).not_to_be_empty()

    page.locator("ul.action-list > li").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/es/actions/[\w-]+/$"))
    assert path_of(page).startswith("/es/"), page.url
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("main h1")).not_to_be_empty()
    status = page.locator("main dl.facts .status")
    expect(status).to_be_visible()
    expect(status).not_to_be_empty()
    assert_page_healthy(page)


# --- 2. accessibility audit of every public page type ----------------------------------------

PUBLIC_PAGES = [
    pytest.param("/", 200, id="home"),
    pytest.param("/goals/1/", 200, id="goal"),
    pytest.param("/actions/3-6/", 200, id="action"),
    pytest.param("/plan/", 200, id="plan"),
    pytest.param("/progress/", 200, id="progress"),
    pytest.param("/changes/", 200, id="changes"),
    pytest.param("/partners/", 200, id="partners"),
    pytest.param("/surveys/", 200, id="have-your-say"),
    pytest.param("/neighborhoods/", 200, id="neighborhoods"),
    pytest.param("/accounts/login/", 200, id="login"),
    pytest.param("/no-such-page/", 404, id="not-found"),
    pytest.param("/es/", 200, id="spanish-home"),
]


@pytest.mark.parametrize(("url", "status"), PUBLIC_PAGES)
def test_public_page_has_no_serious_accessibility_violations(
    live_server: Any, page: Page, url: str, status: int
) -> None:
    response = page.goto(live_server.url + url)
    assert response is not None
    assert response.status == status, f"{url} answered {response.status}"
    assert_page_healthy(page)
    if url == "/neighborhoods/":
        # Audit the map as a resident meets it: with its polygons drawn (no tile server).
        wait_for_map(page)
        assert page.locator(MAP_PATHS).count() > 0

    violations = run_axe(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe-core found serious or critical WCAG violations on {url}:\n"
        + format_violations(blocking)
    )
    assert_page_healthy(page)


# --- 3. the district map ---------------------------------------------------------------------


def test_neighborhood_map_draws_eight_districts_without_tiles_and_lists_them(
    live_server: Any, page: Page
) -> None:
    page.goto(live_server.url + "/neighborhoods/")
    assert_page_healthy(page)
    wait_for_map(page)

    map_element = page.locator("#district-map")
    expect(map_element).to_have_attribute("data-tiles", "")
    expect(map_element).to_have_class(re.compile(r"\bno-tiles\b"))
    expect(map_element).not_to_have_class(re.compile(r"\bmap-error\b"))
    expect(page.locator("#district-map .leaflet-tile")).to_have_count(0)
    # Only the first (default-on) layer is on the map when the page opens.
    expect(page.locator(MAP_PATHS)).to_have_count(8)
    expect(page.locator(f'{MAP_PATHS}[stroke="{FIRST_LAYER_COLOUR}"]')).to_have_count(8)

    # The list is the map's text alternative.
    listed = page.locator('section[aria-labelledby="layer-neighborhood-council-districts"] ul > li')
    expect(listed).to_have_count(8)
    names = {name.strip() for name in listed.all_inner_texts()}
    assert names == NEIGHBORHOOD_COUNCIL_DISTRICTS
    assert_page_healthy(page)


# --- 4. no JavaScript --------------------------------------------------------------------------


def test_site_works_without_javascript(live_server: Any, new_page: Any) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(live_server.url + "/")
    expect(page.locator("ol.cards > li.card")).to_have_count(4)

    page.locator("ol.cards > li.card").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/goals/\d+/$"))
    expect(page.locator("main h1")).not_to_be_empty()

    page.locator("ul.action-list > li").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/actions/[\w-]+/$"))
    expect(page.locator("main h1")).not_to_be_empty()
    expect(page.locator("main dl.facts .status")).to_be_visible()

    page.goto(live_server.url + "/plan/")
    chart = page.locator("figure.gantt svg")
    expect(chart).to_be_visible()
    expect(chart.locator("g.gantt-bar").first).to_be_attached()
    table = page.get_by_role("table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first).to_be_visible()
    assert table.locator("tbody tr").count() == chart.locator("g.gantt-bar").count()

    page.goto(live_server.url + "/neighborhoods/")
    expect(page.locator("#district-map noscript")).to_be_attached()
    expect(
        page.locator('section[aria-labelledby="layer-neighborhood-council-districts"] ul > li')
    ).to_have_count(8)
    assert_page_healthy(page)


# --- 5. small screens ----------------------------------------------------------------------


def test_home_page_does_not_overflow_a_small_phone_screen(live_server: Any, new_page: Any) -> None:
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(live_server.url + "/")
    assert_page_healthy(page)
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width + 1, (
        f"the home page is {scroll_width}px wide in a {inner_width}px viewport"
    )


# --- 6. scripts the device may lack -----------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "family", "font_file", "sample"),
    [
        ("km", "csas Khmer", "noto-sans-khmer-400", "\u1780"),  # KA
        ("ko", "csas Korean", "nanum-gothic-korean-400", "\uac00"),  # GA
    ],
)
def test_khmer_and_korean_pages_load_the_shipped_font_where_the_device_has_none(
    live_server: Any, new_page: Any, language: str, family: str, font_file: str, sample: str
) -> None:
    # Debian's chromium here has no Khmer or Korean font installed (as some older phones and
    # desktops): the page must fetch csas's own rather than print boxes.
    page = new_page()
    fonts: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda response: (
            fonts.append((urlsplit(response.url).path, response.status))
            if "/vendor/fonts/" in response.url
            else None
        ),
    )
    page.goto(live_server.url + f"/{language}/")
    page.evaluate("() => document.fonts.ready")
    assert_page_healthy(page)
    assert page.evaluate(
        '([family, sample]) => document.fonts.check(`16px "${family}"`, sample)',
        [family, sample],
    )
    assert [status for path, status in fonts if path.endswith(f"/{font_file}.woff2")] == [200]


def test_a_page_in_another_language_fetches_only_the_hangul_of_the_language_menu(
    live_server: Any, new_page: Any
) -> None:
    # Every page names Korean in Hangul in its language menu: a device without a Korean font
    # fetches a three-letter cut of the font for it, not the whole font (340 KB).
    page = new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(urlsplit(request.url).path))
    page.goto(live_server.url + "/")
    page.evaluate("() => document.fonts.ready")
    assert_page_healthy(page)
    fonts = [path.rsplit("/", 1)[-1] for path in fetched if "/vendor/fonts/" in path]
    assert "nanum-gothic-korean-400-names.woff2" in fonts
    assert "nanum-gothic-korean-400.woff2" not in fonts
    assert page.evaluate(
        "() => document.fonts.check('16px \"csas Korean names\"', '\ud55c\uad6d\uc5b4')"
    )
