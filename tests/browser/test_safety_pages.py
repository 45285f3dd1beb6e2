"""The public safety pages in a real browser, audited with axe-core (WCAG 2.2 AA).

A small synthetic year is made, analysed and published with the demo loader; a resident opens
the safety overview, reads the synthetic-data banner, the maps' tables and the time-of-day
table, follows a council district to its page, and finds the same figures there. Both pages
are audited with axe-core and must hold the Content-Security-Policy, with JavaScript on and
off.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils.formats import number_format
from playwright.sync_api import Page, expect

from csas.safetylab.models import SafetyAnalysis
from csas.safetylab.services import safety_demo_load
from csas.strategy.models import Strategy
from tests.browser.test_public_site import assert_page_healthy, format_violations, run_axe

pytestmark = pytest.mark.browser

BANNER = "Synthetic data: not real Tacoma calls."


@pytest.fixture
def demo(published_strategy: None) -> SafetyAnalysis:
    return safety_demo_load(Strategy.objects.get(), calls=2_000, n_boot=10, permutations=99)


def assert_no_axe_violations(page: Page) -> None:
    violations = run_axe(page)
    assert not violations, (
        f"axe-core found WCAG 2.2 AA violations on {page.url}:\n" + format_violations(violations)
    )


def test_safety_overview_and_a_district_page_pass_axe(
    live_server: Any, page: Page, demo: SafetyAnalysis
) -> None:
    page.goto(live_server.url + "/safety/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Safety data: calls for service")
    expect(page.get_by_role("note")).to_contain_text(BANNER)
    calls = number_format(demo.summary["input"]["calls"], force_grouping=True)
    expect(page.locator("#headline-calls")).to_have_text(calls)
    expect(
        page.get_by_role("img", name=re.compile(r"^Council district: calls per 1,000"))
    ).to_be_visible()
    assert_page_healthy(page)
    assert_no_axe_violations(page)

    page.get_by_role("table", name=re.compile(r"^Council district: calls and")).get_by_role(
        "link", name="Council District 3"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Council District 3")
    expect(page.get_by_role("note")).to_contain_text(BANNER)
    expect(page.locator("#months-table tbody tr")).to_have_count(12)
    assert_page_healthy(page)
    assert_no_axe_violations(page)


def test_safety_pages_work_without_javascript(
    live_server: Any, new_page: Any, demo: SafetyAnalysis
) -> None:
    page: Page = new_page(java_script_enabled=False)
    page.goto(live_server.url + "/safety/areas/neighborhood-council-district/West%20End/")
    expect(page.get_by_role("heading", level=1)).to_have_text("West End")
    expect(page.locator("#months-table tbody tr")).to_have_count(12)
    assert_page_healthy(page)
