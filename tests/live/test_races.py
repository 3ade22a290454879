"""Concurrent requests against a live multi-worker server: tree changes stay race-free.

Every request of a race waits on a barrier with the others, then all go at the same instant,
each on a kept-alive connection of its own thread, to a server of three worker processes with
two threads each. Runs on SQLite and, when the suite runs there, on PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from tests.support.database import on_postgresql
from tests.support.live_client import Client, assert_forest_intact
from tests.support.liveserver import LiveDatabases, Server, start_server

pytestmark = pytest.mark.live

ROUNDS = 100
ROTATIONS = 30
CLIENTS = 8
EDITS = 50
_users = itertools.count()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    """A server with three worker processes of two threads each, on its own database, and
    the headers of its first account (the administrator)."""
    folder = tmp_path_factory.mktemp("races")
    databases = LiveDatabases()
    try:
        srv = start_server(
            folder,
            databases.new_url(folder / "db"),
            args=["--workers", "3", "--threads", "2"],
            env={"OVERACHIEVER_LOGIN_LIMIT": "10000/minute"},
        )
        try:
            yield srv, srv.signup("admin")
        finally:
            srv.stop()
        logs = srv.logs()
        assert "Traceback" not in logs, logs[-3000:]
    finally:
        databases.drop_all()


@pytest.fixture(scope="module")
def server(live: tuple[Server, dict[str, str]]) -> Server:
    """The live server."""
    return live[0]


@pytest.fixture
def admin(live: tuple[Server, dict[str, str]]) -> Iterator[Client]:
    """A client acting as the server's administrator."""
    client = Client(live[0].port, live[1])
    yield client
    client.close()


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    """A client acting as a new user of its own."""
    client = Client(server.port, server.signup(f"racer-{next(_users)}"))
    yield client
    client.close()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    """Threads that keep their connections across rounds."""
    with ThreadPoolExecutor(max_workers=CLIENTS) as executor:
        yield executor


def _create(client: Client, name: str, parent_id: int | None = None) -> int:
    status, body = client.json("POST", "/api/v2/goals", {"name": name, "parent_id": parent_id})
    assert status == 201, body
    return int(body["id"])


def _at_once(
    pool: ThreadPoolExecutor, calls: list[Callable[[], tuple[int, Any]]]
) -> list[tuple[int, Any]]:
    """Run the calls in parallel threads, released together by a barrier."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def run(call: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
        barrier.wait()
        return call()

    return list(pool.map(run, calls))


def _move(client: Client, goal_id: int, parent_id: int | None) -> Callable[[], tuple[int, Any]]:
    return lambda: client.json("PATCH", f"/api/v2/goals/{goal_id}", {"parent_id": parent_id})


def _statuses(results: list[tuple[int, Any]]) -> list[int]:
    return [status for status, _ in results]


def test_opposite_moves_at_the_same_instant_one_wins_the_other_is_a_cycle(client, pool):
    a, b = _create(client, "A"), _create(client, "B")
    started = time.monotonic()
    wins = {a: 0, b: 0}
    for round_ in range(ROUNDS):
        results = _at_once(pool, [_move(client, a, b), _move(client, b, a)])
        statuses = _statuses(results)
        assert sorted(statuses) == [200, 409], (round_, results)
        loser = results[statuses.index(409)][1]
        assert loser["type"] == "urn:overachiever:problem:cycle", loser
        moved, other = (a, b) if statuses[0] == 200 else (b, a)
        wins[moved] += 1
        # The database holds exactly the winner's move, and the forest has no cycle.
        assert assert_forest_intact(client, [a, b]) == {moved: other, other: None}
        status, body = _move(client, moved, None)()
        assert status == 200, body
    elapsed = time.monotonic() - started
    print(
        f"\nopposite moves on {'PostgreSQL' if on_postgresql() else 'SQLite'}: {ROUNDS} rounds, "
        f"{ROUNDS} x 200 + {ROUNDS} x 409 (A won {wins[a]}, B won {wins[b]}) in {elapsed:.1f}s"
    )


def test_three_goal_rotation_at_once_refuses_the_move_that_closes_the_cycle(client, pool):
    a, b, c = _create(client, "A"), _create(client, "B"), _create(client, "C")
    refused: dict[int, int] = {a: 0, b: 0, c: 0}
    for round_ in range(ROTATIONS):
        moves = [(a, b), (b, c), (c, a)]
        results = _at_once(pool, [_move(client, g, p) for g, p in moves])
        statuses = _statuses(results)
        # Any two of the moves make a chain; the third one would close the ring.
        assert sorted(statuses) == [200, 200, 409], (round_, results)
        goal, _ = moves[statuses.index(409)]
        refused[goal] += 1
        assert results[statuses.index(409)][1]["type"] == "urn:overachiever:problem:cycle"
        assert_forest_intact(client, [a, b, c])
        for g in (a, b, c):
            status, body = _move(client, g, None)()
            assert status == 200, body
    print(f"\nrotation: {ROTATIONS} rounds, refused moves per goal: {sorted(refused.values())}")


def test_same_sibling_name_created_at_once_one_201_the_rest_409(client, pool):
    parent = _create(client, "parent")
    for round_ in range(6):
        # Even rounds race at the top level, odd ones under a parent.
        parent_id = None if round_ % 2 == 0 else parent
        name = f"twin {round_}"

        def create(parent_id: int | None = parent_id, name: str = name) -> tuple[int, Any]:
            return client.json("POST", "/api/v2/goals", {"name": name, "parent_id": parent_id})

        results = _at_once(pool, [create] * CLIENTS)
        statuses = _statuses(results)
        assert sorted(statuses) == [201] + [409] * (CLIENTS - 1), (round_, results)
        assert all(
            body["type"] == "urn:overachiever:problem:name-conflict"
            for status, body in results
            if status == 409
        )
        where = "root" if parent_id is None else str(parent_id)
        status, page = client.json("GET", f"/api/v2/goals?parent={where}&limit=500")
        assert status == 200
        assert [g["name"] for g in page["items"]].count(name) == 1


def test_read_modify_write_with_if_match_loses_no_update(client, pool):
    goal = _create(client, "counter")
    assert client.json("PATCH", f"/api/v2/goals/{goal}", {"description": "0"})[0] == 200
    started = time.monotonic()

    def edit_many(_: int) -> dict[str, int]:
        counts = {"ok": 0, "stale": 0}
        streak = 0
        while counts["ok"] < EDITS:
            status, headers, payload = client.request("GET", f"/api/v2/goals/{goal}")
            assert status == 200, payload
            current = int(json.loads(payload)["description"])
            status, body = client.json(
                "PATCH",
                f"/api/v2/goals/{goal}",
                {"description": str(current + 1)},
                headers={"If-Match": headers["etag"]},
            )
            if status == 412:
                assert body["type"] == "urn:overachiever:problem:stale-version", body
                counts["stale"] += 1
                streak += 1
                # Back off like a polite client, so the eight do not collide every time.
                time.sleep(random.uniform(0, min(0.1, 0.004 * 2**streak)))
                continue
            assert status == 200, body
            counts["ok"] += 1
            streak = 0
        return counts

    results = list(pool.map(edit_many, range(CLIENTS)))
    elapsed = time.monotonic() - started
    status, final = client.json("GET", f"/api/v2/goals/{goal}")
    assert status == 200
    # Every acknowledged edit counted once: none was lost, none applied twice.
    assert final["description"] == str(CLIENTS * EDITS)
    assert final["version"] == 2 + CLIENTS * EDITS
    stale = sum(r["stale"] for r in results)
    print(
        f"\nread-modify-write: {CLIENTS} clients x {EDITS} edits = {CLIENTS * EDITS} applied, "
        f"{stale} refused with 412 and retried, {elapsed:.1f}s"
    )


def test_deleting_an_account_while_its_owner_edits_never_fails_a_request(server, admin, pool):
    statuses: Counter[int] = Counter()
    for round_ in range(8):
        victim = Client(server.port, server.signup(f"leaving-{next(_users)}"))
        status, me = victim.json("GET", "/api/v2/users/self")
        assert status == 200, me
        goals = [_create(victim, f"g{i}") for i in range(6)]
        stop = threading.Event()

        def edit(
            k: int, victim: Client = victim, goals: list[int] = goals, stop: threading.Event = stop
        ) -> Counter[int]:
            # Edits until the account is gone: then 401 (token deleted) or 404 (goal deleted).
            seen: Counter[int] = Counter()
            n = 0
            while not stop.is_set():
                status, _ = victim.json(
                    "PATCH", f"/api/v2/goals/{goals[(k + n) % 6]}", {"description": str(n)}
                )
                seen[status] += 1
                n += 1
                if status in (401, 404):
                    break
            return seen

        editors = [pool.submit(edit, k) for k in range(4)]
        try:
            time.sleep(0.2)
            status, body = admin.json("DELETE", f"/api/v2/users/{me['id']}")
            time.sleep(0.1)
        finally:
            stop.set()
        for editor in editors:
            statuses.update(editor.result())
        assert status == 204, (round_, body)
    # Every edit was applied before the deletion, or found the account gone.
    assert set(statuses) <= {200, 401, 404}, statuses
    assert statuses[200] > 0


def test_an_undo_racing_a_move_never_makes_a_cycle(client, pool):
    """Undoing "A out of B" while B moves under A: whichever runs second would close a ring."""
    a, b = _create(client, "A"), _create(client, "B")
    outcomes: Counter[str] = Counter()
    for round_ in range(ROTATIONS):
        assert _move(client, a, b)()[0] == 200
        assert _move(client, a, None)()[0] == 200
        status, ops = client.json("GET", "/api/v2/operations?limit=1")
        assert status == 200, ops
        moved_out = ops["items"][0]["id"]
        results = _at_once(
            pool,
            [
                partial(client.json, "POST", f"/api/v2/operations/{moved_out}/undo"),
                _move(client, b, a),
            ],
        )
        statuses = _statuses(results)
        assert sorted(statuses) == [200, 409], (round_, results)
        refused = results[statuses.index(409)][1]
        assert refused["type"] == "urn:overachiever:problem:cycle", refused
        outcomes["undo won" if statuses[0] == 200 else "move won"] += 1
        assert_forest_intact(client, [a, b])
        for g in (a, b):
            assert _move(client, g, None)()[0] == 200
    print(f"\nundo against move: {ROTATIONS} rounds, {dict(outcomes)}")


def test_an_owner_and_an_editor_moving_at_once_never_make_a_cycle(server, client, pool):
    """The owner's lock serialises the editor's moves with the owner's: one wins, one is a cycle."""
    shared = _create(client, "Shared")
    a, b = _create(client, "A", shared), _create(client, "B", shared)
    name = f"editor-{next(_users)}"
    editor = Client(server.port, server.signup(name))
    try:
        status, body = client.json(
            "POST", f"/api/v2/goals/{shared}/shares", {"user": name, "role": "editor"}
        )
        assert status == 201, body
        wins: Counter[str] = Counter()
        for round_ in range(ROTATIONS):
            results = _at_once(pool, [_move(client, a, b), _move(editor, b, a)])
            statuses = _statuses(results)
            assert sorted(statuses) == [200, 409], (round_, results)
            loser = results[statuses.index(409)][1]
            assert loser["type"] == "urn:overachiever:problem:cycle", loser
            wins["owner" if statuses[0] == 200 else "editor"] += 1
            assert_forest_intact(client, [shared, a, b])
            for g in (a, b):
                assert _move(client, g, shared)()[0] == 200
    finally:
        editor.close()
    print(f"\nowner against editor: {ROTATIONS} rounds, {dict(wins)}")
