"""The application factory: configuration from the environment, database settings, hooks."""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from overachiever import create_app
from overachiever.config import Config
from overachiever.core.db import db
from tests.support.accounts import PASSWORD, basic
from tests.support.apps import app_settings

ENV_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "OVERACHIEVER_SIGNUP",
    "OVERACHIEVER_MAX_BODY",
    "OVERACHIEVER_LOGIN_LIMIT",
    "OVERACHIEVER_IMPORT_LIMIT",
    "OVERACHIEVER_SHARE_LIMIT",
    "OVERACHIEVER_FEED_LIMIT",
    "OVERACHIEVER_MAX_GOALS",
    "OVERACHIEVER_SIGNUP_LIMIT",
    "LOG_LEVEL",
    "OVERACHIEVER_TRUSTED_PROXIES",
    "OVERACHIEVER_TRASH_DAYS",
    "OVERACHIEVER_INSTANCE_PATH",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test here from an environment without Over Achiever settings."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERACHIEVER_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app()
    assert app.instance_path == str(tmp_path / "inst")
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == f"sqlite:///{tmp_path / 'inst' / 'overachiever.db'}"
    )
    assert (tmp_path / "inst").is_dir()


def test_sqlite_connections_are_durable_and_checked(make_app):
    app = make_app(schema=False)
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == Config.SQLITE_BUSY_TIMEOUT_MS


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////srv/oa.db", "sqlite:////srv/oa.db"),
    ],
)
def test_database_url_is_read_and_pointed_at_psycopg(monkeypatch, given, expected):
    monkeypatch.setenv("DATABASE_URL", given)
    assert Config.from_env()["SQLALCHEMY_DATABASE_URI"] == expected


def test_environment_settings_are_read(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("OVERACHIEVER_SIGNUP", "closed")
    monkeypatch.setenv("OVERACHIEVER_MAX_BODY", "2048")
    monkeypatch.setenv("OVERACHIEVER_LOGIN_LIMIT", "5/second")
    monkeypatch.setenv("OVERACHIEVER_SIGNUP_LIMIT", "20/day")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("OVERACHIEVER_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("OVERACHIEVER_TRASH_DAYS", "7")
    assert Config.from_env() == {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/3",
        "SIGNUP": "closed",
        "MAX_CONTENT_LENGTH": 2048,
        "LOGIN_LIMIT": "5/second",
        "SIGNUP_LIMIT": "20/day",
        "LOG_LEVEL": "DEBUG",
        "TRUSTED_PROXIES": 1,
        "TRASH_RETENTION_DAYS": 7,
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OVERACHIEVER_SIGNUP", "maybe"),
        ("OVERACHIEVER_MAX_BODY", "a lot"),
        ("OVERACHIEVER_LOGIN_LIMIT", "ten per minute"),
        ("OVERACHIEVER_SIGNUP_LIMIT", "5"),
        ("OVERACHIEVER_TRUSTED_PROXIES", "yes"),
    ],
)
def test_bad_settings_stop_the_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        Config.from_env()


def test_max_body_from_the_environment_gives_413(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERACHIEVER_MAX_BODY", "200")
    settings = app_settings(tmp_path)
    del settings["MAX_CONTENT_LENGTH"]  # let the environment decide
    app = create_app(settings)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    resp = client.post(
        "/api/v2/users",
        json={"name": "x" * 60, "email": "x@example.com", "password": "p" * 200},
    )
    assert resp.status_code == 413
    assert resp.mimetype == "application/problem+json"


def test_unexpected_error_is_a_500_problem_with_a_request_id_and_no_trace(make_app, caplog):
    app = make_app(PROPAGATE_UNEXPECTED=False)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR):
        resp = app.test_client().get("/boom", headers={"X-Request-ID": "req-42"})
    assert resp.status_code == 500
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["request_id"] == "req-42"
    assert "req-42" in body["detail"]
    assert "secret internals" not in resp.get_data(as_text=True)
    assert "Traceback" not in resp.get_data(as_text=True)
    assert resp.headers["X-Request-ID"] == "req-42"
    assert any("req-42" in r.getMessage() for r in caplog.records)


def _login_attempts(clients: list[Any], n: int, login: str, address: str) -> list[int]:
    codes = []
    for i in range(n):
        client = clients[i % len(clients)]
        resp = client.post(
            "/api/v2/tokens", headers=basic(login, PASSWORD), environ_base={"REMOTE_ADDR": address}
        )
        codes.append(resp.status_code)
    return codes


def test_forwarded_address_counts_only_behind_a_trusted_proxy(make_app):
    for proxies, expected in ((0, [401, 401, 429]), (1, [401, 401, 401])):
        app = make_app(LOGIN_LIMIT="2/minute", TRUSTED_PROXIES=proxies)
        client = app.test_client()
        codes = []
        for i, who in enumerate(("203.0.113.1", "203.0.113.2", "203.0.113.3")):
            # Different accounts, so only the per-address limit can trigger.
            resp = client.post(
                "/api/v2/tokens", headers={**basic(f"user{i}", PASSWORD), "X-Forwarded-For": who}
            )
            codes.append(resp.status_code)
        assert codes == expected, proxies


def _redis_url() -> str:
    url = os.environ.get("OVERACHIEVER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        if os.environ.get("OVERACHIEVER_REQUIRE_ALL") or os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url}")
    return url


def test_login_limit_is_shared_through_redis(make_app):
    url = _redis_url()
    # Two instances of the app (in one process they also share Flask-Limiter's object, so
    # the proof that the limit holds across machines is that its counters are in Redis).
    apps = [make_app(LOGIN_LIMIT="3/minute", RATELIMIT_STORAGE_URI=url) for _ in range(2)]
    # Redis outlives the test: a login and an address of its own keep earlier runs out of it.
    run = uuid.uuid4()
    address = f"127.{run.bytes[0]}.{run.bytes[1]}.{run.bytes[2]}"
    codes = _login_attempts([a.test_client() for a in apps], 5, f"nobody-{run.hex}", address)
    assert codes == [401, 401, 401, 429, 429]
    # The counters live in Redis, where every instance behind a balancer sees them.
    import redis

    keys = redis.Redis.from_url(url).keys(f"*nobody-{run.hex}*")
    assert keys, "the per-account counter is not in Redis"
