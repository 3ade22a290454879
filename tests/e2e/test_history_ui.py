"""History in the browser: a goal's Activity, Undo/Redo in notices, the History page, the past."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.test_ui import add_sub_goal, add_top_level, expect, goals_by_name, row
from tests.support.browser import Watched, new_account, sign_in, wait_until_idle
from tests.support.liveserver import Server

pytestmark = [pytest.mark.live, pytest.mark.browser]


def notice(page: Any, text: str) -> Any:
    """The notice that says `text` (the newest, if several do)."""
    return page.locator(".notice").filter(has_text=text).last


def operations(server: Server, headers: dict[str, str], limit: int = 50) -> list[dict[str, Any]]:
    """The account's operations, newest first, read through the API."""
    status, body = server.json("GET", f"/api/v2/operations?limit={limit}", headers=headers)
    assert status == 200, body
    return list(body["items"])


def create(server: Server, headers: dict[str, str], name: str, **fields: Any) -> dict[str, Any]:
    status, body = server.json("POST", "/api/v2/goals", {"name": name, **fields}, headers=headers)
    assert status == 201, body
    return dict(body)


def patch(server: Server, headers: dict[str, str], goal_id: int, **fields: Any) -> None:
    status, body = server.json("PATCH", f"/api/v2/goals/{goal_id}", fields, headers=headers)
    assert status == 200, body


def test_the_activity_panel_tells_a_rename_with_before_and_after(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "painter")
    sign_in(watched, name)
    add_top_level(page, "Paint")
    page.get_by_role("checkbox", name="Done: Paint").check()
    expect(notice(page, "Marked “Paint” done.")).to_be_visible()

    page.get_by_role("button", name="Edit Paint", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Paint walls")
    dialog.get_by_role("button", name="Save").click()
    expect(notice(page, "Renamed “Paint” to “Paint walls”.")).to_be_visible()
    goal = goals_by_name(server, headers)["Paint walls"]

    # Opening the goal shows its Activity, newest first, in words.
    page.get_by_role("button", name="Edit Paint walls", exact=True).click()
    activity = page.get_by_role("dialog").get_by_role("region", name="Activity")
    items = activity.get_by_role("listitem")
    expect(items).to_have_text(
        [
            "you renamed Paint → Paint walls · just now",
            "you completed Paint · just now",
            "you created Paint · just now",
        ]
    )
    # Names are emphasised; the exact time is in the title of the relative one.
    expect(items.first.locator("em")).to_have_text(["Paint", "Paint walls"])
    title = items.first.locator("time").get_attribute("title")
    assert title
    assert str(datetime.now(UTC).year) in title
    expect(activity).to_contain_text("3 of 3 shown.")
    expect(activity.get_by_role("button", name="More")).to_be_hidden()
    watched.shot("activity", clear_notices=True)
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    # The API agrees; past ten events a "More" button reads the next ones.
    status, history = server.json("GET", f"/api/v2/goals/{goal['id']}/history", headers=headers)
    assert status == 200
    assert history["total"] == 3
    assert history["items"][0]["changes"]["name"] == ["Paint", "Paint walls"]
    for n in range(1, 11):
        patch(server, headers, goal["id"], description=f"coat {n}")
    page.reload()
    wait_until_idle(page)
    page.get_by_role("button", name="Edit Paint walls", exact=True).click()
    activity = page.get_by_role("dialog").get_by_role("region", name="Activity")
    expect(activity.get_by_role("listitem")).to_have_count(10)
    expect(activity.get_by_role("listitem").first).to_have_text(
        "you changed the description of Paint walls · just now"
    )
    expect(activity).to_contain_text("10 of 13 shown.")
    activity.get_by_role("button", name="More").click()
    expect(activity.get_by_role("listitem")).to_have_count(13)
    expect(activity.get_by_role("listitem").last).to_have_text("you created Paint · just now")
    expect(activity.get_by_role("button", name="More")).to_be_hidden()


def test_delete_asks_nothing_and_undo_in_the_notice_brings_the_goal_back(
    watched: Watched,
) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "shed")
    sign_in(watched, name)
    add_top_level(page, "Old shed")
    add_sub_goal(page, "Old shed", "Roof")
    before = {n: g["id"] for n, g in goals_by_name(server, headers).items()}

    page.get_by_role("button", name="Delete Old shed", exact=True).click()
    moved = notice(page, "Moved “Old shed” and its 1 sub-goal to the trash.")
    expect(moved).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)  # reversible, so no question asked
    expect(row(page, "Old shed")).to_have_count(0)
    assert goals_by_name(server, headers) == {}
    trashed = operations(server, headers, limit=1)[0]
    assert trashed["kind"] == "trash"

    moved.get_by_role("button", name="Undo").click()
    expect(row(page, "Old shed")).to_be_visible()
    expect(row(page, "Roof")).to_be_visible()
    undone = notice(page, "Undone: Moved “Old shed” and its 1 sub-goal to the trash.")
    expect(undone.get_by_role("button", name="Redo")).to_be_visible()
    # The same goals came back (same ids), by an undo of that very operation.
    assert {n: g["id"] for n, g in goals_by_name(server, headers).items()} == before
    newest = operations(server, headers, limit=2)
    assert newest[0]["kind"] == "undo"
    assert newest[0]["undoes"] == trashed["id"]
    assert newest[1]["undone_by"] == newest[0]["id"]

    # A restore from the trash page is undone the same way: the goal goes back to the trash.
    page.get_by_role("button", name="Delete Old shed", exact=True).click()
    expect(row(page, "Old shed")).to_have_count(0)
    page.get_by_role("link", name="Trash").click()
    page.get_by_role("button", name="Restore Old shed").click()
    expect(page.get_by_text("The trash is empty.")).to_be_visible()
    assert set(goals_by_name(server, headers)) == {"Old shed", "Roof"}
    notice(page, "Restored “Old shed” to your goals.").get_by_role("button", name="Undo").click()
    expect(page.get_by_role("row", name=re.compile("Old shed"))).to_contain_text("2 goals")
    assert goals_by_name(server, headers) == {}


def test_complete_then_undo_then_redo(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "gardener")
    sign_in(watched, name)
    add_top_level(page, "Water plants")
    box = page.get_by_role("checkbox", name="Done: Water plants")

    box.check()
    done = notice(page, "Marked “Water plants” done.")
    expect(done).to_be_visible()
    assert goals_by_name(server, headers)["Water plants"]["end"] is not None

    done.get_by_role("button", name="Undo").click()
    undone = notice(page, "Undone: Marked “Water plants” done.")
    expect(undone).to_be_visible()
    expect(box).not_to_be_checked()
    assert goals_by_name(server, headers)["Water plants"]["end"] is None

    undone.get_by_role("button", name="Redo").click()
    redone = notice(page, "Redone: Marked “Water plants” done.")
    expect(redone).to_be_visible()
    expect(box).to_be_checked()
    assert goals_by_name(server, headers)["Water plants"]["end"] is not None
    # A redo is an undo of the undo; the notice after it offers to undo again.
    expect(redone.get_by_role("button", name="Undo")).to_be_visible()
    kinds = [(op["kind"], op["undoes"]) for op in operations(server, headers, limit=4)]
    ops = operations(server, headers, limit=4)
    assert kinds[:3] == [("undo", ops[1]["id"]), ("undo", ops[2]["id"]), ("update", None)]
    assert ops[3]["kind"] == "create"

    # Every other change offers an Undo too: a move, and a new goal.
    add_top_level(page, "Garden")
    added = notice(page, "Added “Garden”.")
    expect(added.get_by_role("button", name="Undo")).to_be_visible()
    page.get_by_role("button", name="Move Water plants to…", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New place (under)").select_option(label="Garden")
    dialog.get_by_role("button", name="Move here").click()
    moved = notice(page, "Moved “Water plants” to “Garden”.")
    moved.get_by_role("button", name="Undo").click()
    expect(notice(page, "Undone: Moved “Water plants” to “Garden”.")).to_be_visible()
    goals = goals_by_name(server, headers)
    assert goals["Water plants"]["parent_id"] is None
    expect(row(page, "Water plants")).to_be_visible()


def test_the_history_page_lists_operations_and_undoes_them(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "baker")
    bread = create(server, headers, "Bake bread")
    patch(server, headers, bread["id"], name="Bake sourdough")
    flour = create(server, headers, "Buy flour")
    ops = operations(server, headers)
    created, renamed, added = ops[2], ops[1], ops[0]
    sign_in(watched, name)

    page.get_by_role("link", name="History").click()
    lines = page.locator(".history-list > li")
    expect(lines).to_have_count(3)
    expect(lines.nth(0)).to_contain_text(f"#{added['id']} you added “Buy flour”")
    expect(lines.nth(1)).to_contain_text(f"#{renamed['id']} you changed “Bake sourdough”")
    expect(lines.nth(2)).to_contain_text(f"#{created['id']} you added “Bake sourdough”")
    expect(lines.nth(0).locator("time")).to_have_text("just now")
    expect(page.get_by_text("3 of 3 changes shown.")).to_be_visible()

    # Undo a change from the list: the goal goes to the trash, the list says so.
    page.get_by_role("button", name=f"Undo change #{added['id']}").click()
    expect(lines).to_have_count(4)
    expect(lines.nth(0)).to_contain_text(f"you undid change #{added['id']}")
    expect(lines.nth(0)).to_contain_text(f"undo of #{added['id']}")
    expect(lines.nth(1)).to_contain_text("undone by #")
    first_undo = page.get_by_role("button", name=f"Undo change #{added['id']}")
    expect(first_undo).to_be_disabled()
    expect(first_undo).to_have_attribute("title", re.compile("^Already undone by change #"))
    assert "Buy flour" not in goals_by_name(server, headers)
    status, trash = server.json("GET", "/api/v2/trash", headers=headers)
    assert status == 200
    assert [item["id"] for item in trash["items"]] == [flour["id"]]
    expect(notice(page, f"Undone: change #{added['id']}")).to_be_visible()

    # A change that later ones built on cannot be undone: the notice tells why, and which.
    watched.expect_status(409)
    page.get_by_role("button", name=f"Undo change #{created['id']}").click()
    refused = page.locator(".notice.error")
    expect(refused).to_contain_text("Later operations changed goals")
    expect(refused).to_contain_text(f"In the way: change #{renamed['id']}.")
    assert goals_by_name(server, headers)["Bake sourdough"]["id"] == bread["id"]
    watched.shot("history", clear_notices=True)

    # A purge cannot be undone: its button is disabled and says why.
    assert server.json("DELETE", f"/api/v2/trash/{flour['id']}", headers=headers)[0] == 204
    for n in range(25):
        patch(server, headers, bread["id"], description=f"fold {n}")
    page.reload()
    expect(lines).to_have_count(25)
    expect(page.get_by_text("25 of 30 changes shown.")).to_be_visible()
    page.get_by_role("button", name="More").click()
    expect(lines).to_have_count(30)
    purge = operations(server, headers, limit=50)[25]
    assert purge["kind"] == "purge"
    expect(lines.nth(25)).to_contain_text("you deleted 1 goal forever")
    button = page.get_by_role("button", name=f"Undo change #{purge['id']}")
    expect(button).to_be_disabled()
    expect(button).to_have_attribute("title", "A deletion for good cannot be undone.")
    expect(page.get_by_role("button", name="More")).to_be_hidden()


def local_input_value(page: Any, instant: datetime) -> str:
    """The <input type=datetime-local> value of an instant, in the browser's own time zone."""
    script = """iso => {
      const d = new Date(iso);
      const p = (n) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}` +
        `T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }"""
    return str(page.evaluate(script, instant.isoformat()))


def test_the_forest_as_it_was_shows_a_goal_deleted_since_read_only(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "nostalgic")
    house = create(server, headers, "Summer house")
    fence = create(server, headers, "Paint fence", parent_id=house["id"])
    create(server, headers, "Fix roof", parent_id=house["id"])
    patch(server, headers, fence["id"], end=datetime.now(UTC).isoformat())
    create(server, headers, "Still here")
    # An instant after all that (the server's own time, read from its record), then the delete.
    made = datetime.fromisoformat(operations(server, headers, limit=1)[0]["at"])
    instant = made.replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()) + 1.0)
    status, _ = server.json("DELETE", f"/api/v2/goals/{house['id']}", headers=headers)
    assert status == 204
    deleted = datetime.fromisoformat(operations(server, headers, limit=1)[0]["at"])
    assert made < instant < deleted

    sign_in(watched, name)
    expect(row(page, "Summer house")).to_have_count(0)
    page.get_by_role("link", name="As it was").click()
    page.get_by_label("Date and time").fill(local_input_value(page, instant))
    page.get_by_role("button", name="Show").click()
    banner = page.locator(".as-of-banner")
    expect(banner).to_contain_text("As it was on")
    expect(banner).to_contain_text(str(instant.year))
    expect(row(page, "Summer house")).to_be_visible()
    expect(row(page, "Still here")).to_be_visible()
    expect(row(page, "Summer house").locator(".pct")).to_have_text("50%")
    page.get_by_role("button", name="Sub-goals of Summer house").click()
    expect(row(page, "Paint fence")).to_contain_text("Done")
    expect(row(page, "Fix roof")).to_be_visible()
    # Read-only: no checkbox, no edit buttons, no new-goal form, nothing to drag.
    tree = page.locator("#goal-tree")
    expect(tree.get_by_role("checkbox")).to_have_count(0)
    edits = "[data-action=add], [data-action=edit], [data-action=move], [data-action=delete]"
    expect(tree.locator(edits)).to_have_count(0)
    expect(tree.locator("[draggable=true]")).to_have_count(0)
    expect(page.get_by_label("New goal")).to_have_count(0)
    # The instant is kept in the address: a reload shows the same past.
    assert "#/as-of?at=" in page.url
    watched.shot("as-of", clear_notices=True)
    page.reload()
    expect(row(page, "Summer house")).to_be_visible()

    # An instant in the future is refused, in words.
    watched.expect_status(422)
    future = datetime.now(UTC) + timedelta(days=400)
    page.get_by_label("Date and time").fill(local_input_value(page, future))
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".notice.error")).to_contain_text("must not be in the future")
    expect(row(page, "Summer house")).to_have_count(0)

    # And back to today's forest, where the goal is gone.
    page.get_by_role("link", name="As it was").click()
    page.get_by_label("Date and time").fill(local_input_value(page, instant))
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="Back to the live goals").click()
    wait_until_idle(page)
    expect(row(page, "Still here")).to_be_visible()
    expect(row(page, "Summer house")).to_have_count(0)
    expect(page.get_by_role("checkbox", name="Done: Still here")).to_be_visible()
