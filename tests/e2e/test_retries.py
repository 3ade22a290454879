"""The browser UI's writes carry an Idempotency-Key: a double click or a retry does them once."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_ui import expect, goals_by_name, row
from tests.support.browser import Watched, new_account, sign_in, wait_until_idle

pytestmark = [pytest.mark.live, pytest.mark.browser]

CREATE = re.compile(r".*/api/v2/goals$")


def _creates(page: Any) -> list[Any]:
    """The answers to POST /api/v2/goals the page receives, as they come."""
    answers: list[Any] = []

    def seen(response: Any) -> None:
        if response.request.method == "POST" and CREATE.match(response.url):
            answers.append(response)

    page.on("response", seen)
    return answers


def test_a_double_clicked_add_creates_one_goal_and_both_clicks_succeed(watched: Watched) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "double")
    sign_in(watched, name)
    watched.expect_status(409)  # the second click may first hear that the first still runs
    held: list[Any] = []

    def hold(route: Any) -> None:
        if route.request.method == "POST":
            held.append(route)  # sent on together below, so both reach the server at once
        else:
            route.continue_()

    page.route(CREATE, hold)
    answers = _creates(page)
    page.get_by_label("New goal").fill("Only once")
    page.get_by_role("button", name="Add goal").dblclick()
    for _ in range(100):
        if len(held) == 2:
            break
        page.wait_for_timeout(50)
    assert len(held) == 2, "the double click did not send two requests"
    keys = [route.request.headers.get("idempotency-key") for route in held]
    assert keys[0]
    assert keys[0] == keys[1], keys
    for route in held:
        route.continue_()
    page.unroute(CREATE, hold)

    # One request runs; the other gets its answer again (after a 409 while it still ran, maybe).
    for _ in range(200):
        final = [a for a in answers if a.status == 201]
        if len(final) == 2:
            break
        page.wait_for_timeout(50)
    assert len(final) == 2, [(a.status, a.headers) for a in answers]
    wait_until_idle(page)
    expect(row(page, "Only once")).to_have_count(1)
    expect(page.locator("#new-goal-error")).to_have_text("")
    assert [g["name"] for g in goals_by_name(server, headers).values()] == ["Only once"]
    assert sorted(a.headers.get("idempotent-replayed", "") for a in final) == ["", "true"]
    assert {a.json()["id"] for a in final} == {goals_by_name(server, headers)["Only once"]["id"]}


def test_a_retry_after_a_lost_answer_is_done_once_and_then_a_new_action_gets_a_new_key(
    watched: Watched,
) -> None:
    page, server = watched.page, watched.server
    name, headers = new_account(server, "retry")
    sign_in(watched, name)
    sent: list[str] = []

    def lose_answer(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        sent.append(route.request.headers["idempotency-key"])
        if len(sent) == 1:
            route.fetch()  # the server creates the goal...
            route.abort("connectionreset")  # ...but its answer never arrives
        else:
            route.continue_()

    page.route(CREATE, lose_answer)
    page.get_by_label("New goal").fill("Survives a dropped answer")
    page.get_by_role("button", name="Add goal").click()
    expect(page.locator("#new-goal-error")).to_contain_text("could not be reached")
    assert list(goals_by_name(server, headers)) == ["Survives a dropped answer"]

    # The person tries again: the same write, so the same key; the server answers as the first.
    page.get_by_role("button", name="Add goal").click()
    expect(row(page, "Survives a dropped answer")).to_have_count(1)
    expect(page.locator("#new-goal-error")).to_have_text("")
    assert sent[1] == sent[0]
    assert list(goals_by_name(server, headers)) == ["Survives a dropped answer"]

    # Answered, the action is over: the next write, even an identical one, is a new request.
    page.get_by_label("New goal").fill("Survives a dropped answer")
    page.get_by_role("button", name="Add goal").click()
    watched.expect_status(409)
    expect(page.locator("#new-goal-error")).to_contain_text("already taken")
    assert sent[2] != sent[0]
    page.unroute(CREATE, lose_answer)
    # Chromium logs the dropped answer as a failed load; that one was provoked here.
    watched.console_errors[:] = [e for e in watched.console_errors if "ERR_" not in e]
