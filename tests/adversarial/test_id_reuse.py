"""An id, once handed out, never names another object (stale clients must get 404, not a stranger).

The deleted row is always the newest one: the case where SQLite, without AUTOINCREMENT, would
hand its id to the next insert.
"""

from __future__ import annotations

from tests.support.accounts import PASSWORD, basic


def test_a_purged_goal_id_is_not_given_to_a_new_goal(client, alice, make_goal):
    make_goal(alice, "kept")
    old = make_goal(alice, "purged")
    resp = client.get(f"/api/v2/goals/{old['id']}", headers=alice.headers)
    stale_etag = resp.headers["ETag"]
    assert client.delete(f"/api/v2/goals/{old['id']}", headers=alice.headers).status_code == 204
    assert client.delete(f"/api/v2/trash/{old['id']}", headers=alice.headers).status_code == 204
    new = make_goal(alice, "new")
    # A client that still holds the purged goal must not reach the new one.
    resp = client.delete(
        f"/api/v2/goals/{old['id']}", headers={**alice.headers, "If-Match": stale_etag}
    )
    assert resp.status_code == 404
    assert new["id"] > old["id"]


def test_a_deleted_user_id_is_not_given_to_a_new_account(client, alice, signup):
    bob = signup("bob")
    assert client.delete(f"/api/v2/users/{bob.id}", headers=alice.headers).status_code == 204
    carol = signup("carol")
    assert carol.id > bob.id


def test_a_revoked_token_id_is_not_given_to_a_new_token(client, alice):
    created = client.post("/api/v2/tokens", headers=basic("alice", PASSWORD)).get_json()
    assert (
        client.delete(f"/api/v2/tokens/{created['id']}", headers=alice.headers).status_code == 204
    )
    again = client.post("/api/v2/tokens", headers=basic("alice", PASSWORD)).get_json()
    assert again["id"] > created["id"]
