"""`overachiever serve`: a real gunicorn on 127.0.0.1, migrating its own database, under load."""

from __future__ import annotations

import base64
import http.client
import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from overachiever.migrations import head_revision
from tests.support.liveserver import HOST, Server, free_port, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server with three workers for this module's tests."""
    tmp = tmp_path_factory.mktemp("serve")
    srv = start_server(tmp, f"sqlite:///{tmp / 'served.db'}", args=["--workers", "3"])
    try:
        yield srv
    finally:
        srv.stop()


def _json(payload: bytes) -> Any:
    return json.loads(payload.decode())


def test_serve_migrates_its_database_and_answers(server):
    with sqlite3.connect(server.db_path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    status, _, body = server.request("GET", "/healthz")
    assert (status, _json(body)) == (200, {"status": "ok"})
    status, _, body = server.request("GET", "/readyz")
    assert (status, _json(body)) == (200, {"status": "ok"})

    status, headers, body = server.request("GET", "/api/v2/openapi.json")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    spec = _json(body)
    assert spec["openapi"] == "3.1.0"
    assert "/api/v2/goals" in spec["paths"]

    status, headers, body = server.request("GET", "/docs")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "/api/v2/openapi.json" in page
    # The docs' own assets come from this server (it works offline).
    assets = [part.split('"', 1)[0] for part in page.split('"/docs/assets/')[1:]]
    assert assets
    for asset in assets:
        status, _, _ = server.request("GET", "/docs/assets/" + asset)
        assert status == 200, asset

    assert "Over Achiever on http://127.0.0.1:" in server.logs()
    # No gunicorn control socket is opened in the user's home (instances would share it).
    assert not (server.home / ".gunicorn").exists()


def test_concurrent_writes_all_succeed(server):
    password = "concurrency-pass"
    status, _, body = server.request(
        "POST",
        "/api/v2/users",
        {"name": "loader", "email": "loader@example.com", "password": password},
    )
    assert status == 201, body
    basic = base64.b64encode(f"loader:{password}".encode()).decode()
    status, _, body = server.request(
        "POST", "/api/v2/tokens", headers={"Authorization": f"Basic {basic}"}
    )
    assert status == 201, body
    auth = {"Authorization": f"Bearer {_json(body)['token']}"}

    threads, per_thread = 8, 25

    def work(t: int) -> list[str]:
        problems: list[str] = []
        conn = http.client.HTTPConnection(HOST, server.port, timeout=60)

        def call(method: str, path: str, body: Any = None) -> Any:
            status, _headers, payload = server.request(method, path, body, auth, conn)
            if not 200 <= status < 300:
                problems.append(f"{method} {path} -> {status} {payload[:300]!r}")
                return None
            return _json(payload) if payload else None

        try:
            root: int | None = None
            for i in range(per_thread):
                # Some goals under the thread's first goal, the rest at the top level.
                parent = root if i % 3 == 1 else None
                goal = call("POST", "/api/v2/goals", {"name": f"t{t}-g{i}", "parent_id": parent})
                if goal is None:
                    continue
                if root is None:
                    root = goal["id"]
                if i % 5 == 2:
                    call("PATCH", f"/api/v2/goals/{goal['id']}", {"description": f"by {t}"})
                if i % 5 == 3 and root is not None and parent is None:
                    call("PATCH", f"/api/v2/goals/{goal['id']}", {"parent_id": root})
                if i % 4 == 0:
                    call("GET", f"/api/v2/goals/{goal['id']}")
                if i % 8 == 7:
                    call("GET", "/api/v2/goals/tree")
        finally:
            conn.close()
        return problems

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(work, range(threads)))
    problems = [p for r in results for p in r]
    assert problems == [], problems[:10]

    status, _, body = server.request("GET", "/api/v2/goals?limit=1", headers=auth)
    assert status == 200
    assert _json(body)["total"] == threads * per_thread
    status, _, body = server.request("GET", "/api/v2/goals/tree?format=flat", headers=auth)
    names = {g["name"] for g in _json(body)["items"]}
    assert names == {f"t{t}-g{i}" for t in range(threads) for i in range(per_thread)}

    logs = server.logs()
    assert "database is locked" not in logs
    assert "Traceback" not in logs
    assert '" 500 ' not in logs


def test_port_defaults_to_the_port_variable(tmp_path):
    port = free_port()
    srv = start_server(
        tmp_path,
        f"sqlite:///{tmp_path / 'served.db'}",
        args=["--workers", "1"],
        env={"PORT": str(port)},
    )
    try:
        status, _, body = srv.request("GET", "/readyz")
        assert (status, _json(body)) == (200, {"status": "ok"})
        assert f"Listening at: http://127.0.0.1:{port}" in srv.logs()
    finally:
        srv.stop()
