"""The browser UI's test helpers: a watched page, accounts, and the sign-in steps.

Set OVERACHIEVER_SCREENSHOTS=docs/screenshots to save the screenshots the README shows.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .accounts import basic
from .liveserver import Server

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "browser-pass-1"
# Chromium logs every HTTP error answer as a console error; a test names the ones it provokes.
_FAILED_RESOURCE = re.compile(r"status of (\d{3})")
# Records CSP violations in the page (they are also console errors; this keeps their details).
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@dataclass
class Watched:
    """A page and what it did: console errors, requests to other hosts, provoked statuses."""

    page: Any
    server: Server
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)
    allowed_hosts: set[str] = field(default_factory=set)

    def expect_status(self, *statuses: int) -> None:
        """Allow the console errors Chromium logs for these API answers (provoked on purpose)."""
        self.allowed_statuses.update(statuses)

    def unexpected_errors(self) -> list[str]:
        """Console errors other than the answers this test provoked on purpose."""
        errors = []
        for text in self.console_errors:
            match = _FAILED_RESOURCE.search(text)
            provoked = match and "Failed to load resource" in text
            if provoked and int(match.group(1)) in self.allowed_statuses:
                continue
            errors.append(text)
        return errors

    def shot(self, name: str, clear_notices: bool = False) -> None:
        """Save a screenshot for the README when OVERACHIEVER_SCREENSHOTS names a folder."""
        folder = os.environ.get("OVERACHIEVER_SCREENSHOTS")
        if not folder:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        if clear_notices:
            self.page.evaluate("document.getElementById('notices').replaceChildren()")
        self.page.screenshot(path=str(Path(folder) / f"{name}.png"))


_names = iter(range(1, 1_000_000))


def new_account(server: Server, prefix: str) -> tuple[str, dict[str, str]]:
    """Sign up a fresh user through the API; returns the name and Bearer headers."""
    name = f"{prefix}-{next(_names)}"
    return name, server.signup(name, PASSWORD)


def sign_in(seen: Watched, login: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form and wait for the goals page."""
    page = seen.page
    page.goto(seen.server.base_url + "/#/signin")
    page.get_by_label("Name or e-mail").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_until_idle(page)


def wait_until_idle(page: Any) -> None:
    """Wait until the goals page has read the forest and rendered it."""
    page.locator('section.goals[aria-busy="false"]').wait_for(state="attached")


def api_token(server: Server, name: str) -> dict[str, str]:
    """Bearer headers for a new token of an existing user."""
    status, body = server.json("POST", "/api/v2/tokens", headers=basic(name, PASSWORD))
    assert status == 201, body
    return {"Authorization": f"Bearer {body['token']}"}
