"""Database plumbing: column types, SQLite settings, and the write transaction."""

from __future__ import annotations

import contextvars
import fcntl
import logging
import os
import select as select_module
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from functools import cache
from typing import IO, Any

from sqlalchemy import BigInteger, DateTime, Integer, bindparam, event, select, text
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.exc import DisconnectionError
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


class WriterQueue:
    """The line SQLite's writers wait in, so that each starts the moment the one before commits.

    SQLite lets one writer at a time hold a database's write lock and makes the others poll
    for it, sleeping 1, 2, 5, 10 ms and more between tries (busy_timeout): under concurrent
    writes, most of a write's time went on sleeping while nobody held the lock.
    Here a writer first takes an exclusive flock on a file beside the database; the kernel wakes
    the next writer as soon as it is released, after the commit.

    It only orders this service's own writers: SQLite's lock still decides, and any other
    process writing to the database is waited for under busy_timeout as before. A holder keeps
    its place only for one transaction, which ends in a commit or an error, so the line moves.
    flock excludes open files, not processes: each thread of each process opens its own.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        # Every thread's file, closed together when the queue goes (with its engine).
        self._files: list[IO[bytes]] = []
        weakref.finalize(self, _close_all, self._files)

    def _file(self) -> IO[bytes] | None:
        """This thread's open lock file (reopened after a fork), or None if it cannot be made."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.pid, local.depth = os.getpid(), 0
            try:
                local.file = open(self.path, "ab")  # noqa: SIM115  (closed by _close_all)
                self._files.append(local.file)
            except OSError as exc:
                # A read-only folder, say: writers then wait under busy_timeout alone.
                logging.getLogger(__name__).warning("no writer queue at %s: %s", self.path, exc)
                local.file = None
        file: IO[bytes] | None = local.file
        return file

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn, and hold it for the block (a nested block keeps it)."""
        file = self._file()
        if file is None or self._local.depth:
            yield
            return
        fcntl.flock(file, fcntl.LOCK_EX)
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            fcntl.flock(file, fcntl.LOCK_UN)


def _close_all(files: list[IO[bytes]]) -> None:
    for file in files:
        file.close()


# The writer queue of each SQLite engine whose database is a file (configure_engine).
_writer_queues: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


def _writer_turn(bind: Engine | Connection) -> AbstractContextManager[None]:
    queue = _writer_queues.get(bind) if isinstance(bind, Engine) else None
    return queue.turn() if queue is not None else nullcontext()


def _database_file(url: URL) -> str | None:
    """The path of an SQLite URL's database file; None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    # A relative path is from the working directory, as SQLite takes it.
    return os.path.abspath(database)


# What the next transaction SQLAlchemy begins is, in the database: None, statement by statement
# (each statement its own transaction, as PostgreSQL's READ COMMITTED sees it anyway); "read", a
# transaction that reads one snapshot; "write", one that takes the write lock up front.
_mode: contextvars.ContextVar[str | None] = contextvars.ContextVar("tx_mode", default=None)


@contextmanager
def transaction_mode(mode: str) -> Iterator[None]:
    """Make the transactions begun inside this block real ones of that mode ("read", "write")."""
    token = _mode.set(mode)
    try:
        yield
    finally:
        _mode.reset(token)


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Install per-connection settings and the begin hook (see _mode).

    Requests mostly read one row or two: run outside a transaction, a read costs no BEGIN and
    no ROLLBACK (two round trips on PostgreSQL). Writes and multi-statement reads ask for a
    real transaction (write_transaction, read_transaction).
    """
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let the begin hook below issue BEGIN, instead of pysqlite's implicit one.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        path = _database_file(engine.url)
        if path is not None:
            _writer_queues[engine] = WriterQueue(path + "-writers")

    elif engine.dialect.name == "postgresql":

        @event.listens_for(engine, "checkout")
        def _on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
            # The pool's health check without a round trip: an idle connection has nothing to
            # read unless the server closed it (restart, failover, idle timeout) or broke it.
            if dbapi_conn.closed or select_module.select([dbapi_conn.fileno()], [], [], 0)[0]:
                raise DisconnectionError("the server closed this pooled connection")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        _begin_in_database(conn, _mode.get())


def _begin_in_database(conn: Any, mode: str | None) -> None:
    """Start (or not, for None) the database's transaction on a connection SQLAlchemy began."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        # A writer takes the write lock up front, waiting for it under busy_timeout, so it can
        # never fail later when upgrading a read snapshot that another writer made stale.
        if mode is not None:
            raw.execute("BEGIN IMMEDIATE" if mode == "write" else "BEGIN")
    elif conn.dialect.name == "postgresql":
        # psycopg sends BEGIN with the first statement unless in autocommit; the connection is
        # idle here, so switching costs no round trip.
        raw.autocommit = mode is None


def _in_database_transaction(conn: Any) -> bool:
    """Whether the connection has a database transaction open (not just SQLAlchemy's)."""
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        return bool(raw.in_transaction)
    if conn.dialect.name == "postgresql":
        return not raw.autocommit
    return True


def _begin(session: Session, mode: str) -> None:
    """Give the session a database transaction of this mode, from its next statement on."""
    if session.in_transaction():
        conn = session.connection()
        if not _in_database_transaction(conn):
            # Statement by statement so far (authentication): this transaction becomes real.
            _begin_in_database(conn, mode)
            return
        if mode == "read":
            return  # already reading in a transaction
        # End the read transaction the request began, so the write starts on a fresh snapshot
        # with the write lock.
        session.commit()
    with transaction_mode(mode):
        session.connection()


def _in_transaction(session: Session) -> bool:
    """Whether the session's connection has a database transaction open."""
    return session.in_transaction() and _in_database_transaction(session.connection())


def read_transaction() -> None:
    """Read the rest of this request in one transaction (one snapshot on SQLite).

    For reads of several statements, and for streaming (PostgreSQL's server-side cursors need a
    transaction); it ends with the request.
    """
    _begin(db.session(), "read")


@cache
def _owner_statements() -> tuple[Any, Any]:
    """The owner look-up, plain and locking, built once (the models import this module)."""
    from .users.models import User

    users = User.__table__
    plain = select(users.c.id).where(users.c.id == bindparam("owner_id"))
    return plain, plain.with_for_update()


def _lock_owner(session: Session, owner_id: int, row_lock: bool) -> None:
    """Lock the owner's row (PostgreSQL; SQLite's write lock is already held); 404 if gone.

    The request authenticated a moment ago, but the account may have been deleted since: its
    writes must then fail as not found, not on the foreign key of a goal.
    """
    from .errors import NotFound

    plain, locked = _owner_statements()
    stmt = locked if row_lock else plain
    if session.connection().execute(stmt, {"owner_id": owner_id}).first() is None:
        raise NotFound(f"user {owner_id} not found")


@contextmanager
def write_transaction(
    owner_id: int | None = None, *, serialise_all: bool = False, single_statement: bool = False
) -> Iterator[Session]:
    """Run a service's writes in one transaction, committed on success, rolled back on error.

    owner_id serialises structural changes to one owner's goals (their user row is locked);
    serialise_all serialises the whole operation across the database (e.g. first-user sign-up).
    single_statement: the block writes with one statement, which checks itself that what it
    writes under still exists. SQLite, whose writers are all serialised anyway, then runs it as
    a transaction of its own: no BEGIN IMMEDIATE, no owner look-up, no COMMIT, and the write
    lock held only while the statement runs and commits.
    """
    session: Session = db.session()  # the request's session behind the scoped proxy
    engine = session.get_bind()
    dialect = engine.dialect.name
    with _writer_turn(engine):
        try:
            # A request reading in a transaction takes the usual way, which ends that read first.
            alone = single_statement and dialect == "sqlite" and not _in_transaction(session)
            if not alone:
                _begin(session, "write")
                if dialect == "postgresql" and serialise_all:
                    session.execute(text("SELECT pg_advisory_xact_lock(7263)"))
                if owner_id is not None:
                    _lock_owner(session, owner_id, dialect == "postgresql")
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
