"""A catalogue of bad input to the goals API: each gets a 4xx problem and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.accounts import PASSWORD, Account, basic
from tests.support.apps import build_app, dispose
from tests.support.goals import API, FULL_GOAL, error_locs, snapshot
from tests.support.problems import assert_problem

GOALS = f"{API}/goals"
_MISSING = object()


@dataclass(frozen=True)
class Body:
    """A request body: JSON (encoded with the standard library) or raw bytes."""

    value: Any = _MISSING
    raw: bytes | None = None
    content_type: str | None = "application/json"


def J(value: Any) -> Body:
    """A JSON body."""
    return Body(value=value)


def RAW(raw: bytes | str, content_type: str | None = "application/json") -> Body:
    """A raw body with a content type."""
    return Body(raw=raw.encode() if isinstance(raw, str) else raw, content_type=content_type)


NO_BODY = Body()
GOAL = f"{GOALS}/{{goal}}"


def _case(
    name: str,
    method: str,
    url: str,
    body: Body = NO_BODY,
    status: int = 422,
    loc: list[Any] | None = None,
) -> Any:
    return pytest.param(method, url, body, status, loc, id=name)


def _fields(
    prefix: str, fields: dict[str, Any], status: int = 422, loc: str | None = None
) -> list[Any]:
    """The same bad fields sent to create, patch and (with the rest of a full body) put."""
    locs = ["body", loc] if loc else None
    return [
        _case(f"{prefix}-post", "POST", GOALS, J({"name": "new", **fields}), status, locs),
        _case(f"{prefix}-patch", "PATCH", GOAL, J(fields), status, locs),
        _case(f"{prefix}-put", "PUT", GOAL, J({**FULL_GOAL, **fields}), status, locs),
    ]


CASES = [
    # ---------------------------------------------------------------- not JSON, or not an object
    _case("malformed-json-post", "POST", GOALS, RAW("{"), 400),
    _case("malformed-json-patch", "PATCH", GOAL, RAW('{"name": "x",}'), 400),
    _case("malformed-json-put", "PUT", GOAL, RAW("{'name': 'x'}"), 400),
    _case("bad-utf8", "POST", GOALS, RAW(b'{"name": "\xff\xfe"}'), 400),
    _case("nan", "PATCH", GOAL, RAW('{"position": NaN}'), 400),
    _case("trailing-garbage", "POST", GOALS, RAW('{"name": "x"} {"name": "y"}'), 400),
    _case("empty-json-body-post", "POST", GOALS, RAW(""), 400),
    _case("nested-too-deep", "POST", GOALS, RAW("[" * 5000 + "]" * 5000), 400),
    _case("array-post", "POST", GOALS, J([{"name": "x"}])),
    _case("array-patch", "PATCH", GOAL, J([])),
    _case("array-put", "PUT", GOAL, J([FULL_GOAL])),
    _case("number-post", "POST", GOALS, J(42)),
    _case("number-patch", "PATCH", GOAL, J(3.5)),
    _case("string-patch", "PATCH", GOAL, J("name")),
    _case("true-patch", "PATCH", GOAL, J(True)),
    _case("null-post", "POST", GOALS, J(None)),
    _case("null-patch", "PATCH", GOAL, J(None)),
    _case("null-put", "PUT", GOAL, J(None)),
    # ------------------------------------------------------------------------------ wrong types
    *_fields("name-int", {"name": 5}, loc="name"),
    *_fields("name-list", {"name": ["x"]}, loc="name"),
    *_fields("parent-string", {"parent_id": "1"}, loc="parent_id"),
    *_fields("parent-bool", {"parent_id": True}, loc="parent_id"),
    *_fields("parent-float", {"parent_id": 1.0}, loc="parent_id"),
    *_fields("parent-zero", {"parent_id": 0}, loc="parent_id"),
    *_fields("parent-negative", {"parent_id": -3}, loc="parent_id"),
    *_fields("position-negative", {"position": -1}, loc="position"),
    *_fields("position-huge", {"position": 2**31}, loc="position"),
    *_fields("position-string", {"position": "1"}, loc="position"),
    *_fields("position-float", {"position": 1.5}, loc="position"),
    *_fields("description-long", {"description": "x" * 10_001}, loc="description"),
    *_fields("description-int", {"description": 7}, loc="description"),
    # ------------------------------------------------------------------------------ bad names
    *_fields("name-empty", {"name": ""}, loc="name"),
    *_fields("name-spaces", {"name": " \t "}, loc="name"),
    *_fields("name-201", {"name": "n" * 201}, loc="name"),
    *_fields("name-nul", {"name": "a\x00b"}, loc="name"),
    *_fields("name-bell", {"name": "ring\x07"}, loc="name"),
    *_fields("name-newline", {"name": "two\nlines"}, loc="name"),
    *_fields("name-del", {"name": "x\x7f"}, loc="name"),
    *_fields("name-c1", {"name": "x\x85y"}, loc="name"),
    *_fields("description-nul", {"description": "a\x00b"}, loc="description"),
    *_fields("description-escape", {"description": "\x1b[31mred"}, loc="description"),
    _case("name-null-post", "POST", GOALS, J({"name": None}), loc=["body", "name"]),
    _case("name-null-patch", "PATCH", GOAL, J({"name": None}), loc=["body", "name"]),
    _case("start-null-patch", "PATCH", GOAL, J({"start": None}), loc=["body", "start"]),
    _case("desc-null-patch", "PATCH", GOAL, J({"description": None}), loc=["body", "description"]),
    _case("put-start-null", "PUT", GOAL, J({**FULL_GOAL, "start": None}), loc=["body", "start"]),
    _case("put-missing-name", "PUT", GOAL, J({k: v for k, v in FULL_GOAL.items() if k != "name"})),
    _case("post-missing-name", "POST", GOALS, J({"description": "nameless"})),
    # ------------------------------------------------------------------------- bad timestamps
    *_fields("start-words", {"start": "yesterday"}, loc="start"),
    *_fields("due-month-13", {"due": "2024-13-45"}, loc="due"),
    *_fields("due-day-45", {"due": "2024-01-45T00:00:00Z"}, loc="due"),
    *_fields("end-number", {"end": 1700000000}, loc="end"),
    *_fields("end-float", {"end": 1.7e9}, loc="end"),
    *_fields("due-unix-string", {"due": "1700000000"}, loc="due"),
    *_fields("due-empty", {"due": ""}, loc="due"),
    *_fields("due-bool", {"due": True}, loc="due"),
    *_fields("start-year-0", {"start": "0000-01-01T00:00:00Z"}, loc="start"),
    *_fields("due-year-10000", {"due": "10000-01-01T00:00:00Z"}, loc="due"),
    *_fields("start-before-year-1", {"start": "0001-01-01T00:00:00+01:00"}, loc="start"),
    *_fields("due-after-year-9999", {"due": "9999-12-31T23:59:59-01:00"}, loc="due"),
    *_fields("due-bad-offset", {"due": "2024-01-01T00:00:00+25:00"}, loc="due"),
    _case(
        "end-before-start",
        "POST",
        GOALS,
        J({"name": "x", "start": "2024-02-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"}),
        loc=["body", "end"],
    ),
    _case("patch-end-before-start", "PATCH", GOAL, J({"end": "2000-01-01T00:00:00Z"})),
    # ---------------------------------------------------------------- unknown or foreign parents
    *_fields("parent-unknown", {"parent_id": 987654}, status=404),
    *_fields("parent-foreign", {"parent_id": "<foreign>"}, status=404),
    *_fields("parent-trashed", {"parent_id": "<trashed>"}, status=404),
    *_fields("parent-2**63", {"parent_id": 2**63}, loc="parent_id"),
    *_fields("parent-2**64", {"parent_id": 2**64}, loc="parent_id"),
    _case(
        "parent-huge-literal", "POST", GOALS, RAW('{"name": "x", "parent_id": 1' + "0" * 40 + "}")
    ),
    _case("parent-1e400", "POST", GOALS, RAW('{"name": "x", "parent_id": 1e400}'), 400),
    _case("move-under-itself", "PATCH", GOAL, J({"parent_id": "<goal>"}), 409),
    _case("move-under-child", "PATCH", GOAL, J({"parent_id": "<child>"}), 409),
    _case("name-taken", "PATCH", f"{GOALS}/{{child2}}", J({"name": "child"}), 409),
    _case("post-name-taken", "POST", GOALS, J({"name": "child", "parent_id": "<goal>"}), 409),
    # --------------------------------------------------------------------- ids in the path
    *[
        _case(f"path-{label}-{method.lower()}", method, f"{GOALS}/{value}", body, 404)
        for label, value in [
            ("20-digits", "99999999999999999999"),
            ("2**63", str(2**63)),
            ("2**64", str(2**64)),
            ("zero", "0"),
            ("negative", "-1"),
            ("word", "abc"),
            ("float", "1.5"),
            ("foreign", "{foreign}"),
            ("trashed", "{trashed}"),
        ]
        for method, body in [("GET", NO_BODY), ("PATCH", J({"name": "x"})), ("DELETE", NO_BODY)]
    ],
    _case("path-2**63-put", "PUT", f"{GOALS}/{2**63}", J(FULL_GOAL), 404),
    _case("path-2**63-tree", "GET", f"{GOALS}/{2**63}/tree", status=404),
    _case(
        "path-20-digits-restore", "POST", f"{API}/trash/99999999999999999999/restore", status=404
    ),
    _case("path-2**63-purge", "DELETE", f"{API}/trash/{2**63}", status=404),
    # ----------------------------------------------------------------------- query strings
    *[
        _case(f"list-{param}={value!r}", "GET", f"{GOALS}?{param}={value}", loc=["query", param])
        for param, value in [
            ("limit", "0"),
            ("limit", "501"),
            ("limit", "-1"),
            ("limit", "abc"),
            ("limit", "1.5"),
            ("limit", ""),
            ("offset", "-1"),
            ("offset", "x"),
            ("offset", str(2**63)),
            ("offset", "1" + "0" * 30),
            ("sort", "bogus"),
            ("sort", "--name"),
            ("sort", "+name"),
            ("sort", "owner_id"),
            ("sort", "name;drop"),
            ("status", "closed"),
            ("status", "OPEN"),
            ("parent", "0"),
            ("parent", "-1"),
            ("parent", "abc"),
            ("parent", "99999999999999999999"),
            ("parent", str(2**63)),
            ("parent", "1%00"),
            ("q", "a%00b"),
            ("q", "x" * 201),
            ("due_before", "yesterday"),
            ("due_before", "2024-13-45"),
            ("due_after", "1700000000"),
            ("due_after", "0001-01-01T00:00:00%2B01:00"),
            ("due_before", "9999-12-31T23:59:59-01:00"),
        ]
    ],
    _case("list-parent-foreign", "GET", f"{GOALS}?parent={{foreign}}", status=404),
    _case("list-parent-trashed", "GET", f"{GOALS}?parent={{trashed}}", status=404),
    *[
        _case(f"{label}-{param}={value!r}", "GET", f"{path}?{param}={value}", loc=["query", param])
        for label, path in (("forest", f"{GOALS}/tree"), ("subtree", f"{GOAL}/tree"))
        for param, value in [
            ("depth", "0"),
            ("depth", "-1"),
            ("depth", "abc"),
            ("depth", "10000001"),
            ("status", "nope"),
            ("format", "xml"),
        ]
    ],
    _case("import-parent-nul", "POST", f"{GOALS}/import?parent_id=1%00", J({"name": "x"})),
    _case("import-parent-2**63", "POST", f"{GOALS}/import?parent_id={2**63}", J({"name": "x"})),
    # ------------------------------------------------------------- size and content type
    _case("oversized-post", "POST", GOALS, J({"name": "x", "description": "y" * 1_100_000}), 413),
    _case("oversized-patch", "PATCH", GOAL, RAW(b'{"name": "' + b"z" * 1_100_000 + b'"}'), 413),
    _case("text-plain-post", "POST", GOALS, RAW('{"name": "x"}', "text/plain"), 415),
    _case("form-post", "POST", GOALS, RAW("name=x", "application/x-www-form-urlencoded"), 415),
    _case("xml-patch", "PATCH", GOAL, RAW("<name>x</name>", "application/xml"), 415),
    _case("no-type-put", "PUT", GOAL, RAW(json.dumps(FULL_GOAL), None), 415),
    _case("multipart-post", "POST", GOALS, RAW("--b\r\n", "multipart/form-data; boundary=b"), 415),
    # ------------------------------------------------------ fields no one may set (mass assignment)
    *[
        case
        for field, value in [
            ("id", 12345),
            ("owner_id", "<foreign_owner>"),
            ("version", 99),
            ("created_at", "2020-01-01T00:00:00Z"),
            ("updated_at", "2020-01-01T00:00:00Z"),
            ("deleted_at", "2020-01-01T00:00:00Z"),
            ("trash_root_id", 1),
            ("progress", 1.0),
            ("children", []),
            ("Name", "x"),
        ]
        for case in _fields(f"unknown-{field}", {field: value}, loc=field)
    ],
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Account, Account]]:
    """One app for the whole catalogue, made like the shared `app` fixture.

    Every case must leave the data unchanged, so the cases can share it (and each checks that
    it did); signing up two users per case would make the catalogue slow.
    """
    application = build_app(tmp_path_factory.mktemp("bad_input"))
    client = application.test_client()
    accounts = []
    for name in ("alice", "bob"):
        resp = client.post(
            f"{API}/users",
            json={"name": name, "email": f"{name}@example.com", "password": PASSWORD},
        )
        assert resp.status_code == 201
        user = resp.get_json()
        resp = client.post(f"{API}/tokens", headers=basic(name, PASSWORD))
        token = resp.get_json()["token"]
        accounts.append(
            Account(
                user["id"],
                name,
                user["email"],
                token,
                user["is_admin"],
                PASSWORD,
                {"Authorization": f"Bearer {token}"},
            )
        )
    yield application, accounts[0], accounts[1]
    dispose(application)


@pytest.fixture(scope="module")
def world(shared: tuple[Any, Account, Account]) -> dict[str, Any]:
    """Alice's goal with two children, a trashed goal of hers, and bob's goal."""
    application, alice, bob = shared
    client = application.test_client()

    def make(account: Account, name: str, **fields: Any) -> int:
        resp = client.post(GOALS, json={"name": name, **fields}, headers=account.headers)
        assert resp.status_code == 201
        return int(resp.get_json()["id"])

    goal = make(alice, "goal", description="keep me", due="2030-01-01T00:00:00Z")
    ids = {
        "goal": goal,
        "child": make(alice, "child", parent_id=goal),
        "child2": make(alice, "child2", parent_id=goal),
        "trashed": make(alice, "trashed"),
        "foreign": make(bob, "bob's"),
        "foreign_owner": bob.id,
    }
    assert client.delete(f"{GOALS}/{ids['trashed']}", headers=alice.headers).status_code == 204
    return ids


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    """Replace "<name>" placeholders in a body with the ids of the world."""
    if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "url", "body", "status", "loc"), CASES)
def test_bad_input_is_refused_and_changes_nothing(shared, world, method, url, body, status, loc):
    application, alice, bob = shared
    client = application.test_client()
    before = (snapshot(application, alice.id), snapshot(application, bob.id))
    kwargs: dict[str, Any] = {"headers": alice.headers}
    if body.raw is not None:
        kwargs["data"] = body.raw
    elif body.value is not _MISSING:
        kwargs["data"] = json.dumps(_fill(body.value, world))
    if "data" in kwargs and body.content_type is not None:
        kwargs["content_type"] = body.content_type
    resp = client.open(url.format(**world), method=method, **kwargs)
    problem = assert_problem(resp, status)
    if loc is not None:
        assert loc in error_locs(problem), problem["errors"]
    after = (snapshot(application, alice.id), snapshot(application, bob.id))
    assert after == before
