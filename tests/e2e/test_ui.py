"""The browser UI in real Chromium against a live server: what a person sees and does."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.browser import (
    PASSWORD,
    Watched,
    api_token,
    new_account,
    sign_in,
    wait_until_idle,
)
from tests.support.liveserver import LiveDatabases, Server, start_server

pytestmark = [pytest.mark.live, pytest.mark.browser]


def expect(target: Any) -> Any:
    """Playwright's retrying assertions (imported late: the module is collected without it)."""
    from playwright.sync_api import expect as playwright_expect

    # Generous: CI runs this beside the rest of the suite on two cores.
    playwright_expect.set_options(timeout=15_000)
    return playwright_expect(target)


def row(page: Any, name: str) -> Any:
    """The row of the goal called `name` (exactly)."""
    exact = page.locator(".goal-name").filter(has_text=re.compile(f"^{re.escape(name)}$"))
    return page.locator(".goal-row").filter(has=exact)


def progress_of(page: Any, name: str) -> str:
    """The percentage the row of `name` shows."""
    return str(row(page, name).locator(".pct").inner_text())


def expect_progress(page: Any, name: str, percent: int) -> None:
    """The row shows `percent`, as text and as the <progress> element's value."""
    goal = row(page, name)
    expect(goal.locator(".pct")).to_have_text(f"{percent}%")
    expect(goal.locator("progress")).to_have_attribute("value", str(percent))


def goals_by_name(server: Server, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The user's live goals, by name, read through the API."""
    status, body = server.json("GET", "/api/v2/goals?limit=500", headers=headers)
    assert status == 200, body
    return {g["name"]: g for g in body["items"]}


def add_top_level(page: Any, name: str) -> None:
    # Counted, not located: a sub-goal elsewhere may already carry the same name.
    rows_before = row(page, name).count()
    page.get_by_label("New goal").fill(name)
    page.get_by_role("button", name="Add goal").click()
    expect(row(page, name)).to_have_count(rows_before + 1)


def add_sub_goal(page: Any, parent: str, name: str, due: str | None = None) -> None:
    page.get_by_role("button", name=f"Add a sub-goal to {parent}", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(name)
    if due:
        dialog.get_by_label("Due date").fill(due)
    dialog.get_by_role("button", name="Add sub-goal").click()
    expect(row(page, name)).to_be_visible()


def test_sign_up_sign_out_and_sign_in(watched: Watched) -> None:
    page, server = watched.page, watched.server
    page.goto(server.base_url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Name", exact=True).fill("Simone Giertz")
    page.get_by_label("E-mail").fill("simone@example.com")
    page.get_by_label("Password").fill("shitty robots")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_text("Signed in as Simone Giertz")).to_be_visible()
    wait_until_idle(page)
    expect(page.get_by_text("No goals yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_be_hidden()  # not an administrator
    token = page.evaluate("JSON.parse(sessionStorage.getItem('overachiever.session')).token")
    assert token.startswith("oa_")
    bearer = {"Authorization": f"Bearer {token}"}
    assert server.json("GET", "/api/v2/users/self", headers=bearer)[0] == 200

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    # Signing out revoked the token on the server.
    assert server.json("GET", "/api/v2/users/self", headers=bearer)[0] == 401

    watched.expect_status(401)
    page.get_by_label("Name or e-mail").fill("simone@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong name, e-mail or password.")

    page.get_by_label("Password").fill("shitty robots")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as Simone Giertz")).to_be_visible()
    # The token lives for this tab only: a fresh tab of the same browser starts signed out.
    other = page.context.new_page()
    other.goto(server.base_url + "/")
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    other.close()


def test_three_level_tree_with_progress_that_follows_completion(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "builder")
    sign_in(watched, name)

    add_top_level(page, "Build robots")
    add_sub_goal(page, "Build robots", "Toothbrush helmet")
    add_sub_goal(page, "Toothbrush helmet", "Buy toothbrushes")
    add_sub_goal(page, "Toothbrush helmet", "Find a helmet")
    add_sub_goal(page, "Build robots", "Wake-up machine", due="2031-05-17")
    tree = goals_by_name(server, headers)
    assert tree["Toothbrush helmet"]["parent_id"] == tree["Build robots"]["id"]
    assert tree["Buy toothbrushes"]["parent_id"] == tree["Toothbrush helmet"]["id"]
    assert tree["Wake-up machine"]["due"].startswith("2031-05-1")
    expect(row(page, "Wake-up machine")).to_contain_text("Due May 17, 2031")
    for goal in ("Build robots", "Toothbrush helmet", "Buy toothbrushes"):
        expect_progress(page, goal, 0)

    page.get_by_role("checkbox", name="Done: Buy toothbrushes").check()
    expect_progress(page, "Buy toothbrushes", 100)
    expect_progress(page, "Toothbrush helmet", 50)
    expect_progress(page, "Build robots", 33)
    assert goals_by_name(server, headers)["Buy toothbrushes"]["end"] is not None

    page.get_by_role("checkbox", name="Done: Find a helmet").check()
    expect_progress(page, "Toothbrush helmet", 100)
    expect_progress(page, "Build robots", 66)

    page.get_by_role("checkbox", name="Done: Wake-up machine").check()
    expect_progress(page, "Build robots", 100)
    expect(page.get_by_text("5 goals, 3 done.")).to_be_visible()  # the parents have no end

    # Reopen a leaf: the roll-ups fall back.
    page.get_by_role("checkbox", name="Done: Find a helmet").uncheck()
    expect_progress(page, "Toothbrush helmet", 50)
    expect_progress(page, "Build robots", 66)
    assert goals_by_name(server, headers)["Find a helmet"]["end"] is None
    watched.shot("forest", clear_notices=True)

    # Filter: open goals (with their ancestors), then done ones.
    page.get_by_role("radio", name="Open").check()
    expect(row(page, "Find a helmet")).to_be_visible()
    expect(row(page, "Buy toothbrushes")).to_have_count(0)
    page.get_by_role("radio", name="Done").check()
    expect(row(page, "Buy toothbrushes")).to_be_visible()
    expect(row(page, "Find a helmet")).to_have_count(0)
    page.get_by_role("radio", name="All").check()

    # Collapse and expand keep the rows out of the page until they are wanted.
    toggle = page.get_by_role("button", name="Sub-goals of Toothbrush helmet")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(row(page, "Buy toothbrushes")).to_have_count(0)
    toggle.press("Enter")
    expect(row(page, "Buy toothbrushes")).to_be_visible()

    # Rename, describe and give a due date in the edit dialog; search finds the description.
    page.get_by_role("button", name="Edit Find a helmet", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Find a bike helmet")
    dialog.get_by_label("Description").fill("A sturdy one, for the brushes")
    dialog.get_by_label("Due date").fill("2030-01-31")
    dialog.get_by_role("button", name="Save").click()
    expect(row(page, "Find a bike helmet")).to_be_visible()
    goal = goals_by_name(server, headers)["Find a bike helmet"]
    assert goal["description"] == "A sturdy one, for the brushes"
    assert goal["due"].startswith(("2030-01-31", "2030-02-01", "2030-01-30"))

    page.get_by_label("Search").fill("sturdy")
    expect(page.locator(".goal-row.match")).to_have_count(1)
    expect(page.locator(".goal-row.match")).to_contain_text("Find a bike helmet")
    expect(row(page, "Wake-up machine")).to_have_count(0)
    page.get_by_label("Search").fill("")
    expect(row(page, "Wake-up machine")).to_be_visible()


def test_move_by_drag_and_drop_and_by_the_keyboard_picker(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "mover")
    sign_in(watched, name)
    for goal in ("Garden", "Vegetables", "Tomatoes"):
        add_top_level(page, goal)

    # Drag "Vegetables" onto "Garden".
    row(page, "Vegetables").drag_to(row(page, "Garden"))
    expect(page.get_by_text("Moved “Vegetables” to “Garden”.")).to_be_visible()
    goals = goals_by_name(server, headers)
    assert goals["Vegetables"]["parent_id"] == goals["Garden"]["id"]
    expect(page.locator(f"#children-{goals['Garden']['id']}")).to_contain_text("Vegetables")

    # Move "Tomatoes" under "Vegetables" with the keyboard only.
    page.get_by_role("button", name="Move Tomatoes to…").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Move “Tomatoes”")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Filter places")).to_be_focused()
    page.keyboard.type("veg")
    expect(dialog.get_by_role("option")).to_have_count(1)
    watched.shot("move-picker", clear_notices=True)
    page.keyboard.press("Tab")
    expect(dialog.get_by_label("New place (under)")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Moved “Tomatoes” to “Vegetables”.")).to_be_visible()
    goals = goals_by_name(server, headers)
    assert goals["Tomatoes"]["parent_id"] == goals["Vegetables"]["id"]
    # Focus comes back to the moved goal's own "Move to…" button.
    expect(page.get_by_role("button", name="Move Tomatoes to…")).to_be_focused()

    # The picker never offers a goal's own subtree (no cycles): Garden can go only to the top.
    page.get_by_role("button", name="Move Garden to…").click()
    dialog = page.get_by_role("dialog", name="Move “Garden”")
    expect(dialog.get_by_role("option")).to_have_text(["Top level (where it is now)"])
    dialog.get_by_role("button", name="Cancel").click()

    # Dragging back out to the top level.
    # (The drop zone for the top level appears once a drag has started.)
    box = row(page, "Tomatoes").locator(".goal-name").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + 25, box["y"] + 25, steps=5)
    drop_zone = page.get_by_text("Drop here to move the goal to the top level")
    expect(drop_zone).to_be_visible()
    drop_zone.hover()
    page.mouse.up()
    expect(page.get_by_text("Moved “Tomatoes” to the top level.")).to_be_visible()
    assert goals_by_name(server, headers)["Tomatoes"]["parent_id"] is None


def test_delete_to_trash_and_restore(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "tidy")
    sign_in(watched, name)
    add_top_level(page, "Learn Rust")
    add_sub_goal(page, "Learn Rust", "Read the book")
    add_sub_goal(page, "Read the book", "Chapter 1")
    add_top_level(page, "Old plan")
    before = goals_by_name(server, headers)

    page.get_by_role("button", name="Delete Learn Rust", exact=True).click()
    expect(page.get_by_text("Moved “Learn Rust” and its 2 sub-goals to the trash.")).to_be_visible()
    expect(row(page, "Learn Rust")).to_have_count(0)
    expect(row(page, "Chapter 1")).to_have_count(0)
    page.get_by_role("button", name="Delete Old plan", exact=True).click()
    expect(row(page, "Old plan")).to_have_count(0)
    assert set(goals_by_name(server, headers)) == set()

    page.get_by_role("link", name="Trash").click()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table.get_by_role("row", name=re.compile("Learn Rust"))).to_contain_text("3 goals")
    watched.shot("trash", clear_notices=True)

    page.get_by_role("button", name="Restore Learn Rust").click()
    expect(page.get_by_text("Restored “Learn Rust” to your goals.")).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(2)

    # Purging asks first, and then the goal is gone for good.
    page.get_by_role("button", name="Delete Old plan forever").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete forever").click()
    expect(page.get_by_text("The trash is empty.")).to_be_visible()

    page.get_by_role("link", name="Goals").click()
    wait_until_idle(page)
    expect(row(page, "Learn Rust")).to_be_visible()
    # It comes back whole, expanded as it was.
    expect(row(page, "Chapter 1")).to_be_visible()
    after = goals_by_name(server, headers)
    assert {n: g["id"] for n, g in after.items()} == {
        n: g["id"] for n, g in before.items() if n != "Old plan"
    }

    # The notice's Undo restores a deletion at once.
    page.get_by_role("button", name="Delete Chapter 1", exact=True).click()
    expect(row(page, "Chapter 1")).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(row(page, "Chapter 1")).to_be_visible()


def test_api_errors_are_shown_in_words_and_the_page_recovers(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "clash")
    sign_in(watched, name)
    add_top_level(page, "Marathon")
    add_sub_goal(page, "Marathon", "Run 10 km")
    add_sub_goal(page, "Marathon", "Run 20 km")

    # 409: a second top-level goal of the same name.
    watched.expect_status(409, 412)
    page.get_by_label("New goal").fill("Marathon")
    page.get_by_role("button", name="Add goal").click()
    error = page.locator("#new-goal-error")
    expect(error).to_contain_text("That name is already taken")
    expect(error).to_contain_text("'Marathon' already exists at the top level")
    expect(page.get_by_label("New goal")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("New goal")).to_be_focused()
    watched.shot("error", clear_notices=True)

    # 409 from the sub-goal dialog: shown inside the dialog, which stays open to be corrected.
    page.get_by_role("button", name="Add a sub-goal to Marathon", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Run 10 km")
    dialog.get_by_role("button", name="Add sub-goal").click()
    expect(dialog.get_by_role("alert")).to_contain_text("That name is already taken")
    dialog.get_by_label("Name").fill("Run 5 km")
    dialog.get_by_role("button", name="Add sub-goal").click()
    expect(row(page, "Run 5 km")).to_be_visible()

    # 409 on a move: the target already has a goal of that name.
    add_top_level(page, "Run 20 km")
    page.get_by_role("button", name="Move Run 20 km to…", exact=True).nth(1).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New place (under)").select_option(label="Marathon")
    dialog.get_by_role("button", name="Move here").click()
    expect(page.locator(".notice.error")).to_contain_text(
        "That name is already taken: A goal named 'Run 20 km' already exists under “Marathon”."
    )
    status, top = server.json("GET", "/api/v2/goals?parent=root", headers=headers)
    assert sorted(g["name"] for g in top["items"]) == ["Marathon", "Run 20 km"]
    page.locator(".notice.error").get_by_role("button", name="Dismiss message").click()

    # 412: the goal changes elsewhere while its edit dialog is open.
    page.get_by_role("button", name="Edit Run 5 km", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Name")).to_have_value("Run 5 km")
    goal_id = goals_by_name(server, headers)["Run 5 km"]["id"]
    status, _ = server.json(
        "PATCH", f"/api/v2/goals/{goal_id}", {"name": "Run 5 km fast"}, headers=headers
    )
    assert status == 200
    dialog.get_by_label("Description").fill("my change")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("changed somewhere else")
    # The form now shows the current version; saving again works.
    expect(dialog.get_by_label("Name")).to_have_value("Run 5 km fast")
    dialog.get_by_label("Description").fill("my change, again")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(row(page, "Run 5 km fast")).to_be_visible()
    status, body = server.json("GET", f"/api/v2/goals/{goal_id}", headers=headers)
    assert body["description"] == "my change, again"

    # 409 cycle: another client moved "Marathon" under "Run 20 km" behind this page's back, so
    # the move this stale page offers ("Run 20 km" under "Marathon") would close a loop.
    goals = goals_by_name(server, headers)
    status, top = server.json("GET", "/api/v2/goals?parent=root", headers=headers)
    outer = next(g for g in top["items"] if g["name"] == "Run 20 km")
    status, _ = server.json(
        "PATCH",
        f"/api/v2/goals/{goals['Marathon']['id']}",
        {"parent_id": outer["id"]},
        headers=headers,
    )
    assert status == 200
    page.get_by_role("button", name="Move Run 20 km to…", exact=True).nth(1).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New place (under)").select_option(label="Marathon")
    dialog.get_by_role("button", name="Move here").click()
    expect(page.locator(".notice.error")).to_contain_text(
        "a goal cannot be moved under itself or one of its own sub-goals"
    )
    # The page re-read the forest: Marathon now shows inside the other goal.
    page.get_by_role("button", name="Sub-goals of Run 20 km").click()
    expect(page.locator(f"#children-{outer['id']}")).to_contain_text("Marathon")


def test_a_session_that_ends_sends_the_person_to_sign_in(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, _ = new_account(server, "expiring")
    sign_in(watched, name)
    token = page.evaluate("JSON.parse(sessionStorage.getItem('overachiever.session'))")
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert server.json("DELETE", f"/api/v2/tokens/{token['tokenId']}", headers=bearer)[0] == 204

    watched.expect_status(401)
    page.get_by_label("New goal").fill("Anything")
    page.get_by_role("button", name="Add goal").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator(".notice.error")).to_contain_text("Your session has ended")


def test_too_many_sign_in_attempts_are_explained(watched: Watched, tmp_path: Any) -> None:
    # A server of its own with a tight sign-in limit (the module's server allows many).
    databases = LiveDatabases()
    strict = start_server(
        tmp_path / "strict",
        databases.new_url(tmp_path / "strict"),
        args=["--workers", "1"],
        env={"OVERACHIEVER_LOGIN_LIMIT": "2/minute"},
    )
    try:
        strict.signup("limited", PASSWORD)  # uses one attempt
        page = watched.page
        watched.allowed_hosts.add(urlsplit(strict.base_url).netloc)
        page.goto(strict.base_url + "/#/signin")
        watched.expect_status(401, 429)
        page.get_by_label("Name or e-mail").fill("limited")
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong name, e-mail or password.")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("Too many attempts in a short time.")
        expect(page.get_by_role("alert")).to_contain_text(re.compile(r"Wait \d+ seconds?"))
    finally:
        strict.stop()
        databases.drop_all()


def test_admin_manages_users(watched: Watched) -> None:
    page, server = watched.page, watched.server
    sign_in(watched, "root-admin")
    page.get_by_role("link", name="Users").click()
    table = page.get_by_role("table")
    expect(table.get_by_role("row", name=re.compile("root-admin"))).to_be_visible()

    # Create a user, as an administrator at once.
    form = page.locator("form.create-user")
    form.get_by_label("Name").fill("Ada Lovelace")
    form.get_by_label("E-mail").fill("ada@example.com")
    form.get_by_label("Password").fill("analytical engine")
    form.get_by_label("Administrator").check()
    form.get_by_role("button", name="Add user").click()
    expect(page.get_by_text("Added “Ada Lovelace” as an administrator.")).to_be_visible()
    ada = table.get_by_role("row", name=re.compile("Ada Lovelace"))
    expect(ada.get_by_role("checkbox", name="Administrator: Ada Lovelace")).to_be_checked()
    form.get_by_label("Name").fill("Charles Babbage")
    form.get_by_label("E-mail").fill("charles@example.com")
    form.get_by_label("Password").fill("difference engine")
    form.get_by_role("button", name="Add user").click()
    charles = table.get_by_role("row", name=re.compile("Charles Babbage"))
    expect(
        charles.get_by_role("checkbox", name="Administrator: Charles Babbage")
    ).not_to_be_checked()

    # Grant and revoke admin rights.
    charles.get_by_role("checkbox", name="Administrator: Charles Babbage").check()
    expect(page.get_by_text("“Charles Babbage” is now an administrator.")).to_be_visible()
    admin_headers = api_token(server, "root-admin")
    status, users = server.json("GET", "/api/v2/users?q=charles", headers=admin_headers)
    assert (status, [u["is_admin"] for u in users["items"]]) == (200, [True])
    ada.get_by_role("checkbox", name="Administrator: Ada Lovelace").uncheck()
    expect(page.get_by_text("“Ada Lovelace” is no longer an administrator.")).to_be_visible()

    # Edit a user's e-mail address.
    charles.get_by_role("button", name="Edit Charles Babbage").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("E-mail").fill("babbage@example.com")
    dialog.get_by_role("button", name="Save").click()
    expect(charles).to_contain_text("babbage@example.com")

    # Search, then delete (after a confirmation).
    page.get_by_label("Search users").fill("ada")
    expect(table.get_by_role("row")).to_have_count(2)
    watched.shot("admin", clear_notices=True)
    table.get_by_role("button", name="Delete Ada Lovelace").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete user").click()
    expect(page.get_by_text("Deleted “Ada Lovelace”.")).to_be_visible()
    status, users = server.json("GET", "/api/v2/users?q=ada", headers=admin_headers)
    assert (status, users["total"]) == (200, 0)
    expect(table.get_by_role("row")).to_have_count(1)  # the list was read again: headings only

    # A user who is not an administrator has no users page.
    name, _ = new_account(server, "plain")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    sign_in(watched, name)
    expect(page.get_by_role("link", name="Users")).to_be_hidden()
    watched.expect_status(403)
    page.goto(server.base_url + "/#/users")
    expect(page.get_by_text("Only administrators can manage users.")).to_be_visible()


def test_an_administrator_changes_their_own_password_with_the_current_one(
    watched: Watched,
) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "own-admin")
    me = server.json("GET", "/api/v2/users/self", headers=headers)[1]
    root = api_token(server, "root-admin")
    status, _ = server.json("PATCH", f"/api/v2/users/{me['id']}", {"is_admin": True}, headers=root)
    assert status == 200
    sign_in(watched, name)
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Search users").fill(name)
    page.get_by_role("button", name=f"Edit {name}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New password").fill("a fresh password")
    watched.expect_status(403)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("current password")
    dialog.get_by_label("Current password").fill(PASSWORD)
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Saved “{name}”. 1 other sign-in ended.")).to_be_visible()
    # The token from before the change is revoked; the browser's own goes on working.
    assert server.json("GET", "/api/v2/users/self", headers=headers)[0] == 401
    page.get_by_role("link", name="Goals").click()
    wait_until_idle(page)


def test_ten_thousand_goals_render_collapsed_and_expand_lazily(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "prolific")
    forest = [
        {
            "name": f"Area {a:02d}",
            "children": [{"name": f"Task {a:02d}-{t:03d}"} for t in range(499)],
        }
        for a in range(20)
    ]
    status, _, body = server.request(
        "POST", "/api/v2/goals/import", forest, headers=headers, timeout=120
    )
    assert status == 201, body
    assert len(json.loads(body)["ids"]) == 10_000

    sign_in(watched, name)
    expect(page.get_by_text("10000 goals, 0 done.")).to_be_visible()
    # Only the 20 top-level goals are in the page.
    expect(page.locator(".goal-row")).to_have_count(20)

    page.get_by_role("button", name="Sub-goals of Area 07").click()
    # Children come 200 at a time.
    expect(page.locator(".goal-row")).to_have_count(220)
    more = page.get_by_role("button", name="Show 200 more (299 not shown)")
    more.click()
    expect(page.locator(".goal-row")).to_have_count(420)
    expect(page.get_by_role("button", name="Edit Task 07-200", exact=True)).to_be_focused()

    page.get_by_role("button", name="Show 99 more (99 not shown)").click()
    page.get_by_role("checkbox", name="Done: Task 07-498").check()
    expect(page.get_by_text("10000 goals, 1 done.")).to_be_visible()
    expect_progress(page, "Area 07", 0)  # 1 of 499 leaves: 0.2 %, shown as 0 %
    page.get_by_role("button", name="Sub-goals of Area 07").click()
    expect(page.locator(".goal-row")).to_have_count(20)


def test_pages_send_a_strict_content_security_policy(watched: Watched) -> None:
    page, server = watched.page, watched.server
    response = page.goto(server.base_url + "/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    # Everything loaded, so every module and style sheet ran under that policy.
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"


def test_keyboard_focus_is_visible(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, _ = new_account(server, "keys")
    sign_in(watched, name)
    # On a fresh load the skip link is the first stop; it leads to the content, on this page.
    page.reload()
    wait_until_idle(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    expect(page.get_by_role("heading", name="Goals")).to_be_visible()
    add_top_level(page, "Reachable")
    page.get_by_label("New goal").focus()
    page.keyboard.press("Tab")  # to "Add goal"
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Add goal"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    # Complete a goal from the keyboard: its checkbox takes Space.
    page.get_by_role("checkbox", name="Done: Reachable").focus()
    page.keyboard.press("Space")
    expect_progress(page, "Reachable", 100)
    expect(page.get_by_role("checkbox", name="Done: Reachable")).to_be_focused()


def test_api_docs_run_under_a_strict_policy_too(watched: Watched) -> None:
    page, server = watched.page, watched.server
    response = page.goto(server.base_url + "/docs")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Over Achiever")
    page.get_by_text("Create a goal", exact=True).first.click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    page.get_by_role("button", name="Authorize").first.click()
    expect(page.get_by_text("BearerAuth", exact=False).first).to_be_visible()
