"""Writes of bookkeeping: a read never waits for a writer, nor a claim for the disk.

Recording a token's use is skipped while the write lock is taken; an Idempotency-Key claim
commits without waiting for the disk.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from overachiever.core.db import db, write_transaction
from overachiever.tokens.models import Token
from overachiever.users.locks import owner_transaction
from tests.support.accounts import Account, sign_up

# How long a read may take before the test calls it stuck (it answers in milliseconds).
PATIENCE = 5.0


def _dialect(app: Any) -> str:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


@contextmanager
def _writer_of_this_service(app: Any, account: Account) -> Iterator[None]:
    """Another request's write transaction, holding the owner's lock (and SQLite's write lock)."""
    holding, release = threading.Event(), threading.Event()

    def write() -> None:
        with app.app_context(), owner_transaction(account.id) as session:
            session.execute(text("UPDATE users SET name = name WHERE id = :id"), {"id": account.id})
            holding.set()
            release.wait(30)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        release.set()
        writer.join(30)


@contextmanager
def _sqlite_writer_of_another_process(app: Any, account: Account) -> Iterator[None]:
    """A write transaction of another program on the same SQLite file (outside the queue)."""
    path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


@contextmanager
def _postgresql_transaction_holding_the_token(app: Any, account: Account) -> Iterator[None]:
    """Another transaction holding the token's row (a concurrent use of it, say)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    import psycopg

    with psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, dbname=url.database
    ) as conn:
        conn.execute("SELECT id FROM tokens WHERE user_id = %s FOR UPDATE", (account.id,))
        yield
        conn.rollback()


# name: (the database it applies to, or None for both; what holds the lock)
HOLDERS: dict[str, tuple[str | None, Callable[[Any, Account], Any]]] = {
    "a writer of this service": (None, _writer_of_this_service),
    "an SQLite writer of another process": ("sqlite", _sqlite_writer_of_another_process),
    "a PostgreSQL transaction on the token": (
        "postgresql",
        _postgresql_transaction_holding_the_token,
    ),
}


def _last_used(app: Any, account: Account) -> datetime | None:
    with app.app_context():
        stmt = select(Token.last_used_at).where(Token.user_id == account.id)
        used: datetime | None = db.session.execute(stmt).scalar_one()
        db.session.remove()
        return used


@pytest.mark.parametrize("holder", list(HOLDERS))
def test_a_read_answers_while_a_writer_holds_the_lock_and_records_the_use_later(
    app, client, holder
):
    database, hold = HOLDERS[holder]
    if database is not None and _dialect(app) != database:
        pytest.skip(f"{database} only")
    # Every request would record its token's use: the case where a read must write.
    app.config["TOKEN_TOUCH_SECONDS"] = 0
    account = sign_up(client, "reader")
    goal = client.post("/api/v2/goals", json={"name": "read me"}, headers=account.headers)
    url = f"/api/v2/goals/{goal.get_json()['id']}"
    recorded = _last_used(app, account)
    assert recorded is not None

    answers: list[Any] = []
    with hold(app, account):
        reader = threading.Thread(
            target=lambda: answers.append(client.get(url, headers=account.headers))
        )
        reader.start()
        reader.join(PATIENCE)
        # Answered while the lock is still held: the read did not wait for it.
        assert answers, f"the read waited for {holder}"
        assert answers[0].status_code == 200
        assert answers[0].get_json()["name"] == "read me"
        # SQLite has one write lock; PostgreSQL locks rows, and only the token's is in the way.
        in_the_way = _dialect(app) == "sqlite" or database == "postgresql"
        if in_the_way:
            assert _last_used(app, account) == recorded  # not recorded: that would have waited
    reader.join(30)

    # With the lock free again, the next request records the use.
    assert client.get(url, headers=account.headers).status_code == 200
    later = _last_used(app, account)
    assert later is not None
    assert later > recorded


def test_a_replay_answers_while_a_writer_holds_the_lock(app, client):
    account, other = sign_up(client, "retrier"), sign_up(client, "writer")
    keyed = {**account.headers, "Idempotency-Key": "once"}
    first = client.post("/api/v2/goals", json={"name": "kept"}, headers=keyed)
    assert first.status_code == 201
    answers: list[Any] = []
    with _writer_of_this_service(app, other):
        repeat = threading.Thread(
            target=lambda: answers.append(
                client.post("/api/v2/goals", json={"name": "kept"}, headers=keyed)
            )
        )
        repeat.start()
        repeat.join(PATIENCE)
        assert answers, "the replay waited for the writer"
        assert answers[0].status_code == 201
        assert answers[0].headers["Idempotent-Replayed"] == "true"
    repeat.join(30)


def _commit_waits_for_the_disk(app: Any) -> bool:
    """Whether the session's connection, right now, commits durably."""
    conn = db.session.connection()
    if _dialect(app) == "sqlite":
        return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one()) == 2  # FULL
    return str(conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()) == "on"


def test_a_lazy_commit_does_not_wait_for_the_disk_and_the_next_one_does(app):
    with app.app_context():
        with write_transaction(single_statement=True, durable=False) as session:
            assert not _commit_waits_for_the_disk(app)
            session.execute(
                text(
                    "INSERT INTO users (name, email, is_admin, created_at) "
                    "VALUES ('lazy', 'lazy@example.com', false, CURRENT_TIMESTAMP)"
                )
            )
        assert _commit_waits_for_the_disk(app)
        with write_transaction(single_statement=True) as session:
            assert _commit_waits_for_the_disk(app)
            account_id = session.execute(text("SELECT id FROM users WHERE name = 'lazy'")).scalar()
        assert account_id is not None
        db.session.remove()
