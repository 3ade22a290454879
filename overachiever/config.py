"""Configuration classes, read from the environment."""

from __future__ import annotations

import os
from typing import Any


def _int_env(name: str, default: int) -> int:
    """Read an integer environment variable, failing loudly on junk."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def _rate_limit_env(name: str, raw: str) -> str:
    """Check a rate limit such as '10/minute': Flask-Limiter would skip a bad one silently."""
    from limits import parse_many

    try:
        parse_many(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a rate limit like '10/minute', got {raw!r}") from exc
    return raw


# Engine options of every process: no pooled connection is older than the idle timeouts of
# common firewalls and poolers. A connection the server closed (restart, failover, idle timeout)
# is replaced before a request gets it by db.configure_engine's checkout hook, which needs no
# round trip, unlike pool_pre_ping's SELECT 1 on every checkout.
POOL_HEALTH: dict[str, Any] = {"pool_recycle": 1800}


def pool_options(threads: int) -> dict[str, Any]:
    """Engine options of a server process that handles `threads` requests at once.

    A request holds one connection, so `threads` connections never keep one waiting; the
    overflow is headroom, closed again when idle. A deployment opens at most
    instances x workers x (pool_size + max_overflow) connections (deploy/README.md).
    """
    return {
        **POOL_HEALTH,
        "pool_size": max(_int_env("OVERACHIEVER_DB_POOL_SIZE", threads), 1),
        "max_overflow": max(_int_env("OVERACHIEVER_DB_MAX_OVERFLOW", 2), 0),
    }


class Config:
    """Production defaults; every setting can be overridden from the environment."""

    # A None database URL means "an SQLite file in the instance folder" (filled in by create_app).
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = POOL_HEALTH

    MAX_CONTENT_LENGTH = 1024 * 1024
    SIGNUP = "open"
    LOGIN_LIMIT = "10/minute"
    SIGNUP_LIMIT = "10/hour"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "overachiever"
    # While Redis is unreachable, each process counts in its own memory instead of failing
    # every sign-in with a 500; the shared counters are used again once Redis answers.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    LOG_LEVEL = "INFO"

    # How long a trashed subtree is kept before it is purged for good.
    TRASH_RETENTION_DAYS = 30
    # last_used_at of a token is refreshed at most this often, so reads stay read-only.
    TOKEN_TOUCH_SECONDS = 60
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXIES = 0

    # SQLite: how long a writer waits for the write lock before giving up (milliseconds).
    SQLITE_BUSY_TIMEOUT_MS = 30_000

    # APIFlask / OpenAPI.
    OPENAPI_VERSION = "3.1.0"
    SPEC_FORMAT = "json"
    AUTO_404_RESPONSE = False
    AUTO_SERVERS = False
    AUTO_OPERATION_ID = True
    JSON_SORT_KEYS = False

    @classmethod
    def from_env(cls) -> dict[str, Any]:
        """Return the settings found in the environment (section 8 of the design)."""
        env: dict[str, Any] = {}
        if url := os.environ.get("DATABASE_URL"):
            env["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(url)
        if redis := os.environ.get("REDIS_URL"):
            env["RATELIMIT_STORAGE_URI"] = redis
        if prefix := os.environ.get("OVERACHIEVER_RATELIMIT_PREFIX"):
            # Separates deployments (or test runs) that share one Redis.
            env["RATELIMIT_KEY_PREFIX"] = prefix
        if signup := os.environ.get("OVERACHIEVER_SIGNUP"):
            if signup not in ("open", "closed"):
                raise RuntimeError("OVERACHIEVER_SIGNUP must be 'open' or 'closed'")
            env["SIGNUP"] = signup
        if "OVERACHIEVER_MAX_BODY" in os.environ:
            env["MAX_CONTENT_LENGTH"] = _int_env("OVERACHIEVER_MAX_BODY", cls.MAX_CONTENT_LENGTH)
        if limit := os.environ.get("OVERACHIEVER_LOGIN_LIMIT"):
            env["LOGIN_LIMIT"] = _rate_limit_env("OVERACHIEVER_LOGIN_LIMIT", limit)
        if limit := os.environ.get("OVERACHIEVER_SIGNUP_LIMIT"):
            env["SIGNUP_LIMIT"] = _rate_limit_env("OVERACHIEVER_SIGNUP_LIMIT", limit)
        if level := os.environ.get("LOG_LEVEL"):
            env["LOG_LEVEL"] = level.upper()
        if "OVERACHIEVER_TRUSTED_PROXIES" in os.environ:
            env["TRUSTED_PROXIES"] = _int_env("OVERACHIEVER_TRUSTED_PROXIES", 0)
        if "OVERACHIEVER_TRASH_DAYS" in os.environ:
            env["TRASH_RETENTION_DAYS"] = _int_env("OVERACHIEVER_TRASH_DAYS", 30)
        return env


class TestConfig(Config):
    """Settings for the test suite: a throw-away database and generous limits."""

    TESTING = True
    LOGIN_LIMIT = "1000/minute"
    SIGNUP_LIMIT = "1000/minute"


def _normalise_database_url(url: str) -> str:
    """Point plain postgres:// URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
