"""Bad-input catalogue across every API: each malformed request is a clear 4xx and changes nothing.

tests/api/test_bad_input.py covers the goal fields one by one (types, names, timestamps,
query parameters, mass assignment on goals). This catalogue covers the rest: text encodings,
JSON syntax and nesting, sizes, overflowing and non-canonical ids, paging, methods, content
types, junk credentials, and the users, tokens, import, v1.0 and directory endpoints. Every
answer must be an RFC 9457 problem (the user directory keeps its own documented
`{"code": 1, "message": "FAILURE"}` shape), and a snapshot of the whole database taken before
and after each request must be identical.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.adversarial import account, db_snapshot, module_app
from tests.support.problems import assert_directory_failure, assert_problem

V2 = "/api/v2"
GOALS = f"{V2}/goals"
GOAL = f"{GOALS}/{{goal}}"


def _basic(login: str | bytes, password: str | bytes = b"") -> str:
    raw = login if isinstance(login, bytes) else login.encode()
    raw += b":" + (password if isinstance(password, bytes) else password.encode())
    return "Basic " + base64.b64encode(raw).decode()


BOB_BASIC = _basic("bob", "bob password 1")


@dataclass(frozen=True)
class Case:
    """One malformed request and the status it must get."""

    name: str
    method: str
    url: str
    status: int
    body: bytes | None = None
    content_type: str | None = "application/json"
    who: str | None = "bob"  # whose bearer token goes with it (None: none)
    headers: dict[str, str] = field(default_factory=dict)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _nested(depth: int, opening: bytes = b"[", closing: bytes = b"]") -> bytes:
    return opening * depth + closing * depth


SIGNUP = {"name": "eve", "email": "eve@example.com", "password": "eve password 1"}

CASES = [
    # ------------------------------------------------------------------ encodings of the body
    Case("utf16-bom", "POST", GOALS, 400, '{"name": "x"}'.encode("utf-16")),
    Case("utf16-le-no-bom", "POST", GOALS, 400, '{"name": "x"}'.encode("utf-16-le")),
    Case("utf16-be-no-bom", "POST", GOALS, 400, '{"name": "x"}'.encode("utf-16-be")),
    Case("utf32-bom", "POST", GOALS, 400, '{"name": "x"}'.encode("utf-32")),
    Case(
        "utf16-declared",
        "POST",
        GOALS,
        400,
        '{"name": "x"}'.encode("utf-16"),
        "application/json; charset=utf-16",
    ),
    Case("utf8-bom", "POST", GOALS, 400, b'\xef\xbb\xbf{"name": "x"}'),
    Case("latin1-byte", "POST", GOALS, 400, '{"name": "café"}'.encode("latin-1")),
    Case("overlong-utf8-slash", "POST", GOALS, 400, b'{"name": "\xc0\xaf"}'),
    Case("truncated-utf8", "POST", GOALS, 400, b'{"name": "\xe2\x82"}'),
    Case("utf8-encoded-surrogate", "POST", GOALS, 400, b'{"name": "\xed\xa0\x80"}'),
    Case("lone-surrogate-escape", "POST", GOALS, 400, b'{"name": "\\ud800"}'),
    Case("lone-low-surrogate", "PATCH", GOAL, 400, b'{"description": "\\udc00x"}'),
    Case(
        "invalid-utf8-signup", "POST", f"{V2}/users", 400, b'{"name": "\xff", "email": 1}', who=None
    ),
    Case("invalid-utf8-import", "POST", f"{GOALS}/import", 400, b'{"name": "\xfe\xff"}'),
    Case(
        "invalid-utf8-token-body",
        "POST",
        f"{V2}/tokens",
        400,
        b'{"name": "\x80"}',
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    # --------------------------------------------------------- NUL and other control characters
    Case("raw-nul-in-string", "POST", GOALS, 400, b'{"name": "a\x00b"}'),
    Case("raw-newline-in-string", "POST", GOALS, 400, b'{"name": "a\nb"}'),
    Case(
        "escaped-nul-user-name",
        "POST",
        f"{V2}/users",
        422,
        _json({**SIGNUP, "name": "e\0ve"}),
        who=None,
    ),
    Case(
        "escaped-nul-email",
        "POST",
        f"{V2}/users",
        422,
        _json({**SIGNUP, "email": "e\0@example.com"}),
        who=None,
    ),
    Case(
        "right-to-left-override-name",
        "POST",
        f"{V2}/users",
        422,
        _json({**SIGNUP, "name": "eve\u202egnp.exe"}),
        who=None,
    ),
    Case(
        "zero-width-joiner-name",
        "POST",
        f"{V2}/users",
        422,
        _json({**SIGNUP, "name": "e\u200dve"}),
        who=None,
    ),
    Case("bom-inside-name", "PATCH", f"{V2}/users/self", 422, _json({"name": "\ufeffbob"})),
    Case(
        "escape-sequence-token-name",
        "POST",
        f"{V2}/tokens",
        422,
        _json({"name": "\x1b[2Jgone"}),
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    Case(
        "nul-in-import-child",
        "POST",
        f"{GOALS}/import",
        422,
        _json({"name": "x", "children": [{"name": "\0"}]}),
    ),
    Case("nul-in-search", "GET", f"{V2}/users?q=a%00", 422, who="admin"),
    Case("c1-control-in-search", "GET", f"{V2}/users?q=%C2%85", 422, who="admin"),
    # ------------------------------------------------------------------------------ JSON syntax
    Case("comment", "POST", GOALS, 400, b'{"name": "x" /* note */}'),
    Case("single-quotes", "POST", f"{V2}/users", 400, b"{'name': 'eve'}", who=None),
    Case("infinity", "PATCH", GOAL, 400, b'{"position": Infinity}'),
    Case("minus-infinity", "PATCH", GOAL, 400, b'{"position": -Infinity}'),
    Case("unterminated-string", "POST", GOALS, 400, b'{"name": "x}'),
    Case("unquoted-key", "POST", GOALS, 400, b'{name: "x"}'),
    Case("bare-word", "POST", GOALS, 400, b"goal"),
    Case("only-whitespace", "POST", GOALS, 400, b"   \n\t  "),
    Case("hex-number", "PATCH", GOAL, 400, b'{"position": 0x10}'),
    Case("leading-zero-number", "PATCH", GOAL, 400, b'{"position": 007}'),
    Case("two-documents-import", "POST", f"{GOALS}/import", 400, b'{"name": "a"}\n{"name": "b"}'),
    Case(
        "malformed-token-body",
        "POST",
        f"{V2}/tokens",
        400,
        b'{"name": ',
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    Case("malformed-user-patch", "PATCH", f"{V2}/users/self", 400, b'{"name": "bob",}'),
    Case("null-user-put", "PUT", f"{V2}/users/self", 422, b"null"),
    Case("array-signup", "POST", f"{V2}/users", 422, _json([SIGNUP]), who=None),
    Case(
        "string-token-body",
        "POST",
        f"{V2}/tokens",
        422,
        b'"api"',
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    # ------------------------------------------------------------------------ nesting and size
    Case("deep-array-in-name", "POST", GOALS, 400, b'{"name": ' + _nested(100_000) + b"}"),
    Case(
        "deep-object-signup",
        "POST",
        f"{V2}/users",
        400,
        b'{"name": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}",
        who=None,
    ),
    # The import reads JSON of any depth (the export of a deep chain), without recursion: the
    # nesting is read, and an array where a node belongs is refused.
    Case("deep-array-import", "POST", f"{GOALS}/import", 422, _nested(200_000)),
    Case(
        "deep-children-without-names",
        "POST",
        f"{GOALS}/import",
        422,
        b'{"children": [' * 400 + b"{}" + b"]}" * 400,
    ),
    Case(
        "twenty-thousand-unknown-fields",
        "POST",
        GOALS,
        422,
        _json({"name": "x", **{f"field{i}": i for i in range(20_000)}}),
    ),
    # Field names that str.isdigit() takes for digits but int() refuses (superscripts), or
    # reads as a number (other scripts' digits): each is named in `loc` as it was sent.
    Case("superscript-digit-field", "PATCH", GOAL, 422, _json({"\xb3": None, "": None})),
    Case("fullwidth-digit-field", "POST", GOALS, 422, _json({"name": "x", "\uff11": 1})),
    Case(
        "huge-password",
        "POST",
        f"{V2}/users",
        422,
        _json({**SIGNUP, "password": "p" * 1025}),
        who=None,
    ),
    Case(
        "huge-email",
        "POST",
        f"{V2}/users",
        422,
        _json({**SIGNUP, "email": "e" * 250 + "@example.com"}),
        who=None,
    ),
    Case(
        "oversized-import",
        "POST",
        f"{GOALS}/import",
        413,
        _json([{"name": f"n{i}", "description": "d" * 1000} for i in range(1100)]),
    ),
    Case(
        "oversized-signup",
        "POST",
        f"{V2}/users",
        413,
        _json({**SIGNUP, "name": "n" * 1_100_000}),
        who=None,
    ),
    Case("user-name-65", "PATCH", f"{V2}/users/self", 422, _json({"name": "n" * 65})),
    Case(
        "token-name-101",
        "POST",
        f"{V2}/tokens",
        422,
        _json({"name": "t" * 101}),
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    # ------------------------------------------------------------------------ types in bodies
    Case(
        "token-days-zero",
        "POST",
        f"{V2}/tokens",
        422,
        _json({"expires_in_days": 0}),
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    Case(
        "token-days-too-many",
        "POST",
        f"{V2}/tokens",
        422,
        _json({"expires_in_days": 3651}),
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    Case(
        "token-days-string",
        "POST",
        f"{V2}/tokens",
        422,
        _json({"expires_in_days": "7"}),
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    Case(
        "token-days-float",
        "POST",
        f"{V2}/tokens",
        422,
        _json({"expires_in_days": 1.5}),
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    Case(
        "token-expiry-past",
        "POST",
        f"{V2}/tokens",
        422,
        _json({"expires_at": "2000-01-01T00:00:00Z"}),
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    Case(
        "token-expiry-words",
        "POST",
        f"{V2}/tokens",
        422,
        _json({"expires_at": "tomorrow"}),
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    Case(
        "is-admin-string",
        "PATCH",
        f"{V2}/users/{{bob}}",
        422,
        _json({"is_admin": "yes"}),
        who="admin",
    ),
    Case(
        "email-not-an-address", "PATCH", f"{V2}/users/self", 422, _json({"email": "bob at example"})
    ),
    Case("email-number", "PATCH", f"{V2}/users/self", 422, _json({"email": 42})),
    Case(
        "password-short",
        "PATCH",
        f"{V2}/users/self",
        422,
        _json({"password": "short", "current_password": "bob password 1"}),
    ),
    Case(
        "import-children-object",
        "POST",
        f"{GOALS}/import",
        422,
        _json({"name": "x", "children": {}}),
    ),
    Case("import-node-number", "POST", f"{GOALS}/import", 422, _json([{"name": "x"}, 42])),
    Case("import-empty-list", "POST", f"{GOALS}/import", 422, _json([])),
    Case(
        "import-duplicate-siblings",
        "POST",
        f"{GOALS}/import",
        422,
        _json([{"name": "x"}, {"name": "x"}]),
    ),
    Case(
        "import-end-before-start",
        "POST",
        f"{GOALS}/import",
        422,
        _json({"name": "x", "start": "2024-02-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"}),
    ),
    # ---------------------------------------------------------- overflowing and odd ids in paths
    Case("token-id-2**63", "DELETE", f"{V2}/tokens/{2**63}", 404),
    Case("token-id-zero", "DELETE", f"{V2}/tokens/0", 404),
    Case("token-id-unicode-digits", "DELETE", f"{V2}/tokens/1\u0663", 404),
    Case("goal-id-unicode-digits", "GET", f"{GOALS}/1\u0663", 404),
    Case("goal-id-fullwidth-digits", "GET", f"{GOALS}/\uff11", 404),
    Case("goal-id-leading-zeros", "GET", f"{GOALS}/000{{goal}}", 404),
    Case("goal-id-plus-sign", "GET", f"{GOALS}/+{{goal}}", 404),
    Case("goal-id-exponent", "GET", f"{GOALS}/1e3", 404),
    Case("goal-id-invalid-utf8", "GET", f"{GOALS}/%ff", 404),
    Case("user-id-2**64", "GET", f"{V2}/users/{2**64}", 404),
    Case("user-ref-SELF", "GET", f"{V2}/users/SELF", 404),
    Case("user-ref-self-nul", "GET", f"{V2}/users/self%00", 404),
    Case("user-ref-me", "DELETE", f"{V2}/users/me", 404),
    Case("trash-id-2**63", "POST", f"{V2}/trash/{2**63}/restore", 404),
    Case(
        "import-parent-unicode-digits",
        "POST",
        f"{GOALS}/import?parent_id=%D9%A1",
        422,
        _json({"name": "x"}),
    ),
    Case(
        "import-parent-negative", "POST", f"{GOALS}/import?parent_id=-1", 422, _json({"name": "x"})
    ),
    Case(
        "import-parent-unknown",
        "POST",
        f"{GOALS}/import?parent_id=987654",
        404,
        _json({"name": "x"}),
    ),
    # ------------------------------------------------------------------------ calendar feeds
    Case("feed-name-empty", "POST", f"{V2}/calendar-feeds", 422, _json({"name": "  "})),
    Case("feed-name-101", "POST", f"{V2}/calendar-feeds", 422, _json({"name": "x" * 101})),
    Case("feed-name-control", "POST", f"{V2}/calendar-feeds", 422, _json({"name": "a\u0007b"})),
    Case("feed-name-number", "POST", f"{V2}/calendar-feeds", 422, _json({"name": 7})),
    Case("feed-body-list", "POST", f"{V2}/calendar-feeds", 422, _json(["x"])),
    Case("feed-body-text", "POST", f"{V2}/calendar-feeds", 415, b"x", "text/plain"),
    Case("feed-id-2**63", "DELETE", f"{V2}/calendar-feeds/{2**63}", 404),
    Case("feed-id-unicode-digits", "DELETE", f"{V2}/calendar-feeds/1\u0663", 404),
    Case("feed-secret-nul", "GET", "/calendar/" + "A" * 40 + "%00.ics", 404, who=None),
    Case("feed-secret-invalid-utf8", "GET", "/calendar/%ff%fe.ics", 404, who=None),
    Case("feed-secret-dots", "GET", "/calendar/..%2f..%2fetc.ics", 404, who=None),
    Case("feed-secret-huge", "GET", "/calendar/" + "A" * 5000 + ".ics", 404, who=None),
    Case("feed-post", "POST", "/calendar/" + "A" * 43 + ".ics", 405, b"{}", who=None),
    # ------------------------------------------------------------------- out-of-range paging
    Case("users-limit-zero", "GET", f"{V2}/users?limit=0", 422, who="admin"),
    Case("users-limit-501", "GET", f"{V2}/users?limit=501", 422, who="admin"),
    Case("users-offset-negative", "GET", f"{V2}/users?offset=-1", 422, who="admin"),
    Case("users-offset-past-2**62", "GET", f"{V2}/users?offset={2**62 + 1}", 422, who="admin"),
    Case("users-limit-unicode-digit", "GET", f"{V2}/users?limit=%D9%A5", 422, who="admin"),
    Case("goals-offset-past-2**62", "GET", f"{GOALS}?offset={2**62 + 1}", 422),
    Case("goals-limit-exponent", "GET", f"{GOALS}?limit=1e2", 422),
    Case("goals-limit-hex", "GET", f"{GOALS}?limit=0x10", 422),
    Case("tree-depth-huge", "GET", f"{GOALS}/tree?depth={2**64}", 422),
    # --------------------------------------------------------------------------- wrong methods
    Case("patch-goal-collection", "PATCH", GOALS, 405, b"{}"),
    Case("delete-goal-collection", "DELETE", GOALS, 405),
    Case("put-tokens", "PUT", f"{V2}/tokens", 405, b"{}"),
    Case("delete-user-collection", "DELETE", f"{V2}/users", 405),
    Case("post-tree", "POST", f"{GOALS}/tree", 405, b"{}"),
    Case("get-import", "GET", f"{GOALS}/import", 405),
    Case("get-restore", "GET", f"{V2}/trash/{{goal}}/restore", 405),
    Case("trace", "TRACE", GOALS, 405),
    Case("made-up-method", "BREW", GOALS, 405),
    Case("post-openapi", "POST", f"{V2}/openapi.json", 405, b"{}"),
    # ----------------------------------------------------------------------- content types
    Case(
        "form-signup",
        "POST",
        f"{V2}/users",
        415,
        b"name=eve&email=e%40x.com&password=12345678",
        "application/x-www-form-urlencoded",
        who=None,
    ),
    Case(
        "text-token-body",
        "POST",
        f"{V2}/tokens",
        415,
        b'{"name": "t"}',
        "text/plain",
        who=None,
        headers={"Authorization": BOB_BASIC},
    ),
    Case("xml-user-patch", "PATCH", f"{V2}/users/self", 415, b"<name>b</name>", "application/xml"),
    Case("no-type-import", "POST", f"{GOALS}/import", 415, _json({"name": "x"}), None),
    Case("json-lookalike-type", "POST", GOALS, 415, _json({"name": "x"}), "application/jsonx"),
    Case("text-json-type", "POST", GOALS, 415, _json({"name": "x"}), "text/json"),
    Case(
        "multipart-import",
        "POST",
        f"{GOALS}/import",
        415,
        b"--b\r\n\r\n--b--",
        "multipart/form-data; boundary=b",
    ),
    # ---------------------------------------------------------------------- junk credentials
    *[
        Case(f"bearer-{label}", "GET", GOALS, 401, who=None, headers={"Authorization": value})
        for label, value in [
            ("scheme-only", "Bearer"),
            ("spaces", "Bearer    "),
            ("10k-token", "Bearer oa_" + "x" * 10_000),
            ("non-ascii", "Bearer oa_тест"),
            ("basic-on-bearer-endpoint", BOB_BASIC),
            ("digest", 'Digest username="bob", response="0"'),
            ("no-scheme", "oa_" + "A" * 43),
            ("prefix-only", "Bearer oa_"),
            ("sql", "Bearer ' OR '1'='1"),
            ("newline", "Bearer oa_abc\tdef"),
        ]
    ],
    Case(
        "bearer-valid-plus-nul",
        "GET",
        GOALS,
        401,
        who=None,
        headers={"Authorization": "<bob-token>\x00"},
    ),
    Case(
        "bearer-valid-twice",
        "GET",
        GOALS,
        401,
        who=None,
        headers={"Authorization": "<bob-token>, <bob-token>"},
    ),
    Case(
        "bearer-valid-truncated",
        "DELETE",
        GOAL,
        401,
        who=None,
        headers={"Authorization": "<bob-token-cut>"},
    ),
    *[
        Case(
            f"basic-{label}",
            "POST",
            f"{V2}/tokens",
            401,
            who=None,
            headers={"Authorization": value},
        )
        for label, value in [
            ("not-base64", "Basic !!!!"),
            ("no-colon", "Basic " + base64.b64encode(b"bob").decode()),
            ("empty", "Basic "),
            ("latin1-credentials", _basic("böb".encode("latin-1"), "bob password 1")),
            ("invalid-utf8", _basic(b"\xff\xfe", b"\xff")),
            ("nul-in-password", _basic("bob", "bob password 1\x00")),
            ("huge-login", _basic("b" * 100_000, "x")),
            ("bearer-on-basic-endpoint", "Bearer oa_" + "A" * 43),
        ]
    ],
    # ------------------------------------------------------------------- v1.0 (problem+json)
    Case("v1-missing-name", "POST", "/v1.0/goals", 400, _json({})),
    Case(
        "v1-form-missing-name",
        "POST",
        "/v1.0/goals",
        400,
        b"description=x",
        "application/x-www-form-urlencoded",
    ),
    Case("v1-nul-name", "POST", "/v1.0/goals", 400, _json({"name": "a\0"})),
    Case("v1-array-body", "POST", "/v1.0/goals", 400, _json([])),
    Case("v1-malformed-json", "PUT", "/v1.0/goals", 400, b"{"),
    Case("v1-invalid-utf8", "POST", "/v1.0/goals", 400, b'{"name": "\xff"}'),
    Case("v1-unknown-goal", "PUT", "/v1.0/goals", 404, _json({"name": "no such goal"})),
    Case("v1-user-missing-fields", "POST", "/v1.0/users", 400, _json({"name": "x"}), who="admin"),
    Case(
        "v1-bad-token",
        "GET",
        "/v1.0/goals",
        401,
        who=None,
        headers={"Authorization": "Bearer junk"},
    ),
    # --------------------------------------------- the user directory (its own failure shape)
    Case("dir-malformed-json", "POST", "/api/user", 400, b"{", who="admin"),
    Case("dir-no-item", "POST", "/api/user", 400, _json({}), who="admin"),
    Case("dir-item-number", "POST", "/api/user", 400, _json({"item": 5}), who="admin"),
    Case(
        "dir-bulk-one-bad",
        "POST",
        "/api/user",
        400,
        _json({"item": [{"name": "ok1", "mail": "ok1@example.com"}, {"name": "", "mail": "x"}]}),
        who="admin",
    ),
    Case(
        "dir-nul-name",
        "POST",
        "/api/user",
        400,
        _json({"item": {"name": "a\0", "mail": "a@example.com"}}),
        who="admin",
    ),
    Case("dir-invalid-utf8", "POST", "/api/user", 400, b'{"item": {"name": "\xff"}}', who="admin"),
    Case("dir-id-overflow", "GET", f"/api/user/{2**64}", 404, who="admin"),
    Case(
        "dir-id-mismatch",
        "PUT",
        "/api/user/{bob}",
        400,
        _json({"item": {"id": 999, "name": "b", "mail": "b@example.com"}}),
        who="admin",
    ),
    Case("dir-text-plain", "POST", "/api/user", 415, b'{"item": {}}', "text/plain", who="admin"),
    Case("dir-no-token", "GET", "/api/user/0", 401, who=None),
    Case(
        "dir-junk-token",
        "DELETE",
        "/api/user/{bob}",
        401,
        who=None,
        headers={"Authorization": "Bearer x"},
    ),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app for the whole catalogue: nothing may change, so the cases share it."""
    yield from module_app(Path(tmp_path_factory.mktemp("catalogue")))


@pytest.fixture(scope="module")
def world(app: Any) -> dict[str, Any]:
    """An administrator and bob, with a goal and a trashed goal of bob's."""
    client = app.test_client()
    admin = account(client, "admin", "admin password 1")
    bob = account(client, "bob", "bob password 1")
    goal = client.post(GOALS, json={"name": "kept"}, headers=bob.headers).get_json()["id"]
    return {"admin": admin, "bob": bob, "ids": {"goal": goal, "bob": bob.id, "admin": admin.id}}


def test_catalogue_is_large_enough():
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_bad_input_is_a_clear_4xx_and_changes_nothing(app, world, case):
    client = app.test_client()
    headers = dict(world[case.who].headers) if case.who else {}
    token = world["bob"].token
    for key, value in case.headers.items():
        value = value.replace("<bob-token-cut>", f"Bearer {token[:-1]}")
        headers[key] = value.replace("<bob-token>", f"Bearer {token}")
    kwargs: dict[str, Any] = {"headers": headers}
    if case.body is not None:
        kwargs["data"] = case.body
        if case.content_type is not None:
            kwargs["content_type"] = case.content_type
    before = db_snapshot(app)
    resp = client.open(case.url.format(**world["ids"]), method=case.method, **kwargs)
    if case.url.startswith("/api/user"):
        assert_directory_failure(resp, case.status)
    else:
        assert_problem(resp, case.status)
    if case.status == 401:
        assert resp.headers.get("WWW-Authenticate", "").startswith(("Bearer", "Basic"))
    if case.status == 405:
        assert resp.headers.get("Allow")
    text = resp.get_data(as_text=True)
    assert "Traceback" not in text
    assert token not in text
    assert db_snapshot(app) == before


def test_a_field_named_with_a_digit_of_another_script_is_named_as_sent(app, world):
    client = app.test_client()
    resp = client.post(
        GOALS, json={"name": "x", "\uff11": 1, "\xb3": 2}, headers=world["bob"].headers
    )
    assert resp.status_code == 422
    locs = [e["loc"] for e in resp.get_json()["errors"]]
    assert sorted(locs) == [["body", "\xb3"], ["body", "\uff11"]]
