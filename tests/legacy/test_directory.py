"""The user directory (/api/user): admins only, item bodies, all-or-nothing bulk, acks."""

from __future__ import annotations

from typing import Any

import pytest

from overachiever.core.db import db
from overachiever.users.models import User
from overachiever.users.service import authenticate
from tests.support.accounts import basic
from tests.support.problems import assert_directory_failure

URL = "/api/user"
SUCCESS = {"code": 0, "message": "SUCCESS"}
SIMONE = {"name": "Simone Giertz", "mail": "giertz@shittyrobots.loc"}


def _results(client: Any, admin: Any, user_id: int = 0) -> list[dict[str, Any]]:
    resp = client.get(f"{URL}/{user_id}", headers=admin.headers)
    assert resp.status_code == 200
    return resp.get_json()["results"]  # type: ignore[no-any-return]


def _names(client: Any, admin: Any) -> list[str]:
    return [r["name"] for r in _results(client, admin)]


# ---------------------------------------------------------------------------- each call in turn


def test_create_show_list_change_and_delete_a_user(client, alice):
    resp = client.post(URL, json={"item": SIMONE}, headers=alice.headers)
    assert resp.status_code == 200
    body = resp.get_json()
    assert {k: body[k] for k in ("code", "message")} == SUCCESS
    (simone_id,) = body["ids"]

    assert _results(client, alice, simone_id) == [{"id": simone_id, **SIMONE}]
    everyone = _results(client, alice, 0)
    assert everyone == [
        {"id": alice.id, "name": "alice", "mail": alice.email},
        {"id": simone_id, **SIMONE},
    ]
    # GET without an id lists everyone too.
    assert client.get(URL, headers=alice.headers).get_json()["results"] == everyone

    item = {"name": "Simone G.", "mail": "simone@shittyrobots.loc"}
    resp = client.put(f"{URL}/{simone_id}", json={"item": item}, headers=alice.headers)
    assert resp.get_json() == SUCCESS
    assert _results(client, alice, simone_id) == [{"id": simone_id, **item}]

    resp = client.patch(
        f"{URL}/{simone_id}", json={"item": {"mail": "g@robots.example"}}, headers=alice.headers
    )
    assert resp.get_json() == SUCCESS
    assert _results(client, alice, simone_id)[0]["mail"] == "g@robots.example"
    resp = client.patch(f"{URL}/{simone_id}", json={"item": {"name": "SG"}}, headers=alice.headers)
    assert resp.get_json() == SUCCESS
    assert _results(client, alice, simone_id)[0] == {
        "id": simone_id,
        "name": "SG",
        "mail": "g@robots.example",
    }

    resp = client.delete(f"{URL}/{simone_id}", headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json() == SUCCESS
    assert_directory_failure(client.get(f"{URL}/{simone_id}", headers=alice.headers), 404)
    assert_directory_failure(client.delete(f"{URL}/{simone_id}", headers=alice.headers), 404)


def test_head_works_like_get(client, alice):
    resp = client.head(f"{URL}/{alice.id}", headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_data() == b""
    assert int(resp.headers["Content-Length"]) > 0
    assert client.head(f"{URL}/0", headers=alice.headers).status_code == 200
    assert client.head(f"{URL}/999", headers=alice.headers).status_code == 404
    assert client.head(f"{URL}/0", headers={}).status_code == 401


def test_an_explicit_id_is_kept_and_later_sign_ups_do_not_collide(client, alice, signup):
    resp = client.post(URL, json={"item": {"id": 500, **SIMONE}}, headers=alice.headers)
    assert resp.get_json()["ids"] == [500]
    assert _results(client, alice, 500)[0]["name"] == "Simone Giertz"
    # The next account gets a fresh id on both databases (PostgreSQL's sequence moved on).
    carol = signup("carol")
    assert carol.id > 500
    resp = client.post(
        URL,
        json={"item": {"id": 500, "name": "other", "mail": "o@x.example"}},
        headers=alice.headers,
    )
    assert "500" in assert_directory_failure(resp, 409)["detail"]


def test_directory_users_have_no_password_and_cannot_sign_in(app, client, alice):
    client.post(URL, json={"item": SIMONE}, headers=alice.headers)
    with app.app_context():
        stored = db.session.query(User).filter_by(name="Simone Giertz").one()
        assert stored.password_hash is None
        assert authenticate("Simone Giertz", "") is None
        assert authenticate("Simone Giertz", "anything at all") is None
        db.session.remove()
    for password in ("", "x", "anything at all"):
        resp = client.post("/api/v2/tokens", headers=basic("Simone Giertz", password))
        assert resp.status_code == 401
    # An administrator gives a password through v2, and then it works.
    simone_id = _results(client, alice)[-1]["id"]
    resp = client.patch(
        f"/api/v2/users/{simone_id}", json={"password": "shitty robots"}, headers=alice.headers
    )
    assert resp.status_code == 200
    assert (
        client.post("/api/v2/tokens", headers=basic("Simone Giertz", "shitty robots")).status_code
        == 201
    )


# ---------------------------------------------------------------------------- bulk


def test_bulk_creates_every_item(client, alice):
    items = [{"name": f"user {i}", "mail": f"u{i}@example.com"} for i in range(5)]
    resp = client.post(URL, json={"item": items}, headers=alice.headers)
    assert resp.status_code == 200
    ids = resp.get_json()["ids"]
    assert len(ids) == 5
    assert [_results(client, alice, i)[0]["name"] for i in ids] == [it["name"] for it in items]


@pytest.mark.parametrize(
    ("bad", "status", "words"),
    [
        ({"name": "user 1", "mail": "again@example.com"}, 409, "same user name"),
        ({"name": "fresh", "mail": "U0@Example.com"}, 409, "same e-mail"),
        ({"name": "alice", "mail": "fresh@example.com"}, 409, "item 2: the user name"),
        ({"name": "fresh", "mail": "alice@example.com"}, 409, "item 2: that e-mail"),
        ({"name": "fresh", "mail": "not-an-address"}, 400, "2.mail"),
        ({"name": "fre@sh", "mail": "fresh@example.com"}, 422, "item 2"),
        ({"name": "fresh"}, 400, "2.mail"),
        ({"name": "fresh", "mail": "fresh@example.com", "is_admin": True}, 400, "is_admin"),
        ({"id": 1, "name": "fresh", "mail": "fresh@example.com"}, 409, "id 1 is taken"),
        ({"id": "7", "name": "fresh", "mail": "fresh@example.com"}, 400, "2.id"),
        ({"id": 2**63, "name": "fresh", "mail": "fresh@example.com"}, 400, "2.id"),
        ("not an object", 400, "item.2"),
    ],
)
def test_bulk_is_all_or_nothing(client, alice, bad, status, words):
    items = [
        {"name": "user 0", "mail": "u0@example.com"},
        {"name": "user 1", "mail": "u1@example.com"},
        bad,
    ]
    body = assert_directory_failure(
        client.post(URL, json={"item": items}, headers=alice.headers), status
    )
    assert words in body["detail"], body
    assert _names(client, alice) == ["alice"]


def test_a_bulk_list_has_one_to_a_thousand_items(client, alice):
    assert_directory_failure(client.post(URL, json={"item": []}, headers=alice.headers), 400)
    many = [{"name": f"u{i}", "mail": f"u{i}@example.com"} for i in range(1001)]
    assert_directory_failure(client.post(URL, json={"item": many}, headers=alice.headers), 400)
    assert _names(client, alice) == ["alice"]


# ---------------------------------------------------------------------------- who may


ROUTES = [
    ("POST", URL, {"item": SIMONE}),
    ("GET", URL, None),
    ("GET", f"{URL}/0", None),
    ("GET", f"{URL}/1", None),
    ("PUT", f"{URL}/1", {"item": SIMONE}),
    ("PATCH", f"{URL}/1", {"item": {"mail": "x@example.com"}}),
    ("DELETE", f"{URL}/1", None),
    ("DELETE", f"{URL}/2", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_a_non_admin_is_refused_everywhere(client, alice, bob, method, path, body):
    body_failure = assert_directory_failure(
        client.open(path, method=method, json=body, headers=bob.headers), 403
    )
    assert "administrators" in body_failure["detail"]
    # Nothing changed: still alice and bob, as they were.
    assert _results(client, alice) == [
        {"id": alice.id, "name": "alice", "mail": alice.email},
        {"id": bob.id, "name": "bob", "mail": bob.email},
    ]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("auth", [None, "Bearer oa_not-a-token", "Basic YWxpY2U6eA=="])
def test_no_valid_token_is_a_401(client, alice, method, path, body, auth):
    headers = {"Authorization": auth} if auth else {}
    assert_directory_failure(client.open(path, method=method, json=body, headers=headers), 401)


def test_the_last_administrator_cannot_be_deleted(client, alice):
    assert_directory_failure(client.delete(f"{URL}/{alice.id}", headers=alice.headers), 409)
    assert _names(client, alice) == ["alice"]


def test_deleting_a_user_deletes_their_goals(client, alice, bob, make_goal):
    make_goal(bob, "mine")
    assert client.delete(f"{URL}/{bob.id}", headers=alice.headers).get_json() == SUCCESS
    assert client.get("/api/v2/goals", headers=bob.headers).status_code == 401
    assert client.get("/v1.0/goals", headers=alice.headers).get_json() == {"alice": {}}


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", URL, {"data": "x=1"}, 415),
        ("POST", URL, {"data": "{bad", "content_type": "application/json"}, 400),
        ("POST", URL, {"data": "null", "content_type": "application/json"}, 422),
        ("POST", URL, {}, 400),
        ("POST", URL, {"json": {}}, 400),
        ("POST", URL, {"json": [SIMONE]}, 400),
        ("POST", URL, {"json": SIMONE}, 400),
        ("POST", URL, {"json": {"item": SIMONE, "extra": 1}}, 400),
        ("POST", URL, {"json": {"item": None}}, 400),
        ("POST", URL, {"json": {"item": "Simone"}}, 400),
        ("POST", URL, {"json": {"item": {"name": "", "mail": "a@b.example"}}}, 400),
        ("POST", URL, {"json": {"item": {"name": "x" * 65, "mail": "a@b.example"}}}, 400),
        ("POST", URL, {"json": {"item": {"name": "a\x00b", "mail": "a@b.example"}}}, 400),
        ("POST", URL, {"json": {"item": {"name": "a:b", "mail": "a@b.example"}}}, 422),
        ("POST", URL, {"json": {"item": {"name": "ab", "mail": "x" * 250 + "@b.example"}}}, 400),
        ("PUT", f"{URL}/1", {"json": {"item": {"name": "only a name"}}}, 400),
        ("PUT", f"{URL}/1", {"json": {"item": {"id": 2, **SIMONE}}}, 400),
        ("PATCH", f"{URL}/1", {"json": {"item": {}}}, 400),
        ("PATCH", f"{URL}/1", {"json": {"item": {"mail": 5}}}, 400),
        ("PATCH", f"{URL}/1", {"json": {"item": {"password": "sneaky1234"}}}, 400),
        ("PATCH", f"{URL}/1", {"json": {"item": {"is_admin": False}}}, 400),
        ("GET", f"{URL}/9999", {}, 404),
        ("GET", f"{URL}/{2**63}", {}, 404),
        ("GET", f"{URL}/{10**30}", {}, 404),
        ("PUT", f"{URL}/{10**30}", {"json": {"item": SIMONE}}, 404),
        ("DELETE", f"{URL}/{2**64}", {}, 404),
        ("PATCH", f"{URL}/9999", {"json": {"item": {"name": "x"}}}, 404),
    ],
)
def test_bad_input_is_a_4xx_failure(client, alice, method, path, kwargs, status):
    assert_directory_failure(
        client.open(path, method=method, headers=alice.headers, **kwargs), status
    )
    assert _results(client, alice) == [{"id": alice.id, "name": "alice", "mail": alice.email}]


def test_a_name_or_mail_taken_by_another_user_is_a_409(client, alice, bob):
    assert_directory_failure(
        client.put(
            f"{URL}/{bob.id}",
            json={"item": {"name": "alice", "mail": "b2@example.com"}},
            headers=alice.headers,
        ),
        409,
    )
    assert_directory_failure(
        client.patch(
            f"{URL}/{bob.id}", json={"item": {"mail": alice.email}}, headers=alice.headers
        ),
        409,
    )
    assert_directory_failure(
        client.post(
            URL, json={"item": {"name": "bob", "mail": "new@example.com"}}, headers=alice.headers
        ),
        409,
    )


def test_paths_and_methods_outside_the_directory_are_problems(client, alice):
    # The directory's own shape covers its routes; the server's 404/405 stay problem+json.
    assert client.get(f"{URL}/abc", headers=alice.headers).status_code == 404
    resp = client.post(f"{URL}/1", json={"item": SIMONE}, headers=alice.headers)
    assert resp.status_code == 405
    assert resp.mimetype == "application/problem+json"


def test_chosen_and_drawn_ids_mix_in_one_bulk_request(client, alice):
    # The chosen id is the very next one the database would draw: the others must skip it.
    items = [
        {"name": "drawn", "mail": "drawn@example.com"},
        {"id": alice.id + 1, "name": "chosen", "mail": "chosen@example.com"},
        {"name": "drawn too", "mail": "drawn2@example.com"},
    ]
    resp = client.post(URL, json={"item": items}, headers=alice.headers)
    assert resp.status_code == 200, resp.get_json()
    ids = resp.get_json()["ids"]
    assert ids[1] == alice.id + 1
    assert len(set(ids)) == 3
    assert [_results(client, alice, i)[0]["name"] for i in ids] == ["drawn", "chosen", "drawn too"]


# ---------------------------------------------------------------------------- the id space


@pytest.mark.parametrize("chosen", [2**63 - 1, 2**62, 2**31])
def test_an_id_that_would_exhaust_the_id_space_is_refused(client, alice, signup, chosen):
    resp = client.post(URL, json={"item": {"id": chosen, **SIMONE}}, headers=alice.headers)
    body = assert_directory_failure(resp, 422)
    assert body["errors"] == [
        {
            "loc": ["body", "item", "id"],
            "msg": "must be at most 2147483647 (leave it out to get the next free id)",
        }
    ]
    items = [{"name": "fine", "mail": "fine@example.com"}, {"id": chosen, **SIMONE}]
    resp = client.post(URL, json={"item": items}, headers=alice.headers)
    assert assert_directory_failure(resp, 422)["errors"][0]["loc"] == ["body", "item", 1, "id"]
    assert _names(client, alice) == ["alice"]
    # Accounts are still made, with the next ids.
    assert signup("carol").id == alice.id + 1
    assert client.post(URL, json={"item": SIMONE}, headers=alice.headers).status_code == 200


def test_the_largest_id_a_client_may_choose_leaves_room_for_every_later_account(
    client, alice, signup
):
    top = 2**31 - 1
    resp = client.post(URL, json={"item": {"id": top, **SIMONE}}, headers=alice.headers)
    assert resp.get_json()["ids"] == [top]
    assert signup("carol").id == top + 1
    assert client.delete(f"{URL}/{top}", headers=alice.headers).status_code == 200
    assert signup("dave").id == top + 2
    resp = client.post(
        URL, json={"item": {"name": "erin", "mail": "e@example.com"}}, headers=alice.headers
    )
    assert resp.get_json()["ids"] == [top + 3]
