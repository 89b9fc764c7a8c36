"""Debian's Chromium driven by Playwright, for the tests that need a browser.

Every ``page`` comes with a warmed server: the live server runs in this
process, so importing every view and reading the code hierarchy here spares
the browser's first request both (tens of seconds on a busy machine, past
any sane timeout). The views are imported once a session; the hierarchy
is read when the test restores a code set (its ``code_set`` fixture) and
costs nothing while the release is unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import suppress

import pytest
from django.urls import get_resolver
from playwright.sync_api import Browser, Page, expect, sync_playwright

from coding_app.codes.store import CodeSetNotLoaded, current_hierarchy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A page's actions and assertions wait this long (a shared test machine is
# slow to draw); Playwright's own assertion default is 5 s.
ACTION_TIMEOUT_MS = 15_000
EXPECT_TIMEOUT_MS = 10_000
PLAYWRIGHT_EXPECT_DEFAULT_MS = 5_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the tests make around it are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def views_imported() -> None:
    """Every view imported, as the live server's first request would."""
    assert get_resolver().url_patterns


@pytest.fixture
def server_warmed(request: pytest.FixtureRequest, views_imported: None) -> None:
    """The views imported and, where the test has a code set, its hierarchy
    read into the cache the live server reads too."""
    if "code_set" not in request.fixturenames:
        return
    request.getfixturevalue("code_set")  # restored before it is read
    blocker = request.getfixturevalue("django_db_blocker")
    # Without a loaded code set the pages say so; nothing to read then.
    with blocker.unblock(), suppress(CodeSetNotLoaded):
        current_hierarchy()


@pytest.fixture
def page(browser: Browser, server_warmed: None) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    yield page
    expect.set_options(timeout=PLAYWRIGHT_EXPECT_DEFAULT_MS)
    context.close()
