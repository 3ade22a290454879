"""A share: one goal of an owner, given to one other user with a role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import db
from ..core.types import BigId, UTCDateTime, utcnow

ROLES = ("viewer", "editor")


class Share(db.Model):  # type: ignore[name-defined,misc]
    """The goal goal_id, and every goal under it now and later, open to user_id with role."""

    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    goal_id: Mapped[int] = mapped_column(BigId, ForeignKey("goals.id", ondelete="CASCADE"))
    # The goal's owner, kept here so that "what did I share" and a user's deletion need no join.
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # One share per goal and recipient; the access walk seeks (goal_id, user_id) by it.
        UniqueConstraint("goal_id", "user_id"),
        # "Shared with me", and the walk's "has this owner shared anything with me at all".
        Index("ix_shares_user_id_owner_id", "user_id", "owner_id"),
        Index("ix_shares_owner_id", "owner_id"),
        # SQLite: ids are never reused (see User).
        {"sqlite_autoincrement": True},
    )
