"""Quarterly updates in a real browser: an update goes from draft to published on the public
action page, each step by the person the workflow names.

A police department editor writes an update for the open reporting period and saves a draft
(which the public does not see), then sends it for review; a second editor of the department
reviews it; the strategy office approves it, which publishes it; an anonymous visitor then
reads its status and narrative on the action page. "My updates" and the public action page are
audited with axe-core.

The helpers (script-error checks, the axe-core audit) come from test_public_site.py; the
fixtures (one chromium, a fresh context per page, console errors recorded) from conftest.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from csas.progress.demo import DUE_AFTER_QUARTER_END, Quarter
from csas.progress.models import ActionOwner, ActionUpdate, ReportingPeriod, UpdateEvent
from csas.strategy.models import Action, Department, StrategyVersion
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

ACTION_SLUG = "3-6"
NARRATIVE = "Crisis response pilot started in two council districts; four responders hired."
NO_UPDATE_YET = "No progress update has been published for this action yet."


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def action(published_strategy: None) -> Action:
    """Action 3.6, led by the police department for the test (the Tacoma file assigns no
    lead departments)."""
    action = Action.objects.get(version__is_published=True, slug=ACTION_SLUG)
    action.lead_department = Department.objects.get(slug="tpd")
    action.save()
    return action


@pytest.fixture
def open_period(action: Action) -> ReportingPeriod:
    """The reporting period of the current quarter: the only one, so each action has one
    "Write" link."""
    quarter = Quarter.of(timezone.localdate())
    version = StrategyVersion.objects.get(is_published=True)
    return ReportingPeriod.objects.create(
        strategy=version.strategy,
        label=quarter.label,
        starts_on=quarter.starts_on,
        ends_on=quarter.ends_on,
        due_on=quarter.ends_on + DUE_AFTER_QUARTER_END,
    )


# --- helpers ----------------------------------------------------------------------------------


def log_in(new_page: Any, base_url: str, username: str) -> Page:
    """Sign in through the login form, in a browser context of its own."""
    page: Page = new_page()
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def open_my_updates(page: Page, base_url: str) -> None:
    page.goto(base_url + "/manage/updates/")
    expect(page.get_by_role("heading", name="My quarterly updates", level=1)).to_be_visible()


def assert_no_blocking_violations(page: Page, what: str) -> None:
    violations = run_axe(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe-core found serious or critical WCAG violations on {what} ({path_of(page)}):\n"
        + format_violations(blocking)
    )


def assert_not_public_yet(new_page: Any, base_url: str) -> None:
    """An anonymous visitor sees no update on the action page, and none of its words."""
    visitor: Page = new_page()
    visitor.goto(f"{base_url}/actions/{ACTION_SLUG}/")
    progress = visitor.get_by_role("region", name="Progress")
    expect(progress).to_contain_text(NO_UPDATE_YET)
    expect(visitor.get_by_text(NARRATIVE)).to_have_count(0)


# --- the walk ---------------------------------------------------------------------------------


def test_an_update_goes_from_draft_to_the_public_action_page(
    live_server: Any, new_page: Any, action: Action, open_period: ReportingPeriod
) -> None:
    base = live_server.url
    author = make_user("department_editor", username="tpd-author")
    colleague = make_user("department_editor", username="tpd-colleague")
    office = make_user("strategy_staff", username="office-staff")
    ActionOwner.objects.create(action=action, user=author)

    # The owner writes the update for the open period and saves a draft.
    page = log_in(new_page, base, author.username)
    open_my_updates(page, base)
    write = page.get_by_role("region", name="Write an update")
    write.locator("tr").filter(has_text=action.title).get_by_role("link", name="Write").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Update on {action.code}, {open_period.label}"
    )
    page.get_by_label("Status").select_option(label="On track")
    page.get_by_label("What happened this quarter").fill(NARRATIVE)
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(base + "/manage/updates/")
    expect(page.get_by_role("status")).to_contain_text("Draft saved.")
    assert_page_healthy(page)

    # A draft is not public.
    assert_not_public_yet(new_page, base)

    # "My updates" lists the draft with its next step; nothing on it blocks a screen reader.
    waiting = page.get_by_role("region", name="Waiting for me")
    row = waiting.locator("tr").filter(has_text=action.title)
    expect(row).to_contain_text("Draft")
    assert_no_blocking_violations(page, "My updates with a draft")

    # The owner opens the draft again, finds it as saved, and sends it for review.
    row.get_by_role("link", name="Edit and send").click()
    expect(page.get_by_label("What happened this quarter")).to_have_value(NARRATIVE)
    expect(page.get_by_label("Status")).to_have_value("on_track")
    page.get_by_role("button", name="Send for department review").click()
    page.wait_for_url(base + "/manage/updates/")
    expect(page.get_by_role("status")).to_contain_text("Update sent for department review.")
    # The author cannot review their own update.
    row = (
        page.get_by_role("region", name="Waiting for me")
        .locator("tr")
        .filter(has_text=action.title)
    )
    expect(row).to_contain_text("Department review")
    expect(row).to_contain_text("Waiting for someone else")
    expect(row.get_by_role("button")).to_have_count(0)
    assert_not_public_yet(new_page, base)

    # A second editor of the department reviews it.
    reviewer_page = log_in(new_page, base, colleague.username)
    open_my_updates(reviewer_page, base)
    reviewer_row = (
        reviewer_page.get_by_role("region", name="Waiting for me")
        .locator("tr")
        .filter(has_text=action.title)
    )
    reviewer_row.get_by_role("button", name="Reviewed: send to the strategy office").click()
    reviewer_page.wait_for_url(base + "/manage/updates/")
    expect(reviewer_page.get_by_role("status")).to_contain_text("Done.")
    assert_page_healthy(reviewer_page)
    assert_not_public_yet(new_page, base)

    # The strategy office approves it, which publishes it.
    office_page = log_in(new_page, base, office.username)
    open_my_updates(office_page, base)
    office_queue = office_page.get_by_role("region", name="Waiting for the strategy office")
    expect(office_queue).to_contain_text(NARRATIVE)
    office_queue.get_by_role("button", name="Approve and publish").click()
    office_page.wait_for_url(base + "/manage/updates/")
    expect(office_page.get_by_role("status")).to_contain_text("Done.")
    expect(office_page.get_by_role("region", name="Waiting for the strategy office")).to_have_count(
        0
    )
    assert_page_healthy(office_page)

    # Anyone now reads the update on the public action page.
    visitor: Page = new_page()
    visitor.goto(f"{base}/actions/{ACTION_SLUG}/")
    progress = visitor.get_by_role("region", name="Progress")
    expect(progress).to_contain_text("On track")
    expect(progress).to_contain_text(f"update for {open_period.label}")
    expect(progress).to_contain_text(NARRATIVE)
    expect(progress).not_to_contain_text(NO_UPDATE_YET)
    assert_page_healthy(visitor)
    assert_no_blocking_violations(visitor, "the public action page with a published update")

    # Every step is on record, each by the person who took it.
    update = ActionUpdate.objects.get(action=action, period=open_period)
    assert update.state == "published"
    assert [
        (event.from_state, event.to_state, event.by.username)
        for event in UpdateEvent.objects.filter(update=update).select_related("by")
    ] == [
        ("draft", "department_review", author.username),
        ("department_review", "office_approval", colleague.username),
        ("office_approval", "published", office.username),
    ]


def test_my_updates_shows_the_write_table_without_serious_violations(
    live_server: Any, new_page: Any, action: Action, open_period: ReportingPeriod
) -> None:
    """The page an editor lands on before writing anything: the queue is empty."""
    editor = make_user("department_editor", username="tpd-editor")
    page = log_in(new_page, live_server.url, editor.username)
    open_my_updates(page, live_server.url)
    expect(page.get_by_role("region", name="Waiting for me")).to_contain_text(
        "Nothing waits for you."
    )
    write = page.get_by_role("region", name="Write an update")
    expect(write.get_by_role("columnheader", name=open_period.label)).to_be_visible()
    expect(write.locator("tr").filter(has_text=re.compile(re.escape(action.title)))).to_have_count(
        1
    )
    assert_page_healthy(page)
    assert_no_blocking_violations(page, "My updates before any update")


# --- the accountability pages, with the demo's implementation data -------------------------


def test_accountability_pages_with_data_have_no_serious_accessibility_violations(
    live_server: Any, page: Page, published_strategy: None
) -> None:
    """Indicators (with charts), reports, the data page and "you said, we did", each with
    content to audit: the demo's periods, published updates and indicator values, and one
    published theme."""
    from csas.accounts.models import Role
    from csas.progress.demo import DemoUsers, demo_implementation_load
    from csas.progress.models import Indicator, YouSaidWeDid
    from csas.strategy.models import Strategy

    strategy = Strategy.objects.get(slug="tacoma-csas")
    demo_implementation_load(
        strategy,
        users=DemoUsers(
            editor=make_user(Role.DEPARTMENT_EDITOR, username="a11y-editor"),
            reviewer=make_user(Role.DEPARTMENT_EDITOR, username="a11y-reviewer"),
            office=make_user(Role.STRATEGY_STAFF, username="a11y-office"),
        ),
    )
    theme = YouSaidWeDid.objects.create(
        strategy=strategy,
        slug="faster-help",
        theme="Help should come faster after dark",
        what_we_heard="Residents said help takes too long at night.",
        what_we_did="Evening coverage of the crisis response pilot.",
        is_published=True,
    )
    theme.actions.add(Action.objects.get(version__is_published=True, slug=ACTION_SLUG))
    charted = Indicator.objects.filter(observations__isnull=False).distinct().first()
    assert charted is not None
    period = ReportingPeriod.objects.filter(updates__state="published").order_by("starts_on")[0]

    pages = [
        "/indicators/",
        f"/indicators/{charted.slug}/",
        "/reports/",
        f"/reports/{period.pk}/",
        f"/reports/annual/{period.starts_on.year}/",
        "/data/",
        "/you-said-we-did/",
        f"/actions/{ACTION_SLUG}/",
        "/progress/",
        f"/es/reports/{period.pk}/",
    ]
    for url in pages:
        response = page.goto(live_server.url + url)
        assert response is not None
        assert response.status == 200, f"{url} answered {response.status}"
        assert_page_healthy(page)
        violations = run_axe(page)
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, (
            f"axe-core found serious or critical WCAG violations on {url}:\n"
            + format_violations(blocking)
        )
    # The charts on these pages each come with a table of the same figures.
    page.goto(live_server.url + f"/indicators/{charted.slug}/")
    assert page.locator("svg[role=img]").count() >= 1
    assert page.locator("table").count() >= 1
