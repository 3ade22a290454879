"""Secrets the server keeps in its database, so that every instance behind a proxy shares them."""

from __future__ import annotations

import secrets
from functools import cache

from sqlalchemy import String, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .db import db


class AppSecret(db.Model):  # type: ignore[name-defined,misc]
    """A named random secret (a signing key)."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


def app_secret(name: str) -> bytes:
    """The secret called name, made on first use; cached per database for the process."""
    return _secret(str(db.engine.url), name)


@cache
def _secret(database: str, name: str) -> bytes:
    table = AppSecret.__table__
    find = select(table.c.value).where(table.c.name == name)
    # Connections of its own: the caller's transaction is left as it is.
    with db.engine.connect() as conn:
        value = conn.execute(find).scalar()
    if value is None:
        try:
            with db.engine.begin() as conn:
                conn.execute(insert(table).values(name=name, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another instance made it first: read theirs
        with db.engine.connect() as conn:
            value = conn.execute(find).scalar_one()
    return bytes.fromhex(value)
