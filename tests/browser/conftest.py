"""Fixtures for the real-browser tests: Debian's chromium driven through Playwright.

The browser is started once per session; every test gets a fresh context (cookies, language,
viewport) and a page that records console errors, so CSP violations show up as failures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

# Playwright's sync API drives the browser from an asyncio event loop that it keeps in the
# test's (main) thread. Django's async-safety guard sees that running loop and refuses ORM
# calls made from the same thread (our fixtures, call_command, the test database teardown)
# with SynchronousOnlyOperation, although nothing here runs concurrently: the sync API only
# turns the loop while a Playwright call is in progress. Allowing "async-unsafe" operations
# is therefore safe for this test process and required for it to work.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, ConsoleMessage, Page, Response, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def published_strategy(transactional_db: Any) -> None:
    """Make sure the bundled strategy is in the database the live server reads.

    The session-wide django_db_setup (tests/conftest.py) loads it once, but the live server
    needs a transactional database, and pytest-django flushes every table after each
    transactional test; from the second browser test on, the data has to be loaded again.
    """
    from csas.strategy.models import StrategyVersion

    if not StrategyVersion.objects.filter(is_published=True).exists():
        call_command("load_strategy", verbosity=0)


def _record_problems(page: Page) -> Page:
    """Keep what went wrong on the page: console errors, uncaught exceptions, failed loads.

    The lists are read by the helpers in test_public_site.py.
    """
    console_errors: list[str] = []
    page_errors: list[str] = []
    failed_subresources: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(f"{page.url}: {message.text}")

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            failed_subresources.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: page_errors.append(f"{page.url}: {error}"))
    page.on("response", on_response)
    page.console_errors = console_errors  # type: ignore[attr-defined]
    page.page_errors = page_errors  # type: ignore[attr-defined]
    page.failed_subresources = failed_subresources  # type: ignore[attr-defined]
    return page


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Any]:
    """Factory: new_page(**context_options) opens a page in a fresh browser context."""
    contexts = []

    def make(**options: Any) -> Page:
        options.setdefault("locale", "en-US")
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return _record_problems(context.new_page())

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Any) -> Page:
    return new_page()
