"""Burn-up charts in the browser: a goal's, from its row, and the whole forest's Progress page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.test_ui import expect
from tests.support.browser import Watched, new_account, sign_in

pytestmark = [pytest.mark.live, pytest.mark.browser]


def _plan(server: Any, headers: dict[str, str]) -> dict[str, Any]:
    """A goal with ten leaves started 20 days ago, one done a day for the last six days."""
    now = datetime.now(UTC)
    start = (now - timedelta(days=20)).isoformat()
    due = (now + timedelta(days=10)).isoformat()
    status, root = server.json(
        "POST", "/api/v2/goals", {"name": "Garden", "start": start, "due": due}, headers=headers
    )
    assert status == 201, root
    for i in range(10):
        body: dict[str, Any] = {"name": f"Bed {i}", "parent_id": root["id"], "start": start}
        if i < 6:
            body["end"] = (now - timedelta(days=6 - i, hours=1)).isoformat()
        status, made = server.json("POST", "/api/v2/goals", body, headers=headers)
        assert status == 201, made
    return dict(root)


def test_a_goals_burnup_opens_from_its_row_with_the_facts_as_text(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "gardener")
    _plan(server, headers)
    sign_in(watched, name)
    page.get_by_role("button", name="Burn-up of Garden", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Burn-up of “Garden”")).to_be_visible()
    summary = dialog.locator(".burnup-summary")
    expect(summary).to_contain_text("6 of 10 leaf goals done (60%)")
    expect(summary).to_contain_text(re.compile(r"at this pace, done around \d+ \w+"))
    expect(summary).to_contain_text(re.compile(r"\(between \d+( \w+)? and \d+ \w+"))
    expect(summary).to_contain_text("due ")
    # The SVG is labelled by the summary and draws every part of the chart.
    chart = dialog.get_by_role("img")
    expect(chart).to_have_attribute("aria-labelledby", re.compile(".+"))
    for part in ("scope", "done", "forecast", "band", "due"):
        expect(chart.locator(f".{part}")).to_have_count(1)
    watched.shot("burnup", clear_notices=True)
    # The numbers, as a table, for keyboard and screen-reader users.
    dialog.get_by_text("The numbers").click()
    table = dialog.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(1 + 21)
    # Weekly buckets redraw it.
    dialog.get_by_label("Buckets").select_option("week")
    expect(table.get_by_role("row")).to_have_count(1 + 3)
    dialog.get_by_role("button", name="Close").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Burn-up of Garden", exact=True)).to_be_focused()


def test_the_progress_page_charts_the_whole_forest(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "forester")
    _plan(server, headers)
    status, _ = server.json("POST", "/api/v2/goals", {"name": "Idle"}, headers=headers)
    assert status == 201
    sign_in(watched, name)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Progress").click()
    expect(page.get_by_role("heading", name="Progress", level=1)).to_be_visible()
    summary = page.locator(".burnup-summary")
    expect(summary).to_contain_text("Burn-up of all your goals: 6 of 11 leaf goals done (54%)")
    expect(page.get_by_role("img").locator(".forecast")).to_have_count(1)
    expect(page.get_by_role("img").locator(".due")).to_have_count(0)
