"""Coding feedback in a real browser, without JavaScript: a member of the strategy office
signs in, syncs the codebook with the strategy, runs the coding, corrects the first comment
in the review queue and reads the agreement page. Each coding page is then audited with
axe-core.

The helpers (script-error checks, the axe-core audit) come from test_public_site.py; the
fixtures (one chromium, a fresh context per page, console errors recorded) from conftest.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from csas.engagement.models import FeedbackItem
from csas.insight.models import ItemCode, Review
from csas.strategy.models import Strategy
from tests.browser.test_progress import assert_no_blocking_violations, log_in
from tests.browser.test_public_site import assert_page_healthy
from tests.conftest import make_user

pytestmark = pytest.mark.browser

COMMENTS = [
    "The street lights are out and the sidewalk is broken on our block.",
    "When I called the police it took an hour for an officer to come.",
    "Youth programs after school and mentoring for teenagers would help.",
    "Loud music from the bar every night keeps the whole street awake.",
]
# Comments no code covers: the candidate themes page groups them.
UNCOVERED = [
    "The bar plays loud music until three in the morning every night",
    "Noise from loud music at the bar on our street every night",
    "Barking dogs next door bark all day and all night long",
    "The neighbours barking dogs never stop barking all day",
    "Barking dogs in the yard next door bark day and night",
]
CODING = "/manage/insight/coding/"


@pytest.fixture
def comments(published_strategy: None) -> list[FeedbackItem]:
    strategy = Strategy.objects.get(slug="tacoma-csas")
    return [
        FeedbackItem.objects.create(
            strategy=strategy, source="import", text=text, redacted_text=text, status="published"
        )
        for text in COMMENTS
    ]


def test_staff_code_feedback_and_correct_a_suggestion_without_javascript(
    live_server: Any, new_page: Any, comments: list[FeedbackItem]
) -> None:
    base = live_server.url
    staff = make_user("strategy_staff", username="coding-staff")
    page: Page = log_in(lambda: new_page(java_script_enabled=False), base, staff.username)

    page.goto(base + CODING)
    expect(page.get_by_role("heading", level=1)).to_have_text("Coding feedback to the strategy")
    expect(page.get_by_text("The codebook is empty.")).to_be_visible()
    page.get_by_role("button", name="Sync the codebook with the strategy").click()
    expect(page.get_by_role("status")).to_contain_text("34 codes added")
    codes = page.get_by_role("table", name="Codes of the codebook")
    expect(codes.get_by_role("row").filter(has_text="Community REPAIR")).to_have_count(1)

    page.get_by_role("button", name="Run coding").click()
    expect(page.get_by_role("status")).to_contain_text(f"Coded {len(COMMENTS)} comments")
    assert_page_healthy(page)

    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Comment 1 of {len(COMMENTS)}")
    repair = page.get_by_role("checkbox", name="REPAIR Community REPAIR")
    if repair.is_checked():
        repair.uncheck()
    else:
        repair.check()
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_role("status")).to_contain_text("Review saved.")
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Comment 1 of {len(COMMENTS) - 1}")

    review = Review.objects.get()
    assert review.coder == staff
    assert review.decision == "corrected"
    human = set(
        ItemCode.objects.filter(item=review.item, origin="human").values_list(
            "code__key", flat=True
        )
    )
    machine = set(
        ItemCode.objects.filter(item=review.item, origin="machine").values_list(
            "code__key", flat=True
        )
    )
    assert human ^ machine == {"REPAIR"}

    page.get_by_role("link", name="Agreement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agreement between coders")
    expect(page.get_by_text("Not enough items").first).to_be_visible()
    assert_page_healthy(page)


def test_coding_pages_have_no_serious_accessibility_violations(
    live_server: Any, new_page: Any, comments: list[FeedbackItem]
) -> None:
    from csas.insight.coding_services import codebook_sync_from_strategy, coding_run_start

    strategy = Strategy.objects.get(slug="tacoma-csas")
    for text in UNCOVERED:
        FeedbackItem.objects.create(
            strategy=strategy, source="import", text=text, redacted_text=text, status="pending"
        )
    codebook_sync_from_strategy(strategy=strategy)
    coding_run_start(strategy=strategy)
    staff = make_user("strategy_staff", username="coding-auditor")
    page: Page = log_in(new_page, live_server.url, staff.username)
    for path, what in [
        ("", "the codebook page"),
        ("queue/", "the review queue"),
        ("agreement/", "the agreement page"),
        ("themes/", "the candidate themes page"),
    ]:
        page.goto(live_server.url + CODING + path)
        assert_page_healthy(page)
        assert_no_blocking_violations(page, what)
    expect(page.get_by_role("button", name="Promote group 1 to the codebook")).to_be_visible()
