"""Idempotency-Key on the v2 API's writes: a repeat is replayed and changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from overachiever.core.db import db
from overachiever.goals import service as goal_service
from overachiever.goals.models import Goal
from overachiever.idempotency import service
from overachiever.idempotency.models import IdempotencyKey
from overachiever.web.limits import limiter
from tests.support.goals import FULL_GOAL
from tests.support.problems import assert_problem

REPLAYED = "Idempotent-Replayed"
REUSED = "urn:overachiever:problem:idempotency-key-reused"
IN_FLIGHT = "urn:overachiever:problem:idempotency-key-in-flight"
JSON = "application/json"


def keyed(account: Any, key: str) -> dict[str, str]:
    """The account's headers with an Idempotency-Key."""
    return {**account.headers, "Idempotency-Key": key}


def goal_count(app: Any, owner_id: int) -> int:
    """How many goals (live or trashed) the owner has."""
    with app.app_context():
        stmt = select(func.count()).select_from(Goal).where(Goal.owner_id == owner_id)
        return int(db.session.execute(stmt).scalar_one())


def kept_keys(app: Any) -> list[tuple[int, str, int | None]]:
    """Every kept key: (user_id, key, status), in order."""
    with app.app_context():
        rows = db.session.execute(
            select(IdempotencyKey.user_id, IdempotencyKey.key, IdempotencyKey.status).order_by(
                IdempotencyKey.user_id, IdempotencyKey.key
            )
        ).all()
    return [tuple(r) for r in rows]


def age_keys(app: Any, by: timedelta) -> None:
    """Make every kept key older."""
    with app.app_context():
        keys = db.session.execute(select(IdempotencyKey)).scalars().all()
        for row in keys:
            row.created_at -= by
        db.session.commit()


@pytest.fixture
def statements(app: Any) -> Iterator[list[str]]:
    """The SQL statements SQLAlchemy sends while the test runs."""
    sent: list[str] = []
    with app.app_context():
        engine = db.engine

    def executed(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        sent.append(" ".join(sql.split()))

    event.listen(engine, "before_cursor_execute", executed)
    yield sent
    event.remove(engine, "before_cursor_execute", executed)


# ---------------------------------------------------------------------------- replays


def test_a_repeated_create_is_replayed_and_creates_one_goal(app, client, alice):
    first = client.post("/api/v2/goals", json={"name": "once"}, headers=keyed(alice, "create-1"))
    assert first.status_code == 201
    assert REPLAYED not in first.headers
    again = client.post("/api/v2/goals", json={"name": "once"}, headers=keyed(alice, "create-1"))
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.get_data() == first.get_data()
    for header in ("Location", "ETag", "Content-Type"):
        assert again.headers[header] == first.headers[header]
    # The security headers and a request id of its own, as on every answer.
    assert again.headers["Cache-Control"] == "no-store"
    assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert goal_count(app, alice.id) == 1
    assert kept_keys(app) == [(alice.id, "create-1", 201)]


def test_a_repeated_patch_is_replayed_without_changing_the_goal_again(client, alice, make_goal):
    goal = make_goal(alice, "draft")
    url = f"/api/v2/goals/{goal['id']}"
    first = client.patch(url, json={"name": "final"}, headers=keyed(alice, "rename"))
    assert first.status_code == 200
    assert first.get_json()["version"] == 2
    # Changed meanwhile by another request: the repeat must not undo that.
    assert client.patch(url, json={"name": "later"}, headers=alice.headers).status_code == 200
    again = client.patch(url, json={"name": "final"}, headers=keyed(alice, "rename"))
    assert again.status_code == 200
    assert again.headers[REPLAYED] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["ETag"] == first.headers["ETag"]
    now = client.get(url, headers=alice.headers).get_json()
    assert (now["name"], now["version"]) == ("later", 3)


def test_a_repeated_put_is_replayed(client, alice, make_goal):
    goal = make_goal(alice, "old")
    url = f"/api/v2/goals/{goal['id']}"
    body = {**FULL_GOAL, "name": "new"}
    first = client.put(url, json=body, headers=keyed(alice, "put"))
    again = client.put(url, json=body, headers=keyed(alice, "put"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers[REPLAYED] == "true"
    assert client.get(url, headers=alice.headers).get_json()["version"] == 2


def test_a_repeated_delete_is_replayed_and_does_not_trash_the_restored_goal(
    client, alice, make_goal
):
    goal = make_goal(alice, "keep me")
    url = f"/api/v2/goals/{goal['id']}"
    first = client.delete(url, headers=keyed(alice, "delete"))
    assert first.status_code == 204
    restored = client.post(f"/api/v2/trash/{goal['id']}/restore", headers=alice.headers)
    assert restored.status_code == 200
    again = client.delete(url, headers=keyed(alice, "delete"))
    assert again.status_code == 204
    assert again.headers[REPLAYED] == "true"
    assert again.get_data() == b""
    assert "Content-Type" not in again.headers  # as the first 204
    assert client.get(url, headers=alice.headers).status_code == 200  # still live


def test_a_repeated_import_is_replayed_with_the_same_ids(app, client, alice):
    tree = {"name": "root", "children": [{"name": "a"}, {"name": "b"}]}
    first = client.post("/api/v2/goals/import", json=tree, headers=keyed(alice, "import"))
    again = client.post("/api/v2/goals/import", json=tree, headers=keyed(alice, "import"))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers[REPLAYED] == "true"
    assert goal_count(app, alice.id) == 3


def test_a_client_error_is_kept_and_replayed(app, client, alice, make_goal):
    taken = make_goal(alice, "taken")
    first = client.post("/api/v2/goals", json={"name": "taken"}, headers=keyed(alice, "clash"))
    assert_problem(first, 409)
    # The name is free now, but the key names the first answer: it is given again.
    renamed = client.patch(
        f"/api/v2/goals/{taken['id']}", json={"name": "renamed"}, headers=alice.headers
    )
    assert renamed.status_code == 200
    again = client.post("/api/v2/goals", json={"name": "taken"}, headers=keyed(alice, "clash"))
    assert_problem(again, 409)
    assert again.headers[REPLAYED] == "true"
    assert again.get_data() == first.get_data()
    assert goal_count(app, alice.id) == 1


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"name": "another name"}),  # another body
        ("PATCH", "?pretty=1", {"name": "first"}),  # another query
        ("PUT", "", {"name": "first"}),  # another method
        ("DELETE", "", None),
    ],
)
def test_the_same_key_for_another_request_is_a_422(client, alice, make_goal, method, suffix, body):
    goal = make_goal(alice, "goal")
    url = f"/api/v2/goals/{goal['id']}"
    first = client.patch(url, json={"name": "first"}, headers=keyed(alice, "k"))
    assert first.status_code == 200
    resp = client.open(url + suffix, method=method, json=body, headers=keyed(alice, "k"))
    problem = assert_problem(resp, 422)
    assert problem["type"] == REUSED
    assert problem["errors"] == [
        {"loc": ["header", "Idempotency-Key"], "msg": "used for another request"}
    ]
    assert client.get(url, headers=alice.headers).get_json()["name"] == "first"
    # Another path, too.
    other = client.post("/api/v2/goals", json={"name": "first"}, headers=keyed(alice, "k"))
    assert assert_problem(other, 422)["type"] == REUSED


def test_a_repeat_while_the_first_still_runs_is_a_409_then_the_replay(
    app, client, alice, monkeypatch
):
    running, release = threading.Event(), threading.Event()
    create = goal_service.create_goal

    def slow_create(**kwargs: Any) -> Any:
        running.set()
        assert release.wait(10)
        return create(**kwargs)

    monkeypatch.setattr(goal_service, "create_goal", slow_create)
    answers: list[Any] = []
    body = {"name": "slow"}
    first = threading.Thread(
        target=lambda: answers.append(
            client.post("/api/v2/goals", json=body, headers=keyed(alice, "slow"))
        )
    )
    first.start()
    try:
        assert running.wait(10)
        during = client.post("/api/v2/goals", json=body, headers=keyed(alice, "slow"))
        problem = assert_problem(during, 409)
        assert problem["type"] == IN_FLIGHT
    finally:
        release.set()
        first.join(10)
    assert answers[0].status_code == 201
    after = client.post("/api/v2/goals", json=body, headers=keyed(alice, "slow"))
    assert after.status_code == 201
    assert after.headers[REPLAYED] == "true"
    assert after.get_json() == answers[0].get_json()
    assert goal_count(app, alice.id) == 1


def test_keys_belong_to_their_caller(app, client, alice, bob):
    mine = client.post("/api/v2/goals", json={"name": "same"}, headers=keyed(alice, "shared"))
    # Bob's same key with the same body, then with another: both his own requests, both run.
    theirs = client.post("/api/v2/goals", json={"name": "same"}, headers=keyed(bob, "shared"))
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert REPLAYED not in theirs.headers
    assert theirs.get_json()["id"] != mine.get_json()["id"]
    again = client.post("/api/v2/goals", json={"name": "same"}, headers=keyed(bob, "shared"))
    assert again.headers[REPLAYED] == "true"
    assert again.get_json()["id"] == theirs.get_json()["id"]
    assert kept_keys(app) == [(alice.id, "shared", 201), (bob.id, "shared", 201)]


@pytest.mark.parametrize(
    "value",
    ["", "x" * 256, "caf\u00e9", "tab\there", "del\x7f"],
    ids=["empty", "256 characters", "not ASCII", "control character", "DEL"],
)
def test_a_malformed_key_is_a_422_and_nothing_runs(app, client, alice, value):
    resp = client.post("/api/v2/goals", json={"name": "n"}, headers=keyed(alice, value))
    problem = assert_problem(resp, 422)
    assert problem["errors"] == [
        {"loc": ["header", "Idempotency-Key"], "msg": "must be 1 to 255 printable ASCII characters"}
    ]
    assert goal_count(app, alice.id) == 0
    assert kept_keys(app) == []


def test_the_longest_and_oddest_valid_keys_work(client, alice):
    for i, key in enumerate(("~" * 255, "a b", "!", "a b:c/d?e=f!\\")):
        resp = client.post("/api/v2/goals", json={"name": f"g{i}"}, headers=keyed(alice, key))
        assert resp.status_code == 201, resp.get_json()
        again = client.post("/api/v2/goals", json={"name": f"g{i}"}, headers=keyed(alice, key))
        assert again.headers[REPLAYED] == "true"


def test_only_the_v2_writes_that_need_a_token_take_the_header(app, client, alice):
    bad = {**alice.headers, "Idempotency-Key": ""}
    # Reads, sign-up and token creation ignore it, however malformed.
    assert client.get("/api/v2/goals", headers=bad).status_code == 200
    signed_up = client.post(
        "/api/v2/users",
        json={"name": "carol", "email": "carol@example.com", "password": "a long password"},
        headers={"Idempotency-Key": ""},
    )
    assert signed_up.status_code == 201
    # So does the v1.0 API.
    assert client.post("/v1.0/goals", json={"name": "v1"}, headers=bad).status_code == 200
    # Without a valid token the answer is the 401, not a complaint about the key.
    resp = client.post("/api/v2/goals", json={"name": "n"}, headers={"Idempotency-Key": ""})
    assert_problem(resp, 401)
    assert kept_keys(app) == []
    # Where it is taken, the same header is refused.
    assert_problem(client.post("/api/v2/goals", json={"name": "n"}, headers=bad), 422)


# ---------------------------------------------------------------------------- failures


def test_a_server_error_releases_the_key_so_a_retry_runs(app, client, alice, monkeypatch):
    app.config["PROPAGATE_UNEXPECTED"] = False
    create = goal_service.create_goal
    calls: list[int] = []

    def failing_once(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return create(**kwargs)

    monkeypatch.setattr(goal_service, "create_goal", failing_once)
    failed = client.post("/api/v2/goals", json={"name": "retry"}, headers=keyed(alice, "r"))
    assert_problem(failed, 500)
    assert kept_keys(app) == []
    retried = client.post("/api/v2/goals", json={"name": "retry"}, headers=keyed(alice, "r"))
    assert retried.status_code == 201
    assert REPLAYED not in retried.headers
    # Kept this time: a repeat is the replay, and the create ran twice in all.
    again = client.post("/api/v2/goals", json={"name": "retry"}, headers=keyed(alice, "r"))
    assert again.headers[REPLAYED] == "true"
    assert len(calls) == 2


def test_an_exception_that_escapes_every_handler_releases_the_key(app, client, alice, monkeypatch):
    # TESTING propagates unexpected errors: no answer is made, teardown still runs.
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("boom")

    create = goal_service.create_goal
    monkeypatch.setattr(goal_service, "create_goal", broken)
    with pytest.raises(RuntimeError, match="boom"):
        client.post("/api/v2/goals", json={"name": "x"}, headers=keyed(alice, "boom"))
    assert kept_keys(app) == []
    monkeypatch.setattr(goal_service, "create_goal", create)
    ran = client.post("/api/v2/goals", json={"name": "x"}, headers=keyed(alice, "boom"))
    again = client.post("/api/v2/goals", json={"name": "x"}, headers=keyed(alice, "boom"))
    assert (ran.status_code, again.headers[REPLAYED]) == (201, "true")


def test_a_rate_limited_request_is_not_kept(app, client, alice):
    app.config["IMPORT_LIMIT"] = "1/minute"
    with app.app_context():
        limiter.reset()
    assert (
        client.post("/api/v2/goals/import", json={"name": "a"}, headers=alice.headers).status_code
        == 201
    )
    tree = {"name": "b"}
    limited = client.post("/api/v2/goals/import", json=tree, headers=keyed(alice, "later"))
    assert_problem(limited, 429)
    assert kept_keys(app) == []
    with app.app_context():
        limiter.reset()  # the minute is over
    done = client.post("/api/v2/goals/import", json=tree, headers=keyed(alice, "later"))
    assert done.status_code == 201
    assert REPLAYED not in done.headers
    again = client.post("/api/v2/goals/import", json=tree, headers=keyed(alice, "later"))
    assert (again.headers[REPLAYED], again.get_json()) == ("true", done.get_json())


def test_an_answer_too_large_to_keep_is_not_replayed_nor_run_again(app, client, alice, monkeypatch):
    monkeypatch.setattr(service, "MAX_KEPT_BODY", 100)
    first = client.post("/api/v2/goals", json={"name": "big"}, headers=keyed(alice, "big"))
    assert first.status_code == 201
    assert len(first.get_data()) > 100
    again = client.post("/api/v2/goals", json={"name": "big"}, headers=keyed(alice, "big"))
    problem = assert_problem(again, 409)
    assert problem["type"] == "urn:overachiever:problem:idempotency-response-not-kept"
    assert problem["completed_status"] == 201
    assert goal_count(app, alice.id) == 1


# ---------------------------------------------------------------------------- time


def test_an_expired_key_is_a_new_request(app, client, alice, make_goal):
    goal = make_goal(alice, "again")
    url = f"/api/v2/goals/{goal['id']}"
    assert client.delete(url, headers=keyed(alice, "old")).status_code == 204
    assert (
        client.post(f"/api/v2/trash/{goal['id']}/restore", headers=alice.headers).status_code == 200
    )
    age_keys(app, service.RETENTION + timedelta(minutes=1))
    again = client.delete(url, headers=keyed(alice, "old"))
    assert again.status_code == 204
    assert REPLAYED not in again.headers
    assert client.get(url, headers=alice.headers).status_code == 404  # trashed again
    # The key now names the new request, for another day.
    replay = client.delete(url, headers=keyed(alice, "old"))
    assert replay.headers[REPLAYED] == "true"


def test_an_expired_key_may_name_another_request(app, client, alice):
    client.post("/api/v2/goals", json={"name": "one"}, headers=keyed(alice, "k"))
    early = client.post("/api/v2/goals", json={"name": "two"}, headers=keyed(alice, "k"))
    assert assert_problem(early, 422)["type"] == REUSED
    age_keys(app, service.RETENTION + timedelta(minutes=1))
    other = client.post("/api/v2/goals", json={"name": "two"}, headers=keyed(alice, "k"))
    assert other.status_code == 201
    assert other.get_json()["name"] == "two"


def test_a_claim_abandoned_by_a_dead_process_is_taken_over_after_its_lease(app, client, alice):
    body = b'{"name": "orphaned claim"}'
    with app.app_context():
        digest = service.fingerprint(method="POST", path="/api/v2/goals", query=b"", body=body)
        assert service.claim(user_id=alice.id, key="lost", fingerprint=digest) is None
        db.session.remove()

    def send() -> Any:
        headers = keyed(alice, "lost")
        return client.post("/api/v2/goals", data=body, headers=headers, content_type=JSON)

    # Still within the lease: the first request may yet answer.
    assert assert_problem(send(), 409)["type"] == IN_FLIGHT
    age_keys(app, service.LEASE + timedelta(seconds=1))
    taken = send()
    assert taken.status_code == 201
    assert REPLAYED not in taken.headers
    assert kept_keys(app) == [(alice.id, "lost", 201)]


def test_expired_keys_are_purged_in_one_statement_now_and_then(app, client, alice, monkeypatch):
    for i in range(3):
        client.post("/api/v2/goals", json={"name": f"g{i}"}, headers=keyed(alice, f"old{i}"))
    age_keys(app, service.RETENTION + timedelta(minutes=1))
    # While this process purged less than a minute ago, expired keys stay for now.
    monkeypatch.setattr(service, "_next_purge", float("inf"))
    client.post("/api/v2/goals", json={"name": "fresh"}, headers=keyed(alice, "fresh"))
    assert len(kept_keys(app)) == 4
    monkeypatch.setattr(service, "_next_purge", 0.0)
    client.post("/api/v2/goals", json={"name": "newer"}, headers=keyed(alice, "newer"))
    assert [key for _, key, _ in kept_keys(app)] == ["fresh", "newer"]


def test_deleting_an_account_deletes_its_keys(app, client, alice, bob):
    client.post("/api/v2/goals", json={"name": "b"}, headers=keyed(bob, "bobs"))
    assert kept_keys(app) == [(bob.id, "bobs", 201)]
    assert client.delete(f"/api/v2/users/{bob.id}", headers=alice.headers).status_code == 204
    assert kept_keys(app) == []


# ---------------------------------------------------------------------------- cost


def test_without_the_header_no_statement_touches_the_keys(app, client, alice, statements):
    goal = client.post("/api/v2/goals", json={"name": "plain"}, headers=alice.headers).get_json()
    client.patch(f"/api/v2/goals/{goal['id']}", json={"name": "p"}, headers=alice.headers)
    client.delete(f"/api/v2/goals/{goal['id']}", headers=alice.headers)
    assert statements
    assert not [s for s in statements if "idempotency_keys" in s]
    assert kept_keys(app) == []
    # With it, they do.
    statements.clear()
    client.post("/api/v2/goals", json={"name": "keyed"}, headers=keyed(alice, "with"))
    assert [s for s in statements if "idempotency_keys" in s]


def test_a_keyed_write_costs_a_look_up_a_claim_and_a_record_and_a_replay_one_read(
    app, client, alice, statements, monkeypatch
):
    monkeypatch.setattr(service, "_next_purge", float("inf"))
    client.post("/api/v2/goals", json={"name": "counted"}, headers=keyed(alice, "c"))
    touching = [s.split()[0].upper() for s in statements if "idempotency_keys" in s]
    assert touching == ["SELECT", "INSERT", "UPDATE"]
    # The token is looked up once, though the claim needs the caller before the view does.
    assert len([s for s in statements if "FROM users JOIN tokens" in s]) == 1
    statements.clear()
    client.post("/api/v2/goals", json={"name": "counted"}, headers=keyed(alice, "c"))
    # A replay is one read: it waits for no writer.
    assert [s.split()[0].upper() for s in statements] == ["SELECT", "SELECT"]
    assert "idempotency_keys" in statements[1]


# ---------------------------------------------------------------------------- documentation


def test_every_v2_write_that_needs_a_token_documents_the_header(client):
    spec = client.get("/api/v2/openapi.json").get_json()
    parameter = spec["components"]["parameters"]["IdempotencyKey"]
    assert (parameter["name"], parameter["in"], parameter["required"]) == (
        "Idempotency-Key",
        "header",
        False,
    )
    assert parameter["schema"]["maxLength"] == 255
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    documented = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            takes = ref in operation.get("parameters", [])
            write = method in ("post", "put", "patch", "delete") and path.startswith("/api/v2/")
            bearer = operation.get("security") == [{"BearerAuth": []}]
            assert takes == (write and bearer), (method, path)
            if not takes:
                continue
            documented += 1
            responses = operation["responses"]
            assert "still running" in responses["409"]["description"], (method, path)
            assert "Idempotency-Key" in responses["422"]["description"], (method, path)
            success = [r for s, r in responses.items() if s.startswith("2")]
            assert success
            for response in success:
                assert response["headers"]["Idempotent-Replayed"] == {
                    "$ref": "#/components/headers/IdempotentReplayed"
                }
    assert documented >= 11
    assert "IdempotentReplayed" in spec["components"]["headers"]
