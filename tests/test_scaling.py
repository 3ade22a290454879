"""Settings for running several instances: pools sized for the workers, Redis outages."""

from __future__ import annotations

import pytest

from overachiever.core.db import db
from overachiever.server import Server
from tests.support.accounts import PASSWORD, basic
from tests.support.liveserver import free_port


@pytest.fixture
def worker_app(tmp_path, monkeypatch):
    """Build the app the way a gunicorn worker of `serve --threads 3` does."""
    made = []

    def build(threads: int = 3):
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'pool.db'}")
        server = Server({"bind": "127.0.0.1:0", "workers": 1, "threads": threads})
        app = server.load()
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _pool(app):
    with app.app_context():
        return db.engine.pool


def test_a_worker_pool_holds_a_connection_per_thread_and_checks_them(worker_app):
    pool = _pool(worker_app(threads=3))
    assert pool.size() == 3
    assert pool._max_overflow == 2
    assert pool._pre_ping is False  # replaced by a checkout hook with no round trip
    assert 0 < pool._recycle <= 3600


def test_pool_size_and_overflow_come_from_the_environment(worker_app, monkeypatch):
    monkeypatch.setenv("OVERACHIEVER_DB_POOL_SIZE", "6")
    monkeypatch.setenv("OVERACHIEVER_DB_MAX_OVERFLOW", "0")
    pool = _pool(worker_app(threads=2))
    assert (pool.size(), pool._max_overflow) == (6, 0)


def test_a_bad_pool_size_stops_the_start(worker_app, monkeypatch):
    monkeypatch.setenv("OVERACHIEVER_DB_POOL_SIZE", "many")
    with pytest.raises(RuntimeError, match="OVERACHIEVER_DB_POOL_SIZE"):
        worker_app()


def test_login_limit_holds_in_memory_while_redis_is_unreachable(make_app):
    # Nothing listens on this port: every Redis call fails.
    app = make_app(
        LOGIN_LIMIT="3/minute", RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0"
    )
    client = app.test_client()
    account = {"name": "fallback", "email": "fallback@example.com", "password": PASSWORD}
    assert client.post("/api/v2/users", json=account).status_code == 201
    codes = [
        client.post("/api/v2/tokens", headers=basic("fallback", PASSWORD)).status_code
        for _ in range(5)
    ]
    assert codes == [201, 201, 201, 429, 429]
