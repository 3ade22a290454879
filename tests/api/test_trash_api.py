"""The trash over HTTP: listing, restoring with the same ids, purging, and ownership."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.goals import API, flat_tree, snapshot, ts
from tests.support.problems import assert_problem

GOALS = f"{API}/goals"
TRASH = f"{API}/trash"


def _trash(client: Any, account: Any) -> list[dict[str, Any]]:
    resp = client.get(TRASH, headers=account.headers)
    assert resp.status_code == 200
    return resp.get_json()["items"]  # type: ignore[no-any-return]


def _delete(client: Any, account: Any, goal_id: int) -> None:
    assert client.delete(f"{GOALS}/{goal_id}", headers=account.headers).status_code == 204


def _restore(client: Any, account: Any, goal_id: int) -> Any:
    return client.post(f"{TRASH}/{goal_id}/restore", headers=account.headers)


@pytest.fixture
def tree(alice, make_goal):
    """home{kitchen{dishes, floor}, garden}."""
    ids = {"home": make_goal(alice, "home")["id"]}
    ids["kitchen"] = make_goal(alice, "kitchen", ids["home"], description="d")["id"]
    ids["dishes"] = make_goal(alice, "dishes", ids["kitchen"], end="2031-01-01T00:00:00Z")["id"]
    ids["floor"] = make_goal(alice, "floor", ids["kitchen"])["id"]
    ids["garden"] = make_goal(alice, "garden", ids["home"])["id"]
    return ids


def test_trash_starts_empty(client, alice):
    assert _trash(client, alice) == []


def test_trash_listing(client, alice, tree):
    _delete(client, alice, tree["garden"])
    _delete(client, alice, tree["kitchen"])
    items = _trash(client, alice)
    # subtree roots only, newest first
    assert [(i["id"], i["name"], i["parent_id"], i["goals_count"]) for i in items] == [
        (tree["kitchen"], "kitchen", tree["home"], 3),
        (tree["garden"], "garden", tree["home"], 1),
    ]
    for item in items:
        assert set(item) == {"id", "name", "parent_id", "deleted_at", "purge_at", "goals_count"}
        assert ts(item["purge_at"]) - ts(item["deleted_at"]) == timedelta(days=30)
    assert ts(items[0]["deleted_at"]) >= ts(items[1]["deleted_at"])


def test_restore_brings_back_the_subtree_with_the_same_ids(client, alice, tree):
    before = flat_tree(client, alice)
    kitchen = client.get(f"{GOALS}/{tree['kitchen']}", headers=alice.headers).get_json()
    _delete(client, alice, tree["kitchen"])
    assert [i["name"] for i in flat_tree(client, alice)] == ["home", "garden"]
    resp = _restore(client, alice, tree["kitchen"])
    assert resp.status_code == 200
    assert resp.headers["ETag"]
    restored = resp.get_json()
    assert restored["id"] == tree["kitchen"]
    assert restored["parent_id"] == tree["home"]
    assert restored["description"] == "d"
    assert restored["descendants_count"] == 2
    assert restored["progress"] == 0.5
    assert restored["version"] > kitchen["version"]
    assert flat_tree(client, alice) == before  # same ids, same places, same order
    read = client.get(f"{GOALS}/{tree['kitchen']}", headers=alice.headers)
    assert read.get_json() == restored
    assert read.headers["ETag"] == resp.headers["ETag"]
    assert _trash(client, alice) == []
    assert _restore(client, alice, tree["kitchen"]).status_code == 404  # no longer in the trash


def test_only_trash_roots_are_restorable(client, alice, tree):
    _delete(client, alice, tree["kitchen"])
    for gid in (tree["dishes"], tree["home"], 999999):  # inside a trashed subtree, live, missing
        assert_problem(_restore(client, alice, gid), 404)
        assert_problem(client.delete(f"{TRASH}/{gid}", headers=alice.headers), 404)
    assert [i["id"] for i in _trash(client, alice)] == [tree["kitchen"]]


def test_restore_when_parent_is_gone_goes_to_top_level(client, alice, tree, make_goal):
    make_goal(alice, "other top")
    _delete(client, alice, tree["kitchen"])
    _delete(client, alice, tree["home"])  # the parent follows it into the trash
    resp = _restore(client, alice, tree["kitchen"])
    assert resp.status_code == 200
    assert resp.get_json()["parent_id"] is None
    assert [(i["name"], i["depth"]) for i in flat_tree(client, alice)] == [
        ("other top", 0),
        ("kitchen", 0),
        ("dishes", 1),
        ("floor", 1),
    ]
    # restoring the old parent brings back only what was trashed with it
    resp = _restore(client, alice, tree["home"])
    assert resp.get_json()["descendants_count"] == 1
    assert [i["name"] for i in flat_tree(client, alice, f"/goals/{tree['home']}/tree")] == [
        "home",
        "garden",
    ]


def test_restore_when_parent_was_purged_goes_to_top_level(client, alice, tree):
    _delete(client, alice, tree["kitchen"])
    _delete(client, alice, tree["home"])
    assert client.delete(f"{TRASH}/{tree['home']}", headers=alice.headers).status_code == 204
    assert [i["id"] for i in _trash(client, alice)] == [tree["kitchen"]]
    resp = _restore(client, alice, tree["kitchen"])
    assert resp.status_code == 200
    assert resp.get_json()["parent_id"] is None
    assert [i["name"] for i in flat_tree(client, alice)] == ["kitchen", "dishes", "floor"]


def test_restore_into_restored_parent(client, alice, tree):
    _delete(client, alice, tree["dishes"])
    _delete(client, alice, tree["home"])
    assert _restore(client, alice, tree["home"]).status_code == 200
    resp = _restore(client, alice, tree["dishes"])
    assert resp.get_json()["parent_id"] == tree["kitchen"]
    assert len(flat_tree(client, alice)) == 5


def test_restore_name_clash_is_409(client, alice, tree, make_goal):
    _delete(client, alice, tree["kitchen"])
    make_goal(alice, "kitchen", tree["home"])
    before = snapshot(client.application, alice.id)
    assert assert_problem(_restore(client, alice, tree["kitchen"]), 409)["type"].endswith(
        "name-conflict"
    )
    assert snapshot(client.application, alice.id) == before
    assert [i["id"] for i in _trash(client, alice)] == [tree["kitchen"]]
    # also at the top level, when the parent is gone
    _delete(client, alice, tree["home"])
    make_goal(alice, "kitchen")
    assert_problem(_restore(client, alice, tree["kitchen"]), 409)


def test_purge(client, alice, tree):
    _delete(client, alice, tree["kitchen"])
    _delete(client, alice, tree["garden"])
    resp = client.delete(f"{TRASH}/{tree['kitchen']}", headers=alice.headers)
    assert resp.status_code == 204
    assert resp.get_data() == b""
    assert [i["id"] for i in _trash(client, alice)] == [tree["garden"]]
    for gid in (tree["kitchen"], tree["dishes"]):
        assert_problem(_restore(client, alice, gid), 404)
        assert_problem(client.get(f"{GOALS}/{gid}", headers=alice.headers), 404)
    assert_problem(client.delete(f"{TRASH}/{tree['kitchen']}", headers=alice.headers), 404)
    # the rows are gone for good
    assert {row[0] for row in snapshot(client.application, alice.id)} == {
        tree["home"],
        tree["garden"],
    }
    assert (
        client.get(f"{GOALS}/{tree['home']}", headers=alice.headers).get_json()["descendants_count"]
        == 0
    )


def test_other_users_trash_is_404(client, alice, bob, make_goal):
    theirs = make_goal(bob, "bob's")
    make_goal(bob, "kid", theirs["id"])
    _delete(client, bob, theirs["id"])
    before = snapshot(client.application, bob.id)
    assert _trash(client, alice) == []
    assert_problem(_restore(client, alice, theirs["id"]), 404)
    assert_problem(client.delete(f"{TRASH}/{theirs['id']}", headers=alice.headers), 404)
    assert snapshot(client.application, bob.id) == before
    assert [i["id"] for i in _trash(client, bob)] == [theirs["id"]]
    assert _restore(client, bob, theirs["id"]).status_code == 200


def test_trash_requires_a_token(client, alice, tree):
    _delete(client, alice, tree["garden"])
    assert_problem(client.get(TRASH), 401)
    assert_problem(client.post(f"{TRASH}/{tree['garden']}/restore"), 401)
    assert_problem(client.delete(f"{TRASH}/{tree['garden']}"), 401)
    assert len(_trash(client, alice)) == 1
