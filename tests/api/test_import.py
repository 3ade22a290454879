"""POST /api/v2/goals/import: whole nested trees, atomically, ids in pre-order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.goals import API, error_locs, flat_tree, snapshot
from tests.support.problems import assert_problem

IMPORT = f"{API}/goals/import"


def _import(client: Any, account: Any, body: Any, parent_id: Any = None) -> Any:
    query = {} if parent_id is None else {"parent_id": parent_id}
    # Encoded with the standard library: the test client's orjson stops at 255 levels.
    return client.post(
        IMPORT,
        data=json.dumps(body),
        content_type="application/json",
        query_string=query,
        headers=account.headers,
    )


def _ok(client: Any, account: Any, body: Any, parent_id: Any = None) -> list[int]:
    resp = _import(client, account, body, parent_id)
    assert resp.status_code == 201, resp.get_json()
    ids = resp.get_json()["ids"]
    assert all(isinstance(i, int) for i in ids)
    return ids  # type: ignore[no-any-return]


def test_import_single_node(client, alice):
    ids = _ok(
        client,
        alice,
        {
            "name": " Solo ",
            "description": "text",
            "start": "2024-01-01T00:00:00Z",
            "end": "2024-01-02T00:00:00Z",
            "due": "2024-01-03T00:00:00",
        },
    )
    assert len(ids) == 1
    goal = client.get(f"{API}/goals/{ids[0]}", headers=alice.headers).get_json()
    assert goal["name"] == "Solo"
    assert goal["description"] == "text"
    assert (goal["start"], goal["end"], goal["due"]) == (
        "2024-01-01T00:00:00Z",
        "2024-01-02T00:00:00Z",
        "2024-01-03T00:00:00Z",
    )
    assert goal["parent_id"] is None
    assert goal["progress"] == 1.0


def test_import_list_of_nodes(client, alice, make_goal):
    make_goal(alice, "existing")
    ids = _ok(client, alice, [{"name": "a"}, {"name": "b"}, {"name": "c"}])
    assert len(ids) == 3
    roots = client.get(f"{API}/goals?parent=root", headers=alice.headers).get_json()["items"]
    assert [g["name"] for g in roots] == ["existing", "a", "b", "c"]  # appended, in order
    assert [g["id"] for g in roots[1:]] == ids


def test_import_nested_ids_in_pre_order(client, alice):
    body = {
        "name": "root",
        "children": [
            {
                "name": "a",
                "children": [{"name": "a1"}, {"name": "a2", "children": [{"name": "x"}]}],
            },
            {"name": "b", "end": "2030-01-01T00:00:00Z", "children": []},
            {"name": "c", "children": [{"name": "x"}]},  # same name, other parent: fine
        ],
    }
    ids = _ok(client, alice, body)
    items = flat_tree(client, alice)
    assert [i["id"] for i in items] == ids
    assert [(i["name"], i["depth"]) for i in items] == [
        ("root", 0),
        ("a", 1),
        ("a1", 2),
        ("a2", 2),
        ("x", 3),
        ("b", 1),
        ("c", 1),
        ("x", 2),
    ]
    by_id = {i["id"]: i for i in items}
    assert by_id[ids[4]]["parent_id"] == ids[3]
    root = client.get(f"{API}/goals/{ids[0]}", headers=alice.headers).get_json()
    assert root["descendants_count"] == 7
    assert root["done_descendants_count"] == 1
    assert root["progress"] == pytest.approx(1 / 4)  # leaves a1, x, b (done), x


def test_import_under_parent(client, alice, make_goal):
    parent = make_goal(alice, "parent")
    make_goal(alice, "old kid", parent["id"])
    ids = _ok(
        client, alice, [{"name": "new kid", "children": [{"name": "grandkid"}]}], parent["id"]
    )
    got = client.get(f"{API}/goals/{ids[0]}", headers=alice.headers).get_json()
    assert got["parent_id"] == parent["id"]
    assert got["position"] == 1
    kids = client.get(f"{API}/goals?parent={parent['id']}", headers=alice.headers).get_json()
    assert [g["name"] for g in kids["items"]] == ["old kid", "new kid"]
    assert (
        client.get(f"{API}/goals/{parent['id']}", headers=alice.headers).get_json()[
            "descendants_count"
        ]
        == 3
    )


def test_import_a_deep_chain(client, alice):
    depth = 300
    body: dict[str, Any] = {"name": "level 0"}
    node = body
    for i in range(1, depth):
        child: dict[str, Any] = {"name": f"level {i}"}
        node["children"] = [child]
        node = child
    ids = _ok(client, alice, body)
    items = flat_tree(client, alice)
    assert [i["id"] for i in items] == ids
    assert items[-1]["depth"] == depth - 1


def _nested(bad: Any) -> dict[str, Any]:
    """A valid tree with `bad` as the second child of the first child."""
    return {
        "name": "root",
        "children": [
            {"name": "a", "children": [{"name": "a1"}, bad, {"name": "a3"}]},
            {"name": "b"},
        ],
    }


_DEEP_LOC = ["body", "children", 0, "children", 1]

INVALID = [
    pytest.param(_nested({"name": ""}), [*_DEEP_LOC, "name"], id="empty-name"),
    pytest.param(_nested({"name": "   "}), [*_DEEP_LOC, "name"], id="blank-name"),
    pytest.param(_nested({"name": "x" * 201}), [*_DEEP_LOC, "name"], id="long-name"),
    pytest.param(_nested({"name": "a\x00b"}), [*_DEEP_LOC, "name"], id="nul-in-name"),
    pytest.param(_nested({"description": "no name"}), [*_DEEP_LOC, "name"], id="missing-name"),
    pytest.param(_nested({"name": "x", "color": "red"}), [*_DEEP_LOC, "color"], id="unknown"),
    pytest.param(_nested({"name": "x", "id": 5}), [*_DEEP_LOC, "id"], id="unknown-id"),
    pytest.param(_nested({"name": "x", "parent_id": 5}), [*_DEEP_LOC, "parent_id"], id="parent"),
    pytest.param(_nested({"name": 12}), [*_DEEP_LOC, "name"], id="int-name"),
    pytest.param(_nested({"name": "x", "due": 1700000000}), [*_DEEP_LOC, "due"], id="num-due"),
    pytest.param(_nested({"name": "x", "start": "yesterday"}), [*_DEEP_LOC, "start"], id="start"),
    pytest.param(
        _nested({"name": "x", "description": ["list"]}), [*_DEEP_LOC, "description"], id="desc"
    ),
    pytest.param(_nested({"name": "a1"}), [*_DEEP_LOC, "name"], id="duplicate-sibling"),
    pytest.param(_nested({"name": " a1 "}), [*_DEEP_LOC, "name"], id="duplicate-after-trim"),
    pytest.param(
        _nested({"name": "x", "start": "2024-01-02T00:00:00Z", "end": "2024-01-01T00:00:00Z"}),
        [*_DEEP_LOC, "end"],
        id="end-before-start",
    ),
    pytest.param(
        _nested({"name": "x", "children": {"name": "y"}}), [*_DEEP_LOC, "children"], id="kids-obj"
    ),
    pytest.param(_nested({"name": "x", "children": None}), [*_DEEP_LOC, "children"], id="null"),
    pytest.param(_nested("just a string"), _DEEP_LOC, id="node-string"),
    pytest.param(_nested(None), _DEEP_LOC, id="node-null"),
    pytest.param(_nested([{"name": "x"}]), _DEEP_LOC, id="node-list"),
    pytest.param(
        _nested({"name": "x", "children": [{"name": "y"}, 7]}),
        [*_DEEP_LOC, "children", 1],
        id="grandchild-number",
    ),
    pytest.param([{"name": "ok"}, {"name": ""}], ["body", 1, "name"], id="second-top-node"),
    pytest.param([{"name": "same"}, {"name": "same"}], ["body", 1, "name"], id="dup-top"),
    pytest.param({"name": ""}, ["body", "name"], id="single-node"),
    pytest.param([], ["body"], id="empty-list"),
    pytest.param(None, ["body"], id="null-body"),
    pytest.param(42, ["body"], id="number-body"),
    pytest.param("text", ["body"], id="string-body"),
]


@pytest.mark.parametrize(("body", "loc"), INVALID)
def test_one_invalid_node_refuses_the_whole_import(client, alice, make_goal, body, loc):
    parent = make_goal(alice, "parent")
    before = snapshot(client.application, alice.id)
    for where in (None, parent["id"]):
        resp = _import(client, alice, body, where)
        problem = assert_problem(resp, 422)
        assert loc in error_locs(problem), problem["errors"]
    assert snapshot(client.application, alice.id) == before


def test_every_invalid_node_is_reported(client, alice):
    body = [{"name": ""}, {"name": "ok", "children": [{"name": "x", "bogus": 1}, 3]}]
    problem = assert_problem(_import(client, alice, body), 422)
    locs = error_locs(problem)
    assert ["body", 0, "name"] in locs
    assert ["body", 1, "children", 0, "bogus"] in locs
    assert ["body", 1, "children", 1] in locs
    assert flat_tree(client, alice) == []


def test_an_end_in_the_past_without_a_start_is_also_the_start(client, alice):
    # A goal recorded as done long ago started no later than it ended: the start defaults to
    # the end then, instead of to now (which would be an end before the start).
    ended = "2000-01-01T00:00:00Z"
    ids = _ok(client, alice, {"name": "x", "end": ended, "children": [{"name": "y", "end": ended}]})
    post = client.post(f"{API}/goals", json={"name": "z", "end": ended}, headers=alice.headers)
    assert post.status_code == 201, post.get_json()
    for goal_id in [*ids, post.get_json()["id"]]:
        goal = client.get(f"{API}/goals/{goal_id}", headers=alice.headers).get_json()
        assert (goal["start"], goal["end"]) == (ended, ended)


def test_an_end_in_the_future_without_a_start_starts_now(client, alice):
    before = client.get(f"{API}/users/self", headers=alice.headers).get_json()["created_at"]
    [goal_id] = _ok(client, alice, {"name": "x", "end": "2999-01-01T00:00:00Z"})
    goal = client.get(f"{API}/goals/{goal_id}", headers=alice.headers).get_json()
    assert goal["start"] == goal["created_at"]
    assert before < goal["start"] < goal["end"]


def test_name_clash_with_existing_sibling_is_409(client, alice, make_goal):
    parent = make_goal(alice, "parent")
    make_goal(alice, "taken", parent["id"])
    make_goal(alice, "top taken")
    before = snapshot(client.application, alice.id)
    resp = _import(client, alice, [{"name": "fresh"}, {"name": "top taken"}])
    assert assert_problem(resp, 409)["type"].endswith("name-conflict")
    resp = _import(client, alice, {"name": "taken", "children": [{"name": "y"}]}, parent["id"])
    assert_problem(resp, 409)
    assert snapshot(client.application, alice.id) == before
    # a name used deeper, or under another parent, is no clash
    _ok(client, alice, {"name": "taken"})
    _ok(client, alice, {"name": "parent2", "children": [{"name": "top taken"}]})


def test_foreign_or_unknown_parent_is_404(client, alice, bob, make_goal):
    theirs = make_goal(bob, "bob's")
    mine = make_goal(alice, "mine")
    client.delete(f"{API}/goals/{mine['id']}", headers=alice.headers)
    before_bob = snapshot(client.application, bob.id)
    before_alice = snapshot(client.application, alice.id)
    for parent_id in (theirs["id"], 999999, mine["id"]):  # foreign, missing, trashed
        assert_problem(_import(client, alice, {"name": "x"}, parent_id), 404)
    assert snapshot(client.application, bob.id) == before_bob
    assert snapshot(client.application, alice.id) == before_alice


@pytest.mark.parametrize("parent_id", ["abc", "0", "-1", "1.5", str(2**63)])
def test_bad_parent_id_query_is_422(client, alice, parent_id):
    resp = client.post(f"{IMPORT}?parent_id={parent_id}", json={"name": "x"}, headers=alice.headers)
    assert ["query", "parent_id"] in error_locs(assert_problem(resp, 422))
    assert flat_tree(client, alice) == []


def test_import_needs_json(client, alice):
    resp = client.post(IMPORT, data="name=x", headers=alice.headers)
    assert_problem(resp, 415)
    resp = client.post(
        IMPORT, data="{not json", content_type="application/json", headers=alice.headers
    )
    assert_problem(resp, 400)
    assert_problem(client.post(IMPORT, json={"name": "x"}), 401)
    assert flat_tree(client, alice) == []
