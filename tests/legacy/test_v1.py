"""The v1.0 API beyond the article's tests: forms and JSON, errors, who sees and changes what."""

from __future__ import annotations

from typing import Any

import pytest

from overachiever.core.db import db
from overachiever.users.service import find_by_name
from tests.support.accounts import basic
from tests.support.deep_json import parse_deep
from tests.support.problems import assert_problem
from tests.support.services import bulk_create_chain

URL = "/v1.0/goals"


def _tree(client: Any, account: Any) -> Any:
    resp = client.get(URL, headers=account.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    return resp.get_json()


def _goal(client: Any, account: Any, goal_id: int) -> dict[str, Any]:
    resp = client.get(f"/api/v2/goals/{goal_id}", headers=account.headers)
    assert resp.status_code == 200
    return resp.get_json()  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- bodies


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_add_and_complete_with_form_or_json(client, alice, as_json):
    def send(method: str, fields: dict[str, str]) -> Any:
        body = {"json": fields} if as_json else {"data": fields}
        return client.open(URL, method=method, headers=alice.headers, **body)

    resp = send("POST", {"name": "Build robots", "description": "for the channel"})
    assert resp.status_code == 200
    parent = resp.get_json()
    assert parent["name"] == "Build robots"
    assert parent["parent_id"] is None
    resp = send("POST", {"name": "Toothbrush helmet", "parent_name": "Build robots"})
    assert resp.status_code == 200
    child = resp.get_json()
    assert child["parent_id"] == parent["id"]
    assert _goal(client, alice, parent["id"])["description"] == "for the channel"

    resp = send("PUT", {"name": "Toothbrush helmet"})
    assert resp.status_code == 200
    assert resp.get_json()["end"].endswith("Z")
    assert _goal(client, alice, child["id"])["end"] is not None
    # The parent's progress follows, as on v2.
    assert _goal(client, alice, parent["id"])["progress"] == 1.0
    assert _tree(client, alice) == {"alice": {"Build robots": {"Toothbrush helmet": {}}}}


def test_fields_may_come_in_the_query_string(client, alice):
    resp = client.post(f"{URL}?name=from-query", headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json()["name"] == "from-query"


def test_empty_optional_fields_mean_not_given(client, alice):
    resp = client.post(
        URL,
        data={"name": "top", "parent_name": "", "user": "", "description": ""},
        headers=alice.headers,
    )
    assert resp.status_code == 200
    assert resp.get_json()["parent_id"] is None


def test_unknown_fields_are_ignored_like_the_articles_parser(client, alice):
    resp = client.post(URL, json={"name": "x", "id": 99, "owner_id": 5}, headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json()["id"] != 99


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("method", "path", "fields", "missing"),
    [
        ("POST", URL, {"parent_name": "x"}, "name"),
        ("PUT", URL, {"user": "alice"}, "name"),
        ("POST", "/v1.0/users", {"name": "carol", "password": "long enough"}, "email"),
        ("POST", "/v1.0/users", {"name": "carol", "email": "c@example.com"}, "password"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_a_missing_field_is_a_400_naming_it(client, alice, method, path, fields, missing, as_json):
    body = {"json": fields} if as_json else {"data": fields}
    resp = client.open(path, method=method, headers=alice.headers, **body)
    problem = assert_problem(resp, 400)
    assert repr(missing) in problem["detail"]
    assert problem["errors"] == [{"loc": ["body", missing], "msg": "missing required field"}]


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"name": 5}, "name"),
        ({"name": ["a"]}, "name"),
        ({"name": "ok", "description": "d" * 10_001}, "description"),
        ({"name": "ok", "parent_name": 7}, "parent_name"),
        ({"name": "ok", "user": {"x": 1}}, "user"),
    ],
)
def test_bad_values_are_400s(client, alice, fields, where):
    problem = assert_problem(client.post(URL, json=fields, headers=alice.headers), 400)
    assert problem["errors"][0]["loc"] == ["body", where]


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"name"', b"42", b"{not json", b"null"], ids=str)
def test_a_json_body_that_is_not_an_object_is_refused(client, alice, raw):
    resp = client.post(URL, data=raw, headers={**alice.headers, "Content-Type": "application/json"})
    assert resp.status_code in (400, 422)
    assert_problem(resp, resp.status_code)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", URL), ("POST", URL), ("PUT", URL), ("GET", "/v1.0/users"), ("POST", "/v1.0/users")],
)
@pytest.mark.parametrize("token", [None, "oa_not-a-real-token", "garbage"])
def test_every_route_needs_a_token(client, alice, method, path, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = client.open(path, method=method, data={"name": "x"}, headers=headers)
    assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_names_are_404s(client, alice, bob):
    client.post(URL, data={"name": "real"}, headers=alice.headers)
    cases = [
        ("PUT", {"name": "nope"}),
        ("POST", {"name": "child", "parent_name": "nope"}),
        ("POST", {"name": "x", "user": "nobody-at-all"}),
        ("PUT", {"name": "real", "user": "bob"}),  # bob has no goal of that name
    ]
    for method, fields in cases:
        assert_problem(client.open(URL, method=method, data=fields, headers=alice.headers), 404)


def test_ambiguous_names_are_409s_pointing_to_v2(client, alice, make_goal):
    a = make_goal(alice, "a")
    b = make_goal(alice, "b")
    first = make_goal(alice, "twin", a["id"])
    second = make_goal(alice, "twin", b["id"])
    for method, fields in [
        ("PUT", {"name": "twin"}),
        ("POST", {"name": "child", "parent_name": "twin"}),
    ]:
        problem = assert_problem(
            client.open(URL, method=method, data=fields, headers=alice.headers), 409
        )
        assert "/api/v2/goals/" in problem["detail"]
        assert problem["ids"] == [first["id"], second["id"]]
    # Nothing changed.
    assert _goal(client, alice, first["id"])["end"] is None
    assert _goal(client, alice, first["id"])["children_count"] == 0


def test_a_duplicate_sibling_is_a_409(client, alice):
    assert client.post(URL, data={"name": "once"}, headers=alice.headers).status_code == 200
    assert_problem(client.post(URL, data={"name": "once"}, headers=alice.headers), 409)


def test_the_same_name_in_two_forests_is_not_ambiguous(client, alice, bob, make_goal):
    mine = make_goal(alice, "shared")
    theirs = make_goal(bob, "shared")
    resp = client.put(URL, data={"name": "shared", "user": "bob"}, headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json()["id"] == theirs["id"]
    assert _goal(client, alice, mine["id"])["end"] is None


def test_trashed_goals_are_neither_shown_nor_found(client, alice, make_goal):
    gone = make_goal(alice, "gone")
    make_goal(alice, "inside", gone["id"])
    assert client.delete(f"/api/v2/goals/{gone['id']}", headers=alice.headers).status_code == 204
    assert _tree(client, alice) == {"alice": {}}
    assert_problem(client.put(URL, data={"name": "inside"}, headers=alice.headers), 404)
    # The name is free again at the top level.
    assert client.post(URL, data={"name": "gone"}, headers=alice.headers).status_code == 200


def test_a_goal_that_starts_in_the_future_cannot_be_completed_now(client, alice, make_goal):
    make_goal(alice, "later", start="2999-01-01T00:00:00Z")
    resp = client.put(URL, data={"name": "later"}, headers=alice.headers)
    assert resp.status_code == 422
    assert_problem(resp, 422)


# ---------------------------------------------------------------------------- who sees what


def test_an_admin_sees_every_user_and_others_only_themselves(client, alice, bob, signup, make_goal):
    carol = signup("carol")
    make_goal(alice, "a1")
    b1 = make_goal(bob, "b1")
    make_goal(bob, "b2", b1["id"])
    assert _tree(client, alice) == {"alice": {"a1": {}}, "bob": {"b1": {"b2": {}}}, "carol": {}}
    assert _tree(client, bob) == {"bob": {"b1": {"b2": {}}}}
    assert _tree(client, carol) == {"carol": {}}


def test_an_admin_acts_for_another_user(client, alice, bob):
    resp = client.post(URL, data={"name": "for bob", "user": "bob"}, headers=alice.headers)
    assert resp.status_code == 200
    assert _tree(client, bob) == {"bob": {"for bob": {}}}
    resp = client.put(URL, data={"name": "for bob", "user": "bob"}, headers=alice.headers)
    assert resp.status_code == 200


def test_a_user_cannot_touch_another_users_goals(client, alice, bob, make_goal):
    secret = make_goal(alice, "secret")
    for method, fields in [
        ("POST", {"name": "intrusion", "user": "alice"}),
        ("PUT", {"name": "secret", "user": "alice"}),
        ("POST", {"name": "x", "user": "nobody-at-all"}),  # 403 too: names do not leak
    ]:
        problem = assert_problem(
            client.open(URL, method=method, data=fields, headers=bob.headers), 403
        )
        assert "yourself" in problem["detail"]
    # Without `user`, bob only ever reaches his own goals.
    assert_problem(client.put(URL, data={"name": "secret"}, headers=bob.headers), 404)
    assert _goal(client, alice, secret["id"])["end"] is None
    assert _tree(client, alice)["alice"] == {"secret": {}}


def test_users_listing_follows_the_role(client, alice, bob):
    resp = client.get("/v1.0/users", headers=alice.headers)
    assert resp.status_code == 200
    assert [u["name"] for u in resp.get_json()] == ["alice", "bob"]
    assert all("password" not in k for u in resp.get_json() for k in u)
    resp = client.get("/v1.0/users", headers=bob.headers)
    assert resp.get_json() == [{"id": bob.id, "name": "bob", "email": bob.email, "is_admin": False}]


def test_only_an_admin_creates_users(client, alice, bob):
    fields = {"name": "carol", "email": "carol@example.com", "password": "carol's password"}
    assert_problem(client.post("/v1.0/users", data=fields, headers=bob.headers), 403)
    resp = client.post("/v1.0/users", data=fields, headers=alice.headers)
    assert resp.status_code == 200
    assert resp.get_json()["name"] == "carol"
    assert resp.get_json()["is_admin"] is False
    # The new account signs in with its password.
    assert (
        client.post("/api/v2/tokens", headers=basic("carol", fields["password"])).status_code == 201
    )
    assert_problem(client.post("/v1.0/users", json=fields, headers=alice.headers), 409)


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "carol", "email": "not-an-address", "password": "long enough"},
        {"name": "carol", "email": "carol@example.com", "password": "short"},
        {"name": "ca@rol", "email": "carol@example.com", "password": "long enough"},
    ],
)
def test_bad_user_fields_are_4xx(client, alice, fields):
    resp = client.post("/v1.0/users", json=fields, headers=alice.headers)
    assert resp.status_code in (400, 422)
    assert_problem(resp, resp.status_code)


# ---------------------------------------------------------------------------- depth


def test_a_chain_ten_thousand_deep_is_valid_json(app, client, alice):
    depth = 10_000
    with app.app_context():
        bulk_create_chain(find_by_name("alice"), (f"g{i}" for i in range(depth)))
        db.session.remove()
    resp = client.get(URL, headers=alice.headers)
    assert resp.status_code == 200
    node = parse_deep(resp.get_data())["alice"]
    seen = 0
    while node:
        ((name, node),) = node.items()
        assert name == f"g{seen}"
        seen += 1
    assert seen == depth
    # The chain's leaf is found by name and completed.
    assert client.put(URL, data={"name": f"g{depth - 1}"}, headers=alice.headers).status_code == 200


def test_a_password_is_never_read_from_the_url(client, alice):
    resp = client.post(
        "/v1.0/users?password=from-the-url",
        data={"name": "carol", "email": "carol@example.com"},
        headers=alice.headers,
    )
    assert "'password'" in assert_problem(resp, 400)["detail"]


# ---------------------------------------------------------------------------- streaming

_GOALS_EACH = 3000


def _add_users_with_forests(app: Any, names: list[str]) -> None:
    """Users with a 10-ary forest of _GOALS_EACH goals each, inserted in bulk."""
    from sqlalchemy import func, insert, select

    from overachiever.core.db import write_transaction
    from overachiever.core.types import utcnow
    from overachiever.goals.models import Goal
    from overachiever.users import service as users

    now = utcnow()
    with app.app_context():
        for name in names:
            owner = users.create_user(name, f"{name}@example.com", None, via_cli=True)
            first = (db.session.execute(select(func.max(Goal.id))).scalar() or 0) + 1
            rows = [
                {
                    "id": first + i,
                    "owner_id": owner.id,
                    "parent_id": first + i // 10 - 1 if i >= 10 else None,
                    "name": f"goal {i}",
                    "description": "",
                    "start": now,
                    "position": i % 10,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for i in range(_GOALS_EACH)
            ]
            with write_transaction() as session:  # one transaction, not one per row
                session.execute(insert(Goal), rows)
        db.session.remove()


def _peak_while_listing(app: Any) -> tuple[int, int]:
    """Peak memory allocated while the admin's listing is written, and the bytes written."""
    import tracemalloc

    from overachiever.legacy import service

    with app.app_context():
        admin = find_by_name("alice")
        tracemalloc.start()
        try:
            size = sum(len(chunk) for chunk in service.goal_trees(admin))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        db.session.remove()
    return peak, size


def test_the_admins_listing_holds_one_users_goals_at_a_time(app, alice):
    _add_users_with_forests(app, [f"few{i}" for i in range(3)])
    _peak_while_listing(app)  # statements compiled and cached once, outside the measurements
    few, few_size = _peak_while_listing(app)
    _add_users_with_forests(app, [f"more{i}" for i in range(9)])
    many, many_size = _peak_while_listing(app)
    assert many_size > 3.5 * few_size
    # Four times the goals: read in batches and written owner by owner, the peak stays about
    # that of one owner's forest (held in memory all at once, it grew 4.3-fold: 3.2 to 13.6 MB).
    assert many < 2 * few, (few, many)


def test_the_listing_reads_nothing_until_it_is_written(app, client, alice, make_goal):
    from sqlalchemy import event

    from overachiever.legacy import service

    make_goal(alice, "x")
    statements: list[str] = []
    with app.app_context():
        admin = find_by_name("alice")
        db.session.remove()
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        listing = service.goal_trees(admin)
        assert statements == []
        assert b"".join(listing) == b'{"alice":{"x":{}}}'
    assert len(statements) == 2
