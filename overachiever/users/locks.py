"""The owner's lock: every change of one owner's goals runs under it, so moves never race."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..core.db import write_transaction
from ..core.errors import NotFound
from .models import User

_users = User.__table__
# The owner's row by :owner_id, plain (SQLite: the write lock is held already) and locking.
OWNER = select(_users.c.id).where(_users.c.id == bindparam("owner_id"))
OWNER_FOR_UPDATE = OWNER.with_for_update()


def lock_owner(session: Session, *, owner_id: int) -> None:
    """Lock the owner's row (PostgreSQL; SQLite's write lock is already held); 404 if gone.

    The request authenticated a moment ago, but the account may have been deleted since: its
    writes must then fail as not found, not on the foreign key of a goal.
    """
    conn = session.connection()
    stmt = OWNER_FOR_UPDATE if conn.dialect.name == "postgresql" else OWNER
    if conn.execute(stmt, {"owner_id": owner_id}).first() is None:
        raise NotFound(f"user {owner_id} not found")


@contextmanager
def owner_transaction(
    owner_id: int, *, serialise_all: bool = False, single_statement: bool = False
) -> Iterator[Session]:
    """A write transaction holding the owner's lock (see core.db.write_transaction)."""
    with write_transaction(
        lock=partial(lock_owner, owner_id=owner_id),
        serialise_all=serialise_all,
        single_statement=single_statement,
    ) as session:
        yield session
