"""Calendar feeds: a secret URL per feed, of which only the SHA-256 digest is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import db
from ..core.types import BigId, UTCDateTime, utcnow


class CalendarFeed(db.Model):  # type: ignore[name-defined,misc]
    """A read-only iCalendar feed of its user's live goals, reached by a secret URL."""

    __tablename__ = "calendar_feeds"
    # SQLite: ids are never reused (see Token).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    # The digest of the secret in the feed's URL (tokens.service.digest); the URL is shown once.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
