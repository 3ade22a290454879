"""Fixtures for the browser UI's tests: a live server and Debian's Chromium (Playwright).

Every page records its console errors, CSP violations and the hosts it contacted; a test fails
if the page logged an error it did not expect, or asked any host but the server.
Set OVERACHIEVER_SCREENSHOTS=docs/screenshots to save the screenshots the README shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.browser import CHROMIUM_ARGS, CSP_WATCH, PASSWORD, Watched
from tests.support.liveserver import LiveDatabases, Server, require_executable, start_server


@pytest.fixture(scope="module")
def chromium_path() -> str:
    """Debian's Chromium: skipped without it on a developer machine, a failure in CI."""
    path = require_executable("chromium")
    pytest.importorskip("playwright.sync_api")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Server]:
    """One live server for a module's browser tests; its first account is the administrator."""
    folder = tmp_path_factory.mktemp("ui-server")
    databases = LiveDatabases()
    srv = start_server(
        folder,
        databases.new_url(folder),
        args=["--workers", "2"],
        env={"OVERACHIEVER_LOGIN_LIMIT": "10000/minute"},
    )
    try:
        srv.signup("root-admin", PASSWORD)
        yield srv
    finally:
        srv.stop()
        databases.drop_all()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium per module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()


@contextmanager
def watched_context(browser: Any, server: Server) -> Iterator[Watched]:
    """A fresh browser context (empty sessionStorage) whose page is watched for errors.

    Several at once are several people side by side, each in their own context.
    """
    context = browser.new_context(viewport={"width": 1200, "height": 760}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.add_init_script(CSP_WATCH)
    seen = Watched(page, server, allowed_hosts={urlsplit(server.base_url).netloc})

    def on_console(message: Any) -> None:
        if message.type == "error":
            seen.console_errors.append(message.text)

    def on_request(request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob") and parts.netloc not in seen.allowed_hosts:
            seen.foreign_requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.console_errors.append(f"uncaught: {error}"))
    page.on("request", on_request)
    try:
        yield seen
        violations = page.evaluate("window.__cspViolations || []")
        assert violations == [], violations
        assert seen.unexpected_errors() == []
        assert seen.foreign_requests == []
    finally:
        context.close()


@pytest.fixture
def watched(browser: Any, server: Server) -> Iterator[Watched]:
    """A fresh browser context (empty sessionStorage) whose page is watched for errors."""
    with watched_context(browser, server) as seen:
        yield seen
