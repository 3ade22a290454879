"""The application factory: configuration from the environment, database settings, hooks."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from overachiever import create_app
from overachiever.config import Config, TestConfig
from overachiever.extensions import db
from tests.conftest import PASSWORD, basic

ENV_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "OVERACHIEVER_SIGNUP",
    "OVERACHIEVER_MAX_BODY",
    "OVERACHIEVER_LOGIN_LIMIT",
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


def _test_settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'app.db'}"
    settings.update(overrides)
    return settings


def _fresh(app: Any) -> Any:
    with app.app_context():
        db.create_all()
    return app


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERACHIEVER_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app()
    assert app.instance_path == str(tmp_path / "inst")
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == f"sqlite:///{tmp_path / 'inst' / 'overachiever.db'}"
    )
    assert (tmp_path / "inst").is_dir()


def test_sqlite_connections_are_durable_and_checked(tmp_path):
    app = create_app(_test_settings(tmp_path))
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
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("OVERACHIEVER_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("OVERACHIEVER_TRASH_DAYS", "7")
    assert Config.from_env() == {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/3",
        "SIGNUP": "closed",
        "MAX_CONTENT_LENGTH": 2048,
        "LOGIN_LIMIT": "5/second",
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
        ("OVERACHIEVER_TRUSTED_PROXIES", "yes"),
    ],
)
def test_bad_settings_stop_the_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        Config.from_env()


def test_max_body_from_the_environment_gives_413(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERACHIEVER_MAX_BODY", "200")
    settings = _test_settings(tmp_path)
    del settings["MAX_CONTENT_LENGTH"]  # let the environment decide
    client = _fresh(create_app(settings)).test_client()
    resp = client.post(
        "/api/v2/users",
        json={"name": "x" * 60, "email": "x@example.com", "password": "p" * 200},
    )
    assert resp.status_code == 413
    assert resp.mimetype == "application/problem+json"


def test_unexpected_error_is_a_500_problem_with_a_request_id_and_no_trace(tmp_path, caplog):
    app = _fresh(create_app(_test_settings(tmp_path, PROPAGATE_UNEXPECTED=False)))

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


def _login_attempts(clients: list[Any], n: int, **environ: str) -> list[int]:
    codes = []
    for i in range(n):
        client = clients[i % len(clients)]
        resp = client.post(
            "/api/v2/tokens", headers=basic("nobody", PASSWORD), environ_base=environ
        )
        codes.append(resp.status_code)
    return codes


def test_forwarded_address_counts_only_behind_a_trusted_proxy(tmp_path):
    for proxies, expected in ((0, [401, 401, 429]), (1, [401, 401, 401])):
        app = _fresh(
            create_app(
                _test_settings(
                    tmp_path / str(proxies),
                    LOGIN_LIMIT="2/minute",
                    TRUSTED_PROXIES=proxies,
                )
            )
        )
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
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url}")
    return url


def test_login_limit_is_shared_through_redis(tmp_path):
    url = _redis_url()
    prefix = f"oa-test-{uuid.uuid4().hex}"
    apps = [
        _fresh(
            create_app(
                _test_settings(
                    tmp_path / name,
                    LOGIN_LIMIT="3/minute",
                    RATELIMIT_STORAGE_URI=url,
                    RATELIMIT_KEY_PREFIX=prefix,
                )
            )
        )
        for name in ("one", "two")
    ]
    codes = _login_attempts([a.test_client() for a in apps], 5)
    # Alternating instances: the limit of 3 holds across both, as it would behind a balancer.
    assert codes == [401, 401, 401, 429, 429]
