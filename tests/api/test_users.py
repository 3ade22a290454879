"""The /api/v2/users endpoints: sign-up, reading, listing, changing and deleting accounts."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from overachiever.core.db import db
from overachiever.goals.models import Goal
from overachiever.tokens.models import Token
from overachiever.users import service as users_service
from overachiever.users.models import User
from tests.support.accounts import PASSWORD, basic
from tests.support.problems import assert_problem

PROBLEM = "application/problem+json"
USER_FIELDS = {"id", "name", "email", "is_admin", "created_at"}


def _signup(client: Any, name: str, email: str | None = None, **extra: Any) -> Any:
    email = f"{name}@example.com" if email is None else email
    body = {"name": name, "email": email, "password": PASSWORD, **extra}
    return client.post("/api/v2/users", json=body)


def _no_secrets(resp: Any) -> None:
    text = resp.get_data(as_text=True)
    assert "password" not in text
    assert "argon2" not in text
    assert PASSWORD not in text


def _count(app: Any, model: Any, **where: Any) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return int(db.session.execute(stmt).scalar_one())


# --- sign-up ---------------------------------------------------------------------------------


def test_signup_returns_201_with_location_and_no_secret(client):
    resp = _signup(client, "  Simone Giertz  ", "Simone.Giertz@Example.COM")
    assert resp.status_code == 201
    user = resp.get_json()
    assert set(user) == USER_FIELDS
    assert user["name"] == "Simone Giertz"
    assert user["email"] == "simone.giertz@example.com"
    assert user["created_at"].endswith("Z")
    _no_secrets(resp)
    assert urlsplit(resp.headers["Location"]).path == f"/api/v2/users/{user['id']}"

    token = client.post("/api/v2/tokens", headers=basic("Simone Giertz", PASSWORD)).get_json()
    auth = {"Authorization": f"Bearer {token['token']}"}
    again = client.get(resp.headers["Location"], headers=auth)
    assert again.status_code == 200
    assert again.get_json() == user
    _no_secrets(again)


def test_first_user_is_admin_and_second_is_not(client):
    first = _signup(client, "first")
    second = _signup(client, "second")
    assert first.status_code == second.status_code == 201
    assert first.get_json()["is_admin"] is True
    assert second.get_json()["is_admin"] is False


def test_duplicate_name_is_409(client, alice):
    resp = _signup(client, "alice", "other@example.com")
    assert_problem(resp, 409)


def test_duplicate_name_after_trimming_is_409(client, alice):
    resp = _signup(client, " alice ", "other@example.com")
    assert_problem(resp, 409)


def test_name_in_another_unicode_form_is_the_same_name(client, signup):
    signup("Ren\u00e9e")  # precomposed é
    resp = _signup(client, "Rene\u0301e", "other@example.com")  # e + combining acute accent
    assert_problem(resp, 409)


def test_name_with_invisible_characters_is_422(client, alice):
    resp = _signup(client, "ali\u200bce", "other@example.com")  # zero-width space
    assert_problem(resp, 422)


def test_duplicate_email_is_409_whatever_its_case(client, alice):
    resp = _signup(client, "alice2", "ALICE@Example.com")
    assert_problem(resp, 409)


@pytest.mark.parametrize(
    "name",
    [
        "al@ice",
        "al:ice",
        "bad\x00name",
        "tab\there",
        "new\nline",
        "bell\x07",
        "",
        "   ",
        "x" * 65,
    ],
    ids=["at-sign", "colon", "nul", "tab", "newline", "bell", "empty", "blank", "too-long"],
)
def test_bad_names_are_422(client, name):
    resp = _signup(client, name, "someone@example.com")
    body = assert_problem(resp, 422)
    assert ["body", "name"] in [e["loc"][:2] for e in body["errors"]]
    assert _count(client.application, User) == 0


def test_name_of_64_characters_and_spaces_is_accepted(client):
    resp = _signup(client, "x" * 64, "long@example.com")
    assert resp.status_code == 201
    assert _signup(client, "Ada Lovelace", "ada@example.com").status_code == 201


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", ""])
def test_bad_email_is_422(client, email):
    assert_problem(_signup(client, "carol", email), 422)


@pytest.mark.parametrize(
    "domain", ["example.test", "printer.local", "site.example", "hidden.onion", "x.localhost"]
)
def test_special_use_domains_are_accepted_as_the_document_says(client, spec_email, domain):
    resp = _signup(client, "carol", f"Carol@{domain.upper()}")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["email"] == f"carol@{domain}"
    assert spec_email | {"title": "Email"} == {
        "type": "string",
        "format": "email",
        "maxLength": 254,
        "title": "Email",
    }


@pytest.fixture
def spec_email(client: Any) -> dict[str, Any]:
    spec = client.get("/api/v2/openapi.json").get_json()
    return spec["components"]["schemas"]["SignUp"]["properties"]["email"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "email",
    ["carol@localhost", "carol@test", '"carol"@example.com', "carol@[127.0.0.1]", "Ca <c@x.com>"],
)
def test_addresses_email_validator_refuses_still_are(client, email):
    assert_problem(_signup(client, "carol", email), 422)


def test_short_password_is_422(client):
    resp = client.post(
        "/api/v2/users", json={"name": "carol", "email": "c@example.com", "password": "1234567"}
    )
    body = assert_problem(resp, 422)
    assert ["body", "password"] in [e["loc"] for e in body["errors"]]
    assert _count(client.application, User) == 0


def test_missing_fields_are_422(client):
    body = assert_problem(client.post("/api/v2/users", json={"name": "carol"}), 422)
    locs = [e["loc"] for e in body["errors"]]
    assert ["body", "email"] in locs
    assert ["body", "password"] in locs


@pytest.mark.parametrize(
    "extra",
    [{"is_admin": True}, {"is_admin": False}, {"id": 999}, {"created_at": "2020-01-01T00:00:00Z"}],
    ids=["is_admin", "is_admin-false", "id", "created_at"],
)
def test_mass_assignment_is_422(client, alice, extra):
    resp = _signup(client, "mallory", **extra)
    body = assert_problem(resp, 422)
    field = next(iter(extra))
    assert ["body", field] in [e["loc"] for e in body["errors"]]
    assert _count(client.application, User, name="mallory") == 0


def test_non_json_signup_is_415(client):
    resp = client.post(
        "/api/v2/users", data="name=carol&password=12345678", content_type="text/plain"
    )
    assert_problem(resp, 415)


# --- closed sign-up --------------------------------------------------------------------------


@pytest.fixture
def closed_app(make_app: Any) -> Any:
    """An app whose sign-up is closed, with one admin made from the command line's path."""
    application = make_app(SIGNUP="closed")
    with application.app_context():
        users_service.create_user("root", "root@example.com", PASSWORD, via_cli=True)
    return application


def _bearer(client: Any, login: str, password: str = PASSWORD) -> dict[str, str]:
    resp = client.post("/api/v2/tokens", headers=basic(login, password))
    assert resp.status_code == 201, resp.get_json()
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


def test_closed_signup_refuses_anonymous(closed_app):
    client = closed_app.test_client()
    body = assert_problem(_signup(client, "stranger"), 403)
    assert "closed" in body["detail"]
    assert_problem(
        client.post(
            "/api/v2/users",
            json={"name": "stranger", "email": "s@example.com", "password": PASSWORD},
            headers={"Authorization": "Bearer oa_not-a-real-token"},
        ),
        403,
    )
    assert _count(closed_app, User) == 1


def test_closed_signup_lets_an_admin_create_users(closed_app):
    client = closed_app.test_client()
    admin = _bearer(client, "root")
    resp = client.post(
        "/api/v2/users",
        json={"name": "newbie", "email": "newbie@example.com", "password": PASSWORD},
        headers=admin,
    )
    assert resp.status_code == 201
    assert resp.get_json()["is_admin"] is False
    # The new account works, but cannot itself let others in.
    newbie = _bearer(client, "newbie")
    resp = client.post(
        "/api/v2/users",
        json={"name": "friend", "email": "friend@example.com", "password": PASSWORD},
        headers=newbie,
    )
    assert_problem(resp, 403)
    assert _count(closed_app, User) == 2


# --- reading ---------------------------------------------------------------------------------


def test_get_self_and_own_id(client, bob):
    me = client.get("/api/v2/users/self", headers=bob.headers)
    assert me.status_code == 200
    assert me.get_json()["id"] == bob.id
    assert me.get_json()["name"] == "bob"
    assert set(me.get_json()) == USER_FIELDS
    by_id = client.get(f"/api/v2/users/{bob.id}", headers=bob.headers)
    assert by_id.get_json() == me.get_json()


def test_user_endpoints_need_a_token(client, bob):
    for path in ("/api/v2/users/self", f"/api/v2/users/{bob.id}", "/api/v2/users"):
        resp = client.get(path)
        assert_problem(resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_non_admin_cannot_see_another_user(client, alice, bob):
    assert_problem(client.get(f"/api/v2/users/{alice.id}", headers=bob.headers), 404)
    # Not even whether an id exists: a missing id looks the same.
    missing = client.get("/api/v2/users/999999", headers=bob.headers)
    assert_problem(missing, 404)


def test_admin_reads_anyone(client, alice, bob):
    resp = client.get(f"/api/v2/users/{bob.id}", headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json()["name"] == "bob"
    assert_problem(client.get("/api/v2/users/999999", headers=alice.headers), 404)


@pytest.mark.parametrize("ref", ["0", "9223372036854775808", "99999999999999999999", "me"])
def test_impossible_user_ids_are_404(client, alice, ref):
    assert_problem(client.get(f"/api/v2/users/{ref}", headers=alice.headers), 404)


# --- listing ---------------------------------------------------------------------------------


def test_list_users_is_admin_only(client, alice, bob):
    assert_problem(client.get("/api/v2/users", headers=bob.headers), 403)
    resp = client.get("/api/v2/users", headers=alice.headers)
    assert resp.status_code == 200
    page = resp.get_json()
    assert [u["name"] for u in page["items"]] == ["alice", "bob"]
    assert page["total"] == 2
    assert all(set(u) == USER_FIELDS for u in page["items"])
    _no_secrets(resp)
    assert "Link" not in resp.headers


def _link(resp: Any, rel: str) -> str | None:
    for part in resp.headers.get("Link", "").split(","):
        if f'rel="{rel}"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def test_list_users_pages_with_link_header(client, signup, alice):
    for name in ("carol", "dave", "erin", "frank"):
        signup(name)
    resp = client.get("/api/v2/users?limit=2", headers=alice.headers)
    page = resp.get_json()
    assert [u["name"] for u in page["items"]] == ["alice", "carol"]
    assert (page["total"], page["offset"], page["limit"]) == (5, 0, 2)
    assert _link(resp, "prev") is None
    next_url = _link(resp, "next")
    assert next_url is not None
    assert parse_qs(urlsplit(next_url).query)["offset"] == ["2"]

    resp = client.get(next_url, headers=alice.headers)
    assert [u["name"] for u in resp.get_json()["items"]] == ["dave", "erin"]
    assert _link(resp, "prev") is not None
    resp = client.get(_link(resp, "next"), headers=alice.headers)
    assert [u["name"] for u in resp.get_json()["items"]] == ["frank"]
    assert _link(resp, "next") is None
    assert parse_qs(urlsplit(_link(resp, "prev")).query)["offset"] == ["2"]


def test_list_users_q_filters_name_and_email(client, signup, alice):
    signup("carol", "carol@acme.org")
    signup("caroline", "cl@example.com")
    signup("dave", "dave@acme.org")
    names = lambda resp: [u["name"] for u in resp.get_json()["items"]]  # noqa: E731
    resp = client.get("/api/v2/users?q=CAROL", headers=alice.headers)
    assert names(resp) == ["carol", "caroline"]
    assert resp.get_json()["total"] == 2
    resp = client.get("/api/v2/users?q=acme.org", headers=alice.headers)
    assert names(resp) == ["carol", "dave"]
    # LIKE wildcards are searched for literally.
    assert names(client.get("/api/v2/users?q=%25", headers=alice.headers)) == []
    assert names(client.get("/api/v2/users?q=_", headers=alice.headers)) == []
    # The filter is kept in the paging links.
    resp = client.get("/api/v2/users?q=carol&limit=1", headers=alice.headers)
    assert parse_qs(urlsplit(_link(resp, "next")).query)["q"] == ["carol"]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "offset=-1", "limit=abc"])
def test_list_users_bad_paging_is_422(client, alice, query):
    body = assert_problem(client.get(f"/api/v2/users?{query}", headers=alice.headers), 422)
    assert body["errors"][0]["loc"][0] == "query"


# --- changing --------------------------------------------------------------------------------


def test_patch_name_and_email(client, alice, bob):
    resp = client.patch(
        "/api/v2/users/self",
        json={"name": "  Robert  ", "email": "Robert@Example.ORG"},
        headers=bob.headers,
    )
    assert resp.status_code == 200
    user = resp.get_json()
    assert (user["name"], user["email"]) == ("Robert", "robert@example.org")
    assert user.pop("tokens_revoked") == 0
    _no_secrets(resp)
    # The token keeps working, and the new name and e-mail sign in.
    assert client.get("/api/v2/users/self", headers=bob.headers).get_json() == user
    assert client.post("/api/v2/tokens", headers=basic("Robert", PASSWORD)).status_code == 201
    assert (
        client.post("/api/v2/tokens", headers=basic("robert@example.org", PASSWORD)).status_code
        == 201
    )
    assert client.post("/api/v2/tokens", headers=basic("bob", PASSWORD)).status_code == 401


def test_patch_with_own_name_and_email_is_fine(client, bob):
    resp = client.patch(
        "/api/v2/users/self", json={"name": "bob", "email": "BOB@example.com"}, headers=bob.headers
    )
    assert resp.status_code == 200


def test_patch_to_a_taken_name_or_email_is_409(client, alice, bob):
    assert_problem(
        client.patch("/api/v2/users/self", json={"name": "alice"}, headers=bob.headers), 409
    )
    assert_problem(
        client.patch(
            "/api/v2/users/self", json={"email": "ALICE@example.com"}, headers=bob.headers
        ),
        409,
    )
    assert client.get("/api/v2/users/self", headers=bob.headers).get_json()["name"] == "bob"


def test_patch_bad_fields_are_422(client, bob):
    for body in (
        {"name": "a@b"},
        {"name": "a:b"},
        {"name": ""},
        {"name": "x\x01"},
        {"name": "x" * 65},
        {"email": "nope"},
        {"id": 5},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"x": 1},
    ):
        resp = client.patch("/api/v2/users/self", json=body, headers=bob.headers)
        assert_problem(resp, 422)
    assert client.get("/api/v2/users/self", headers=bob.headers).get_json()["name"] == "bob"


def test_patch_another_user_as_non_admin_is_404(client, alice, bob):
    resp = client.patch(f"/api/v2/users/{alice.id}", json={"name": "x"}, headers=bob.headers)
    assert_problem(resp, 404)


def test_admin_patches_another_user(client, alice, bob):
    resp = client.patch(f"/api/v2/users/{bob.id}", json={"name": "bobby"}, headers=alice.headers)
    assert resp.status_code == 200
    assert client.get("/api/v2/users/self", headers=bob.headers).get_json()["name"] == "bobby"


@pytest.mark.parametrize(
    "extra",
    [{}, {"current_password": "wrong password"}, {"current_password": ""}],
    ids=["missing", "wrong", "empty"],
)
def test_password_change_needs_current_password(client, bob, extra):
    resp = client.patch(
        "/api/v2/users/self", json={"password": "a new password", **extra}, headers=bob.headers
    )
    assert_problem(resp, 403)
    assert client.post("/api/v2/tokens", headers=basic("bob", PASSWORD)).status_code == 201
    assert client.post("/api/v2/tokens", headers=basic("bob", "a new password")).status_code == 401


def test_password_change_with_current_password(client, bob):
    resp = client.patch(
        "/api/v2/users/self",
        json={"password": "a new password", "current_password": PASSWORD},
        headers=bob.headers,
    )
    assert resp.status_code == 200
    _no_secrets(resp)
    assert "a new password" not in resp.get_data(as_text=True)
    assert client.post("/api/v2/tokens", headers=basic("bob", "a new password")).status_code == 201
    assert client.post("/api/v2/tokens", headers=basic("bob", PASSWORD)).status_code == 401


def test_new_password_must_be_long_enough(client, bob):
    resp = client.patch(
        "/api/v2/users/self",
        json={"password": "short", "current_password": PASSWORD},
        headers=bob.headers,
    )
    assert_problem(resp, 422)


def test_admin_sets_a_password_without_the_current_one(client, alice, bob):
    resp = client.patch(
        f"/api/v2/users/{bob.id}", json={"password": "reset by admin"}, headers=alice.headers
    )
    assert resp.status_code == 200
    assert client.post("/api/v2/tokens", headers=basic("bob", "reset by admin")).status_code == 201


def test_only_an_admin_sets_is_admin(client, alice, bob):
    assert_problem(
        client.patch("/api/v2/users/self", json={"is_admin": True}, headers=bob.headers), 403
    )
    assert client.get("/api/v2/users/self", headers=bob.headers).get_json()["is_admin"] is False
    assert_problem(client.get("/api/v2/users", headers=bob.headers), 403)

    resp = client.patch(f"/api/v2/users/{bob.id}", json={"is_admin": True}, headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json()["is_admin"] is True
    # The new right takes effect on the very next request.
    assert client.get("/api/v2/users", headers=bob.headers).status_code == 200


def test_is_admin_must_be_a_boolean(client, alice, bob):
    resp = client.patch(f"/api/v2/users/{bob.id}", json={"is_admin": "true"}, headers=alice.headers)
    assert_problem(resp, 422)


def test_last_admin_cannot_drop_admin_or_be_deleted(client, alice, bob):
    assert_problem(
        client.patch("/api/v2/users/self", json={"is_admin": False}, headers=alice.headers), 409
    )
    assert_problem(client.delete("/api/v2/users/self", headers=alice.headers), 409)
    me = client.get("/api/v2/users/self", headers=alice.headers)
    assert me.get_json()["is_admin"] is True

    # With a second admin, the first may step down, and then the second is the last one.
    client.patch(f"/api/v2/users/{bob.id}", json={"is_admin": True}, headers=alice.headers)
    resp = client.patch("/api/v2/users/self", json={"is_admin": False}, headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json()["is_admin"] is False
    assert_problem(
        client.patch("/api/v2/users/self", json={"is_admin": False}, headers=bob.headers), 409
    )
    assert_problem(client.delete("/api/v2/users/self", headers=bob.headers), 409)


def test_an_admin_may_be_deleted_when_another_remains(client, alice, bob):
    client.patch(f"/api/v2/users/{bob.id}", json={"is_admin": True}, headers=alice.headers)
    assert client.delete("/api/v2/users/self", headers=alice.headers).status_code == 204
    assert_problem(client.get("/api/v2/users/self", headers=alice.headers), 401)
    assert client.get("/api/v2/users", headers=bob.headers).get_json()["total"] == 1


def test_put_requires_name_and_email(client, bob):
    for body in ({"name": "bob"}, {"email": "bob@example.com"}, {}):
        resp = client.put("/api/v2/users/self", json=body, headers=bob.headers)
        assert_problem(resp, 422)
    resp = client.put(
        "/api/v2/users/self",
        json={"name": "Bob B", "email": "Bob.B@Example.com"},
        headers=bob.headers,
    )
    assert resp.status_code == 200
    assert (resp.get_json()["name"], resp.get_json()["email"]) == ("Bob B", "bob.b@example.com")
    _no_secrets(resp)


def test_put_follows_the_same_rules_as_patch(client, alice, bob):
    resp = client.put(
        "/api/v2/users/self",
        json={"name": "bob", "email": "bob@example.com", "is_admin": True},
        headers=bob.headers,
    )
    assert_problem(resp, 403)
    resp = client.put(
        "/api/v2/users/self",
        json={"name": "bob", "email": "bob@example.com", "password": "new password!"},
        headers=bob.headers,
    )
    assert_problem(resp, 403)
    resp = client.put(
        "/api/v2/users/self",
        json={"name": "bob", "email": "bob@example.com", "created_at": "2020-01-01T00:00:00Z"},
        headers=bob.headers,
    )
    assert_problem(resp, 422)


# --- deleting --------------------------------------------------------------------------------


def test_delete_user_removes_goals_and_tokens(client, app, alice, bob, make_goal):
    parent = make_goal(bob, "bob's goal")
    make_goal(bob, "child", parent_id=parent["id"])
    make_goal(alice, "alice's goal")
    second = client.post("/api/v2/tokens", headers=basic("bob", PASSWORD)).get_json()["token"]
    assert _count(app, Goal, owner_id=bob.id) == 2
    assert _count(app, Token, user_id=bob.id) == 2

    resp = client.delete(f"/api/v2/users/{bob.id}", headers=alice.headers)
    assert resp.status_code == 204
    assert resp.get_data() == b""

    # Both of bob's tokens stop working at once.
    for token in (bob.token, second):
        resp = client.get("/api/v2/users/self", headers={"Authorization": f"Bearer {token}"})
        assert_problem(resp, 401)
    assert client.post("/api/v2/tokens", headers=basic("bob", PASSWORD)).status_code == 401
    assert_problem(client.get(f"/api/v2/users/{bob.id}", headers=alice.headers), 404)
    assert _count(app, Goal, owner_id=bob.id) == 0
    assert _count(app, Token, user_id=bob.id) == 0
    assert _count(app, User, id=bob.id) == 0
    # Nobody else lost anything.
    assert _count(app, Goal, owner_id=alice.id) == 1
    assert client.get("/api/v2/users/self", headers=alice.headers).status_code == 200
    # The name is free again.
    assert _signup(client, "bob").status_code == 201


def test_user_deletes_themselves(client, app, alice, bob, make_goal):
    make_goal(bob, "mine")
    assert client.delete("/api/v2/users/self", headers=bob.headers).status_code == 204
    assert_problem(client.get("/api/v2/users/self", headers=bob.headers), 401)
    assert _count(app, Goal, owner_id=bob.id) == 0


def test_non_admin_cannot_delete_another_user(client, app, alice, bob):
    assert_problem(client.delete(f"/api/v2/users/{alice.id}", headers=bob.headers), 404)
    assert _count(app, User, id=alice.id) == 1


# --- sign-up limit ---------------------------------------------------------------------------


def _signup_from(client: Any, name: str, address: str, **kwargs: Any) -> Any:
    body = {"name": name, "email": f"{name}@example.com", "password": PASSWORD}
    return client.post("/api/v2/users", json=body, environ_base={"REMOTE_ADDR": address}, **kwargs)


def test_signups_from_one_address_are_limited(make_app):
    client = make_app(SIGNUP_LIMIT="3/hour").test_client()
    assert [_signup_from(client, f"u{i}", "10.0.3.1").status_code for i in range(3)] == [201] * 3
    body = assert_problem(_signup_from(client, "u3", "10.0.3.1"), 429)
    assert "3 per 1 hour" in body["detail"]
    resp = _signup_from(client, "u4", "10.0.3.1")
    assert int(resp.headers["Retry-After"]) > 0
    assert _count(client.application, User) == 3
    # Another address signs up as usual.
    assert _signup_from(client, "u5", "10.0.3.2").status_code == 201


def test_refused_signups_count_too(make_app):
    # Each attempt costs a password hash and says whether an address is registered.
    client = make_app(SIGNUP_LIMIT="2/hour").test_client()
    assert _signup_from(client, "taken", "10.0.3.3").status_code == 201
    assert _signup_from(client, "taken", "10.0.3.3").status_code == 409
    assert_problem(_signup_from(client, "fresh", "10.0.3.3"), 429)


def test_an_administrator_creating_accounts_is_not_limited(make_app):
    client = make_app(SIGNUP_LIMIT="1/hour").test_client()
    assert _signup_from(client, "root", "10.0.3.4").status_code == 201
    admin = _bearer(client, "root")
    for i in range(3):
        assert _signup_from(client, f"staff{i}", "10.0.3.4", headers=admin).status_code == 201
    assert_problem(_signup_from(client, "stranger", "10.0.3.4"), 429)


# --- password changes ------------------------------------------------------------------------


@pytest.fixture
def guarded_app(make_app: Any) -> Any:
    """An app allowing three password checks a minute per address and per account; its
    accounts are made without signing in, so no check is spent yet."""
    application = make_app(LOGIN_LIMIT="3/minute")
    with application.app_context():
        for name in ("root", "bob"):
            users_service.create_user(name, f"{name}@example.com", PASSWORD, via_cli=True)
    return application


def _token_of(app: Any, name: str) -> dict[str, str]:
    from overachiever.tokens import service as tokens_service

    with app.app_context():
        _, secret = tokens_service.issue(users_service.find_by_name(name), "test")
    return {"Authorization": f"Bearer {secret}"}


def _change_password(client: Any, headers: dict[str, str], current: str, address: str) -> Any:
    return client.patch(
        "/api/v2/users/self",
        json={"password": "a brand new password", "current_password": current},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def test_current_password_guesses_are_limited_like_sign_in(guarded_app):
    client = guarded_app.test_client()
    bob = _token_of(guarded_app, "bob")
    for i in range(3):
        assert_problem(_change_password(client, bob, f"guess {i}", f"10.0.4.{i}"), 403)
    resp = _change_password(client, bob, PASSWORD, "10.0.4.9")  # even the right one, for now
    assert_problem(resp, 429)
    assert int(resp.headers["Retry-After"]) > 0
    # Changes that check no password are not limited.
    resp = client.patch("/api/v2/users/self", json={"name": "bobby"}, headers=bob)
    assert resp.status_code == 200


def test_password_guesses_with_a_token_and_at_sign_in_share_one_allowance(guarded_app):
    client = guarded_app.test_client()
    bob = _token_of(guarded_app, "bob")
    assert_problem(_change_password(client, bob, "guess", "10.0.5.1"), 403)
    assert_problem(_change_password(client, bob, "guess", "10.0.5.2"), 403)
    resp = client.post(
        "/api/v2/tokens", headers=basic("bob", "guess"), environ_base={"REMOTE_ADDR": "10.0.5.3"}
    )
    assert resp.status_code == 401
    resp = client.post(
        "/api/v2/tokens", headers=basic("bob", PASSWORD), environ_base={"REMOTE_ADDR": "10.0.5.4"}
    )
    assert_problem(resp, 429)


def test_a_password_change_revokes_the_other_tokens(client, bob):
    others = [_bearer(client, "bob") for _ in range(2)]
    resp = client.patch(
        "/api/v2/users/self",
        json={"password": "a new password", "current_password": PASSWORD},
        headers=bob.headers,
    )
    assert resp.status_code == 200
    assert resp.get_json()["tokens_revoked"] == 2
    # The token that made the change still works; the others (the old password's) do not.
    assert client.get("/api/v2/users/self", headers=bob.headers).status_code == 200
    for headers in others:
        assert_problem(client.get("/api/v2/users/self", headers=headers), 401)
    assert _count(client.application, Token, user_id=bob.id) == 1


def test_an_administrator_resetting_a_password_revokes_every_token_of_that_user(client, alice, bob):
    _bearer(client, "bob")
    resp = client.put(
        f"/api/v2/users/{bob.id}",
        json={"name": "bob", "email": bob.email, "password": "reset by admin"},
        headers=alice.headers,
    )
    assert resp.status_code == 200
    assert resp.get_json()["tokens_revoked"] == 2
    assert_problem(client.get("/api/v2/users/self", headers=bob.headers), 401)
    assert client.get("/api/v2/users/self", headers=alice.headers).status_code == 200


def test_changes_without_a_new_password_revoke_nothing(client, alice, bob):
    resp = client.patch(f"/api/v2/users/{bob.id}", json={"is_admin": True}, headers=alice.headers)
    assert resp.get_json()["tokens_revoked"] == 0
    assert client.get("/api/v2/users/self", headers=bob.headers).status_code == 200


@pytest.mark.parametrize(
    "extra",
    [{}, {"current_password": "wrong password"}],
    ids=["missing", "wrong"],
)
def test_an_administrators_own_password_needs_the_current_one(client, alice, extra):
    for ref in ("self", alice.id):
        resp = client.patch(
            f"/api/v2/users/{ref}",
            json={"password": "a new password", **extra},
            headers=alice.headers,
        )
        assert_problem(resp, 403)
    assert client.post("/api/v2/tokens", headers=basic("alice", PASSWORD)).status_code == 201
    resp = client.patch(
        "/api/v2/users/self",
        json={"password": "a new password", "current_password": PASSWORD},
        headers=alice.headers,
    )
    assert resp.status_code == 200
