"""Request and response models of the history API: events, operations, undo, the feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from ..core.validation import Out, Query


class PageQuery(Query):
    """Offset and limit of a page, newest first."""

    offset: int = Field(0, ge=0, le=2**62)
    limit: int = Field(50, ge=1, le=500)


class FeedQuery(Query):
    """Where the changes feed resumes."""

    after: str | None = Field(
        None,
        max_length=200,
        description="The cursor of the previous answer; absent: from the start",
    )
    limit: int = Field(100, ge=1, le=500)


class Actor(Out):
    """Who asked for a change (null: the server itself, e.g. the trash's expiry)."""

    id: int
    name: str | None


class EventOut(Out):
    """What one operation did to one goal."""

    id: int
    operation_id: int
    at: datetime
    actor: Actor | None
    goal_id: int
    name: str | None = Field(description="The goal's name after the event (null once purged)")
    kind: Literal["created", "updated", "trashed", "restored", "purged"]
    changes: dict[str, list[Any]] = Field(
        description="Each changed field (name, description, parent_id, position, start, end,"
        " due) as [before, after]"
    )


class EventPage(Out):
    """A page of a goal's events, newest first."""

    items: list[EventOut]
    total: int
    offset: int
    limit: int


class OperationOut(Out):
    """One request or command that changed goals, with all that it caused."""

    id: int
    at: datetime
    actor: Actor | None
    kind: str = Field(
        description="What was asked: create, update, import, trash, restore, purge, undo, baseline"
    )
    goal_ids: list[int] = Field(description="The goals it touched (the first 1000)")
    goals_count: int
    undoes: int | None
    undone_by: int | None


class OperationPage(Out):
    """A page of operations, newest first."""

    items: list[OperationOut]
    total: int
    offset: int
    limit: int


class UndoResult(Out):
    """The operation an undo made (undo it to redo)."""

    operation: OperationOut


class Changes(Out):
    """Events after a cursor, oldest first, and the cursor to resume after them."""

    items: list[EventOut]
    cursor: str
    more: bool
