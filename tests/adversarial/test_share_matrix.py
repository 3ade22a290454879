"""Sharing's access matrix: every route that takes a goal, by every role, at every place.

Olivia owns a shared goal (root) with a goal inside it, and a goal outside it. Ed edits the
share, Vi views it, and St has been given nothing. Each route that names a goal is tried by
each of the four on the goal inside, the shared root and the goal outside, and must answer as
the table says: reads for every role of the share, writes for the owner and, strictly inside
the share, the editor; 403 where the caller can see the goal but may not do this; 404 where
the caller has nothing to do with it. Writes are sent as dry runs, which go through the same
checks and store nothing, so one database serves the whole matrix; every attempt must leave
it unchanged. A route with a goal id that the table does not try fails the coverage test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.accounts import Account
from tests.support.adversarial import account, db_snapshot, endpoint_of, module_app, rule_methods
from tests.support.goals import FULL_GOAL

V2 = "/api/v2"
ROLES = ("owner", "editor", "viewer", "stranger")
PLACES = ("inside", "root", "outside")
SKIP = 0  # an attempt the owner may make, but which would change the database for real
# Strings of the owner's goals that only a reader of them may see.
OWNER_MARK = "olivia-"


@dataclass
class World:
    """The accounts, the owner's goals and the shares between them."""

    accounts: dict[str, Account]
    own: dict[str, int]  # each role's own spare goal
    place: dict[str, int]  # inside, root, outside
    parent: dict[int, int | None]
    trashed: int  # inside the share once, in the owner's trash now
    operation: int  # the owner's operation that created `inside`
    dave_share: int  # a share of the root with someone else


Attempt = tuple[str, str, Any]  # method, url, JSON body (or None)
Expected = dict[str, tuple[int, int, int]]  # role -> answer at inside, root, outside


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


READ = {
    "owner": (200, 200, 200),
    "editor": (200, 200, 404),
    "viewer": (200, 200, 404),
    "stranger": (404, 404, 404),
}
EDIT = {**READ, "viewer": (403, 403, 404)}
# Strictly inside the share: the shared goal itself stays its owner's to move and trash.
EDIT_INSIDE = {**EDIT, "editor": (200, 403, 404)}
# Out of the share, or into it from the caller's own tree.
CROSS = {**EDIT, "editor": (403, 403, 404)}
OWNER_ONLY = {
    "owner": (200, 200, 200),
    "editor": (403, 403, 404),
    "viewer": (403, 403, 404),
    "stranger": (404, 404, 404),
}
NOWHERE = dict.fromkeys(ROLES, (404, 404, 404))


@dataclass(frozen=True)
class Route:
    """One way of using a goal: the request for (world, caller role, goal), and the table."""

    name: str
    build: Callable[[World, str, int], Attempt]
    expected: Expected


ROUTES: list[Route] = [
    Route("get", lambda w, r, g: ("GET", f"{V2}/goals/{g}", None), READ),
    Route("get-as-of", lambda w, r, g: ("GET", f"{V2}/goals/{g}?as_of={_now()}", None), READ),
    Route("tree", lambda w, r, g: ("GET", f"{V2}/goals/{g}/tree", None), READ),
    Route("tree-as-of", lambda w, r, g: ("GET", f"{V2}/goals/{g}/tree?as_of={_now()}", None), READ),
    Route("history", lambda w, r, g: ("GET", f"{V2}/goals/{g}/history", None), READ),
    Route("export", lambda w, r, g: ("GET", f"{V2}/export?format=json&root={g}", None), READ),
    Route("export-csv", lambda w, r, g: ("GET", f"{V2}/export?format=csv&root={g}", None), READ),
    Route("burnup", lambda w, r, g: ("GET", f"{V2}/goals/{g}/burnup", None), READ),
    Route(
        "rename",
        lambda w, r, g: ("PATCH", f"{V2}/goals/{g}?dry_run=true", {"name": "renamed"}),
        EDIT,
    ),
    Route(
        "complete",
        lambda w, r, g: ("PATCH", f"{V2}/goals/{g}?dry_run=true", {"end": _now()}),
        EDIT,
    ),
    Route(
        "replace",
        lambda w, r, g: (
            "PUT",
            f"{V2}/goals/{g}?dry_run=true",
            {**FULL_GOAL, "parent_id": w.parent[g]},
        ),
        EDIT,
    ),
    Route(
        "reorder",
        lambda w, r, g: ("PATCH", f"{V2}/goals/{g}?dry_run=true", {"position": 5}),
        EDIT_INSIDE,
    ),
    Route("trash", lambda w, r, g: ("DELETE", f"{V2}/goals/{g}?dry_run=true", None), EDIT_INSIDE),
    Route(
        "create-under",
        lambda w, r, g: ("POST", f"{V2}/goals?dry_run=true", {"name": "new", "parent_id": g}),
        EDIT,
    ),
    Route(
        "import-under",
        lambda w, r, g: (
            "POST",
            f"{V2}/goals/import?dry_run=true&parent_id={g}",
            {"name": "new", "children": [{"name": "newer"}]},
        ),
        EDIT,
    ),
    Route(
        "move-to-top",
        lambda w, r, g: ("PATCH", f"{V2}/goals/{g}?dry_run=true", {"parent_id": None}),
        # The shared root is at the top already: no move, so the editor's no-op passes.
        {**CROSS, "editor": (403, 200, 404)},
    ),
    Route(
        "move-under-own",
        lambda w, r, g: ("PATCH", f"{V2}/goals/{g}?dry_run=true", {"parent_id": w.own[r]}),
        CROSS,
    ),
    Route(
        "move-own-under",
        lambda w, r, g: ("PATCH", f"{V2}/goals/{w.own[r]}?dry_run=true", {"parent_id": g}),
        {**CROSS, "stranger": (404, 404, 404)},
    ),
    Route(
        "share",
        lambda w, r, g: ("POST", f"{V2}/goals/{g}/shares", {"user": "dave", "role": "editor"}),
        {**OWNER_ONLY, "owner": (SKIP, SKIP, SKIP)},
    ),
    Route("list-shares", lambda w, r, g: ("GET", f"{V2}/goals/{g}/shares", None), OWNER_ONLY),
    Route(
        "revoke-share",
        lambda w, r, g: ("DELETE", f"{V2}/goals/{g}/shares/{w.dave_share}", None),
        # The share is the root's: through another goal's path it is not found, even by Olivia.
        {**NOWHERE, "owner": (404, SKIP, 404)},
    ),
    Route("restore-live", lambda w, r, g: ("POST", f"{V2}/trash/{g}/restore", None), NOWHERE),
    Route("purge-live", lambda w, r, g: ("DELETE", f"{V2}/trash/{g}", None), NOWHERE),
]

# The trash and the history of operations stay the owner's: one id each, not a place.
OWNER_THINGS: list[tuple[str, Callable[[World], Attempt], int]] = [
    ("trashed-get", lambda w: ("GET", f"{V2}/goals/{w.trashed}", None), 404),
    ("trashed-history", lambda w: ("GET", f"{V2}/goals/{w.trashed}/history", None), 200),
    ("trashed-restore", lambda w: ("POST", f"{V2}/trash/{w.trashed}/restore", None), SKIP),
    ("trashed-purge", lambda w: ("DELETE", f"{V2}/trash/{w.trashed}", None), SKIP),
    ("operation", lambda w: ("GET", f"{V2}/operations/{w.operation}", None), 200),
    ("undo", lambda w: ("POST", f"{V2}/operations/{w.operation}/undo", None), SKIP),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app for the whole matrix: dry runs and refusals change nothing."""
    yield from module_app(Path(tmp_path_factory.mktemp("share-matrix")))


@pytest.fixture(scope="module")
def world(app: Any) -> World:
    """Olivia's goals, shared with Ed (editor), Vi (viewer) and Dave; St has none."""
    client = app.test_client()
    account(client, "admin")  # the first account is the administrator: not one of the roles
    names = {"owner": "olivia", "editor": "ed", "viewer": "vi", "stranger": "st"}
    accounts = {role: account(client, name) for role, name in names.items()}
    account(client, "dave")

    def goal(role: str, name: str, parent: int | None = None) -> int:
        body: dict[str, Any] = {"name": name, "parent_id": parent}
        resp = client.post(f"{V2}/goals", json=body, headers=accounts[role].headers)
        assert resp.status_code == 201, resp.get_json()
        return int(resp.get_json()["id"])

    root = goal("owner", "olivia-shared-root")
    inside = goal("owner", "olivia-inside", root)
    goal("owner", "olivia-deep", inside)
    trashed = goal("owner", "olivia-trashed", root)
    outside = goal("owner", "olivia-outside-secret")
    goal("owner", "olivia-outside-child-secret", outside)
    own = {"owner": goal("owner", "olivia-spare")}
    for role in ("editor", "viewer", "stranger"):
        own[role] = goal(role, f"{names[role]}-own")
    owner = accounts["owner"].headers
    assert client.delete(f"{V2}/goals/{trashed}", headers=owner).status_code == 204
    shares = {}
    for user, role in (("ed", "editor"), ("vi", "viewer"), ("dave", "viewer")):
        resp = client.post(
            f"{V2}/goals/{root}/shares", json={"user": user, "role": role}, headers=owner
        )
        assert resp.status_code == 201, resp.get_json()
        shares[user] = resp.get_json()["id"]
    events = client.get(f"{V2}/goals/{inside}/history", headers=owner).get_json()["items"]
    return World(
        accounts=accounts,
        own=own,
        place={"inside": inside, "root": root, "outside": outside},
        parent={inside: root, root: None, outside: None},
        trashed=trashed,
        operation=events[-1]["operation_id"],
        dave_share=shares["dave"],
    )


def _check(app: Any, world: World, role: str, attempt: Attempt, expected: int) -> None:
    method, url, body = attempt
    client = app.test_client()
    before = db_snapshot(app)
    kwargs: dict[str, Any] = {"headers": world.accounts[role].headers}
    if body is not None:
        kwargs["json"] = body
    resp = client.open(url, method=method, **kwargs)
    text = resp.get_data(as_text=True)
    assert resp.status_code == expected, text[:500]
    if expected >= 400:
        assert resp.mimetype == "application/problem+json"
        # A refusal names no goal the caller cannot read.
        assert "olivia-outside" not in text
    assert db_snapshot(app) == before


MATRIX = [
    pytest.param(route, role, i, id=f"{route.name}-{role}-{place}")
    for route in ROUTES
    for role in ROLES
    for i, place in enumerate(PLACES)
    if route.expected[role][i] != SKIP
]


@pytest.mark.parametrize(("route", "role", "i"), MATRIX)
def test_each_role_at_each_place_gets_what_the_table_says(app, world, route, role, i):
    goal = world.place[PLACES[i]]
    _check(app, world, role, route.build(world, role, goal), route.expected[role][i])


@pytest.mark.parametrize(
    ("name", "build", "role", "expected"),
    [
        pytest.param(name, build, role, owner if role == "owner" else 404, id=f"{name}-{role}")
        for name, build, owner in OWNER_THINGS
        for role in ROLES
        if not (role == "owner" and owner == SKIP)
    ],
)
def test_the_trash_and_operations_stay_the_owners(app, world, name, build, role, expected):
    _check(app, world, role, build(world), expected)


@pytest.mark.parametrize("role", ["editor", "viewer", "stranger"])
def test_a_recipients_own_reads_hold_none_of_the_owners_goals(app, world, role):
    client = app.test_client()
    headers = world.accounts[role].headers
    for url in (
        f"{V2}/goals/tree?format=flat",
        f"{V2}/goals?limit=500",
        f"{V2}/goals?q=olivia",
        f"{V2}/goals/tree?format=flat&as_of={_now()}",
        f"{V2}/goals/burnup",
        f"{V2}/trash",
        f"{V2}/operations",
        f"{V2}/changes?limit=500",
        f"{V2}/export?format=json",
        f"{V2}/export?format=markdown",
    ):
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, (url, resp.get_data(as_text=True)[:300])
        assert OWNER_MARK not in resp.get_data(as_text=True), url
    shared = client.get(f"{V2}/shared", headers=headers).get_json()["items"]
    expected = [] if role == "stranger" else [(world.place["root"], role, "olivia")]
    assert [(s["goal"]["id"], s["role"], s["owner"]["name"]) for s in shared] == expected


def test_every_route_that_takes_a_goal_is_in_the_table(app, world):
    """Derived from the URL map: a new route with a goal id fails here until tried."""
    covered: set[tuple[str, str]] = set()
    for route in ROUTES:
        method, url, _ = route.build(world, "owner", world.place["inside"])
        covered.add((endpoint_of(app, method, url), method))
    for _name, build, _ in OWNER_THINGS:
        method, url, _ = build(world)
        covered.add((endpoint_of(app, method, url), method))
    with_goal = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if "goal_id" in rule.arguments
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert with_goal <= rule_methods(app)
    missing = sorted(with_goal - covered)
    assert not missing, f"routes with a goal id the sharing matrix does not try: {missing}"
