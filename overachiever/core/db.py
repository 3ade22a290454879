"""The database: the SQLAlchemy extension, per-connection settings, and read/write transactions.

Infrastructure only: no domain table is known here. A service that must serialise the changes
of one owner's tree passes a lock (see users.locks) to write_transaction.
"""

from __future__ import annotations

import contextvars
import select as select_module
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql import Executable

from . import writer_queue
from .search import register_sqlite_functions

# Deterministic constraint names, so migrations can address every constraint on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# expire_on_commit=False: objects stay readable after a service commits, without a reload query.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

# Locks what a write transaction changes, given the transaction's session (e.g. an owner's row).
Lock = Callable[[Session], None]

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
            register_sqlite_functions(dbapi_conn)

        writer_queue.install(engine)

    elif engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _on_connect_postgresql(dbapi_conn: Any, _record: Any) -> None:
            # No JIT compilation: the planner guesses a recursive walk at ten times its seed
            # rows per level, so a list page's roll-ups (500 seeds) looked a million rows big
            # and spent 0.7 s compiling code for a query that runs in 10 ms. Every statement
            # here is an index-driven look-up or walk, which JIT does not speed up.
            with dbapi_conn.cursor() as cursor:
                cursor.execute("SET jit = off")
            dbapi_conn.commit()

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


@contextmanager
def snapshot_connection(engine: Engine) -> Iterator[Connection]:
    """A connection of its own, reading one snapshot, for an answer written as it is read.

    A streamed answer is written after the request has ended, and with it the request's
    session; this connection lasts until the block ends (the answer is written or dropped).
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # Several statements, one snapshot; PostgreSQL's server-side cursors need the
            # transaction too.
            conn.execution_options(isolation_level="REPEATABLE READ")
        with transaction_mode("read"):
            conn.begin()
        yield conn


@contextmanager
def write_transaction(
    *,
    lock: Lock | None = None,
    serialise_all: bool = False,
    single_statement: bool = False,
    durable: bool = True,
) -> Iterator[Session]:
    """Run a service's writes in one transaction, committed on success, rolled back on error.

    lock(session) takes what serialises this change with others of its kind (for a change of
    one owner's goals, the owner's row: users.locks.owner_transaction); serialise_all
    serialises the whole operation across the database (e.g. first-user sign-up).
    single_statement: the block writes with one statement, which checks itself that what it
    writes under still exists. SQLite, whose writers are all serialised anyway, then runs it as
    a transaction of its own: no BEGIN IMMEDIATE, no lock, no COMMIT, and the write
    lock held only while the statement runs and commits.
    durable=False: the commit returns before it reaches the disk (PostgreSQL; SQLite with
    single_statement). Only for bookkeeping whose loss in a power cut is harmless, or which
    the next durable commit carries to disk with it, as the log is written in order.
    """
    session: Session = db.session()  # the request's session behind the scoped proxy
    engine = session.get_bind()
    dialect = engine.dialect.name
    undo: Callable[[], None] | None = None
    with writer_queue.writer_turn(engine):
        try:
            # A request reading in a transaction takes the usual way, which ends that read first.
            alone = single_statement and dialect == "sqlite" and not _in_transaction(session)
            if not alone:
                _begin(session, "write")
                if dialect == "postgresql" and serialise_all:
                    session.execute(text("SELECT pg_advisory_xact_lock(7263)"))
                if lock is not None:
                    lock(session)
            if not durable:
                undo = _commit_lazily(session, alone)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            if undo is not None:
                undo()


def _commit_lazily(session: Session, alone: bool) -> Callable[[], None] | None:
    """Let this transaction commit without waiting for the disk; returns what restores that."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL synchronous_commit = off"))  # for this transaction only
    elif conn.dialect.name == "sqlite" and alone:
        raw: Any = conn.connection.driver_connection
        raw.execute("PRAGMA synchronous = NORMAL")
        return lambda: raw.execute("PRAGMA synchronous = FULL")  # as configure_engine sets it
    return None


def write_if_free(statement: Executable, params: Mapping[str, Any]) -> bool:
    """Run one writing statement as a transaction of its own, unless it would wait for a lock.

    For bookkeeping a read does in passing (a token's last use): a read must never wait for a
    writer. On SQLite the statement runs only if no writer of this service has its turn (the
    writers' queue), with a busy timeout of 0 for any other; on PostgreSQL it must skip rows
    that others hold itself (FOR UPDATE SKIP LOCKED). Returns whether it ran; skipped inside a
    database transaction, whose snapshot a write would end.
    """
    session: Session = db.session()
    conn = session.connection()
    if _in_database_transaction(conn):
        return False
    if conn.dialect.name != "sqlite":
        conn.execute(statement, params)
        return True
    raw: Any = conn.connection.driver_connection
    with writer_queue.writer_turn_if_free(session.get_bind()) as free:
        if not free:
            return False
        busy_timeout = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute(statement, params)
        except OperationalError as exc:
            # SQLITE_BUSY: another process holds the write lock; nothing was written.
            if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                raise
            return False
        finally:
            raw.execute(f"PRAGMA busy_timeout = {busy_timeout}")
    return True
