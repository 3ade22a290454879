"""Idempotency-Key against two live instances on one database: a duplicate runs once.

Both instances (two worker processes of two threads each) serve one fresh database, SQLite or,
when the suite runs there, PostgreSQL. The key's row in the database is the only thing they
share, so whatever one instance kept, the other replays.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.live_client import Client
from tests.support.liveserver import LiveDatabases, Server, start_server

pytestmark = pytest.mark.live

ROUNDS = 25
SENDERS = 6  # per round, half to each instance
IN_FLIGHT = "urn:overachiever:problem:idempotency-key-in-flight"
ENV = {"OVERACHIEVER_LOGIN_LIMIT": "10000/minute", "OVERACHIEVER_IMPORT_LIMIT": "10000/minute"}
_users = itertools.count()


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """Two instances on one fresh database."""
    folder = tmp_path_factory.mktemp("idempotency")
    databases = LiveDatabases()
    started: list[Server] = []
    try:
        database = databases.new_url(folder / "db")
        for i in (1, 2):
            started.append(
                start_server(
                    folder / f"instance-{i}",
                    database,
                    args=["--workers", "2", "--threads", "2"],
                    env=ENV,
                )
            )
        yield started[0], started[1]
        for server in started:
            assert "Traceback" not in server.logs(), server.logs()[-3000:]
    finally:
        for server in started:
            server.stop()
        databases.drop_all()


@pytest.fixture
def clients(instances: tuple[Server, Server]) -> Iterator[tuple[Client, Client]]:
    """One new user's clients, one per instance."""
    first, second = instances
    headers = first.signup(f"retrier-{next(_users)}")
    pair = (Client(first.port, headers), Client(second.port, headers))
    yield pair
    for client in pair:
        client.close()


def _send_at_once(
    pool: ThreadPoolExecutor, clients: tuple[Client, Client], path: str, body: Any, key: str
) -> list[tuple[int, dict[str, str], bytes]]:
    """SENDERS identical requests, alternately to each instance, released together."""
    barrier = threading.Barrier(SENDERS, timeout=30)

    def send(i: int) -> tuple[int, dict[str, str], bytes]:
        barrier.wait()
        return clients[i % 2].request("POST", path, body, {"Idempotency-Key": key})

    return list(pool.map(send, range(SENDERS)))


def test_a_duplicate_sent_to_both_instances_at_the_same_instant_runs_once(clients):
    kinds: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        for round_ in range(ROUNDS):
            key = str(uuid.uuid4())
            # Alternately a create and an import of a small tree, which runs longer.
            if round_ % 2:
                path = "/api/v2/goals/import"
                body: Any = {
                    "name": f"tree {round_}",
                    "children": [{"name": f"leaf {i}"} for i in range(50)],
                }
            else:
                path, body = "/api/v2/goals", {"name": f"goal {round_}"}
            answers = _send_at_once(pool, clients, path, body, key)
            ran = [a for a in answers if a[0] == 201 and "idempotent-replayed" not in a[1]]
            assert len(ran) == 1, (round_, [(a[0], a[2][:120]) for a in answers])
            for status, headers, payload in answers:
                if status == 201:
                    assert payload == ran[0][2], round_
                    kinds["replayed" if "idempotent-replayed" in headers else "ran"] += 1
                else:
                    assert status == 409, (round_, status, payload[:200])
                    assert json.loads(payload)["type"] == IN_FLIGHT
                    kinds["in flight"] += 1
            # Once the first has answered, every repeat is its replay.
            status, headers, payload = clients[round_ % 2].request(
                "POST", path, body, {"Idempotency-Key": key}
            )
            assert (status, headers.get("idempotent-replayed"), payload) == (201, "true", ran[0][2])
    assert kinds["ran"] == ROUNDS
    assert kinds["replayed"] + kinds["in flight"] == ROUNDS * (SENDERS - 1)
    # Exactly the goals of one run of each request.
    status, page = clients[0].json("GET", "/api/v2/goals?limit=1")
    assert status == 200
    assert page["total"] == ROUNDS // 2 + 1 + (ROUNDS // 2) * 51


def test_an_answer_kept_by_one_instance_is_replayed_by_the_other(clients):
    first, second = clients
    key = {"Idempotency-Key": str(uuid.uuid4())}
    status, headers, payload = first.request("POST", "/api/v2/goals", {"name": "here"}, key)
    assert status == 201
    again = second.request("POST", "/api/v2/goals", {"name": "here"}, key)
    assert again[0] == 201
    assert again[1]["idempotent-replayed"] == "true"
    assert again[2] == payload
    assert (again[1]["location"], again[1]["etag"]) == (headers["location"], headers["etag"])
    # And another request under that key is refused by either.
    for client in clients:
        status, problem = client.json("POST", "/api/v2/goals", {"name": "there"}, key)
        assert (status, problem["type"]) == (422, "urn:overachiever:problem:idempotency-key-reused")
