"""Database plumbing: column types, SQLite settings, and the write transaction."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, event, select, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from .extensions import db

# The largest id either database can store (signed 64-bit).
MAX_ID = 2**63 - 1

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; naive values are taken to be UTC already."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        # SQLite has no time zones: store naive UTC so text comparisons order correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC, at microsecond precision."""
    return datetime.now(UTC)


# Set while a service runs a write transaction: SQLite then starts it with BEGIN IMMEDIATE.
_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("immediate", default=False)


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Install per-connection settings: WAL, foreign keys, busy timeout, durable commits."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN, instead of pysqlite's implicit one.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock up front, waiting for it under busy_timeout, so it can
        # never fail later when upgrading a read snapshot that another writer made stale.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def _lock_owner(session: Session, owner_id: int, row_lock: bool) -> None:
    """Lock the owner's row (PostgreSQL; SQLite's write lock is already held); 404 if gone.

    The request authenticated a moment ago, but the account may have been deleted since: its
    writes must then fail as not found, not on the foreign key of a goal.
    """
    from .errors import NotFound
    from .users.models import User

    stmt = select(User.id).where(User.id == owner_id)
    if session.execute(stmt.with_for_update() if row_lock else stmt).first() is None:
        raise NotFound(f"user {owner_id} not found")


@contextmanager
def write_transaction(
    owner_id: int | None = None, *, serialise_all: bool = False
) -> Iterator[Session]:
    """Run a service's writes in one transaction, committed on success, rolled back on error.

    owner_id serialises structural changes to one owner's goals (their user row is locked);
    serialise_all serialises the whole operation across the database (e.g. first-user sign-up).
    """
    session: Session = db.session()  # the request's session behind the scoped proxy
    if session.in_transaction():
        # End the read-only transaction the request may have started (authentication), so the
        # write starts on a fresh snapshot with the write lock.
        session.commit()
    token = _immediate.set(True)
    try:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            if serialise_all:
                session.execute(text("SELECT pg_advisory_xact_lock(7263)"))
        elif dialect == "sqlite":
            # BEGIN IMMEDIATE already holds SQLite's single write lock; start the transaction now.
            session.connection()
        if owner_id is not None:
            _lock_owner(session, owner_id, dialect == "postgresql")
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _immediate.reset(token)
