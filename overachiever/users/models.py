"""The user account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import db
from ..core.types import BigId, UTCDateTime, utcnow


class User(db.Model):  # type: ignore[name-defined,misc]
    """A person who owns goals and tokens."""

    __tablename__ = "users"
    # SQLite: an id, once used, is never handed out again (a stale client gets 404, not
    # someone else's row). PostgreSQL sequences never reuse ids anyway.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # Stored lower-cased, which makes uniqueness case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # An argon2id hash; None for directory users who have not set a password yet.
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.name!r}>"
