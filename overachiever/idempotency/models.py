"""A caller's Idempotency-Key and the answer kept for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import db
from ..core.types import BigId, UTCDateTime


class IdempotencyKey(db.Model):  # type: ignore[name-defined,misc]
    """One key of one user: the request it named and, once answered, that answer."""

    __tablename__ = "idempotency_keys"

    # The key (user_id, key) is what decides which of two racing requests runs.
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 (hex) of the request's method, path, query and body.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # When the request claimed the key; expired keys are purged by this.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # None while the request runs; then its answer follows.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    status: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    # The kept headers, as a JSON object.
    headers: Mapped[str | None] = mapped_column(Text, default=None)
    # None for a completed answer too large to keep.
    body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
