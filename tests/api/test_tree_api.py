"""Tree reads over HTTP: the forest and one subtree, nested and flat, filters, and depth 10 000."""

from __future__ import annotations

from typing import Any

import pytest

from overachiever.core.db import db
from overachiever.users.models import User
from tests.support.deep_json import parse_deep
from tests.support.goals import API, flat_tree, ts
from tests.support.problems import assert_problem
from tests.support.services import bulk_create_chain

GOALS = f"{API}/goals"


def _tree(client: Any, account: Any, path: str = "/goals/tree", **params: Any) -> Any:
    resp = client.get(f"{API}{path}", query_string=params, headers=account.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/json"
    return resp.get_json()


def _shape(node: dict[str, Any]) -> Any:
    """A nested node as (name, [children shapes]), for compact comparisons (shallow trees)."""
    return (node["name"], [_shape(kid) for kid in node["children"]])


@pytest.fixture
def forest(alice, make_goal):
    """Two top-level trees:  home{kitchen{dishes, floor}, garden}  and  work{report}."""
    ids = {}
    ids["home"] = make_goal(alice, "home")["id"]
    ids["kitchen"] = make_goal(alice, "kitchen", ids["home"])["id"]
    ids["dishes"] = make_goal(alice, "dishes", ids["kitchen"], due="2030-01-01T00:00:00Z")["id"]
    ids["floor"] = make_goal(alice, "floor", ids["kitchen"])["id"]
    ids["garden"] = make_goal(alice, "garden", ids["home"])["id"]
    ids["work"] = make_goal(alice, "work")["id"]
    ids["report"] = make_goal(alice, "report", ids["work"])["id"]
    return ids


def _complete(client: Any, account: Any, goal_id: int, end: str | None = "2031-01-01T00:00:00Z"):
    resp = client.patch(f"{GOALS}/{goal_id}", json={"end": end}, headers=account.headers)
    assert resp.status_code == 200, resp.get_json()


# --------------------------------------------------------------------------------- the forest


def test_forest_nested(client, alice, bob, forest, make_goal):
    make_goal(bob, "not alice's")
    body = _tree(client, alice)
    assert set(body) == {"items"}
    assert [_shape(n) for n in body["items"]] == [
        ("home", [("kitchen", [("dishes", []), ("floor", [])]), ("garden", [])]),
        ("work", [("report", [])]),
    ]
    home = body["items"][0]
    assert set(home) == {"id", "name", "end", "due", "progress", "completion", "children"}
    assert home["id"] == forest["home"]
    dishes = home["children"][0]["children"][0]
    assert dishes["id"] == forest["dishes"]
    assert dishes["due"] == "2030-01-01T00:00:00Z"
    assert dishes["end"] is None
    assert dishes["progress"] == 0.0


def test_forest_flat_is_pre_order(client, alice, forest):
    items = _tree(client, alice, format="flat")["items"]
    assert [(i["name"], i["depth"]) for i in items] == [
        ("home", 0),
        ("kitchen", 1),
        ("dishes", 2),
        ("floor", 2),
        ("garden", 1),
        ("work", 0),
        ("report", 1),
    ]
    by_name = {i["name"]: i for i in items}
    assert set(by_name["dishes"]) == {
        "id",
        "parent_id",
        "depth",
        "name",
        "end",
        "due",
        "progress",
        "completion",
    }
    assert by_name["dishes"]["parent_id"] == forest["kitchen"]
    assert by_name["home"]["parent_id"] is None
    assert all(by_name[name]["id"] == goal_id for name, goal_id in forest.items())


def test_empty_forest(client, alice):
    assert _tree(client, alice) == {"items": []}
    assert _tree(client, alice, format="flat") == {"items": []}


def test_forest_follows_sibling_order(client, alice, forest):
    resp = client.patch(f"{GOALS}/{forest['garden']}", json={"position": 0}, headers=alice.headers)
    assert resp.status_code == 200
    home = _tree(client, alice)["items"][0]
    assert [kid["name"] for kid in home["children"]] == ["garden", "kitchen"]


def test_progress_changes_as_goals_complete(client, alice, forest):
    def progress() -> dict[str, float]:
        return {i["name"]: i["progress"] for i in _tree(client, alice, format="flat")["items"]}

    # leaves: dishes, floor, garden (home); report (work)
    assert set(progress().values()) == {0.0}
    _complete(client, alice, forest["dishes"])
    p = progress()
    assert p["dishes"] == 1.0
    assert p["kitchen"] == pytest.approx(0.5)
    assert p["home"] == pytest.approx(1 / 3)
    assert p["work"] == 0.0
    # a done goal counts every leaf below it as done
    _complete(client, alice, forest["kitchen"])
    p = progress()
    assert (p["kitchen"], p["floor"]) == (1.0, 0.0)
    assert p["home"] == pytest.approx(2 / 3)
    _complete(client, alice, forest["garden"])
    assert progress()["home"] == pytest.approx(1.0)
    # nested output carries the same numbers
    nested = _tree(client, alice)["items"][0]
    assert nested["progress"] == pytest.approx(1.0)
    assert nested["children"][0]["progress"] == 1.0
    # reopening brings progress back down
    _complete(client, alice, forest["kitchen"], None)
    assert progress()["home"] == pytest.approx(2 / 3)
    assert progress()["kitchen"] == pytest.approx(0.5)


def test_tree_reads_tell_each_goals_completion_rule(client, alice, forest):
    for name, rule in (("home", "auto"), ("kitchen", "cascade"), ("work", "strict")):
        resp = client.patch(
            f"{GOALS}/{forest[name]}", json={"completion": rule}, headers=alice.headers
        )
        assert resp.status_code == 200, resp.get_json()
    want = dict.fromkeys(forest, "manual") | {
        "home": "auto",
        "kitchen": "cascade",
        "work": "strict",
    }
    flat = _tree(client, alice, format="flat")["items"]
    assert {i["name"]: i["completion"] for i in flat} == want
    nested = _tree(client, alice)["items"]
    assert [(n["name"], n["completion"]) for n in nested] == [("home", "auto"), ("work", "strict")]
    kitchen = nested[0]["children"][0]
    assert (kitchen["completion"], kitchen["children"][0]["completion"]) == ("cascade", "manual")
    # The subtree reads, nested and flat, carry it too.
    node = _tree(client, alice, f"/goals/{forest['kitchen']}/tree")
    assert node["completion"] == "cascade"
    items = _tree(client, alice, f"/goals/{forest['home']}/tree", format="flat")["items"]
    assert {i["name"]: i["completion"] for i in items} == {
        "home": "auto",
        "kitchen": "cascade",
        "dishes": "manual",
        "floor": "manual",
        "garden": "manual",
    }


def test_forest_status_filter_keeps_ancestors(client, alice, forest):
    _complete(client, alice, forest["dishes"])
    done = _tree(client, alice, status="done")
    assert [_shape(n) for n in done["items"]] == [("home", [("kitchen", [("dishes", [])])])]
    flat_done = _tree(client, alice, status="done", format="flat")["items"]
    assert [i["name"] for i in flat_done] == ["home", "kitchen", "dishes"]
    open_ = _tree(client, alice, status="open")
    assert [_shape(n) for n in open_["items"]] == [
        ("home", [("kitchen", [("floor", [])]), ("garden", [])]),
        ("work", [("report", [])]),
    ]
    _complete(client, alice, forest["report"])
    _complete(client, alice, forest["work"])
    assert [n["name"] for n in _tree(client, alice, status="open")["items"]] == ["home"]
    assert _tree(client, alice, status="all")["items"][1]["name"] == "work"


def test_forest_depth_filter(client, alice, forest):
    roots = _tree(client, alice, depth=1)
    assert [_shape(n) for n in roots["items"]] == [("home", []), ("work", [])]
    two = _tree(client, alice, depth=2)
    assert [_shape(n) for n in two["items"]] == [
        ("home", [("kitchen", []), ("garden", [])]),
        ("work", [("report", [])]),
    ]
    # progress is still that of the whole subtree, not of the visible part
    _complete(client, alice, forest["dishes"])
    assert _tree(client, alice, depth=1)["items"][0]["progress"] == pytest.approx(1 / 3)
    flat = _tree(client, alice, depth=2, format="flat")["items"]
    assert max(i["depth"] for i in flat) == 1
    assert len(flat) == 5
    assert len(_tree(client, alice, depth=3, format="flat")["items"]) == 7
    for bad in (0, -1, "x"):
        resp = client.get(f"{GOALS}/tree", query_string={"depth": bad}, headers=alice.headers)
        assert_problem(resp, 422)


def test_forest_leaves_out_trash(client, alice, forest):
    assert client.delete(f"{GOALS}/{forest['kitchen']}", headers=alice.headers).status_code == 204
    names = [i["name"] for i in flat_tree(client, alice)]
    assert names == ["home", "garden", "work", "report"]


# ----------------------------------------------------------------------------- one subtree


def test_subtree_nested_is_the_node_itself(client, alice, forest):
    node = _tree(client, alice, f"/goals/{forest['kitchen']}/tree")
    assert node["id"] == forest["kitchen"]
    assert _shape(node) == ("kitchen", [("dishes", []), ("floor", [])])
    assert set(node) == {"id", "name", "end", "due", "progress", "completion", "children"}
    leaf = _tree(client, alice, f"/goals/{forest['garden']}/tree")
    assert _shape(leaf) == ("garden", [])


def test_subtree_flat(client, alice, forest):
    items = _tree(client, alice, f"/goals/{forest['kitchen']}/tree", format="flat")["items"]
    assert [(i["name"], i["depth"]) for i in items] == [
        ("kitchen", 0),
        ("dishes", 1),
        ("floor", 1),
    ]
    assert items[0]["parent_id"] == forest["home"]


def test_subtree_filters_and_progress(client, alice, forest):
    _complete(client, alice, forest["floor"])
    path = f"/goals/{forest['home']}/tree"
    node = _tree(client, alice, path, depth=1)
    assert _shape(node) == ("home", [])
    assert node["progress"] == pytest.approx(1 / 3)
    assert _shape(_tree(client, alice, path, status="done")) == (
        "home",
        [("kitchen", [("floor", [])])],
    )
    # the root is shown whatever the status filter says
    node = _tree(client, alice, f"/goals/{forest['work']}/tree", status="done")
    assert _shape(node) == ("work", [])
    flat = _tree(client, alice, f"/goals/{forest['work']}/tree", status="done", format="flat")
    assert [i["name"] for i in flat["items"]] == ["work"]


def test_subtree_of_missing_or_trashed_goal_is_404(client, alice, forest):
    assert_problem(client.get(f"{GOALS}/999999/tree", headers=alice.headers), 404)
    client.delete(f"{GOALS}/{forest['kitchen']}", headers=alice.headers)
    for gid in (forest["kitchen"], forest["dishes"]):
        assert_problem(client.get(f"{GOALS}/{gid}/tree", headers=alice.headers), 404)


# -------------------------------------------------------------------------- 10 000 deep

DEPTH = 10_000


def _chain_ids(node: dict[str, Any]) -> list[int]:
    """Ids down a chain of single children, walked iteratively."""
    ids = []
    current: dict[str, Any] | None = node
    while current is not None:
        ids.append(current["id"])
        kids = current["children"]
        assert len(kids) <= 1
        current = kids[0] if kids else None
    return ids


@pytest.fixture
def chain(app, alice) -> list[int]:
    """A chain 10 000 deep owned by alice, made directly through the service."""
    with app.app_context():
        owner = db.session.get(User, alice.id)
        ids = bulk_create_chain(owner, (f"level {i}" for i in range(DEPTH)))
        db.session.remove()
    assert len(ids) == DEPTH
    return ids


def test_deep_chain_through_http(client, alice, chain):
    top, deepest = chain[0], chain[-1]

    # The whole forest, nested: valid JSON, 10 000 levels deep, in chain order.
    resp = client.get(f"{GOALS}/tree", headers=alice.headers)
    assert resp.status_code == 200
    forest = parse_deep(resp.get_data())
    assert len(forest["items"]) == 1
    assert _chain_ids(forest["items"][0]) == chain

    # ... and flat.
    items = flat_tree(client, alice)
    assert len(items) == DEPTH
    assert [i["id"] for i in items] == chain
    assert [i["depth"] for i in items] == list(range(DEPTH))
    assert items[-1]["parent_id"] == chain[-2]

    # One goal in the middle: its subtree, nested and flat, and its roll-ups.
    middle = chain[DEPTH // 2]
    node = parse_deep(client.get(f"{GOALS}/{middle}/tree", headers=alice.headers).get_data())
    assert _chain_ids(node) == chain[DEPTH // 2 :]
    assert len(flat_tree(client, alice, f"/goals/{middle}/tree")) == DEPTH // 2
    got = client.get(f"{GOALS}/{top}", headers=alice.headers).get_json()
    assert got["descendants_count"] == DEPTH - 1
    assert got["children_count"] == 1

    # Completing the deepest goal completes the one leaf of the chain.
    resp = client.patch(f"{GOALS}/{deepest}", json={"end": "2031-01-01"}, headers=alice.headers)
    assert resp.status_code == 200
    assert client.get(f"{GOALS}/{top}", headers=alice.headers).get_json()["progress"] == 1.0

    # Moving the top under the deepest would be a cycle: 409 with the whole path.
    resp = client.patch(f"{GOALS}/{top}", json={"parent_id": deepest}, headers=alice.headers)
    body = assert_problem(resp, 409)
    assert body["path"] == chain
    # Moving the deepest to the top level works.
    resp = client.patch(f"{GOALS}/{deepest}", json={"parent_id": None}, headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json()["parent_id"] is None
    roots = client.get(GOALS, query_string={"parent": "root"}, headers=alice.headers).get_json()
    assert [g["id"] for g in roots["items"]] == [top, deepest]
    got = client.get(f"{GOALS}/{top}", headers=alice.headers).get_json()
    assert got["descendants_count"] == DEPTH - 2
    assert got["progress"] == 0.0

    # Trash the chain (without the goal moved out), then restore it.
    assert client.delete(f"{GOALS}/{top}", headers=alice.headers).status_code == 204
    trash = client.get(f"{API}/trash", headers=alice.headers).get_json()["items"]
    assert [(t["id"], t["goals_count"]) for t in trash] == [(top, DEPTH - 1)]
    assert [i["id"] for i in flat_tree(client, alice)] == [deepest]
    assert_problem(client.get(f"{GOALS}/{chain[-2]}", headers=alice.headers), 404)
    resp = client.post(f"{API}/trash/{top}/restore", headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json()["descendants_count"] == DEPTH - 2
    items = flat_tree(client, alice)
    assert [i["id"] for i in items] == [*chain[:-1], deepest]
    assert items[-2]["depth"] == DEPTH - 2
    assert ts(client.get(f"{GOALS}/{deepest}", headers=alice.headers).get_json()["end"])
