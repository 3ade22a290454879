"""A first end-to-end pass through the v2 API."""

from __future__ import annotations


def test_create_and_read_goal(client, alice, make_goal):
    goal = make_goal(alice, "Learn Flask")
    resp = client.get(f"/api/v2/goals/{goal['id']}", headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json()["name"] == "Learn Flask"
    assert resp.headers["ETag"].startswith('"')
