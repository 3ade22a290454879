"""Benchmark databases: made with the app's own migrations, filled with bulk inserts."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Every generated goal has these timestamps; every third goal is done.
STAMP = datetime(2026, 1, 1, tzinfo=UTC)
SQLITE_STAMP = "2026-01-01 00:00:00.000000"  # SQLAlchemy's text form of STAMP on SQLite
COLUMNS = (
    'id, owner_id, parent_id, name, description, start, "end", due, position, '
    "created_at, updated_at, version"
)


def forest_rows(
    first_id: int, owner_id: int, n: int, fanout: int = 10
) -> Iterator[tuple[Any, ...]]:
    """A breadth-first numbered fanout-ary forest: `fanout` roots, each goal `fanout` children."""
    for i in range(n):
        parent = first_id + i // fanout - 1 if i >= fanout else None
        yield (first_id + i, owner_id, parent, f"goal-{i}", i % 3 == 2, i % fanout)


def chain_rows(first_id: int, owner_id: int, n: int) -> Iterator[tuple[Any, ...]]:
    """n goals, each the only child of the one before."""
    for i in range(n):
        yield (first_id + i, owner_id, first_id + i - 1 if i else None, f"step-{i}", False, 0)


@dataclass
class User:
    """A benchmark account and its bearer token."""

    id: int
    name: str
    token: str
    goal_ids: list[int] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


class Database:
    """One benchmark database, SQLite (a file in `folder`) or PostgreSQL (created and dropped)."""

    def __init__(self, kind: str, folder: Path, postgres_url: str | None = None) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.path = folder / "bench.db"
            self.url = f"sqlite:///{self.path}"
            # Fresh, as the PostgreSQL one is: a file left by an earlier run into the same
            # --out folder would hold its users already.
            for leftover in folder.glob("bench.db*"):
                leftover.unlink()
        else:
            from sqlalchemy.engine import make_url

            assert postgres_url is not None
            base = make_url(postgres_url)
            self.pg_name = f"{base.database}_{os.getpid()}_{folder.name}"
            self.pg_base = base
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            self.url = base.set(database=self.pg_name).render_as_string(hide_password=False)
        self._next_id = 1

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(self._conninfo("postgres"), autocommit=True)

    def _conninfo(self, dbname: str) -> str:
        u = self.pg_base
        parts = [f"host={u.host or '127.0.0.1'}", f"port={u.port or 5432}", f"dbname={dbname}"]
        if u.username:
            parts.append(f"user={u.username}")
        if u.password:
            parts.append(f"password={u.password}")
        return " ".join(parts)

    def connect(self) -> Any:
        """A raw DBAPI connection (sqlite3 or psycopg), as the floors use."""
        if self.kind == "sqlite":
            return sqlite3.connect(self.path)
        import psycopg

        conn = psycopg.connect(self._conninfo(self.pg_name), autocommit=True)
        conn.execute("SET TIME ZONE 'UTC'")
        return conn

    def drop(self) -> None:
        """Remove the database."""
        if self.kind == "postgresql":
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    def migrate_and_add_users(self, names: list[str]) -> dict[str, User]:
        """Apply the app's migrations, then create the users with one token each."""
        from overachiever import create_app
        from overachiever.core.db import db
        from overachiever.migrations import upgrade
        from overachiever.tokens import service as tokens
        from overachiever.users import service as users

        app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "LOG_LEVEL": "WARNING"})
        made: dict[str, User] = {}
        with app.app_context():
            upgrade()
            for name in names:
                user = users.create_user(name, f"{name}@example.com", None, via_cli=True)
                _, secret = tokens.issue(user, "bench")
                made[name] = User(user.id, name, secret)
            db.session.remove()
            db.engine.dispose()
        return made

    def new_tokens(self, user: User, n: int) -> list[str]:
        """n more tokens of a user, never used yet (their first use records it)."""
        from overachiever import create_app
        from overachiever.core.db import db
        from overachiever.tokens import service as tokens
        from overachiever.users.models import User as Account

        app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "LOG_LEVEL": "WARNING"})
        with app.app_context():
            account = db.session.get(Account, user.id)
            assert account is not None
            secrets = [tokens.issue(account, f"fresh-{i}")[1] for i in range(n)]
            db.session.remove()
            db.engine.dispose()
        return secrets

    @property
    def next_id(self) -> int:
        """The id the next goal loaded should have."""
        return self._next_id

    def load(
        self,
        rows: Iterator[tuple[Any, ...]],
        analyze: bool = True,
        times: Callable[[int], tuple[datetime, datetime | None]] | None = None,
    ) -> list[int]:
        """Insert generated goals in one transaction; returns their ids in order.

        Rows are (id, owner, parent, name, done, position), and optionally a description.
        analyze=False leaves PostgreSQL's planner statistics as they were. times: each goal's
        (start, end) from its id (aware UTC), instead of STAMP and `done`.
        """
        ids: list[int] = []
        sqlite = self.kind == "sqlite"

        def stored(value: datetime | None) -> Any:
            if value is None or not sqlite:
                return value
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

        def full() -> Iterator[tuple[Any, ...]]:
            for goal_id, owner, parent, name, done, position, *described in rows:
                ids.append(goal_id)
                stamp = SQLITE_STAMP if sqlite else STAMP
                start, end = stamp, stamp if done else None
                if times is not None:
                    first, last = times(goal_id)
                    start, end = stored(first), stored(last)
                yield (
                    goal_id,
                    owner,
                    parent,
                    name,
                    described[0] if described else "",
                    start,
                    end,
                    None,
                    position,
                    stamp,
                    stamp,
                    1,
                )

        conn = self.connect()
        try:
            if self.kind == "sqlite":
                # The app opens its own connections with synchronous=FULL; loading needs no fsync.
                conn.execute("PRAGMA synchronous = OFF")
                with conn:
                    conn.executemany(
                        f"INSERT INTO goals ({COLUMNS}) VALUES ({', '.join('?' * 12)})",  # noqa: S608
                        full(),
                    )
            else:
                with conn.cursor() as cur, cur.copy(f"COPY goals ({COLUMNS}) FROM STDIN") as copy:
                    for record in full():
                        copy.write_row(record)
                conn.execute(
                    "SELECT setval(pg_get_serial_sequence('goals', 'id'), "
                    "(SELECT max(id) FROM goals))"
                )
                if analyze:
                    conn.execute("ANALYZE goals")
        finally:
            conn.close()
        if ids:
            self._next_id = max(self._next_id, ids[-1] + 1)
        return ids

    def add_forest(self, user: User, n: int) -> None:
        """Give a user a 10-ary forest of n goals."""
        user.goal_ids = self.load(forest_rows(self._next_id, user.id, n))

    def add_chain(self, user: User, n: int) -> None:
        """Give a user one chain of n nested goals."""
        user.goal_ids = self.load(chain_rows(self._next_id, user.id, n))
