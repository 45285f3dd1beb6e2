""" "What we heard" in a real browser: the strategy office picks a quote and publishes the
report with the forms alone, and a resident reads it; the public page, with its chart,
tables and quotes, is audited with axe-core.

The data is demo-like: made-up survey responses and the Austin comments from the demo
loader, a small codebook, and machine codes written directly (the coder is not what this
test is about).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from csas.engagement.models import FeedbackItem, ModerationStatus
from csas.insight.models import Code, CodingRun, ItemCode
from csas.strategy.models import Action, Goal, Strategy, StrategyVersion
from tests.browser.test_progress import assert_no_blocking_violations, log_in
from tests.browser.test_public_site import assert_page_healthy
from tests.conftest import make_user

pytestmark = pytest.mark.browser

TITLE = "What we heard: spring listening sessions"
QUOTE = "sidewalks"


@pytest.fixture
def coded_demo(published_strategy: None) -> dict[str, Code]:
    """The demo engagement data, a codebook of the four goals, action 3.6 and a theme, and
    every approved comment given one or two codes in turn."""
    from csas.insight.demo import insight_demo_load

    strategy = Strategy.objects.get()
    insight_demo_load(strategy, responses=150)
    version = StrategyVersion.objects.get(is_published=True)
    codes: dict[str, Code] = {}
    for goal in Goal.objects.filter(version=version).order_by("number"):
        codes[f"goal{goal.number}"] = Code.objects.create(
            strategy=strategy,
            kind="goal",
            key=goal.short_name,
            label=goal.title,
            goal=goal,
            order=goal.number,
        )
    action = Action.objects.get(version=version, slug="3-6")
    codes["action"] = Code.objects.create(
        strategy=strategy,
        kind="action",
        key=action.code,
        label=action.title,
        action=action,
        parent=codes["goal3"],
    )
    codes["theme"] = Code.objects.create(
        strategy=strategy, kind="theme", key="sidewalks", label="Sidewalks and crossings"
    )
    run = CodingRun.objects.create(strategy=strategy)
    cycle = ["goal1", "goal2", "goal3", "action", "goal4", "goal1"]
    items = FeedbackItem.objects.filter(strategy=strategy, status=ModerationStatus.PUBLISHED)
    for index, item in enumerate(items.order_by("pk")):
        keys = {cycle[index % len(cycle)]}
        if QUOTE in item.redacted_text.lower():
            keys |= {"goal1", "theme"}
        for key in keys:
            ItemCode.objects.create(item=item, code=codes[key], origin="machine", run=run)
    return codes


def test_staff_quote_and_publish_and_residents_read_what_we_heard(
    live_server: Any, new_page: Any, coded_demo: dict[str, Code]
) -> None:
    base = live_server.url
    make_user("strategy_staff", username="heard-office")
    office = log_in(new_page, base, "heard-office")

    # A new draft report.
    office.goto(base + "/manage/insight/heard/")
    office.get_by_label("Title").fill(TITLE)
    office.get_by_role("button", name="Create draft").click()
    expect(office.get_by_role("heading", level=1)).to_have_text(f"Report: {TITLE}")
    expect(office.get_by_role("status")).to_contain_text("Draft report created.")

    # The draft is not public.
    visitor: Page = new_page()
    visitor.goto(base + "/what-we-heard/")
    expect(visitor.get_by_text("has not published a report")).to_be_visible()
    expect(visitor.get_by_text(TITLE)).to_have_count(0)

    # Find comments coded to the sidewalks theme and quote a few words of one.
    office.get_by_role("link", name="Find comments to quote").click()
    office.get_by_label("Goal, action or theme").select_option(
        label=f"Theme: sidewalks — {coded_demo['theme'].label}"
    )
    office.get_by_label("Words in the comment (optional)").fill(QUOTE)
    office.get_by_role("button", name="Search").click()
    first = office.locator("article").first
    comment = first.locator("blockquote").inner_text()
    start = comment.lower().index(QUOTE)
    words = comment[start : start + len(QUOTE)]
    first.get_by_label("Words to quote").fill(words)
    first.get_by_role("button", name="Add this quote").click()
    expect(office.get_by_role("status")).to_contain_text("Quote added.")
    assert_page_healthy(office)

    # Back on the report: publish it.
    office.get_by_role("link", name=TITLE).click()
    expect(office.get_by_role("table", name="Chosen quotes")).to_contain_text(words)
    assert_no_blocking_violations(office, "the report's staff page with its preview")
    office.get_by_role("button", name="Publish", exact=True).click()
    expect(office.get_by_role("status")).to_contain_text("Published.")

    # A resident reads it: the chart has its table, the quote is there, nothing blocks a
    # screen reader.
    visitor.goto(base + "/what-we-heard/")
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(visitor.get_by_role("table", name="Comments by goal")).to_be_visible()
    expect(visitor.locator("svg").first).to_be_attached()
    expect(visitor.locator("blockquote").filter(has_text=words).first).to_be_visible()
    expect(
        visitor.get_by_role("heading", name="Who we have and have not heard from")
    ).to_be_visible()
    assert_page_healthy(visitor)
    assert_no_blocking_violations(visitor, "the public What we heard page")

    # The same page in Spanish (strategy content translated, the report's wording not).
    visitor.goto(base + "/es/what-we-heard/")
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert_no_blocking_violations(visitor, "the public What we heard page in Spanish")
