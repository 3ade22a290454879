"""Configuration: the environment's settings (checked at start) and the Flask defaults."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic_core import PydanticCustomError, PydanticUseDefault
from pydantic_settings import BaseSettings, SettingsConfigDict

from .core.passwords import PRODUCTION_COST, HashCost


class SettingsError(RuntimeError):
    """An environment variable holds a value the service cannot run with."""


def _empty_is_unset(raw: Any) -> Any:
    """An empty variable counts as unset: the setting keeps its default."""
    if raw == "":
        raise PydanticUseDefault()
    return raw


def _integer(raw: Any) -> Any:
    """Python's own int() on the variable's text, so exactly the same spellings are accepted;
    a blank one counts as unset."""
    if isinstance(raw, str):
        if not raw.strip():
            raise PydanticUseDefault()
        try:
            return int(raw)
        except ValueError:
            raise PydanticCustomError("integer", "must be an integer") from None
    return raw


def _signup(raw: Any) -> Any:
    if raw not in ("open", "closed"):
        raise PydanticCustomError("signup", "must be 'open' or 'closed'")
    return raw


def _rate_limit(raw: str) -> str:
    """Check a rate limit such as '10/minute': Flask-Limiter would skip a bad one silently."""
    from limits import parse_many

    try:
        parse_many(raw)
    except ValueError:
        raise PydanticCustomError("rate_limit", "must be a rate limit like '10/minute'") from None
    return raw


def _log_level(raw: Any) -> Any:
    """Upper-cased; one of the names Python's logging knows."""
    level = str(raw).upper()
    if level not in logging.getLevelNamesMapping():
        raise PydanticCustomError("log_level", "must be a logging level such as INFO or DEBUG")
    return level


def _normalise_database_url(url: str) -> str:
    """Point plain postgres:// URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# The kinds of values read from the environment. An empty variable counts as unset for all of
# them (a blank one too for integers); only FORWARDED_ALLOW_IPS, a plain str, keeps "".
def _seconds(raw: Any) -> Any:
    """A number of seconds above 0 and at most an hour; a blank one counts as unset."""
    if isinstance(raw, str) and not raw.strip():
        raise PydanticUseDefault()
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 3600:
        raise PydanticCustomError("seconds", "must be a number of seconds (at most 3600)")
    return value


Text = Annotated[str, BeforeValidator(_empty_is_unset)]
Integer = Annotated[int, BeforeValidator(_integer)]
DatabaseUrl = Annotated[
    str, AfterValidator(_normalise_database_url), BeforeValidator(_empty_is_unset)
]
Signup = Annotated[str, BeforeValidator(_signup), BeforeValidator(_empty_is_unset)]
RateLimit = Annotated[str, AfterValidator(_rate_limit), BeforeValidator(_empty_is_unset)]
LogLevel = Annotated[str, BeforeValidator(_log_level), BeforeValidator(_empty_is_unset)]
Seconds = Annotated[float, BeforeValidator(_seconds)]


def _count(value: int) -> int:
    if value < 0:
        raise PydanticCustomError("count", "must be 0 (no limit) or more")
    return value


Count = Annotated[int, AfterValidator(_count), BeforeValidator(_integer)]


class Settings(BaseSettings):
    """The environment variables a process reads (the README's table of settings).

    Each field is read from the variable named by its alias, spelled exactly so; the defaults
    here are the production defaults. `from_env()` reads them and stops the start with one
    clear message when any is junk. (PORT is read by `overachiever serve`'s --port option.)
    """

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    database_url: DatabaseUrl | None = Field(None, alias="DATABASE_URL")
    redis_url: Text = Field("memory://", alias="REDIS_URL")
    # Separates deployments (or test runs) that share one Redis.
    ratelimit_prefix: Text = Field("overachiever", alias="OVERACHIEVER_RATELIMIT_PREFIX")
    signup: Signup = Field("open", alias="OVERACHIEVER_SIGNUP")
    max_body: Integer = Field(1024 * 1024, alias="OVERACHIEVER_MAX_BODY")
    login_limit: RateLimit = Field("10/minute", alias="OVERACHIEVER_LOGIN_LIMIT")
    # Sign-ups per client address (each costs an argon2 hash).
    signup_limit: RateLimit = Field("10/hour", alias="OVERACHIEVER_SIGNUP_LIMIT")
    # Imports per account (each may hold tens of thousands of goals, written under the lock).
    import_limit: RateLimit = Field("10/minute", alias="OVERACHIEVER_IMPORT_LIMIT")
    # Shares made or changed per account and per client address: each answers whether a name
    # or e-mail address has an account, so it is limited like sign-in.
    share_limit: RateLimit = Field("30/minute", alias="OVERACHIEVER_SHARE_LIMIT")
    # Calendar feed fetches per client address: a feed URL needs no credentials, and each
    # fetch reads the owner's whole forest.
    feed_limit: RateLimit = Field("60/minute", alias="OVERACHIEVER_FEED_LIMIT")
    # Goals per account, trash included; 0 for no limit.
    max_goals: Count = Field(100_000, alias="OVERACHIEVER_MAX_GOALS")
    log_level: LogLevel = Field("INFO", alias="LOG_LEVEL")
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    trusted_proxies: Integer = Field(0, alias="OVERACHIEVER_TRUSTED_PROXIES")
    # How long a trashed subtree is kept before it is purged for good.
    trash_days: Integer = Field(30, alias="OVERACHIEVER_TRASH_DAYS")

    # Not Flask settings: the instance folder (Flask's default when unset), the connection pool
    # of a server process (pool_options), and the proxies gunicorn takes X-Forwarded-Proto from
    # (an empty value is kept: it trusts none).
    instance_path: Annotated[Path, BeforeValidator(_empty_is_unset)] | None = Field(
        None, alias="OVERACHIEVER_INSTANCE_PATH"
    )
    db_pool_size: Integer | None = Field(None, alias="OVERACHIEVER_DB_POOL_SIZE")
    db_max_overflow: Integer = Field(2, alias="OVERACHIEVER_DB_MAX_OVERFLOW")
    forwarded_allow_ips: str = Field("127.0.0.1", alias="FORWARDED_ALLOW_IPS")
    # How long a client of `serve` may take to send a request head, or pause within a body.
    client_timeout: Seconds = Field(10.0, alias="OVERACHIEVER_CLIENT_TIMEOUT")

    # The Flask setting each field fills.
    FLASK_KEYS: ClassVar[dict[str, str]] = {
        "database_url": "SQLALCHEMY_DATABASE_URI",
        "redis_url": "RATELIMIT_STORAGE_URI",
        "ratelimit_prefix": "RATELIMIT_KEY_PREFIX",
        "signup": "SIGNUP",
        "max_body": "MAX_CONTENT_LENGTH",
        "login_limit": "LOGIN_LIMIT",
        "signup_limit": "SIGNUP_LIMIT",
        "import_limit": "IMPORT_LIMIT",
        "share_limit": "SHARE_LIMIT",
        "feed_limit": "FEED_LIMIT",
        "max_goals": "MAX_GOALS",
        "log_level": "LOG_LEVEL",
        "trusted_proxies": "TRUSTED_PROXIES",
        "trash_days": "TRASH_RETENTION_DAYS",
    }

    @classmethod
    def from_env(cls) -> Settings:
        """Read the environment; junk in any variable raises SettingsError naming it."""
        try:
            return cls()
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                name = ".".join(map(str, error["loc"]))
                # Our own checks say "must ..."; pydantic's say "Input should ...".
                sep = " " if error["msg"].startswith("must ") else ": "
                problems.append(f"{name}{sep}{error['msg']}, got {error['input']!r}")
            raise SettingsError("; ".join(problems)) from None

    @classmethod
    def defaults(cls) -> Settings:
        """The settings of an empty environment."""
        return cls.model_construct()

    def flask_config(self, *, only_set: bool = False) -> dict[str, Any]:
        """The Flask settings (app.config keys); only_set: those the environment gave."""
        return {
            key: getattr(self, field)
            for field, key in self.FLASK_KEYS.items()
            if not only_set or field in self.model_fields_set
        }


# Engine options of every process: no pooled connection is older than the idle timeouts of
# common firewalls and poolers. A connection the server closed (restart, failover, idle timeout)
# is replaced before a request gets it by db.configure_engine's checkout hook, which needs no
# round trip, unlike pool_pre_ping's SELECT 1 on every checkout.
POOL_HEALTH: dict[str, Any] = {"pool_recycle": 1800}


def pool_options(threads: int, settings: Settings | None = None) -> dict[str, Any]:
    """Engine options of a server process that handles `threads` requests at once.

    A request holds one connection, so `threads` connections never keep one waiting; the
    overflow is headroom, closed again when idle. A deployment opens at most
    instances x workers x (pool_size + max_overflow) connections (deploy/README.md).
    """
    settings = settings or Settings.from_env()
    size = threads if settings.db_pool_size is None else settings.db_pool_size
    return {
        **POOL_HEALTH,
        "pool_size": max(size, 1),
        "max_overflow": max(settings.db_max_overflow, 0),
    }


class Config:
    """Flask settings that no environment variable changes (Settings has those)."""

    # A None database URL means "an SQLite file in the instance folder" (filled in by create_app).
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = POOL_HEALTH

    RATELIMIT_HEADERS_ENABLED = True
    # While Redis is unreachable, each process counts in its own memory instead of failing
    # every sign-in with a 500; the shared counters are used again once Redis answers.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True

    # last_used_at of a token is refreshed at most this often, so reads stay read-only.
    TOKEN_TOUCH_SECONDS = 60

    # SQLite: how long a writer waits for the write lock before giving up (milliseconds).
    SQLITE_BUSY_TIMEOUT_MS = 30_000

    # The cost of argon2id password hashes (core/passwords.py): OWASP's recommendation.
    PASSWORD_HASH_COST: HashCost = PRODUCTION_COST

    # APIFlask / OpenAPI.
    OPENAPI_VERSION = "3.1.0"
    SPEC_FORMAT = "json"
    AUTO_404_RESPONSE = False
    AUTO_SERVERS = False
    AUTO_OPERATION_ID = True
    JSON_SORT_KEYS = False

    @classmethod
    def from_env(cls) -> dict[str, Any]:
        """The Flask settings the environment gives (SettingsError on a junk value)."""
        return Settings.from_env().flask_config(only_set=True)


class TestConfig(Config):
    """Settings for the test suite: a throw-away database, generous limits, cheap hashes."""

    TESTING = True
    LOGIN_LIMIT = "1000/minute"
    SIGNUP_LIMIT = "1000/minute"
    IMPORT_LIMIT = "10000/minute"
    SHARE_LIMIT = "10000/minute"
    FEED_LIMIT = "10000/minute"
    MAX_GOALS = 0
    # The least argon2id allows: the suite hashes thousands of passwords. The tests of the
    # production parameters build their apps with Config.PASSWORD_HASH_COST.
    PASSWORD_HASH_COST = HashCost(time_cost=1, memory_cost=8, parallelism=1)
