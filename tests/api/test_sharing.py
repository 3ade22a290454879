"""Sharing over HTTP: shares made, changed, listed, revoked and left; what each role may do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from overachiever.web.limits import limiter
from tests.support.goals import API, FULL_GOAL
from tests.support.problems import assert_problem

GOALS = f"{API}/goals"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _share(client: Any, owner: Any, goal_id: int, user: str, role: str = "editor") -> Any:
    return client.post(
        f"{GOALS}/{goal_id}/shares", json={"user": user, "role": role}, headers=owner.headers
    )


@pytest.fixture
def carol(signup: Any, alice: Any) -> Any:
    """A third user, who is given nothing."""
    return signup("carol")


@pytest.fixture
def home(alice: Any, make_goal: Any) -> dict[str, int]:
    """Alice's goals: Move (shared) > Pack > Books, and Other, outside the share."""
    move = make_goal(alice, "Move")["id"]
    pack = make_goal(alice, "Pack", move)["id"]
    books = make_goal(alice, "Books", pack)["id"]
    paint = make_goal(alice, "Paint", move)["id"]
    other = make_goal(alice, "Other")["id"]
    return {"move": move, "pack": pack, "books": books, "paint": paint, "other": other}


def test_sharing_by_name_or_email_creates_then_changes_the_role(client, alice, bob, home):
    made = _share(client, alice, home["move"], "bob", "viewer")
    assert made.status_code == 201
    share = made.get_json()
    assert share["goal_id"] == home["move"]
    assert share["user"] == {"id": bob.id, "name": "bob"}
    assert share["role"] == "viewer"
    assert set(share) == {"id", "goal_id", "user", "role", "created_at"}

    again = _share(client, alice, home["move"], "bob@example.com", "editor")
    assert again.status_code == 200
    assert again.get_json()["id"] == share["id"]
    assert again.get_json()["role"] == "editor"

    listed = client.get(f"{GOALS}/{home['move']}/shares", headers=alice.headers).get_json()
    assert [(s["id"], s["role"]) for s in listed["items"]] == [(share["id"], "editor")]


def test_shared_with_me_lists_the_roots_with_owner_role_and_rollups(client, alice, bob, home):
    _share(client, alice, home["move"], "bob", "viewer")
    items = client.get(f"{API}/shared", headers=bob.headers).get_json()["items"]
    assert len(items) == 1
    (item,) = items
    assert item["role"] == "viewer"
    assert item["owner"] == {"id": alice.id, "name": "alice"}
    assert item["goal"]["id"] == home["move"]
    assert item["goal"]["descendants_count"] == 3
    # Alice shared nothing with herself; a trashed shared goal leaves the list.
    assert client.get(f"{API}/shared", headers=alice.headers).get_json() == {"items": []}
    client.delete(f"{GOALS}/{home['move']}", headers=alice.headers)
    assert client.get(f"{API}/shared", headers=bob.headers).get_json() == {"items": []}


def test_a_viewer_reads_the_subtree_but_changes_nothing(client, alice, bob, home):
    _share(client, alice, home["move"], "bob", "viewer")
    for goal_id in (home["move"], home["books"]):
        assert client.get(f"{GOALS}/{goal_id}", headers=bob.headers).status_code == 200
        for part in ("tree", "history", "burnup"):
            resp = client.get(f"{GOALS}/{goal_id}/{part}", headers=bob.headers)
            assert resp.status_code == 200, (part, resp.get_json())
    tree = client.get(f"{GOALS}/{home['move']}/tree", headers=bob.headers).get_json()
    assert [c["name"] for c in tree["children"]] == ["Pack", "Paint"]

    before = client.get(f"{GOALS}/{home['move']}/tree", headers=alice.headers).get_json()
    writes = [
        client.patch(f"{GOALS}/{home['books']}", json={"name": "x"}, headers=bob.headers),
        client.put(
            f"{GOALS}/{home['books']}",
            json={**FULL_GOAL, "parent_id": home["pack"]},
            headers=bob.headers,
        ),
        client.delete(f"{GOALS}/{home['books']}", headers=bob.headers),
        client.post(GOALS, json={"name": "x", "parent_id": home["pack"]}, headers=bob.headers),
        client.post(
            f"{GOALS}/import",
            json={"name": "x"},
            headers=bob.headers,
            query_string={"parent_id": home["pack"]},
        ),
    ]
    for resp in writes:
        assert_problem(resp, 403)
    after = client.get(f"{GOALS}/{home['move']}/tree", headers=alice.headers).get_json()
    assert after == before


def test_an_editor_changes_inside_and_the_goals_stay_the_owners(client, alice, bob, home):
    _share(client, alice, home["move"], "bob", "editor")
    made = client.post(
        GOALS, json={"name": "Boxes", "parent_id": home["pack"]}, headers=bob.headers
    )
    assert made.status_code == 201
    boxes = made.get_json()["id"]
    done = client.patch(f"{GOALS}/{home['books']}", json={"end": _now()}, headers=bob.headers)
    assert done.status_code == 200
    # Complete the shared goal itself, then reopen it.
    root = f"{GOALS}/{home['move']}"
    assert client.patch(root, json={"end": _now()}, headers=bob.headers).status_code == 200
    assert client.patch(root, json={"end": None}, headers=bob.headers).status_code == 200
    moved = client.patch(
        f"{GOALS}/{home['books']}", json={"parent_id": home["paint"]}, headers=bob.headers
    )
    assert moved.status_code == 200
    assert client.delete(f"{GOALS}/{boxes}", headers=bob.headers).status_code == 204
    imported = client.post(
        f"{GOALS}/import",
        json={"name": "Tape", "children": [{"name": "Brown"}]},
        headers=bob.headers,
        query_string={"parent_id": home["pack"]},
    )
    assert imported.status_code == 201

    # Everything went into Alice's tree; Bob's own forest holds nothing.
    alice_tree = client.get(f"{GOALS}/{home['move']}/tree", headers=alice.headers).get_json()
    paint = next(c for c in alice_tree["children"] if c["name"] == "Paint")
    assert [c["name"] for c in paint["children"]] == ["Books"]
    assert client.get(f"{GOALS}/tree", headers=bob.headers).get_json() == {"items": []}
    assert client.get(GOALS, headers=bob.headers).get_json()["total"] == 0
    # History names who did it.
    events = client.get(f"{GOALS}/{home['books']}/history", headers=alice.headers).get_json()
    assert {e["actor"]["name"] for e in events["items"]} == {"alice", "bob"}


def test_the_boundary_of_a_share_holds(client, alice, bob, make_goal, home):
    _share(client, alice, home["move"], "bob", "editor")
    mine = make_goal(bob, "Mine")["id"]
    refused = [
        # The shared goal itself: neither moved, reordered nor trashed.
        client.patch(f"{GOALS}/{home['move']}", json={"parent_id": mine}, headers=bob.headers),
        client.patch(f"{GOALS}/{home['move']}", json={"position": 3}, headers=bob.headers),
        client.delete(f"{GOALS}/{home['move']}", headers=bob.headers),
        # Out of the share: to the top level, under the editor's own goal.
        client.patch(f"{GOALS}/{home['books']}", json={"parent_id": None}, headers=bob.headers),
        client.patch(f"{GOALS}/{home['books']}", json={"parent_id": mine}, headers=bob.headers),
        # The editor's own goal into the share.
        client.patch(f"{GOALS}/{mine}", json={"parent_id": home["pack"]}, headers=bob.headers),
    ]
    for resp in refused:
        assert_problem(resp, 403)
    # The owner's goal outside the share does not exist for the editor, as a target too.
    assert_problem(
        client.patch(
            f"{GOALS}/{home['books']}", json={"parent_id": home["other"]}, headers=bob.headers
        ),
        404,
    )
    for path in (f"{GOALS}/{home['other']}", f"{GOALS}/{home['other']}/tree"):
        assert_problem(client.get(path, headers=bob.headers), 404)
    assert_problem(
        client.patch(f"{GOALS}/{home['other']}", json={"name": "x"}, headers=bob.headers), 404
    )
    tree = client.get(f"{GOALS}/{home['move']}/tree", headers=alice.headers).get_json()
    assert [c["name"] for c in tree["children"]] == ["Pack", "Paint"]
    assert client.get(f"{GOALS}/{mine}", headers=bob.headers).get_json()["parent_id"] is None


def test_strangers_and_recipients_are_kept_to_their_place(client, alice, bob, carol, home):
    share = _share(client, alice, home["move"], "bob").get_json()
    for path in (f"{GOALS}/{home['move']}", f"{GOALS}/{home['books']}/tree"):
        assert_problem(client.get(path, headers=carol.headers), 404)
    # Only the owner shares and lists shares; the recipient is told no, a stranger nothing.
    assert_problem(_share(client, bob, home["move"], "carol"), 403)
    assert_problem(client.get(f"{GOALS}/{home['move']}/shares", headers=bob.headers), 403)
    assert_problem(_share(client, carol, home["move"], "bob"), 404)
    assert_problem(client.get(f"{GOALS}/{home['move']}/shares", headers=carol.headers), 404)
    gone = f"{GOALS}/{home['move']}/shares/{share['id']}"
    assert_problem(client.delete(gone, headers=carol.headers), 404)
    # The trash stays the owner's.
    client.delete(f"{GOALS}/{home['books']}", headers=bob.headers)
    assert client.get(f"{API}/trash", headers=bob.headers).get_json() == {"items": []}
    assert_problem(client.post(f"{API}/trash/{home['books']}/restore", headers=bob.headers), 404)
    assert (
        client.post(f"{API}/trash/{home['books']}/restore", headers=alice.headers).status_code
        == 200
    )


def test_revoking_and_leaving_end_the_access(client, alice, bob, carol, home):
    to_bob = _share(client, alice, home["move"], "bob").get_json()
    to_carol = _share(client, alice, home["pack"], "carol", "viewer").get_json()
    assert (
        client.delete(
            f"{GOALS}/{home['move']}/shares/{to_bob['id']}", headers=alice.headers
        ).status_code
        == 204
    )
    assert_problem(client.get(f"{GOALS}/{home['books']}", headers=bob.headers), 404)
    # Carol leaves her share herself.
    assert client.get(f"{GOALS}/{home['books']}", headers=carol.headers).status_code == 200
    assert (
        client.delete(
            f"{GOALS}/{home['pack']}/shares/{to_carol['id']}", headers=carol.headers
        ).status_code
        == 204
    )
    assert_problem(client.get(f"{GOALS}/{home['books']}", headers=carol.headers), 404)
    assert client.get(f"{GOALS}/{home['move']}/shares", headers=alice.headers).get_json() == {
        "items": []
    }


def test_a_goal_moved_out_of_the_share_leaves_it(client, alice, bob, home):
    _share(client, alice, home["move"], "bob", "viewer")
    assert client.get(f"{GOALS}/{home['books']}", headers=bob.headers).status_code == 200
    client.patch(
        f"{GOALS}/{home['books']}", json={"parent_id": home["other"]}, headers=alice.headers
    )
    assert_problem(client.get(f"{GOALS}/{home['books']}", headers=bob.headers), 404)


def test_the_nearest_share_decides_the_role(client, alice, bob, home):
    _share(client, alice, home["move"], "bob", "viewer")
    _share(client, alice, home["pack"], "bob", "editor")
    ok = client.patch(f"{GOALS}/{home['books']}", json={"name": "Old books"}, headers=bob.headers)
    assert ok.status_code == 200
    assert_problem(
        client.patch(f"{GOALS}/{home['paint']}", json={"name": "x"}, headers=bob.headers), 403
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user": "alice", "role": "editor"}, "user"),  # oneself
        ({"user": "nobody", "role": "editor"}, "user"),
        ({"user": "nobody@example.com", "role": "viewer"}, "user"),
        ({"user": "bob", "role": "owner"}, "role"),
        ({"user": "bob"}, "role"),
        ({"user": "", "role": "viewer"}, "user"),
        ({"user": "bob", "role": "viewer", "goal_id": 1}, "goal_id"),
    ],
)
def test_bad_shares_are_refused_and_change_nothing(client, alice, bob, home, body, field):
    resp = client.post(f"{GOALS}/{home['move']}/shares", json=body, headers=alice.headers)
    problem = assert_problem(resp, 422)
    assert any(field in map(str, e["loc"]) for e in problem["errors"]), problem
    assert client.get(f"{GOALS}/{home['move']}/shares", headers=alice.headers).get_json() == {
        "items": []
    }


def test_a_share_id_of_another_goal_is_not_found(client, alice, bob, home):
    share = _share(client, alice, home["move"], "bob").get_json()
    resp = client.delete(f"{GOALS}/{home['other']}/shares/{share['id']}", headers=alice.headers)
    assert_problem(resp, 404)
    assert len(client.get(f"{GOALS}/{home['move']}/shares", headers=alice.headers).json["items"])


def test_sharing_is_rate_limited_against_probing_for_accounts(app, client, alice, bob, home):
    app.config["SHARE_LIMIT"] = "3/minute"
    with app.app_context():
        limiter.reset()
    answers = [_share(client, alice, home["move"], f"user{i}").status_code for i in range(3)]
    assert answers == [422, 422, 422]
    refused = _share(client, alice, home["move"], "bob")
    assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get(f"{GOALS}/{home['move']}/shares", headers=alice.headers).get_json() == {
        "items": []
    }


@pytest.mark.parametrize("route", ["v2", "directory"])
def test_deleting_a_user_removes_their_shares_both_ways(
    client, alice, bob, carol, home, make_goal, route
):
    _share(client, alice, home["move"], "bob")
    bobs = make_goal(bob, "Bob's")["id"]
    assert _share(client, bob, bobs, "carol").status_code == 201
    url = f"{API}/users/{bob.id}" if route == "v2" else f"/api/user/{bob.id}"
    assert client.delete(url, headers=alice.headers).status_code in (200, 204)
    assert client.get(f"{GOALS}/{home['move']}/shares", headers=alice.headers).get_json() == {
        "items": []
    }
    assert client.get(f"{API}/shared", headers=carol.headers).get_json() == {"items": []}
