"""Completion rules in the browser: the rule picker and badge, and the question asked (after a
dry run) before a change that would also change other goals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.test_history_ui import create, notice, operations, patch
from tests.e2e.test_ui import add_sub_goal, add_top_level, expect, goals_by_name, row
from tests.support.browser import Watched, new_account, sign_in

pytestmark = [pytest.mark.live, pytest.mark.browser]

AUTO_DONE = "Completes itself when all its sub-goals are done (rule: Auto)"
# Counts the dialogs the page opens (they are removed once closed), and the dry runs it sends.
WATCH_DIALOGS = """() => {
  window.__dialogs = 0;
  new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) if (n.nodeName === "DIALOG") window.__dialogs += 1;
    }
  }).observe(document.body, { childList: true });
}"""


def watch_dialogs(page: Any) -> list[str]:
    """Start counting dialogs; returns the list the page's dry-run requests are added to."""
    page.evaluate(WATCH_DIALOGS)
    dry_runs: list[str] = []
    page.on(
        "request",
        lambda r: dry_runs.append(f"{r.method} {r.url}") if "dry_run=true" in r.url else None,
    )
    return dry_runs


def dialogs_opened(page: Any) -> int:
    return int(page.evaluate("window.__dialogs"))


def now() -> str:
    return datetime.now(UTC).isoformat()


def test_a_rule_set_in_the_edit_dialog_shows_as_a_badge(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "ruler")
    sign_in(watched, name)
    add_top_level(page, "House")
    expect(row(page, "House").locator(".rule-badge")).to_have_count(0)  # manual: no badge

    page.get_by_role("button", name="Edit House", exact=True).click()
    dialog = page.get_by_role("dialog")
    picker = dialog.get_by_role("group", name="Completion rule")
    expect(picker.get_by_role("radio")).to_have_count(4)
    expect(picker.get_by_role("radio", name="Manual")).to_be_checked()
    # Each rule comes with its sentence, read out with it.
    cascade = picker.get_by_role("radio", name="Cascade")
    expect(cascade).to_have_accessible_description(
        "Completing this goal completes all its open sub-goals."
    )
    expect(picker).to_contain_text("This goal cannot be completed while a sub-goal is open.")
    cascade.check()
    dialog.get_by_role("button", name="Save").click()
    expect(notice(page, "Set the rule of “House” to Cascade.")).to_be_visible()
    badge = row(page, "House").locator(".rule-badge")
    expect(badge).to_have_text("cascade")
    expect(badge).to_have_attribute(
        "title", "Cascade: Completing this goal completes all its open sub-goals."
    )
    assert goals_by_name(server, headers)["House"]["completion"] == "cascade"

    # The dialog shows the rule saved; another one replaces it, and the badge follows.
    page.get_by_role("button", name="Edit House", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("radio", name="Cascade")).to_be_checked()
    dialog.get_by_role("radio", name="Strict").check()
    dialog.get_by_role("button", name="Save").click()
    expect(notice(page, "Set the rule of “House” to Strict.")).to_be_visible()
    expect(row(page, "House").locator(".rule-badge")).to_have_text("strict")
    assert goals_by_name(server, headers)["House"]["completion"] == "strict"

    # A new sub-goal can get its rule in the same words.
    page.get_by_role("button", name="Add a sub-goal to House", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Garden")
    dialog.get_by_role("radio", name="Auto").check()
    dialog.get_by_role("button", name="Add sub-goal").click()
    expect(row(page, "Garden").locator(".rule-badge")).to_have_text("auto")
    assert goals_by_name(server, headers)["Garden"]["completion"] == "auto"
    watched.shot("rules", clear_notices=True)


def test_a_cascade_asks_first_cancel_changes_nothing_and_undo_reverts_it_all(
    watched: Watched,
) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "cascader")
    house = create(server, headers, "House", completion="cascade")
    kids = ["Paint", "Sand", "Wash", "Tape", "Prime", "Fix", "Clean"]
    for kid in kids:
        create(server, headers, kid, parent_id=house["id"])
    bought = create(server, headers, "Buy paint", parent_id=house["id"])
    patch(server, headers, bought["id"], end=now())
    sign_in(watched, name)
    watch_dialogs(page)
    ops_before = len(operations(server, headers))

    box = page.get_by_role("checkbox", name="Done: House")
    box.check()
    dialog = page.get_by_role("dialog", name="Complete “House”?")
    expect(dialog).to_contain_text("Completing “House” changes other goals too.")
    # The sub-goals by name (the page knows them, though collapsed), five, then the count.
    expect(dialog.get_by_role("listitem")).to_have_text(
        ["Also completes: Paint, Sand, Wash, Tape, Prime, … (7 goals)"]
    )
    watched.shot("rules-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(box).not_to_be_checked()
    goals = goals_by_name(server, headers)
    assert all(goals[kid]["end"] is None for kid in [*kids, "House"])
    assert len(operations(server, headers)) == ops_before  # the dry run stored nothing

    box.check()
    page.get_by_role("dialog").get_by_role("button", name="Complete").click()
    done = notice(page, "Marked “House” done. It also completed 7 other goals.")
    expect(done).to_be_visible()
    expect(box).to_be_checked()
    goals = goals_by_name(server, headers)
    assert all(goals[kid]["end"] is not None for kid in [*kids, "House"])
    assert len(operations(server, headers)) == ops_before + 1  # one operation for it all

    # One Undo reverts the goal and everything the rule did with it.
    done.get_by_role("button", name="Undo").click()
    expect(notice(page, "Undone: Marked “House” done.")).to_be_visible()
    expect(box).not_to_be_checked()
    goals = goals_by_name(server, headers)
    assert all(goals[kid]["end"] is None for kid in [*kids, "House"])
    assert goals["Buy paint"]["end"] is not None  # it was done before, and stays done


def test_completing_the_last_open_child_of_an_auto_goal_asks_first(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "automat")
    project = create(server, headers, "Project", completion="auto")
    design = create(server, headers, "Design", parent_id=project["id"])
    create(server, headers, "Build", parent_id=project["id"])
    patch(server, headers, design["id"], end=now())
    sign_in(watched, name)
    page.get_by_role("button", name="Sub-goals of Project").click()

    # The auto goal's own box is not for the person to tick: the rule decides.
    project_box = page.get_by_role("checkbox", name="Done: Project")
    expect(project_box).to_be_disabled()
    expect(project_box).to_have_attribute("title", AUTO_DONE)
    expect(row(page, "Project").locator(".rule-badge")).to_have_text("auto")

    page.get_by_role("checkbox", name="Done: Build").check()
    dialog = page.get_by_role("dialog", name="Complete “Build”?")
    expect(dialog.get_by_role("listitem")).to_have_text(["Also completes: Project"])
    dialog.get_by_role("button", name="Complete").click()
    expect(notice(page, "Marked “Build” done. It also completed 1 other goal.")).to_be_visible()
    expect(project_box).to_be_checked()
    expect(project_box).to_be_disabled()
    assert goals_by_name(server, headers)["Project"]["end"] is not None

    # Reopening the child reopens the parent: asked the same way.
    page.get_by_role("checkbox", name="Done: Build").uncheck()
    dialog = page.get_by_role("dialog", name="Reopen “Build”?")
    expect(dialog.get_by_role("listitem")).to_have_text(["Also reopens: Project"])
    dialog.get_by_role("button", name="Reopen").click()
    expect(notice(page, "Reopened “Build”. It also reopened 1 other goal.")).to_be_visible()
    expect(project_box).not_to_be_checked()
    assert goals_by_name(server, headers)["Project"]["end"] is None

    # Deleting the last open child would complete the parent: that delete asks too.
    page.get_by_role("button", name="Delete Build", exact=True).click()
    dialog = page.get_by_role("dialog", name="Delete “Build”?")
    expect(dialog.get_by_role("listitem")).to_have_text(["Also completes: Project"])
    dialog.get_by_role("button", name="Cancel").click()
    assert set(goals_by_name(server, headers)) == {"Project", "Design", "Build"}


def test_a_rule_change_that_would_complete_an_auto_parent_asks_first(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "chain")
    trip = create(server, headers, "Trip", completion="auto")
    pack = create(server, headers, "Pack", parent_id=trip["id"])
    socks = create(server, headers, "Socks", parent_id=pack["id"])
    patch(server, headers, socks["id"], end=now())
    sign_in(watched, name)

    # Pack is open though its only sub-goal is done; made auto, it completes, and so does Trip.
    page.get_by_role("button", name="Sub-goals of Trip").click()
    page.get_by_role("button", name="Edit Pack", exact=True).click()
    edit = page.get_by_role("dialog", name="Edit “Pack”")
    edit.get_by_role("radio", name="Auto").check()
    edit.get_by_role("button", name="Save").click()
    ask = page.get_by_role("dialog", name="Change the rule of “Pack”?")
    expect(ask).to_contain_text("With the Auto rule, saving changes other goals too.")
    expect(ask.get_by_role("listitem")).to_have_text(["Also completes: Trip"])
    ask.get_by_role("button", name="Cancel").click()
    # Declined: the form stays open, says so, and nothing was saved.
    expect(edit.get_by_role("alert")).to_contain_text("Nothing was saved.")
    goals = goals_by_name(server, headers)
    assert (goals["Pack"]["completion"], goals["Pack"]["end"]) == ("manual", None)
    assert goals["Trip"]["end"] is None

    edit.get_by_role("button", name="Save").click()
    page.get_by_role("dialog", name="Change the rule of “Pack”?").get_by_role(
        "button", name="Save"
    ).click()
    expect(
        notice(page, "Set the rule of “Pack” to Auto. It also completed 1 other goal.")
    ).to_be_visible()
    goals = goals_by_name(server, headers)
    assert goals["Pack"]["completion"] == "auto"
    assert goals["Pack"]["end"] is not None
    assert goals["Trip"]["end"] is not None
    expect(page.get_by_role("checkbox", name="Done: Trip")).to_be_checked()


def test_an_end_set_by_hand_on_an_auto_goal_is_refused_in_words(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "stale")
    goal = create(server, headers, "Tidy up")
    sign_in(watched, name)
    box = page.get_by_role("checkbox", name="Done: Tidy up")
    expect(box).to_be_enabled()
    # Made auto elsewhere after the page read it: the dry run is refused, and says why.
    patch(server, headers, goal["id"], completion="auto")
    watched.expect_status(409)
    box.check()
    error = page.locator(".notice.error")
    expect(error).to_contain_text("completes itself when its children are done")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert goals_by_name(server, headers)["Tidy up"]["end"] is None
    # The page read the forest again: now the box is disabled, with the reason.
    expect(box).to_be_disabled()
    expect(box).to_have_attribute("title", AUTO_DONE)


def test_a_strict_goal_with_an_open_sub_goal_is_not_completed(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "stickler")
    garage = create(server, headers, "Garage", completion="strict")
    create(server, headers, "Sweep", parent_id=garage["id"])
    create(server, headers, "Paint walls", parent_id=garage["id"])
    shelf = create(server, headers, "Shelf", parent_id=garage["id"])
    patch(server, headers, shelf["id"], end=now())
    sign_in(watched, name)
    watch_dialogs(page)
    ops_before = len(operations(server, headers))

    watched.expect_status(409)
    box = page.get_by_role("checkbox", name="Done: Garage")
    box.check()
    expect(page.locator(".notice.error p")).to_have_text(
        "“Garage” is strict: it cannot be completed while a sub-goal is open."
        " Still open: Sweep, Paint walls (2 goals). Complete those first, or change its rule."
    )
    expect(box).not_to_be_checked()
    assert dialogs_opened(page) == 0
    assert goals_by_name(server, headers)["Garage"]["end"] is None
    assert len(operations(server, headers)) == ops_before


def test_a_change_without_effects_on_other_goals_asks_nothing(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "plain")
    sign_in(watched, name)
    add_top_level(page, "Kitchen")
    add_sub_goal(page, "Kitchen", "Dishes")
    add_sub_goal(page, "Kitchen", "Floor")
    add_top_level(page, "Garden")
    dry_runs = watch_dialogs(page)

    page.get_by_role("checkbox", name="Done: Dishes").check()
    # The notice says what was done, and nothing else changed.
    expect(notice(page, "Marked “Dishes” done.").locator("p")).to_have_text("Marked “Dishes” done.")
    page.get_by_role("checkbox", name="Done: Kitchen").check()
    expect(notice(page, "Marked “Kitchen” done.")).to_be_visible()
    page.get_by_role("button", name="Move Floor to…", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New place (under)").select_option(label="Garden")
    dialog.get_by_role("button", name="Move here").click()
    expect(notice(page, "Moved “Floor” to “Garden”.")).to_be_visible()
    page.get_by_role("button", name="Delete Kitchen", exact=True).click()
    expect(notice(page, "Moved “Kitchen” and its 1 sub-goal to the trash.")).to_be_visible()

    # Each change was tried first, and went ahead without a question (the one dialog is the
    # Move to… picker).
    assert len(dry_runs) == 4, dry_runs
    assert dialogs_opened(page) == 1
    goals = goals_by_name(server, headers)
    assert set(goals) == {"Garden", "Floor"}
    assert goals["Floor"]["parent_id"] == goals["Garden"]["id"]
    assert goals["Floor"]["end"] is None
