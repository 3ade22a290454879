"""Sharing in the browser: the Share dialog, "Shared with me", editors and viewers side by side
with the owner (a browser context each), and who did what in the activity."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.conftest import watched_context
from tests.e2e.test_history_ui import create, notice, patch
from tests.e2e.test_ui import expect, goals_by_name, row
from tests.support.browser import Watched, new_account, sign_in, wait_until_idle
from tests.support.liveserver import Server

pytestmark = [pytest.mark.live, pytest.mark.browser]

VIEW_ONLY = "Shared with you as a viewer: you can look, not change"


@pytest.fixture
def second(browser: Any, server: Server) -> Iterator[Watched]:
    """Another person's browser, beside `watched`."""
    with watched_context(browser, server) as seen:
        yield seen


@pytest.fixture
def third(browser: Any, server: Server) -> Iterator[Watched]:
    """A third person's browser."""
    with watched_context(browser, server) as seen:
        yield seen


def share(
    server: Server, headers: dict[str, str], goal_id: int, user: str, role: str
) -> dict[str, Any]:
    """Share a goal through the API (201 new, 200 a changed role)."""
    status, body = server.json(
        "POST", f"/api/v2/goals/{goal_id}/shares", {"user": user, "role": role}, headers=headers
    )
    assert status in (200, 201), body
    return dict(body)


def shares_of(server: Server, headers: dict[str, str], goal_id: int) -> list[dict[str, Any]]:
    status, body = server.json("GET", f"/api/v2/goals/{goal_id}/shares", headers=headers)
    assert status == 200, body
    return list(body["items"])


def shared_with(server: Server, headers: dict[str, str]) -> list[dict[str, Any]]:
    status, body = server.json("GET", "/api/v2/shared", headers=headers)
    assert status == 200, body
    return list(body["items"])


def subtree(server: Server, headers: dict[str, str], goal_id: int) -> dict[str, dict[str, Any]]:
    """The goals of a subtree by name (flat), as `headers`' owner may read them."""
    status, body = server.json("GET", f"/api/v2/goals/{goal_id}/tree?format=flat", headers=headers)
    assert status == 200, body
    return {g["name"]: g for g in body["items"]}


def now() -> str:
    return datetime.now(UTC).isoformat()


def open_shared(seen: Watched, goal: str) -> None:
    """Go to "Shared with me" through the menu and open `goal`."""
    page = seen.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Shared with me").click()
    expect(page.get_by_role("heading", name="Shared with me", level=1)).to_be_visible()
    page.get_by_role("table").get_by_role("link", name=goal, exact=True).click()
    wait_until_idle(page)
    expect(page.get_by_role("heading", name=goal, level=1)).to_be_visible()


def people_in(dialog: Any) -> Any:
    """The people listed in a Share dialog."""
    return dialog.get_by_role("list", name="People with access").get_by_role("listitem")


def activity_of(page: Any, goal: str, opener: str = "Edit {}") -> Any:
    """Open a goal's dialog (Edit, or a viewer's Details) and return its Activity items."""
    page.get_by_role("button", name=opener.format(goal), exact=True).click()
    return page.get_by_role("dialog").get_by_role("region", name="Activity").get_by_role("listitem")


def test_an_editor_side_by_side_with_the_owner(watched: Watched, second: Watched) -> None:
    owner_page, server = watched.page, watched.server
    owner, owner_headers = new_account(server, "mover")
    editor, editor_headers = new_account(server, "packer")
    house = create(server, owner_headers, "Move house")
    create(server, owner_headers, "Pack", parent_id=house["id"])
    create(server, owner_headers, "Book a van", parent_id=house["id"])
    create(server, owner_headers, "Private diary")  # not shared: the editor never sees it
    sign_in(watched, owner)

    # The owner shares by name, as an editor; the dialog lists who has it.
    owner_page.get_by_role("button", name="Share Move house", exact=True).click()
    dialog = owner_page.get_by_role("dialog", name="Share “Move house”")
    dialog.get_by_label("Name or e-mail").fill(editor)
    dialog.get_by_label("Role", exact=True).select_option("editor")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(dialog.get_by_role("status")).to_have_text(
        f"Shared with {editor} as an editor. Shared with 1 person."
    )
    people = people_in(dialog)
    expect(people).to_have_count(1)
    expect(people.first).to_contain_text(editor)
    expect(dialog.get_by_label(f"Role of {editor}")).to_have_value("editor")
    expect(dialog.get_by_label("Name or e-mail")).to_have_value("")
    watched.shot("share-dialog")
    dialog.get_by_role("button", name="Close").click()
    expect(owner_page.get_by_role("dialog")).to_have_count(0)
    [made] = shares_of(server, owner_headers, house["id"])
    assert (made["user"]["name"], made["role"]) == (editor, "editor")

    # The editor finds it under "Shared with me", with its owner and their role.
    sign_in(second, editor)
    page = second.page
    expect(page.get_by_role("heading", name="Goals", level=1)).to_be_visible()
    expect(row(page, "Move house")).to_have_count(0)  # their own forest has only their own goals
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Shared with me").click()
    table = page.get_by_role("table")
    line = table.get_by_role("row").filter(has=page.get_by_role("link", name="Move house"))
    expect(line.get_by_role("cell").nth(0)).to_have_text(owner)
    expect(line.get_by_role("cell").nth(1)).to_have_text("Editor")
    line.get_by_role("link", name="Move house").click()
    wait_until_idle(page)
    expect(page.locator(".shared-banner")).to_contain_text(f"Shared with you by {owner} as Editor")
    expect(row(page, "Private diary")).to_have_count(0)

    # The shared goal itself can be changed, but not moved, deleted or shared on.
    root = row(page, "Move house")
    expect(root.get_by_role("button", name="Add a sub-goal to Move house")).to_be_visible()
    expect(root.get_by_role("button", name="Edit Move house")).to_be_visible()
    expect(root.get_by_role("button", name="Move Move house to…")).to_have_count(0)
    expect(root.get_by_role("button", name="Delete Move house")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Share "))).to_have_count(0)
    expect(root).not_to_have_attribute("draggable", "true")

    # The editor adds a sub-goal and ticks one done.
    root.get_by_role("button", name="Add a sub-goal to Move house").click()
    add = page.get_by_role("dialog")
    add.get_by_label("Name").fill("Hire movers")
    add.get_by_role("button", name="Add sub-goal").click()
    expect(row(page, "Hire movers")).to_be_visible()
    expect(notice(page, "Added “Hire movers” under “Move house”.")).to_be_visible()
    page.get_by_role("checkbox", name="Done: Pack").check()
    ticked = notice(page, "Marked “Pack” done.")
    expect(ticked).to_be_visible()
    # Undo is the owner's: the recipient's notices come without one.
    expect(ticked.get_by_role("button", name="Undo")).to_have_count(0)
    expect(page.get_by_role("checkbox", name="Done: Pack")).to_be_checked()

    # Moves stay inside the share: the picker has no "top level".
    row(page, "Book a van").get_by_role("button", name="Move Book a van to…").click()
    move = page.get_by_role("dialog", name="Move “Book a van”")
    options = move.get_by_role("option")
    expect(options).to_have_text(
        ["Move house (where it is now)", "Move house / Pack", "Move house / Hire movers"]
    )
    move.get_by_role("option", name="Move house / Hire movers").click()
    move.get_by_role("button", name="Move here").click()
    expect(notice(page, "Moved “Book a van” to “Hire movers”.")).to_be_visible()
    second.shot("sharing", clear_notices=True)

    goals = subtree(server, owner_headers, house["id"])
    assert goals["Pack"]["end"] is not None
    assert goals["Hire movers"]["parent_id"] == house["id"]
    assert goals["Book a van"]["parent_id"] == goals["Hire movers"]["id"]
    # New goals belong to the subtree's owner: in their forest, not the editor's.
    assert "Hire movers" in goals_by_name(server, owner_headers)
    assert goals_by_name(server, editor_headers) == {}

    # The owner sees it all after a reload, and the activity names the editor.
    owner_page.reload()
    wait_until_idle(owner_page)
    owner_page.get_by_role("button", name="Sub-goals of Move house").click()
    expect(owner_page.get_by_role("checkbox", name="Done: Pack")).to_be_checked()
    expect(row(owner_page, "Hire movers")).to_be_visible()
    items = activity_of(owner_page, "Pack")
    expect(items.first).to_have_text(f"{editor} completed Pack · just now")
    expect(items.last).to_have_text("you created Pack · just now")
    owner_page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    items = activity_of(owner_page, "Hire movers")
    expect(items).to_have_text([f"{editor} created Hire movers · just now"])
    owner_page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    owner_page.get_by_role("button", name="Sub-goals of Hire movers").click()
    items = activity_of(owner_page, "Book a van")
    expect(items.first).to_have_text(f"{editor} moved Book a van under Hire movers · just now")
    owner_page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    # And the editor sees the owner's name for the owner's changes, "you" for their own.
    items = activity_of(page, "Pack")
    expect(items).to_have_text(
        ["you completed Pack · just now", f"{owner} created Pack · just now"]
    )
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    # The editor renames the shared goal itself (a conditional save, like the owner's).
    page.get_by_role("button", name="Edit Move house", exact=True).click()
    edit = page.get_by_role("dialog", name="Edit “Move house”")
    edit.get_by_label("Name").fill("Move to Lyon")
    edit.get_by_role("button", name="Save").click()
    expect(notice(page, "Renamed “Move house” to “Move to Lyon”.")).to_be_visible()
    expect(row(page, "Move to Lyon")).to_be_visible()
    expect(page.get_by_role("heading", name="Move to Lyon", level=1)).to_be_visible()
    assert goals_by_name(server, owner_headers)["Move to Lyon"]["id"] == house["id"]


def test_a_viewer_gets_read_only_controls(watched: Watched) -> None:
    page, server = watched.page, watched.server
    owner, owner_headers = new_account(server, "planner")
    viewer, _ = new_account(server, "watcher")
    trip = create(server, owner_headers, "Trip", description="Two weeks\nin the mountains")
    boots = create(server, owner_headers, "Buy boots", parent_id=trip["id"])
    create(server, owner_headers, "Map", parent_id=trip["id"])
    patch(server, owner_headers, boots["id"], end=now())
    # Shared by e-mail address, as a viewer.
    share(server, owner_headers, trip["id"], f"{viewer}@example.com", "viewer")
    sign_in(watched, viewer)
    open_shared(watched, "Trip")
    expect(page.locator(".shared-banner")).to_contain_text(f"Shared with you by {owner} as Viewer")
    expect(page.locator(".shared-banner")).to_contain_text("not change anything")
    page.get_by_role("button", name="Sub-goals of Trip").click()

    # Done boxes show the state but are disabled; nothing to add, edit, move, delete or drag.
    for name in ("Trip", "Buy boots", "Map"):
        box = page.get_by_role("checkbox", name=f"Done: {name}")
        expect(box).to_be_disabled()
        expect(box).to_have_attribute("title", VIEW_ONLY)
    expect(page.get_by_role("checkbox", name="Done: Buy boots")).to_be_checked()
    tree = page.locator("#goal-tree")
    for label in ("Add a sub-goal to", "Edit ", "Move ", "Delete ", "Share "):
        expect(tree.get_by_role("button", name=re.compile(f"^{label}"))).to_have_count(0)
    expect(tree.locator('[draggable="true"]')).to_have_count(0)
    expect(row(page, "Trip").get_by_role("button", name="Burn-up of Trip")).to_be_visible()
    expect(row(page, "Trip").locator(".pct")).to_have_text("50%")

    # Details: the goal's facts and activity, read-only.
    items = activity_of(page, "Trip", opener="Details of {}")
    details = page.get_by_role("dialog", name="“Trip”")
    expect(details).to_contain_text("Two weeks")
    expect(details).to_contain_text("1 of 2 sub-goals done")
    expect(items).to_have_text([f"{owner} created Trip · just now"])
    expect(details.get_by_role("textbox")).to_have_count(0)
    details.get_by_role("button", name="Close").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Details of Trip")).to_be_focused()


def test_the_owner_changes_the_role_then_removes_it_and_access_ends(
    watched: Watched, second: Watched
) -> None:
    owner_page, server = watched.page, watched.server
    owner, owner_headers = new_account(server, "lender")
    friend, friend_headers = new_account(server, "friend")
    garden = create(server, owner_headers, "Garden")
    create(server, owner_headers, "Weed", parent_id=garden["id"])
    share(server, owner_headers, garden["id"], friend, "viewer")
    sign_in(second, friend)
    open_shared(second, "Garden")
    page = second.page
    expect(page.get_by_role("checkbox", name="Done: Garden")).to_be_disabled()

    # The owner makes the viewer an editor in the Share dialog.
    sign_in(watched, owner)
    owner_page.get_by_role("button", name="Share Garden", exact=True).click()
    dialog = owner_page.get_by_role("dialog", name="Share “Garden”")
    role = dialog.get_by_label(f"Role of {friend}")
    expect(role).to_have_value("viewer")
    role.select_option("editor")
    expect(dialog.get_by_role("status")).to_have_text(
        f"{friend} is now an editor. Shared with 1 person."
    )
    assert [s["role"] for s in shares_of(server, owner_headers, garden["id"])] == ["editor"]

    # The friend, reloading, gets the editor's controls.
    page.reload()
    wait_until_idle(page)
    expect(page.locator(".shared-banner")).to_contain_text("as Editor")
    expect(page.get_by_role("checkbox", name="Done: Garden")).to_be_enabled()
    expect(page.get_by_role("button", name="Add a sub-goal to Garden")).to_be_visible()

    # Made a viewer again meanwhile, the friend's tick is refused; the page reads the role again.
    role.select_option("viewer")
    expect(dialog.get_by_role("status")).to_have_text(
        f"{friend} is now a viewer. Shared with 1 person."
    )
    second.expect_status(403, 404)
    page.get_by_role("checkbox", name="Done: Garden").click()
    # The server's reason, naming the goal rather than its id.
    expect(page.locator(".notice.error")).to_contain_text("“Garden”")
    expect(page.locator(".shared-banner")).to_contain_text("as Viewer")
    expect(page.get_by_role("checkbox", name="Done: Garden")).to_be_disabled()
    expect(page.get_by_role("checkbox", name="Done: Garden")).not_to_be_checked()
    assert subtree(server, owner_headers, garden["id"])["Garden"]["end"] is None

    # The owner removes them; the friend, acting on the page they still have, is told it is gone.
    dialog.get_by_role("button", name=f"Remove {friend}").click()
    expect(dialog.get_by_role("status")).to_have_text(
        f"{friend} no longer has “Garden”. Nobody else has it yet."
    )
    expect(people_in(dialog)).to_have_count(0)
    assert shares_of(server, owner_headers, garden["id"]) == []
    page.get_by_role("button", name="Sub-goals of Garden").click()
    page.get_by_role("button", name="Details of Weed").click()
    expect(page.locator("main")).to_contain_text("“Garden” is no longer shared with you.")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("link", name="All goals shared with me")).to_be_visible()
    assert subtree(server, owner_headers, garden["id"])["Weed"]["end"] is None
    status, _ = server.json("GET", f"/api/v2/goals/{garden['id']}", headers=friend_headers)
    assert status == 404

    # Reloaded, the page says so too, and "Shared with me" is empty.
    page.reload()
    expect(page.locator("main")).to_contain_text("That goal is not shared with you (any more).")
    page.get_by_role("link", name="All goals shared with me").click()
    expect(page.locator("main")).to_contain_text("Nothing is shared with you yet.")
    assert shared_with(server, friend_headers) == []


def test_a_recipient_leaves_a_share(watched: Watched) -> None:
    page, server = watched.page, watched.server
    owner, owner_headers = new_account(server, "host")
    guest, guest_headers = new_account(server, "guest")
    party = create(server, owner_headers, "Party")
    cake = create(server, owner_headers, "Cake")
    share(server, owner_headers, party["id"], guest, "editor")
    share(server, owner_headers, cake["id"], guest, "viewer")
    sign_in(watched, guest)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Shared with me").click()
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(3)  # the head and two goals

    # Leaving asks first; Cancel keeps it.
    page.get_by_role("button", name="Leave Cake").click()
    ask = page.get_by_role("dialog", name="Leave “Cake”?")
    expect(ask).to_contain_text(f"only {owner} can share it with you again")
    ask.get_by_role("button", name="Cancel").click()
    expect(rows).to_have_count(3)

    page.get_by_role("button", name="Leave Cake").click()
    page.get_by_role("dialog").get_by_role("button", name="Leave").click()
    expect(notice(page, "You left “Cake”.")).to_be_visible()
    expect(rows).to_have_count(2)
    assert [i["goal"]["name"] for i in shared_with(server, guest_headers)] == ["Party"]
    assert shares_of(server, owner_headers, cake["id"]) == []

    # Leaving from the goal's own page goes back to the list.
    page.get_by_role("link", name="Party").click()
    wait_until_idle(page)
    page.get_by_role("button", name="Leave", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Leave").click()
    expect(page.get_by_role("heading", name="Shared with me", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Nothing is shared with you yet.")
    assert shared_with(server, guest_headers) == []


def test_refused_shares_are_explained_in_the_dialog(watched: Watched) -> None:
    page, server = watched.page, watched.server
    owner, _ = new_account(server, "sharer")
    sign_in(watched, owner)
    page.get_by_label("New goal").fill("Novel")
    page.get_by_role("button", name="Add goal").click()
    expect(row(page, "Novel")).to_be_visible()
    page.get_by_role("button", name="Share Novel", exact=True).click()
    dialog = page.get_by_role("dialog", name="Share “Novel”")
    expect(dialog.get_by_role("status")).to_have_text("Nobody else has it yet.")
    who = dialog.get_by_label("Name or e-mail")
    error = dialog.locator(".form-error")

    # Nothing but spaces: said before anything is sent.
    who.fill("   ")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(error).to_have_text("Type the name or e-mail address of the person to share with.")

    # Yourself, and nobody by that name: the server's 422 about the user, at the field.
    watched.expect_status(422, 429)
    for name, words in ((owner, "its owner"), ("nobody-by-this-name", "nobody-by-this-name")):
        who.fill(name)
        dialog.get_by_role("button", name="Share", exact=True).click()
        expect(error).to_contain_text(words)
        expect(who).to_have_attribute("aria-invalid", "true")
        expect(who).to_have_value(name)  # kept, to be corrected
    expect(people_in(dialog)).to_have_count(0)

    # Too many attempts (429): the wait, in words. The answer is stubbed in the page: a real one
    # would use up the server's share allowance, which every test of this module draws on.
    def too_many(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(
            status=429,
            headers={"Content-Type": "application/problem+json", "Retry-After": "30"},
            body='{"type": "about:blank", "title": "Too Many Requests", "status": 429}',
        )

    page.route(re.compile(r".*/api/v2/goals/\d+/shares$"), too_many)
    who.fill("someone")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(error).to_have_text("Too many attempts in a short time. Wait 30 seconds and try again.")
    expect(who).not_to_have_attribute("aria-invalid", "true")
