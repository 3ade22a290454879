"""Personal access tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import db
from ..core.types import BigId, UTCDateTime, utcnow


class Token(db.Model):  # type: ignore[name-defined,misc]
    """A bearer token; only the SHA-256 digest of its secret is kept."""

    __tablename__ = "tokens"
    # SQLite: an id, once used, is never handed out again (a stale client gets 404, not
    # someone else's row). PostgreSQL sequences never reuse ids anyway.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
