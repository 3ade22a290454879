"""Goals in and out in the browser: the Export dialog, "Paste a list", and the Calendar page."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from tests.e2e.test_ui import expect, goals_by_name, row
from tests.support.browser import Watched, new_account, sign_in, wait_until_idle
from tests.support.liveserver import Server

pytestmark = [pytest.mark.live, pytest.mark.browser]


def import_goals(server: Server, headers: dict[str, str], body: Any) -> list[int]:
    status, answer = server.json("POST", "/api/v2/goals/import", body, headers=headers)
    assert status == 201, answer
    return list(answer["ids"])


def export_with(page: Any, opener: str, fmt: str, scope: str | None = None) -> tuple[str, str]:
    """Open the Export dialog with the button named `opener`, pick a format (and scope), and
    download: the suggested file name and the file's text."""
    page.get_by_role("button", name=opener, exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(fmt, exact=False).first.check()
    if scope:
        dialog.get_by_label(scope).check()
    with page.expect_download() as info:
        dialog.get_by_role("button", name="Download").click()
    download = info.value
    expect(dialog).to_be_hidden()
    return download.suggested_filename, Path(download.path()).read_text(encoding="utf-8")


def test_export_downloads_the_forest_or_one_goal(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "exporter")
    home, paint, _work = import_goals(
        server,
        headers,
        [
            {"name": "Home", "children": [{"name": "Paint *fence*"}]},
            {"name": "Work"},
        ],
    )
    sign_in(watched, name)
    today = datetime.now(UTC).strftime("%Y-%m-%d")

    filename, text = export_with(page, "Export…", "Markdown")
    assert filename == f"overachiever-{today}.md"
    assert text == "- [ ] Home\n  - [ ] Paint \\*fence\\*\n- [ ] Work\n"
    expect(page.locator(".notice").last).to_contain_text(f"Downloaded {filename}.")

    filename, text = export_with(page, "Export…", "JSON")
    assert filename == f"overachiever-{today}.json"
    document = json.loads(text)
    assert document["format"] == "overachiever"
    assert [g["name"] for g in document["goals"]] == ["Home", "Work"]
    assert document["goals"][0]["children"][0]["name"] == "Paint *fence*"

    # From a goal's actions: that goal and its sub-goals, chosen first.
    page.get_by_role("button", name="Export Home", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("“Home” and its sub-goals")).to_be_checked()
    watched.shot("export", clear_notices=True)
    dialog.get_by_label("CSV").check()
    with page.expect_download() as info:
        dialog.get_by_role("button", name="Download").click()
    assert info.value.suggested_filename == f"overachiever-goal-{home}-{today}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert [(r["id"], r["name"]) for r in rows] == [
        (str(home), "Home"),
        (str(paint), "Paint *fence*"),
    ]

    # The whole forest from the same dialog, as iCalendar.
    filename, text = export_with(page, "Export Home", "iCalendar", scope="All your goals")
    assert filename == f"overachiever-{today}.ics"
    summaries = {str(t["SUMMARY"]) for t in Calendar.from_ical(text).walk("VTODO")}
    assert summaries == {"Home", "Paint *fence*", "Work"}


def test_paste_a_list_previews_the_tree_then_imports_it(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "paster")
    import_goals(server, headers, {"name": "Garden"})
    sign_in(watched, name)
    watched.expect_status(422)  # the dry run of a list with a wrong indentation

    page.get_by_role("button", name="Paste a list…").click()
    dialog = page.get_by_role("dialog")
    text = dialog.get_by_label("Markdown task list")
    text.fill("- [ ] Move house\n    - [ ] Book the van\n  - [x] Find boxes\n")
    # The server's dry run names the line that cannot be read.
    expect(dialog.locator(".paste-problems li")).to_have_text(
        [re.compile(r"^Line 3: unbalanced indentation")]
    )
    text.fill(
        "My list\n\n- [ ] Move house\n  - [ ] Book the van\n    call on Monday\n"
        "  - [x] Find boxes\n- [ ] Paint the *hall*\n"
    )
    expect(dialog.locator(".paste-status")).to_have_text("Ready: 4 goals will be created.")
    expect(dialog.locator(".paste-problems li")).to_have_count(0)
    preview = dialog.get_by_label("Preview")
    expect(preview.locator(".preview-tree > li > .name")).to_have_text(
        ["Move house", "Paint the *hall*"]
    )
    expect(preview.locator(".preview-tree > li > ul > li > .name")).to_have_text(
        ["Book the van", "Find boxes"]
    )
    expect(preview.locator("li.done > .name")).to_have_text(["Find boxes"])
    expect(preview).to_contain_text("1 line of notes")
    expect(preview).to_have_text(re.compile(r"^☐ Move house.*Paint the \*hall\*$"))
    watched.shot("paste-a-list")
    # Nothing is created before Import.
    assert set(goals_by_name(server, headers)) == {"Garden"}

    dialog.get_by_label("Put the goals under").select_option(label="Garden")
    expect(dialog.locator(".paste-status")).to_have_text("Ready: 4 goals will be created.")
    dialog.get_by_role("button", name="Import").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".notice").last).to_contain_text("Imported 4 goals under “Garden”.")
    wait_until_idle(page)
    expect(row(page, "Move house")).to_be_visible()

    goals = goals_by_name(server, headers)
    assert goals["Move house"]["parent_id"] == goals["Garden"]["id"]
    assert goals["Paint the *hall*"]["parent_id"] == goals["Garden"]["id"]
    assert goals["Book the van"]["parent_id"] == goals["Move house"]["id"]
    assert goals["Book the van"]["description"] == "call on Monday"
    assert goals["Find boxes"]["end"] is not None
    assert goals["Move house"]["end"] is None


def test_the_calendar_page_shows_a_feed_once_and_revokes_it(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "subscriber")
    import_goals(server, headers, {"name": "Dentist", "due": "2030-05-01T09:00:00Z"})
    sign_in(watched, name)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name="Calendar feeds", level=1)).to_be_visible()
    expect(page.get_by_text("No feeds yet.")).to_be_visible()
    page.get_by_label("Feed name").fill("Phone")
    page.get_by_role("button", name="Create feed").click()

    address = page.get_by_label("Feed address")
    expect(address).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/calendar/[\w-]{40,}\.ics$"))
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    expect(page.get_by_role("button", name="Copy address")).to_be_visible()
    table = page.get_by_role("table", name="Your calendar feeds")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table).to_contain_text("Phone")
    expect(table).to_contain_text("Never")
    watched.shot("calendar", clear_notices=True)
    url = address.input_value()
    path = url.split(str(server.port), 1)[1]
    secret = path.removeprefix("/calendar/").removesuffix(".ics")

    status, got, body = server.request("GET", path)
    assert status == 200
    assert got["content-type"] == "text/calendar; charset=utf-8"
    (todo,) = Calendar.from_ical(body).walk("VTODO")
    assert str(todo["SUMMARY"]) == "Dentist"

    # Shown once: after a reload the page lists the feed, but its address is nowhere.
    page.reload()
    expect(table).to_contain_text("Phone")
    expect(page.get_by_label("Feed address")).to_have_count(0)
    assert secret not in page.content()

    table.get_by_role("button", name="Revoke Phone").click()
    confirm = page.get_by_role("dialog")
    confirm.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("No feeds yet.")).to_be_visible()
    expect(page.locator(".notice").last).to_contain_text("Revoked “Phone”.")
    status, got, _ = server.request("GET", path)
    assert status == 404
    assert got["content-type"].startswith("application/problem+json")
