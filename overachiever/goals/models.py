"""The goal: one node of an owner's forest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, ForeignKey, Index, Integer, String, Text, event, func, text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import db
from ..core.types import BigId, UTCDateTime, utcnow


class Goal(db.Model):  # type: ignore[name-defined,misc]
    """A goal; complete when it has an end, in the trash when it has deleted_at."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    # No ON DELETE action: purging a trashed parent detaches a separately trashed child in the
    # goal service's purge; a SET NULL here would, on SQLite, make live children top-level one
    # row at a time while an owner's goals are deleted, tripping the sibling-name index below.
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("goals.id"), default=None)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    due: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by every write; part of the ETag.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Trash: deleted_at is set on every goal of a trashed subtree, trash_root_id names its root.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    trash_root_id: Mapped[int | None] = mapped_column(BigId, default=None)
    # The operation that changed it last (see history): its events are read from the rows
    # that an operation's statements marked, whatever those statements were.
    operation_id: Mapped[int | None] = mapped_column(BigId, default=None)
    # manual, cascade, auto or strict: what completing it or its children does (completion.py).
    completion: Mapped[str] = mapped_column(String(8), default="manual", server_default="manual")

    __table_args__ = (
        # Children of a parent, in order: the tree walk and the sibling listing.
        Index("ix_goals_parent_id_position", "parent_id", "position"),
        # An owner's live goals: the forest read and the flat listing.
        Index("ix_goals_owner_id_deleted_at", "owner_id", "deleted_at"),
        Index("ix_goals_trash_root_id", "trash_root_id"),
        Index("ix_goals_operation_id", "operation_id"),
        # An owner's goals in tree order (children of one parent together, in sibling order):
        # the forest read streams it without a sort; sibling checks and positions seek it.
        Index("ix_goals_owner_tree", "owner_id", "parent_id", "position", "id"),
        # Names are unique among the live siblings of one owner (top level included).
        Index(
            "uq_goals_live_sibling_name",
            "owner_id",
            func.coalesce(text("parent_id"), 0),
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # SQLite: ids are never reused (see User).
        {"sqlite_autoincrement": True},
    )


# PostgreSQL's planner judges how many children a goal has by the distinct parent ids it
# sampled: with most goals under one parent it takes every goal for a child of every goal, and a
# tree walk then scans the table once per goal it reaches (16 s for a goal of 20 000 children,
# 50 ms with the index). Parents are many; this says so, at every ANALYZE (migration 0008).
PARENTS_ARE_MANY = "ALTER TABLE goals ALTER COLUMN parent_id SET (n_distinct = -0.1)"
_parents_are_many = DDL(PARENTS_ARE_MANY)  # type: ignore[no-untyped-call]
event.listen(Goal.__table__, "after_create", _parents_are_many.execute_if(dialect="postgresql"))

# The condition that keeps only goals outside the trash.
LIVE = Goal.deleted_at.is_(None)
