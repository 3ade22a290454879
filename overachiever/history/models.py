"""The record of changes: operations (one per request or command) and the goal events in them.

An event keeps the goal's fields as they were after the change (a snapshot), and the id of the
goal's event before it: the changes of an event are the difference of the two, the tree at an
instant is the last snapshot of each goal, and an undo puts back the snapshots before.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import db
from ..core.types import BigId, UTCDateTime


class Operation(db.Model):  # type: ignore[name-defined,misc]
    """One request or command that changed an owner's goals, with all that it caused."""

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    # Who asked: the owner, or None for the server itself (the trash's expiry).
    actor_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    undoes: Mapped[int | None] = mapped_column(BigId, default=None)
    undone_by: Mapped[int | None] = mapped_column(BigId, default=None)

    __table_args__ = (
        Index("ix_operations_owner_id_id", "owner_id", "id"),
        # SQLite: ids are never reused (see User).
        {"sqlite_autoincrement": True},
    )


class GoalEvent(db.Model):  # type: ignore[name-defined,misc]
    """What one operation did to one goal, with the goal's fields after it."""

    __tablename__ = "goal_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    operation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("operations.id", ondelete="CASCADE")
    )
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    # No foreign key: a purged goal's tombstone outlives it.
    goal_id: Mapped[int] = mapped_column(BigId)
    # The goal's event before this one; None for its first.
    prev_id: Mapped[int | None] = mapped_column(BigId, default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    # Set once the goal is purged: the fields below are then erased (None).
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    parent_id: Mapped[int | None] = mapped_column(BigId, default=None)
    position: Mapped[int | None] = mapped_column(Integer, default=None)
    start: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    due: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    trash_root_id: Mapped[int | None] = mapped_column(BigId, default=None)
    completion: Mapped[str | None] = mapped_column(String(8), default=None)

    __table_args__ = (
        # A goal's events in order: its history, and the previous event of a new one.
        Index("ix_goal_events_goal_id_id", "goal_id", "id"),
        # An owner's events in order: the changes feed, and the tree at an instant.
        Index("ix_goal_events_owner_id_id", "owner_id", "id"),
        Index("ix_goal_events_owner_id_at", "owner_id", "at"),
        Index("ix_goal_events_operation_id", "operation_id"),
        {"sqlite_autoincrement": True},
    )


# The fields an event's snapshot keeps, in the order the API lists changes.
SNAPSHOT_FIELDS = (
    "name",
    "description",
    "parent_id",
    "position",
    "start",
    "end",
    "due",
    "completion",
)
# Also kept, to put a goal back in or out of the trash exactly.
TRASH_FIELDS = ("deleted_at", "trash_root_id")
