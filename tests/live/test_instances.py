"""Two `overachiever serve` instances on one database: shared state and shared login limits.

Both instances start at the same moment on a fresh database, so both try to migrate it at
once; they keep their rate-limit counters in Redis, under a key prefix of this run's own.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from sqlalchemy import create_engine, text

from overachiever.migrations import head_revision
from tests.support.accounts import basic
from tests.support.live_client import Client
from tests.support.liveserver import LiveDatabases, Server, start_server

pytestmark = pytest.mark.live

LIMIT = 5
PASSWORD = "two-instances-pass"


def _redis_url() -> str:
    """Redis for this test: skipped when it is down, except in CI where it must run."""
    url = os.environ.get("OVERACHIEVER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        if os.environ.get("OVERACHIEVER_REQUIRE_ALL"):
            pytest.fail(f"no Redis at {url}: {exc}")
        pytest.skip(f"no Redis at {url}")
    return url


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[tuple[str, str]]:
    """A Redis URL and a key prefix of this run's own; its keys are deleted afterwards."""
    url = _redis_url()
    prefix = f"overachiever-test-{uuid.uuid4().hex}"
    yield url, prefix
    store = redis.Redis.from_url(url)
    keys = list(store.scan_iter(match=f"*{prefix}*"))
    if keys:
        store.delete(*keys)


@pytest.fixture(scope="module")
def instances(
    tmp_path_factory: pytest.TempPathFactory, redis_prefix: tuple[str, str]
) -> Iterator[tuple[Server, Server]]:
    """Two instances on one fresh database, started together."""
    folder = tmp_path_factory.mktemp("instances")
    databases = LiveDatabases()
    url, prefix = redis_prefix
    env = {
        "REDIS_URL": url,
        "OVERACHIEVER_RATELIMIT_PREFIX": prefix,
        "OVERACHIEVER_LOGIN_LIMIT": f"{LIMIT}/minute",
    }
    try:
        database = databases.new_url(folder / "db")

        def start(i: int) -> Server:
            return start_server(
                folder / f"instance-{i}", database, args=["--workers", "2"], env=env
            )

        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(start, i) for i in (1, 2)]
        started = [f.result() for f in futures if f.exception() is None]
        try:
            first, second = (f.result() for f in futures)  # a failed start fails here
            yield first, second
        finally:
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(Server.stop, started))
    finally:
        databases.drop_all()


def test_instances_started_together_migrate_the_database_once(instances):
    first, second = instances
    logs = [first.logs(), second.logs()]
    # The migration lock let one instance migrate; the other found the schema current.
    assert sum(log.count("Running upgrade  -> ") for log in logs) == 1, logs
    engine = create_engine(first.database_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert versions == [(head_revision(),)]
    for server in instances:
        assert server.json("GET", "/readyz") == (200, {"status": "ok"})


def test_login_limit_holds_across_instances_through_redis(instances, redis_prefix):
    first, second = instances
    name = f"limited-{uuid.uuid4().hex[:8]}"
    account = {"name": name, "email": f"{name}@example.com", "password": PASSWORD}
    status, body = first.json("POST", "/api/v2/users", account)
    assert status == 201, body

    # Attempts alternate between the instances: the sixth one is refused, whichever gets it.
    answers = []
    for attempt in range(LIMIT + 3):
        server = (first, second)[attempt % 2]
        status, headers, payload = server.request(
            "POST", "/api/v2/tokens", headers=basic(name, PASSWORD)
        )
        answers.append((status, headers, payload))
    assert [a[0] for a in answers] == [201] * LIMIT + [429] * 3, [a[2][:200] for a in answers]
    refused = answers[-1]
    assert refused[1]["content-type"].startswith("application/problem+json")
    assert int(refused[1]["retry-after"]) > 0

    # The counters are in Redis, under this run's prefix.
    url, prefix = redis_prefix
    assert list(redis.Redis.from_url(url).scan_iter(match=f"*{prefix}*"))

    # And a token issued by one instance works on the other: all state is in the database.
    token = json.loads(answers[0][2])["token"]
    auth = {"Authorization": f"Bearer {token}"}
    status, goal = Client(second.port, auth).json("POST", "/api/v2/goals", {"name": "shared"})
    assert status == 201, goal
    status, read = Client(first.port, auth).json("GET", f"/api/v2/goals/{goal['id']}")
    assert (status, read["name"]) == (200, "shared")
