"""The history API over HTTP: goal events, operations, undo and redo, as_of, the feed.

Status codes, problem types and paging as a client sees them; another user's goals and
operations are 404s; every path that changes goals (v2, v1.0) is on the record.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.goals import API, ts
from tests.support.problems import assert_problem

GOALS = f"{API}/goals"
OPS = f"{API}/operations"
PROBLEM = "urn:overachiever:problem:"


def _ops(client: Any, account: Any, **query: Any) -> dict[str, Any]:
    resp = client.get(OPS, headers=account.headers, query_string=query)
    assert resp.status_code == 200
    return resp.get_json()  # type: ignore[no-any-return]


def _last_op(client: Any, account: Any) -> dict[str, Any]:
    return _ops(client, account, limit=1)["items"][0]  # type: ignore[no-any-return]


def _undo(client: Any, account: Any, op_id: int) -> Any:
    return client.post(f"{OPS}/{op_id}/undo", headers=account.headers)


def _history(client: Any, account: Any, goal_id: int, **query: Any) -> Any:
    return client.get(f"{GOALS}/{goal_id}/history", headers=account.headers, query_string=query)


def test_a_rename_is_in_the_goals_history_with_before_and_after(client, alice, make_goal):
    goal = make_goal(alice, "Paint")["id"]
    client.patch(f"{GOALS}/{goal}", json={"name": "Paint walls"}, headers=alice.headers)
    body = _history(client, alice, goal).get_json()
    assert body["total"] == 2
    newest = body["items"][0]
    assert newest["kind"] == "updated"
    assert newest["changes"] == {"name": ["Paint", "Paint walls"]}
    assert newest["actor"] == {"id": alice.id, "name": "alice"}
    assert set(newest) == {
        "id",
        "operation_id",
        "at",
        "actor",
        "goal_id",
        "name",
        "kind",
        "changes",
    }
    assert ts(newest["at"]) is not None


def test_history_pages_with_links(client, alice, make_goal):
    goal = make_goal(alice, "g")["id"]
    for i in range(4):
        client.patch(f"{GOALS}/{goal}", json={"name": f"g{i}"}, headers=alice.headers)
    resp = _history(client, alice, goal, limit=2, offset=2)
    body = resp.get_json()
    assert (body["total"], body["offset"], body["limit"]) == (5, 2, 2)
    assert [e["changes"]["name"][1] for e in body["items"]] == ["g1", "g0"]
    assert 'rel="next"' in resp.headers["Link"]
    assert 'rel="prev"' in resp.headers["Link"]


def test_undo_and_redo_over_http(client, alice, make_goal):
    goal = make_goal(alice, "Paint")["id"]
    client.patch(f"{GOALS}/{goal}", json={"end": "2030-01-01T00:00:00Z"}, headers=alice.headers)
    completed = _last_op(client, alice)
    assert (completed["kind"], completed["goal_ids"]) == ("update", [goal])
    resp = _undo(client, alice, completed["id"])
    assert resp.status_code == 200
    undo_op = resp.get_json()["operation"]
    assert (undo_op["kind"], undo_op["undoes"]) == ("undo", completed["id"])
    assert client.get(f"{GOALS}/{goal}", headers=alice.headers).get_json()["end"] is None
    one = client.get(f"{OPS}/{completed['id']}", headers=alice.headers).get_json()
    assert one["undone_by"] == undo_op["id"]
    # Undoing twice is refused; undoing the undo redoes.
    body = assert_problem(_undo(client, alice, completed["id"]), 409)
    assert body["type"] == PROBLEM + "already-undone"
    assert body["undone_by"] == undo_op["id"]
    assert _undo(client, alice, undo_op["id"]).status_code == 200
    assert client.get(f"{GOALS}/{goal}", headers=alice.headers).get_json()["end"] is not None


def test_a_delete_can_be_undone(client, alice, make_goal):
    home = make_goal(alice, "home")["id"]
    make_goal(alice, "kitchen", home)
    assert client.delete(f"{GOALS}/{home}", headers=alice.headers).status_code == 204
    trashed = _last_op(client, alice)
    assert (trashed["kind"], trashed["goals_count"]) == ("trash", 2)
    assert _undo(client, alice, trashed["id"]).status_code == 200
    tree = client.get(f"{GOALS}/tree", headers=alice.headers).get_json()["items"]
    assert [(n["name"], [c["name"] for c in n["children"]]) for n in tree] == [
        ("home", ["kitchen"])
    ]


def test_a_conflicting_undo_names_the_later_operations(client, alice, make_goal):
    goal = make_goal(alice, "g")["id"]
    client.patch(f"{GOALS}/{goal}", json={"name": "first"}, headers=alice.headers)
    first = _last_op(client, alice)["id"]
    client.patch(f"{GOALS}/{goal}", json={"name": "second"}, headers=alice.headers)
    second = _last_op(client, alice)["id"]
    body = assert_problem(_undo(client, alice, first), 409)
    assert body["type"] == PROBLEM + "undo-conflict"
    assert body["conflicts"] == [second]
    assert client.get(f"{GOALS}/{goal}", headers=alice.headers).get_json()["name"] == "second"


def test_a_purge_is_not_undoable(client, alice, make_goal):
    goal = make_goal(alice, "g")["id"]
    client.delete(f"{GOALS}/{goal}", headers=alice.headers)
    assert client.delete(f"{API}/trash/{goal}", headers=alice.headers).status_code == 204
    purge = _last_op(client, alice)
    assert purge["kind"] == "purge"
    assert (
        assert_problem(_undo(client, alice, purge["id"]), 409)["type"] == PROBLEM + "not-undoable"
    )
    # Its goal is gone, and so is its history.
    assert_problem(_history(client, alice, goal), 404)


def test_another_users_goals_and_operations_are_404s(client, alice, bob, make_goal):
    goal = make_goal(alice, "g")["id"]
    op = _last_op(client, alice)["id"]
    assert_problem(_history(client, bob, goal), 404)
    assert_problem(client.get(f"{OPS}/{op}", headers=bob.headers), 404)
    assert_problem(_undo(client, bob, op), 404)
    assert _ops(client, bob)["total"] == 0
    assert client.get(f"{GOALS}/{goal}", headers=alice.headers).status_code == 200


@pytest.mark.parametrize("path", ["/operations", "/operations/1", "/changes", "/goals/1/history"])
def test_history_needs_a_token(client, path):
    assert_problem(client.get(f"{API}{path}"), 401)


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "many"}])
def test_bad_paging_is_a_422(client, alice, query):
    assert_problem(client.get(OPS, headers=alice.headers, query_string=query), 422)


def test_as_of_over_http(client, alice, make_goal):
    home = make_goal(alice, "home")["id"]
    make_goal(alice, "kid", home)
    at = _last_op(client, alice)["at"]
    client.patch(f"{GOALS}/{home}", json={"name": "house"}, headers=alice.headers)
    client.post(GOALS, json={"name": "later"}, headers=alice.headers)
    query = {"as_of": at}
    past = client.get(f"{GOALS}/tree", headers=alice.headers, query_string=query).get_json()
    assert [(n["name"], len(n["children"])) for n in past["items"]] == [("home", 1)]
    goal = client.get(f"{GOALS}/{home}", headers=alice.headers, query_string=query)
    assert goal.status_code == 200
    assert "ETag" not in goal.headers
    assert (goal.get_json()["name"], goal.get_json()["children_count"]) == ("home", 1)
    sub = client.get(f"{GOALS}/{home}/tree", headers=alice.headers, query_string=query)
    assert sub.get_json()["name"] == "home"
    flat = client.get(
        f"{GOALS}/tree", headers=alice.headers, query_string={**query, "format": "flat"}
    ).get_json()["items"]
    assert [i["name"] for i in flat] == ["home", "kid"]


def test_as_of_tree_reads_tell_the_completion_rule_then(client, alice, make_goal):
    home = make_goal(alice, "home", completion="cascade")["id"]
    make_goal(alice, "kid", home)
    at = _last_op(client, alice)["at"]
    resp = client.patch(f"{GOALS}/{home}", json={"completion": "strict"}, headers=alice.headers)
    assert resp.status_code == 200
    then = {"as_of": at, "format": "flat"}
    for path in (f"{GOALS}/tree", f"{GOALS}/{home}/tree"):
        items = client.get(path, headers=alice.headers, query_string=then).get_json()["items"]
        assert [(i["name"], i["completion"]) for i in items] == [
            ("home", "cascade"),
            ("kid", "manual"),
        ]
    now = client.get(f"{GOALS}/tree", headers=alice.headers).get_json()["items"]
    assert now[0]["completion"] == "strict"


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "T12:00"])
def test_a_malformed_as_of_is_a_422(client, alice, value):
    resp = client.get(f"{GOALS}/tree", headers=alice.headers, query_string={"as_of": value})
    assert_problem(resp, 422)


def test_as_of_in_the_future_is_a_422_and_before_a_goal_a_404(client, alice, make_goal):
    before = client.get(f"{GOALS}/tree", headers=alice.headers)  # a request, for the clock
    assert before.status_code == 200
    body = assert_problem(
        client.get(
            f"{GOALS}/tree", headers=alice.headers, query_string={"as_of": "2999-01-01T00:00:00Z"}
        ),
        422,
    )
    assert body["errors"][0]["loc"] == ["query", "as_of"]
    goal = make_goal(alice, "g")["id"]
    old = {"as_of": "2020-01-01T00:00:00Z"}
    assert_problem(client.get(f"{GOALS}/{goal}", headers=alice.headers, query_string=old), 404)
    assert_problem(client.get(f"{GOALS}/{goal}/tree", headers=alice.headers, query_string=old), 404)


def test_the_changes_feed_resumes_after_its_cursor(client, alice, bob, make_goal):
    make_goal(alice, "a")
    make_goal(bob, "theirs")
    make_goal(alice, "b")
    first = client.get(f"{API}/changes", headers=alice.headers, query_string={"limit": 1})
    body = first.get_json()
    assert ([e["name"] for e in body["items"]], body["more"]) == (["a"], True)
    rest = client.get(
        f"{API}/changes", headers=alice.headers, query_string={"after": body["cursor"]}
    ).get_json()
    assert ([e["name"] for e in rest["items"]], rest["more"]) == (["b"], False)
    # Bob cannot read on from Alice's cursor, nor from an edited one.
    for who, cursor in ((bob, body["cursor"]), (alice, body["cursor"][:-2] + "xx")):
        resp = client.get(f"{API}/changes", headers=who.headers, query_string={"after": cursor})
        assert assert_problem(resp, 422)["errors"][0]["loc"] == ["query", "after"]


def test_the_v1_api_is_on_the_record(client, alice):
    client.post("/v1.0/goals", json={"name": "Build robots"}, headers=alice.headers)
    client.put("/v1.0/goals", json={"name": "Build robots"}, headers=alice.headers)
    ops = _ops(client, alice)["items"]
    assert [(o["kind"], o["actor"]["name"]) for o in ops] == [
        ("update", "alice"),
        ("create", "alice"),
    ]
    assert _undo(client, alice, ops[0]["id"]).status_code == 200
    tree = client.get("/v1.0/goals", headers=alice.headers).get_json()
    assert tree == {"alice": {"Build robots": {}}}
