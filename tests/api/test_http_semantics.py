"""HTTP semantics of the goals API: ETags and preconditions, HEAD, 405, 413, 415, 400, headers."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.support.accounts import PASSWORD, basic
from tests.support.goals import API, snapshot
from tests.support.problems import PROBLEM_JSON, assert_problem

GOALS = f"{API}/goals"


def _etag(client: Any, account: Any, goal_id: int) -> str:
    resp = client.get(f"{GOALS}/{goal_id}", headers=account.headers)
    assert resp.status_code == 200
    etag = resp.headers["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    return etag  # type: ignore[no-any-return]


# -------------------------------------------------------------------------------------- ETag


def test_if_none_match_gives_304_with_empty_body(client, alice, make_goal):
    goal = make_goal(alice, "g")
    etag = _etag(client, alice, goal["id"])
    assert _etag(client, alice, goal["id"]) == etag  # stable while nothing changes
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        resp = client.get(
            f"{GOALS}/{goal['id']}", headers={**alice.headers, "If-None-Match": header}
        )
        assert resp.status_code == 304, header
        assert resp.get_data() == b""
        assert resp.headers["ETag"] == etag
        assert resp.headers["Cache-Control"] == "no-store"
    resp = client.get(
        f"{GOALS}/{goal['id']}", headers={**alice.headers, "If-None-Match": '"something-else"'}
    )
    assert resp.status_code == 200
    assert resp.get_json()["id"] == goal["id"]
    # HEAD honours it too
    resp = client.head(f"{GOALS}/{goal['id']}", headers={**alice.headers, "If-None-Match": etag})
    assert resp.status_code == 304


def test_etag_changes_with_the_goal(client, alice, make_goal):
    goal = make_goal(alice, "g")
    etag = _etag(client, alice, goal["id"])
    client.patch(f"{GOALS}/{goal['id']}", json={"description": "x"}, headers=alice.headers)
    new = _etag(client, alice, goal["id"])
    assert new != etag
    resp = client.get(f"{GOALS}/{goal['id']}", headers={**alice.headers, "If-None-Match": etag})
    assert resp.status_code == 200  # the old tag no longer matches


def test_etag_of_parent_changes_with_its_subtree(client, alice, make_goal):
    parent = make_goal(alice, "parent")
    child = make_goal(alice, "child", parent["id"])
    seen: list[tuple[str, dict[str, Any]]] = []

    def read_parent() -> None:
        resp = client.get(f"{GOALS}/{parent['id']}", headers=alice.headers)
        seen.append((resp.headers["ETag"], resp.get_json()))

    read_parent()
    # completing a child changes the parent's progress, hence its representation
    client.patch(f"{GOALS}/{child['id']}", json={"end": "2031-01-01"}, headers=alice.headers)
    read_parent()
    grandchild = make_goal(alice, "grandchild", child["id"])  # descendants_count changes
    read_parent()
    client.patch(f"{GOALS}/{child['id']}", json={"end": None}, headers=alice.headers)
    read_parent()
    client.patch(f"{GOALS}/{grandchild['id']}", json={"end": "2031-01-01"}, headers=alice.headers)
    read_parent()
    client.delete(f"{GOALS}/{grandchild['id']}", headers=alice.headers)
    read_parent()
    for (before, _), (after, _) in itertools.pairwise(seen):
        assert before != after
    # a strong validator: equal tags exactly when the representations are equal
    for tag_a, body_a in seen:
        for tag_b, body_b in seen:
            assert (tag_a == tag_b) == (body_a == body_b)
    resp = client.get(
        f"{GOALS}/{parent['id']}", headers={**alice.headers, "If-None-Match": seen[1][0]}
    )
    assert resp.status_code == 200


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_stale_if_match_is_412_and_changes_nothing(client, alice, make_goal, method):
    goal = make_goal(alice, "g")
    stale = _etag(client, alice, goal["id"])
    client.patch(f"{GOALS}/{goal['id']}", json={"description": "moved on"}, headers=alice.headers)
    current = _etag(client, alice, goal["id"])
    before = snapshot(client.application, alice.id)
    body = {
        "name": "new",
        "description": "",
        "parent_id": None,
        "start": "2024-01-01T00:00:00Z",
        "end": None,
        "due": None,
    }
    kwargs: dict[str, Any] = {} if method == "DELETE" else {"json": body}
    url = f"{GOALS}/{goal['id']}"
    for tag in (stale, f"W/{current}", '"nope"'):  # weak tags never match If-Match
        resp = client.open(url, method=method, headers={**alice.headers, "If-Match": tag}, **kwargs)
        problem = assert_problem(resp, 412)
        assert problem["type"].endswith("stale-version")
    assert snapshot(client.application, alice.id) == before
    # with the current tag (one of several) it goes through
    resp = client.open(
        url, method=method, headers={**alice.headers, "If-Match": f'"x", {current}'}, **kwargs
    )
    assert resp.status_code == (204 if method == "DELETE" else 200)
    assert snapshot(client.application, alice.id) != before
    if method != "DELETE":
        assert resp.headers["ETag"] != current
        assert resp.headers["ETag"] == _etag(client, alice, goal["id"])


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_if_match_star(client, alice, make_goal, method):
    goal = make_goal(alice, "g")
    body = {
        "name": "new",
        "description": "",
        "parent_id": None,
        "start": "2024-01-01T00:00:00Z",
        "end": None,
        "due": None,
    }
    kwargs: dict[str, Any] = {} if method == "DELETE" else {"json": body}
    resp = client.open(
        f"{GOALS}/{goal['id']}", method=method, headers={**alice.headers, "If-Match": "*"}, **kwargs
    )
    assert resp.status_code == (204 if method == "DELETE" else 200)


def test_if_match_on_missing_goal_is_404(client, alice):
    resp = client.patch(
        f"{GOALS}/4242", json={"name": "x"}, headers={**alice.headers, "If-Match": "*"}
    )
    assert_problem(resp, 404)


def test_412_reports_the_current_etag(client, alice, make_goal):
    goal = make_goal(alice, "g")
    current = _etag(client, alice, goal["id"])
    resp = client.patch(
        f"{GOALS}/{goal['id']}",
        json={"name": "x"},
        headers={**alice.headers, "If-Match": '"stale"'},
    )
    assert assert_problem(resp, 412)["current_etag"] == current


def test_write_responses_carry_the_new_etag(client, alice, make_goal):
    goal = make_goal(alice, "g")
    resp = client.patch(f"{GOALS}/{goal['id']}", json={"name": "h"}, headers=alice.headers)
    resp2 = client.patch(
        f"{GOALS}/{goal['id']}",
        json={"name": "i"},
        headers={**alice.headers, "If-Match": resp.headers["ETag"]},
    )
    assert resp2.status_code == 200
    assert resp2.get_json()["name"] == "i"


# -------------------------------------------------------------------------------------- HEAD


def test_head_works_wherever_get_does(client, alice, make_goal):
    parent = make_goal(alice, "parent")
    for i in range(3):
        make_goal(alice, f"kid {i}", parent["id"])
    trashed = make_goal(alice, "trashed")
    client.delete(f"{GOALS}/{trashed['id']}", headers=alice.headers)
    paths = [
        GOALS,
        f"{GOALS}?limit=1&parent={parent['id']}",
        f"{GOALS}/{parent['id']}",
        f"{GOALS}/tree",
        f"{GOALS}/tree?format=flat",
        f"{GOALS}/{parent['id']}/tree",
        f"{GOALS}/{parent['id']}/tree?format=flat",
        f"{API}/trash",
        f"{API}/users/self",
        f"{API}/tokens",
    ]
    for path in paths:
        get = client.get(path, headers=alice.headers)
        head = client.head(path, headers=alice.headers)
        assert get.status_code == 200, path
        assert head.status_code == 200, path
        assert get.get_data(), path
        assert head.get_data() == b"", path
        for header in ("Content-Type", "ETag", "Link", "Cache-Control", "X-Content-Type-Options"):
            assert head.headers.get(header) == get.headers.get(header), (path, header)
    assert "next" in client.head(paths[1], headers=alice.headers).headers["Link"]
    # and fails the same way
    assert client.head(f"{GOALS}/999999", headers=alice.headers).status_code == 404
    assert client.head(GOALS).status_code == 401
    assert client.head(f"{GOALS}?limit=0", headers=alice.headers).status_code == 422


# ---------------------------------------------------------------------------------------- 405


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/goals", {"GET", "POST"}),
        ("DELETE", "/goals", {"GET", "POST"}),
        ("POST", "/goals/1", {"GET", "PATCH", "PUT", "DELETE"}),
        ("PUT", "/goals/tree", {"GET"}),
        ("DELETE", "/goals/1/tree", {"GET"}),
        ("GET", "/goals/import", {"POST"}),
        ("PATCH", "/trash", {"GET"}),
        ("GET", "/trash/1/restore", {"POST"}),
        ("PUT", "/trash/1", {"DELETE"}),
    ],
)
def test_unsupported_method_is_405_with_allow(client, alice, method, path, allowed):
    resp = client.open(f"{API}{path}", method=method, headers=alice.headers)
    assert_problem(resp, 405)
    allow = {m.strip() for m in resp.headers["Allow"].split(",")}
    assert allowed <= allow
    assert method not in allow
    if "GET" in allowed:
        assert "HEAD" in allow


# ---------------------------------------------------------------------------------------- 413


@pytest.fixture
def small_app(make_app: Any) -> Any:
    """An app like the shared one, but taking bodies of at most 300 bytes."""
    return make_app(MAX_CONTENT_LENGTH=300)


def test_body_over_the_limit_is_413(small_app):
    client = small_app.test_client()
    resp = client.post(
        f"{API}/users", json={"name": "carol", "email": "carol@example.com", "password": PASSWORD}
    )
    assert resp.status_code == 201
    user_id = resp.get_json()["id"]
    token = client.post(f"{API}/tokens", headers=basic("carol", PASSWORD)).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    ok = client.post(f"{GOALS}", json={"name": "fits"}, headers=headers)
    assert ok.status_code == 201
    big = {"name": "too big", "description": "x" * 400}
    attempts = [
        client.post(GOALS, json=big, headers=headers),
        client.patch(f"{GOALS}/{ok.get_json()['id']}", json=big, headers=headers),
        client.put(f"{GOALS}/{ok.get_json()['id']}", json=big, headers=headers),
        client.post(f"{GOALS}/import", json=[big], headers=headers),
        client.post(
            f"{GOALS}/import", data=b"[" * 400, content_type="application/json", headers=headers
        ),
    ]
    for resp in attempts:
        assert_problem(resp, 413)
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert [row[2] for row in snapshot(small_app, user_id)] == ["fits"]


def test_default_limit_is_one_mebibyte(client, alice):
    resp = client.post(
        GOALS,
        json={"name": "huge", "description": "x" * (1024 * 1024)},
        headers=alice.headers,
    )
    assert_problem(resp, 413)
    assert client.get(GOALS, headers=alice.headers).get_json()["total"] == 0


# ----------------------------------------------------------------------------- 415 and 400

BODY_ENDPOINTS = [
    ("POST", "/goals"),
    ("PATCH", "/goals/{id}"),
    ("PUT", "/goals/{id}"),
    ("POST", "/goals/import"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_non_json_body_is_415(client, alice, make_goal, method, path):
    goal = make_goal(alice, "g")
    before = snapshot(client.application, alice.id)
    url = f"{API}{path.format(id=goal['id'])}"
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ):
        kwargs: dict[str, Any] = {"data": '{"name": "sneaky"}'}
        if content_type:
            kwargs["content_type"] = content_type
        resp = client.open(url, method=method, headers=alice.headers, **kwargs)
        assert_problem(resp, 415)
    assert snapshot(client.application, alice.id) == before


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_malformed_json_is_400(client, alice, make_goal, method, path):
    goal = make_goal(alice, "g")
    before = snapshot(client.application, alice.id)
    for raw in (
        b"{",
        b'{"name": "x",}',
        b"{'name': 'x'}",
        b'{"name": "\xff"}',
        b"",
        b"NaN",
        b'{"name": "a"} x',
        b"[" * 2000,
    ):
        resp = client.open(
            f"{API}{path.format(id=goal['id'])}",
            method=method,
            data=raw,
            content_type="application/json",
            headers=alice.headers,
        )
        assert_problem(resp, 400)
    assert snapshot(client.application, alice.id) == before


def test_json_with_charset_and_suffix_types_is_accepted(client, alice):
    for i, content_type in enumerate(
        ["application/json; charset=utf-8", "application/merge-patch+json"]
    ):
        resp = client.post(
            GOALS, data=f'{{"name": "g{i}"}}', content_type=content_type, headers=alice.headers
        )
        assert resp.status_code == 201, resp.get_json()


# ----------------------------------------------------------------------- errors and headers


def test_every_error_is_a_problem(client, alice, make_goal):
    goal = make_goal(alice, "g")
    make_goal(alice, "h")
    url = f"{GOALS}/{goal['id']}"
    cases = [
        (client.get(GOALS), 401),
        (client.get(f"{API}/no-such-thing", headers=alice.headers), 404),
        (client.get(f"{GOALS}/999", headers=alice.headers), 404),
        (client.get(f"{GOALS}/abc", headers=alice.headers), 404),
        (client.post(url, headers=alice.headers), 405),
        (client.patch(url, json={"name": "h"}, headers=alice.headers), 409),
        (client.patch(url, json={"name": "x"}, headers={**alice.headers, "If-Match": '"a"'}), 412),
        (client.post(GOALS, data="x", content_type="text/plain", headers=alice.headers), 415),
        (client.post(GOALS, data="{", content_type="application/json", headers=alice.headers), 400),
        (client.post(GOALS, json={}, headers=alice.headers), 422),
        (client.get(GOALS, query_string={"sort": "bogus"}, headers=alice.headers), 422),
    ]
    for resp, status in cases:
        body = assert_problem(resp, status)
        assert "Traceback" not in resp.get_data(as_text=True)
        if status == 422:
            assert all(set(e) >= {"loc", "msg"} for e in body["errors"])
            assert body["errors"][0]["loc"][0] in ("body", "query")


def test_security_headers(client, alice, make_goal):
    goal = make_goal(alice, "g")
    responses = [
        client.get(GOALS, headers=alice.headers),
        client.get(f"{GOALS}/{goal['id']}", headers=alice.headers),
        client.get(f"{GOALS}/tree", headers=alice.headers),
        client.post(GOALS, json={"name": "new"}, headers=alice.headers),
        client.delete(f"{GOALS}/{goal['id']}", headers=alice.headers),
        client.get(f"{GOALS}/{goal['id']}", headers=alice.headers),  # 404
        client.get(GOALS),  # 401
    ]
    for resp in responses:
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers.get("X-Request-ID")
    assert responses[-1].mimetype == PROBLEM_JSON
