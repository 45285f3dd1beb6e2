"""Fixtures for the real-browser tests: Debian's chromium driven through Playwright.

One chromium serves all the tests of the module; every test gets a fresh context (cookies, language,
viewport) and a page that records console errors, so CSP violations show up as failures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium for the browser tests (they run one after another, see below).

    Playwright's sync API keeps an asyncio event loop in the test's (main) thread and marks
    it as running between its calls, for as long as Playwright is started. Django's
    async-safety guard sees that loop and refuses every ORM call made from the main thread
    (our fixtures, call_command, pytest-django's flush after each test) with
    SynchronousOnlyOperation, although nothing runs concurrently: the loop only turns while
    a Playwright call is in progress, and the live server answers from its own thread.
    DJANGO_ALLOW_ASYNC_UNSAFE=true turns the guard off, which is safe here.

    The variable is set only while Playwright runs, and Playwright runs only while this
    module's tests do (module scope; pytest-django runs the live-server tests together,
    after the plain database tests). A session-wide browser, or the variable set for the
    whole process, would leak into later tests: tests/test_security.py runs
    `django check --deploy` in a subprocess that inherits the environment and rightly fails
    on async.E001 when the variable is set.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


def _load_strategy_if_missing() -> None:
    from csas.strategy.models import StrategyVersion

    if not StrategyVersion.objects.filter(is_published=True).exists():
        call_command("load_strategy", verbosity=0)


@pytest.fixture(autouse=True)
def published_strategy(transactional_db: Any) -> None:
    """Make sure the bundled strategy is in the database the live server reads.

    The session-wide django_db_setup (tests/conftest.py) loads it once, but the live server
    needs a transactional database, and pytest-django flushes every table after each
    transactional test; from the second browser test on, the data has to be loaded again.
    """
    _load_strategy_if_missing()


@pytest.fixture(scope="module", autouse=True)
def strategy_restored_afterwards(browser: Browser, django_db_blocker: Any) -> Iterator[None]:
    """Leave the database as tests/conftest.py set it up: the last flush emptied it.

    Any transactional test that pytest-django runs after this module then finds the
    bundled strategy, as it would have without the browser tests. (It asks for the browser
    so that its teardown runs first, while DJANGO_ALLOW_ASYNC_UNSAFE is still set.)
    """
    yield
    with django_db_blocker.unblock():
        _load_strategy_if_missing()


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
