"""Values at the very edge of what the API accepts must work on both databases, not crash.

Found by the schema fuzzer on PostgreSQL: a goal at the largest position (2**31 - 1) made the
next goal's automatic position, and the shift that makes room for an insert, overflow the
INTEGER column (a 500). Positions now saturate at the limit; siblings that share it keep
their order by id.
"""

from __future__ import annotations

from typing import Any

LIMIT = 2**31 - 1


def _children(client: Any, account: Any, parent: int) -> list[dict[str, Any]]:
    resp = client.get(f"/api/v2/goals?parent={parent}&limit=500", headers=account.headers)
    assert resp.status_code == 200
    return resp.get_json()["items"]  # type: ignore[no-any-return]


def test_goals_after_the_last_position_are_created_in_order(client, alice, make_goal):
    parent = make_goal(alice, "parent")["id"]
    last = make_goal(alice, "at the limit", parent_id=parent, position=LIMIT)
    after = [make_goal(alice, f"after {i}", parent_id=parent) for i in range(2)]
    assert [g["position"] for g in after] == [LIMIT, LIMIT]
    order = [g["name"] for g in _children(client, alice, parent)]
    assert order == ["at the limit", "after 0", "after 1"]
    assert last["position"] == LIMIT


def test_inserting_before_a_goal_at_the_limit_shifts_without_overflow(client, alice, make_goal):
    parent = make_goal(alice, "parent")["id"]
    make_goal(alice, "first", parent_id=parent, position=LIMIT - 1)
    make_goal(alice, "second", parent_id=parent, position=LIMIT)
    inserted = make_goal(alice, "inserted", parent_id=parent, position=LIMIT - 1)
    assert inserted["position"] == LIMIT - 1
    positions = {g["name"]: g["position"] for g in _children(client, alice, parent)}
    assert positions == {"inserted": LIMIT - 1, "first": LIMIT, "second": LIMIT}
    moved = make_goal(alice, "moved", parent_id=parent)
    resp = client.patch(f"/api/v2/goals/{moved['id']}", json={"position": 0}, headers=alice.headers)
    assert resp.status_code == 200, resp.get_json()


def test_import_and_restore_after_the_last_position(client, alice, make_goal):
    parent = make_goal(alice, "parent")["id"]
    make_goal(alice, "at the limit", parent_id=parent, position=LIMIT)
    resp = client.post(
        f"/api/v2/goals/import?parent_id={parent}",
        json=[{"name": "a"}, {"name": "b", "children": [{"name": "c"}]}],
        headers=alice.headers,
    )
    assert resp.status_code == 201, resp.get_json()
    elsewhere = make_goal(alice, "elsewhere")["id"]
    child = make_goal(alice, "child", parent_id=elsewhere)["id"]
    assert client.delete(f"/api/v2/goals/{child}", headers=alice.headers).status_code == 204
    assert (
        client.patch(
            f"/api/v2/goals/{child}", json={"name": "x"}, headers=alice.headers
        ).status_code
        == 404
    )
    assert client.post(f"/api/v2/trash/{child}/restore", headers=alice.headers).status_code == 200
    names = [g["name"] for g in _children(client, alice, parent)]
    assert names == ["at the limit", "a", "b"]
