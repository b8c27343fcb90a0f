"""Headless Chromium for browser tests (Playwright's Python package driving Debian's ``chromium``).

Tests using ``page`` skip with a clear message where Chromium is missing (``make test`` installs it as root);
Playwright is a test dependency, so its import failing fails them.
"""

import os
import shutil
import tempfile
import time

import pytest

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="session")
def _playwright():
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium not installed (make test installs Debian's chromium when run as root)")
    # Playwright is pinned in the test extra: a failing import is a broken install and fails here, loudly.
    from playwright.sync_api import sync_playwright
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test are still sync.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The live server imports the views on its first request, as the served application does when it starts
    # (atende.core.asgi): seconds on a busy machine, which a page's first navigation must not spend.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018
    with sync_playwright() as pw:
        yield pw, path


@pytest.fixture(scope="session")
def browser(_playwright):
    pw, path = _playwright
    profile = tempfile.mkdtemp(prefix="atende-chromium-")
    # Playwright manages the profile directory itself; ``profile`` is only scratch space for downloads.
    browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS, downloads_path=profile)
    yield browser
    browser.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def new_page(browser, request):
    """A factory of isolated pages (each its own context: cookies, storage). Closed after the test; with the
    in-process live server, the requests they started are let finish before the database is emptied."""
    contexts = []

    def make(locale: str = "en-US"):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    if "live_server" in request.fixturenames:
        database_quiet()


def database_quiet(timeout: float = 10.0) -> None:
    """Wait until no other session on the test database is running a statement or inside a transaction.

    A request a closed page started (an htmx refresh after a click) may still be running in the live server's
    thread; on PostgreSQL the flush that ends the test (one ``TRUNCATE`` of every table, taking their locks one
    by one) and that request's transaction, holding one table and asking for another, deadlocked."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return  # SQLite's flush waits for the writer's lock like any other write
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND state NOT IN ('idle')")
            if not cursor.fetchone()[0]:
                return
            time.sleep(0.05)


@pytest.fixture
def page(new_page):
    return new_page()
