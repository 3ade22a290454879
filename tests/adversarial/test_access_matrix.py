"""Access-control matrix (OWASP API1 object level, API3 property level, API5 function level).

Three principals (an administrator and two users) each own goals, a trashed subtree and a
spare token. Every operation of every API (v2, v1.0 and the user directory) is tried by each
principal with every other principal's ids, in paths, query strings and bodies. Each attempt
must be refused (404 for another user's goal, token or trash entry) or, for listings, show
none of the victim's data; and the whole database must be unchanged afterwards. The table of
attempts is checked against the app's URL map, so a new route cannot be left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.accounts import Account, basic
from tests.support.adversarial import account, db_snapshot, endpoint_of, module_app, rule_methods
from tests.support.goals import FULL_GOAL

V2 = "/api/v2"
PRINCIPALS = ("admin", "alice", "bob")
PAIRS = [(a, v) for a in PRINCIPALS for v in PRINCIPALS if a != v]
SCOPED = "scoped"  # a listing: 200, the caller's own data in it and none of the victim's
# A count over the caller's goals (a burn-up): 200, counting the caller's one live leaf alone.
COUNTED = "counted"
# The goals shared with the caller: 200 and none (each principal shares only with OUTSIDER).
NONE_SHARED = "none-shared"
# A user who is no principal: every principal shares its top goal with them.
OUTSIDER = "dave"


@dataclass
class Principal:
    """A signed-up principal and the ids of what it owns."""

    account: Account
    goal: int
    child: int
    trashed: int
    token: int
    operation: int  # the operation that created `goal`
    cursor: str  # the changes feed's cursor after all of the above
    share: int  # the share of `goal` with OUTSIDER
    feed: int = 0  # a calendar feed
    feed_url: str = ""  # its secret URL (/calendar/SECRET.ics)

    @property
    def secrets(self) -> list[str]:
        """Strings that only this principal's data contains (names, e-mail)."""
        name = self.account.name
        return [
            f"{name}-top-secret",
            f"{name}-child-secret",
            f"{name}-trashed-secret",
            f"{name}-spare-token",
            f"{name}-calendar-feed",
            *(
                [self.feed_url.removeprefix("/calendar/").removesuffix(".ics")]
                if self.feed_url
                else []
            ),
        ]


World = dict[str, Principal]
Attempt = tuple[str, str, Any, Any]  # method, url, JSON body (or None), expected


@dataclass(frozen=True)
class Operation:
    """One way of reaching for someone else's data; who may legitimately do it."""

    name: str
    build: Callable[[Principal, Principal], Attempt]
    admin_may: bool = False  # administrators may do this to others by design (not an attack)


def _op(name: str, admin_may: bool = False) -> Callable[[Callable[..., Attempt]], Operation]:
    def register(build: Callable[[Principal, Principal], Attempt]) -> Operation:
        return Operation(name, build, admin_may)

    return register


OPERATIONS: list[Operation] = [
    # ------------------------------------------------------------ v2 goals: ids in the path
    Operation("get-goal", lambda a, v: ("GET", f"{V2}/goals/{v.goal}", None, 404)),
    Operation("get-child", lambda a, v: ("GET", f"{V2}/goals/{v.child}", None, 404)),
    Operation("get-subtree", lambda a, v: ("GET", f"{V2}/goals/{v.goal}/tree", None, 404)),
    Operation(
        "patch-goal", lambda a, v: ("PATCH", f"{V2}/goals/{v.goal}", {"name": "mine now"}, 404)
    ),
    Operation(
        "complete-goal",
        lambda a, v: ("PATCH", f"{V2}/goals/{v.child}", {"end": "2024-06-01T00:00:00Z"}, 404),
    ),
    Operation("put-goal", lambda a, v: ("PUT", f"{V2}/goals/{v.goal}", FULL_GOAL, 404)),
    Operation("delete-goal", lambda a, v: ("DELETE", f"{V2}/goals/{v.goal}", None, 404)),
    Operation("delete-trashed", lambda a, v: ("DELETE", f"{V2}/goals/{v.trashed}", None, 404)),
    # ----------------------------------------------- v2 goals: the victim's ids in the body/query
    Operation(
        "create-under-victim",
        lambda a, v: ("POST", f"{V2}/goals", {"name": "stowaway", "parent_id": v.goal}, 404),
    ),
    Operation(
        "move-own-under-victim",
        lambda a, v: ("PATCH", f"{V2}/goals/{a.goal}", {"parent_id": v.child}, 404),
    ),
    Operation(
        "put-own-under-victim",
        lambda a, v: ("PUT", f"{V2}/goals/{a.goal}", {**FULL_GOAL, "parent_id": v.goal}, 404),
    ),
    Operation(
        "import-under-victim",
        lambda a, v: (
            "POST",
            f"{V2}/goals/import?parent_id={v.goal}",
            {"name": "smuggled", "children": [{"name": "inside"}]},
            404,
        ),
    ),
    Operation(
        "list-victim-children", lambda a, v: ("GET", f"{V2}/goals?parent={v.goal}", None, 404)
    ),
    Operation("list-goals", lambda a, v: ("GET", f"{V2}/goals?limit=500", None, SCOPED)),
    Operation("search-goals", lambda a, v: ("GET", f"{V2}/goals?q=secret", None, SCOPED)),
    Operation("forest", lambda a, v: ("GET", f"{V2}/goals/tree?format=flat", None, SCOPED)),
    # --------------------------------------------------------------------------------- trash
    Operation("list-trash", lambda a, v: ("GET", f"{V2}/trash", None, SCOPED)),
    Operation(
        "restore-trashed", lambda a, v: ("POST", f"{V2}/trash/{v.trashed}/restore", None, 404)
    ),
    Operation("restore-live", lambda a, v: ("POST", f"{V2}/trash/{v.goal}/restore", None, 404)),
    Operation("purge-trashed", lambda a, v: ("DELETE", f"{V2}/trash/{v.trashed}", None, 404)),
    Operation("purge-live", lambda a, v: ("DELETE", f"{V2}/trash/{v.goal}", None, 404)),
    # ------------------------------------------------------------------------------- history
    Operation("goal-history", lambda a, v: ("GET", f"{V2}/goals/{v.goal}/history", None, 404)),
    Operation(
        "trashed-history", lambda a, v: ("GET", f"{V2}/goals/{v.trashed}/history", None, 404)
    ),
    Operation("goal-as-of", lambda a, v: ("GET", f"{V2}/goals/{v.goal}?as_of={_now()}", None, 404)),
    Operation(
        "subtree-as-of",
        lambda a, v: ("GET", f"{V2}/goals/{v.goal}/tree?as_of={_now()}", None, 404),
    ),
    Operation(
        "forest-as-of",
        lambda a, v: ("GET", f"{V2}/goals/tree?format=flat&as_of={_now()}", None, SCOPED),
    ),
    Operation("goal-burnup", lambda a, v: ("GET", f"{V2}/goals/{v.goal}/burnup", None, 404)),
    Operation("child-burnup", lambda a, v: ("GET", f"{V2}/goals/{v.child}/burnup", None, 404)),
    Operation("trashed-burnup", lambda a, v: ("GET", f"{V2}/goals/{v.trashed}/burnup", None, 404)),
    Operation("forest-burnup", lambda a, v: ("GET", f"{V2}/goals/burnup", None, COUNTED)),
    # -------------------------------------------------------------------------------- export
    Operation("export-victim-root", lambda a, v: ("GET", f"{V2}/export?root={v.goal}", None, 404)),
    Operation(
        "export-victim-child",
        lambda a, v: ("GET", f"{V2}/export?format=markdown&root={v.child}", None, 404),
    ),
    Operation(
        "export-trashed-root",
        lambda a, v: ("GET", f"{V2}/export?format=csv&root={v.trashed}", None, 404),
    ),
    Operation("export-forest", lambda a, v: ("GET", f"{V2}/export?format=opml", None, SCOPED)),
    Operation("get-operation", lambda a, v: ("GET", f"{V2}/operations/{v.operation}", None, 404)),
    Operation(
        "undo-operation",
        lambda a, v: ("POST", f"{V2}/operations/{v.operation}/undo", None, 404),
    ),
    Operation("list-operations", lambda a, v: ("GET", f"{V2}/operations", None, SCOPED)),
    Operation("changes", lambda a, v: ("GET", f"{V2}/changes?limit=500", None, SCOPED)),
    Operation(
        "changes-victim-cursor",
        lambda a, v: ("GET", f"{V2}/changes?after={v.cursor}", None, 422),
    ),
    # ------------------------------------------------------------------------------- sharing
    Operation(
        "share-victim-goal",
        lambda a, v: (
            "POST",
            f"{V2}/goals/{v.goal}/shares",
            {"user": a.account.name, "role": "editor"},
            404,
        ),
    ),
    Operation("list-victim-shares", lambda a, v: ("GET", f"{V2}/goals/{v.goal}/shares", None, 404)),
    Operation(
        "revoke-victim-share",
        lambda a, v: ("DELETE", f"{V2}/goals/{v.goal}/shares/{v.share}", None, 404),
    ),
    Operation(
        "revoke-victim-share-by-own-goal",
        lambda a, v: ("DELETE", f"{V2}/goals/{a.goal}/shares/{v.share}", None, 404),
    ),
    Operation("shared-with-me", lambda a, v: ("GET", f"{V2}/shared", None, NONE_SHARED)),
    # ------------------------------------------------------------------------ calendar feeds
    Operation(
        "revoke-victim-feed", lambda a, v: ("DELETE", f"{V2}/calendar-feeds/{v.feed}", None, 404)
    ),
    Operation("list-feeds", lambda a, v: ("GET", f"{V2}/calendar-feeds", None, SCOPED)),
    Operation(
        "create-feed-for-victim",
        lambda a, v: ("POST", f"{V2}/calendar-feeds", {"user_id": v.account.id}, 422),
    ),
    # The feed itself needs no credentials by design (the secret in its URL is the key): a
    # secret one character off the victim's is not found.
    Operation("feed-near-victim-secret", lambda a, v: ("GET", _near(v.feed_url), None, 404)),
    # -------------------------------------------------------------------------------- tokens
    Operation("revoke-token", lambda a, v: ("DELETE", f"{V2}/tokens/{v.token}", None, 404)),
    Operation("list-tokens", lambda a, v: ("GET", f"{V2}/tokens", None, SCOPED)),
    Operation(
        "token-as-victim",  # the victim's name with the attacker's own password
        lambda a, v: ("POST", f"{V2}/tokens", {"basic": (v.account.name, a.account.password)}, 401),
    ),
    # --------------------------------------------------------------------------------- users
    Operation("get-user", lambda a, v: ("GET", f"{V2}/users/{v.account.id}", None, 404), True),
    Operation(
        "rename-user",
        lambda a, v: ("PATCH", f"{V2}/users/{v.account.id}", {"name": "renamed"}, 404),
        True,
    ),
    Operation(
        "set-password",
        lambda a, v: (
            "PATCH",
            f"{V2}/users/{v.account.id}",
            {"password": "attacker's choice 1"},
            404,
        ),
        True,
    ),
    Operation(
        "demote-or-promote",
        lambda a, v: (
            "PATCH",
            f"{V2}/users/{v.account.id}",
            {"is_admin": not v.account.is_admin},
            404,
        ),
        True,
    ),
    Operation(
        "put-user",
        lambda a, v: (
            "PUT",
            f"{V2}/users/{v.account.id}",
            {"name": "replaced", "email": "replaced@example.com"},
            404,
        ),
        True,
    ),
    Operation(
        "delete-user", lambda a, v: ("DELETE", f"{V2}/users/{v.account.id}", None, 404), True
    ),
    Operation("list-users", lambda a, v: ("GET", f"{V2}/users", None, 403), True),
    # ------------------------------------------------------------------- v1.0 (the article's)
    Operation("v1-goals", lambda a, v: ("GET", "/v1.0/goals", None, SCOPED), True),
    Operation("v1-users", lambda a, v: ("GET", "/v1.0/users", None, SCOPED), True),
    Operation(
        "v1-add-as-victim",
        lambda a, v: ("POST", "/v1.0/goals", {"user": v.account.name, "name": "planted"}, 403),
        True,
    ),
    Operation(
        "v1-add-under-victim-goal",
        lambda a, v: (
            "POST",
            "/v1.0/goals",
            {"name": "planted", "parent_name": f"{v.account.name}-top-secret"},
            404,
        ),
    ),
    Operation(
        "v1-complete-victim-goal",
        lambda a, v: (
            "PUT",
            "/v1.0/goals",
            {"user": v.account.name, "name": f"{v.account.name}-top-secret"},
            403,
        ),
        True,
    ),
    Operation(
        "v1-complete-by-name",
        lambda a, v: ("PUT", "/v1.0/goals", {"name": f"{v.account.name}-child-secret"}, 404),
    ),
    Operation(
        "v1-add-user",
        lambda a, v: (
            "POST",
            "/v1.0/users",
            {"name": "minion", "email": "minion@example.com", "password": "minion password"},
            403,
        ),
        True,
    ),
    # ------------------------------------------------------- the user directory (admins only)
    Operation("directory-show", lambda a, v: ("GET", f"/api/user/{v.account.id}", None, 403), True),
    Operation("directory-list", lambda a, v: ("GET", "/api/user/0", None, 403), True),
    Operation("directory-list-bare", lambda a, v: ("GET", "/api/user", None, 403), True),
    Operation("directory-list-slash", lambda a, v: ("GET", "/api/user/", None, 403), True),
    Operation(
        "directory-create",
        lambda a, v: (
            "POST",
            "/api/user",
            {"item": {"name": "minion", "mail": "minion@example.com"}},
            403,
        ),
        True,
    ),
    Operation(
        "directory-create-slash",
        lambda a, v: ("POST", "/api/user/", {"item": [{"name": "m2", "mail": "m2@e.com"}]}, 403),
        True,
    ),
    Operation(
        "directory-replace",
        lambda a, v: (
            "PUT",
            f"/api/user/{v.account.id}",
            {"item": {"name": "replaced", "mail": "replaced@example.com"}},
            403,
        ),
        True,
    ),
    Operation(
        "directory-change",
        lambda a, v: ("PATCH", f"/api/user/{v.account.id}", {"item": {"name": "changed"}}, 403),
        True,
    ),
    Operation(
        "directory-delete",
        lambda a, v: ("DELETE", f"/api/user/{v.account.id}", None, 403),
        True,
    ),
]


def _near(url: str) -> str:
    """The feed URL with the last character of its secret changed."""
    stem = url.removesuffix(".ics")
    return stem[:-1] + ("B" if stem[-1] == "A" else "A") + ".ics"


def _now() -> str:
    """This instant, for as_of (the past by the time the request arrives)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Routes anyone may use, with no one's data behind them (sign-up is public by design; its
# mass-assignment attempts are below).
PUBLIC = {
    ("static", "GET"),
    ("docs_asset", "GET"),
    ("docs_script", "GET"),
    ("openapi.spec", "GET"),
    ("openapi.docs", "GET"),
    ("openapi.swagger_ui_oauth_redirect", "GET"),
    ("health.healthz", "GET"),
    ("health.readyz", "GET"),
    ("users.sign_up", "POST"),
}


def _is_public(endpoint: str, method: str) -> bool:
    # The browser UI's pages and assets are static files; the data they show comes from v2.
    return (endpoint, method) in PUBLIC or (endpoint.startswith("ui.") and method == "GET")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app for the whole matrix: refused attempts change nothing, so they can share it."""
    yield from module_app(Path(tmp_path_factory.mktemp("access")))


@pytest.fixture(scope="module")
def world(app: Any) -> World:
    """Each principal with a goal, a child, a trashed goal and a spare token."""
    client = app.test_client()
    principals: World = {}
    for name in PRINCIPALS:  # the first to sign up is the administrator
        acct = account(client, name, password=f"{name} password 1")
        h = acct.headers

        def goal(body: dict[str, Any], headers: dict[str, str] = h) -> int:
            resp = client.post(f"{V2}/goals", json=body, headers=headers)
            assert resp.status_code == 201, resp.get_json()
            return int(resp.get_json()["id"])

        top = goal({"name": f"{name}-top-secret", "description": f"{name}'s plans"})
        child = goal({"name": f"{name}-child-secret", "parent_id": top})
        trashed = goal({"name": f"{name}-trashed-secret"})
        assert client.delete(f"{V2}/goals/{trashed}", headers=h).status_code == 204
        resp = client.post(
            f"{V2}/tokens",
            json={"name": f"{name}-spare-token"},
            headers=basic(name, acct.password),
        )
        assert resp.status_code == 201
        token = int(resp.get_json()["id"])
        events = client.get(f"{V2}/goals/{top}/history", headers=h).get_json()["items"]
        feed = client.get(f"{V2}/changes?limit=500", headers=h).get_json()
        assert not feed["more"]
        operation = events[-1]["operation_id"]
        principals[name] = Principal(
            acct, top, child, trashed, token, operation, feed["cursor"], share=0
        )
    account(client, OUTSIDER)
    for p in principals.values():
        resp = client.post(
            f"{V2}/goals/{p.goal}/shares",
            json={"user": OUTSIDER, "role": "viewer"},
            headers=p.account.headers,
        )
        assert resp.status_code == 201, resp.get_json()
        p.share = resp.get_json()["id"]
        resp = client.post(
            f"{V2}/calendar-feeds",
            json={"name": f"{p.account.name}-calendar-feed"},
            headers=p.account.headers,
        )
        assert resp.status_code == 201, resp.get_json()
        p.feed, p.feed_url = resp.get_json()["id"], resp.get_json()["url"]
    assert principals["admin"].account.is_admin
    assert not principals["alice"].account.is_admin
    return principals


def _send(client: Any, attacker: Principal, method: str, url: str, body: Any) -> Any:
    headers = dict(attacker.account.headers)
    if isinstance(body, dict) and "basic" in body:
        headers.update(basic(*body["basic"]))
        body = None
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    return client.open(url, method=method, **kwargs)


def _own_marker(p: Principal, url: str) -> str:
    """What the caller's own listing must contain."""
    name = p.account.name
    if "/tokens" in url:
        return f"{name}-spare-token"
    if "/calendar-feeds" in url:
        return f"{name}-calendar-feed"
    if "/trash" in url:
        return f"{name}-trashed-secret"
    if "/users" in url:
        return p.account.email
    if "/operations" in url:  # operations name their actor, not their goals
        return f'"name":"{name}"'
    return f"{name}-top-secret"


MATRIX = [
    pytest.param(op, attacker, victim, id=f"{op.name}-{attacker}-on-{victim}")
    for op in OPERATIONS
    for attacker, victim in PAIRS
    if not (op.admin_may and attacker == "admin")
]


@pytest.mark.parametrize(("op", "attacker", "victim"), MATRIX)
def test_attempt_is_refused_and_changes_nothing(app, world, op, attacker, victim):
    client = app.test_client()
    a, v = world[attacker], world[victim]
    method, url, body, expected = op.build(a, v)
    before = db_snapshot(app)
    resp = _send(client, a, method, url, body)
    text = resp.get_data(as_text=True)
    # The victim's data must not show, unless the attacker sent it (an echo of the request).
    sent = url + json.dumps(body)
    secrets = [s for s in [*v.secrets, v.account.email] if s not in sent]
    if expected == SCOPED:
        assert resp.status_code == 200, text[:500]
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked to {attacker}"
        # Not empty by accident: the caller's own data is listed, and none of the victim's.
        assert _own_marker(a, url) in text
        assert _own_marker(v, url) not in text, f"{victim}'s data leaked to {attacker}"
    elif expected == NONE_SHARED:
        assert resp.status_code == 200, text[:500]
        assert resp.get_json() == {"items": []}
    elif expected == COUNTED:
        assert resp.status_code == 200, text[:500]
        last = resp.get_json()["series"][-1]
        assert (last["leaves"], last["done"]) == (1, 0), f"{victim}'s goals counted for {attacker}"
    else:
        assert resp.status_code == expected, text[:500]
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked to {attacker}"
    assert db_snapshot(app) == before


def test_victims_read_back_unchanged(app, world):
    """After the whole matrix, every principal still sees exactly its own data."""
    client = app.test_client()
    for name, p in world.items():
        h = p.account.headers
        goal = client.get(f"{V2}/goals/{p.goal}", headers=h).get_json()
        assert goal["name"] == f"{name}-top-secret"
        assert goal["children_count"] == 1
        assert goal["end"] is None
        child = client.get(f"{V2}/goals/{p.child}", headers=h).get_json()
        assert child["parent_id"] == p.goal
        assert child["end"] is None
        flat = client.get(f"{V2}/goals/tree?format=flat", headers=h).get_json()["items"]
        assert [g["id"] for g in flat] == [p.goal, p.child]
        trash = client.get(f"{V2}/trash", headers=h).get_json()["items"]
        assert [t["id"] for t in trash] == [p.trashed]
        tokens = client.get(f"{V2}/tokens", headers=h).get_json()["items"]
        assert p.token in [t["id"] for t in tokens]
        me = client.get(f"{V2}/users/self", headers=h).get_json()
        assert (me["name"], me["is_admin"]) == (name, name == "admin")
        assert (
            client.post(f"{V2}/tokens", headers=basic(name, p.account.password)).status_code == 201
        )


def test_every_route_is_in_the_matrix_or_public(app, world):
    """Derived from the URL map: a new route fails here until the matrix tries it."""
    covered: set[tuple[str, str]] = set()
    a, v = world["alice"], world["bob"]
    for op in OPERATIONS:
        method, url, _, _ = op.build(a, v)
        covered.add((endpoint_of(app, method, url), method))
    routed = rule_methods(app)
    missing = sorted((e, m) for e, m in routed - covered if not _is_public(e, m))
    assert not missing, f"routes the access matrix does not try: {missing}"
    # Every public entry still exists (a renamed endpoint must not hide behind the list).
    assert routed >= PUBLIC


MASS_ASSIGNMENT = [
    # (who, method, url, body, expected status)
    ("anonymous", "POST", f"{V2}/users", {"is_admin": True}, 422),
    ("anonymous", "POST", f"{V2}/users", {"id": 1}, 422),
    ("anonymous", "POST", f"{V2}/users", {"created_at": "2020-01-01T00:00:00Z"}, 422),
    ("anonymous", "POST", f"{V2}/users", {"password_hash": "$argon2id$x"}, 422),
    ("bob", "POST", f"{V2}/users", {"is_admin": True}, 422),
    ("bob", "PATCH", f"{V2}/users/self", {"is_admin": True}, 403),
    ("bob", "PUT", f"{V2}/users/self", {"is_admin": True}, 403),
    ("bob", "PATCH", f"{V2}/users/self", {"id": "<alice>"}, 422),
    ("bob", "PATCH", f"{V2}/users/self", {"created_at": "2020-01-01T00:00:00Z"}, 422),
    ("bob", "PATCH", f"{V2}/users/self", {"password_hash": "$argon2id$x"}, 422),
    ("bob", "PATCH", f"{V2}/users/self", {"is_admin": "true"}, 422),
    ("bob", "PATCH", f"{V2}/users/self", {"is_admin": 1}, 422),
    ("bob", "TOKEN", f"{V2}/tokens", {"user_id": "<alice>"}, 422),
    ("bob", "TOKEN", f"{V2}/tokens", {"id": 1}, 422),
    ("bob", "TOKEN", f"{V2}/tokens", {"token": "oa_chosen_by_the_client_0000000000"}, 422),
    ("bob", "TOKEN", f"{V2}/tokens", {"digest": "0" * 64}, 422),
    ("bob", "TOKEN", f"{V2}/tokens", {"created_at": "2020-01-01T00:00:00Z"}, 422),
    ("bob", "TOKEN", f"{V2}/tokens", {"last_used_at": "2020-01-01T00:00:00Z"}, 422),
    ("bob", "POST", f"{V2}/calendar-feeds", {"digest": "0" * 64}, 422),
    ("bob", "POST", f"{V2}/calendar-feeds", {"url": "/calendar/chosen_by_the_client.ics"}, 422),
    ("bob", "POST", f"{V2}/calendar-feeds", {"last_used_at": "2020-01-01T00:00:00Z"}, 422),
    ("bob", "POST", f"{V2}/goals", {"name": "x", "owner_id": "<alice>"}, 422),
    ("bob", "POST", f"{V2}/goals", {"name": "x", "id": "<alice-goal>"}, 422),
    ("bob", "POST", f"{V2}/goals", {"name": "x", "version": 7}, 422),
    ("bob", "PATCH", f"{V2}/goals/<bob-goal>", {"owner_id": "<alice>"}, 422),
    ("bob", "PATCH", f"{V2}/goals/<bob-goal>", {"version": 99}, 422),
    ("bob", "PATCH", f"{V2}/goals/<bob-goal>", {"created_at": "2020-01-01T00:00:00Z"}, 422),
    ("bob", "PATCH", f"{V2}/goals/<bob-goal>", {"updated_at": "2020-01-01T00:00:00Z"}, 422),
    ("bob", "PATCH", f"{V2}/goals/<bob-goal>", {"deleted_at": "2020-01-01T00:00:00Z"}, 422),
    ("bob", "PUT", f"{V2}/goals/<bob-goal>", {"owner_id": "<alice>"}, 422),
    ("bob", "PUT", f"{V2}/goals/<bob-goal>", {"id": "<alice-goal>"}, 422),
    ("bob", "IMPORT", f"{V2}/goals/import", {"name": "x", "owner_id": "<alice>"}, 422),
    ("bob", "IMPORT", f"{V2}/goals/import", {"name": "x", "id": "<alice-goal>"}, 422),
    ("bob", "IMPORT", f"{V2}/goals/import", {"name": "x", "parent_id": "<alice-goal>"}, 422),
    (
        "bob",
        "IMPORT",
        f"{V2}/goals/import",
        {"name": "x", "children": [{"name": "y", "owner_id": "<alice>"}]},
        422,
    ),
    ("bob", "IMPORT", f"{V2}/goals/import", [{"name": "x"}, {"name": "z", "version": 3}], 422),
    # The user directory answers its validation failures with 400 (its own documented shape).
    (
        "admin",
        "POST",
        "/api/user",
        {"item": {"name": "n", "mail": "n@e.com", "is_admin": True}},
        400,
    ),
    (
        "admin",
        "POST",
        "/api/user",
        {"item": {"name": "n", "mail": "n@e.com"}, "is_admin": True},
        400,
    ),
    ("admin", "PATCH", "/api/user/<bob>", {"item": {"is_admin": True}}, 400),
    (
        "admin",
        "PUT",
        "/api/user/<bob>",
        {"item": {"name": "b", "mail": "b@e.com", "password": "p"}},
        400,
    ),
]


def _fill(value: Any, world: World) -> Any:
    """Put ids of the world in place of '<alice>', '<alice-goal>' and the like."""
    if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
        who, _, what = value[1:-1].partition("-")
        p = world[who]
        return p.goal if what == "goal" else p.account.id
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def _url(url: str, world: World) -> str:
    for name, p in world.items():
        url = url.replace(f"<{name}-goal>", str(p.goal)).replace(f"<{name}>", str(p.account.id))
    return url


@pytest.mark.parametrize(
    ("who", "method", "url", "body", "status"),
    [
        pytest.param(*case, id=f"{i:02d}-{case[0]}-{case[1]}-{case[2].rsplit('/', 1)[-1]}")
        for i, case in enumerate(MASS_ASSIGNMENT)
    ],
)
def test_mass_assignment_is_refused(app, world, who, method, url, body, status):
    client = app.test_client()
    body = _fill(body, world)
    if isinstance(body, dict) and method in ("POST", "PUT") and url.endswith("/users"):
        body = {
            "name": "mallory",
            "email": "mallory@example.com",
            "password": "mallory pass 1",
            **body,
        }
    if method == "PUT" and "/users/" in url and "/api/user" not in url:
        body = {"name": "bob", "email": "bob@example.com", **body}
    if method == "PUT" and "/goals/" in url:
        body = {**FULL_GOAL, **body}
    headers: dict[str, str] = {}
    if who != "anonymous":
        p = world[who]
        headers = (
            basic(p.account.name, p.account.password) if method == "TOKEN" else p.account.headers
        )
    real_method = {"TOKEN": "POST", "IMPORT": "POST"}.get(method, method)
    before = db_snapshot(app)
    resp = client.open(_url(url, world), method=real_method, json=body, headers=headers)
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert db_snapshot(app) == before
